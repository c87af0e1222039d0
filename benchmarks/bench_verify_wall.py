"""Wall time of the CLI claims as a user runs them, torch import included.

    python benchmarks/bench_verify_wall.py [--claims optimal_d global_optimum symbolic] [--repeat 3]

Each claim runs as a fresh `python -m gantheory.verify CLAIM` process, with 1 and with 2 torch
intra-op threads side by side (GANTHEORY_THREADS), so the default of 1 thread is a measured
choice. Prints one JSON object per (claim, threads) with the best and median wall times, and the
machine's load average at the start and end: on a shared machine, read times with that in mind.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def wall(claim: str, threads: int) -> float:
    env = dict(os.environ, GANTHEORY_THREADS=str(threads))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gantheory.verify", claim], env=env,
                          capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{claim} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", nargs="+", default=["optimal_d"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    args = ap.parse_args()
    load0 = os.getloadavg()
    for claim in args.claims:
        times = {t: [] for t in args.threads}
        for _ in range(args.repeat):  # interleave so drifting load hits both settings alike
            for t in args.threads:
                times[t].append(wall(claim, t))
        for t, ts in times.items():
            print(json.dumps({"claim": claim, "threads": t, "best_s": round(min(ts), 2),
                              "median_s": round(statistics.median(ts), 2), "runs": len(ts),
                              "cpus": os.cpu_count(), "machine": platform.machine(),
                              "load_avg_start": round(load0[0], 2),
                              "load_avg_end": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
