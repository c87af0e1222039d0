"""The paper's Figure 1 from a real run: train a 1-D GAN with z ~ U and draw its four states.

    python experiments/figure1.py [--out DIR] [--seed N] [--smoke]

Writes DIR/figure1.png and DIR/figure1.svg (default DIR: figures/) and prints one JSON line
with the step and the estimated JSD of each panel. ``--smoke`` runs a few dozen steps (seconds;
the picture is then far from converged) so tests and CI can exercise the whole path. The states
and the density estimate are described in :mod:`gantheory.figure1`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

from gantheory.figure1 import SMOKE, Figure1Config, figure1_states
from gantheory.plotting import plot_figure1, save_figure


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="figures", help="output folder (default: figures/)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--smoke", action="store_true", help="a few dozen steps, for tests")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # tiny tensors: one thread is fastest (see docs/benchmarks.md)
    cfg = dataclasses.replace(SMOKE if args.smoke else Figure1Config(), seed=args.seed)
    out = figure1_states(cfg)
    fig = plot_figure1(out["xs"], out["p_data"], out["panels"],
                       title=f"Figure 1 from a real run: p_data = {cfg.p_data}, z ~ U(-sqrt 3, "
                             f"sqrt 3), {cfg.generator} G, MLP D, seed {cfg.seed}; p_g "
                             f"{out['p_g_method'].split(':')[0]}")
    d = Path(args.out)
    paths = [save_figure(fig, d / "figure1.png")]
    fig = plot_figure1(out["xs"], out["p_data"], out["panels"])
    paths.append(save_figure(fig, d / "figure1.svg"))
    print(json.dumps({"figures": paths, "panels": [{"title": p["title"], "step": p["step"],
                                                    "jsd": p["jsd"]}
                                                   for p in out["panels"]],
                      "p_g": out["p_g_method"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
