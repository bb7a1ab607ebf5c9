#!/usr/bin/env python3
"""Whole networks: ours vs PyTorch, ONNX Runtime, OpenVINO and ncnn on the same weights, interleaved in one run.

For each network (the shipped models x2, x3, x4, a waifu2x "upconv_7"-shaped x2 RGB network and a Real-ESRGAN
SRVGGNetCompact-shaped x4 RGB network (srvgg_x4) with random weights, written to our format by
training/export.py; srvgg_x4's conv + PixelShuffle folded into one ConvTranspose2d) the script

  1. reads the model file and builds the same stack in PyTorch (nn.Sequential of ConvTranspose2d and
     activations; for srvgg_x4 the conv + PixelShuffle network itself), exports it to ONNX, loads the ONNX
     file into ONNX Runtime and OpenVINO (static input shape, f32), writes it as an ncnn .param/.bin and
     loads that into the `ncnn` wheel (fp32, packing on), all with `--threads` threads;
  2. writes one random (1, C, H, W) float32 input (default 1080x1920) and starts
     `upscale-bench net --serve` on it: our engine's tiled runner (`Model.runStack`, the CLI's
     default tile size), the network alone, timed inside our process;
  3. checks that every engine's output equals PyTorch's (max |diff| <= --atol; an engine that differs is
     reported with where it differs and is not timed), then times single
     calls, engine after engine in an order that rotates from one repetition to the next, with a
     pause before each call (OpenMP workers spin for a while after a call), and reports medians;
  4. times `upscale IN.png -o OUT.png` end to end (decode + colour + network + encode, process start
     and model load included) on a 1920x1080 PNG in the same rotation.

Graph networks (issue 25): rrdb23_x4, rrdb6_x4 (RRDBNet x4, 64 features, growth 32, 23 and 6 blocks) and span_x4
(SPAN x4, 48 features), random weights made by tools/make_graph_fixtures.py's own PyTorch networks (seed 0, the last
conv rescaled so outputs span ~[0.1, 0.9]). The PyTorch network is the reference, exported to ONNX for ONNX Runtime
and OpenVINO; ncnn runs the fixtures script's RRDB ncnn writer's files (Split, Concat, Eltwise/BinaryOp, Interp,
fused leaky ReLU) or this script's SPAN writer's (Swish, Sigmoid, BinaryOp, Concat, PixelShuffle), fp32; ours
imports the state dict saved as a .pth (`upscale import`) and runs it through the streamed graph pipeline
(`upscale-bench net`: GraphModel.streamedOutput, 16 output rows per band). Inputs are small (--graph-size, default
128x128 for RRDBNet, 256x256 for SPAN): RRDBNet x4 costs ~36 MFLOP per input pixel at 23 blocks. Their FLOPs are the
PyTorch network's (a nearest x2 + 3x3 conv counts 9 taps per output pixel; our file folds it into a 4-tap stride-2
transposed conv, so ours does fewer multiply-adds than the count says).

FLOP counts are the useful multiply-adds (2 per MAC, none on the zeros that striding inserts); the
peak is `upscale-bench peak` (12 independent FMAs in a loop at the CPU's widest width: SIMD16 with AVX-512,
else SIMD8; its first line names which), measured before and after.
The FSRCNN models predict a residual over bicubic, srvgg_x4 one over the nearest upscale: network-only
times are the conv stack alone in every engine (the residual add is not part of the network), end-to-end
times include it.

    swift build -c release
    /work/venv/bin/python benchmarks/compare.py [--reps 5] [--threads 2] [--networks x2,x3,x4,upconv7,srvgg_x4,...]
        [--baseline-bench OTHER/upscale-bench]   # another build of ours in the same rounds ("ours-base")

Files (inputs, ONNX and ncnn files, the random-weight models, outputs) go to benchmarks/out/ (git-ignored).
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
from export import export_model  # noqa: E402  (training/export.py defines the model file)
from model import conv_pixel_shuffle_as_transpose  # noqa: E402  (the conv + PixelShuffle fold)

NETWORKS = ["x2", "x3", "x4", "upconv7", "srvgg_x4", "rrdb6_x4", "span_x4", "rrdb23_x4"]
ENGINES = ["ours", "pytorch", "onnxruntime", "openvino", "ncnn"]
SRVGG_BODY = 32  # 64→64 body convs: realesr-general-x4v3 has num_conv=32 (realesr-animevideov3 has 16)


def make_upconv7(path):
    """waifu2x upconv_7's shape as an x2 RGB stack: 3x3 convs 3→16→32→64→128→128→256 (padding 1,
    so that the size is kept), LeakyReLU 0.1 after each, then a 4x4 stride-2 transposed conv 256→3
    (padding 1: out = 2·in). PyTorch's default random initialisation, seed 0."""
    torch.manual_seed(0)
    widths = [3, 16, 32, 64, 128, 128, 256]
    layers = []
    for c_in, c_out in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.1)]
    layers.append(nn.ConvTranspose2d(256, 3, 4, stride=2, padding=1))
    export_model(nn.Sequential(*layers), path, scale=2, channels="rgb", name="upconv7-random",
                 description="waifu2x upconv_7-shaped x2 RGB stack, random weights (benchmark only)")


