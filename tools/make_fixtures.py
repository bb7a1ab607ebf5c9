#!/usr/bin/env python3
"""Golden fixtures for conv_transpose2d, made by PyTorch's own F.conv_transpose2d.

Writes Tests/UpscaleKitTests/Fixtures/convt/cases.json: one entry per case with the layer's
parameters, the input, weight and bias, and either PyTorch's output or the fact that PyTorch
refused the combination (with its message, and the parameter our error must name). Tensors are
float32, stored as base64 of their little-endian bytes (exact and compact).

    /work/venv/bin/python tools/make_fixtures.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_common import f32_base64 as b64, fixture_path

OUT = fixture_path("convt", "cases.json")


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


# name, input shape, weight shape (Cin, Cout/g, kH, kW), bias?, stride, padding, output_padding, groups, dilation
VALID = [
    ("basic_3x3", (1, 2, 5, 6), (2, 3, 3, 3), True, 1, 0, 0, 1, 1),
    ("no_bias", (1, 2, 5, 6), (2, 3, 3, 3), False, 1, 1, 0, 1, 1),
    ("unbatched", (3, 4, 5), (3, 2, 3, 3), True, 2, 1, 1, 1, 1),
    ("unbatched_no_bias", (2, 3, 3), (2, 4, 2, 2), False, 2, 0, 0, 1, 1),
    ("batch3", (3, 2, 4, 5), (2, 3, 3, 3), True, 1, 1, 0, 1, 1),
    ("stride2_k4_p1", (1, 3, 5, 7), (3, 2, 4, 4), True, 2, 1, 0, 1, 1),
    ("stride3", (1, 2, 4, 4), (2, 2, 3, 3), True, 3, 0, 0, 1, 1),
    ("rect_kernel", (1, 2, 5, 6), (2, 3, 2, 5), True, 1, 0, 0, 1, 1),
    ("rect_stride", (1, 2, 4, 5), (2, 2, 3, 3), True, (2, 3), 0, 0, 1, 1),
    ("rect_padding", (1, 2, 5, 6), (2, 2, 3, 5), True, 1, (1, 2), 0, 1, 1),
    ("output_padding", (1, 2, 4, 5), (2, 3, 3, 3), True, 2, 1, 1, 1, 1),
    ("output_padding_rect", (1, 2, 4, 5), (2, 2, 3, 3), True, (1, 3), (0, 1), (0, 2), 1, 1),
    ("output_padding_below_dilation", (1, 2, 4, 5), (2, 2, 3, 3), True, 1, 1, 2, 1, 3),
    ("dilation2", (1, 2, 5, 6), (2, 3, 3, 3), True, 1, 1, 0, 1, 2),
    ("dilation_rect", (1, 2, 5, 6), (2, 2, 3, 3), True, 1, 0, 0, 1, (1, 3)),
    ("groups2", (1, 4, 5, 6), (4, 3, 3, 3), True, 1, 1, 0, 2, 1),
    ("groups3_stride2", (1, 6, 4, 5), (6, 2, 3, 3), True, 2, 1, 1, 3, 1),
    ("depthwise", (1, 4, 5, 6), (4, 1, 3, 3), True, 1, 1, 0, 4, 1),
    ("depthwise_multiplier", (2, 3, 4, 5), (3, 2, 3, 3), False, 2, 1, 0, 3, 1),
    ("padding_crops", (1, 2, 5, 6), (2, 2, 3, 3), True, 2, 3, 0, 1, 1),
    ("padding_crops_rect", (1, 2, 6, 6), (2, 2, 3, 3), True, 1, (2, 3), 0, 1, 1),
    ("kernel_larger_than_input", (1, 2, 2, 2), (2, 3, 7, 7), True, 1, 0, 0, 1, 1),
    ("kernel_larger_than_input_s2", (1, 2, 2, 3), (2, 2, 6, 5), True, 2, 2, 1, 1, 1),
    ("input_1x1", (1, 3, 1, 1), (3, 4, 3, 3), True, 1, 0, 0, 1, 1),
    ("input_1x1_stride3_k5", (2, 2, 1, 1), (2, 3, 5, 5), True, 3, 1, 2, 1, 1),
    ("kernel_1x1", (1, 5, 4, 6), (5, 3, 1, 1), True, 1, 0, 0, 1, 1),
    ("kernel_1x1_stride2", (1, 3, 3, 4), (3, 2, 1, 1), True, 2, 0, 1, 1, 1),
    ("fsrcnn_deconv_small", (1, 5, 7, 9), (5, 1, 9, 9), True, 2, 4, 1, 1, 1),
    ("cout5_remainder1", (1, 3, 4, 5), (3, 5, 3, 3), True, 1, 1, 0, 1, 1),
    ("cout7_remainder3", (1, 3, 4, 5), (3, 7, 3, 3), True, 2, 1, 1, 1, 1),
    ("cout6_remainder2", (1, 3, 4, 5), (3, 6, 2, 3), True, 1, 0, 0, 1, 1),
    ("wide_interior", (1, 3, 6, 50), (3, 4, 3, 3), True, 1, 1, 0, 1, 1),
    ("wide_stride2_one_channel", (1, 4, 5, 40), (4, 1, 5, 5), True, 2, 2, 1, 1, 1),
    ("stride4_kernel2_empty_phases", (1, 2, 3, 4), (2, 2, 2, 2), True, 4, 0, 3, 1, 1),
    ("stride2_dilation2_empty_phases", (1, 2, 4, 4), (2, 3, 3, 3), True, 2, 1, 1, 1, 2),
    ("everything", (2, 4, 5, 6), (4, 3, 3, 2), True, (2, 3), (1, 2), (1, 0), 2, (2, 1)),
    ("output_size_1", (1, 2, 1, 1), (2, 2, 3, 3), True, 1, 1, 0, 1, 1),
    ("single_channel_pixel", (1, 1, 1, 1), (1, 1, 1, 1), True, 1, 0, 0, 1, 1),
]

# name, input shape, weight shape, bias length or None, stride, padding, output_padding, groups,
# dilation, the parameter our error message must name
INVALID = [
    ("cin_not_divisible_by_groups", (1, 3, 4, 4), (3, 2, 3, 3), None, 1, 0, 0, 2, 1, "groups"),
    ("weight_dim0_not_cin", (1, 4, 4, 4), (3, 2, 3, 3), None, 1, 0, 0, 1, 1, "weight"),
    ("bias_length", (1, 2, 4, 4), (2, 3, 3, 3), 4, 1, 0, 0, 1, 1, "bias"),
    ("stride_zero", (1, 2, 4, 4), (2, 3, 3, 3), None, 0, 0, 0, 1, 1, "stride"),
    ("stride_negative", (1, 2, 4, 4), (2, 3, 3, 3), None, (1, -1), 0, 0, 1, 1, "stride"),
    ("dilation_zero", (1, 2, 4, 4), (2, 3, 3, 3), None, 1, 0, 0, 1, 0, "dilation"),
    ("padding_negative", (1, 2, 4, 4), (2, 3, 3, 3), None, 1, -1, 0, 1, 1, "padding"),
    ("output_padding_not_below_stride_or_dilation", (1, 2, 4, 4), (2, 3, 3, 3), None, 2, 0, 2, 1, 1, "output_padding"),
    ("output_padding_equal_stride_dilation1", (1, 2, 4, 4), (2, 3, 3, 3), None, 1, 0, 1, 1, 1, "output_padding"),
    ("output_size_not_positive", (1, 2, 1, 1), (2, 3, 1, 1), None, 1, 1, 0, 1, 1, "output size"),
    ("input_rank2", (2, 4), (2, 3, 3, 3), None, 1, 0, 0, 1, 1, "input"),
    ("input_rank5", (1, 1, 2, 4, 4), (2, 3, 3, 3), None, 1, 0, 0, 1, 1, "input"),
    ("weight_rank3", (1, 2, 4, 4), (2, 3, 3), None, 1, 0, 0, 1, 1, "weight"),
    ("groups_zero", (1, 2, 4, 4), (2, 3, 3, 3), None, 1, 0, 0, 0, 1, "groups"),
]


def main():
    cases = []
    for i, (name, xs, ws, has_bias, s, p, op, g, d) in enumerate(VALID):
        torch.manual_seed(1000 + i)
        x = torch.randn(xs, dtype=torch.float32)
        w = torch.randn(ws, dtype=torch.float32)
        b = torch.randn(ws[1] * g, dtype=torch.float32) if has_bias else None
        y = F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
        cases.append({
            "name": name, "input_shape": list(xs), "weight_shape": list(ws),
            "bias_shape": [ws[1] * g] if has_bias else None,
            "stride": pair(s), "padding": pair(p), "output_padding": pair(op), "groups": g, "dilation": pair(d),
            "input": b64(x), "weight": b64(w), "bias": b64(b) if has_bias else None,
            "output_shape": list(y.shape), "output": b64(y),
        })
    for i, (name, xs, ws, bias_len, s, p, op, g, d, parameter) in enumerate(INVALID):
        torch.manual_seed(2000 + i)
        x = torch.randn(xs, dtype=torch.float32)
        w = torch.randn(ws, dtype=torch.float32)
        b = torch.randn(bias_len, dtype=torch.float32) if bias_len else None
        try:
            F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
        except (RuntimeError, ValueError) as error:
            message = str(error).splitlines()[0]
        else:
            raise SystemExit(f"{name}: PyTorch accepted it; drop it from INVALID")
        cases.append({
            "name": name, "input_shape": list(xs), "weight_shape": list(ws),
            "bias_shape": [bias_len] if bias_len else None,
            "stride": pair(s), "padding": pair(p), "output_padding": pair(op), "groups": g, "dilation": pair(d),
            "input": b64(x), "weight": b64(w), "bias": b64(b) if bias_len else None,
            "torch_error": message, "parameter": parameter,
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/make_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"{len(VALID)} valid and {len(INVALID)} refused cases -> {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
