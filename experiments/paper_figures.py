"""The paper's Figures 2 and 3 from any checkpoint of a run.

    python experiments/paper_figures.py RUN OUT_DIR [--seed 0]

Figure 2: 24 random (not cherry-picked) samples, each beside its nearest training image (L2 over
all 50,000). Figure 3: 6 straight lines in z space, 10 points each. Written as
OUT_DIR/figure2.png and OUT_DIR/figure3.png.
"""

import argparse
from pathlib import Path

import torch

from gantheory.mnist import load
from gantheory.mnist.figures import figure2, figure3, interpolate, nearest_neighbours
from gantheory.plotting import save_figure
from gantheory.mnist.generate import load_generator, sample
from gantheory.mnist.nets import Shard, draw_z
from gantheory.util.rng import seed_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    G, cfg, info = load_generator(args.run)
    train = load().train.x(torch.float32)
    samples = sample(G, cfg, 24, seed=args.seed)
    idx, _ = nearest_neighbours(samples, train)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(save_figure(figure2(samples, train[idx]), out / "figure2.png"))
    gen = seed_generator(args.seed, "figure3")
    ends = [draw_z(6, cfg.z_dim, cfg.z, gen, Shard(), "cpu") for _ in range(2)]
    with torch.no_grad():
        images = G(interpolate(ends[0], ends[1], 10))
    print(save_figure(figure3(images, 6, 10), out / "figure3.png"))
    print(f"from {info['checkpoint']} (epoch {info['epoch']})")


if __name__ == "__main__":
    main()
