#!/usr/bin/env python3
"""Fixtures for `upscale import`: tiny random-weight peer models and PyTorch reference outputs.

For each architecture `upscale import` accepts (Real-ESRGAN's SRVGGNetCompact, waifu2x's upconv_7
and vgg_7) this builds a tiny random PyTorch network and writes
  NAME_f32.param/.bin, NAME_f16.param/.bin   the network in ncnn's format (weights fp32 / fp16-tagged)
  NAME.pth                                   its state dict, saved by torch.save (fp32)
  NAME.io.safetensors                        `input` (1, 3, H, W) and, per weight precision, the
                                             reference `output_f32` / `output_f16`
  NAME.input.png                             the same input as an 8-bit RGB PNG
  NAME.cli.png, NAME.cli_f16_reference.png   (SRVGG and upconv_7) a 17×20 input, larger than the
                                             CLI's smallest tile, and the fp16 reference rounded to 8 bits
  bad_*.pth                                  hostile or unsupported .pth files for the refusal tests
The reference output is NOT the network that wrote the files: this script reads the .param/.bin
back with its own small ncnn reader and evaluates the graph layer by layer with PyTorch ops
(F.conv2d, F.conv_transpose2d, F.pixel_shuffle, F.interpolate, F.leaky_relu, F.prelu), with
waifu2x's replicated border padding of 7 pixels in front. That reading is checked against the
original module (for fp32) before anything is written, and, when the `ncnn` Python package is
installed (`pip install ncnn`, a cross-check only), against ncnn's own CPU run of the same files:
that confirms the format as this script and upscale read it (weight layouts, the fp16 tag,
parameter ids), which a reference written from the same reading could not. The input is the PNG's 8-bit values / 255,
so the float reference is also the reference for a run on the PNG.

    /work/venv/bin/python tools/make_import_fixtures.py
Development only: building and testing upscale never needs Python.
"""
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

from fixture_common import (NCNN_FP16_TAG as FP16_TAG, fixture_path, ncnn_layer_line, ncnn_raw_blob as raw_blob,
                            ncnn_weight_blob as weight_blob, seeded_rgb_png, write_ncnn as write_ncnn_files)

OUT = fixture_path("import")
WAIFU2X_PADDING = 7


# --- the PyTorch networks (tiny versions of the published architectures) ---------------------

