#!/usr/bin/env python3
"""Fixtures for the Lanczos-3 resize and the WebP codec. Development only: the Swift build and
tests never run this; they read the files it writes (committed, a few KB each).

Lanczos (Tests/UpscaleKitTests/Fixtures/lanczos/cases.json): seeded random planes resized by
Pillow's Image.resize(LANCZOS) on 32-bit float images ("F" mode: double weights, no rounding
between the passes), one plane at a time; with alpha, colour is premultiplied first and divided
by the resized alpha after (0 where it is <= 0), then everything is clamped to [0, 1]: the rule
docs/cli.md states. A from-scratch NumPy implementation of the same formula
(L(t) = sinc(t) sinc(t/3), taps per Lanczos.swift) must agree with Pillow to 1e-5, or the script
stops. Tensors are base64 of little-endian float32.

WebP (Tests/UpscaleKitTests/Fixtures/webp/): a small picture (cropped from samples/chelsea.png,
with a synthetic alpha ramp and a hard-edged hole) encoded by the `cwebp` tool: lossy q75 RGB,
lossy q75 RGBA, lossless RGBA (-exact); `dwebp`'s decodes of the lossy ones as PNG; a copy with
an ICC profile and EXIF added by `webpmux`; a 2-frame animation by `img2webp`; and the
PSNR of the colour of dwebp's decodes against the sources (psnr.json).

    /work/venv/bin/python tools/make_resize_webp_fixtures.py
"""
import base64
import json
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIX = os.path.join(ROOT, "Tests", "UpscaleKitTests", "Fixtures")


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def pillow_plane(plane, out_w, out_h):
    im = Image.fromarray(plane.astype(np.float32), mode="F")
    return np.asarray(im.resize((out_w, out_h), Image.LANCZOS), dtype=np.float64)


def numpy_weights(in_size, out_size):
    """(out_size, in_size) matrix of Lanczos-3 weights, from scratch."""
    ratio = in_size / out_size
    stretch = max(1.0, ratio)
    support = 3.0 * stretch
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        c = (i + 0.5) * ratio
        first = max(0, int(np.floor(c - support + 0.5)))
        end = min(in_size, int(np.floor(c + support + 0.5)))
        j = np.arange(first, end)
        t = (j + 0.5 - c) / stretch
        w = np.where((t >= -3) & (t < 3), np.sinc(t) * np.sinc(t / 3), 0.0)
        if w.sum() != 0:
            w = w / w.sum()
        m[i, first:end] = w
    return m


def resize(planes, alpha, out_w, out_h, per_plane):
    """planes (C, H, W), alpha (H, W) or None -> (C, h, w), (h, w) or None."""
    if alpha is not None:
        planes = planes * alpha[None]
        stack = np.concatenate([planes, alpha[None]])
    else:
        stack = planes
    out = np.stack([per_plane(p, out_w, out_h) for p in stack])
    if alpha is None:
        return np.clip(out, 0, 1), None
    a = out[-1]
    color = np.where(a > 0, out[:-1] / np.where(a > 0, a, 1), 0)
    return np.clip(color, 0, 1), np.clip(a, 0, 1)


def numpy_plane(plane, out_w, out_h):
    h, w = plane.shape
    return numpy_weights(h, out_h) @ (plane @ numpy_weights(w, out_w).T)


