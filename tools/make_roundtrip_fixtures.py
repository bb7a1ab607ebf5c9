#!/usr/bin/env python3
"""Fixtures for the CLI's format round trips read by an independent decoder (Pillow, over its own
libpng/zlib, libjpeg-turbo and libwebp builds, not the Debian libraries upscale links).

Writes Tests/UpscaleKitTests/Fixtures/roundtrip/:
  input.png             a 12×8 8-bit RGB PNG of seeded random pixels, written by Pillow
  out_x2.png/.jpg/.webp `upscale input.png -m x2 -o out_x2.EXT -j 1` (PNG, JPEG quality 95, lossy
                        WebP quality 75: the CLI's defaults) with the binary named by UPSCALE_BIN
                        (default .build/debug/upscale), as it wrote them
  out_x2.EXT.rgb        each output as Pillow decodes it: height × width × 3 bytes, rows top to bottom
  manifest.json         sizes, and the Pillow and library versions that decoded them

UpscaleCLITests/IndependentDecoderTests runs the same commands: each output must be these bytes
(then upscale's own decoder must give Pillow's samples exactly), and a PNG output, lossless, must
decode to Pillow's samples even when its bytes change. After a change that changes output bytes on
purpose (tools/output-digests.sh says which), rerun this script and commit what it writes.

    swift build && /work/venv/bin/python tools/make_roundtrip_fixtures.py
Development only: building and testing upscale never needs Python.
"""
import json
import os
import subprocess

import numpy as np
import PIL
from PIL import Image, features

from fixture_common import fixture_path

OUT = fixture_path("roundtrip")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    binary = os.environ.get("UPSCALE_BIN", os.path.join(ROOT, ".build", "debug", "upscale"))
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2029)
    # Smooth colour ramps plus noise: edges and flat areas, nothing clipped.
    y, x = np.mgrid[0:8, 0:12]
    base = np.stack([x * 18 + 20, y * 25 + 30, (x + y) * 9 + 60], axis=-1)
    pixels = np.clip(base + rng.integers(-12, 13, size=base.shape), 0, 255).astype(np.uint8)
    source = os.path.join(OUT, "input.png")
    Image.fromarray(pixels, "RGB").save(source)
    manifest = {"generator": "tools/make_roundtrip_fixtures.py", "pillow": PIL.__version__,
                "libjpeg_turbo": features.version("libjpeg_turbo"), "webp": features.version("webp"),
                "zlib": features.version("zlib"), "outputs": {}}
    for ext in ("png", "jpg", "webp"):
        name = "out_x2." + ext
        path = os.path.join(OUT, name)
        if os.path.exists(path):
            os.remove(path)
        subprocess.run([binary, source, "-m", "x2", "-o", path, "-j", "1", "--quiet"], check=True)
        with Image.open(path) as image:
            decoded = np.asarray(image.convert("RGB"))
            assert image.mode == "RGB", (name, image.mode)
        with open(path + ".rgb", "wb") as f:
            f.write(decoded.tobytes())
        manifest["outputs"][name] = {"width": decoded.shape[1], "height": decoded.shape[0],
                                     "bytes": os.path.getsize(path)}
        print("%-12s %d bytes, %dx%d" % (name, os.path.getsize(path), decoded.shape[1], decoded.shape[0]))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
