"""gantheory.testing: the worked examples of docs/testing.md run as written, the broken losses are
caught with the messages the docs show, and each check fails for a deliberately broken loss."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from gantheory import testing
from gantheory.densities import Normal

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
BCE = F.binary_cross_entropy_with_logits


def _blocks(kind: str) -> dict[str, str]:
    """The fenced blocks of docs/testing.md marked ``<!-- kind: name -->``, by name."""
    text = DOC.read_text()
    found = re.findall(rf"<!-- {kind}: (\w+) -->\n```\w+\n(.*?)```", text, flags=re.S)
    return {name: body for name, body in found}


EXAMPLES, MESSAGES = _blocks("example"), _blocks("message")


def test_the_docs_hold_three_examples_and_a_message_for_each_broken_one():
    assert set(EXAMPLES) == {"correct", "log_sigmoid", "swapped"}
    assert set(MESSAGES) == {"log_sigmoid", "swapped"}


def test_worked_example_correct_loss_passes_every_check():
    exec(compile(EXAMPLES["correct"], "docs/testing.md:correct", "exec"), {})


@pytest.mark.parametrize("name", ["log_sigmoid", "swapped"])
def test_worked_example_broken_loss_is_caught_with_the_documented_message(name):
    # The block runs top to bottom: the lines marked "passes" must pass, so the AssertionError
    # comes from the last line, and its text is the one the docs show a user.
    with pytest.raises(AssertionError) as caught:
        exec(compile(EXAMPLES[name], f"docs/testing.md:{name}", "exec"), {})
    assert str(caught.value) == MESSAGES[name].strip()


# -- each check against a deliberately broken loss -------------------------------------------

def good_d_loss(real, fake):
    return BCE(real, torch.ones_like(real)) + BCE(fake, torch.zeros_like(fake))


def non_saturating_g_loss(fake):
    return BCE(fake, torch.ones_like(fake))


def test_discriminator_check_passes_the_standard_loss_with_its_numbers():
    r = testing.check_discriminator_loss(good_d_loss)
    assert r.passed and r.numbers["max_abs_d_minus_d_star"] <= testing.D_TOL
    assert json.loads(r.to_json())["numbers"]["tolerance"] == testing.D_TOL


def test_discriminator_check_finds_d_star_on_a_non_normal_pair():
    # Proposition 1 holds for any pair: Laplace data, logistic fakes
    assert testing.check_discriminator_loss(good_d_loss, "laplace(0,1)", "logistic(1,0.6)").passed


def test_a_loss_without_a_finite_minimiser_is_named_so():
    def linear(real, fake):  # a WGAN-style critic loss without a constraint
        return fake.mean() - real.mean()

    r = testing.check_discriminator_loss(linear)
    assert not r.passed and "no finite minimiser" in r.reason


def test_a_loss_with_a_wrong_weighting_is_not_d_star():
    def weighted(real, fake):  # fakes counted three times: optimum p/(p + 3q), not D*
        return BCE(real, torch.ones_like(real)) + 3 * BCE(fake, torch.zeros_like(fake))

    r = testing.check_discriminator_loss(weighted)
    assert not r.passed and "swapped" not in r.reason and "is not D*" in r.reason


def test_a_loss_that_raises_is_reported_not_crashed():
    r = testing.check_discriminator_loss(lambda real, fake: real.numpy().mean())
    assert not r.passed and "failed" in r.reason


@pytest.mark.parametrize("g_loss", [non_saturating_g_loss, testing.minimax_generator_loss])
def test_generator_check_passes_both_losses_of_section_3(g_loss):
    r = testing.check_generator_loss(g_loss)
    assert r.passed and max(map(abs, r.numbers["grad_at_fixed_point"])) <= testing.FIXED_POINT_TOL


def test_non_saturating_loss_does_not_saturate_far_from_the_data():
    # Section 3: far from p_data the minimax gradient vanishes, the non-saturating one does not
    ratio = testing.check_generator_loss(non_saturating_g_loss).numbers[
        "far_gradient_ratio_to_minimax"]
    assert ratio > 10


def test_generator_loss_with_the_wrong_sign_is_caught():
    r = testing.check_generator_loss(lambda fake: -non_saturating_g_loss(fake))
    assert not r.passed and "away from p_data" in r.reason


def test_generator_loss_not_differentiable_at_d_one_half_fails_the_fixed_point():
    # With D = 1/2 everywhere, every loss of D(G(z)) smooth at logit 0 has gradient 0; one with a
    # NaN derivative there (sqrt(l^2)) does not have the fixed point.
    r = testing.check_generator_loss(lambda fake: torch.sqrt(fake ** 2).mean())
    assert not r.passed and "not a fixed point" in r.reason


def test_stability_check_catches_a_float32_precision_loss():
    def log1m_sigmoid(real, fake):  # finite, but log(1 - sigmoid) in float32 loses all digits
        d_real = torch.sigmoid(real).clamp(1e-30, 1 - 1e-7)
        d_fake = torch.sigmoid(fake).clamp(1e-30, 1 - 1e-7)
        return -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())

    r = testing.check_stability(log1m_sigmoid)
    assert not r.passed and "precision is lost" in r.reason


@settings(max_examples=3, deadline=None)
@given(testing.density_pairs())
def test_the_standard_loss_is_minimised_by_d_star_on_drawn_pairs(pair):
    # the hypothesis form of the check, as docs/testing.md shows it
    testing.assert_discriminator_loss(good_d_loss, *pair)


def test_drawn_pairs_never_include_one_the_check_refuses_to_judge():
    # N(2, 1) against N(-1, 0.61): their central 96% barely overlap, so the check refuses the pair
    # (a failed result, whatever the loss); the strategy must never draw such a pair, or the
    # property above would fail a correct loss
    from math import exp

    from hypothesis import errors, find

    refused = testing.check_discriminator_loss(good_d_loss, Normal(2, 1), Normal(-1, exp(-0.5)))
    assert not refused.passed and "barely overlap" in refused.reason

    def too_little_overlap(pq):
        return testing._compared(testing._fit_grid(*pq)[2].numpy(), *pq).size < \
            testing.MIN_COMPARED

    with pytest.raises(errors.NoSuchExample):
        find(testing.density_pairs(), too_little_overlap, settings=settings(max_examples=300))


def test_stability_check_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        testing.check_stability(good_d_loss, kind="critic")


# -- the pytest plugin (entry point pytest11) ---------------------------------------------------

PLUGIN_TESTS = '''
import torch
import torch.nn.functional as F

BCE = F.binary_cross_entropy_with_logits

def correct(real, fake):
    return BCE(real, torch.ones_like(real)) + BCE(fake, torch.zeros_like(fake))

def log_sigmoid(real, fake):
    return -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())

def swapped(real, fake):
    return correct(fake, real)

def test_correct(gan_checks, density_pair):
    gan_checks.assert_discriminator_loss(correct, *density_pair)
    gan_checks.assert_stable(correct)

def test_log_sigmoid(gan_checks):
    gan_checks.assert_stable(log_sigmoid)

def test_swapped(gan_checks, density_pair):
    gan_checks.assert_discriminator_loss(swapped, *density_pair)

def test_strategies(gan_strategies):
    assert hasattr(gan_strategies, "density_pairs")
'''


def test_pytest_plugin_is_registered_and_its_fixtures_catch_the_broken_losses(tmp_path):
    # A fresh pytest process in a bare folder: the fixtures come only from the installed entry
    # point (no -p, no conftest).
    (tmp_path / "test_user_gan.py").write_text(PLUGIN_TESTS)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-rf", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    text = out.stdout + out.stderr
    assert "2 failed, 2 passed" in text, text
    assert "FAILED test_user_gan.py::test_log_sigmoid" in text
    assert "FAILED test_user_gan.py::test_swapped" in text
    assert "never the log of sigmoid(l)" in text and "labels look swapped" in text


def test_without_hypothesis_the_strategies_name_the_extra():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "from gantheory import testing\n"  # the checks themselves need no hypothesis
            "try:\n    testing.density_pairs()\n"
            "except ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("gantheory.strategies needs hypothesis: "
                                  "pip install 'gantheory[testing]'")
