#!/usr/bin/env python3
"""Whole networks: ours vs PyTorch, ONNX Runtime and OpenVINO on the same weights, interleaved in one run.

For each network (the shipped models x2, x3, x4 and a waifu2x "upconv_7"-shaped x2 RGB network with
random weights, written to our format by training/export.py) the script

  1. reads the model file and builds the same stack in PyTorch (nn.Sequential of ConvTranspose2d and
     activations), exports it to ONNX, loads the ONNX file into ONNX Runtime and OpenVINO (static
     input shape, f32), all with `--threads` threads;
  2. writes one random (1, C, H, W) float32 input (default 1080x1920) and starts
     `upscale-bench net --serve` on it: our engine's tiled runner (`Model.runStack`, the CLI's
     default tile size), the network alone, timed inside our process;
  3. checks that every engine's output equals PyTorch's (max |diff| <= --atol), then times single
     calls, engine after engine in an order that rotates from one repetition to the next, with a
     pause before each call (OpenMP workers spin for a while after a call), and reports medians;
  4. times `upscale IN.png -o OUT.png` end to end (decode + colour + network + encode, process start
     and model load included) on a 1920x1080 PNG in the same rotation.

FLOP counts are the useful multiply-adds (2 per MAC, none on the zeros that striding inserts); the
peak is `upscale-bench peak` (12 independent SIMD8 FMAs in a loop), measured before and after.
The FSRCNN models predict a residual over bicubic: network-only times are the conv stack alone
in every engine (the residual add is not part of the network), end-to-end times include it.

    swift build -c release
    /work/venv/bin/python benchmarks/compare.py [--reps 5] [--threads 2] [--networks x2,x3,x4,upconv7]

Files (inputs, ONNX, the upconv_7 weights, outputs) go to benchmarks/out/ (git-ignored).
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

NETWORKS = ["x2", "x3", "x4", "upconv7"]
ENGINES = ["ours", "pytorch", "onnxruntime", "openvino"]


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
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    engines = args.engines.split(",")
    bench = os.path.join(ROOT, ".build", "release", "upscale-bench")
    upscale = os.path.join(ROOT, ".build", "release", "upscale")
    for exe in (bench, upscale):
        if not os.path.exists(exe):
            sys.exit(f"{exe} not found: run `swift build -c release` first")
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)

    import onnxruntime as ort
    import openvino as ov
    versions = (f"torch {torch.__version__}, onnxruntime {ort.__version__}, openvino {ov.__version__}, "
                f"numpy {np.__version__}, python {platform.python_version()}")
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {versions}")
    print(f"input {height}x{width}, {args.threads} threads, median of {args.reps} interleaved calls, "
          f"pause {args.pause} s; load average {os.getloadavg()[0]:.2f}")
    peak_before, peak_text = peak(bench, args.threads)
    print(peak_text.strip())

    png = os.path.join(args.out, f"input_{width}x{height}.png")
    if not args.no_e2e and not os.path.exists(png):
        from PIL import Image
        Image.open(os.path.join(ROOT, "samples", "astronaut.png")).convert("RGB").resize(
            (width, height), Image.BICUBIC).save(png)

    results = []
    for name in args.networks.split(","):
        if name == "upconv7":
            model = os.path.join(args.out, "upconv7.bin")
            if not os.path.exists(model):
                make_upconv7(model)
        else:
            model = os.path.join(ROOT, "models", f"{name}.bin")
        seq, shapes, meta = load_stack(model)
        channels = 3 if meta["channels"] == "rgb" else 1
        scale = int(meta["scale"])
        out_shape = (1, channels, scale * height, scale * width)
        flops = network_flops(shapes, height, width)

        gen = torch.Generator().manual_seed(1)
        x = torch.rand(1, channels, height, width, generator=gen)  # (1, C, H, W)
        input_path = os.path.join(args.out, f"input_{channels}x{height}x{width}.f32")
        x.numpy().tofile(input_path)

        runners = {}
        if "ours" in engines:
            ours = Ours(bench, model, input_path, (height, width), args.threads)
            runners["ours"] = ours.run
        # PyTorch runs in channels_last: NCHW ConvTranspose2d takes its slow path, which allocates a
        # column buffer of Cout·kH·kW·H·W floats (19 GB on upconv_7 at 1080x1920); channels_last
        # takes oneDNN's deconvolution (faster, bounded memory). Same weights, same function.
        seq_cl = seq.to(memory_format=torch.channels_last)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        if "pytorch" in engines:
            def run_torch():
                with torch.inference_mode():
                    return seq_cl(x_cl)
            runners["pytorch"] = lambda: timed(run_torch)
        onnx_path = os.path.join(args.out, f"{name}.onnx")
        if "onnxruntime" in engines or "openvino" in engines:
            torch.onnx.export(as_convolutions(seq), torch.rand(1, channels, 16, 16), onnx_path, input_names=["x"], output_names=["y"],
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
            elif engine == "onnxruntime":
                got = session.run(None, {"x": x_np})[0]
            else:
                request.infer({"x": x_np})
                got = request.get_output_tensor(0).data.copy()
            diffs[engine] = float(np.abs(got - want).max())
            del got
        scale_of_output = float(np.abs(want).max())
        del want
        print(f"\n{name}: {meta.get('name', name)}, {len(shapes)} layers, {flops / 1e9:.1f} GFLOP on {height}x{width}, "
              f"output max |y| {scale_of_output:.3g}; max |diff| vs PyTorch: "
              + ", ".join(f"{e} {d:.2e}" for e, d in diffs.items()), flush=True)
        wrong = [e for e, d in diffs.items() if not d <= args.atol]
        if wrong:
            print(f"  NOT EQUAL (atol {args.atol}): {wrong}: their times are reported but do not count")

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
        medians = {e: statistics.median(t) for e, t in times.items()}
        cpu_medians = {e: statistics.median(t) for e, t in cpu_times.items()}
        results.append(dict(network=name, flops=flops, diffs=diffs, medians=medians, times=times,
                            cpu_medians=cpu_medians, cpu_times=cpu_times,
                            output_megapixels=out_shape[2] * out_shape[3] / 1e6))
        del seq, runners
        if "onnxruntime" in engines:
            del session
        if "openvino" in engines:
            del compiled, request

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
    if any("upscale e2e" in r["medians"] for r in results):
        print("\n| network | ours, network only s | `upscale` end to end s | end to end / network only |")
        print("|---|---:|---:|---:|")
        for r in results:
            if "upscale e2e" in r["medians"]:
                m = r["medians"]
                print(f"| {r['network']} | {m['ours']:.3f} | {m['upscale e2e']:.3f} | {m['upscale e2e'] / m['ours']:.2f}× |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(versions=versions, peak=[peak_before, peak_after], results=results), f, indent=1)


if __name__ == "__main__":
    main()
