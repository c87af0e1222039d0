"""Plot a run's Parzen log-likelihood against epochs beside the paper's Table 1, with a fit.

    python experiments/reproduction_plot.py RUN_DIR docs/img/reproduction_parzen.png \
        [--earlier docs/data/paper-250-first/parzen.csv[=LABEL] ...] [--fit-from 61] [--title T]

Reads RUN_DIR/parzen.jsonl (written by experiments/track_parzen.py) and RUN_DIR/metrics.jsonl
(the trainer's log), draws the test log-likelihood with its standard error, Table 1's values for
MNIST, and the epoch-mean D(x) and D(G(z)) on a second axis. Prints a Markdown table of the
Parzen figures beside the MNIST-native metrics of the same epochs where
experiments/metrics_over_epochs.py has written them (RUN_DIR/metrics_by_epoch.jsonl).

The fit: least squares of the log-likelihood on log2(epoch) over the evaluations at epochs >=
``--fit-from``, i.e. a constant gain per doubling of the epochs; it prints the slope with its
standard error and the epoch at which the line reaches Table 1's 225 (with the range the slope's
+-1 standard error gives). A line through a curve that is bending over predicts too early: the
fit is a reading of the curve so far, not a forecast of the run. Beside it, a curve that levels
off, ``ll = L - c (epoch/100)^-alpha``, is fitted to the same points (printed, not drawn): its
plateau L with a standard error says whether the data so far can tell a plateau from the line (a
standard error as large as L says they cannot). ``--earlier`` overlays an earlier run's
evaluations (its parzen.jsonl, or a CSV: epoch,mean_ll,stderr,sigma after '#' comment lines;
``=LABEL`` after the path names it in the legend; repeatable).
"""

import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from gantheory.plotting import save_figure, subplots

TABLE1_MNIST = {"DBN": (138, 2), "Stacked CAE": (121, 1.6), "Deep GSN": (214, 1.1),
                "Adversarial nets": (225, 2)}


TABLE1_GAN = 225.0


def log_fit(epochs: np.ndarray, ll: np.ndarray) -> dict:
    """``ll ~ a + b log2(epoch)``: slope per doubling, its standard error, and where it hits 225."""
    x = np.log2(epochs)
    (b, a), cov = np.polyfit(x, ll, 1, cov=True)
    se = float(math.sqrt(cov[0, 0]))
    reach = {k: (2 ** ((TABLE1_GAN - a) / v) if v > 0 else math.inf)
             for k, v in (("fit", b), ("slope_plus_se", b + se), ("slope_minus_se", b - se))}
    return {"a": float(a), "slope_per_doubling": float(b), "slope_se": se, "n": int(len(x)),
            "epochs": [int(epochs.min()), int(epochs.max())], "reaches_225_at_epoch": reach}


def plateau_fit(epochs: np.ndarray, ll: np.ndarray) -> dict:
    """``ll ~ L - c (epoch/100)^-alpha`` (c, alpha > 0): a curve rising to a plateau L.

    Returns L, c, alpha with standard errors, the residual sum of squares beside the log line's,
    and the epoch where the curve reaches 225 (infinite when L <= 225); ``{"error": ...}`` when
    least squares does not converge.
    """
    def curve(e, plateau, c, alpha):
        return plateau - c * (e / 100.0) ** (-alpha)

    try:
        with warnings.catch_warnings():  # a degenerate fit reports infinite errors, below
            warnings.simplefilter("ignore", OptimizeWarning)
            p, cov = curve_fit(curve, epochs, ll, p0=(float(ll.max()) + 20, 50.0, 0.5),
                               bounds=([0.0, 0.0, 1e-3], [1e4, 1e4, 10.0]), maxfev=20000)
    except (RuntimeError, ValueError) as e:
        return {"error": str(e)}
    se = np.sqrt(np.diag(cov))
    plateau, c, alpha = (float(v) for v in p)
    reach = 100.0 * (c / (plateau - TABLE1_GAN)) ** (1 / alpha) if plateau > TABLE1_GAN \
        else math.inf
    line_fit = log_fit(epochs, ll)
    line = line_fit["a"] + line_fit["slope_per_doubling"] * np.log2(epochs)
    return {"plateau": plateau, "plateau_se": float(se[0]), "c": c, "alpha": alpha,
            "alpha_se": float(se[2]), "rss": float(((ll - curve(epochs, *p)) ** 2).sum()),
            "rss_log_line": float(((ll - line) ** 2).sum()), "reaches_225_at_epoch": reach}