class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN's compact network: conv+PReLU, num_conv × (conv+PReLU), conv to 3·s² channels,
    PixelShuffle(s), plus the nearest upscale of the input."""

    def __init__(self, feat, num_conv, scale):
        super().__init__()
        self.scale = scale
        layers = [nn.Conv2d(3, feat, 3, 1, 1), nn.PReLU(feat)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(feat, feat, 3, 1, 1), nn.PReLU(feat)]
        layers.append(nn.Conv2d(feat, 3 * scale * scale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(scale)

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.scale, mode="nearest")


class Waifu2xStack(nn.Module):
    """upconv_7 (valid 3×3 convs + LeakyReLU 0.1, then a 4×4 stride-2 deconv, padding 3) or vgg_7
    (valid 3×3 convs + LeakyReLU 0.1, the last without); the caller pads the input by 7 (replicate)."""

    def __init__(self, widths, deconv):
        super().__init__()
        layers = []
        for i in range(len(widths) - 2):
            layers += [nn.Conv2d(widths[i], widths[i + 1], 3, 1, 0), nn.LeakyReLU(0.1)]
        if deconv:
            layers.append(nn.ConvTranspose2d(widths[-2], widths[-1], 4, 2, 3))
        else:
            layers.append(nn.Conv2d(widths[-2], widths[-1], 3, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(F.pad(x, (WAIFU2X_PADDING,) * 4, mode="replicate"))


# --- writing ncnn files ------------------------------------------------------------------------

def write_ncnn(path_stem, lines, blobs):
    # lines: (type, name, bottoms, tops, params) in order
    blob_names = {t for _, _, _, tops, _ in lines for t in tops}
    write_ncnn_files(path_stem, [ncnn_layer_line(*line) for line in lines], len(blob_names), b"".join(blobs))


def fmt(v):
    return "%e" % v


def srvgg_ncnn(net, fp16, fused):
    """The layout onnx2ncnn gives Real-ESRGAN's compact models (Split, PReLU layers, PixelShuffle,
    Interp, BinaryOp). `fused` is unused here (PReLU cannot fuse)."""
    lines = [("Input", "input", [], ["data"], "0=0 1=0 2=3"),
             ("Split", "splitncnn_input0", ["data"], ["data_0", "data_1"], "")]
    blobs, tip, n = [], "data_1", 0
    convs = [m for m in net.body]
    for m in convs:
        n += 1
        top = "b%d" % n
        if isinstance(m, nn.Conv2d):
            cout, cin, k, _ = m.weight.shape
            lines.append(("Convolution", "Conv_%d" % n, [tip], [top],
                          "0=%d 1=%d 11=%d 2=1 12=1 3=1 13=1 4=1 14=1 15=1 16=1 5=1 6=%d" % (cout, k, k, m.weight.numel())))
            blobs += [weight_blob(m.weight, fp16), raw_blob(m.bias)]
        else:
            lines.append(("PReLU", "PRelu_%d" % n, [tip], [top], "0=%d" % m.weight.numel()))
            blobs.append(raw_blob(m.weight))
        tip = top
    lines.append(("PixelShuffle", "DepthToSpace", [tip], ["shuffled"], "0=%d" % net.scale))
    lines.append(("Interp", "Resize", ["data_0"], ["base"], "0=1 1=%s 2=%s" % (fmt(net.scale), fmt(net.scale))))
    lines.append(("BinaryOp", "Add", ["shuffled", "base"], ["output"], "0=0"))
    return lines, blobs


def waifu2x_ncnn(net, fp16, fused):
    """waifu2x-ncnn-vulkan's layout: Convolution layers (valid), LeakyReLU 0.1 fused into the
    convolution (`fused`, activation_type 2) or as separate ReLU layers with slope 0.1, then a
    Deconvolution (upconv_7) or a last Convolution (vgg_7)."""
    lines = [("Input", "Input1", [], ["input"], "")]
    blobs, tip, n = [], "input", 0
    mods = list(net.net)
    i = 0
    while i < len(mods):
        m = mods[i]
        act = i + 1 < len(mods) and isinstance(mods[i + 1], nn.LeakyReLU)
        n += 1
        top = "conv%d" % n
        if isinstance(m, nn.ConvTranspose2d):
            cin, cout, k, _ = m.weight.shape
            # ncnn stores a deconvolution's weight as (outch, inch, kh, kw)
            lines.append(("Deconvolution", "Deconvolution%d" % n, [tip], [top],
                          "0=%d 1=%d 3=2 4=3 5=1 6=%d" % (cout, k, m.weight.numel())))
            blobs += [weight_blob(m.weight.transpose(0, 1).contiguous(), fp16), raw_blob(m.bias)]
        else:
            cout, cin, k, _ = m.weight.shape
            extra = " 9=2 -23310=1,%s" % fmt(0.1) if act and fused else ""
            lines.append(("Convolution", "Convolution%d" % n, [tip], [top],
                          "0=%d 1=%d 5=1 6=%d%s" % (cout, k, m.weight.numel(), extra)))
            blobs += [weight_blob(m.weight, fp16), raw_blob(m.bias)]
        tip = top
        if act and not fused:
            lines.append(("ReLU", "ReLU%d" % n, [tip], [top + "_relu"], "0=%s" % fmt(0.1)))
            tip = top + "_relu"
        i += 2 if act else 1
    return lines, blobs


# --- reading ncnn files back: the independent reference ---------------------------------------

def parse_params(tokens):
    out = {}
    for tok in tokens:
        key, value = tok.split("=")
        key = int(key)
        if key <= -23300:
            items = value.split(",")
            out[-key - 23300] = [float(v) for v in items[1:]]
        else:
            out[key] = float(value) if ("." in value or "e" in value) else int(value)
    return out


class BinReader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        chunk = self.data[self.pos:self.pos + n]
        assert len(chunk) == n
        self.pos += n
        return chunk

    def weights(self, count):
        tag = struct.unpack("<I", self.take(4))[0]
        if tag == FP16_TAG:
            raw = self.take(count * 2 + (-count * 2 % 4))
            return torch.from_numpy(np.frombuffer(raw[:count * 2], "<f2").astype("<f4"))
        assert tag == 0
        return self.raw(count)

    def raw(self, count):
        return torch.from_numpy(np.frombuffer(self.take(count * 4), "<f4").copy())


def run_ncnn_reference(stem, x, pad):
    """Evaluates the ncnn graph in stem.param/.bin on x with PyTorch ops."""
    lines = open(stem + ".param").read().split("\n")
    assert lines[0].strip() == "7767517"
    reader = BinReader(open(stem + ".bin", "rb").read())
    blobs = {}
    for line in lines[2:]:
        if not line.strip():
            continue
        parts = line.split()
        kind, nb, nt = parts[0], int(parts[2]), int(parts[3])
        bottoms, tops = parts[4:4 + nb], parts[4 + nb:4 + nb + nt]
        p = parse_params(parts[4 + nb + nt:])
        ins = [blobs[b] for b in bottoms]
        if kind == "Input":
            y = F.pad(x, (pad,) * 4, mode="replicate") if pad else x
        elif kind == "Split":
            for t in tops:
                blobs[t] = ins[0]
            continue
        elif kind in ("Convolution", "Deconvolution"):
            cout, k = p[0], p[1]
            cin = p[6] // (cout * k * k)
            w = reader.weights(p[6]).reshape(cout, cin, k, k)
            b = reader.raw(cout) if p.get(5, 0) else None
            if kind == "Convolution":
                y = F.conv2d(ins[0], w, b, stride=1, padding=p.get(4, 0))
            else:
                y = F.conv_transpose2d(ins[0], w.transpose(0, 1), b, stride=p.get(3, 1), padding=p.get(4, 0))
            if p.get(9, 0) == 2:
                y = F.leaky_relu(y, p[10][0])
            elif p.get(9, 0) == 1:
                y = F.relu(y)
        elif kind == "ReLU":
            y = F.leaky_relu(ins[0], p.get(0, 0.0))
        elif kind == "PReLU":
            y = F.prelu(ins[0], reader.raw(p[0]))
        elif kind == "PixelShuffle":
            y = F.pixel_shuffle(ins[0], p[0])
        elif kind == "Interp":
            assert p[0] == 1
            y = F.interpolate(ins[0], scale_factor=int(p[1]), mode="nearest")
        elif kind == "BinaryOp":
            assert p.get(0, 0) == 0
            y = ins[0] + ins[1]
        else:
            raise ValueError(kind)
        blobs[tops[0]] = y
    assert reader.pos == len(reader.data), "unread bytes in " + stem + ".bin"
    return y


def cross_check_with_ncnn(stem, x, pad, ref, lines):
    """ncnn's CPU output on the same files, when the ncnn package is installed (not a required
    oracle: the issue saw its output go wrong in places, so it only has to agree here)."""
    try:
        import ncnn
    except ImportError:
        print("  (ncnn not installed: no cross-check with ncnn)")
        return
    for packing in (False, True):
        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = 1
        net.opt.use_fp16_storage = net.opt.use_fp16_arithmetic = net.opt.use_fp16_packed = False
        net.opt.use_bf16_storage = False
        net.opt.use_packing_layout = packing
        assert net.load_param(stem + ".param") == 0 and net.load_model(stem + ".bin") == 0
        padded = F.pad(x, (pad,) * 4, mode="replicate") if pad else x
        data = np.ascontiguousarray(padded[0].numpy().astype(np.float32))
        mat = ncnn.Mat(data)   # kept alive while the extractor reads it
        extractor = net.create_extractor()
        extractor.input(lines[0][3][0], mat)
        _, out = extractor.extract(lines[-1][3][0])
        gap = np.abs(np.array(out) - ref[0].numpy()).max()
        assert gap < 1e-4, "%s: ncnn (packing %s) differs from the reference by %g" % (stem, packing, gap)
        print("  ncnn (packing %s) agrees: max |ncnn - reference| = %.1e" % (packing, gap))


# --- the fixtures ------------------------------------------------------------------------------

def randomize(net, gen):
    # Larger-than-default weights so that every layer matters; PReLU slopes spread over [−0.3, 0.5].
    with torch.no_grad():
        for name, t in net.named_parameters():
            if isinstance(dict(net.named_modules())[name.rsplit(".", 1)[0]], nn.PReLU):
                t.copy_(torch.rand(t.shape, generator=gen) * 0.8 - 0.3)
            elif name.endswith("bias"):
                t.copy_(torch.rand(t.shape, generator=gen) * 0.4 - 0.2)
            else:
                fan = t.shape[1] * t.shape[2] * t.shape[3]
                if isinstance(dict(net.named_modules())[name.rsplit(".", 1)[0]], nn.ConvTranspose2d):
                    fan = t.shape[0] * t.shape[2] * t.shape[3] / 4
                t.copy_((torch.rand(t.shape, generator=gen) * 2 - 1) * (3.0 / fan) ** 0.5)


def make(name, net, writer, pad, size, gen, state_dict_wrapper=None, output_bias=0.0, cli=False):
    randomize(net, gen)
    with torch.no_grad():   # centre the output in [0, 1], so that 8-bit comparisons see most pixels unclamped
        [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))][-1].bias.add_(output_bias)
    net.eval()
    h, w = size
    x = seeded_rgb_png(os.path.join(OUT, name + ".input.png"), h, w, gen)
    tensors = {"input": x.contiguous()}
    with torch.no_grad():
        direct = net(x)
        for precision, fp16, fused in (("f32", False, False), ("f16", True, True)):
            stem = os.path.join(OUT, "%s_%s" % (name, precision))
            lines, blobs = writer(net, fp16, fused)
            write_ncnn(stem, lines, blobs)
            ref = run_ncnn_reference(stem, x, pad)
            assert ref.shape == direct.shape, (ref.shape, direct.shape)
            gap = (ref - direct).abs().max().item()
            if not fp16:
                assert gap < 1e-5, "%s: the ncnn reading differs from the module by %g" % (stem, gap)
            print("%s: output %s, |reference - module| = %.2e" % (stem, tuple(ref.shape), gap))
            tensors["output_" + precision] = ref.contiguous()
            cross_check_with_ncnn(stem, x, pad, ref, lines)
    save_file(tensors, os.path.join(OUT, name + ".io.safetensors"))
    if cli:
        x = seeded_rgb_png(os.path.join(OUT, name + ".cli.png"), 17, 20, gen)
        with torch.no_grad():
            ref = run_ncnn_reference(os.path.join(OUT, name + "_f16"), x, pad)
        out = (ref[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8)
        Image.fromarray(out.numpy(), "RGB").save(os.path.join(OUT, name + ".cli_f16_reference.png"))
    state = net.state_dict()
    torch.save(state_dict_wrapper(state) if state_dict_wrapper else state, os.path.join(OUT, name + ".pth"))


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(17)
    make("srvgg_x4", SRVGGNetCompact(feat=8, num_conv=2, scale=4), srvgg_ncnn, 0, (9, 11), gen,
         state_dict_wrapper=lambda s: {"params": s}, cli=True)
    make("upconv7_x2", Waifu2xStack([3, 4, 4, 8, 8, 8, 8, 3], deconv=True), waifu2x_ncnn, WAIFU2X_PADDING, (10, 13), gen,
         output_bias=0.45, cli=True)
    # vgg_7's .pth is wrapped the way nunif (waifu2x's PyTorch code) saves its models: the state
    # dict beside a name, a date string and the training settings (lists, floats, None).
    make("vgg7_x1", Waifu2xStack([3, 4, 4, 8, 8, 8, 8, 3], deconv=False), waifu2x_ncnn, WAIFU2X_PADDING, (12, 9), gen,
         output_bias=0.4, state_dict_wrapper=lambda s: {
             "nunif_model": 1, "name": "waifu2x.vgg_7", "updated_at": "2026-12-02 00:00:00+00:00",
             "kwargs": {"in_channels": 3, "out_channels": 3},
             "train_kwargs": {"learning_rate": 0.00025, "size": [112, 112], "method": "noise", "resume": None,
                              "amp": True, "weight_decay": [0.0, 1e-4]},
             "state_dict": s})

    bad_pth_files()


def bad_pth_files():
    """Files `upscale import --arch ...` must refuse, each for one reason."""
    import io
    import zipfile
    # A pickle that would call os.system if a real unpickler loaded it (never loaded here).
    evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(os.path.join(OUT, "bad_global.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("bad_global/data.pkl", evil)
        z.writestr("bad_global/byteorder", "little")
    # A real state dict, but the archive's entries deflated.
    buffer = io.BytesIO()
    torch.save({"w.weight": torch.zeros(2, 3, 3, 3)}, buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(os.path.join(OUT, "bad_deflated.pth"), "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
    # The legacy (pre-1.6) format: a raw pickle stream, not a zip.
    torch.save({"w.weight": torch.zeros(2, 3, 3, 3)}, os.path.join(OUT, "bad_legacy.pth"),
               _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main()
