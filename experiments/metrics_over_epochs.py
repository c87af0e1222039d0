"""The MNIST-native metrics of every generator snapshot a run kept, against epochs.

    python experiments/metrics_over_epochs.py RUN_DIR [--plot docs/img/reproduction_metrics.png]
                                              [--every 100]

Reads the snapshots ``RUN_DIR/snapshots/G-epoch-NNNN.pt`` that experiments/track_parzen.py keeps
(the generator's weights only; the architecture comes from the run's newest checkpoint), scores
10,000 samples of each (noise seed 0) with :func:`gantheory.metrics.mnist_metrics.mnist_metrics`
and appends one JSON row per epoch to ``RUN_DIR/metrics_by_epoch.jsonl``; epochs already there are
skipped, so it can be rerun as the run goes on. ``--every N`` scores only the snapshots of epochs
that are multiples of N (a long run keeps one every 25 epochs; docs/reproduction.md scores every
100th after epoch 400). ``--plot`` draws the Frechet distance (with its real-vs-real floor), the
class KL and the median nearest-training-image distance against epochs.
"""

import argparse
import json
import re
from pathlib import Path

import torch

from gantheory.metrics.classifier import get_classifier
from gantheory.metrics.mnist_metrics import mnist_metrics, real_reference
from gantheory.mnist import load
from gantheory.mnist.generate import load_generator, sample


def plot(rows: list[dict], out: str) -> str:
    from gantheory.plotting import save_figure, subplots

    ep = [r["epoch"] for r in rows]
    fig, axes = subplots(1, 3, figsize=(11, 3.2))
    axes[0].plot(ep, [r["frechet_distance_classifier"] for r in rows], marker="o", ms=3, label="G")
    axes[0].axhline(rows[0]["fd_floor_train_vs_test"], ls=":", color="k",
                    label="floor: test vs train images")
    axes[0].set_yscale("log")
    axes[0].set_title("Frechet distance (classifier features)", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].plot(ep, [r["class_kl_to_data"] for r in rows], marker="o", ms=3)
    axes[1].set_title("KL(sample classes || data classes)", fontsize=9)
    axes[2].plot(ep, [r["nn_dist_median"] for r in rows], marker="o", ms=3, label="G's samples")
    axes[2].axhline(rows[0]["nn_dist_test_reference_median"], ls=":", color="k",
                    label="test images")
    axes[2].set_title("median distance to nearest training image", fontsize=9)
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("epoch")
    fig.tight_layout()
    return save_figure(fig, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--plot", metavar="FILE")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--every", type=int, default=1, metavar="N",
                    help="only the snapshots of epochs that are multiples of N (default: all)")
    args = ap.parse_args()
    if args.every < 1:
        ap.error(f"--every must be a positive integer, got {args.every}")
    torch.set_num_threads(args.threads)
    run = Path(args.run)
    log = run / "metrics_by_epoch.jsonl"
    rows = [json.loads(s) for s in log.read_text().splitlines()] if log.exists() else []
    done = {r["epoch"] for r in rows}
    snaps = sorted((int(re.search(r"(\d+)", p.stem).group(1)), p)
                   for p in (run / "snapshots").glob("G-epoch-*.pt"))
    todo = [(e, p) for e, p in snaps if e not in done and e % args.every == 0]
    if todo:
        G, cfg, _ = load_generator(run)
        data = load()
        clf = get_classifier(data)
        ref = real_reference(data, clf)
        for epoch, path in todo:
            G.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            m = mnist_metrics(sample(G, cfg, 10_000, seed=0), data, clf, reference=ref)
            row = {"epoch": epoch, **m}
            rows.append(row)
            with log.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"epoch {epoch}: FD {m['frechet_distance_classifier']:.2f}, "
                  f"KL {m['class_kl_to_data']:.4f}, classes {m['classes_covered']}, "
                  f"NN median {m['nn_dist_median']:.2f}", flush=True)
    rows.sort(key=lambda r: r["epoch"])
    if args.plot and rows:
        print(plot(rows, args.plot))


if __name__ == "__main__":
    main()
