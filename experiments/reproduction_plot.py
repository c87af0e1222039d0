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
standard error as large as L says they cannot). ``--fits-plot FILE`` draws the evaluations
against log2(epoch) with a line fitted from each epoch of ``--fit-windows`` (default 61,300,600)
and the plateau curves whose plateau the data determine, each carried on to where it meets 225:
a slope that falls as its window starts later is a curve bending over, which one line hides; the
fits of every window are printed too, each with ranges (16th-84th percentiles) for the slope, the
plateau and the epoch of 225 from a moving-block bootstrap of its residuals (blocks of n^(1/3)
consecutive evaluations, so correlated neighbours stay together) and the residuals' lag-1
autocorrelation (near 0: the fit leaves noise; near 1: it leaves a shape it does not follow,
and the ranges are flagged too narrow). It prints whether Table 1's 225 is met by the project's
fixed rule (``SUSTAINED_WINDOW``: four consecutive evaluations averaging 225).
``--budget-plot FILE`` fits, over the same windows, the log-likelihood as a straight line in the
learning rate the run's schedule still has to spend above its floor (``lr_budget_left``, from
RUN/run.json's config and each evaluation's step): its intercept is the figure once the decay
has run out, with a block-bootstrap range, and it draws the evaluations against that budget.
``--earlier``
overlays an earlier run's
evaluations (its parzen.jsonl, or a CSV: epoch,mean_ll,stderr,sigma after '#' comment lines;
``=LABEL`` after the path names it in the legend; repeatable).
"""

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
from matplotlib.ticker import ScalarFormatter
from scipy.optimize import OptimizeWarning, brentq, curve_fit

from gantheory.plotting import save_figure, subplots

TABLE1_MNIST = {"DBN": (138, 2), "Stacked CAE": (121, 1.6), "Deep GSN": (214, 1.1),
                "Adversarial nets": (225, 2)}


TABLE1_GAN = 225.0


def line_reach(a, b):
    """Where ``a + b log2(epoch)`` reaches 225: inf for a slope <= 0 or past float range."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return np.where(b > 0, 2.0 ** ((TABLE1_GAN - a) / np.where(b > 0, b, 1.0)), math.inf)


def plateau_reach(plateau: float, c: float, alpha: float) -> float:
    """Where ``plateau - c (epoch/100)^-alpha`` reaches 225 (inf when the plateau is <= 225),
    in log space: a plateau just above 225 with a small alpha is past float range, not an error."""
    if plateau <= TABLE1_GAN:
        return math.inf
    with np.errstate(divide="ignore", over="ignore"):
        log_ratio = np.log(c) - np.log(plateau - TABLE1_GAN)
        return float(100.0 * np.exp(log_ratio / alpha))


def log_fit(epochs: np.ndarray, ll: np.ndarray) -> dict:
    """``ll ~ a + b log2(epoch)``: slope per doubling, its standard error, and where it hits 225."""
    x = np.log2(epochs)
    (b, a), cov = np.polyfit(x, ll, 1, cov=True)
    se = float(math.sqrt(cov[0, 0]))
    reach = {k: float(line_reach(a, v))
             for k, v in (("fit", b), ("slope_plus_se", b + se), ("slope_minus_se", b - se))}
    return {"a": float(a), "slope_per_doubling": float(b), "slope_se": se, "n": int(len(x)),
            "epochs": [int(epochs.min()), int(epochs.max())], "reaches_225_at_epoch": reach}


def _plateau_curve(e, plateau, c, alpha):
    return plateau - c * (e / 100.0) ** (-alpha)


