"""Tests for gantheory.metrics.parzen: the Parzen-window protocol against independent computations.

Each property has a seeded deterministic case beside it. References: a float64 brute force with
explicit differences and scipy's logsumexp, the Gaussian log-density for a single sample, and
scikit-learn's KernelDensity.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import logsumexp
from scipy.stats import norm

from gantheory.metrics.parzen import (
    PAPER_SIGMAS,
    SIGMA_RANGE,
    ParzenResult,
    parzen_log_likelihood,
    parzen_log_likelihoods,
    parzen_protocol,
    reference_bounds,
)

# The expansion ||x||^2 - 2x.s + ||s||^2 loses about eps * (||x||^2 + ||s||^2) / (2 sigma^2)
# <= 2.2e-16 * 20 / 0.005 ~ 1e-12 (d <= 10, values in [0, 1], sigma >= 0.05) against the explicit
# differences; 1e-9 leaves three orders of margin and still catches any wrong constant.
RTOL = 1e-9
ATOL = 1e-9  # log-densities can pass through 0, where a pure relative tolerance means nothing
# Same maths, only the summation order changes (permutation, chunking): a few ulps of ~100.
REORDER_TOL = 1e-11
# scikit-learn sums the same kernels in its own order; the brief asks for 1e-6 relative.
SKLEARN_RTOL = 1e-6

PROPERTY = settings(max_examples=50, deadline=None)
ROOT = pathlib.Path(__file__).resolve().parents[2]
PYPATH = os.environ.get("PYTHONPATH", "")


def brute_force(samples: np.ndarray, x: np.ndarray, sigma: float) -> np.ndarray:
    """log p(x) with explicit differences and scipy's logsumexp, all float64."""
    sq = ((x[:, None, :] - samples[None, :, :]) ** 2).sum(axis=2)
    d = samples.shape[1]
    return (
        logsumexp(-sq / (2 * sigma**2), axis=1)
        - np.log(len(samples))
        - d * np.log(sigma * np.sqrt(2 * np.pi))
    )


@st.composite
def parzen_case(draw, max_n: int = 30, max_d: int = 10):
    """(samples (m, d), x (n, d), sigma): bounded shapes, values in [0, 1], sigma in [0.05, 2]."""
    d = draw(st.integers(1, max_d))
    unit = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)
    samples = draw(arrays(np.float64, (draw(st.integers(1, max_n)), d), elements=unit))
    x = draw(arrays(np.float64, (draw(st.integers(1, max_n)), d), elements=unit))
    return samples, x, draw(st.floats(0.05, 2.0))


def seeded_case(m=17, n=11, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((m, d)), rng.random((n, d))


# --- agreement with the brute force ----------------------------------------------------------


@PROPERTY
@given(parzen_case())
def test_parzen_matches_brute_force(case):
    samples, x, sigma = case
    got = parzen_log_likelihood(samples, x, sigma)
    assert got.dtype == torch.float64 and got.shape == (len(x),)
    np.testing.assert_allclose(got.numpy(), brute_force(samples, x, sigma), rtol=RTOL, atol=ATOL)


def test_parzen_matches_brute_force_seeded():
    samples, x = seeded_case()
    for sigma in (0.05, 0.3, 1.7):
        got = parzen_log_likelihood(samples, x, sigma).numpy()
        np.testing.assert_allclose(got, brute_force(samples, x, sigma), rtol=RTOL, atol=ATOL)


def test_parzen_matches_brute_force_on_mnist_sized_vectors():
    # d = 784 where cancellation in the expansion is largest; paper's smallest sigma.
    rng = np.random.default_rng(1)
    samples, x = rng.random((50, 784)), rng.random((20, 784))
    samples[:5] = x[:5] + 0.01 * rng.standard_normal((5, 784))  # some very close pairs
    got = parzen_log_likelihood(samples, x, 0.1).numpy()
    np.testing.assert_allclose(got, brute_force(samples, x, 0.1), rtol=RTOL)


def test_parzen_log_likelihoods_matches_one_width_at_a_time():
    samples, x = seeded_case(seed=2)
    grid = parzen_log_likelihoods(samples, x, PAPER_SIGMAS)
    assert grid.shape == (len(PAPER_SIGMAS), len(x))
    for k, sigma in enumerate(PAPER_SIGMAS):
        np.testing.assert_allclose(grid[k].numpy(), brute_force(samples, x, sigma), rtol=RTOL)


def test_torch_and_numpy_inputs_agree():
    samples, x = seeded_case(seed=3)
    a = parzen_log_likelihood(samples, x, 0.4)
    b = parzen_log_likelihood(torch.tensor(samples, dtype=torch.float32), torch.tensor(x), 0.4)
    # float32 input is rounded once on the way in; the arithmetic is float64 either way.
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)
    assert b.dtype == torch.float64


