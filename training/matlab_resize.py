"""MATLAB-compatible bicubic imresize (the SR literature's degradation), in NumPy.

MATLAB's imresize(I, scale, 'bicubic'):
  * cubic kernel with a = -0.5 (Keys), support 4; when shrinking (scale < 1) the kernel is
    stretched by 1/scale and scaled by `scale` (antialiasing), support 4/scale;
  * output pixel x (1-based) samples input coordinate u = x/scale + 0.5·(1 − 1/scale);
  * taps beyond the border are mirrored symmetrically (… 2 1 1 2 …);
  * weights are normalised to sum 1; the dimension with the smaller scale is resized first
    (rows first when equal); uint8 images are rounded and clipped after each pass.
The Swift engine implements the same function (Sources/UpscaleKit/Resampling/Resize.swift); the
two are checked against each other by fixtures and against known MATLAB values.
"""
import numpy as np


def cubic(x):
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def contributions(in_len, out_len, scale):
    """Per output index: (weights (out_len, P), 0-based input indices (out_len, P))."""
    kernel_width = 4.0
    if scale < 1:
        kernel = lambda x: scale * cubic(scale * x)
        kernel_width /= scale
    else:
        kernel = cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(np.ceil(kernel_width)) + 2
    ind = left[:, None] + np.arange(taps)[None, :]
    weights = kernel(u[:, None] - ind)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    ind = mirror[np.mod(ind - 1, 2 * in_len).astype(np.int64)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], ind[:, keep]


def _resize_axis(a, axis, out_len, scale, quantize):
    weights, ind = contributions(a.shape[axis], out_len, scale)
    moved = np.moveaxis(a.astype(np.float64), axis, 0)      # (L, ...)
    gathered = moved[ind]                                    # (out, P, ...)
    w = weights.reshape(weights.shape + (1,) * (moved.ndim - 1))
    out = (gathered * w).sum(axis=1)
    if quantize:
        out = np.clip(np.round(out), 0, 255)
    return np.moveaxis(out, 0, axis)


def imresize(img, scale=None, size=None):
    """img: (H, W) or (H, W, C), uint8 (rounded per pass, as MATLAB) or float (no rounding).
    Give `scale` (a number) or `size` (out_h, out_w)."""
    h, w = img.shape[:2]
    if size is None:
        size = (int(np.ceil(h * scale)), int(np.ceil(w * scale)))
        scales = (scale, scale)
    else:
        scales = (size[0] / h, size[1] / w)
    quantize = img.dtype == np.uint8
    out = img
    for axis in sorted((0, 1), key=lambda d: scales[d]):
        out = _resize_axis(out, axis, size[axis], scales[axis], quantize)
    return out.astype(np.uint8) if quantize else out


def rgb_to_y(rgb):
    """MATLAB rgb2ycbcr luma of an (H, W, 3) image with values in [0, 255]; returns Y in [16, 235] as float."""
    rgb = rgb.astype(np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
