"""Export a PyTorch layer stack to the upscale model file (docs/model-format.md).

The file is safetensors: tensors `layers.{i}.weight` (Cin, Cout/groups, kH, kW), `layers.{i}.bias`
(Cout), `layers.{i}.prelu` (Cout or 1), and `__metadata__` with format, scale, channels, residual,
the per-layer geometry and activation as a JSON string, and free-form name/description/license/
trained_on. This writer defines the format; the Swift loader checks it.

    export_model(seq, "models/x2.bin", scale=2, channels="y", residual="bicubic", name="...")
    python training/export.py --checkpoint training/runs/x2/best.pt --out models/x2.bin
    python training/export.py --make-fixtures Tests/UpscaleKitTests/Fixtures/model

`nn.Conv2d` layers with stride 1 are converted to the equal ConvTranspose2d: kernel flipped in both
spatial axes, in/out channels swapped within each group, padding d·(k − 1) − p.
"""
import argparse
import json
import os

import torch
from torch import nn

# Run as a script, training/ is on the path; imported (benchmarks/compare.py), the caller put it there.
from model import ThinSR, fsrcnn

FORMAT = "upscale.convt-stack/1"
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.Sigmoid, nn.Tanh, nn.SiLU)


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def conv2d_as_transpose(conv: nn.Conv2d):
    """A stride-1 Conv2d as (weight, bias, padding) of the ConvTranspose2d computing the same function."""
    if _pair(conv.stride) != [1, 1]:
        raise ValueError(f"{conv}: only stride-1 Conv2d can be exported (a strided conv is not a conv_transpose)")
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise ValueError(f"{conv}: only numeric zero padding can be exported")
    g = conv.groups
    c_out, c_in_g, kh, kw = conv.weight.shape
    dil = _pair(conv.dilation)
    pad = _pair(conv.padding)
    # src = conv weight (Cout, Cin/g, kH, kW) / dst = transpose weight (Cin, Cout/g, kH, kW), kernel flipped
    w = conv.weight.detach().reshape(g, c_out // g, c_in_g, kh, kw).permute(0, 2, 1, 3, 4)
    w = w.reshape(g * c_in_g, c_out // g, kh, kw).flip(-1, -2).contiguous()
    new_pad = [dil[0] * (kh - 1) - pad[0], dil[1] * (kw - 1) - pad[1]]
    if min(new_pad) < 0:
        raise ValueError(f"{conv}: padding larger than dilation·(kernel − 1) has no ConvTranspose2d equivalent")
    bias = None if conv.bias is None else conv.bias.detach()
    return w, bias, new_pad, dil


def stack_layers(seq: nn.Sequential):
    """The stack as a list of (tensors, geometry) per layer, activations attached to their conv."""
    layers = []
    for module in seq:
        if isinstance(module, nn.Identity):
            continue
        if isinstance(module, (nn.ConvTranspose2d, nn.Conv2d)):
            if isinstance(module, nn.ConvTranspose2d):
                if module.padding_mode != "zeros":
                    raise ValueError(f"{module}: only zero padding can be exported")
                w, b = module.weight.detach(), None if module.bias is None else module.bias.detach()
                pad, dil, out_pad = _pair(module.padding), _pair(module.dilation), _pair(module.output_padding)
                stride = _pair(module.stride)
            else:
                w, b, pad, dil = conv2d_as_transpose(module)
                stride, out_pad = [1, 1], [0, 0]
            layers.append(dict(weight=w, bias=b, prelu=None,
                               spec=dict(stride=stride, padding=pad, output_padding=out_pad,
                                         groups=module.groups, dilation=dil, activation="none")))
        elif isinstance(module, ACTIVATIONS):
            if not layers or layers[-1]["spec"]["activation"] != "none":
                raise ValueError(f"{module}: an activation must follow a conv layer (one per layer)")
            spec = layers[-1]["spec"]
            if isinstance(module, nn.ReLU):
                spec["activation"] = "relu"
            elif isinstance(module, nn.LeakyReLU):
                spec["activation"] = {"leaky_relu": float(module.negative_slope)}
            elif isinstance(module, nn.PReLU):
                spec["activation"] = "prelu"
                layers[-1]["prelu"] = module.weight.detach().reshape(-1)
            elif isinstance(module, nn.Sigmoid):
                spec["activation"] = "sigmoid"
            elif isinstance(module, nn.Tanh):
                spec["activation"] = "tanh"
            else:
                spec["activation"] = "silu"
        else:
            raise ValueError(f"{module}: not exportable (ConvTranspose2d, stride-1 Conv2d, ReLU, LeakyReLU, PReLU, Sigmoid, Tanh, SiLU)")
    if not layers:
        raise ValueError("the stack has no conv layers")
    return layers


def export_model(seq: nn.Sequential, path, *, scale, channels, residual="none", dtype="f32", **meta):
    """Writes `seq` to `path`. `meta` holds free-form string metadata (name, description, license, trained_on)."""
    if channels not in ("rgb", "y") or residual not in ("none", "bicubic") or dtype not in ("f32", "f16", "bf16"):
        raise ValueError(f"channels {channels!r}, residual {residual!r} or dtype {dtype!r} not supported")
    torch_dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype]
    tensors = {}
    specs = []
    for i, layer in enumerate(stack_layers(seq)):
        for key in ("weight", "bias", "prelu"):
            if layer[key] is not None:
                tensors[f"layers.{i}.{key}"] = layer[key].to(torch_dtype).contiguous().cpu()
        specs.append(layer["spec"])
    metadata = {str(k): str(v) for k, v in meta.items()}
    metadata.update(format=FORMAT, scale=str(int(scale)), channels=channels, residual=residual,
                    layers=json.dumps(specs, separators=(",", ":")))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_safetensors(tensors, path, metadata)


def write_safetensors(tensors, path, metadata):
    """Writes a safetensors file whose bytes depend only on its contents: header keys (tensor names,
    metadata keys) sorted, tensor data in name order, the JSON compact, padded with spaces to a
    multiple of 8 bytes as the format asks. (`safetensors.torch.save_file` writes the metadata in a
    different order in each process, so re-exporting an unchanged checkpoint changed the file.)"""
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    header, blobs, offset = {"__metadata__": dict(metadata)}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous().cpu()
        # Raw little-endian bytes of the tensor, whatever its dtype (x86 and ARM are little-endian).
        blob = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def run_file(path, x):
    """Runs the stack stored in `path` on x (N, C, H, W) with torch.nn.functional, from the file alone:
    an independent reading of what export_model wrote."""
    import torch.nn.functional as F
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    assert meta["format"] == FORMAT, meta["format"]
    for i, spec in enumerate(json.loads(meta["layers"])):
        x = F.conv_transpose2d(x, tensors[f"layers.{i}.weight"], tensors.get(f"layers.{i}.bias"),
                               stride=spec["stride"], padding=spec["padding"],
                               output_padding=spec["output_padding"], groups=spec["groups"],
                               dilation=spec["dilation"])
        act = spec["activation"]
        if act == "relu":
            x = F.relu(x)
        elif isinstance(act, dict):
            x = F.leaky_relu(x, act["leaky_relu"])
        elif act == "prelu":
            x = F.prelu(x, tensors[f"layers.{i}.prelu"])
        elif act == "sigmoid":
            x = torch.sigmoid(x)
        elif act == "tanh":
            x = torch.tanh(x)
        elif act == "silu":
            x = F.silu(x)
    return x


def verify_export(seq, path, channels, size=(11, 13), atol=1e-4):
    """Checks that the file computes seq's forward (any callable on (N, C, H, W)) on a random input
    (max |diff| ≤ atol; use a larger atol for F16/BF16 files of unrounded weights). Returns the max |diff|."""
    generator = torch.Generator().manual_seed(0)  # leaves the global RNG alone
    x = torch.rand(1, 3 if channels == "rgb" else 1, *size, generator=generator)
    with torch.no_grad():
        want = seq(x)
        got = run_file(path, x)
    diff = (want - got).abs().max().item()
    if not (got.shape == want.shape and diff <= atol):
        raise AssertionError(f"{path}: the exported stack differs from PyTorch's forward "
                             f"(shape {tuple(got.shape)} vs {tuple(want.shape)}, max |diff| {diff})")
    return diff


def export_checkpoint(checkpoint, out, dtype="f32", extra_meta=None):
    """A training checkpoint ({'model': state_dict, 'config': {...}}) → model file.
    `extra_meta` adds string metadata, e.g. the quality `upscale eval` measured (set5_psnr)."""
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    cfg = ckpt["config"]
    scale = cfg["scale"]
    if cfg.get("arch") == "thin":
        net = ThinSR(scale, cfg["channels"], cfg["blocks"], cfg["expand"], last_kernel=cfg["last_kernel"])
        net.load_state_dict(ckpt["model"])
        stack = net.plain_stack()   # the collapsed layers only
        name = f"thin-x{scale}"
        task = "denoising (no upscale)" if scale == 1 else "super-resolution"
        description = (f"x{scale} {task} on luma: {2 + cfg['blocks']} plain conv layers of "
                       f"{cfg['channels']} channels (5×5, {cfg['blocks']}× 3×3, {cfg['last_kernel']}×"
                       f"{cfg['last_kernel']} + pixel shuffle folded into one ConvTranspose2d), PReLU, "
                       f"trained with collapsible linear blocks (expansion {cfg['expand']}), residual over bicubic")
        reference = lambda x: net.residual(x, expanded=True)   # the training graph itself
        if cfg.get("degrade"):
            name += f"-denoise{cfg['degrade']}"
            description += (f"; denoise level {cfg['degrade']}: trained on LR patches blurred, downscaled, "
                            f"noised and JPEG-compressed (training/degrade.py)")
            extra_meta = dict(extra_meta or {}, denoise=str(cfg["degrade"]))
            if ckpt.get("blend") is not None and ckpt["blend"] < 1:
                description += (f"; weights {ckpt['blend']:.1f} of the way from the clean model to the fine-tuned "
                                f"one (training/blend.py)")
                extra_meta["denoise_blend"] = f"{ckpt['blend']:.1f}"
    else:
        stack = fsrcnn(scale, cfg["width"], cfg["shrink"], cfg["maps"])
        state = {k[len("stack."):]: v for k, v in ckpt["model"].items() if k.startswith("stack.")}
        stack.load_state_dict(state)
        name = f"fsrcnn-x{scale}"
        description = (f"FSRCNN-style x{scale} super-resolution on luma (d={cfg['width']}, "
                       f"s={cfg['shrink']}, m={cfg['maps']}), residual over bicubic")
        reference = stack
    export_model(stack, out, scale=scale, channels="y", residual="bicubic", dtype=dtype,
                 name=name, description=description,
                 license="CC0-1.0", trained_on="T91 + BSD200", iterations=ckpt.get("iter", ""),
                 **(extra_meta or {}))
    return verify_export(reference, out, "y", atol=1e-4 if dtype == "f32" else 1e-2)


def make_fixtures(folder):
    """Small random stacks mixing Conv2d, ConvTranspose2d with stride/groups/dilation and activations,
    each with a random input and PyTorch's forward output, for the Swift test against PyTorch."""
    torch.manual_seed(1234)
    cases = {
        "mixed_rgb_x2_f32": (nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.PReLU(8),
            nn.ConvTranspose2d(8, 6, 3, padding=2, dilation=2, groups=2), nn.LeakyReLU(0.2),
            nn.Conv2d(6, 6, 3, padding=2, dilation=2, groups=3), nn.Tanh(),
            nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(4, 3, (3, 5), padding=(1, 2))), dict(scale=2, channels="rgb", dtype="f32")),
        "mixed_y_x3_f16": (nn.Sequential(
            nn.Conv2d(1, 4, 5, padding=2), nn.PReLU(),
            nn.ConvTranspose2d(4, 4, 3, stride=3), nn.Sigmoid(),
            nn.Conv2d(4, 4, (1, 3), padding=(0, 1), groups=2), nn.ReLU(),
            nn.ConvTranspose2d(4, 1, 3, padding=1)), dict(scale=3, channels="y", dtype="f16")),
    }
    os.makedirs(folder, exist_ok=True)
    for name, (seq, opts) in cases.items():
        with torch.no_grad():
            for module in seq:
                if isinstance(module, nn.PReLU):
                    module.weight.uniform_(0.05, 0.4)
            if opts["dtype"] == "f16":  # PyTorch runs on the weights exactly as stored
                for p in seq.parameters():
                    p.copy_(p.half().float())
            c = 3 if opts["channels"] == "rgb" else 1
            x = torch.rand(1, c, 7, 9)
            y = seq(x)
        assert y.shape[-2:] == (7 * opts["scale"], 9 * opts["scale"]), y.shape
        export_model(seq, os.path.join(folder, f"{name}.bin"), scale=opts["scale"], channels=opts["channels"],
                     residual="none", dtype=opts["dtype"], name=name, license="CC0-1.0",
                     description="random test stack made by training/export.py --make-fixtures")
        verify_export(seq, os.path.join(folder, f"{name}.bin"), opts["channels"])
        write_safetensors({"input": x, "output": y}, os.path.join(folder, f"{name}.io.safetensors"), {})
        print(f"{name}: {tuple(x.shape)} -> {tuple(y.shape)}")