# --- invariances -----------------------------------------------------------------------------


@PROPERTY
@given(parzen_case(), st.randoms(use_true_random=False))
def test_parzen_is_invariant_to_sample_order(case, rnd):
    samples, x, sigma = case
    perm = list(range(len(samples)))
    rnd.shuffle(perm)
    a = parzen_log_likelihood(samples, x, sigma).numpy()
    b = parzen_log_likelihood(samples[perm], x, sigma).numpy()
    np.testing.assert_allclose(a, b, rtol=REORDER_TOL, atol=REORDER_TOL)


def test_parzen_is_invariant_to_sample_order_seeded():
    samples, x = seeded_case(seed=4)
    perm = np.random.default_rng(4).permutation(len(samples))
    a = parzen_log_likelihood(samples, x, 0.2).numpy()
    b = parzen_log_likelihood(samples[perm], x, 0.2).numpy()
    np.testing.assert_allclose(a, b, rtol=REORDER_TOL)


@PROPERTY
@given(parzen_case(), st.integers(1, 40))
def test_chunk_size_does_not_change_the_result(case, chunk):
    samples, x, sigma = case
    a = parzen_log_likelihood(samples, x, sigma).numpy()
    b = parzen_log_likelihood(samples, x, sigma, chunk=chunk).numpy()
    np.testing.assert_allclose(a, b, rtol=REORDER_TOL, atol=REORDER_TOL)


def test_chunk_size_does_not_change_the_result_seeded():
    samples, x = seeded_case(n=23, seed=5)
    ref = parzen_log_likelihoods(samples, x, [0.1, 0.5], chunk=1000).numpy()
    for chunk in (1, 4, 22, 23):
        got = parzen_log_likelihoods(samples, x, [0.1, 0.5], chunk=chunk).numpy()
        np.testing.assert_allclose(got, ref, rtol=REORDER_TOL)


@PROPERTY
@given(parzen_case())
def test_density_never_exceeds_the_kernel_peak(case):
    # log p(x) <= -d log(sigma sqrt(2 pi)), with equality at m = 1, x = s_1. Holds exactly only if
    # the squared distances are clamped at 0 (the expansion can round them slightly negative).
    samples, _, sigma = case
    peak = -samples.shape[1] * math.log(sigma * math.sqrt(2 * math.pi))
    slack = 1e-12 * (1 + abs(peak))  # rounding of logsumexp and of the constant: a few ulps
    assert parzen_log_likelihood(samples, samples, sigma).max().item() <= peak + slack
    at_peak = parzen_log_likelihood(samples[:1], samples[:1], sigma).item()
    assert at_peak == pytest.approx(peak, abs=ATOL)


def test_density_never_exceeds_the_kernel_peak_seeded():
    rng = np.random.default_rng(15)
    samples = rng.random((40, 784))
    peak = -784 * math.log(0.1 * math.sqrt(2 * math.pi))
    ll = parzen_log_likelihoods(samples, samples, [0.1]).numpy()[0]
    # x = s_i: its own kernel, the others underflow. 1e-12 is a few ulps of ~1800; an unclamped
    # distance rounds to about -4e-13 here, i.e. +2e-11 after the factor 1/(2 sigma^2) = 50.
    assert ll.max() <= peak - math.log(40) + 1e-12


# --- a single sample is a Gaussian -----------------------------------------------------------


@PROPERTY
@given(parzen_case(max_n=1))
def test_single_sample_gives_the_gaussian_log_density(case):
    samples, x, sigma = case
    expected = norm.logpdf(x, loc=samples[0], scale=sigma).sum(axis=1)
    got = parzen_log_likelihood(samples, x, sigma).numpy()
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_single_sample_gives_the_gaussian_log_density_seeded():
    from scipy.stats import multivariate_normal

    samples, x = seeded_case(m=1, n=7, d=4, seed=6)
    expected = multivariate_normal(mean=samples[0], cov=0.3**2 * np.eye(4)).logpdf(x)
    np.testing.assert_allclose(parzen_log_likelihood(samples, x, 0.3).numpy(), expected, rtol=RTOL)


# --- the protocol ----------------------------------------------------------------------------


