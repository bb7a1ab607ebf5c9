"""Writes a large test image for benchmarks/memory.sh: a sample photo tiled (mirrored at every
repeat, so there are no hard seams) to WIDTH x HEIGHT.

PNG is written row band by row band (numpy + zlib, non-interlaced, 8-bit RGB, filter 0, zlib
level 1), so a 20000 x 20000 image needs ~100 MB here, not 1.2 GB. JPEG goes through Pillow
(baseline, quality 90, 4:2:0), which needs the whole image in memory.

usage: make_large_image.py SAMPLE.png WIDTH HEIGHT OUT.(png|jpg)
"""
import struct
import sys
import zlib

import numpy as np
from PIL import Image


def tiled_rows(sample, width, y0, y1):
    """Rows [y0, y1) of the mirrored tiling of `sample` (h, w, 3) to `width` columns."""
    h, w, _ = sample.shape
    ys = np.arange(y0, y1)
    ys = np.where((ys // h) % 2 == 0, ys % h, h - 1 - ys % h)
    xs = np.arange(width)
    xs = np.where((xs // w) % 2 == 0, xs % w, w - 1 - xs % w)
    return sample[ys][:, xs]


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png(sample, width, height, path, band=256):
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        z = zlib.compressobj(1)
        for y0 in range(0, height, band):
            rows = tiled_rows(sample, width, y0, min(height, y0 + band))
            raw = np.zeros((rows.shape[0], 1 + width * 3), dtype=np.uint8)  # filter byte 0, then RGB
            raw[:, 1:] = rows.reshape(rows.shape[0], -1)
            data = z.compress(raw.tobytes())
            if data:
                out.write(chunk(b"IDAT", data))
        out.write(chunk(b"IDAT", z.flush()))
        out.write(chunk(b"IEND", b""))


def main():
    sample_path, width, height, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    sample = np.asarray(Image.open(sample_path).convert("RGB"))
    if path.lower().endswith(".png"):
        write_png(sample, width, height, path)
    else:
        Image.fromarray(tiled_rows(sample, width, 0, height)).save(path, quality=90, subsampling=2)


if __name__ == "__main__":
    main()
