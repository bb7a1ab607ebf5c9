"""End to end against the network alone (issue 28): CPU and wall seconds of `upscale` on a 1080p
input for each built-in scale and each output path (PNG file, JPEG file, stdin → stdout), for one
or two builds alternated run by run, beside the network-only time of the same models.

  network  `upscale-bench net` on the image's luma (the y models' input), the CLI's tile, 2 threads:
           one process per round of CLI runs (interleaved with them), the median of its 2 timed
           runs' CPU and wall (process start and model load not included); median over the rounds
  cli      `/usr/bin/time` of the whole `upscale` process (start, model load, decode, colour,
           network, encode, atomic commit onto a new name): median user + system, and median wall

CPU seconds (all threads) are what a shared, loaded machine moves least; they are the ratios' basis.

usage: [E2E_SCALES="2 3 4"] e2e_ratios.py INPUT.png Y.raw HxW REPS NAME=BIN_DIR [NAME=BIN_DIR]
  BIN_DIR holds `upscale` and `upscale-bench`; Y.raw is the input's luma, (1, 1, H, W) float32.
"""
import os
import statistics
import subprocess
import sys
import tempfile


def timed(cmd, stdin=None, stdout=None):
    """(user + system, wall) seconds of one run of cmd, from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%U %S %e"] + cmd, stdin=stdin, stdout=stdout,
                       stderr=subprocess.DEVNULL, check=True)
        user, system, wall = map(float, report.read().split()[-3:])
    return user + system, wall


def network(bench, models, scale, raw, size, reps):
    """Median (CPU, wall) seconds of the network alone, through `upscale-bench net --serve`."""
    out = subprocess.run([bench, "net", "--serve", "--model", f"{models}/x{scale}.bin", "--input", raw, "--size", size,
                          "--threads", "2"], input="run\n" * reps + "quit\n", capture_output=True, text=True,
                         check=True).stdout.split("\n")
    runs = [tuple(map(float, line.split())) for line in out if len(line.split()) == 2]
    return statistics.median(r[1] for r in runs), statistics.median(r[0] for r in runs)


def main():
    image, raw, size, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    builds = [arg.split("=", 1) for arg in sys.argv[5:]]
    models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")
    work = tempfile.mkdtemp()
    for scale in [int(s) for s in os.environ.get("E2E_SCALES", "2 3 4").split()]:
        print(f"== x{scale}")
        networks = []
        for path in ("png", "jpg", "stdin"):
            results = {name: [] for name, _ in builds}
            for _ in range(reps):
                # The network beside each round of CLI runs, so that both see the same load.
                networks.append(network(os.path.join(builds[0][1], "upscale-bench"), models, scale, raw, size, 2))
                for name, folder in builds:
                    bin = os.path.join(folder, "upscale")
                    if path == "stdin":
                        # stdout into a new file too: truncating the last run's 39 MB x4 output cost
                        # the next run ~0.1 CPU s and ~0.06 s wall at x4 (ext4, measured 21:15 UTC).
                        if os.path.exists(f"{work}/out.png"):
                            os.remove(f"{work}/out.png")
                        with open(image, "rb") as src, open(f"{work}/out.png", "wb") as dst:
                            results[name].append(timed([bin, "-", "-s", str(scale), "-f", "png", "--quiet", "-j", "2"],
                                                       stdin=src, stdout=dst))
                    else:
                        # A new file, as a user's first run writes: replacing the last run's output
                        # would add ext4 freeing its blocks inside rename (6-24 ms at x4), a cost of
                        # this loop, not of the tool (BENCHMARKS.md, issue 28, wall2).
                        if os.path.exists(f"{work}/out.{path}"):
                            os.remove(f"{work}/out.{path}")
                        results[name].append(timed([bin, image, "-s", str(scale), "-o", f"{work}/out.{path}",
                                                    "--overwrite", "--quiet", "-j", "2"]))
            for name, runs in results.items():
                cpu = statistics.median(r[0] for r in runs)
                wall = statistics.median(r[1] for r in runs)
                print(f"x{scale} {path:5} {name:8} cpu {cpu:.3f} s  wall {wall:.3f} s  runs {' '.join(f'{r[0]:.2f}' for r in runs)}")
        cpu, wall = statistics.median(n[0] for n in networks), statistics.median(n[1] for n in networks)
        print(f"x{scale} network cpu {cpu:.3f} s  wall {wall:.3f} s  runs {' '.join(f'{n[0]:.2f}' for n in networks)}")
    with open("/proc/loadavg") as f:
        print("load average", f.read().strip())


if __name__ == "__main__":
    main()
