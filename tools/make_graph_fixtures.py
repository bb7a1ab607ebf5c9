#!/usr/bin/env python3
"""Fixtures for graph models: tiny random-weight RRDBNet (ESRGAN) and SPAN checkpoints and PyTorch
reference outputs, for `upscale import` of .pth and .safetensors state dicts.

Writes Tests/UpscaleKitTests/Fixtures/graph/:
  rrdb_x4_new.pth        RRDBNet x4, new key style (conv_first, body.N.rdb1.conv1, ...), wrapped
                         in {"params_ema": ...} as Real-ESRGAN publishes
  rrdb_x4_old.pth        the same weights in the old ESRGAN key style (model.0, model.1.sub.N.RDB1.conv1.0, ...)
  rrdb_x2.safetensors    RRDBNet x2 (pixel_unshuffle 2 in front), new key style
  rrdb_x1.pth            RRDBNet x1 (pixel_unshuffle 4 in front)
  span_x4.pth            SPAN x4 with input normalisation; its eval_conv tensors are stale (saved
                         before an eval forward), so only the training branches give PyTorch's output
  span_x2.safetensors    SPAN x2 saved without normalisation (the `no_norm` buffer), eval_conv current
  every_op.graph.bin     an upscale.graph/1 file written by this script's own writer, with every node kind
  NAME.io.safetensors    `input` (1, 3, H, W) and the reference `output` of the PyTorch network
                         (before any clamp or rounding)
  rrdb_ncnn_x4_f32/_f16.param/.bin   an RRDBNet x4 as an ncnn graph (Split, Concat, Eltwise, BinaryOp,
                         Interp, ReLU with slope, fused leaky Convolution), fp32 and fp16 weights;
                         cross-checked against ncnn's own run when its Python package is installed
  NAME.cli.png, NAME.cli.io.safetensors   (rrdb_x4, span_x2, rrdb_ncnn_x4 with the fp16 weights) an 8-bit PNG input and the output on
                         its values / 255, for the command-line test

The networks below are written here from the published architectures' descriptions (RRDBNet of
ESRGAN / Real-ESRGAN, SPAN of Wan et al. 2024 with Conv3XC re-parameterisation), evaluated in
eval mode in float32. Weights are random, scaled so that features neither vanish nor blow up, and
the last (linear) layer is rescaled so that outputs span about [0.1, 0.9]: they vary and nothing
is clipped. Inputs have odd sizes so that the x2 and x1 models exercise the reflect padding in
front of pixel_unshuffle.

    /work/venv/bin/python tools/make_graph_fixtures.py
Development only: building and testing upscale never needs Python.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from fixture_common import fixture_path, ncnn_layer_line, ncnn_raw_blob, ncnn_weight_blob, seeded_rgb_png, write_ncnn

OUT = fixture_path("graph")
torch.manual_seed(2024)


def uniform_(t, bound):
    with torch.no_grad():
        t.uniform_(-bound, bound)


def init_conv(conv, gain=1.0):
    fan = conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3]
    uniform_(conv.weight, gain * (3.0 / fan) ** 0.5)
    if conv.bias is not None:
        uniform_(conv.bias, 0.05)


def spread_output(last_conv, out_channels_per_phase, output):
    """Rescale the last conv (linear) so that each output channel spans about [0.1, 0.9]."""
    with torch.no_grad():
        o = output.detach()
        for c in range(o.shape[1]):
            lo, hi = o[:, c].min().item(), o[:, c].max().item()
            a = 0.8 / max(hi - lo, 1e-6)
            b = 0.1 - a * lo
            for p in range(out_channels_per_phase):
                ch = c * out_channels_per_phase + p
                last_conv.weight[ch] *= a
                last_conv.bias[ch] = a * last_conv.bias[ch] + b


# --- RRDBNet (ESRGAN, Real-ESRGAN) --------------------------------------------------------------

class ResidualDenseBlock(nn.Module):
    def __init__(self, nf, gc):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)

    def forward(self, x):
        act = lambda t: F.leaky_relu(t, 0.2)
        x1 = act(self.conv1(x))
        x2 = act(self.conv2(torch.cat([x, x1], 1)))
        x3 = act(self.conv3(torch.cat([x, x1, x2], 1)))
        x4 = act(self.conv4(torch.cat([x, x1, x2, x3], 1)))
        x5 = self.conv5(torch.cat([x, x1, x2, x3, x4], 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, nf, gc):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(nf, gc)
        self.rdb2 = ResidualDenseBlock(nf, gc)
        self.rdb3 = ResidualDenseBlock(nf, gc)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """scale 4: as is; scale 2 / 1: pixel_unshuffle by 2 / 4 first (reflect-padding the bottom and
    right to a multiple, the output cropped), then the same x4 body."""

    def __init__(self, scale, nf, nb, gc):
        super().__init__()
        self.scale = scale
        self.unshuffle = {4: 1, 2: 2, 1: 4}[scale]
        self.conv_first = nn.Conv2d(3 * self.unshuffle ** 2, nf, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(nf, gc) for _ in range(nb)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init_conv(m, gain=1.4)

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        r = self.unshuffle
        if r > 1:
            x = F.pad(x, (0, (r - w % r) % r, 0, (r - h % r) % r), mode="reflect")
            x = F.pixel_unshuffle(x, r)
        act = lambda t: F.leaky_relu(t, 0.2)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = act(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = act(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        out = self.conv_last(act(self.conv_hr(feat)))
        return out[:, :, : h * self.scale, : w * self.scale]


def old_style_keys(state):
    """New RRDBNet keys → the original ESRGAN repository's (its nn.Sequential numbering)."""
    out = {}
    for k, v in state.items():
        parts = k.split(".")
        if parts[0] == "body":
            n = k.replace("body.", "model.1.sub.", 1)
            n = n.replace(".rdb", ".RDB").replace(".weight", ".0.weight").replace(".bias", ".0.bias")
        else:
            n = {"conv_first": "model.0", "conv_body": "model.1.sub.%d" % NB, "conv_up1": "model.3",
                 "conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}[parts[0]] + "." + parts[1]
        out[n] = v
    return out


# --- SPAN ------------------------------------------------------------------------------------

class Conv3XC(nn.Module):
    """Training branches (1x1 → 3x3 → 1x1, plus a 1x1 skip) and the equivalent single 3x3
    `eval_conv`, which eval mode recomputes from the branches before using it."""

    def __init__(self, c_in, c_out, gain=2):
        super().__init__()
        self.sk = nn.Conv2d(c_in, c_out, 1)
        self.conv = nn.Sequential(nn.Conv2d(c_in, c_in * gain, 1), nn.Conv2d(c_in * gain, c_out * gain, 3),
                                  nn.Conv2d(c_out * gain, c_out, 1))
        self.eval_conv = nn.Conv2d(c_in, c_out, 3, 1, 1)
        for m in [self.sk, *self.conv]:
            init_conv(m, gain=1.0)
        init_conv(self.eval_conv)   # stale until update_params

    def update_params(self):
        with torch.no_grad():
            w1, b1 = self.conv[0].weight[:, :, 0, 0], self.conv[0].bias     # (m, i)
            w2, b2 = self.conv[1].weight, self.conv[1].bias                  # (n, m, 3, 3)
            w3, b3 = self.conv[2].weight[:, :, 0, 0], self.conv[2].bias     # (o, n)
            w12 = torch.einsum("nmyx,mi->niyx", w2, w1)
            b12 = torch.einsum("nmyx,m->n", w2, b1) + b2
            w = torch.einsum("on,niyx->oiyx", w3, w12)
            b = w3 @ b12 + b3
            w[:, :, 1, 1] += self.sk.weight[:, :, 0, 0]
            self.eval_conv.weight.copy_(w)
            self.eval_conv.bias.copy_(b + self.sk.bias)

    def forward(self, x):
        self.update_params()
        return self.eval_conv(x)


class SPAB(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1_r = Conv3XC(c, c)
        self.c2_r = Conv3XC(c, c)
        self.c3_r = Conv3XC(c, c)

    def forward(self, x):
        out1 = F.silu(self.c1_r(x))          # the published code's in-place SiLU: out1 is returned activated
        out2 = F.silu(self.c2_r(out1))
        out3 = self.c3_r(out2)
        att = torch.sigmoid(out3) - 0.5
        return (out3 + x) * att, out1


class SPAN(nn.Module):
    def __init__(self, scale, feat, norm):
        super().__init__()
        self.scale = scale
        self.norm = norm
        self.mean = torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1)
        if not norm:
            self.register_buffer("no_norm", torch.zeros(1))
        self.conv_1 = Conv3XC(3, feat)
        for i in range(1, 7):
            setattr(self, "block_%d" % i, SPAB(feat))
        self.conv_cat = nn.Conv2d(4 * feat, feat, 1)
        self.conv_2 = Conv3XC(feat, feat)
        self.upsampler = nn.Sequential(nn.Conv2d(feat, 3 * scale * scale, 3, 1, 1), nn.PixelShuffle(scale))
        init_conv(self.conv_cat)
        init_conv(self.upsampler[0])

    def forward(self, x):
        if self.norm:
            x = (x - self.mean) * 255.0
        f = self.conv_1(x)
        b1, _ = self.block_1(f)
        b = b1
        for i in range(2, 6):
            b, _ = getattr(self, "block_%d" % i)(b)
        b6, b5_2 = self.block_6(b)
        b6 = self.conv_2(b6)
        return self.upsampler(self.conv_cat(torch.cat([f, b6, b1, b5_2], 1)))


# --- writing --------------------------------------------------------------------------------

def save_cli(name, net, h, w):
    """An 8-bit RGB PNG input (its own seeded generator, so the other fixtures do not change) and
    the network's float output on its values / 255, for the CLI test (`upscale` PNG → PNG)."""
    x = seeded_rgb_png(os.path.join(OUT, name + ".cli.png"), h, w, torch.Generator().manual_seed(77))
    with torch.no_grad():
        y = net(x)
    save_file({"input": x.contiguous(), "output": y.contiguous()}, os.path.join(OUT, name + ".cli.io.safetensors"))


def save_io(name, x, y):
    save_file({"input": x.contiguous(), "output": y.detach().contiguous()}, os.path.join(OUT, name + ".io.safetensors"))


def check_spread(name, y):
    lo, hi = y.min().item(), y.max().item()
    assert 0.0 < lo < 0.3 and 0.7 < hi < 1.0, (name, lo, hi)
    print("%-14s output %s in [%.3f, %.3f], std %.3f" % (name, tuple(y.shape), lo, hi, y.std().item()))


NB = 2


def make_rrdb(scale, h, w):
    net = RRDBNet(scale, nf=8, nb=NB, gc=4).eval()
    x = torch.rand(1, 3, h, w)
    with torch.no_grad():
        spread_output(net.conv_last, 1, net(x))
        y = net(x)
    return net, x, y


def make_span(scale, norm, h, w):
    net = SPAN(scale, feat=4, norm=norm).eval()
    if norm:   # the normalised input is ~255× larger: shrink conv_1's branches to keep features moderate
        with torch.no_grad():
            net.conv_1.sk.weight /= 255.0
            net.conv_1.conv[0].weight /= 255.0 ** 0.5
            net.conv_1.conv[0].bias /= 255.0 ** 0.5
            net.conv_1.conv[1].weight /= 255.0 ** 0.5
    x = torch.rand(1, 3, h, w)
    with torch.no_grad():
        spread_output(net.upsampler[0], scale * scale, net(x))
        y = net(x)
    return net, x, y


def every_op_graph():
    """A graph file written by this script (not by upscale), with every node kind, and its output."""
    g = torch.Generator().manual_seed(5)
    rnd = lambda *s: (torch.rand(*s, generator=g) * 2 - 1)
    w1, b1 = rnd(6, 12, 3, 3) / 6, rnd(6) / 10       # Conv2d weights (Cout, Cin, k, k)
    w2, b2 = rnd(12, 6, 3, 3) / 4, rnd(12) / 10
    prelu = torch.rand(6, generator=g) * 0.5
    x = torch.rand(1, 3, 6, 10, generator=g)
    with torch.no_grad():
        t = (x + torch.tensor([-0.4, -0.5, -0.6]).view(1, 3, 1, 1)) * 2.0
        d = F.pixel_unshuffle(t, 2)
        c1 = F.leaky_relu(F.conv2d(d, w1, b1, padding=1), 0.2)
        s = c1 * 0.2 + c1
        gate = s * (torch.sigmoid(s) - 0.5)
        a = F.leaky_relu(F.prelu(F.silu(gate), prelu), 0.1)
        cat = torch.cat([a, c1], 1)
        u = F.interpolate(cat[:, :6], scale_factor=2, mode="nearest")
        y = F.pixel_shuffle(F.conv2d(u, w2, b2, padding=1), 2)
    def as_transposed(w):   # Conv2d (Cout, Cin, k, k) → conv_transpose2d (Cin, Cout, k, k), flipped
        return w.permute(1, 0, 2, 3).flip(2, 3).contiguous()
    nodes = [
        {"name": "norm", "op": "affine", "inputs": ["input"], "shift": [-0.4, -0.5, -0.6], "scale": 2.0},
        {"name": "down", "op": "pixel_unshuffle", "inputs": ["norm"], "factor": 2},
        {"name": "c1", "op": "conv_transpose2d", "inputs": ["down"], "padding": 1, "activation": {"leaky_relu": 0.2}},
        {"name": "s", "op": "add", "inputs": ["c1", "c1"], "scales": [0.2, 1]},
        {"name": "sig", "op": "sigmoid", "inputs": ["s"]},
        {"name": "att", "op": "affine", "inputs": ["sig"], "shift": -0.5},
        {"name": "gate", "op": "mul", "inputs": ["s", "att"]},
        {"name": "silu", "op": "silu", "inputs": ["gate"]},
        {"name": "pre", "op": "prelu", "inputs": ["silu"]},
        {"name": "lr", "op": "leaky_relu", "inputs": ["pre"], "slope": 0.1},
        {"name": "cat", "op": "concat", "inputs": ["lr", "c1"]},
        {"name": "c2", "op": "conv_transpose2d", "inputs": ["cat"], "padding": 0, "activation": "none"},
    ]
    # `cat[:, :6]` above is a 1×1 conv here, selecting the first 6 channels exactly (weights 0 and 1).
    select = torch.zeros(6, 12, 1, 1)
    for c in range(6):
        select[c, c] = 1
    nodes += [
        {"name": "up", "op": "upsample_nearest", "inputs": ["c2"], "factor": 2},
        {"name": "c3", "op": "conv_transpose2d", "inputs": ["up"], "padding": [1, 1]},
        {"name": "shuf", "op": "pixel_shuffle", "inputs": ["c3"], "factor": 2},
    ]
    tensors = {"nodes.2.weight": as_transposed(w1), "nodes.2.bias": b1, "nodes.8.prelu": prelu,
               "nodes.11.weight": as_transposed(select), "nodes.13.weight": as_transposed(w2), "nodes.13.bias": b2}
    meta = {"format": "upscale.graph/1", "scale": "2", "channels": "rgb", "residual": "none",
            "name": "every-op", "nodes": json.dumps(nodes)}
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "every_op.graph.bin"), metadata=meta)
    save_io("every_op", x, y)