@PROPERTY
@given(parzen_case(), st.lists(st.floats(0.05, 2.0), min_size=1, max_size=6))
def test_protocol_picks_the_best_sigma_on_valid(case, sigmas):
    samples, valid, _ = case
    test = np.vstack([valid[::-1], samples])
    curve = np.array([brute_force(samples, valid, s).mean() for s in sigmas])
    top2 = np.sort(curve)[-2:]
    assume(len(sigmas) == 1 or top2[1] - top2[0] > 1e-6 * (1 + abs(top2[1])))  # no near-ties
    r = parzen_protocol(samples, valid, test, sigmas=sigmas)
    assert r.sigma == pytest.approx(sigmas[int(np.argmax(curve))], rel=1e-15)
    ll = brute_force(samples, test, r.sigma)
    assert r.mean_ll == pytest.approx(ll.mean(), rel=RTOL, abs=ATOL)
    assert r.stderr == pytest.approx(ll.std() / math.sqrt(len(ll)), rel=1e-6, abs=ATOL)
    got_curve = [c["valid_mean_ll"] for c in r.sigma_curve]
    np.testing.assert_allclose(got_curve, curve, rtol=RTOL, atol=ATOL)


def test_protocol_picks_the_best_sigma_on_valid_seeded():
    rng = np.random.default_rng(7)
    centres = rng.random((3, 5))
    draw = lambda n: centres[rng.integers(0, 3, n)] + 0.15 * rng.standard_normal((n, 5))
    samples, valid, test = draw(200), draw(100), draw(150)
    r = parzen_protocol(samples, valid, test)
    curve = [brute_force(samples, valid, s).mean() for s in PAPER_SIGMAS]
    assert r.sigma == PAPER_SIGMAS[int(np.argmax(curve))]
    assert 0 < int(np.argmax(curve)) < len(PAPER_SIGMAS) - 1  # an interior maximum: a real choice
    assert r.mean_ll == pytest.approx(brute_force(samples, test, r.sigma).mean(), rel=RTOL)
    assert (r.n_samples, r.n_test, r.n_valid) == (200, 150, 100)


def test_protocol_uses_only_the_first_n_valid_rows():
    samples, x = seeded_case(m=40, n=30, seed=8)
    valid = np.vstack([x[:10], np.full((20, x.shape[1]), 50.0)])  # rows 10.. are far outliers
    r = parzen_protocol(samples, valid, x, n_valid=10)
    assert r.n_valid == 10
    expected = [brute_force(samples, x[:10], s).mean() for s in PAPER_SIGMAS]
    np.testing.assert_allclose([c["valid_mean_ll"] for c in r.sigma_curve], expected, rtol=RTOL)


def test_default_sigmas_are_the_papers_logspace():
    np.testing.assert_allclose(PAPER_SIGMAS, np.logspace(-1, 0, 10), rtol=1e-15)
    samples, x = seeded_case(seed=9)
    r = parzen_protocol(samples, x, x)
    assert [c["sigma"] for c in r.sigma_curve] == list(PAPER_SIGMAS)


def test_result_is_json_with_stable_keys():
    samples, x = seeded_case(seed=10)
    d = parzen_protocol(samples, x, x, sigmas=[0.2, 0.4]).to_dict()
    keys = ["sigma", "mean_ll", "stderr", "n_samples", "n_test", "n_valid", "sigma_curve"]
    assert list(d) == keys
    assert d["sigma_curve"][0].keys() == {"sigma", "valid_mean_ll"}
    assert json.loads(json.dumps(d)) == d


def test_reference_bounds_bracket_a_concentrated_data_set():
    rng = np.random.default_rng(11)
    # near-binary "images": what a Parzen window on real data rewards and on noise does not
    data = (rng.random((900, 8)) < 0.3) * 0.9 + 0.05 * rng.random((900, 8))
    train, valid, test = data[:600], data[600:700], data[700:]
    seeded = lambda: torch.Generator().manual_seed(1)
    b = reference_bounds(train, valid, test, n_samples=500, generator=seeded())
    assert set(b) == {"train", "uniform"} and all(isinstance(v, ParzenResult) for v in b.values())
    assert b["train"].mean_ll > b["uniform"].mean_ll + 3 * (b["train"].stderr + b["uniform"].stderr)
    assert b["train"].n_samples == b["uniform"].n_samples == 500
    again = reference_bounds(train, valid, test, n_samples=500, generator=seeded())
    assert again["train"] == b["train"] and again["uniform"] == b["uniform"]


def test_reference_bounds_with_all_of_train_is_the_protocol_on_train():
    samples, x = seeded_case(m=30, seed=12)
    b = reference_bounds(samples, x, x, n_samples=30)  # a permutation of train: same windows
    direct = parzen_protocol(samples, x, x)
    assert b["train"].sigma == direct.sigma
    assert b["train"].mean_ll == pytest.approx(direct.mean_ll, rel=REORDER_TOL)


# --- scikit-learn ----------------------------------------------------------------------------