def plateau_fit(epochs: np.ndarray, ll: np.ndarray, p0: tuple | None = None) -> dict:
    """``ll ~ L - c (epoch/100)^-alpha`` (c, alpha > 0): a curve rising to a plateau L.

    Returns L, c, alpha with standard errors, the residual sum of squares beside the log line's,
    and the epoch where the curve reaches 225 (infinite when L <= 225); ``{"error": ...}`` when
    least squares does not converge. ``p0`` is where the search starts (a default otherwise).
    """
    try:
        with warnings.catch_warnings():  # a degenerate fit reports infinite errors, below
            warnings.simplefilter("ignore", OptimizeWarning)
            p, cov = curve_fit(_plateau_curve, epochs, ll,
                               p0=p0 or (float(ll.max()) + 20, 50.0, 0.5),
                               bounds=([0.0, 0.0, 1e-3], [1e4, 1e4, 10.0]), maxfev=20000)
    except (RuntimeError, ValueError) as e:
        return {"error": str(e)}
    se = np.sqrt(np.diag(cov))
    plateau, c, alpha = (float(v) for v in p)
    reach = plateau_reach(plateau, c, alpha)
    line_fit = log_fit(epochs, ll)
    line = line_fit["a"] + line_fit["slope_per_doubling"] * np.log2(epochs)
    return {"plateau": plateau, "plateau_se": float(se[0]), "c": c, "alpha": alpha,
            "alpha_se": float(se[2]), "rss": float(((ll - _plateau_curve(epochs, *p)) ** 2).sum()),
            "rss_log_line": float(((ll - line) ** 2).sum()), "reaches_225_at_epoch": reach}


# A plateau fit is drawn and bootstrapped only when its standard error is below this many nats:
# a plateau known to +-20 or worse spans everything from "flattened below 225" to "still
# climbing" (Table 1's own error is +-2), so drawing its curve would suggest a forecast the data
# do not make.
PLATEAU_SE_DRAWN = 20.0


# Table 1's 225 counts as met at the first evaluation E where the mean of the evaluations E and
# the three before it (100 epochs) is >= 225. A single evaluation scatters about 0.6 nats around
# the run's smooth curve (the residual spread of the plateau fits from epoch 600), so the best of
# many evaluations would cross early by luck: selecting the best epoch is what the original's
# stopping-free protocol leaves open. Four evaluations' mean scatters about 0.3 nats. The rule was
# fixed (commit of 2026-12-04, epoch ~1,970, last evaluation 222.6) before the run reached 225.
SUSTAINED_WINDOW = 4


def sustained_crossing(epochs: np.ndarray, ll: np.ndarray,
                       window: int = SUSTAINED_WINDOW) -> dict:
    """The first epoch whose trailing mean of ``window`` evaluations reaches 225 (None if none),
    with the highest trailing mean so far and its epoch."""
    # (np.convolve would swap a shorter ll with the window and return means all the same)
    means = np.convolve(ll, np.ones(window) / window, mode="valid") if len(ll) >= window \
        else np.empty(0)
    ends = epochs[window - 1:]
    hit = np.flatnonzero(means >= TABLE1_GAN)
    best = int(np.argmax(means)) if len(means) else None
    return {"window": window,
            "first_epoch": int(ends[hit[0]]) if len(hit) else None,
            "best_trailing_mean": float(means[best]) if best is not None else None,
            "best_trailing_mean_epoch": int(ends[best]) if best is not None else None}


def lag1_autocorrelation(resid: np.ndarray) -> float | None:
    """The residuals' correlation with their next neighbour (about 0 for independent
    evaluations); None when there is nothing to correlate (an exact fit)."""
    r = resid - resid.mean()
    spread = float((r * r).sum())
    if spread <= 1e-20 * len(r):  # rounding only: an exact fit
        return None
    return float((r[:-1] * r[1:]).sum() / spread)


# Above this lag-1 residual autocorrelation a fit's bootstrap ranges are flagged too narrow: in
# the tests' AR(1) trials (70 evaluations, blocks of 4) the 16-84% slope range held the true
# slope in 58% of draws at 0.5 and 43% at 0.8, against 68% for independent noise. A line through
# a bending curve leaves such residuals too, and no resampling of them sees that bias.
LAG1_RANGES_TOO_NARROW = 0.5


def _too_narrow(lag1: float | None) -> bool:
    return lag1 is not None and lag1 > LAG1_RANGES_TOO_NARROW


