"""Two builds of `upscale-bench` on the same network, interleaved: what a build setting costs.

Starts `upscale-bench net --serve` from each build on the same float32 input, then runs rounds of
single calls in the order A B B A (the next round B A A B), so that both builds see the same load of
a shared machine. Prints per build the median wall and CPU seconds per call, and the paired view:
the median over rounds of B's time over A's in the same round, and in how many rounds A was faster.

    swift build -c release --product upscale-bench --scratch-path /tmp/native
    UPSCALE_PORTABLE=1 swift build -c release --product upscale-bench --scratch-path /tmp/portable
    python3 benchmarks/paired_builds.py /tmp/native/release/upscale-bench /tmp/portable/release/upscale-bench \\
        --model models/x2.bin --size 1080x1920 --rounds 7

Needs only the Python standard library.
"""
import argparse
import os
import random
import statistics
import struct
import subprocess
import tempfile


class Server:
    """One `upscale-bench net --serve` process: "run" times one call of the network."""

    def __init__(self, bench, model, input_path, size, threads):
        self.proc = subprocess.Popen([bench, "net", "--serve", "--model", model, "--input", input_path,
                                      "--size", size, "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"{bench} net did not start (said {line!r})")

    def run(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        wall, cpu = self.proc.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench_a", help="upscale-bench of build A (the reference)")
    parser.add_argument("bench_b", help="upscale-bench of build B")
    parser.add_argument("--model", required=True, help="weights file")
    parser.add_argument("--size", default="1080x1920", help="network input HxW")
    parser.add_argument("--channels", type=int, default=1, help="the model's input channels (1 for the built-in y models)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of A B B A (or B A A B)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    rng = random.Random(0)
    count = args.channels * height * width
    with tempfile.NamedTemporaryFile(suffix=".f32", delete=False) as f:
        f.write(struct.pack(f"<{count}f", *(rng.random() for _ in range(count))))
        input_path = f.name
    try:
        a = Server(args.bench_a, args.model, input_path, args.size, args.threads)
        b = Server(args.bench_b, args.model, input_path, args.size, args.threads)
        times = {"A": [], "B": []}
        ratios = []
        for r in range(args.rounds):
            order = "ABBA" if r % 2 == 0 else "BAAB"
            round_times = {"A": [], "B": []}
            for name in order:
                round_times[name].append((a if name == "A" else b).run())
            for name in "AB":
                times[name] += round_times[name]
            wall = {name: statistics.mean(t[0] for t in round_times[name]) for name in "AB"}
            ratios.append(wall["B"] / wall["A"])
        a.close()
        b.close()
    finally:
        os.unlink(input_path)
    print(f"{args.model}, input {args.size}, {args.threads} threads, {args.rounds} rounds "
          f"(ABBA/BAAB), load average {os.getloadavg()[0]:.2f}")
    for name, bench in (("A", args.bench_a), ("B", args.bench_b)):
        walls, cpus = [t[0] for t in times[name]], [t[1] for t in times[name]]
        print(f"  {name} {bench}: median {statistics.median(walls):.3f} s wall, "
              f"{statistics.median(cpus):.3f} s CPU, min {min(walls):.3f} s over {len(walls)} calls")
    faster = sum(1 for ratio in ratios if ratio > 1)
    print(f"  B / A per round: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); A faster in {faster} of {len(ratios)} rounds")


if __name__ == "__main__":
    main()
