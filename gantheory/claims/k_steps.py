r"""Study ``k_steps``: k discriminator steps per generator step, alternating vs simultaneous.

    python -m gantheory.verify k_steps [--seeds N] [--steps N] [--plot F] [--set k_values=1,5]

Algorithm 1 takes k steps of D, then one of G (the paper used k = 1); the paper's MNIST code took
one simultaneous step on both players from the same minibatch. This study trains the same 1-D
task under each arm, ``seeds`` seeds per arm (seeds 0..N-1, all reported): alternating with each
k in ``k_values``, and simultaneous (which has no k). The task: an affine G(z) = a z + b on
z ~ N(0, 1) (so JSD(p_data || p_g) is exact, :func:`gantheory.divergences.jsd_normal_batch`), p_g
starting at N(g_shift, g_scale^2), a ReLU D, the non-saturating loss and SGD with momentum.

Reported per arm: the rate of seeds whose final JSD is below ``success_jsd`` with a Wilson 95%
interval, the median final JSD with a distribution-free 95% interval, and the steps until the JSD
first falls below ``success_jsd``, counted in G steps and in D steps (k per iteration); pairwise,
Fisher's exact test on the rates and Mann-Whitney tests on the steps (in D steps only up to the
common horizon, ``steps`` times the smallest k, since the arms stop after different D work).

A study reports what was seen; it does not pass or fail on its outcome: it is registered with
``kind="study"`` and no verdict, prints REPORTED, and ``verify all`` leaves it out of the pass
count and the exit status. Protocol: :func:`measure`, :func:`report`, :func:`plot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..densities import Normal, parse_density
from ..errors import ConfigError
from ..stats import (fisher_greater, mannwhitney_faster, median_interval,
                     rate_summary, steps_to_success)
from ..util.io import jsonable
from ..oned.train import Train1DConfig, train_1d
from .registry import Report, Verdict, blame, register_claim, training_bytes

# Success: final JSD below 0.01 nats (p_g's mean within ~0.3 sigma of p_data's): far above the
# jitter of a converged run (~1e-4) and far below a run that is still travelling (~0.1 - 0.5).
DEFAULT_SUCCESS_JSD = 0.01
# k D steps per G step (time only: one minibatch at a time): k = 100 already makes the default
# 300 G steps 30,000 D steps of every seed; a larger k would run for hours to days without a word.
MAX_K = 100


@dataclass(frozen=True)
class KStepsConfig:
    p_data: str = "normal(0,1)"
    g_shift: float = 3.0
    g_scale: float = 1.0
    k_values: str = "1,5"
    simultaneous: bool = True
    loss: Literal["minimax", "non_saturating", "maximum_likelihood"] = "non_saturating"
    d_hidden: int = 16
    batch: int = 64
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.05
    momentum: float = 0.5
    steps: int = 300
    record_every: int = 5
    seeds: int = 48
    success_jsd: float = DEFAULT_SUCCESS_JSD
    plot: str | None = None

    def check(self) -> None:
        for name in ("seeds", "steps", "batch", "d_hidden", "record_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not isinstance(parse_density(self.p_data), Normal):
            raise ConfigError("k_steps needs a Normal p_data (the affine G's JSD is exact)")
        if not self.ks() or min(self.ks()) < 1:
            raise ConfigError(f"k_values must be positive integers, got {self.k_values!r}")
        if max(self.ks()) > MAX_K:
            raise ConfigError(f"k_values must be <= {MAX_K} (D steps per G step), got "
                              f"{self.k_values!r}")
        if not 0 < self.success_jsd < math.log(2):
            raise ConfigError(f"success_jsd must lie in (0, log 2), got {self.success_jsd}")

    def memory_bytes(self) -> dict[str, int]:
        # arms in turn; named by whichever of seeds, batch and d_hidden is furthest above default
        return {blame(self, ("seeds", "batch", "d_hidden")):
                training_bytes(self.seeds, self.batch, self.d_hidden)}

    def ks(self) -> list[int]:
        try:
            return [int(v) for v in str(self.k_values).split(",") if v.strip()]
        except ValueError:
            raise ConfigError(f"k_values must be comma-separated integers, got "
                              f"{self.k_values!r}") from None

    def arms(self) -> list[tuple[str, str, int]]:
        """(label, update order, k) of every arm."""
        arms = [(f"alternating k={k}", "alternating", k) for k in self.ks()]
        return arms + ([("simultaneous", "simultaneous", 1)] if self.simultaneous else [])


def _fmt_ci(med, lo, hi) -> str:
    f = lambda v: "never" if not np.isfinite(v) else f"{v:.0f}"  # noqa: E731
    return f"{f(med)} [{f(lo)}, {f(hi)}]"


@dataclass(frozen=True)
class KStepsMeasurement:
    """Per arm (label -> ...): the update order, k, recorded steps and (T, S) exact JSD curves."""

    arms: dict  # label -> {"update", "k", "steps", "jsd"}
    seeds: list = field(default_factory=list)


def measure(cfg: KStepsConfig) -> KStepsMeasurement:
    """Train every arm over the same seeds."""
    seeds = list(range(cfg.seeds))
    arms = {}
    for label, update, k in cfg.arms():
        tcfg = Train1DConfig(p_data=cfg.p_data, generator="affine", z="normal",
                             g_shift=cfg.g_shift, g_scale=cfg.g_scale, d_hidden=cfg.d_hidden,
                             d_activation="relu", loss=cfg.loss, update=update, k=k,
                             steps=cfg.steps, batch=cfg.batch, optimizer=cfg.optimizer,
                             lr_d=cfg.lr, lr_g=cfg.lr, momentum=cfg.momentum,
                             record_every=cfg.record_every)
        run = train_1d(tcfg, seeds)
        arms[label] = {"update": update, "k": k, "steps": run.steps, "jsd": run.jsd}
    return KStepsMeasurement(arms, seeds)


def summarise(m: KStepsMeasurement, cfg: KStepsConfig) -> dict:
    """Pure: per-arm rates, medians and intervals, and the pairwise tests against the first arm."""
    arms, t_g = {}, {}
    for label, a in m.arms.items():
        final, k = a["jsd"][-1], a["k"]
        t = steps_to_success(a["steps"], a["jsd"], cfg.success_jsd)
        success = np.nan_to_num(final, nan=np.inf) < cfg.success_jsd
        fin_med, fin_lo, fin_hi = median_interval(np.nan_to_num(final, nan=np.inf))
        g_med, g_lo, g_hi = median_interval(t)
        arms[label] = dict(rate_summary(success), update=a["update"], k=k,
                           final_jsd=final, final_jsd_median=fin_med,
                           final_jsd_median_ci95=[fin_lo, fin_hi], steps_to_success=t,
                           g_steps_to_success_median=g_med,
                           g_steps_to_success_median_ci95=[g_lo, g_hi],
                           d_steps_to_success_median=g_med * k,
                           d_steps_to_success_median_ci95=[g_lo * k, g_hi * k],
                           d_steps_per_g_step=k)
        t_g[label] = t
    labels = list(arms)
    base = labels[0]
    # Arms with different k stop after different amounts of D work; steps to success in D steps
    # are compared only up to the common horizon (a success later than that counts as censored).
    horizon = cfg.steps * min(a["k"] for a in arms.values())
    t_d = {lab: np.where(t_g[lab] * arms[lab]["k"] <= horizon, t_g[lab] * arms[lab]["k"], np.inf)
           for lab in labels}
    for lab in labels:
        arms[lab]["d_horizon"] = horizon
        arms[lab]["successes_within_d_horizon"] = int(np.isfinite(t_d[lab]).sum())
    comparisons = {}
    for other in labels[1:]:
        a, b = arms[other], arms[base]
        comparisons[f"{other} vs {base}"] = {
            "fisher_rate": fisher_greater(a["successes"], a["n"], b["successes"], b["n"]),
            "mannwhitney_fewer_g_steps_p": mannwhitney_faster(t_g[other], t_g[base]),
            "mannwhitney_more_g_steps_p": mannwhitney_faster(t_g[base], t_g[other]),
            "mannwhitney_fewer_d_steps_p": mannwhitney_faster(t_d[other], t_d[base]),
            "mannwhitney_more_d_steps_p": mannwhitney_faster(t_d[base], t_d[other]),
        }
    return {"arms": arms, "comparisons": comparisons, "horizon": horizon, "t_g": t_g}


def report(m: KStepsMeasurement, cfg: KStepsConfig) -> Report:
    s = summarise(m, cfg)
    arms, comparisons, horizon = s["arms"], s["comparisons"], s["horizon"]
    lines = [f"task: p_data {cfg.p_data}, affine G from N({cfg.g_shift}, {cfg.g_scale}^2) on "
             f"N(0,1) noise (exact JSD), ReLU D, {cfg.loss}, {cfg.optimizer} lr {cfg.lr}, "
             f"batch {cfg.batch}, {cfg.steps} G steps; success = final JSD < {cfg.success_jsd:g}"]
    ci = lambda v: v if np.isfinite(v) else float("inf")  # noqa: E731
    for lab, a in arms.items():
        lo, hi = a["wilson95"]
        t = s["t_g"][lab]
        lines.append(
            f"{lab}: {a['successes']}/{a['n']} succeed, rate {a['rate']:.2f} [95% Wilson "
            f"{lo:.2f}, {hi:.2f}] (final JSD < {cfg.success_jsd:g}); median final JSD "
            f"{a['final_jsd_median']:.1e} [{ci(a['final_jsd_median_ci95'][0]):.1e}, "
            f"{ci(a['final_jsd_median_ci95'][1]):.1e}]; steps to first reach JSD < "
            f"{cfg.success_jsd:g}, median [95% CI]: G {_fmt_ci(*median_interval(t))}, D "
            f"{_fmt_ci(*median_interval(t * a['k']))}; within {horizon} D steps "
            f"{a['successes_within_d_horizon']}/{a['n']}")
    for name, c in comparisons.items():
        lines.append(f"{name}: Fisher p (rate higher) {c['fisher_rate']['p_greater']:.2g}, "
                     f"two-sided {c['fisher_rate']['p_two_sided']:.2g}; Mann-Whitney p fewer G "
                     f"steps {c['mannwhitney_fewer_g_steps_p']:.2g}, more G steps "
                     f"{c['mannwhitney_more_g_steps_p']:.2g}; within {horizon} D steps: fewer D "
                     f"steps {c['mannwhitney_fewer_d_steps_p']:.2g}, more D steps "
                     f"{c['mannwhitney_more_d_steps_p']:.2g}")
    metrics = {"arms": arms, "comparisons": comparisons, "success_jsd": cfg.success_jsd,
               "task": lines[0], "jsd": "exact: affine G on N(0,1) noise, p_g = N(b, a^2)"}
    return Report(jsonable(metrics), {"success_jsd": cfg.success_jsd}, tuple(lines))


def plot(m: KStepsMeasurement, cfg: KStepsConfig, v: Verdict | None) -> dict:
    from ..plotting import plot_curves, subplots

    fig, (ax1, ax2) = subplots(1, 2, figsize=(12, 4))
    data = {lab: np.maximum(np.nan_to_num(a["jsd"], nan=math.log(2)), 1e-8)
            for lab, a in m.arms.items()}
    plot_curves({lab: a["steps"] for lab, a in m.arms.items()}, data,
                ylabel="JSD(p_data || p_g)", bound=cfg.success_jsd, ax=ax1, xlabel="G steps",
                title=f"k_steps study [REPORTED]: {cfg.seeds} seeds per arm")
    plot_curves({lab: a["steps"] * a["k"] for lab, a in m.arms.items()}, data,
                ylabel="JSD(p_data || p_g)", bound=cfg.success_jsd, ax=ax2,
                xlabel="D steps (k per iteration)", title="the same runs against D's work")
    return {"": fig}


register_claim(
    "k_steps", "Algorithm 1 takes k steps of D per step of G (the paper used k = 1); the paper's "
    "MNIST code updated both players simultaneously. Study: k in {1, 5}, alternating vs "
    "simultaneous, on the same 1-D task.", KStepsConfig, measure=measure, report=report,
    plot=plot, kind="study", quick={"seeds": 2, "steps": 10})
