"""What the fixture generators share (development only; building and testing upscale never needs
Python): where fixtures go, float32 tensors as base64, ncnn .param/.bin files, and seeded 8-bit RGB
PNG inputs with the float values a reference network reads from them.

The generators import it by name: a script run as `python tools/NAME.py` has tools/ on its path.
"""
import base64
import os
import struct

import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "UpscaleKitTests", "Fixtures")

# ncnn's tag in front of a weight blob stored as fp16 (0 in front of fp32).
NCNN_FP16_TAG = 0x01306B47


def fixture_path(*parts):
    """A path below Tests/UpscaleKitTests/Fixtures."""
    return os.path.join(FIXTURES, *parts)


def f32_base64(values):
    """A tensor's or array's values as little-endian float32 bytes in C order, base64 (exact, compact)."""
    if hasattr(values, "detach"):
        values = values.detach().numpy()
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def ncnn_weight_blob(values, fp16):
    """A weight blob as ncnn's .bin holds it: a tag word, then fp32 or fp16 values (fp16 padded to 4 bytes)."""
    flat = values.detach().numpy().astype("<f4").ravel()
    if not fp16:
        return struct.pack("<I", 0) + flat.tobytes()
    half = flat.astype("<f2").tobytes()
    half += b"\0" * (-len(half) % 4)
    return struct.pack("<I", NCNN_FP16_TAG) + half


def ncnn_raw_blob(values):
    """An untagged fp32 blob (biases, PReLU slopes)."""
    return values.detach().numpy().astype("<f4").ravel().tobytes()


def ncnn_layer_line(kind, name, bottoms, tops, params):
    """One layer line of a .param file."""
    return "%-16s %-24s %d %d %s %s" % (kind, name, len(bottoms), len(tops), " ".join(bottoms + tops), params)


def write_ncnn(stem, lines, blob_count, data):
    """STEM.param (magic, the layer and blob counts, `lines`) and STEM.bin (`data`)."""
    with open(stem + ".param", "w") as f:
        f.write("7767517\n%d %d\n" % (len(lines), blob_count))
        f.write("".join(line + "\n" for line in lines))
    with open(stem + ".bin", "wb") as f:
        f.write(bytes(data))


def seeded_rgb_png(path, height, width, generator):
    """An 8-bit RGB PNG of random pixels drawn from `generator`, written to `path`; returns what a
    network reads from it: its values / 255 as a (1, 3, H, W) float32 tensor."""
    import torch
    from PIL import Image
    pixels = (torch.rand((height, width, 3), generator=generator) * 255).round().to(torch.uint8)
    Image.fromarray(pixels.numpy(), "RGB").save(path)
    return pixels.permute(2, 0, 1).unsqueeze(0).float() / 255
