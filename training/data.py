"""Training and validation data: HR photos → (LR, bicubic-up, HR) luma triples, MATLAB's protocol.

LR = imresize(HR_rgb_uint8, 1/scale) rounded to uint8 (as MATLAB does for uint8), then luma (BT.601,
rgb2ycbcr) of each; the bicubic input to the residual is imresize(LR_luma_float, scale) without
rounding, exactly what the Swift runner computes. Extra data: HR downscaled by 0.9 … 0.6 first.
"""
import os
import numpy as np
from PIL import Image
from degrade import degrade, jpeg_roundtrip
from matlab_resize import imresize, rgb_to_y

EXTENSIONS = ('.png', '.bmp', '.jpg', '.jpeg')


def list_images(folders):
    paths = []
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            if name.lower().endswith(EXTENSIONS):
                paths.append(os.path.join(folder, name))
    return paths


def load_rgb(path):
    return np.asarray(Image.open(path).convert('RGB'))


def crop_to_multiple(img, scale):
    h, w = img.shape[:2]
    return img[:h - h % scale, :w - w % scale]


def make_pair(hr_rgb, scale, jpeg_quality=None):
    """(lr_y, bic_y, hr_y) in [0, 1] float32, shapes (h, w), (sh, sw), (sh, sw). With
    `jpeg_quality`, the LR image is saved as JPEG at that quality first (`upscale eval --degrade`)."""
    hr_rgb = crop_to_multiple(hr_rgb, scale)
    lr_rgb = imresize(hr_rgb, scale=1.0 / scale)
    if jpeg_quality is not None:
        lr_rgb = jpeg_roundtrip(lr_rgb, jpeg_quality)
    hr_y = rgb_to_y(hr_rgb) / 255.0
    lr_y = rgb_to_y(lr_rgb) / 255.0
    bic_y = imresize(lr_y, size=hr_y.shape)
    return lr_y.astype(np.float32), bic_y.astype(np.float32), hr_y.astype(np.float32)


def training_set(paths, scale, extra_scales=(0.9, 0.8, 0.7, 0.6)):
    """Pairs of the images at `paths` and of each downscaled by the extra factors."""
    return [make_pair(rgb, scale) for rgb in training_images(paths, scale, extra_scales)]


def training_images(paths, scale, extra_scales=(0.9, 0.8, 0.7, 0.6)):
    """The HR RGB images (uint8, cropped to multiples of `scale`) at `paths` and each downscaled by
    the extra factors (when still at least 24·scale pixels): `training_set`'s pairs are made from
    them, the denoise runs degrade patches of them on the fly."""
    images = []
    for path in paths:
        rgb = load_rgb(path)
        images.append(crop_to_multiple(rgb, scale))
        for factor in extra_scales:
            smaller = imresize(rgb, scale=factor)
            if min(smaller.shape[:2]) >= 24 * scale:
                images.append(crop_to_multiple(smaller, scale))
    return images


DEGRADE_MARGIN = 8   # LR pixels around each patch, degraded with it and cut off after


def random_degraded_patches(images, rng, count, lr_size, scale, level):
    """Like `random_patches`, but each LR patch is made from its HR patch by `degrade.degrade` at
    `level` (blur, downscale, noise, JPEG), with a margin so that the patch's borders and its
    JPEG block grid fall anywhere; the bicubic is of the degraded LR, the HR stays clean."""
    lr_b = np.empty((count, 1, lr_size, lr_size), np.float32)
    bic_b = np.empty((count, 1, lr_size * scale, lr_size * scale), np.float32)
    hr_b = np.empty_like(bic_b)
    big = lr_size + 2 * DEGRADE_MARGIN
    for i in range(count):
        hr = images[rng.integers(len(images))]
        y = rng.integers(hr.shape[0] // scale - big + 1)
        x = rng.integers(hr.shape[1] // scale - big + 1)
        crop = hr[y * scale:(y + big) * scale, x * scale:(x + big) * scale]
        k, flip = rng.integers(4), rng.integers(2)
        crop = np.rot90(crop, k)
        crop = np.ascontiguousarray(crop[:, ::-1] if flip else crop)
        lr_y = rgb_to_y(degrade(crop, scale, level, rng)) / 255.0
        bic_y = imresize(lr_y, size=(big * scale, big * scale))
        hr_y = rgb_to_y(crop) / 255.0
        oy, ox = rng.integers(2 * DEGRADE_MARGIN + 1, size=2)
        hs = slice(oy * scale, (oy + lr_size) * scale), slice(ox * scale, (ox + lr_size) * scale)
        lr_b[i, 0] = lr_y[oy:oy + lr_size, ox:ox + lr_size]
        bic_b[i, 0], hr_b[i, 0] = bic_y[hs], hr_y[hs]
    return lr_b, bic_b, hr_b


def random_patches(pairs, rng, count, lr_size, scale):
    """count random LR patches (with their bicubic and HR), random flips and 90° rotations."""
    lr_b = np.empty((count, 1, lr_size, lr_size), np.float32)
    bic_b = np.empty((count, 1, lr_size * scale, lr_size * scale), np.float32)
    hr_b = np.empty_like(bic_b)
    for i in range(count):
        lr, bic, hr = pairs[rng.integers(len(pairs))]
        y = rng.integers(lr.shape[0] - lr_size + 1)
        x = rng.integers(lr.shape[1] - lr_size + 1)
        hs = slice(y * scale, (y + lr_size) * scale), slice(x * scale, (x + lr_size) * scale)
        triple = [lr[y:y + lr_size, x:x + lr_size], bic[hs], hr[hs]]
        k, flip = rng.integers(4), rng.integers(2)
        for j, a in enumerate(triple):
            a = np.rot90(a, k)
            triple[j] = a[:, ::-1] if flip else a
        lr_b[i, 0], bic_b[i, 0], hr_b[i, 0] = triple
    return lr_b, bic_b, hr_b