def block_resamples(n: int, block: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) indices of a moving-block bootstrap: runs of ``block`` consecutive indices
    starting anywhere in [0, n - block], laid end to end and cut to n (Kuensch 1989)."""
    runs = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, runs))
    return (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n]


def default_block(n: int) -> int:
    """n^(1/3) evaluations, the order of block length that minimises the error of a block
    bootstrap's variance estimate (Hall, Horowitz and Jing 1995)."""
    return max(1, round(n ** (1 / 3)))


# The 16th, 50th and 84th percentiles: the range a +-1 standard error gives for a normal estimate.
QUANTILES = (0.16, 0.5, 0.84)


def _quantiles(values: np.ndarray) -> list[float]:
    # inverted_cdf picks observed values, so an infinite crossing ("never") is never interpolated
    return [float(v) for v in np.quantile(values, QUANTILES, method="inverted_cdf")]


def linear_block_bootstrap(design: np.ndarray, ll: np.ndarray, block: int, n_boot: int,
                           rng: np.random.Generator) -> tuple:
    """Least squares of ``ll`` on the columns of ``design``, and the same fit of ``n_boot``
    resamples (the fitted values plus block-resampled residuals, ``block_resamples``): the
    coefficients, the residuals and the resamples' coefficients (one row per column)."""
    solve = np.linalg.pinv(design)  # the least-squares coefficients of every resample at once
    coef = solve @ ll
    fitted = design @ coef
    resid = ll - fitted
    return coef, resid, solve @ (fitted + resid[block_resamples(len(ll), block, n_boot, rng)]).T


def line_bootstrap(epochs: np.ndarray, ll: np.ndarray, block: int, n_boot: int,
                   rng: np.random.Generator) -> dict:
    """The log line's block bootstrap (see ``bootstrap_crossings``), its slopes kept as well."""
    design = np.column_stack([np.ones(len(epochs)), np.log2(epochs)])
    _, resid, (a, b) = linear_block_bootstrap(design, ll, block, n_boot, rng)
    reach = line_reach(a, b)
    lag1 = lag1_autocorrelation(resid)
    return {"lag1_autocorrelation": lag1, "ranges_too_narrow": _too_narrow(lag1), "slopes": b,
            "slope_quantiles": _quantiles(b), "reach_225_quantiles": _quantiles(reach),
            "never_reaches_share": float(np.mean(~np.isfinite(reach)))}


def bootstrap_crossings(epochs: np.ndarray, ll: np.ndarray, block: int | None = None,
                        n_boot: int = 2000, n_boot_plateau: int = 300, seed: int = 0) -> dict:
    """Ranges for the line's slope, the plateau and both fits' epoch of 225 from a bootstrap
    that keeps neighbouring evaluations together: each fit's residuals are resampled in blocks of
    consecutive evaluations (``block_resamples``), added back to the fitted curve and refitted.

    Neighbouring evaluations score the same weights 25 epochs apart, so their errors may be
    correlated; a bending curve fitted with a line leaves correlated residuals too. Blocks keep
    some of that correlation in every resample, where the fit's own standard error ignores it,
    so the ranges are less optimistic than independent resampling, but still too narrow when the
    correlation is strong (``ranges_too_narrow``: lag-1 above ``LAG1_RANGES_TOO_NARROW``), and
    blind to the bias of a curve that does not follow the data. Returns the 16/50/84th
    percentiles, the block length, each fit's lag-1 residual autocorrelation and the share of
    resamples that never reach 225.
    """
    n = len(epochs)
    block = min(block or default_block(n), n)
    rng = np.random.default_rng(seed)
    line = line_bootstrap(epochs, ll, block, n_boot, rng)
    out = {"block": block, "n_boot": n_boot,
           "line": {k: v for k, v in line.items() if k != "slopes"}}
    pl = plateau_fit(epochs, ll)
    if "error" in pl:
        return {**out, "plateau": {"error": pl["error"]}}
    if not pl["plateau_se"] < PLATEAU_SE_DRAWN:  # (a plateau fit to a line runs to its bounds)
        why = f"the plateau is not determined (+-{pl['plateau_se']:.0f} nats): no range for 225"
        return {**out, "plateau": {"error": why}}
    p0 = (pl["plateau"], pl["c"], pl["alpha"])
    fitted = _plateau_curve(epochs, *p0)
    resid = ll - fitted
    plateaus, reaches, failed = [], [], 0
    for idx in block_resamples(n, block, n_boot_plateau, rng):
        fit = plateau_fit(epochs, fitted + resid[idx], p0=p0)
        if "error" in fit:
            failed += 1
            continue
        plateaus.append(fit["plateau"])
        reaches.append(fit["reaches_225_at_epoch"])
    if not plateaus:
        return {**out, "plateau": {"error": f"all {n_boot_plateau} resamples failed to fit"}}
    reaches = np.array(reaches)
    lag1 = lag1_autocorrelation(resid)
    return {**out, "plateau": {"lag1_autocorrelation": lag1, "ranges_too_narrow": _too_narrow(lag1),
                               "n_boot": n_boot_plateau, "failed": failed,
                               "plateau_quantiles": _quantiles(np.array(plateaus)),
                               "reach_225_quantiles": _quantiles(reaches),
                               "never_reaches_share": float(np.mean(~np.isfinite(reaches)))}}


