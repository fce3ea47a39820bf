"""Benchmark of starting and stopping a lab; prints medians measured in one run.

    python bench/lab_start.py [--rounds 5]

Each round runs the real command line, `gitops-lab up` (which returns once every component is healthy) and then
`gitops-lab down`, on a sandbox lab in a fresh directory. The first round of a directory also seeds its Git
repositories, so rounds alternate between a fresh directory and a reused one and both are reported.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time


def gitops_lab(lab_dir: pathlib.Path, *args: str) -> float:
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gitops_lab.cli", "--lab-dir", str(lab_dir), *args],
                            capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"gitops-lab {' '.join(args)} failed: {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-lab-"))
    fresh_up, reused_up, downs = [], [], []
    for i in range(args.rounds):
        lab_dir = root / f"lab-{i}"
        fresh_up.append(gitops_lab(lab_dir, "up"))
        downs.append(gitops_lab(lab_dir, "down"))
        reused_up.append(gitops_lab(lab_dir, "up"))
        downs.append(gitops_lab(lab_dir, "down"))
    print(f"lab start/stop benchmark, sandbox cluster, medians of {args.rounds} (this machine, one run)")
    print(f"  up -> healthy, new lab directory (seeds repos): {statistics.median(fresh_up) * 1000:7.0f} ms")
    print(f"  up -> healthy, existing lab directory:          {statistics.median(reused_up) * 1000:7.0f} ms"
          "   (goal < 2000 ms)")
    print(f"  down (every process gone, ports freed):         {statistics.median(downs) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
