"""Statistics of training outcomes across seeds: rates with intervals, tests, time to success,
and a sample-based JSD estimate for generators whose density is unknown.

Training claims report what fraction of S seeds succeeded, never a single lucky run:

* :func:`wilson_interval` for a success rate (better coverage than the normal approximation at
  rates near 0 or 1, which is where GAN experiments live);
* :func:`fisher_greater` for "arm A succeeds more often than arm B" (exact, one-sided);
* :func:`steps_to_success` and :func:`mannwhitney_faster` for "arm A succeeds sooner";
* :func:`median_interval`, a distribution-free interval for a median;
* :func:`histogram_jsd`, the JSD between p_data and a generator known only by its samples.

    >>> from gantheory.stats import wilson_interval
    >>> wilson_interval(60, 64)    # (0.85.., 0.97..)
"""

from __future__ import annotations

import math

import numpy as np

from .densities import Density

# Two-sided 95% intervals throughout; z_{0.975} of the standard normal.
CONFIDENCE = 0.95


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    r"""Wilson score interval for a binomial proportion.

    .. math:: \frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n}
              + \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}}, \qquad \hat p = \frac{s}{n}

    (Wilson 1927). Returns (lo, hi) within [0, 1]; (0, 1) when n = 0.
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n={n}], got {successes}")
    from scipy import stats  # imported here: scipy.stats costs 0.6 s at CLI start-up

    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def fisher_greater(succ_a: int, n_a: int, succ_b: int, n_b: int) -> dict:
    """Fisher's exact test that arm A's success rate exceeds arm B's (one-sided), and two-sided.

    The 2x2 table is [[succ_a, n_a - succ_a], [succ_b, n_b - succ_b]]; ``alternative='greater'``
    tests odds ratio > 1, i.e. A succeeds more often.
    """
    table = [[succ_a, n_a - succ_a], [succ_b, n_b - succ_b]]
    from scipy import stats

    odds, p_greater = stats.fisher_exact(table, alternative="greater")
    _, p_two = stats.fisher_exact(table, alternative="two-sided")
    return {"table": table, "odds_ratio": float(odds), "p_greater": float(p_greater),
            "p_two_sided": float(p_two)}


def steps_to_success(steps: np.ndarray, curves: np.ndarray, threshold: float) -> np.ndarray:
    """Per seed, the first recorded step at which ``curves`` (T, S) is below ``threshold``.

    ``inf`` for a seed that never gets there (non-finite values count as not there).
    """
    ok = np.nan_to_num(np.asarray(curves, dtype=np.float64), nan=np.inf) < threshold
    first = np.argmax(ok, axis=0)
    return np.where(ok.any(axis=0), np.asarray(steps)[first], np.inf).astype(np.float64)


def mannwhitney_faster(steps_a: np.ndarray, steps_b: np.ndarray) -> float:
    """One-sided Mann-Whitney U p-value that arm A reaches success in fewer steps than arm B.

    Seeds that never succeed carry ``inf``: a time censored at the end of the run, larger than any
    observed time, which a rank test handles exactly (ties among them included). 1.0 when both
    arms never succeed (nothing to compare).
    """
    a, b = np.asarray(steps_a, dtype=float), np.asarray(steps_b, dtype=float)
    if np.isinf(a).all() and np.isinf(b).all():
        return 1.0
    big = max(np.max(a[np.isfinite(a)], initial=0), np.max(b[np.isfinite(b)], initial=0)) + 1
    a, b = np.where(np.isfinite(a), a, big), np.where(np.isfinite(b), b, big)
    from scipy import stats

    return float(stats.mannwhitneyu(a, b, alternative="less").pvalue)


def median_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(median, lo, hi): a distribution-free interval for the median from order statistics.

    With n values, the number below the true median is Binomial(n, 1/2); the interval
    [x_(j), x_(k)] with j, k from its quantiles covers the median with probability
    >= ``confidence`` (Conover, Practical Nonparametric Statistics, 3.2). ``inf`` values (a seed
    that never succeeded) are kept, so the upper end may be ``inf``. Below n = 6 no pair of order
    statistics reaches 95%; the interval is then the full range (coverage 1 - 2^(1-n)).
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    med = float(np.median(x))
    from scipy import stats

    j = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))  # number of points below lo
    k = n - j
    lo = float(x[max(j - 1, 0)])
    hi = float(x[min(k, n - 1)])
    return med, lo, hi


def rate_summary(success: np.ndarray) -> dict:
    """Count, rate and Wilson interval of a boolean array of per-seed successes."""
    s, n = int(np.sum(success)), int(np.size(success))
    lo, hi = wilson_interval(s, n)
    return {"successes": s, "n": n, "rate": s / n if n else math.nan, "wilson95": [lo, hi]}


def histogram_jsd(p_data: Density, samples: np.ndarray, edges: np.ndarray) -> np.ndarray:
    r"""JSD between p_data and the empirical law of ``samples``, both binned on ``edges``.

    ``samples`` has shape (S, n): S generators, n samples each. Bin probabilities of p_data are
    exact (differences of its cdf); the generator's are sample frequencies; the two outer
    intervals (-inf, edges[0]) and (edges[-1], inf) are two more bins, so both sides sum to 1.

    .. math:: \widehat{JSD} = JSD(P_B \,\|\, \hat Q_B),\qquad
              P_B(i) = \int_{B_i} p_{data},\quad \hat Q_B(i) = \frac{\#\{x_j \in B_i\}}{n}

    Binning can only lower a divergence (data processing), and the plug-in estimate from n
    samples is biased upward by roughly (B - 1) / (8 n) when the laws are close (B bins); callers
    report the estimator's floor by applying it to samples of p_data itself.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[None]
    cdf = np.concatenate([[0.0], np.asarray(p_data.cdf(edges), dtype=np.float64), [1.0]])
    p = np.diff(cdf)  # (B + 2,)
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    out = np.empty(samples.shape[0])
    for s, row in enumerate(samples):
        row = row[np.isfinite(row)]
        if row.size == 0:
            out[s] = math.nan
            continue
        q = np.histogram(row, bins=full)[0] / row.size
        m = 0.5 * (p + q)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(p > 0, p * np.log(p / m), 0.0)
            b = np.where(q > 0, q * np.log(q / m), 0.0)
        out[s] = 0.5 * (a.sum() + b.sum())
    return out
