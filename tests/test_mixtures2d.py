"""The 2-D mixtures and their measures against hand-computed cases and closed forms; the batched
trainer against single-seed runs; R1 against a penalty built another way."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gantheory import mixtures2d as m2d
from gantheory.config import override
from gantheory.errors import ConfigError
from gantheory.gan.losses import discriminator_loss
from gantheory.gan.step import discriminator_step
from gantheory.oned.nets import EnsembleMLP
from gantheory.util.rng import seed_generator

# Monte Carlo bounds: 5 standard errors (a false failure has probability ~6e-7).
MC_Z = 5.0


def _at_modes(mix, modes, n, jitter=0.0, seed=0):
    """n samples spread evenly over the listed modes, each within ``jitter`` std of its centre."""
    rng = np.random.default_rng(seed)
    idx = np.resize(np.asarray(modes), n)
    x = mix.centres[idx].copy()
    if jitter:
        d = rng.normal(size=(n, 2))
        x += jitter * mix.std * d / np.linalg.norm(d, axis=1, keepdims=True)
    return x


def test_the_ring_has_eight_distinct_modes_on_a_circle_of_radius_two():
    mix = m2d.ring()
    assert mix.n_modes == 8 and mix.std == 0.02
    np.testing.assert_allclose(np.linalg.norm(mix.centres, axis=1), 2.0, rtol=1e-15)
    angles = np.sort(np.mod(np.arctan2(mix.centres[:, 1], mix.centres[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-12)
    d = np.linalg.norm(mix.centres[:, None] - mix.centres[None], axis=-1)
    # nearest neighbours are a chord of pi/4 apart: 2 r sin(pi / 8)
    assert np.min(d[~np.eye(8, dtype=bool)]) == pytest.approx(4 * math.sin(math.pi / 8), 1e-12)


def test_nine_points_of_linspace_would_repeat_a_mode():
    # the reason for [:-1]: the angle 2 pi is the angle 0
    ang = np.linspace(0, 2 * np.pi, 9)
    pts = np.stack([np.cos(ang), np.sin(ang)], 1)
    assert np.allclose(pts[0], pts[-1])


def test_the_grid_is_five_by_five_two_apart():
    mix = m2d.grid()
    assert mix.n_modes == 25 and mix.std == 0.05
    assert sorted(set(mix.centres[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(c) for c in mix.centres}) == 25


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_density_equals_scipy_mixture_of_normals(name):
    mix = m2d.MIXTURES[name]()
    pts = np.concatenate([mix.centres + 0.5 * mix.std, np.random.default_rng(1).uniform(
        -3, 3, (50, 2))])
    ref = np.mean([stats.multivariate_normal(c, mix.std**2).pdf(pts) for c in mix.centres], 0)
    np.testing.assert_allclose(mix.density(pts), ref, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", ["ring", "grid"])
@pytest.mark.parametrize("k", [0, 1, 3])
def test_samples_exactly_at_k_modes_cover_k_modes(name, k):
    mix = m2d.MIXTURES[name]()
    if k == 0:
        x = np.full((2500, 2), 10.0)  # far from every mode
    else:
        x = _at_modes(mix, np.arange(k) * 2 % mix.n_modes, 2500)
    c = m2d.coverage(x, mix)
    assert c["modes"].tolist() == [k] and c["modes_any"].tolist() == [k]
    assert c["high_quality"].tolist() == [1.0 if k else 0.0]


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_at_every_mode_cover_them_all(name):
    mix = m2d.MIXTURES[name]()
    c = m2d.coverage(_at_modes(mix, np.arange(mix.n_modes), 2500, jitter=2.9), mix)
    assert c["modes"].tolist() == [mix.n_modes] and c["high_quality"].tolist() == [1.0]


def test_a_collapsed_generator_covers_one_mode():
    mix = m2d.ring()
    x = _at_modes(mix, [5], 2500, jitter=1.0)
    c = m2d.coverage(x, mix)
    assert c["modes"].tolist() == [1] and c["high_quality"].tolist() == [1.0]
    assert c["counts"][0, 5] == 2500


def test_three_std_is_the_edge_of_high_quality():
    mix = m2d.grid()
    inside = _at_modes(mix, np.arange(25), 2500, jitter=2.999)
    outside = _at_modes(mix, np.arange(25), 2500, jitter=3.001)
    assert m2d.coverage(inside, mix)["high_quality"][0] == 1.0
    c = m2d.coverage(outside, mix)
    assert c["high_quality"][0] == 0.0 and c["modes"][0] == 0


def test_a_mode_counts_from_one_fifth_of_its_fair_share():
    mix = m2d.ring()  # 800 samples: fair share 100, need 20
    for minor, expect in [(20, 2), (19, 1)]:
        x = np.concatenate([_at_modes(mix, [0], 800 - minor), _at_modes(mix, [3], minor)])
        c = m2d.coverage(x, mix)
        assert c["min_count"] == 20
        assert c["modes"].tolist() == [expect] and c["modes_any"].tolist() == [2]


def test_samples_between_modes_are_low_quality_and_cover_nothing():
    mix = m2d.ring()
    mid = 0.5 * (mix.centres + np.roll(mix.centres, 1, axis=0))  # on the chords
    c = m2d.coverage(np.resize(mid, (2500, 2)), mix)
    assert c["modes"].tolist() == [0] and c["high_quality"].tolist() == [0.0]


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_of_the_mixture_are_high_quality_at_the_chi_square_rate(name):
    mix = m2d.MIXTURES[name]()
    x = np.stack([mix.sample(2500, seed_generator(s, "test")).numpy() for s in range(8)])
    c = m2d.coverage(x, mix)
    p, n = m2d.TRUE_HIGH_QUALITY, x.shape[0] * x.shape[1]
    assert p == pytest.approx(stats.chi2(2).cdf(9.0), rel=1e-14)
    # pooled over seeds: a binomial share with standard error sqrt(p (1 - p) / n)
    assert abs(c["high_quality"].mean() - p) <= MC_Z * math.sqrt(p * (1 - p) / n)
    assert (c["modes"] == mix.n_modes).all()


def test_mixture_samples_pick_modes_uniformly_with_the_stated_std():
    mix = m2d.grid()
    n = 50_000
    x = mix.sample(n, seed_generator(0, "test"), dtype=torch.float64).numpy()
    nearest = ((x[:, None] - mix.centres) ** 2).sum(-1).argmin(1)
    freq = np.bincount(nearest, minlength=25) / n
    assert np.max(np.abs(freq - 1 / 25)) <= MC_Z * math.sqrt((1 / 25) * (24 / 25) / n)
    r = x - mix.centres[nearest]
    # var of each coordinate: s^2, estimated from n values with standard error s^2 sqrt(2 / n)
    np.testing.assert_allclose(r.var(0), mix.std**2, atol=MC_Z * mix.std**2 * math.sqrt(2 / n))


def test_non_finite_samples_are_never_high_quality():
    mix = m2d.ring()
    x = _at_modes(mix, np.arange(8), 800)
    x[:400] = np.nan
    x[400:410] = np.inf
    c = m2d.coverage(x, mix)
    assert c["high_quality"][0] == pytest.approx(390 / 800)


@pytest.mark.parametrize("shape", [(10,), (10, 3), (2, 10, 3), (0, 2)])
def test_coverage_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        m2d.coverage(np.zeros(shape), m2d.ring())


SMALL = m2d.Train2DConfig(steps=15, batch=16, hidden=8, n_eval=64)


@pytest.mark.parametrize("changes", [{}, {"update": "simultaneous"}, {"k": 2},
                                     {"r1_gamma": 0.5}, {"loss": "minimax"}])
def test_seed_s_of_a_batch_is_the_single_run_with_seed_s(changes):
    cfg = override(SMALL, changes)
    batch = m2d.train_2d(cfg, [0, 1, 2]).samples
    single = m2d.train_2d(cfg, [1]).samples
    # the same float32 operations per seed; a batched matmul may sum in another order (~1e-7)
    np.testing.assert_allclose(batch[1], single[0], rtol=0, atol=1e-5)
    assert not np.allclose(batch[0], batch[1])


def test_the_arms_train_differently():
    base = m2d.train_2d(SMALL, [0]).samples
    for changes in [{"update": "simultaneous"}, {"k": 2}, {"r1_gamma": 5.0},
                    {"loss": "minimax"}]:
        assert not np.allclose(m2d.train_2d(override(SMALL, changes), [0]).samples, base)


def test_r1_adds_the_gradient_of_half_the_penalty_to_ds():
    """One D step with R1 against the gradient of (-V + R1) / 2 built another way: grad_x D from
    the per-sample Jacobian (torch.autograd.functional.jacobian), not from grad of a sum."""
    gamma = 0.7
    torch.manual_seed(0)
    real = torch.randn(1, 16, 2, dtype=torch.float64)
    fake = torch.randn(1, 16, 2, dtype=torch.float64)

    def make():
        return EnsembleMLP([3], [2, 8, 8, 1], activation="tanh", stream="t", dtype=torch.float64)

    D = make()
    p0 = [p.detach().clone() for p in D.parameters()]
    opt = m2d.R1Optimizer(torch.optim.SGD(D.parameters(), lr=1.0), D, gamma, lambda: real)
    discriminator_step(D, opt, real, fake)
    step = [a - p.detach() for a, p in zip(p0, D.parameters())]

    ref = make()
    jac = torch.stack([torch.autograd.functional.jacobian(
        lambda x: ref(x.reshape(1, 1, 2)).reshape(()), xi, create_graph=True)
        for xi in real[0]])  # (16, 2)
    r1 = 0.5 * gamma * jac.pow(2).sum(-1).mean()
    loss = discriminator_loss(ref(real).squeeze(-1), ref(fake).squeeze(-1))
    grads = torch.autograd.grad(loss.sum() + 0.5 * r1, list(ref.parameters()), retain_graph=True)
    for s, g in zip(step, grads):
        torch.testing.assert_close(s, g, rtol=1e-10, atol=1e-12)
    # and the penalty is not nothing: without it the step differs
    grads0 = torch.autograd.grad(loss.sum(), list(ref.parameters()))
    assert max(float((s - g).abs().max()) for s, g in zip(step, grads0)) > 1e-3


@pytest.mark.parametrize("bad", [{"mixture": "spiral"}, {"k": 0}, {"steps": 0}, {"lr": 0.0},
                                 {"r1_gamma": -1.0}, {"loss": "wgan"}, {"update": "random"},
                                 {"n_eval": 0}])
def test_bad_trainer_configs_are_one_line_errors(bad):
    with pytest.raises(ConfigError) as e:
        override(SMALL, bad)
    assert "\n" not in str(e.value)


def test_train_2d_needs_seeds():
    with pytest.raises(ConfigError, match="seeds"):
        m2d.train_2d(SMALL, [])
