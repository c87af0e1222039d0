"""gantheory.stats: the interval and test helpers the studies report, against known values."""

import numpy as np
import pytest

from gantheory.densities import Normal
from gantheory.stats import (fisher_greater, histogram_jsd, mannwhitney_faster, median_interval,
                             steps_to_success, wilson_interval)


def test_wilson_interval_known_values():
    # Wilson (1927) score interval, z = 1.959964: 60/64 -> [0.8500, 0.9754]; 0/64 -> [0, 0.0566]
    assert wilson_interval(60, 64) == pytest.approx((0.85003, 0.97543), abs=1e-5)
    assert wilson_interval(0, 64) == pytest.approx((0.0, 0.05662), abs=1e-5)


def test_fisher_and_mannwhitney_directions():
    assert fisher_greater(9, 10, 1, 10)["p_greater"] < 0.01
    assert fisher_greater(1, 10, 9, 10)["p_greater"] > 0.99
    fast, slow = np.array([10.0, 20, 30, 15, 25]), np.array([np.inf] * 5)
    assert mannwhitney_faster(fast, slow) < 0.01 and mannwhitney_faster(slow, fast) > 0.99
    assert mannwhitney_faster(slow, slow) == 1.0


def test_steps_to_success_and_median_interval():
    steps = np.array([0, 10, 20])
    curves = np.array([[1.0, 1.0, np.nan], [0.5, 0.001, np.nan], [0.001, 0.5, np.nan]])
    t = steps_to_success(steps, curves, 0.01)
    assert t[0] == 20 and t[1] == 10 and np.isinf(t[2])
    med, lo, hi = median_interval(np.arange(64.0))
    assert lo < med < hi and (lo, hi) == (23.0, 40.0)


def test_histogram_jsd_is_small_for_p_data_and_near_log2_for_far_samples():
    p = Normal(0, 1)
    edges = np.linspace(-5, 5, 51)
    rng = np.random.default_rng(0)
    near = histogram_jsd(p, rng.standard_normal(20000), edges)[0]
    far = histogram_jsd(p, 50 + rng.standard_normal(20000), edges)[0]
    # far: every sample lands in the right tail bin, where p_data has mass 2.9e-7 (beyond 5 sigma)
    assert near < 2e-3 and far == pytest.approx(np.log(2), abs=1e-5)
