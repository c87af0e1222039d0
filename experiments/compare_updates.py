"""Update order and generator loss at a fixed budget: the paper preset's four variants, same metrics.

    python experiments/compare_updates.py OUT_DIR [--epochs 8] [--seeds 0 1] [--threads 1]

Trains ``simultaneous`` / ``alternating`` (k = 1) x ``non_saturating`` / ``minimax`` for the same
number of epochs (with k = 1 both orders take the same number of D and G updates on the same data
order), each through the ``gantheory train mnist`` CLI into OUT_DIR/<variant>-s<seed>, then scores
the final generator with the Parzen protocol and the MNIST-native metrics. Rows are appended to
OUT_DIR/compare.jsonl as they finish, so an interrupted comparison resumes where it stopped
(finished runs are not retrained), and a Markdown table is printed at the end. Run it again with
a larger ``--epochs`` to extend every run to the new budget (each resumes from its checkpoint);
the rows of every budget stay in the table. ``--plot FILE``
draws each run's D(x) and D(G(z)) against training steps (from its metrics log), and beside it
(FILE with ``_samples`` added to its stem) 40 samples of each variant's first seed.

The learning-rate and momentum schedules are the paper's (momentum saturates at epoch 250 whatever
``--epochs`` is), so every variant sees the first epochs of the 250-epoch schedule.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from gantheory.metrics.classifier import get_classifier
from gantheory.metrics.mnist_metrics import mnist_metrics, real_reference
from gantheory.metrics.parzen import parzen_protocol
from gantheory.mnist import load
from gantheory.mnist.generate import load_generator, sample

VARIANTS = [(u, loss) for loss in ("non_saturating", "minimax")
            for u in ("simultaneous", "alternating")]


def train(run: Path, update: str, loss: str, seed: int, epochs: int, threads: int) -> float:
    """Train (or finish) one variant; returns the training wall time of this call in seconds."""
    cmd = [sys.executable, "-m", "gantheory.mnist.cli", "--preset", "paper", "--out", str(run),
           "--epochs", str(epochs), "--update", update, "--loss", loss, "--seed", str(seed),
           "--no-progress", "--set", f"threads={threads}", "--set", "sample_every=0",
           "--set", "figures=false"]
    if (run / "run.json").exists():
        cmd.append("--resume")
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def last_epoch_means(run: Path) -> dict:
    rows = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in rows if r.get("kind") == "epoch"][-1]
    return {k: last[k] for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in last}


def plot(out: Path, rows: list[dict], file: str) -> str:
    from gantheory.plotting import save_figure, subplots

    fig, axes = subplots(1, 2, figsize=(10, 3.4), sharey=True)
    colors = dict(zip(VARIANTS, ("C0", "C1", "C2", "C3")))
    for r in rows:
        run = out / f"{r['update']}-{r['loss']}-s{r['seed']}"
        log = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
        log = [e for e in log if e.get("kind") == "log"]
        style = dict(color=colors[(r["update"], r["loss"])], lw=1,
                     ls="-" if r["seed"] == min(x["seed"] for x in rows) else "--")
        label = f"{r['update']}, {r['loss']}" if style["ls"] == "-" else None
        for ax, key in zip(axes, ("d_real", "d_fake")):
            ax.plot([e["step"] for e in log], [e[key] for e in log], label=label, **style)
    axes[0].set_title("mean D(x), every 50 steps", fontsize=9)
    axes[1].set_title("mean D(G(z)), every 50 steps", fontsize=9)
    for ax in axes:
        ax.set_xlabel("step")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    paths = [save_figure(fig, file)]
    from gantheory.mnist.figures import tile

    seed = min(r["seed"] for r in rows)
    fig, axes = subplots(1, len(VARIANTS), figsize=(3.2 * len(VARIANTS), 2.0))
    for ax, (update, loss) in zip(axes, VARIANTS):
        G, cfg, info = load_generator(out / f"{update}-{loss}-s{seed}")
        ax.imshow(tile(sample(G, cfg, 40, seed=1), 4, 10), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{update}, {loss} (epoch {info['epoch']})", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    path = Path(file)
    paths.append(save_figure(fig, path.with_name(path.stem + "_samples" + path.suffix)))
    return "\n".join(paths)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--plot", metavar="FILE")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "compare.jsonl"
    done = {(r["update"], r["loss"], r["seed"], r["epoch"]) for r in
            (json.loads(s) for s in log.read_text().splitlines())} if log.exists() else set()
    data = load()
    clf = get_classifier(data)
    ref = real_reference(data, clf)
    valid, test = data.valid.x(torch.float64), data.test.x(torch.float64)
    for seed in args.seeds:
        for update, loss in VARIANTS:
            if (update, loss, seed, args.epochs) in done:
                continue
            run = out / f"{update}-{loss}-s{seed}"
            wall = train(run, update, loss, seed, args.epochs, args.threads)
            G, cfg, info = load_generator(run)
            x = sample(G, cfg, 10_000, seed=0)
            pz = parzen_protocol(x.double(), valid, test)
            m = mnist_metrics(x, data, clf, reference=ref)
            row = {"update": update, "loss": loss, "seed": seed, "epoch": info["epoch"],
                   "step": info["step"], "train_wall_s": round(wall, 1),
                   "parzen": pz.mean_ll, "parzen_stderr": pz.stderr, "sigma": pz.sigma,
                   "fd": m["frechet_distance_classifier"],
                   "fd_floor": m["fd_floor_train_vs_test"], "kl_classes": m["class_kl_to_data"],
                   "classes_covered": m["classes_covered"], "nn_median": m["nn_dist_median"],
                   **last_epoch_means(run)}
            with log.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    rows = [json.loads(s) for s in log.read_text().splitlines()]
    print("| epochs | update | loss | seed | Parzen LL | FD | classes | KL | NN median | D(x) | "
          "D(G(z)) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['epoch']} | {r['update']} | {r['loss']} | {r['seed']} | {r['parzen']:.1f} +- "
              f"{r['parzen_stderr']:.1f} | {r['fd']:.1f} | {r['classes_covered']} | "
              f"{r['kl_classes']:.3f} | {r['nn_median']:.2f} | {r.get('d_real', float('nan')):.3f}"
              f" | {r.get('d_fake', float('nan')):.3f} |")
    if args.plot:
        print(plot(out, [r for r in rows if r["epoch"] == args.epochs], args.plot))


if __name__ == "__main__":
    main()
