"""The paper's Figures 2 and 3 from any checkpoint of a run.

    python experiments/paper_figures.py RUN OUT_DIR [--seed SEED]

Figure 2: 24 random (not cherry-picked) samples, each beside its nearest training image (L2 over
all 50,000). Figure 3: 6 straight lines in z space, 10 points each. Written as
OUT_DIR/figure2.png and OUT_DIR/figure3.png, by :func:`gantheory.mnist.figures.paper_figures`,
the function a run calls at its end: with the run's own seed (the default) they are the run's
figures.
"""

import argparse
from pathlib import Path

import torch

from gantheory.mnist import load
from gantheory.mnist.figures import paper_figures
from gantheory.mnist.generate import load_generator
from gantheory.plotting import save_figure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, help="noise seed (default: the run's own seed)")
    args = ap.parse_args()
    G, cfg, info = load_generator(args.run)
    train = load().train.x(torch.float32)
    fig2, fig3 = paper_figures(G, cfg, train, cfg.seed if args.seed is None else args.seed)
    out = Path(args.out)
    print(save_figure(fig2, out / "figure2.png"))
    print(save_figure(fig3, out / "figure3.png"))
    print(f"from {info['checkpoint']} (epoch {info['epoch']})")


if __name__ == "__main__":
    main()