def window_fits(epochs: np.ndarray, ll: np.ndarray, starts: list[int],
                bootstrap: bool = True) -> list[dict]:
    """The log line and the plateau curve fitted to the evaluations at epochs >= each start
    (starts with fewer than 4 evaluations after them are left out: 3 parameters need more),
    with their block-bootstrap ranges (``bootstrap_crossings``) unless ``bootstrap`` is off."""
    fits = []
    for start in starts:
        keep = epochs >= start
        if keep.sum() >= 4:
            fit = log_fit(epochs[keep], ll[keep])
            fits.append({"from": int(start), **fit,
                         "plateau_reading": plateau_fit(epochs[keep], ll[keep])})
            if bootstrap:
                fits[-1]["block_bootstrap"] = bootstrap_crossings(epochs[keep], ll[keep])
    return fits


# ---------------------------------------------------------------------------------------------
# The learning-rate budget: how far the schedule still lets the weights move.
#
# The paper's learning rate decays by a constant factor every update down to a floor, so the sum
# of the rates still to come above that floor is finite and shrinks geometrically with the steps
# already taken. If the log-likelihood still to gain is proportional to it, ll = A - g * B(step),
# a straight line in B whose intercept A is the figure once the decay has run to its floor: a
# fit with two parameters and no shape chosen to bend, set by the run's own schedule.


def lr_budget_left(step, lr: float, lr_decay: float, lr_min: float) -> np.ndarray:
    """The sum over updates t >= ``step`` of (lr_t - lr_min), lr_t = max(lr * lr_decay^-t,
    lr_min) as ``gantheory.mnist.config.lr_at``: the rate the schedule has left to spend above
    its floor (0 once on the floor), in closed form as a geometric sum."""
    step = np.asarray(step, dtype=float)
    if not (lr > lr_min > 0 and lr_decay > 1):
        raise ValueError(f"a decaying schedule needs lr > lr_min > 0 and lr_decay > 1, got "
                         f"lr {lr}, lr_min {lr_min}, lr_decay {lr_decay}")
    floor = math.ceil(math.log(lr / lr_min) / math.log(lr_decay))  # first update on the floor
    left = np.clip(floor - step, 0, None)
    geometric = lr * lr_decay ** (-step) * -np.expm1(-left * math.log(lr_decay)) \
        / -math.expm1(-math.log(lr_decay))
    return np.where(step < floor, geometric - left * lr_min, 0.0)