def test_parzen_matches_sklearn_kernel_density():
    kde_mod = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(13)
    samples, x = rng.random((2000, 20)), rng.random((300, 20))
    for sigma in (0.1, 0.36, 1.0):
        # leaf_size >= len(samples): one leaf, every kernel summed. With sklearn's default tree
        # (1.9.1) the pruning returns log-densities off by O(1) relative once d >~ 10 and the
        # kernels are small (see docs/evaluation.md), so the default is not a usable reference.
        kde = kde_mod.KernelDensity(kernel="gaussian", bandwidth=sigma, leaf_size=len(samples))
        expected = kde.fit(samples).score_samples(x)
        got = parzen_log_likelihood(samples, x, sigma).numpy()
        np.testing.assert_allclose(got, expected, rtol=SKLEARN_RTOL)


# --- input checks ----------------------------------------------------------------------------

GOOD = np.random.default_rng(14).random((5, 3))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: parzen_log_likelihood(GOOD, GOOD[:, :2], 0.5), "x"),
        (lambda: parzen_log_likelihood(np.empty((0, 3)), GOOD, 0.5), "samples"),
        (lambda: parzen_log_likelihood(GOOD, np.empty((0, 3)), 0.5), "x"),
        (lambda: parzen_log_likelihood(GOOD[0], GOOD, 0.5), "samples"),
        (lambda: parzen_log_likelihood(np.where(GOOD > 0.5, np.nan, GOOD), GOOD, 0.5), "samples"),
        (lambda: parzen_log_likelihood(GOOD, np.where(GOOD > 0.5, np.inf, GOOD), 0.5), "x"),
        (lambda: parzen_log_likelihood(GOOD, GOOD, 0.0), "sigma"),
        (lambda: parzen_log_likelihood(GOOD, GOOD, -1.0), "sigma"),
        (lambda: parzen_log_likelihood(GOOD, GOOD, float("nan")), "sigma"),
        (lambda: parzen_log_likelihood(GOOD, GOOD, 0.5, chunk=0), "chunk"),
        (lambda: parzen_log_likelihoods(GOOD, GOOD, []), "sigmas"),
        (lambda: parzen_log_likelihoods(GOOD, GOOD, [0.1, -0.2]), "sigmas"),
        (lambda: parzen_protocol(GOOD, GOOD[:, :2], GOOD), "valid"),
        (lambda: parzen_protocol(GOOD, GOOD, GOOD[:, :1]), "test"),
        (lambda: parzen_protocol(GOOD, GOOD, GOOD, n_valid=0), "n_valid"),
        (lambda: parzen_protocol(GOOD, GOOD, GOOD, sigmas=[0.0]), "sigmas"),
        # below the supported range sigma**2 underflows to 0; above it the window is flat
        (lambda: parzen_protocol(GOOD, GOOD, GOOD, sigmas=[1e-300]), "sigmas"),
        (lambda: parzen_protocol(GOOD, GOOD, GOOD, sigmas=[0.5, 2e4]), "sigmas"),
        (lambda: reference_bounds(GOOD, GOOD, GOOD, n_samples=6), "n_samples"),
    ],
)
def test_bad_input_raises_a_one_line_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.split()[0] == name and "\n" not in message


# --- the benchmark's small mode --------------------------------------------------------------


def test_benchmark_quick_mode_runs_and_agrees_with_sklearn():
    pytest.importorskip("sklearn")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_parzen.py"), "--quick"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), PYPATH]))},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["agree"] and report["max_rel_diff"] < SKLEARN_RTOL


def test_the_ends_of_the_supported_sigma_range_give_the_closed_form():
    """At the smallest width a point on a sample sees its own kernel alone (the others, at
    squared distance >= 1/255^2, underflow): log(1/m) - d log(sigma sqrt(2 pi)). At the largest
    every kernel is flat over [0, 1]^d: -d log(sigma sqrt(2 pi))."""
    rng = np.random.default_rng(3)
    s = rng.integers(0, 256, (4, 784)) / 255
    s[1:] += (s[1:] == s[0]) / 255 * np.where(s[1:] < 0.5, 1, -1)  # distinct from s[0]
    m, d = len(s), s.shape[1]
    # smallest width: the distances' rounding, eps * 2d / (2 sigma^2) = 1.7e-5 nats at 1e-4;
    # largest: the exponents ignored by the flat form, d / (2 sigma^2) = 3.9e-6 at 1e4
    tol = 1e-4
    for sigma in SIGMA_RANGE:
        got = parzen_log_likelihoods(s, s[:1], [sigma])[0, 0].item()
        want = math.log(1 / m if sigma < 1 else 1.0) - d * math.log(sigma * math.sqrt(2 * math.pi))
        assert abs(got - want) <= tol, (sigma, got, want)
