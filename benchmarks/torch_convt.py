#!/usr/bin/env python3
"""PyTorch's F.conv_transpose2d vs ours on the shape table of issue #2, interleaved in one run.

For each shape the script starts `upscale-bench convt --serve --shape NAME` (our binary, which
prepares its tensors once and times one call per "run" line on stdin), then alternates single
timed calls: PyTorch, ours, ours, PyTorch, ... so that both see the same machine load, with a short
pause before each call (PyTorch's OpenMP workers spin for a while after a call). It prints
the median of each, our speed-up (PyTorch time / our time) and the geometric mean of the speed-ups.

    swift build -c release --product upscale-bench
    /work/venv/bin/python benchmarks/torch_convt.py [--reps 11] [--threads 2] [--shape NAME]
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

# name, input (N, Cin, H, W), weight (Cin, Cout/g, k, k), stride, padding, output_padding, groups, dilation
SHAPES = [
    ("fsrcnn_first", (1, 1, 540, 960), (1, 56, 5, 5), 1, 2, 0, 1, 1),
    ("fsrcnn_map", (1, 12, 540, 960), (12, 12, 3, 3), 1, 1, 0, 1, 1),
    ("fsrcnn_shrink", (1, 56, 540, 960), (56, 12, 1, 1), 1, 0, 0, 1, 1),
    ("fsrcnn_deconv", (1, 56, 540, 960), (56, 1, 9, 9), 2, 4, 1, 1, 1),
    ("conv64", (1, 64, 256, 256), (64, 64, 3, 3), 1, 1, 0, 1, 1),
    ("upconv_last", (1, 256, 128, 128), (256, 3, 4, 4), 2, 1, 0, 1, 1),
    ("grouped", (1, 64, 256, 256), (64, 16, 3, 3), 1, 1, 0, 4, 1),
    ("dilated", (1, 64, 256, 256), (64, 64, 3, 3), 1, 2, 0, 1, 2),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=11, help="timed calls per side and shape")
    parser.add_argument("--threads", type=int, default=2, help="threads for both sides")
    parser.add_argument("--shape", help="only this shape")
    parser.add_argument("--pause", type=float, default=0.05,
                        help="seconds of sleep before each timed call, so that OpenMP workers still spinning "
                             "after PyTorch's call do not take the cores from ours (or ours from the next)")
    parser.add_argument("--bench", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "upscale-bench"),
                        help="path to the release upscale-bench binary")
    args = parser.parse_args()
    if not os.path.exists(args.bench):
        sys.exit(f"{args.bench} not found: run `swift build -c release --product upscale-bench` first")
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, median of {args.reps} interleaved calls per side")
    print("| name | PyTorch ms | ours ms | speed-up |")
    print("|---|---:|---:|---:|")
    ratios = []
    for name, xs, ws, s, p, op, g, d in SHAPES:
        if args.shape and name != args.shape:
            continue
        torch.manual_seed(0)
        x = torch.rand(xs) - 0.5
        w = torch.rand(ws) - 0.5
        b = torch.rand(ws[1] * g) - 0.5
        ours = subprocess.Popen([args.bench, "convt", "--serve", "--shape", name, "--threads", str(args.threads)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert ours.stdout.readline().strip() == "ready"

        def torch_ms():
            time.sleep(args.pause)
            start = time.perf_counter()
            with torch.no_grad():
                F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
            return (time.perf_counter() - start) * 1e3

        def ours_ms():
            time.sleep(args.pause)
            ours.stdin.write("run\n")
            ours.stdin.flush()
            return float(ours.stdout.readline())

        torch_ms()  # warm-up (ours warmed up before "ready")
        t_times, o_times = [], []
        for rep in range(args.reps):
            first, second = (torch_ms, ours_ms) if rep % 2 == 0 else (ours_ms, torch_ms)
            a, b2 = first(), second()
            t_times.append(a if first is torch_ms else b2)
            o_times.append(b2 if first is torch_ms else a)
        ours.stdin.write("quit\n")
        ours.stdin.close()
        ours.wait()
        t, o = statistics.median(t_times), statistics.median(o_times)
        ratios.append(t / o)
        print(f"| {name} | {t:.2f} | {o:.2f} | {t / o:.2f}x |", flush=True)
    if ratios:
        print(f"geometric mean speed-up: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}x")


if __name__ == "__main__":
    main()