def budget_fit(steps: np.ndarray, ll: np.ndarray, schedule: dict, steps_per_epoch: int,
               block: int | None = None, n_boot: int = 2000, seed: int = 0) -> dict:
    """``ll ~ A - g B(step)`` (``lr_budget_left``) by least squares, with a moving-block
    bootstrap of the residuals as for the other fits (16/50/84th percentiles of A and the
    lag-1 autocorrelation that says whether the line follows the data).

    Returns A (the figure once the decay reaches its floor) with its standard error, the gain
    g in nats per unit of summed learning rate, the budget left at the last evaluation and
    what it still allows (g times it), the epoch where the line reaches 225 before the floor
    (inf when A < 225), and, where it does not, the epochs on the floor that the same gain
    would need for the rest (``floor_epochs_to_225``: the floor's rate is spent at lr_min per
    update).
    """
    budget = lr_budget_left(steps, **schedule)
    design = np.column_stack([np.ones(len(steps)), -budget])
    n = len(steps)
    block = min(block or default_block(n), n)
    (a, g), resid, (boot_a, _) = linear_block_bootstrap(design, ll, block, n_boot,
                                                        np.random.default_rng(seed))
    cov = float(resid @ resid) / max(n - 2, 1) * np.linalg.pinv(design.T @ design)
    lag1 = lag1_autocorrelation(resid)
    reach = math.inf
    if a >= TABLE1_GAN and g > 0:
        need = (a - TABLE1_GAN) / g  # the budget left when the line passes 225
        reach = float(brentq(lambda s: float(lr_budget_left(s, **schedule)) - need, 0.0,
                             float(steps.max()) + 1e9) / steps_per_epoch) \
            if need < lr_budget_left(0, **schedule) else 0.0
    floor_epochs = math.inf if g <= 0 else \
        max(0.0, (TABLE1_GAN - a) / g / (schedule["lr_min"] * steps_per_epoch))
    left = float(lr_budget_left(steps.max(), **schedule))
    return {"asymptote": float(a), "asymptote_se": float(math.sqrt(cov[0, 0])),
            "gain_per_unit": float(g), "gain_se": float(math.sqrt(cov[1, 1])), "n": int(n),
            "steps": [int(steps.min()), int(steps.max())], "rss": float(resid @ resid),
            "budget_left_at_last": left, "gain_left_at_last": float(g * left),
            "reaches_225_at_epoch": reach,
            "floor_epochs_to_225": floor_epochs if a < TABLE1_GAN else 0.0,
            "block_bootstrap": {"block": block, "n_boot": n_boot, "lag1_autocorrelation": lag1,
                                "ranges_too_narrow": _too_narrow(lag1),
                                "asymptote_quantiles": _quantiles(boot_a)}}


def budget_fits(steps: np.ndarray, epochs: np.ndarray, ll: np.ndarray, starts: list[int],
                schedule: dict, steps_per_epoch: int) -> list[dict]:
    """``budget_fit`` over the evaluations at epochs >= each start (3 or more of them)."""
    return [{"from": int(start), **budget_fit(steps[epochs >= start], ll[epochs >= start],
                                               schedule, steps_per_epoch)}
            for start in starts if (epochs >= start).sum() >= 3]


