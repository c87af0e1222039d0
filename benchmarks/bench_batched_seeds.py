"""Benchmark: S seeds of 1-D GAN training batched in one program vs a Python loop of single runs.

Times :func:`gantheory.oned.train.train_1d` on the MLP-generator preset of the saturation study
(:data:`gantheory.claims.saturation.MLP_PRESET`: G 1 -> 16 -> 16 -> 1 ReLU, D 1 -> 16 -> 16 -> 1
ReLU, batch 64, SGD; the non-saturating arm), once with all seeds batched and once as one run per
seed, and checks that every single run equals its slice of the batched run (to 1e-6). Run from
the repository root (after ``pip install -e .``, or with ``PYTHONPATH=.``)::

    python benchmarks/bench_batched_seeds.py                  # 256 seeds, all timed, minutes
    python benchmarks/bench_batched_seeds.py --loop-seeds 32  # loop timed on 32, extrapolated
    python benchmarks/bench_batched_seeds.py --quick          # seconds, to check it runs

Both sides run on one intra-op thread (``--threads``), the setting ``verify`` uses. The
machine's load average is printed before and after: on a shared machine the ratio is only as
good as the load was steady. The last line of stdout is one JSON object; exit status 1 if a single
run differs from its batched slice.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time

import torch

from gantheory.claims.saturation import MLP_PRESET, train_config
from gantheory.oned.train import train_1d
from machine import cpu_capability, cpu_name

SAME_TOL = 1e-6  # batched vs single runs, generous (float64 agrees to ~1e-15 in practice)
TARGET_RATIO = 20.0


def load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=256)
    ap.add_argument("--loop-seeds", type=int, default=None,
                    help="time the loop on the first N seeds only and extrapolate (stated)")
    ap.add_argument("--steps", type=int, default=200, help="G steps per run")
    ap.add_argument("--d-pretrain", type=int, default=100, help="D-only steps first")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for the loop of single runs (tiny ops: 1 is fastest)")
    ap.add_argument("--batched-threads", type=int, default=os.cpu_count(),
                    help="torch threads for the batched program (default: every core); a "
                         "vectorised program may use the whole machine")
    ap.add_argument("--quick", action="store_true", help="16 seeds, 20 steps")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.steps, args.d_pretrain = 16, 20, 5
    torch.set_num_threads(args.threads)
    cfg = dataclasses.replace(train_config(MLP_PRESET, "non_saturating"), steps=args.steps,
                              d_pretrain=args.d_pretrain, record_every=max(args.steps, 1))
    seeds = list(range(args.seeds))
    loop_seeds = seeds[: args.loop_seeds] if args.loop_seeds else seeds
    load_before = load()
    print(f"cpu: {cpu_name()} ({os.cpu_count()} logical), torch {torch.__version__}, "
          f"{args.threads} thread(s); load average before {load_before}", flush=True)
    train_1d(cfg, seeds[:2])  # warm-up: imports, allocator, first-call dispatch

    bt = args.batched_threads or args.threads
    torch.set_num_threads(bt)
    t0 = time.perf_counter()
    batched = train_1d(cfg, seeds)
    t_batched = time.perf_counter() - t0
    torch.set_num_threads(args.threads)
    print(f"batched: {len(seeds)} seeds in {t_batched:.2f} s", flush=True)

    worst = 0.0
    t0 = time.perf_counter()
    singles = []
    for s in loop_seeds:
        singles.append(train_1d(cfg, [s]))
    t_loop_measured = time.perf_counter() - t0
    for i, single in enumerate(singles):
        for (key, pb), ps in zip(batched.G.state_dict().items(), single.G.state_dict().values()):
            worst = max(worst, float((pb[i] - ps[0]).abs().max()))
    t_loop = t_loop_measured * len(seeds) / len(loop_seeds)
    extrapolated = len(loop_seeds) < len(seeds)
    print(f"loop: {len(loop_seeds)} single runs in {t_loop_measured:.2f} s"
          + (f", extrapolated to {len(seeds)} seeds: {t_loop:.1f} s" if extrapolated else ""),
          flush=True)
    ratio = t_loop / t_batched
    load_after = load()
    print(f"ratio loop / batched = {ratio:.1f}x (target >= {TARGET_RATIO:g}x); max |batched - "
          f"single| over G's weights {worst:.1e}; load average after {load_after}")
    result = {"benchmark": "batched_seeds", "seeds": len(seeds),
              "loop_seeds_timed": len(loop_seeds),
              "loop_extrapolated": extrapolated, "steps": args.steps, "d_pretrain": args.d_pretrain,
              "config": "saturation MLP_PRESET, non_saturating arm", "threads": args.threads, "batched_threads": bt,
              "batched_s": round(t_batched, 3), "loop_s": round(t_loop, 3),
              "loop_measured_s": round(t_loop_measured, 3), "ratio": round(ratio, 2),
              "target_ratio": TARGET_RATIO, "max_abs_diff": worst, "cpu": cpu_name(),
              "cpu_capability": cpu_capability(),
              "load_before": load_before, "load_after": load_after,
              "python": platform.python_version()}
    print(json.dumps(result))
    return 0 if worst <= SAME_TOL else 1


if __name__ == "__main__":
    sys.exit(main())
