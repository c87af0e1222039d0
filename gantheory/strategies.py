"""Hypothesis strategies over the objects of GAN theory, for your own property tests.

Needs ``hypothesis``: ``pip install 'gantheory[testing]'``. Every strategy is bounded to the
region where the toolkit promises its accuracy: |mu| <= 10, sigma in [0.05, 20], mixtures of 1
to 3 components with weights >= 0.05; no NaN, no infinities. ``densities()`` draws Normals and
their mixtures; ``any_densities()`` adds Uniform, Laplace, Logistic and Student-t.

    from hypothesis import given
    from gantheory import Discriminator, optimal_discriminator, value
    from gantheory.strategies import density_pairs

    my_d = Discriminator.from_logits(lambda x: 0.8 * x - 0.3)   # say what your D returns

    @given(density_pairs())
    def test_my_discriminator_never_beats_d_star(pair):
        p_data, p_g = pair
        assert value(my_d, p_data, p_g) <= value(optimal_discriminator(p_data, p_g), p_data, p_g)

(Declared as logits, ``value`` is finite for every pair; a probability D that rounds to 1 on
p_g's mass raises an error naming x instead of returning -inf.) See docs/testing.md.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError("gantheory.strategies needs hypothesis: pip install 'gantheory[testing]'"
                      ) from None

from .densities import Laplace, Logistic, Mixture, Normal, StudentT, Uniform
from .discriminators import Discriminator

MU_MAX = 10.0
SIGMA_MIN, SIGMA_MAX = 0.05, 20.0
MIN_WEIGHT = 0.05

mus = st.floats(-MU_MAX, MU_MAX, allow_nan=False, allow_infinity=False)
# sigma drawn log-uniformly so narrow and wide components are equally likely
sigmas = st.floats(math.log(SIGMA_MIN), math.log(SIGMA_MAX)).map(math.exp)


@st.composite
def normals(draw, mu=mus, sigma=sigmas) -> Normal:
    """A Normal(mu, sigma) inside the promised region."""
    return Normal(draw(mu), draw(sigma))


@st.composite
def mixtures(draw, max_components: int = 3) -> Mixture:
    """A mixture of 1 to ``max_components`` Normals, every weight at least MIN_WEIGHT."""
    n = draw(st.integers(1, max_components))
    raw = np.asarray(draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n)))
    w = MIN_WEIGHT + (1.0 - n * MIN_WEIGHT) * raw / raw.sum()
    w[-1] = 1.0 - w[:-1].sum()  # exact sum to 1 in float64
    return Mixture(list(w), [draw(normals()) for _ in range(n)])


def densities() -> st.SearchStrategy:
    """A Normal or a mixture."""
    return st.one_of(normals(), mixtures())


@st.composite
def uniforms(draw) -> Uniform:
    """Uniform(mu - h, mu + h) with the half-width h drawn like sigma."""
    mu, h = draw(mus), draw(sigmas)
    return Uniform(mu - h, mu + h)


@st.composite
def laplaces(draw) -> Laplace:
    return Laplace(draw(mus), draw(sigmas))


@st.composite
def logistics(draw) -> Logistic:
    return Logistic(draw(mus), draw(sigmas))


@st.composite
def student_ts(draw) -> StudentT:
    """Student-t with df in [1, 30] (Cauchy to nearly Normal)."""
    return StudentT(draw(st.floats(1.0, 30.0)), draw(mus), draw(sigmas))


def any_densities() -> st.SearchStrategy:
    """Any family: Normal, mixture of Normals, Uniform, Laplace, Logistic, Student-t."""
    return st.one_of(normals(), mixtures(), uniforms(), laplaces(), logistics(), student_ts())


# "Distinct" pairs differ in some parameter by at least this much: JSD then exceeds ~1e-14,
# within reach of float64 quadrature. Pairs closer than that (mu differing by 1e-65, say) are
# different densities whose JSD (~1e-130) no finite-precision check can tell from 0.
DISTINCT_MIN = 1e-6


def _coarse(d) -> list[list[float]]:
    """Canonical components with those closer than DISTINCT_MIN in (mu, sigma) merged."""
    out: list[list[float]] = []
    for mu, sd, w in d.canonical():
        for c in out:
            if abs(c[0] - mu) < DISTINCT_MIN and abs(c[1] - sd) < DISTINCT_MIN:
                c[2] += w
                break
        else:
            out.append([mu, sd, w])
    return out


def _separated(p, q) -> bool:
    if any(isinstance(t[0], str) for d in (p, q) for t in d.canonical()):
        return not p.same_as(q)  # families beyond Normals: distinct unless identical
    a, b = _coarse(p), _coarse(q)
    if len(a) != len(b):
        return True
    return any(abs(x - y) >= DISTINCT_MIN for ca, cb in zip(a, b) for x, y in zip(ca, cb))


def density_pairs(distinct: bool = False, families: bool = False) -> st.SearchStrategy:
    """(p_data, p_g) pairs; with ``distinct`` the two differ by at least DISTINCT_MIN; with
    ``families`` drawn from :func:`any_densities` instead of Normals and their mixtures."""
    make = any_densities if families else densities
    pairs = st.tuples(make(), make())
    return pairs.filter(lambda pq: _separated(*pq)) if distinct else pairs


class LogisticDiscriminator:
    """D(x) = sigmoid(a x^2 + b x + c), a quadratic logit: exact D* for two Normals has this form."""

    def __init__(self, a: float, b: float, c: float):
        self.a, self.b, self.c = a, b, c

    def logit(self, x):
        x = np.asarray(x, dtype=np.float64)
        return self.a * x * x + self.b * x + self.c

    def logit_scalar(self, x: float) -> float:
        return self.a * x * x + self.b * x + self.c

    def __call__(self, x):
        return 0.5 * (1.0 + np.tanh(0.5 * self.logit(x)))

    def __repr__(self) -> str:
        return f"LogisticDiscriminator(a={self.a:g}, b={self.b:g}, c={self.c:g})"


class TanhNetDiscriminator:
    """A random one-hidden-layer tanh network as D; its logit is bounded by the output weights."""

    def __init__(self, w1, b1, w2, b2: float):
        self.w1, self.b1, self.w2, self.b2 = (np.asarray(w1), np.asarray(b1), np.asarray(w2),
                                              float(b2))

    def logit(self, x):
        x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
        return np.tanh(x * self.w1 + self.b1) @ self.w2 + self.b2

    def logit_scalar(self, x: float) -> float:
        return float(np.tanh(x * self.w1 + self.b1) @ self.w2 + self.b2)

    def __call__(self, x):
        return 0.5 * (1.0 + np.tanh(0.5 * self.logit(x)))


coefs = st.floats(-3.0, 3.0, allow_nan=False)


@st.composite
def logistic_discriminators(draw) -> LogisticDiscriminator:
    """sigmoid(a x^2 + b x + c) with |a|, |b|, |c| <= 3."""
    return LogisticDiscriminator(draw(coefs), draw(coefs), draw(coefs))


@st.composite
def net_discriminators(draw, hidden: int = 8) -> TanhNetDiscriminator:
    """A random tanh network 1 -> hidden -> 1 with weights in [-3, 3]."""
    vec = st.lists(coefs, min_size=hidden, max_size=hidden)
    return TanhNetDiscriminator(draw(vec), draw(vec), draw(vec), draw(coefs))


@st.composite
def torch_discriminators(draw, hidden: int = 8) -> Discriminator:
    """A small torch module 1 -> hidden -> 1 (tanh), as people write D, declared as logits."""
    import torch

    vec = st.lists(coefs, min_size=hidden, max_size=hidden)
    net = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(draw(vec)).reshape(hidden, 1))
        net[0].bias.copy_(torch.tensor(draw(vec)))
        net[2].weight.copy_(torch.tensor(draw(vec)).reshape(1, hidden))
        net[2].bias.fill_(draw(coefs))
    return Discriminator.from_logits(net)


def discriminators() -> st.SearchStrategy:
    """Any random discriminator: logistic-quadratic or a small tanh network."""
    return st.one_of(logistic_discriminators(), net_discriminators())
