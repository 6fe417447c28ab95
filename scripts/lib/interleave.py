#!/usr/bin/env python3
"""Interleaved timing for scripts/bench: medians of wall time and peak memory.

    interleave.py RUNS WARMUP NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]

Each round runs every benchmark once, in the order given: its PREPARE (through `sh -c`,
not timed; "" for none), then its COMMAND (split like a shell would, run without a shell,
stdout and stderr discarded, any exit status accepted). WARMUP rounds come first and are
not counted, then RUNS rounds. Interleaving the benchmarks round by round means a burst of
load from elsewhere on the machine lands on all of them alike instead of on one.

Prints one line per benchmark: NAME, then the median, lowest and highest wall time in ms,
then the median peak resident set size in KB (from wait4, per process).
"""

import os
import shlex
import statistics
import subprocess
import sys
import time


def run(argv):
    start = time.perf_counter_ns()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter_ns() - start
    child.returncode = 0  # reaped by wait4
    return elapsed / 1e6, usage.ru_maxrss


def main():
    runs, warmup = int(sys.argv[1]), int(sys.argv[2])
    spec = sys.argv[3:]
    if not spec or len(spec) % 3:
        sys.exit(__doc__)
    benches = [(spec[i], spec[i + 1], shlex.split(spec[i + 2])) for i in range(0, len(spec), 3)]
    times = {name: [] for name, _, _ in benches}
    peaks = {name: [] for name, _, _ in benches}
    for round_ in range(warmup + runs):
        for name, prepare, argv in benches:
            if prepare:
                subprocess.run(["sh", "-c", prepare], check=True, stdout=subprocess.DEVNULL)
            elapsed, peak = run(argv)
            if round_ >= warmup:
                times[name].append(elapsed)
                peaks[name].append(peak)
    for name, _, _ in benches:
        t = times[name]
        print(name, f"{statistics.median(t):.1f}", f"{min(t):.1f}", f"{max(t):.1f}",
              int(statistics.median(peaks[name])))


if __name__ == "__main__":
    main()
