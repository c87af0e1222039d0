"""Benchmark: loading MNIST from the toolkit's cache (the path every training and evaluation run
takes after the first download).

    python benchmarks/bench_mnist_load.py [--repeats 5]

Loads once (fetching into the default cache if needed), then times ``load(sources=("cache",))``
``--repeats`` times and prints one JSON object with the median and the range, in seconds. It
checks that every cached load equals the first (exit status 1 otherwise). The time depends on the
machine and its load: 0.12 s on a 2-core CPU, 2.9 s on the same machine busy with other jobs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import torch


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    from gantheory.mnist import load

    first = load()
    times, same = [], True
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        again = load(sources=("cache",))
        times.append(time.perf_counter() - t0)
        same &= all(torch.equal(getattr(again, s).x_u8, getattr(first, s).x_u8)
                    for s in ("train", "valid", "test"))
    print(json.dumps({"benchmark": "mnist_cached_load", "repeats": args.repeats,
                      "median_s": statistics.median(times), "min_s": min(times),
                      "max_s": max(times), "same_as_first": same,
                      "machine": platform.processor() or platform.machine(),
                      "torch": torch.__version__}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
