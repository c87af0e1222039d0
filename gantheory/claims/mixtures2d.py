r"""Study ``mixtures2d``: mode collapse on the ring of 8 and the 5 x 5 grid of Gaussians, over many
seeds, per generator loss, update order, k and with the R1 remedy.

    python -m gantheory.verify mixtures2d [--seeds 32] [--steps 2000] [--plot F]
        [--set mixtures=ring --set arms=baseline,r1 --set r1_gamma=0.1]

A study: it reports what is seen and asserts nothing (status REPORTED). For each mixture
(:mod:`gantheory.mixtures2d`) and each arm, ``seeds`` GANs (a fixed small ReLU MLP pair) are
trained together in one batched program, then measured on ``n_eval`` samples each:

* ``baseline``: non-saturating G loss, alternating updates, k = 1;
* ``minimax``: the saturating G loss, otherwise the baseline;
* ``simultaneous``: both players step on the same minibatch;
* ``k_steps``: k = ``k`` D steps per G step (same number of G steps);
* ``r1``: the baseline with the R1 penalty (gamma = ``r1_gamma``) on D.

Per arm: modes covered (mean with a t-interval, median, the whole count per seed), the share of
high-quality samples, and the rate of seeds covering every mode with a 95% Wilson interval. Each
arm is compared with the baseline by a two-sided Mann-Whitney test on the mode counts and
Fisher's exact test on full coverage, with Holm's adjustment over all of the study's
comparisons. As a check of the measures themselves, samples of the mixture are measured too:
every mode covered and a high-quality share near 1 - e^{-9/2}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import mixtures2d as m2d
from ..errors import ConfigError
from ..stats import fisher_greater, wilson_interval
from ..util.io import jsonable
from ..util.rng import seed_generator
from .registry import Report, blame, register_claim

ARMS = {  # arm -> Train2DConfig fields that differ from the baseline ("k" and "r1" from the config)
    "baseline": {},
    "minimax": {"loss": "minimax"},
    "simultaneous": {"update": "simultaneous"},
    "k_steps": {"k": None},
    "r1": {"r1_gamma": None},
}
# Published figures (their setups differ from this one: architecture, steps, optimiser, z, and
# the mode-count threshold). Srivastava et al. 2017 (VEEGAN), Table 1, 2,500 samples; Lin et al.
# 2018 (PacGAN), 2-D grid with their own architecture.
PUBLISHED = {
    "ring": [{"source": "Srivastava et al. 2017 (VEEGAN)", "method": "GAN", "modes": 1.0,
              "high_quality": 0.993},
             {"source": "Srivastava et al. 2017 (VEEGAN)", "method": "unrolled GAN",
              "modes": 7.6, "high_quality": 0.356}],
    "grid": [{"source": "Srivastava et al. 2017 (VEEGAN)", "method": "GAN", "modes": 3.3,
              "high_quality": 0.005},
             {"source": "Srivastava et al. 2017 (VEEGAN)", "method": "unrolled GAN",
              "modes": 23.6, "high_quality": 0.16},
             {"source": "Lin et al. 2018 (PacGAN)", "method": "GAN", "modes": 17.3,
              "high_quality": 0.942}],
}
CONFIDENCE = 0.95
# k D steps per G step in the k_steps arm: k = 100 already makes the default 2,500 G steps
# 250,000 D steps of every seed (tens of minutes); a larger k would run for hours to days without
# a word, and is refused.
MAX_K = 100


@dataclass(frozen=True)
class Mixtures2DConfig:
    seeds: int = 32
    steps: int = 2500  # G steps per run
    mixtures: str = "ring,grid"
    arms: str = "baseline,minimax,simultaneous,k_steps,r1"
    k: int = 5  # D steps per G step in the k_steps arm
    r1_gamma: float = 0.1
    hidden: int = 32
    z_dim: int = 2
    batch: int = 64
    lr: float = 2e-3
    n_eval: int = 2500
    n_show: int = 3  # seeds drawn per arm in the scatter figure (the first ones, not chosen)
    plot: str | None = None

    def mixture_names(self) -> list[str]:
        return [s.strip() for s in self.mixtures.split(",") if s.strip()]

    def arm_names(self) -> list[str]:
        return [s.strip() for s in self.arms.split(",") if s.strip()]

    def train_config(self, mixture: str, arm: str) -> m2d.Train2DConfig:
        changes = {"k": self.k if "k" in ARMS[arm] else 1,
                   "r1_gamma": self.r1_gamma if "r1_gamma" in ARMS[arm] else 0.0}
        changes.update({k: v for k, v in ARMS[arm].items() if v is not None})
        return m2d.Train2DConfig(mixture=mixture, hidden=self.hidden, z_dim=self.z_dim,
                                 steps=self.steps, batch=self.batch, lr=self.lr,
                                 n_eval=self.n_eval, **changes)

    def check(self) -> None:
        mixes, arms = self.mixture_names(), self.arm_names()
        bad = [x for x in mixes if x not in m2d.MIXTURES]
        if not mixes or bad or len(set(mixes)) < len(mixes):
            raise ConfigError(f"mixtures must be distinct names among {', '.join(m2d.MIXTURES)}, "
                              f"got {self.mixtures!r}")
        bad = [a for a in arms if a not in ARMS]
        if not arms or bad or len(set(arms)) < len(arms):
            raise ConfigError(f"arms must be distinct names among {', '.join(ARMS)}, "
                              f"got {self.arms!r}")
        if "baseline" not in arms:
            raise ConfigError("arms must include baseline (every arm is compared with it)")
        for name in ("seeds", "steps", "k", "hidden", "z_dim", "batch", "n_eval"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.k > MAX_K:
            raise ConfigError(f"k must be <= {MAX_K} (D steps per G step), got {self.k}")
        if self.n_show < 0:
            raise ConfigError(f"n_show must be >= 0, got {self.n_show}")
        if not (self.r1_gamma > 0 and math.isfinite(self.r1_gamma)):
            raise ConfigError(f"r1_gamma must be a finite number > 0, got {self.r1_gamma}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"lr must be a finite number > 0, got {self.lr}")

    def memory_bytes(self) -> dict[str, int]:
        """Peak bytes: per seed, ~40 float32 (batch x hidden) activations, gradients and R1's
        double-backward graph while training (one arm at a time), plus the measures' ~8 float64
        (n_eval x 25) arrays (differences, squares, distances, nearest modes), plus what grows
        with z_dim: the noise sampler's chunk of 64 minibatches (float32, drawn then stacked:
        two copies), the evaluation noise (two copies) and G's first layer with its gradient and
        Adam's two moments. Measured: z_dim 2,000 instead of 2 (3 seeds, batch 32, hidden 8,
        n_eval 200) added 81 MB of peak RSS, 13 kB a seed and unit of z_dim; the z_dim term
        gives 18 kB. Every term grows with seeds, so the estimate is put under the parameter
        furthest above its default, the one a refusal should name. (``n_show`` costs nothing:
        it slices the samples already held, at most ``seeds`` of them.)"""
        per_seed = (40 * 4 * self.batch * self.hidden + self.n_eval * 25 * 8 * 8
                    + self.z_dim * (64 * self.batch * 4 * 2 + self.n_eval * 4 * 2
                                    + self.hidden * 4 * 4))
        who = blame(self, ("seeds", "n_eval", "batch", "hidden", "z_dim"))
        return {who: self.seeds * per_seed}


@dataclass
class Mixtures2DMeasurement:
    seeds: list[int]
    results: dict[str, dict[str, dict]]  # mixture -> arm -> per-seed measures (numpy)
    reference: dict[str, dict]  # mixture -> the measures on samples of the mixture itself
    shown: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # (n_show, n, 2)


def _measure_samples(samples: np.ndarray, mix: m2d.Mixture2D) -> dict:
    c = m2d.coverage(samples, mix)
    return {"modes": c["modes"], "modes_any": c["modes_any"], "high_quality": c["high_quality"],
            "min_count": c["min_count"],
            "diverged": ~np.isfinite(samples).all(axis=(-1, -2))}


def measure(cfg: Mixtures2DConfig) -> Mixtures2DMeasurement:
    seeds = list(range(cfg.seeds))
    results, reference, shown = {}, {}, {}
    for name in cfg.mixture_names():
        mix = m2d.MIXTURES[name]()
        # the measures on p_data itself: n_eval samples per seed from a stream of their own
        true = np.stack([mix.sample(cfg.n_eval, seed_generator(s, f"reference2d/{name}")).numpy()
                         for s in seeds])
        reference[name] = _measure_samples(true, mix)
        results[name], shown[name] = {}, {"p_data": true[:1]}
        for arm in cfg.arm_names():
            run = m2d.train_2d(cfg.train_config(name, arm), seeds)
            results[name][arm] = _measure_samples(run.samples, mix)
            shown[name][arm] = run.samples[: cfg.n_show]
    return Mixtures2DMeasurement(seeds, results, reference, shown)


def t_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> list[float]:
    """Student-t interval for the mean of x ([nan, nan] below two values)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return [math.nan, math.nan]
    from scipy import stats

    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return [float(x.mean() - half), float(x.mean() + half)]