def run_schedule(run: Path) -> tuple[dict, int] | None:
    """The learning-rate schedule and updates per epoch from RUN/run.json's config (None when
    the run has no run.json or it records no config)."""
    try:
        cfg = json.loads((run / "run.json").read_text())["config"]
        schedule = {k: float(cfg[k]) for k in ("lr", "lr_decay", "lr_min")}
        return schedule, int(cfg.get("train_images", 50_000)) // int(cfg["batch"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def budget_plot(steps: np.ndarray, epochs: np.ndarray, ll: np.ndarray, stderr: np.ndarray,
                fits: list[dict], schedule: dict, out: str, title: str) -> str:
    """The evaluations against the learning-rate budget left (decreasing to the right, as the
    run goes on), each window's line carried to the floor (budget 0), Table 1's 225 +- 2."""
    fig, axes = subplots(1, 2, figsize=(11, 4.2))
    budget = lr_budget_left(steps, **schedule)
    last_from = max(f["from"] for f in fits)
    for ax, first in zip(axes, (min(f["from"] for f in fits), last_from)):  # all; the last window
        shown = epochs >= first
        ax.errorbar(budget[shown], ll[shown], yerr=stderr[shown], marker="o", ms=3, ls="none",
                    color="tab:blue", label="this run (test set, +-1 s.e.)")
        ax.axhspan(TABLE1_GAN - 2, TABLE1_GAN + 2, color="k", alpha=0.12,
                   label="Table 1: adversarial nets 225 +- 2")
        for fit, color in zip(fits, WINDOW_COLORS):
            xs = np.linspace(0.0, float(budget[epochs >= max(fit["from"], first)].max()), 50)
            lo, _, hi = fit["block_bootstrap"]["asymptote_quantiles"]
            narrow = ", too narrow" if fit["block_bootstrap"]["ranges_too_narrow"] else ""
            ax.plot(xs, fit["asymptote"] - fit["gain_per_unit"] * xs, ls="--", lw=1,
                    color=color, label=f"from epoch {fit['from']}: {fit['asymptote']:.1f} at "
                                       f"the floor ({lo:.1f}-{hi:.1f}{narrow})")
        ax.invert_xaxis()
        ax.set_xlabel("learning rate left above the floor (sum over the updates to come)")
        ax.set_title(f"evaluations from epoch {first}", fontsize=9)
    axes[0].set_ylabel("Parzen log-likelihood (nats)")
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out)


WINDOW_COLORS = ("k", "tab:green", "tab:purple", "tab:brown", "tab:olive")


