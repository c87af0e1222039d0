"""Plot a run's Parzen log-likelihood against epochs beside the paper's Table 1.

    python experiments/reproduction_plot.py RUN_DIR docs/reproduction_parzen.png

Reads RUN_DIR/parzen.jsonl (written by experiments/track_parzen.py) and RUN_DIR/metrics.jsonl
(the trainer's log), draws the test log-likelihood with its standard error, Table 1's values for
MNIST, and the epoch-mean D(x) and D(G(z)) on a second axis. Prints a Markdown table of the
Parzen figures beside the MNIST-native metrics of the same epochs where
experiments/metrics_over_epochs.py has written them (RUN_DIR/metrics_by_epoch.jsonl).
"""

import json
import sys
from pathlib import Path

from gantheory.plotting import save_figure, subplots

TABLE1_MNIST = {"DBN": (138, 2), "Stacked CAE": (121, 1.6), "Deep GSN": (214, 1.1),
                "Adversarial nets": (225, 2)}


def main(run: str, out: str) -> None:
    run = Path(run)
    rows = [json.loads(s) for s in (run / "parzen.jsonl").read_text().splitlines()]
    epochs = [r for r in (json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines())
              if r.get("kind") == "epoch"]
    fig, (ax, ax2) = subplots(2, 1, figsize=(7, 6), sharex=True,
                                  gridspec_kw={"height_ratios": [2, 1]})
    ax.errorbar([r["epoch"] for r in rows], [r["mean_ll"] for r in rows],
                yerr=[r["stderr"] for r in rows], marker="o", ms=3, label="this run (test set)")
    for name, (v, _) in TABLE1_MNIST.items():
        ax.axhline(v, ls=":", lw=1, color="k" if name == "Adversarial nets" else "grey")
        ax.text(0, v + 2, f"Table 1: {name} {v}", fontsize=7)
    ax.set_ylabel("Parzen log-likelihood (nats)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("paper preset (simultaneous updates), CPU", fontsize=10)
    ax2.plot([e["epoch"] for e in epochs], [e["d_real"] for e in epochs], label="mean D(x)")
    ax2.plot([e["epoch"] for e in epochs], [e["d_fake"] for e in epochs], label="mean D(G(z))")
    ax2.set_xlabel("epoch")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    print(save_figure(fig, out))
    print_table(run, rows, {e["epoch"]: e for e in epochs})


def print_table(run: Path, rows: list[dict], epochs: dict[int, dict]) -> None:
    path = run / "metrics_by_epoch.jsonl"
    metrics = {m["epoch"]: m for m in (json.loads(s) for s in path.read_text().splitlines())} \
        if path.exists() else {}
    print("| epoch | Parzen LL (test) | sigma | FD | class KL | classes | NN median | D(x) | D(G(z)) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        m, e = metrics.get(r["epoch"]), epochs.get(r["epoch"], {})
        cells = ([f"{m['frechet_distance_classifier']:.1f}", f"{m['class_kl_to_data']:.3f}",
                  str(m["classes_covered"]), f"{m['nn_dist_median']:.2f}"] if m else [""] * 4)
        dx = [f"{e[k]:.3f}" for k in ("d_real", "d_fake")] if e else ["", ""]
        print(f"| {r['epoch']} | {r['mean_ll']:.1f} +- {r['stderr']:.1f} | {r['sigma']:.3f} | "
              + " | ".join(cells + dx) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