def make_collapse_fixture(folder):
    """A random ThinSR x3 trained-form network (collapsible blocks with their expansion and skips):
    its collapsed export, and the over-parameterised training graph's output on a random input.
    The Swift test running the file against that output proves the collapse exact."""
    generator = torch.Generator().manual_seed(4321)
    net = ThinSR(3, channels=6, blocks=3, expand=10)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=generator))
        x = torch.rand(1, 1, 9, 8, generator=generator)
        y = net.residual(x, expanded=True)
    name = "thin_collapsible_x3"
    path = os.path.join(folder, f"{name}.bin")
    export_model(net.plain_stack(), path, scale=3, channels="y", residual="none", name=name,
                 license="CC0-1.0", description="random ThinSR made by training/export.py --make-fixtures")
    verify_export(lambda t: net.residual(t, expanded=True), path, "y")
    write_safetensors({"input": x, "output": y}, os.path.join(folder, f"{name}.io.safetensors"), {})
    print(f"{name}: {tuple(x.shape)} -> {tuple(y.shape)}")


def main():
    ap = argparse.ArgumentParser(description="Export a trained stack to the upscale model file.")
    ap.add_argument("--checkpoint", help="training checkpoint (best.pt) to export")
    ap.add_argument("--out", help="model file to write, e.g. models/x2.bin")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"], help="stored tensor type")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                    help="extra metadata, repeatable (e.g. set5_psnr=36.52, shown by `upscale models`)")
    ap.add_argument("--make-fixtures", metavar="DIR", help="write the PyTorch-made test fixtures to DIR")
    args = ap.parse_args()
    if args.make_fixtures:
        make_fixtures(args.make_fixtures)
        make_collapse_fixture(args.make_fixtures)
    elif args.checkpoint and args.out:
        pairs = [m.split("=", 1) for m in args.meta]
        if any(len(p) != 2 or not p[0] for p in pairs):
            ap.error("--meta takes KEY=VALUE")
        diff = export_checkpoint(args.checkpoint, args.out, args.dtype, dict(pairs))
        print(f"wrote {args.out} (matches PyTorch's forward, max |diff| {diff:.2e})")
    else:
        ap.error("give --checkpoint and --out, or --make-fixtures")


if __name__ == "__main__":
    main()