def fits_plot(epochs: np.ndarray, ll: np.ndarray, stderr: np.ndarray, fits: list[dict],
              out: str, title: str, show_from: int = 150) -> str:
    """The evaluations from ``show_from`` against log2(epoch), each window's line and its
    determined plateau curve carried on to 225 (at most to 8 times the last epoch)."""
    fig, ax = subplots(1, 1, figsize=(7, 4.2))
    shown = epochs >= show_from
    ax.errorbar(epochs[shown], ll[shown], yerr=stderr[shown], marker="o", ms=3, ls="none",
                color="tab:blue", label="this run (test set, +-1 s.e.)")
    ax.axhspan(TABLE1_GAN - 2, TABLE1_GAN + 2, color="k", alpha=0.12,
               label="Table 1: adversarial nets 225 +- 2")
    last = float(epochs.max())

    def span(fit: dict, to: float) -> np.ndarray:  # from the window's start to 225, capped
        return np.geomspace(max(fit["from"], show_from), min(max(last, to), 8 * last), 60)

    def reach_label(to: float, boot: dict | None) -> str:  # "epoch 1,982 (1,900-2,070)"
        if not boot or "reach_225_quantiles" not in boot:
            return _epoch(to)
        lo, _, hi = (f"{e:,.0f}" if math.isfinite(e) else "never"
                     for e in boot["reach_225_quantiles"])
        narrow = ", too narrow" if boot["ranges_too_narrow"] else ""
        return f"{_epoch(to)} ({lo}-{hi}{narrow})"

    if len(fits) > len(WINDOW_COLORS):
        raise ValueError(f"at most {len(WINDOW_COLORS)} windows can be drawn, got {len(fits)}")
    for fit, color in zip(fits, WINDOW_COLORS):
        boot = fit.get("block_bootstrap", {})
        to = fit["reaches_225_at_epoch"]["fit"]
        xs = span(fit, to)
        ax.plot(xs, fit["a"] + fit["slope_per_doubling"] * np.log2(xs), ls="--", lw=1,
                color=color, label=f"line from epoch {fit['from']}: "
                                   f"{fit['slope_per_doubling']:.1f} +- {fit['slope_se']:.1f} "
                                   f"per doubling, 225 at {reach_label(to, boot.get('line'))}")
        pl = fit["plateau_reading"]
        if "error" not in pl and pl["plateau_se"] < PLATEAU_SE_DRAWN:
            to = pl["reaches_225_at_epoch"]
            xs = span(fit, to)
            ax.plot(xs, _plateau_curve(xs, pl["plateau"], pl["c"], pl["alpha"]), ls=":", lw=1.2,
                    color=color, label=f"plateau from epoch {fit['from']}: "
                                       f"{pl['plateau']:.0f} +- {pl['plateau_se']:.0f}, "
                                       f"225 at {reach_label(to, boot.get('plateau'))}")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(ScalarFormatter())  # 256, 512, ... rather than 2^8, 2^9
    ax.set_xlabel("epoch (log scale)")
    ax.set_ylabel("Parzen log-likelihood (nats)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, out)


def _epoch(e: float) -> str:
    return f"epoch {e:,.0f}" if math.isfinite(e) else "never"


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
    ap.add_argument("--fits-plot", metavar="FILE",
                    help="the evaluations on a log2 epoch axis with the fits of every window")
    ap.add_argument("--fit-windows", default="61,300,600", metavar="E1,E2,...",
                    help="the first epochs of the fitted windows (with --fits-plot and "
                         "--budget-plot)")
    ap.add_argument("--budget-plot", metavar="FILE",
                    help="the evaluations against the learning rate left to spend, with the "
                         "learning-rate budget fit of every window (needs RUN/run.json)")
    args = ap.parse_args(argv)
    try:
        windows = [int(v) for v in args.fit_windows.split(",")]
    except ValueError:
        ap.error(f"--fit-windows: a comma-separated list of epochs, got {args.fit_windows!r}")
    if len(windows) > len(WINDOW_COLORS):
        ap.error(f"--fit-windows: at most {len(WINDOW_COLORS)} windows (one colour each), "
                 f"got {len(windows)}")
    run, out = Path(args.run), args.out
    rows = [json.loads(s) for s in (run / "parzen.jsonl").read_text().splitlines()]
    if args.budget_plot:  # checked before anything is drawn or written
        found = run_schedule(run)
        if found is None:
            sys.exit(f"reproduction_plot: {run / 'run.json'} records no learning-rate schedule "
                     "(config lr, lr_decay, lr_min, batch): no --budget-plot")
        schedule, per_epoch = found
        if any("step" not in r for r in rows):
            sys.exit(f"reproduction_plot: {run / 'parzen.jsonl'} has evaluations without a "
                     "step: no --budget-plot")
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
    if args.fits_plot:
        arr = np.array([[r["epoch"], r["mean_ll"], r["stderr"]] for r in rows], dtype=float)
        fits = window_fits(arr[:, 0], arr[:, 1], windows)
        for start in sorted(set(windows) - {f["from"] for f in fits}):
            print(f"reproduction_plot: the window from epoch {start} has "
                  f"{int((arr[:, 0] >= start).sum())} evaluations, fewer than the 4 a plateau "
                  "fit needs: left out", file=sys.stderr)
        print(fits_plot(arr[:, 0], arr[:, 1], arr[:, 2], fits, args.fits_plot,
                        f"{args.title}: fits by window"))
        print(json.dumps({"window_fits": fits}))
    if args.budget_plot:
        arr = np.array([[r["step"], r["epoch"], r["mean_ll"], r["stderr"]] for r in rows],
                       dtype=float)
        bfits = budget_fits(arr[:, 0], arr[:, 1], arr[:, 2], windows, schedule, per_epoch)
        if not bfits:
            sys.exit("reproduction_plot: no window has the 3 evaluations a budget fit needs")
        print(budget_plot(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], bfits, schedule,
                          args.budget_plot, f"{args.title}: learning-rate budget fits"))
        print(json.dumps({"lr_budget_fits": bfits}))
    print(json.dumps({"table1_225_sustained": sustained_crossing(
        np.array([r["epoch"] for r in rows], dtype=float),
        np.array([r["mean_ll"] for r in rows]))}))
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
