"""gantheory.strategies: bounded, valid draws; the docstring example is not vacuous."""

import math
import subprocess
import sys

from hypothesis import given, settings

from gantheory import (LOG4, Discriminator, jsd, optimal_discriminator, value,
                       virtual_training_criterion)
from gantheory.densities import LOC_MAX, SCALE_MIN
from gantheory.strategies import any_densities, density_pairs, torch_discriminators

# The oracle's 1e-9, and Proposition 1's value gap floor at that accuracy.
ORACLE_ACCURACY = 1e-9


@given(any_densities())
def test_any_density_is_inside_the_supported_range(p):
    for c in p.components():
        assert abs(c.mu) <= LOC_MAX and c.sigma >= SCALE_MIN


@settings(max_examples=8, deadline=None)
@given(density_pairs(families=True))
def test_theorem_1_holds_on_every_family(pair):
    p, q = pair
    assert virtual_training_criterion(p, q) == __import__("pytest").approx(
        -LOG4 + 2 * jsd(p, q), abs=ORACLE_ACCURACY)


MY_D = Discriminator.from_logits(lambda x: 0.8 * x - 0.3)


@settings(max_examples=10, deadline=None)
@given(density_pairs())
def test_docstring_example_is_finite_and_holds(pair):
    # the example of gantheory.strategies' docstring: never -inf, never above C(G)
    p_data, p_g = pair
    v = value(MY_D, p_data, p_g)
    assert math.isfinite(v)
    assert v <= value(optimal_discriminator(p_data, p_g), p_data, p_g) + ORACLE_ACCURACY


@settings(max_examples=5, deadline=None)
@given(torch_discriminators(), density_pairs())
def test_torch_module_discriminators_never_beat_d_star(d, pair):
    p_data, p_g = pair
    v = value(d, p_data, p_g)
    assert math.isfinite(v)
    assert v <= value(optimal_discriminator(p_data, p_g), p_data, p_g) + ORACLE_ACCURACY


def test_missing_hypothesis_is_named_in_one_line():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import gantheory.strategies\n"
            "except ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("gantheory.strategies needs hypothesis: "
                                  "pip install 'gantheory[testing]'")