# --- RRDBNet as an ncnn graph, the way exported ESRGAN .param files lay it out ------------------

class NcnnWriter:
    """Writes a .param text and its .bin; blobs are named by the layer that writes them."""

    def __init__(self, fp16):
        self.fp16, self.lines, self.bin, self.blobs = fp16, [], bytearray(), 0

    def layer(self, kind, name, bottoms, tops, params=""):
        self.lines.append(ncnn_layer_line(kind, name, bottoms, tops, params))
        self.blobs += len(tops)

    def conv(self, name, bottom, top, conv, leaky=None):
        w = conv.weight.detach().float()
        co, ci, kh, kw = w.shape
        params = "0=%d 1=%d 11=%d 4=%d 5=1 6=%d" % (co, kw, kh, (kw - 1) // 2, w.numel())
        if leaky is not None:
            params += " 9=2 -23310=1,%e" % leaky
        self.layer("Convolution", name, [bottom], [top], params)
        self.bin += ncnn_weight_blob(w, self.fp16) + ncnn_raw_blob(conv.bias.detach().float())

    def save(self, stem):
        write_ncnn(stem, self.lines, self.blobs, self.bin)


def rrdb_ncnn(net, fp16):
    """net as ncnn layers: Split for every shared blob, Concat, fused leaky ReLU, the first
    RRDB's dense-block residuals as Eltwise sums with coefficients (0.2, 1), the others as
    BinaryOp mul-by-scalar then add, a standalone ReLU with slope after conv_hr, and nearest Interp
    before the upsampling convolutions."""
    wr = NcnnWriter(fp16)
    wr.layer("Input", "data", [], ["in"], "0=0 1=0 2=3")
    count = [0]

    def split(blob, n):
        if n == 1:
            return [blob]
        count[0] += 1
        tops = ["%s_s%d" % (blob, i) for i in range(n)]
        wr.layer("Split", "splitncnn_%d" % count[0], [blob], tops)
        return tops

    wr.conv("conv_first", "in", "feat", net.conv_first)
    feat_trunk, h = split("feat", 2)
    for b, block in enumerate(net.body):
        block_in, h = split(h, 2)
        for d, rdb in enumerate([block.rdb1, block.rdb2, block.rdb3], 1):
            p = "b%d_r%d" % (b, d)
            x_parts = split(h, 6)          # the input: read by conv1, 4 concats and the residual
            residual_in = x_parts[5]
            feats = [x_parts[0]]
            for k in range(1, 6):
                conv = getattr(rdb, "conv%d" % k)
                if k == 1:
                    src = x_parts[0]
                else:
                    wr.layer("Concat", p + "_cat%d" % k, feats_for_cat[k], [p + "_cat%d" % k], "0=0")
                    src = p + "_cat%d" % k
                out = p + "_x%d" % k
                wr.conv(p + "_conv%d" % k, src, out, conv, leaky=0.2 if k < 5 else None)
                if k == 1:
                    # x1 is read by the concats of conv2..conv5: 4 times
                    x_reads = {2: [x_parts[1]], 3: [x_parts[2]], 4: [x_parts[3]], 5: [x_parts[4]]}
                if k < 5:
                    tops = split(out, 5 - k)
                    for j, t in enumerate(tops):
                        x_reads[k + 1 + j].append(t)
                feats_for_cat = {kk: list(v) for kk, v in x_reads.items()}
            # residual: x5 * 0.2 + x
            if b == 0:
                wr.layer("Eltwise", p + "_res", [p + "_x5", residual_in], [p + "_out"], "0=1 -23301=2,2.000000e-01,1.000000e+00")
            else:
                wr.layer("BinaryOp", p + "_mul", [p + "_x5"], [p + "_x5s"], "0=2 1=1 2=2.000000e-01")
                wr.layer("BinaryOp", p + "_res", [p + "_x5s", residual_in], [p + "_out"], "0=0")
            h = p + "_out"
        wr.layer("BinaryOp", "b%d_mul" % b, [h], ["b%d_s" % b], "0=2 1=1 2=2.000000e-01")
        wr.layer("BinaryOp", "b%d_res" % b, ["b%d_s" % b, block_in], ["b%d_out" % b], "0=0")
        h = "b%d_out" % b
    wr.conv("conv_body", h, "body", net.conv_body)
    wr.layer("BinaryOp", "trunk", [feat_trunk, "body"], ["trunk"], "0=0")
    h = "trunk"
    for k in (1, 2):
        wr.layer("Interp", "up%d" % k, [h], ["up%d" % k], "0=1 1=2.000000e+00 2=2.000000e+00")
        wr.conv("conv_up%d" % k, "up%d" % k, "u%d" % k, getattr(net, "conv_up%d" % k), leaky=0.2)
        h = "u%d" % k
    wr.conv("conv_hr", h, "hr", net.conv_hr)
    wr.layer("ReLU", "hr_act", ["hr"], ["hra"], "0=2.000000e-01")
    wr.conv("conv_last", "hra", "out", net.conv_last)
    return wr


def make_ncnn_rrdb():
    """RRDBNet x4 (nb 2) as ncnn fp32 and fp16 files, and PyTorch's output of each precision's weights."""
    net, x, y32 = make_rrdb(4, 7, 9)
    for fp16 in (False, True):
        tag = "f16" if fp16 else "f32"
        rrdb_ncnn(net, fp16).save(os.path.join(OUT, "rrdb_ncnn_x4_" + tag))
    half = RRDBNet(4, nf=8, nb=NB, gc=4).eval()
    half.load_state_dict({k: (v.half().float() if k.endswith("weight") else v) for k, v in net.state_dict().items()})
    with torch.no_grad():
        y16 = half(x)
    save_file({"input": x.contiguous(), "output_f32": y32.contiguous(), "output_f16": y16.contiguous()},
              os.path.join(OUT, "rrdb_ncnn_x4.io.safetensors"))
    save_cli("rrdb_ncnn_x4", half, 12, 9)
    try:   # a cross-check of the files by ncnn itself, when its Python package is installed
        import ncnn
    except ImportError:
        return
    for tag, ref in (("f32", y32), ("f16", y16)):
        n = ncnn.Net()
        n.opt.use_fp16_packed = n.opt.use_fp16_storage = n.opt.use_fp16_arithmetic = False
        n.opt.use_vulkan_compute = False
        stem = os.path.join(OUT, "rrdb_ncnn_x4_" + tag)
        assert n.load_param(stem + ".param") == 0 and n.load_model(stem + ".bin") == 0
        ex = n.create_extractor()
        ex.input("in", ncnn.Mat(x[0].numpy().copy()))
        _, out = ex.extract("out")
        diff = (torch.from_numpy(np.array(out)) - ref[0]).abs().max().item()
        print("ncnn %s: max |diff| against PyTorch %.2e" % (tag, diff))
        assert diff < 1e-4


def main():
    os.makedirs(OUT, exist_ok=True)
    net, x, y = make_rrdb(4, 9, 11)
    check_spread("rrdb_x4", y)
    torch.save({"params_ema": net.state_dict()}, os.path.join(OUT, "rrdb_x4_new.pth"))
    torch.save(old_style_keys(net.state_dict()), os.path.join(OUT, "rrdb_x4_old.pth"))
    save_io("rrdb_x4", x, y)
    save_cli("rrdb_x4", net, 13, 10)

    net, x, y = make_rrdb(2, 9, 11)
    check_spread("rrdb_x2", y)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(OUT, "rrdb_x2.safetensors"))
    save_io("rrdb_x2", x, y)

    net, x, y = make_rrdb(1, 9, 11)
    check_spread("rrdb_x1", y)
    torch.save(net.state_dict(), os.path.join(OUT, "rrdb_x1.pth"))
    save_io("rrdb_x1", x, y)

    # SPAN x4: saved with stale eval_conv tensors (re-initialised after the forward).
    net, x, y = make_span(4, True, 7, 9)
    check_spread("span_x4", y)
    for m in net.modules():
        if isinstance(m, Conv3XC):
            init_conv(m.eval_conv)
    torch.save(net.state_dict(), os.path.join(OUT, "span_x4.pth"))
    save_io("span_x4", x, y)

    net, x, y = make_span(2, False, 7, 9)
    check_spread("span_x2", y)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(OUT, "span_x2.safetensors"))
    save_io("span_x2", x, y)
    save_cli("span_x2", net, 11, 14)

    every_op_graph()
    make_ncnn_rrdb()
    for f in sorted(os.listdir(OUT)):
        print("%-28s %7d bytes" % (f, os.path.getsize(os.path.join(OUT, f))))


if __name__ == "__main__":
    main()