def read_evaluations(path: Path) -> np.ndarray:
    """(epoch, mean_ll) rows of a run's evaluations: a parzen.jsonl, or a CSV with the columns
    epoch,mean_ll,... after '#' comment lines and a header."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        rows = [json.loads(s) for s in text.splitlines() if s.strip()]
        return np.array([[r["epoch"], r["mean_ll"]] for r in rows], dtype=float, ndmin=2)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return np.array([[float(v) for v in ln.split(",")[:2]] for ln in lines[1:]], ndmin=2)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("out")
    ap.add_argument("--earlier", action="append", default=[], metavar="CSV[=LABEL]",
                    help="an earlier run's evaluations (parzen.jsonl or CSV), drawn in grey "
                         "(repeatable)")
    ap.add_argument("--mark", action="append", default=[], metavar="EPOCH=LABEL",
                    help="a vertical line at an epoch, e.g. where the run changed device")
    ap.add_argument("--title", default="paper preset (simultaneous updates), CPU")
    ap.add_argument("--fit-from", type=int, default=61)
    args = ap.parse_args(argv)
    run, out = Path(args.run), args.out
    rows = [json.loads(s) for s in (run / "parzen.jsonl").read_text().splitlines()]
    epochs = [r for r in (json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines())
              if r.get("kind") == "epoch"]
    fig, (ax, ax2) = subplots(2, 1, figsize=(7, 6), sharex=True,
                                  gridspec_kw={"height_ratios": [2, 1]})
    ax.errorbar([r["epoch"] for r in rows], [r["mean_ll"] for r in rows],
                yerr=[r["stderr"] for r in rows], marker="o", ms=3, label="this run (test set)")
    for spec, style in zip(args.earlier, ("-", "--", ":", "-.")):
        path, _, label = spec.partition("=")
        old = read_evaluations(Path(path))
        ax.plot(old[:, 0], old[:, 1], color="grey", lw=1, ls=style,
                label=label or "earlier 250-epoch run")
    fit_rows = [r for r in rows if r["epoch"] >= args.fit_from]
    fit = None
    if len(fit_rows) >= 3:
        e = np.array([r["epoch"] for r in fit_rows], dtype=float)
        fit = log_fit(e, np.array([r["mean_ll"] for r in fit_rows]))
        fit["plateau_reading"] = plateau_fit(e, np.array([r["mean_ll"] for r in fit_rows]))
        xs = np.geomspace(e.min(), max(e.max(), fit["reaches_225_at_epoch"]["fit"]
                                       if math.isfinite(fit["reaches_225_at_epoch"]["fit"])
                                       else e.max()), 50)
        ax.plot(xs, fit["a"] + fit["slope_per_doubling"] * np.log2(xs), "k--", lw=1,
                label=f"fit over epochs >= {args.fit_from}: "
                      f"{fit['slope_per_doubling']:.1f} nats per doubling")
    for name, (v, _) in TABLE1_MNIST.items():
        ax.axhline(v, ls=":", lw=1, color="k" if name == "Adversarial nets" else "grey")
        ax.text(0, v + 2, f"Table 1: {name} {v}", fontsize=7)
    ax.set_ylabel("Parzen log-likelihood (nats)")
    for spec in args.mark:
        epoch, _, label = spec.partition("=")
        for a in fig.axes:
            a.axvline(float(epoch), color="tab:red", lw=0.8, ls=":",
                      label=label if a is ax else None)
    ax.legend(fontsize=8, loc="lower right")  # after the marks, so their labels are in it
    ax.set_title(args.title, fontsize=10)
    ax2.plot([e["epoch"] for e in epochs], [e["d_real"] for e in epochs], label="mean D(x)")
    ax2.plot([e["epoch"] for e in epochs], [e["d_fake"] for e in epochs], label="mean D(G(z))")
    ax2.set_xlabel("epoch")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    print(save_figure(fig, out))
    if fit is not None:
        print(json.dumps({"fit": fit}))
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
    main()