def lanczos_cases():
    rng = np.random.default_rng(2027)
    # name, in W, in H, out W, out H, colour channels, alpha
    table = [
        ("up_x1.5_rgb", 10, 8, 15, 12, 3, False),
        ("down_x0.5_rgb", 24, 20, 12, 10, 3, False),
        ("down_x0.3_gray", 31, 17, 9, 5, 1, False),
        ("up_x2.4_gray", 5, 7, 12, 17, 1, False),
        ("mixed_rgba", 20, 9, 13, 20, 3, True),
        ("down_rgba_hard_alpha", 30, 30, 7, 11, 3, True),
        ("same_size_rgb", 9, 6, 9, 6, 3, False),
        ("one_row_rgb", 16, 1, 5, 3, 3, False),
        ("to_one_pixel_rgba", 12, 10, 1, 1, 3, True),
    ]
    cases = []
    for name, iw, ih, ow, oh, c, has_alpha in table:
        color = rng.random((c, ih, iw))
        alpha = None
        if has_alpha:
            alpha = rng.random((ih, iw))
            if "hard" in name:
                alpha = (alpha > 0.5).astype(np.float64)
        color = color.astype(np.float32).astype(np.float64)
        if alpha is not None:
            alpha = alpha.astype(np.float32).astype(np.float64)
        pc, pa = resize(color, alpha, ow, oh, pillow_plane)
        nc, na = resize(color, alpha, ow, oh, numpy_plane)
        diff = np.abs(pc - nc).max()
        if alpha is not None:
            diff = max(diff, np.abs(pa - na).max())
        assert diff < 1e-5, f"{name}: Pillow and the NumPy formula differ by {diff}"
        print(f"lanczos {name}: Pillow vs NumPy max diff {diff:.2e}")
        cases.append({
            "name": name, "inWidth": iw, "inHeight": ih, "outWidth": ow, "outHeight": oh, "channels": c,
            "color": b64(color), "alpha": b64(alpha) if alpha is not None else None,
            "outColor": b64(pc), "outAlpha": b64(pa) if pa is not None else None,
        })
    os.makedirs(os.path.join(FIX, "lanczos"), exist_ok=True)
    with open(os.path.join(FIX, "lanczos", "cases.json"), "w") as f:
        json.dump({"generator": "tools/make_resize_webp_fixtures.py", "oracle": "Pillow Image.resize(LANCZOS), mode F",
                   "cases": cases}, f, indent=1)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


def rgb_psnr(a, b):
    """PSNR in dB over the colour samples (alpha left out), 8-bit."""
    mse = np.mean((a[..., :3].astype(np.float64) - b[..., :3].astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def webp_fixtures():
    out = os.path.join(FIX, "webp")
    os.makedirs(out, exist_ok=True)
    src = np.asarray(Image.open(os.path.join(ROOT, "samples", "chelsea.png")).convert("RGB"))
    h, w = 48, 64
    y0, x0 = 60, 150
    rgb = src[y0:y0 + h, x0:x0 + w]
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = np.clip(xx * 255 // (w - 1), 0, 255).astype(np.uint8)           # a ramp ...
    alpha[(yy - 24) ** 2 + (xx - 40) ** 2 < 100] = 0                        # ... with a hole
    rgba = np.dstack([rgb, alpha])
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "source_rgb.png"))
    Image.fromarray(rgba, "RGBA").save(os.path.join(out, "source_rgba.png"))
    psnr = {}
    for name, source, flags in [("lossy_rgb", "source_rgb.png", ["-q", "75"]),
                                ("lossy_rgba", "source_rgba.png", ["-q", "75"]),
                                ("lossless_rgba", "source_rgba.png", ["-lossless", "-exact"])]:
        target = os.path.join(out, name + ".webp")
        run("cwebp", "-quiet", *flags, os.path.join(out, source), "-o", target)
        if "lossy" in name:
            decoded = os.path.join(out, name + "_dwebp.png")
            run("dwebp", target, "-o", decoded)
            psnr[name] = rgb_psnr(np.asarray(Image.open(os.path.join(out, source))),
                                  np.asarray(Image.open(decoded)))
    # metadata: a small fake ICC payload and a little-endian TIFF header with orientation 1
    icc = bytes(range(256)) * 2
    exif = bytes([0x49, 0x49, 0x2A, 0x00, 0x08, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    with tempfile.TemporaryDirectory() as tmp:
        icc_path, exif_path = os.path.join(tmp, "p.icc"), os.path.join(tmp, "e.exif")
        open(icc_path, "wb").write(icc)
        open(exif_path, "wb").write(exif)
        step = os.path.join(tmp, "icc.webp")
        run("webpmux", "-set", "icc", icc_path, os.path.join(out, "lossless_rgba.webp"), "-o", step)
        run("webpmux", "-set", "exif", exif_path, step, "-o", os.path.join(out, "metadata.webp"))
        small = os.path.join(tmp, "f1.png"), os.path.join(tmp, "f2.png")
        Image.fromarray(rgb[:16, :16], "RGB").save(small[0])
        Image.fromarray(rgb[16:32, :16], "RGB").save(small[1])
        run("img2webp", "-lossless", small[0], small[1], "-o", os.path.join(out, "animated.webp"))
    open(os.path.join(out, "metadata.icc"), "wb").write(icc)
    open(os.path.join(out, "metadata.exif"), "wb").write(exif)
    with open(os.path.join(out, "psnr.json"), "w") as f:
        json.dump({"tool": run("cwebp", "-version").stdout.strip(), "dwebpPSNR": psnr}, f, indent=1)
    print("webp:", psnr)


if __name__ == "__main__":
    lanczos_cases()
    webp_fixtures()