def fold_pixel_shuffle(conv, r):
    """A k×k 'same' Conv2d followed by PixelShuffle(r) as the one ConvTranspose2d computing the same function
    (training/model.py's conv_pixel_shuffle_as_transpose: the fold `upscale` files use)."""
    if tuple(conv.stride) != (1, 1) or tuple(conv.dilation) != (1, 1) or conv.groups != 1 or conv.bias is None \
            or tuple(conv.padding) != ((conv.kernel_size[0] - 1) // 2,) * 2:
        raise ValueError(f"{conv}: only a stride-1 'same' conv with bias folds into PixelShuffle({r})")
    return conv_pixel_shuffle_as_transpose(conv.weight.detach(), conv.bias.detach(), r)


def make_srvgg_x4(path):
    """Real-ESRGAN's SRVGGNetCompact shape (realesr-general-x4v3), x4 RGB: 3x3 conv 3→64 + PReLU, SRVGG_BODY ×
    (3x3 conv 64→64 + PReLU), 3x3 conv 64→48, PixelShuffle(4), all "same" padding; random weights (seed 0;
    Kaiming-normal convs and PReLU slopes in [0.05, 0.3], so that the activations stay of order 1 through the
    34 layers), the last conv's bias equal over the 16 phases of each channel (so that it folds exactly).
    Returns the PyTorch network (conv + PixelShuffle: the reference every engine is checked against) and writes
    our file with the last conv + PixelShuffle folded into one 12x12 stride-4 ConvTranspose2d (fold_pixel_shuffle)
    and residual "nearest" (the nearest upscale of the input, added by `upscale`; not part of the network)."""
    from safetensors import safe_open
    from safetensors.torch import save_file
    from export import run_file

    torch.manual_seed(0)
    r, feat = 4, 64
    layers = [nn.Conv2d(3, feat, 3, padding=1), nn.PReLU(feat)]
    for _ in range(SRVGG_BODY):
        layers += [nn.Conv2d(feat, feat, 3, padding=1), nn.PReLU(feat)]
    last = nn.Conv2d(feat, 3 * r * r, 3, padding=1)
    with torch.no_grad():
        for m in layers:
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.05, 0.3)
            else:
                nn.init.kaiming_normal_(m.weight, a=0.175, nonlinearity="leaky_relu")
                m.bias.uniform_(-0.05, 0.05)
        nn.init.kaiming_normal_(last.weight, a=1.0, nonlinearity="leaky_relu")
        last.bias.copy_((0.05 * torch.randn(3)).repeat_interleave(r * r))
    native = nn.Sequential(*layers, last, nn.PixelShuffle(r)).eval()
    export_model(nn.Sequential(*layers, fold_pixel_shuffle(last, r)), path, scale=r, channels="rgb",
                 name="srvgg-x4-random",
                 description=f"SRVGGNetCompact-shaped x4 RGB stack ({SRVGG_BODY} body convs), the conv + "
                             "PixelShuffle folded into a ConvTranspose2d, random weights (benchmark only)")
    # training/export.py writes residual "none" or "bicubic"; the format also has "nearest" (SRVGGNetCompact's).
    with safe_open(path, "pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    save_file(tensors, path, metadata={**meta, "residual": "nearest"})
    # The fold is exact: the file, read independently, computes the conv + PixelShuffle network.
    x = torch.rand(1, 3, 19, 23, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = float((run_file(path, x) - native(x)).abs().max())
    if not diff <= 1e-4:
        raise RuntimeError(f"{path}: the folded file differs from conv + PixelShuffle by {diff:.2e}")
    return native


# --- graph models (issue 25): RRDBNet (ESRGAN) and SPAN, random weights --------------------------------------

# name: (family, blocks or features, the shape it stands for)
# (RRDBNet does ~36 MFLOP per input pixel at 23 blocks, ~10 at 6: small inputs keep a call to seconds.)
GRAPH_NETWORKS = {
    "rrdb23_x4": ("rrdb", 23, "128x128", "RealESRGAN_x4plus / 4x-UltraSharp shape: RRDBNet x4, 64 features, 23 blocks, growth 32"),
    "rrdb6_x4": ("rrdb", 6, "128x128", "RealESRGAN_x4plus_anime_6B shape: RRDBNet x4, 64 features, 6 blocks, growth 32"),
    "span_x4": ("span", 48, "256x256", "SPAN x4, 48 features, checkpoint saved without input normalisation"),
}


def graph_fixtures():
    """tools/make_graph_fixtures.py: its independent PyTorch RRDBNet and SPAN and its ncnn RRDB writer."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import make_graph_fixtures  # noqa: E402
    return make_graph_fixtures


def make_graph_network(name, out_dir, upscale):
    """The PyTorch network (eval mode; SPAN's Conv3XC folded once into its eval_conv, as inference runs it),
    our model file (the state dict saved as a .pth, training branches included, and `upscale import`ed), and
    the ncnn .param/.bin (fp32). Random weights as the fixtures script makes them (seed 0), the last conv
    rescaled so that the outputs span about [0.1, 0.9] on a random input."""
    fx = graph_fixtures()
    family, size, _, _ = GRAPH_NETWORKS[name]
    torch.manual_seed(0)
    probe = torch.rand(1, 3, 24, 24)
    if family == "rrdb":
        net = fx.RRDBNet(4, nf=64, nb=size, gc=32).eval()
        with torch.no_grad():
            fx.spread_output(net.conv_last, 1, net(probe))
    else:
        net = fx.SPAN(4, feat=size, norm=False).eval()
        with torch.no_grad():
            fx.spread_output(net.upsampler[0], 16, net(probe))
    pth, model = os.path.join(out_dir, f"{name}.pth"), os.path.join(out_dir, f"{name}.bin")
    torch.save(net.state_dict(), pth)
    subprocess.run([upscale, "import", pth, "-o", model, "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    stem = os.path.join(out_dir, f"{name}.ncnn")
    if family == "rrdb":
        fx.rrdb_ncnn(net, fp16=False).save(stem)
    else:
        freeze_span(fx, net)
        span_ncnn(fx, net).save(stem)
    return net, model, stem


def freeze_span(fx, net):
    """Each Conv3XC replaced by its eval_conv (made current from the training branches once), so that
    PyTorch, the ONNX export and ncnn run the inference network, not the per-call re-parameterisation."""
    for parent in list(net.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, fx.Conv3XC):
                child.update_params()
                setattr(parent, child_name, child.eval_conv)


def span_ncnn(fx, net):
    """A frozen SPAN x4 (no normalisation) as ncnn layers: Convolution, Swish, Sigmoid, BinaryOp (sub 0.5,
    add, mul), Split, Concat and PixelShuffle; blob "in" in, "out" out; fp32 weights."""
    wr = fx.NcnnWriter(False)
    wr.layer("Input", "data", [], ["in"], "0=0 1=0 2=3")
    count = [0]

    def split(blob, n):
        count[0] += 1
        tops = ["%s_s%d" % (blob, i) for i in range(n)]
        wr.layer("Split", "split_%d" % count[0], [blob], tops)
        return tops

    wr.conv("conv_1", "in", "f", net.conv_1)
    f_block, f_cat = split("f", 2)
    h, b1_cat, b5_2 = f_block, None, None
    for i in range(1, 7):
        block, p = getattr(net, "block_%d" % i), "b%d" % i
        x_conv, x_res = split(h, 2)
        wr.conv(p + "_c1", x_conv, p + "_c1", block.c1_r)
        wr.layer("Swish", p + "_out1", [p + "_c1"], [p + "_out1"])
        out1 = p + "_out1"
        if i == 6:
            out1, b5_2 = split(out1, 2)
        wr.conv(p + "_c2", out1, p + "_c2", block.c2_r)
        wr.layer("Swish", p + "_out2", [p + "_c2"], [p + "_out2"])
        wr.conv(p + "_c3", p + "_out2", p + "_out3", block.c3_r)
        o_sig, o_add = split(p + "_out3", 2)
        wr.layer("Sigmoid", p + "_sig", [o_sig], [p + "_sig"])
        wr.layer("BinaryOp", p + "_att", [p + "_sig"], [p + "_att"], "0=1 1=1 2=5.000000e-01")
        wr.layer("BinaryOp", p + "_sum", [o_add, x_res], [p + "_sum"], "0=0")
        wr.layer("BinaryOp", p + "_out", [p + "_sum", p + "_att"], [p + "_out"], "0=2")
        h = p + "_out"
        if i == 1:
            h, b1_cat = split(h, 2)
    wr.conv("conv_2", h, "b6", net.conv_2)
    wr.layer("Concat", "cat", [f_cat, "b6", b1_cat, b5_2], ["cat"], "0=0")
    wr.conv("conv_cat", "cat", "fused", net.conv_cat)
    wr.conv("up_conv", "fused", "up", net.upsampler[0])
    wr.layer("PixelShuffle", "shuffle", ["up"], ["out"], "0=4")
    return wr


def graph_flops(net, height, width):
    """2 · multiply-adds of the PyTorch network's convolutions on an H×W input (counted by hooks on a run on
    a small input, scaled by area): the network as its authors wrote it, so an nearest-upsample + 3×3 conv
    counts 9 taps per output pixel, although our file runs that pair as a 4-tap stride-2 transposed conv."""
    macs, probe = [0.0], 16

    def hook(m, _inputs, out):
        macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        net(torch.rand(1, 3, probe, probe))
    for h in handles:
        h.remove()
    return 2 * macs[0] * height * width / (probe * probe)


class NcnnUnsupported(ValueError):
    pass


def write_ncnn(seq, param_path, bin_path):
    """seq (Conv2d, ConvTranspose2d, ReLU, LeakyReLU, PReLU, Sigmoid, PixelShuffle) as an ncnn model: one
    `Convolution` (stride-1 or strided conv) or `Deconvolution` per conv, ReLU / LeakyReLU / Sigmoid fused
    into it (9=activation_type 1/2/4, 10=params), `PReLU` and `PixelShuffle` layers. Blob "data" in, "out" out.
    The .bin: per conv a 4-byte zero tag (fp32 storage), the weights in ncnn's (Cout, Cin, kH, kW) order (a
    transposed conv's (Cin, Cout, kH, kW) transposed, kernel not flipped: ncnn's Deconvolution scatters
    as PyTorch's does), then the bias as raw fp32; PReLU slopes raw fp32."""
    lines, blobs, chunks = [], ["data"], []
    lines.append("Input data 0 1 data")

    def emit(kind, params):
        name = f"{kind.lower()}{len(lines)}"
        lines.append(f"{kind} {name} 1 1 {blobs[-1]} b{len(lines)} {params}".rstrip())
        blobs.append(f"b{len(lines) - 1}")

    for m in seq:
        fused = lines[-1].split()[0] in ("Convolution", "Deconvolution") and " 9=" not in lines[-1]
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            if m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise NcnnUnsupported(f"{m}: grouped or non-zero padding")
            w = m.weight.detach().float()
            if isinstance(m, nn.ConvTranspose2d):
                w = w.permute(1, 0, 2, 3)  # (Cin, Cout, kH, kW) → (Cout, Cin, kH, kW)
            c_out, c_in, kh, kw = w.shape
            (sh, sw), (ph, pw), (dh, dw) = m.stride, m.padding, m.dilation
            params = (f"0={c_out} 1={kw} 11={kh} 2={dw} 12={dh} 3={sw} 13={sh} 4={pw} 14={ph} "
                      f"5={int(m.bias is not None)} 6={w.numel()}")
            if isinstance(m, nn.ConvTranspose2d):
                oph, opw = m.output_padding
                params += f" 18={opw} 19={oph}"
            chunks.append(np.zeros(1, dtype=np.uint32).tobytes())
            chunks.append(w.contiguous().numpy().astype("<f4").tobytes())
            if m.bias is not None:
                chunks.append(m.bias.detach().float().numpy().astype("<f4").tobytes())
            emit("Deconvolution" if isinstance(m, nn.ConvTranspose2d) else "Convolution", params)
        elif isinstance(m, nn.ReLU) and fused:
            lines[-1] += " 9=1"
        elif isinstance(m, nn.LeakyReLU) and fused:
            lines[-1] += f" 9=2 -23310=1,{m.negative_slope:.9e}"
        elif isinstance(m, nn.Sigmoid) and fused:
            lines[-1] += " 9=4"
        elif isinstance(m, nn.PReLU):
            chunks.append(m.weight.detach().float().reshape(-1).numpy().astype("<f4").tobytes())
            emit("PReLU", f"0={m.weight.numel()}")
        elif isinstance(m, nn.PixelShuffle):
            emit("PixelShuffle", f"0={m.upscale_factor}")  # mode 0: PyTorch's channel order
        else:
            raise NcnnUnsupported(f"{m}: no ncnn layer written for it")
    tokens = lines[-1].split(" ")  # TYPE NAME 1 1 IN OUT PARAMS...: the last layer's output is "out"
    tokens[5] = "out"
    lines[-1] = " ".join(tokens)
    with open(param_path, "w") as f:
        f.write(f"7767517\n{len(lines)} {len(lines)}\n" + "\n".join(lines) + "\n")
    with open(bin_path, "wb") as f:
        f.write(b"".join(chunks))


class Ncnn:
    """The PyPI `ncnn` wheel on CPU: fp32 (fp16/bf16 storage and arithmetic off), packing layout on, default
    convolution algorithms (Winograd, sgemm), `threads` threads. A fresh extractor per call (an extractor
    caches its blobs)."""

    def __init__(self, param_path, bin_path, x, threads, blobs=("data", "out")):
        import ncnn
        self.blobs = blobs
        self.net = ncnn.Net()
        opt = self.net.opt
        opt.use_vulkan_compute = False
        opt.num_threads = threads
        opt.use_packing_layout = True
        for flag in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic", "use_bf16_storage",
                     "use_bf16_packed", "use_int8_inference"):
            setattr(opt, flag, False)
        if self.net.load_param(param_path) != 0 or self.net.load_model(bin_path) != 0:
            raise RuntimeError(f"ncnn could not load {param_path}")
        self.x = np.ascontiguousarray(x[0])  # (C, H, W)
        self.mat = ncnn.Mat(self.x)

    def forward(self):
        ex = self.net.create_extractor()
        ex.input(self.blobs[0], self.mat)
        ret, out = ex.extract(self.blobs[1])
        if ret != 0:
            raise RuntimeError(f"ncnn extract failed ({ret})")
        return out

    def output(self):
        return np.array(self.forward())[None]

    def run(self):
        return timed(self.forward)


def load_stack(path):
    """The stack stored in our model file as a PyTorch nn.Sequential (weights copied from the file),
    and the list of (Cin, Cout/g, kH, kW, stride, groups) of its layers."""
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    modules, shapes = [], []
    for i, spec in enumerate(json.loads(meta["layers"])):
        pair = lambda v: tuple(v) if isinstance(v, list) else (v, v)  # noqa: E731
        w = tensors[f"layers.{i}.weight"]  # (Cin, Cout/g, kH, kW)
        b = tensors.get(f"layers.{i}.bias")
        g = spec.get("groups", 1)
        conv = nn.ConvTranspose2d(w.shape[0], w.shape[1] * g, tuple(w.shape[2:]), stride=pair(spec.get("stride", 1)),
                                  padding=pair(spec.get("padding", 0)),
                                  output_padding=pair(spec.get("output_padding", 0)), groups=g,
                                  dilation=pair(spec.get("dilation", 1)), bias=b is not None)
        with torch.no_grad():
            conv.weight.copy_(w)
            if b is not None:
                conv.bias.copy_(b)
        modules.append(conv)
        shapes.append((w.shape[0], w.shape[1], w.shape[2], w.shape[3], pair(spec.get("stride", 1)), g))
        act = spec.get("activation", "none")
        if act == "relu":
            modules.append(nn.ReLU())
        elif isinstance(act, dict):
            modules.append(nn.LeakyReLU(act["leaky_relu"]))
        elif act == "prelu":
            slopes = tensors[f"layers.{i}.prelu"]
            prelu = nn.PReLU(slopes.numel())
            with torch.no_grad():
                prelu.weight.copy_(slopes)
            modules.append(prelu)
        elif act != "none":
            modules.append({"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "silu": nn.SiLU}[act]())
    return nn.Sequential(*modules).eval(), shapes, meta


def as_convolutions(seq):
    """The same function with every stride-1 ConvTranspose2d written as the equal Conv2d (kernel flipped in
    both spatial axes, in/out channels swapped within each group, padding d·(k − 1) − p; see
    docs/model-format.md), for the ONNX export: ONNX Runtime's ConvTranspose materialises a column buffer of
    Cout·kH·kW·H·W floats (19 GB for upconv_7's 128→256 layer on 1080x1920), its Conv does not."""
    modules = []
    for m in seq:
        pad = [m.dilation[i] * (m.kernel_size[i] - 1) - m.padding[i] for i in range(2)] \
            if isinstance(m, nn.ConvTranspose2d) else None
        if pad is None or tuple(m.stride) != (1, 1) or tuple(m.output_padding) != (0, 0) or min(pad) < 0:
            modules.append(m)
            continue
        g, (c_in, c_out_g, kh, kw) = m.groups, m.weight.shape
        conv = nn.Conv2d(c_in, c_out_g * g, (kh, kw), padding=tuple(pad), dilation=m.dilation, groups=g,
                         bias=m.bias is not None)
        with torch.no_grad():
            # src = transpose weight (Cin, Cout/g, kH, kW) / dst = conv weight (Cout, Cin/g, kH, kW), kernel flipped
            w = m.weight.reshape(g, c_in // g, c_out_g, kh, kw).permute(0, 2, 1, 3, 4)
            conv.weight.copy_(w.reshape(g * c_out_g, c_in // g, kh, kw).flip(-1, -2))
            if m.bias is not None:
                conv.bias.copy_(m.bias)
        modules.append(conv)
    return nn.Sequential(*modules).eval()


def network_flops(shapes, height, width):
    """2 · useful MACs of the stack on an H×W input: layer l runs on the input grown by the strides before it."""
    flops, h, w = 0.0, height, width
    for c_in, c_out_g, kh, kw, (sh, sw), _g in shapes:
        flops += 2.0 * h * w * c_in * c_out_g * kh * kw
        h, w = h * sh, w * sw
    return flops


class Ours:
    """`upscale-bench net --serve`: the network alone through the engine's tiled runner."""

    def __init__(self, bench, model, input_path, size, threads):
        self.proc = subprocess.Popen([bench, "net", "--serve", "--model", model, "--input", input_path,
                                      "--size", f"{size[0]}x{size[1]}", "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"upscale-bench net did not start (said {line!r})")

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def run(self):
        wall, cpu = self.ask("run").split()
        return float(wall), float(cpu)

    def output(self, path, shape):
        assert self.ask(f"dump {path}") == "ok"
        return np.fromfile(path, dtype=np.float32).reshape(shape)

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def timed(fn):
    """(wall seconds, CPU seconds of this process's threads) of one call of fn."""
    start, cpu_start = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu_start


def peak(bench, threads):
    """The T-thread FP32 peak (GFLOP/s, wall) from `upscale-bench peak`."""
    text = subprocess.run([bench, "peak", "--threads", str(threads)], capture_output=True, text=True, check=True).stdout
    # "... measured by wall time: X GFLOP/s on 1 thread, Y GFLOP/s on T threads ...": Y.
    found = re.search(rf"([0-9.]+) GFLOP/s on {threads} threads?\b", text)
    if not found:
        raise RuntimeError(f"cannot read the peak from:\n{text}")
    return float(found.group(1)), text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5, help="timed calls per engine and network")
    parser.add_argument("--threads", type=int, default=2, help="threads in every engine")
    parser.add_argument("--size", default="1080x1920", help="input HxW (the network's input, before upscaling)")
    parser.add_argument("--networks", default=",".join(NETWORKS), help=f"comma-separated subset of {NETWORKS}")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {ENGINES}")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end `upscale` runs")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds of sleep before each timed call")
    parser.add_argument("--atol", type=float, default=1e-4, help="max |diff| allowed against PyTorch's output")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "out"), help="folder for generated files")
    parser.add_argument("--graph-size", help="input HxW for the graph networks (default: their own, "
                        + ", ".join(f"{n} {v[2]}" for n, v in GRAPH_NETWORKS.items()) + ")")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--baseline-bench", help="another build's upscale-bench (e.g. the parent commit's): timed as "
                        "engine 'ours-base' in the same rounds, to show what a change does to our own time")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    engines = args.engines.split(",")
    bench = os.path.join(ROOT, ".build", "release", "upscale-bench")
    upscale = os.path.join(ROOT, ".build", "release", "upscale")
    if not os.path.exists(bench):
        sys.exit(f"{bench} not found: run `swift build -c release` first")
    if not args.no_e2e and not os.path.exists(upscale):
        sys.exit(f"{upscale} not found: run `swift build -c release` first (or pass --no-e2e)")
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)

    import onnxruntime as ort
    import openvino as ov
    versions = f"torch {torch.__version__}, onnxruntime {ort.__version__}, openvino {ov.__version__}, "
    if "ncnn" in engines:
        import ncnn
        versions += f"ncnn {ncnn.__version__}, "
    versions += f"numpy {np.__version__}, python {platform.python_version()}"
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {versions}")
    print(f"input {height}x{width}, {args.threads} threads, median of {args.reps} interleaved calls, "
          f"pause {args.pause} s; load average {os.getloadavg()[0]:.2f}")
    peak_before, peak_text = peak(bench, args.threads)
    print(peak_text.strip())

    def input_png(width, height):
        """The end-to-end input: samples/astronaut.png resized to W×H (bicubic)."""
        png = os.path.join(args.out, f"input_{width}x{height}.png")
        if not args.no_e2e and not os.path.exists(png):
            from PIL import Image
            Image.open(os.path.join(ROOT, "samples", "astronaut.png")).convert("RGB").resize(
                (width, height), Image.BICUBIC).save(png)
        return png

    results = []
    stack_size = (height, width)
    for name in args.networks.split(","):
        native = None  # the network as its authors write it in PyTorch, where our file holds a rewritten form
        ncnn_files = None  # (.param, .bin, (input blob, output blob)) written by the network's own writer
        height, width = stack_size
        if name in GRAPH_NETWORKS:
            # A graph model: the PyTorch network is the reference and what the other engines import (ONNX export,
            # the fixtures script's ncnn writer); ours is its .pth through `upscale import`. Own input size.
            _family, _size, size_text, description = GRAPH_NETWORKS[name]
            height, width = (int(v) for v in (args.graph_size or size_text).split("x"))
            net, model, stem = make_graph_network(name, args.out, upscale)
            portable = reference = net
            meta = {"name": description, "channels": "rgb", "scale": "4"}
            ncnn_files = (stem + ".param", stem + ".bin", ("in", "out"))
            flops = graph_flops(net, height, width)
            layers_text = f"{sum(isinstance(m, nn.Conv2d) for m in net.modules())} convolutions"
        else:
            if name == "upconv7":
                model = os.path.join(args.out, "upconv7.bin")
                if not os.path.exists(model):
                    make_upconv7(model)
            elif name == "srvgg_x4":
                model = os.path.join(args.out, "srvgg_x4.bin")
                native = make_srvgg_x4(model)  # rewritten each run (seconds): the file always matches `native`
            elif name in NETWORKS:
                model = os.path.join(ROOT, "models", f"{name}.bin")
            else:
                sys.exit(f"unknown network {name!r} (known: {NETWORKS})")
            seq, shapes, meta = load_stack(model)
            # PyTorch, ONNX Runtime, OpenVINO and ncnn run `portable`: for srvgg_x4 the conv + PixelShuffle network
            # (ONNX DepthToSpace, ncnn PixelShuffle), as these tools run Real-ESRGAN's models; for the others the
            # stack with its stride-1 layers as the equal Conv2d (PyTorch times the file's ConvTranspose2d stack).
            # Every output is checked against `reference`'s, computed by PyTorch.
            portable = native if native is not None else as_convolutions(seq)
            reference = native if native is not None else seq
            flops = network_flops(shapes, height, width)
            layers_text = f"{len(shapes)} layers"
        channels = 3 if meta["channels"] == "rgb" else 1
        scale = int(meta["scale"])
        out_shape = (1, channels, scale * height, scale * width)
        png = input_png(width, height)

        gen = torch.Generator().manual_seed(1)
        x = torch.rand(1, channels, height, width, generator=gen)  # (1, C, H, W)
        input_path = os.path.join(args.out, f"input_{channels}x{height}x{width}.f32")
        x.numpy().tofile(input_path)

        runners = {}
        if "ours" in engines:
            ours = Ours(bench, model, input_path, (height, width), args.threads)
            runners["ours"] = ours.run
        if args.baseline_bench:
            base = Ours(args.baseline_bench, model, input_path, (height, width), args.threads)
            runners["ours-base"] = base.run
        # PyTorch runs in channels_last: NCHW ConvTranspose2d takes its slow path, which allocates a
        # column buffer of Cout·kH·kW·H·W floats (19 GB on upconv_7 at 1080x1920); channels_last
        # takes oneDNN's deconvolution (faster, bounded memory). Same weights, same function. For srvgg_x4
        # it runs the conv + PixelShuffle network (oneDNN convolutions), in channels_last too.
        seq_cl = reference.to(memory_format=torch.channels_last)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        if "pytorch" in engines:
            def run_torch():
                with torch.inference_mode():
                    return seq_cl(x_cl)
            runners["pytorch"] = lambda: timed(run_torch)
        onnx_path = os.path.join(args.out, f"{name}.onnx")
        if "onnxruntime" in engines or "openvino" in engines:
            torch.onnx.export(portable, torch.rand(1, channels, 16, 16), onnx_path, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {2: "h", 3: "w"}, "y": {2: "H", 3: "W"}}, opset_version=17,
                              dynamo=False)
        x_np = x.numpy()
        if "onnxruntime" in engines:
            so = ort.SessionOptions()
            so.intra_op_num_threads = args.threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
            runners["onnxruntime"] = lambda: timed(lambda: session.run(None, {"x": x_np})[0])
        if "openvino" in engines:
            core = ov.Core()
            ov_model = core.read_model(onnx_path)
            ov_model.reshape({"x": [1, channels, height, width]})
            compiled = core.compile_model(ov_model, "CPU", {"INFERENCE_NUM_THREADS": args.threads,
                                                             "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                                                             "INFERENCE_PRECISION_HINT": "f32"})
            request = compiled.create_infer_request()
            runners["openvino"] = lambda: timed(lambda: request.infer({"x": x_np}))
        notes, ncnn_net = {}, None
        if "ncnn" in engines:
            param_path, ncnn_bin = os.path.join(args.out, f"{name}.param"), os.path.join(args.out, f"{name}.ncnn.bin")
            try:
                if ncnn_files:
                    ncnn_net = Ncnn(ncnn_files[0], ncnn_files[1], x_np, args.threads, blobs=ncnn_files[2])
                else:
                    write_ncnn(portable, param_path, ncnn_bin)
                    ncnn_net = Ncnn(param_path, ncnn_bin, x_np, args.threads)
                runners["ncnn"] = ncnn_net.run
            except NcnnUnsupported as e:
                notes["ncnn"] = f"not run: {e}"

        # Same output in every engine (this call is also each engine's warm-up).
        diffs = {}
        with torch.inference_mode():
            want = seq_cl(x_cl).contiguous().numpy()
        assert want.shape == out_shape, (want.shape, out_shape)
        for engine in runners:
            if engine == "pytorch":
                continue
            if engine == "ours":
                got = ours.output(os.path.join(args.out, f"{name}_ours.f32"), out_shape)
            elif engine == "ours-base":
                got = base.output(os.path.join(args.out, f"{name}_ours_base.f32"), out_shape)
            elif engine == "onnxruntime":
                got = session.run(None, {"x": x_np})[0]
            elif engine == "ncnn":
                got = ncnn_net.output()
            else:
                request.infer({"x": x_np})
                got = request.get_output_tensor(0).data.copy()
            assert got.shape == want.shape, (engine, got.shape, want.shape)
            err = np.abs(got - want)
            diffs[engine] = float(err.max())
            if not diffs[engine] <= args.atol:  # where it differs: rows/columns of the output over atol
                bad = err.max(axis=(0, 1)) > args.atol
                rows, cols = np.nonzero(bad.any(axis=1))[0], np.nonzero(bad.any(axis=0))[0]
                notes[engine] = (f"NOT EQUAL to PyTorch: max |diff| {diffs[engine]:.2e} > atol {args.atol}, "
                                 f"{int(bad.sum())} output pixels over atol, in rows {rows.min()}–{rows.max()}, "
                                 f"columns {cols.min()}–{cols.max()} of {want.shape[2]}x{want.shape[3]}; "
                                 "excluded from the timing")
            del got, err
        scale_of_output = float(np.abs(want).max())
        del want
        print(f"\n{name}: {meta.get('name', name)}, {layers_text}, {flops / 1e9:.1f} GFLOP on {height}x{width}, "
              f"output max |y| {scale_of_output:.3g}; max |diff| vs PyTorch: "
              + ", ".join(f"{e} {d:.2e}" for e, d in diffs.items()), flush=True)
        for engine, note in notes.items():
            print(f"  {engine}: {note}", flush=True)
            runners.pop(engine, None)  # a wrong output's time does not count: not timed at all

        def run_e2e():
            out_png = os.path.join(args.out, f"e2e_{name}.png")
            start, children = time.perf_counter(), os.times()
            subprocess.run([upscale, png, "-o", out_png, "--overwrite", "-m", model, "-j", str(args.threads)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            after = os.times()
            cpu = (after.children_user + after.children_system) - (children.children_user + children.children_system)
            return time.perf_counter() - start, cpu
        if not args.no_e2e and "ours" in engines:
            runners["upscale e2e"] = run_e2e
            run_e2e()  # warm-up (page cache)

        times = {e: [] for e in runners}
        cpu_times = {e: [] for e in runners}
        order = list(runners)
        for rep in range(args.reps):
            k = rep % len(order)
            for engine in order[k:] + order[:k]:
                time.sleep(args.pause)
                wall, cpu = runners[engine]()
                times[engine].append(wall)
                cpu_times[engine].append(cpu)
            print(f"  rep {rep + 1}/{args.reps}: " + ", ".join(f"{e} {times[e][-1]:.3f} s (CPU {cpu_times[e][-1]:.3f} s)"
                                                              for e in order), flush=True)
        if "ours" in engines:
            ours.close()
        if args.baseline_bench:
            base.close()
        medians = {e: statistics.median(t) for e, t in times.items()}
        cpu_medians = {e: statistics.median(t) for e, t in cpu_times.items()}
        results.append(dict(network=f"{name} {height}x{width}", flops=flops, diffs=diffs, notes=notes, medians=medians, times=times,
                            cpu_medians=cpu_medians, cpu_times=cpu_times,
                            output_megapixels=out_shape[2] * out_shape[3] / 1e6))
        del portable, reference, runners
        if "onnxruntime" in engines:
            del session
        if "openvino" in engines:
            del compiled, request
        ncnn_net = None

    peak_after, peak_text_after = peak(bench, args.threads)
    per_core = float(peak_text_after.split("GFLOP/s per core")[0].split()[-1])
    peak_gflops = (peak_before + peak_after) / 2
    print(f"\n{args.threads}-thread FP32 peak: {peak_before:.1f} GFLOP/s before, {peak_after:.1f} after; "
          f"mean {peak_gflops:.1f} is the '% peak' reference. Load average {os.getloadavg()[0]:.2f}.")
    print(f"'% core (CPU)': useful GFLOP per CPU second of the engine's process / the 1-core peak ({per_core:.1f});"
          " threads that spin while waiting count as CPU time.")
    print("'paired': the median over rounds of (engine time / ours) within one round, and the rounds ours was faster"
          " in; the engines of a round run back to back, so the pair saw nearly the same machine load.")
    print("\n| network | engine | median s | output MP/s | GFLOP/s | % peak | % core (CPU) | engine time / ours "
          "| paired | ours faster | max abs diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ours_s = r["medians"].get("ours")
        for engine, s in r["medians"].items():
            if engine == "upscale e2e":
                continue
            gflops = r["flops"] / s / 1e9
            ratio = f"{s / ours_s:.2f}×" if ours_s else "–"
            diff = f"{r['diffs'][engine]:.1e}" if engine in r["diffs"] else "(reference)"
            cpu_eff = 100 * r["flops"] / r["cpu_medians"][engine] / 1e9 / per_core
            paired, faster = "–", "–"
            if ours_s and engine != "ours":
                pairs = list(zip(r["times"][engine], r["times"]["ours"]))
                paired = f"{statistics.median(e / o for e, o in pairs):.2f}×"
                faster = f"{sum(o < e for e, o in pairs)}/{len(pairs)}"
            print(f"| {r['network']} | {engine} | {s:.3f} | {r['output_megapixels'] / s:.1f} | {gflops:.1f} | "
                  f"{100 * gflops / peak_gflops:.0f} | {cpu_eff:.0f} | {ratio} | {paired} | {faster} | {diff} |")
        for engine, note in r["notes"].items():
            print(f"| {r['network']} | {engine} | – | – | – | – | – | – | – | – | {note} |")
    if any("upscale e2e" in r["medians"] for r in results):
        print("\n| network | ours, network only s | `upscale` end to end s | end to end / network only |")
        print("|---|---:|---:|---:|")
        for r in results:
            if "upscale e2e" in r["medians"] and "ours" in r["medians"]:
                m = r["medians"]
                print(f"| {r['network']} | {m['ours']:.3f} | {m['upscale e2e']:.3f} | {m['upscale e2e'] / m['ours']:.2f}× |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(versions=versions, peak=[peak_before, peak_after], results=results), f, indent=1)


if __name__ == "__main__":
    main()
