#!/usr/bin/env python3
"""Alpha fixtures made by Pillow's own premultiplied resampling.

Writes Tests/UpscaleKitTests/Fixtures/alpha/:
  rgba.png          a 24x20 RGBA image: smooth colour, alpha from 0 to 255, fully transparent
                    regions whose colour is loud (pure red, green, magenta) and must not show
  rgba_pillow_x2.png, rgba_pillow_x3.png
                    its premultiplied bicubic upscale, as 16-bit RGBA: P = C*A and A resized by
                    Pillow's Keys cubic (a = -0.5) in its 32-bit float mode "F" (Pillow's own RGBA
                    resize does the same through its premultiplied mode "RGBa", but in 8 bits,
                    clipping after each axis), then A' = clip(A', 0, 1), C' = min(clip(P', 0, 1) / A', 1)
                    where A' > 0, else 0

Development only; the Swift build and tests never run it.

    /work/venv/bin/python tools/make_alpha_fixtures.py
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "UpscaleKitTests", "Fixtures", "alpha")


def image():
    h, w = 20, 24
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([40 + 180 * x / (w - 1), 200 - 150 * y / (h - 1), 120 + 60 * np.sin(x / 3 + y / 4)], axis=-1)
    alpha = np.clip(255 * (x - 4) / 12, 0, 255)          # columns 0-4 transparent, ramp, then opaque
    alpha[12:16, 14:20] = 0                              # a transparent hole inside the opaque part
    alpha[2:5, 18:22] = 96                               # a half-transparent patch
    loud = np.array([[255, 0, 0], [0, 255, 0], [255, 0, 255]], dtype=np.float64)
    for i, (r0, c0) in enumerate([(0, 0), (10, 0), (12, 14)]):
        region = (slice(r0, r0 + (10 if c0 == 0 else 4)), slice(c0, c0 + (5 if c0 == 0 else 6)))
        rgb[region] = loud[i]
    pixels = np.concatenate([rgb, alpha[..., None]], axis=-1)
    return Image.fromarray(np.round(pixels).astype(np.uint8), "RGBA")


def main():
    os.makedirs(OUT, exist_ok=True)
    src = image()
    src.save(os.path.join(OUT, "rgba.png"))
    rgba = np.asarray(src).astype(np.float32) / 255
    alpha = rgba[..., 3]
    for scale in (2, 3):
        size = (scale * src.width, scale * src.height)

        def up(plane):
            return np.asarray(Image.fromarray(plane.astype(np.float32), "F").resize(size, Image.BICUBIC))

        a = np.clip(up(alpha), 0, 1)
        out = np.zeros((size[1], size[0], 4))
        for c in range(3):
            p = np.clip(up(rgba[..., c] * alpha), 0, 1)
            out[..., c] = np.where(a > 0, np.minimum(p / np.where(a > 0, a, 1), 1), 0)
        out[..., 3] = a
        samples = np.round(out * 65535).astype(">u2")
        write_png16(os.path.join(OUT, f"rgba_pillow_x{scale}.png"), samples)


def write_png16(path, samples):
    """A 16-bit RGBA PNG of (H, W, 4) big-endian samples (Pillow cannot write 16-bit RGBA)."""
    h, w, _ = samples.shape
    raw = b"".join(b"\0" + samples[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

if __name__ == "__main__":
    main()