def mannwhitney_two_sided(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value of a vs b; 1.0 when every value is the same."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0
    from scipy import stats

    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment of a family of p-values (controls the familywise error)."""
    order = sorted(pvalues, key=pvalues.get)
    out, running, m = {}, 0.0, len(order)
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * pvalues[key]))
        out[key] = running
    return out


def summarise(r: dict, n_modes: int) -> dict:
    modes, hq = r["modes"], r["high_quality"]
    full = int(np.sum(modes == n_modes))
    # t-intervals clipped to the range the measure can take (0..n_modes, 0..1)
    return {"modes_mean": float(modes.mean()),
            "modes_ci95": np.clip(t_interval(modes), 0, n_modes).tolist(),
            "modes_median": float(np.median(modes)),
            "modes_any_mean": float(r["modes_any"].mean()),
            "high_quality_mean": float(hq.mean()),
            "high_quality_ci95": np.clip(t_interval(hq), 0, 1).tolist(),
            "all_modes": full, "n": int(len(modes)), "all_modes_rate": full / len(modes),
            "all_modes_wilson95": list(wilson_interval(full, len(modes))),
            "collapsed": int(np.sum(modes <= 1)), "diverged": int(np.sum(r["diverged"])),
            "modes_per_seed": modes.tolist(),
            "modes_histogram": np.bincount(modes, minlength=n_modes + 1).tolist(),
            "high_quality_per_seed": hq.round(4).tolist()}


def report(m: Mixtures2DMeasurement, cfg: Mixtures2DConfig) -> Report:
    metrics = {"setup": {"hidden": cfg.hidden, "z_dim": cfg.z_dim, "batch": cfg.batch,
                         "lr": cfg.lr, "optimizer": "adam(0.5, 0.999)", "steps": cfg.steps,
                         "k": cfg.k, "r1_gamma": cfg.r1_gamma, "n_eval": cfg.n_eval,
                         "quality_stds": m2d.QUALITY_STDS, "mode_min_share": m2d.MODE_MIN_SHARE},
               "mixtures": {}, "published": {k: PUBLISHED[k] for k in cfg.mixture_names()},
               "published_note": "published setups differ from this one (networks, steps, "
                                 "optimiser, noise, thresholds); set beside, not compared"}
    raw = {}
    lines = [f"G/D: ReLU MLPs {cfg.z_dim}-{cfg.hidden}-{cfg.hidden}-2 / 2-{cfg.hidden}-"
             f"{cfg.hidden}-1, Adam lr {cfg.lr:g}, batch {cfg.batch}, {cfg.steps} G steps, "
             f"{len(m.seeds)} seeds per arm, {cfg.n_eval} samples each; a mode counts when it "
             f"holds >= {m2d.MODE_MIN_SHARE:g} of its fair share of high-quality samples "
             f"(within {m2d.QUALITY_STDS:g} std)"]
    for name, arms in m.results.items():
        mix = m2d.MIXTURES[name]()
        ref = summarise(m.reference[name], mix.n_modes)
        out = {"n_modes": mix.n_modes, "std": mix.std, "min_count": m.reference[name]["min_count"],
               "p_data": {"modes_mean": ref["modes_mean"], "modes_min": int(
                   m.reference[name]["modes"].min()), "high_quality_mean": ref["high_quality_mean"],
                   "high_quality_expected": m2d.TRUE_HIGH_QUALITY}, "arms": {}}
        lines.append(f"{name} ({mix.n_modes} modes, std {mix.std:g}): samples of p_data cover "
                     f"{ref['modes_mean']:.2f} modes, high quality {ref['high_quality_mean']:.4f} "
                     f"(expected {m2d.TRUE_HIGH_QUALITY:.4f})")
        base = arms["baseline"]
        for arm, r in arms.items():
            s = summarise(r, mix.n_modes)
            s["settings"] = {k: getattr(cfg.train_config(name, arm), k)
                             for k in ("loss", "update", "k", "r1_gamma")}
            if arm != "baseline":
                s["vs_baseline"] = {
                    "mannwhitney_modes_p": mannwhitney_two_sided(r["modes"], base["modes"]),
                    "fisher_all_modes_p": fisher_greater(
                        s["all_modes"], s["n"], int(np.sum(base["modes"] == mix.n_modes)),
                        len(base["modes"]))["p_two_sided"]}
                raw[f"{name}/{arm}"] = s["vs_baseline"]["mannwhitney_modes_p"]
            out["arms"][arm] = s
        metrics["mixtures"][name] = out
    adj = holm(raw)
    for key, p in adj.items():
        name, arm = key.split("/")
        metrics["mixtures"][name]["arms"][arm]["vs_baseline"]["mannwhitney_modes_p_holm"] = p
    for name, out in metrics["mixtures"].items():
        for arm, s in out["arms"].items():
            lo, hi = s["modes_ci95"]
            wl, wh = s["all_modes_wilson95"]
            line = (f"  {name} {arm:<12} modes {s['modes_mean']:5.2f} [{lo:.2f}, {hi:.2f}] "
                    f"(median {s['modes_median']:g}, >= 1 sample {s['modes_any_mean']:.2f}); "
                    f"high quality {s['high_quality_mean']:.3f}; all {out['n_modes']} modes "
                    f"{s['all_modes']}/{s['n']} [{wl:.2f}, {wh:.2f}]; <= 1 mode "
                    f"{s['collapsed']}")
            if "vs_baseline" in s:
                v = s["vs_baseline"]
                line += (f"; vs baseline: Mann-Whitney p = {v['mannwhitney_modes_p']:.2g} "
                         f"(Holm {v['mannwhitney_modes_p_holm']:.2g}), Fisher p = "
                         f"{v['fisher_all_modes_p']:.2g}")
            lines.append(line)
        for p in metrics["published"][name]:
            lines.append(f"  {name} published: {p['source']}, {p['method']}: {p['modes']:g} modes, "
                         f"high quality {p['high_quality']:.1%} (a different setup)")
    tolerances = {"confidence": CONFIDENCE, "quality_stds": m2d.QUALITY_STDS,
                  "mode_min_share": m2d.MODE_MIN_SHARE}
    return Report(jsonable(metrics), tolerances, tuple(lines))


def plot_samples(shown: dict, summaries: dict, title: str = "", labels: dict | None = None):
    """Scatter of the shown seeds' samples over p_data's density: a row per arm, per mixture
    ``n_show`` columns (the first seeds, not chosen), and p_data's own samples in the first row."""
    from ..plotting import subplots

    labels = {"p_data": "p_data", **(labels or {})}
    mixes = list(shown)
    arms = [a for a in shown[mixes[0]] if a != "p_data"]
    n_show = max(len(shown[mx][a]) for mx in mixes for a in arms)
    ncols = len(mixes) * max(n_show, 1)
    fig, axes = subplots(len(arms) + 1, ncols, figsize=(1.9 * ncols, 1.9 * (len(arms) + 1)),
                         squeeze=False)
    for j, mx in enumerate(mixes):
        mix = m2d.MIXTURES[mx]()
        lim = np.abs(mix.centres).max() + 1.0
        xs = np.linspace(-lim, lim, 200)
        logp = np.log(mix.density(np.stack(np.meshgrid(xs, xs), -1)) + 1e-12)
        for i, arm in enumerate(["p_data"] + arms):
            for c in range(max(n_show, 1)):
                ax = axes[i, j * max(n_show, 1) + c]
                ax.set_xticks([]), ax.set_yticks([])
                ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim)
                ax.set_aspect("equal")
                data = shown[mx][arm]
                if c >= len(data):
                    ax.axis("off")
                    continue
                ax.imshow(np.maximum(logp, logp.max() - 12), extent=(-lim, lim, -lim, lim),
                          origin="lower", cmap="Greys", alpha=0.6)
                x = data[c][:1000]
                ax.scatter(x[:, 0], x[:, 1], s=1.5, c="tab:red" if arm != "p_data" else "k",
                           alpha=0.5, linewidths=0)
                if arm == "p_data":
                    ax.set_title(f"{mx}: p_data", fontsize=7)
                else:
                    mo, hq = summaries[mx][arm]["modes_per_seed"][c], \
                        summaries[mx][arm]["high_quality_per_seed"][c]
                    ax.set_title(f"{mx} seed {c}: {mo} modes, hq {hq:.2f}", fontsize=7)
                if c == 0 and j == 0:
                    ax.set_ylabel(labels.get(arm, arm), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_mode_histogram(summaries: dict, title: str = "", labels: dict | None = None,
                        published: dict | None = None):
    """Per mixture, the number of seeds covering 0, 1, ..., K modes, one bar series per arm;
    ``published`` mode counts (mixture -> [{source, method, modes}]) as dotted vertical lines."""
    from ..plotting import subplots

    mixes = list(summaries)
    fig, axes = subplots(1, len(mixes), figsize=(6.0 * len(mixes), 3.4), squeeze=False)
    for ax, mx in zip(axes[0], mixes):
        arms = summaries[mx]
        width = 0.8 / len(arms)
        for i, (arm, s) in enumerate(arms.items()):
            h = np.asarray(s["modes_histogram"])
            ax.bar(np.arange(len(h)) - 0.4 + width * (i + 0.5), h, width,
                   label=(labels or {}).get(arm, arm))
        for j, p in enumerate((published or {}).get(mx, [])):
            ax.axvline(p["modes"], color="0.3", ls=":", lw=1)
            ax.annotate(f"{p['source'].split('(')[-1].rstrip(')')} {p['method']}: {p['modes']:g}",
                        (p["modes"], 0.97 - 0.08 * j), xycoords=("data", "axes fraction"),
                        fontsize=6, va="top", color="0.3",
                        ha="right" if p["modes"] > 0.6 * (len(h) - 1) else "left")
        ax.set_xlabel(f"modes covered (of {len(h) - 1})")
        ax.set_ylabel("seeds")
        ax.set_title(mx, fontsize=9)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def arm_labels(cfg: Mixtures2DConfig) -> dict[str, str]:
    """Short labels: the baseline is non-saturating, alternating, k = 1; each arm changes one."""
    return {"baseline": "baseline", "minimax": "minimax", "simultaneous": "simultaneous",
            "k_steps": f"k = {cfg.k}", "r1": f"R1 (gamma {cfg.r1_gamma:g})"}


def plot(m: Mixtures2DMeasurement, cfg: Mixtures2DConfig, verdict=None) -> dict:
    summ = {mx: {a: summarise(r, m2d.MIXTURES[mx]().n_modes) for a, r in arms.items()}
            for mx, arms in m.results.items()}
    title = (f"{len(m.seeds)} seeds per arm, {cfg.steps} G steps; first {cfg.n_show} seeds "
             f"shown")
    return {"": plot_samples(m.shown, summ, title, arm_labels(cfg)),
            "modes": plot_mode_histogram(
                summ, f"Modes covered, {len(m.seeds)} seeds per arm, {cfg.steps} G steps "
                      f"(dotted: published figures, other setups)", arm_labels(cfg), PUBLISHED)}


register_claim(
    "mixtures2d",
    "Mode collapse on 2-D mixtures (the ring of 8 and the 5 x 5 grid of Gaussians): modes "
    "covered and high-quality samples over seeds, per generator loss, update order, k and with "
    "R1 (a study: reported, not asserted).", Mixtures2DConfig, measure=measure, report=report,
    plot=plot, kind="study",
    quick={"seeds": 3, "steps": 20, "batch": 32, "hidden": 8, "n_eval": 200, "n_show": 2,
           "k": 2})
