"""Idle core time of one `upscale` run, from the scheduler's events (issue 28: the wall-time gap
between the CLI and the network alone is cores left idle, not work). Records `perf record -a` of
sched_switch / sched_wakeup / sched_wakeup_new / sched_process_exec / sched_process_exit around the
command; a thread of the process counts as busy from its wakeup (or creation) until it blocks,
whether it runs or waits for a CPU, so other load on the machine stretches the run but is not
counted as this run's idleness. Prints, per run, the span exec → last exit and
idle = ∫ max(0, CORES − busy threads) dt over it (core-seconds); the median over REPS.

Needs perf and the rights to record system-wide (root, or perf_event_paranoid ≤ 0).
usage: idle_cores.py CORES REPS [--stdin FILE] -- UPSCALE_COMMAND...
  (--stdin: the command reads FILE on stdin and its stdout goes to a temporary file)
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile


def one(cores, cmd, stdin_path):
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "perf.data")
        stdin = open(stdin_path, "rb") if stdin_path else None
        stdout = open(os.path.join(work, "out"), "wb") if stdin_path else subprocess.DEVNULL
        subprocess.run(["perf", "record", "-q", "-a", "-o", data, "-e", "sched:sched_switch", "-e", "sched:sched_wakeup",
                        "-e", "sched:sched_wakeup_new", "-e", "sched:sched_process_exec", "-e", "sched:sched_process_exit",
                        "--"] + cmd, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
        out = subprocess.run(["perf", "script", "-i", data, "-F", "pid,tid,time,event,trace"], capture_output=True,
                             text=True).stdout
    events = []
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)", line)
        if m:
            events.append((float(m.group(3)), int(m.group(1)), int(m.group(2)), m.group(4), m.group(5)))
    events.sort()
    exe = next(e for e in events if e[3] == "sched:sched_process_exec" and os.path.basename(cmd[0]) in e[4])
    pid, start = exe[1], exe[0]
    ours, busy = {pid}, {pid}
    last, end, idle = start, start, 0.0
    for t, epid, etid, event, rest in events:
        if t < start:
            continue
        idle += max(0, cores - len(busy)) * (t - last)
        last = t
        if event in ("sched:sched_wakeup", "sched:sched_wakeup_new"):
            target = int(re.search(r"pid=(\d+)", rest).group(1))
            if event == "sched:sched_wakeup_new" and (epid == pid or etid in ours):
                ours.add(target)
            if target in ours:
                busy.add(target)
        elif event == "sched:sched_switch":
            m = re.search(r"prev_pid=(\d+).*prev_state=(\S+) ==> .*next_pid=(\d+)", rest)
            prev, state, nxt = int(m.group(1)), m.group(2), int(m.group(3))
            if prev in ours and not state.startswith("R"):
                busy.discard(prev)
            if nxt in ours:
                busy.add(nxt)
        elif event == "sched:sched_process_exit" and etid in ours:
            busy.discard(etid)
            end = t
    return end - start, idle


def main():
    args = sys.argv[1:]
    cores, reps = int(args[0]), int(args[1])
    rest = args[2:]
    stdin_path = None
    if rest and rest[0] == "--stdin":
        stdin_path, rest = rest[1], rest[2:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    runs = [one(cores, rest, stdin_path) for _ in range(reps)]
    print(f"span {statistics.median(r[0] for r in runs):.3f} s  idle {statistics.median(r[1] for r in runs):.3f} core-s"
          f"  runs {' '.join(f'{r[1]:.3f}' for r in runs)}  ({' '.join(rest)})")


if __name__ == "__main__":
    main()
