"""Sympy derivations of the paper's closed forms (Goodfellow et al. 2014, Section 4).

Each function derives one step of the theory with sympy and returns a :class:`Derivation`: the
claim, the intermediate expressions as text, whether every check passed, and the expressions.
Identities are simplified to zero; signs are decided by sympy's assumptions; each identity is also
evaluated numerically at 50 significant digits (mpmath) as a second, independent check.

Run all of them with ``python -m gantheory.verify symbolic`` (which calls :func:`all_derivations`),
or from Python::

    from gantheory.symbolic import all_derivations, format_derivation
    for d in all_derivations():
        print(format_derivation(d))
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable, Mapping

import mpmath
import sympy as sp

from .util.io import jsonable

NUMERIC_DPS = 50  # mpmath precision (digits) of the numeric second checks
# An identity holds numerically when its residual at 50 digits is below 1e-40 times the scale of
# its terms: rounding leaves ~1e-48, while a wrong formula leaves a residual of order one.
NUMERIC_TOL = mpmath.mpf("1e-40")

a, b = sp.symbols("a b", positive=True)  # weights of the two logs (Proposition 1)
p, q = sp.symbols("p q", positive=True)  # p_data(x), p_g(x) at one point x
t = sp.Symbol("t", positive=True)
y = sp.Symbol("y", positive=True)  # the discriminator's output D(x)
d = sp.Symbol("d", positive=True)  # D(G(z)) in the generator's costs
l = sp.Symbol("l", real=True)  # the discriminator's logit, d = sigmoid(l)
sigmoid = 1 / (1 + sp.exp(-l))

# Goodfellow (2016, Fig. 16) generator costs as functions of the logit, without the factor 1/2,
# written as the code computes them, through softplus(u) = log(1 + e^u) of the logit:
# the log of 1 - D is -softplus(l) and minus the log of D is softplus(-l).
DEFAULT_COSTS = {
    "minimax": -sp.log(1 + sp.exp(l)),
    "non_saturating": sp.log(1 + sp.exp(-l)),
    "maximum_likelihood": -sp.exp(l),
}
# d(cost)/dl written in d, and its limits (d -> 0+, d -> 1-).
EXPECTED_GRADIENTS = {"minimax": -d, "non_saturating": -(1 - d), "maximum_likelihood": -d / (1 - d)}
EXPECTED_LIMITS = {"minimax": (0, -1), "non_saturating": (-1, 0), "maximum_likelihood": (0, -sp.oo)}


@dataclasses.dataclass(frozen=True)
class Derivation:
    """One derivation: its claim, the steps as text, whether all checks passed, and the objects."""

    name: str
    statement: str
    steps: list[str]
    holds: bool
    details: dict

    def to_dict(self) -> dict:
        """A JSON-ready dict: sympy objects become strings, callables are left out."""
        return {"name": self.name, "statement": self.statement, "steps": list(self.steps),
                "holds": bool(self.holds), "details": jsonable(self.details)}


def _show(label: str, expr: Any) -> str:
    return f"{label} = {sp.sstr(expr)}"


def _is_zero(expr: sp.Expr) -> bool:
    """Whether sympy simplifies ``expr`` to exactly 0 (logs expanded; symbols are positive)."""
    return sp.simplify(sp.expand_log(expr, force=True)) == 0


def _max_residual(expr: sp.Expr, points: list[tuple]) -> mpmath.mpf:
    """max |expr| / (1 + |p| + |q|) over points (p, q), evaluated with mpmath at NUMERIC_DPS."""
    fn = sp.lambdify((p, q), expr, "mpmath")
    with mpmath.workdps(NUMERIC_DPS):
        return max(abs(fn(pp, qq)) / (1 + pp + qq) for pp, qq in points)


def _random_points(n: int = 8, seed: int = 0) -> list[tuple]:
    rng = random.Random(seed)
    with mpmath.workdps(NUMERIC_DPS):
        return [(mpmath.mpf(10) ** rng.uniform(-3, 3), mpmath.mpf(10) ** rng.uniform(-3, 3))
                for _ in range(n)]


def optimal_discriminator_derivation(candidate: sp.Expr | None = None) -> Derivation:
    r"""Proposition 1: :math:`y \mapsto a\log y + b\log(1-y)` peaks on (0, 1) at :math:`a/(a+b)`.

    .. math:: f'(y) = \frac{a}{y} - \frac{b}{1-y} = 0 \iff y = \frac{a}{a+b}, \qquad
              f''\!\left(\tfrac{a}{a+b}\right) = -\frac{(a+b)^3}{ab} < 0

    With :math:`a = p_{data}(x)`, :math:`b = p_g(x)` this gives
    :math:`D^*_G(x) = p_{data}(x) / (p_{data}(x) + p_g(x))`.

    Parameters
    ----------
    candidate : sympy expression in the positive symbols ``a``, ``b``, optional
        The claimed maximiser (default :math:`a/(a+b)`). Holds only if it is the solved stationary
        point, :math:`f'` vanishes there and :math:`f'' < 0` there.
    """
    cand = a / (a + b) if candidate is None else sp.sympify(candidate)
    f = a * sp.log(y) + b * sp.log(1 - y)
    f1, f2 = sp.diff(f, y), sp.diff(f, y, 2)
    roots = sp.solveset(f1, y, sp.S.Reals)
    unique = isinstance(roots, sp.FiniteSet) and len(roots) == 1
    y0 = next(iter(roots)) if unique else sp.nan
    # solveset over Interval.open(0, 1) leaves an unevaluated Intersection, so membership of
    # (0, 1) is decided from the signs of y0 and 1 - y0 instead.
    inside = bool(y0.is_positive) and bool(sp.simplify(1 - y0).is_positive)
    f2_at = sp.factor(sp.simplify(f2.subs(y, cand)))
    ends = (sp.limit(f, y, 0, "+"), sp.limit(f, y, 1, "-"))  # so the stationary point is the max
    checks = {
        "unique_stationary_point": unique,
        "stationary_point_in_open_unit_interval": inside,
        "candidate_is_stationary_point": unique and _is_zero(cand - y0),
        "f_prime_vanishes_at_candidate": _is_zero(f1.subs(y, cand)),
        "f_second_negative_at_candidate": bool(sp.ask(sp.Q.negative(f2_at))),
        "f_second_closed_form": _is_zero(sp.simplify(f2.subs(y, y0)) + (a + b) ** 3 / (a * b)),
        "f_to_minus_infinity_at_ends": ends == (-sp.oo, -sp.oo),
    }
    p_data, p_g = sp.symbols("p_data p_g", positive=True)
    d_star = cand.subs({a: p_data, b: p_g}, simultaneous=True)
    steps = [_show("f(y)", f), _show("f'(y)", f1), _show("f''(y)", f2),
             _show("solveset(f'(y) = 0, y, Reals)", roots), _show("1 - y0", sp.simplify(1 - y0)),
             _show("candidate", cand), _show("f'(candidate)", sp.simplify(f1.subs(y, cand))),
             _show("f''(candidate)", f2_at), _show("(lim f at 0+, lim f at 1-)", ends),
             _show("D*_G(x) with a = p_data(x), b = p_g(x)", d_star)]
    return Derivation("optimal_discriminator",
                      "a log y + b log(1-y) has its unique maximum on (0,1) at a/(a+b), "
                      "so D*_G = p_data/(p_data + p_g) (Proposition 1)",
                      steps, all(checks.values()),
                      {"checks": checks, "f": f, "stationary_point": y0, "candidate": cand,
                       "f_second_at_candidate": f2_at, "d_star": d_star})


def criterion_derivation(d_star: sp.Expr | None = None) -> Derivation:
    r"""Theorem 1, pointwise: the value of :math:`D^*` equals :math:`-\log 4 + 2\,\mathrm{JSD}`.

    .. math:: p\log D^* + q\log(1-D^*)
              = -\tfrac{p+q}{2}\log 4 + p\log\frac{p}{m} + q\log\frac{q}{m},
              \qquad m = \tfrac{p+q}{2}

    Integrating over :math:`x` (each density integrates to 1) gives
    :math:`C(G) = -\log 4 + KL(p_{data}\|M) + KL(p_g\|M) = -\log 4 + 2\,JSD(p_{data}\|p_g)`.

    Parameters
    ----------
    d_star : sympy expression in the positive symbols ``p``, ``q``, optional
        The discriminator substituted into the integrand (default :math:`p/(p+q)`).
    """
    D = p / (p + q) if d_star is None else sp.sympify(d_star)
    m = (p + q) / 2
    integrand = p * sp.log(D) + q * sp.log(1 - D)
    closed = -sp.log(4) * (p + q) / 2 + p * sp.log(p / m) + q * sp.log(q / m)
    residual = integrand - closed
    by_expand = _is_zero(residual)
    by_logcombine = sp.simplify(sp.logcombine(residual, force=True)) == 0
    points = _random_points()
    max_res = _max_residual(residual, points)
    at_equal = sp.simplify(integrand.subs(q, p))  # p_g = p_data: D* = 1/2, value -p log 4
    checks = {"symbolic_identity": by_expand or by_logcombine,
              "numeric_identity": bool(max_res < NUMERIC_TOL),
              "value_at_p_g_equal_p_data": _is_zero(at_equal + p * sp.log(4))}
    P, Q = sp.symbols("int_p int_q")  # the integrals of p_data and p_g over x
    constant = (-sp.log(4) * (P + Q) / 2).subs({P: 1, Q: 1})
    steps = [_show("D", D), _show("integrand p log D + q log(1-D)", integrand),
             _show("closed form", closed),
             _show("simplify(expand_log(integrand - closed form))",
                   sp.simplify(sp.expand_log(residual, force=True))),
             _show("simplify(logcombine(integrand - closed form))",
                   sp.simplify(sp.logcombine(residual, force=True))),
             f"max |residual| at {len(points)} random points, {NUMERIC_DPS} digits "
             f"= {mpmath.nstr(max_res, 5)}",
             _show("integrand at q = p", at_equal),
             _show("constant term integrated (int p = int q = 1)", constant),
             "C(G) = -log(4) + KL(p_data||M) + KL(p_g||M) = -log(4) + 2 JSD(p_data||p_g)"]
    return Derivation("virtual_training_criterion",
                      "C(G) = V(D*_G, G) = -log 4 + 2 JSD(p_data || p_g) (Theorem 1)",
                      steps, all(checks.values()),
                      {"checks": checks, "d_star": D, "integrand": integrand,
                       "closed_form": closed, "max_numeric_residual": float(max_res)})


def jsd_bounds_derivation(upper_bound: sp.Expr = sp.log(2), grid_size: int = 25) -> Derivation:
    r"""Bounds of the Jensen-Shannon divergence: :math:`0 \le JSD \le \log 2`.

    With :math:`j = \tfrac12[p\log\frac{2p}{p+q} + q\log\frac{2q}{p+q}]` and
    :math:`h(t) = t - 1 - \log t \ge 0`,

    .. math:: 2j = p\,h\!\left(\tfrac{m}{p}\right) + q\,h\!\left(\tfrac{m}{q}\right) \ge 0, \qquad
              (p+q)\log 2 - 2j
              = p\log\!\left(1+\tfrac{q}{p}\right) + q\log\!\left(1+\tfrac{p}{q}\right) \ge 0.

    Integrating, :math:`JSD = \int j \in [0, \log 2]`; :math:`JSD = 0` iff :math:`p = q` a.e. and
    :math:`JSD = \log 2` iff :math:`pq = 0` a.e. (disjoint supports). The claims are also checked
    at 50 digits on a ``grid_size`` x ``grid_size`` log-spaced grid of (p, q) plus zeros.

    Parameters
    ----------
    upper_bound : sympy number, optional
        The claimed supremum of JSD (default log 2); a smaller one makes ``holds`` False.
    grid_size : int, optional
        Points per axis of the numeric check (p, q from 1e-8 to 1e4, and 0).
    """
    m = (p + q) / 2
    two_j = p * sp.log(2 * p / (p + q)) + q * sp.log(2 * q / (p + q))
    h = t - 1 - sp.log(t)
    h_decomp = p * h.subs(t, m / p) + q * h.subs(t, m / q)
    gap = (p + q) * upper_bound - two_j
    # sympy cannot sign log((p+q)/p) directly; written as log(1 + q/p) its argument exceeds 1.
    gap_sum = p * sp.log(1 + q / p) + q * sp.log(1 + p / q)
    gap_at_0 = sp.limit(gap, q, 0, "+")  # disjoint supports: p_g(x) = 0 where p_data(x) > 0
    checks = {
        "h_unique_critical_point_is_1": sp.solve(sp.diff(h, t), t) == [1],
        "h_convex_and_zero_at_1": bool(sp.diff(h, t, 2).is_positive) and h.subs(t, 1) == 0,
        "two_j_equals_h_decomposition": _is_zero(two_j - h_decomp),
        "upper_gap_identity": _is_zero(gap - gap_sum),
        "upper_gap_positive_for_positive_p_q": bool(sp.ask(sp.Q.positive(gap_sum))),
        "upper_gap_vanishes_as_q_to_0": gap_at_0 == 0,
        "grid": _jsd_grid_check(grid_size, upper_bound),
    }
    steps = [_show("2 j(p, q)", two_j), _show("h(t)", h),
             _show("solve(h'(t) = 0)", sp.solve(sp.diff(h, t), t)),
             _show("h''(t)", sp.diff(h, t, 2)),
             "h is convex on (0, oo) with h'(1) = 0, so h(t) >= h(1) = 0, with equality iff t = 1",
             _show("2 j - [p h(m/p) + q h(m/q)]",
                   sp.simplify(sp.expand_log(two_j - h_decomp, force=True))),
             _show(f"(p+q) {upper_bound} - 2 j", sp.expand(sp.expand_log(gap, force=True))),
             _show("the same, with logs of arguments > 1", gap_sum),
             _show("lim q->0+ of the gap", gap_at_0),
             "integrate and halve: 0 <= JSD <= log 2; = 0 iff p_data = p_g a.e.; "
             "= log 2 iff p_data p_g = 0 a.e. (disjoint supports)"]
    return Derivation("jsd_bounds", "0 <= JSD(p_data || p_g) <= log 2, with equality iff "
                      "p_data = p_g (lower) or the supports are disjoint (upper)",
                      steps, all(checks.values()),
                      {"checks": checks, "two_j": two_j, "h_decomposition": h_decomp,
                       "upper_gap": gap_sum})


def _jsd_grid_check(n: int, upper_bound: sp.Expr) -> bool:
    """The bounds and their equality cases at 50 digits, with 0 log 0 = 0, on a grid of (p, q)."""
    def xlog(u: mpmath.mpf, v: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(0) if u == 0 else u * mpmath.log(v)

    with mpmath.workdps(NUMERIC_DPS):
        exponents = [-8 + 12 * mpmath.mpf(i) / (n - 1) for i in range(n)]  # 1e-8 .. 1e4
        values = [mpmath.mpf(0)] + [mpmath.mpf(10) ** e for e in exponents]
        bound = mpmath.mpf(sp.N(upper_bound, NUMERIC_DPS + 10))
        for pp in values:
            for qq in values:
                if pp == qq == 0:
                    continue
                j = (xlog(pp, 2 * pp / (pp + qq)) + xlog(qq, 2 * qq / (pp + qq))) / 2
                tol = NUMERIC_TOL * (pp + qq)
                upper_gap = (pp + qq) / 2 * bound - j
                if j < -tol or upper_gap < -tol:
                    return False
                if (abs(j) <= tol) != (pp == qq) or (abs(upper_gap) <= tol) != (pp * qq == 0):
                    return False
    return True


def generator_gradient_limits(costs: Mapping[str, sp.Expr] | None = None) -> Derivation:
    r"""Gradients of the generator's costs with respect to D's logit, and their limits.

    With :math:`d = \sigma(l)` (Goodfellow 2016, Fig. 16, without the factor 1/2):

    .. math:: \frac{\partial}{\partial l}\log(1-d) = -d, \quad
              \frac{\partial}{\partial l}(-\log d) = -(1-d), \quad
              \frac{\partial}{\partial l}\left(-e^{l}\right) = -\frac{d}{1-d}.

    As :math:`d \to 0` (D rejects the fakes) the minimax gradient vanishes while the
    non-saturating one tends to -1 (Section 3 of the paper).

    Parameters
    ----------
    costs : mapping name -> sympy expression, optional
        Each cost in the logit symbol :data:`l` (``sympy.Symbol("l", real=True)``); default
        :data:`DEFAULT_COSTS`. Holds iff every expected name is present, its gradient rewritten
        in ``d`` equals :data:`EXPECTED_GRADIENTS` and its limits (taken in d and, again,
        in l) equal :data:`EXPECTED_LIMITS`. ``details["grad_d_fns"]`` and ``["grad_l_fns"]`` are
        numpy callables of d and of l (finite for ``|l| < 700``).
    """
    costs = dict(DEFAULT_COSTS if costs is None else costs)
    checks = {f"has_{name}": name in costs for name in EXPECTED_LIMITS}
    grads_l, grads_d, limits, steps = {}, {}, {}, []
    for name, cost in costs.items():
        g = sp.simplify(sp.diff(cost, l))
        gd = sp.simplify(g.subs(l, sp.log(d / (1 - d))))  # exp(l) = d / (1 - d)
        lim = (sp.limit(gd, d, 0, "+"), sp.limit(gd, d, 1, "-"))
        grads_l[name], grads_d[name], limits[name] = g, gd, lim
        if name in EXPECTED_LIMITS:
            checks[f"{name}_gradient_in_d"] = _is_zero(gd - EXPECTED_GRADIENTS[name])
            checks[f"{name}_limits"] = lim == EXPECTED_LIMITS[name]
            checks[f"{name}_limits_in_l"] = (sp.limit(g, l, -sp.oo), sp.limit(g, l, sp.oo)) == lim
        steps += [_show(f"{name}: cost(l)", cost), _show(f"{name}: d cost/dl", g),
                  _show(f"{name}: in terms of d", gd),
                  f"{name}: limits d->0+, d->1- = {lim[0]}, {lim[1]}"]
    return Derivation("generator_gradient_limits",
                      "d/dl of the generator's costs: as D(G(z)) -> 0 the minimax gradient -> 0, "
                      "the non-saturating one -> -1", steps, all(checks.values()),
                      {"checks": checks, "grads_l": grads_l, "grads_d": grads_d,
                       "grads_str": {k: str(v) for k, v in grads_d.items()}, "limits": limits,
                       "grad_d_fns": {k: sp.lambdify(d, v, "numpy") for k, v in grads_d.items()},
                       "grad_l_fns": {k: sp.lambdify(l, v, "numpy") for k, v in grads_l.items()}})


DERIVATIONS: dict[str, Callable[[], Derivation]] = {
    "optimal_discriminator": optimal_discriminator_derivation,
    "virtual_training_criterion": criterion_derivation,
    "jsd_bounds": jsd_bounds_derivation,
    "generator_gradient_limits": generator_gradient_limits,
}


def all_derivations() -> list[Derivation]:
    """Every derivation with its defaults, in the order of :data:`DERIVATIONS`."""
    return [fn() for fn in DERIVATIONS.values()]


def format_derivation(der: Derivation) -> str:
    """A printable block: status, name and claim, then one indented line per step."""
    head = f"[{'HOLDS' if der.holds else 'FAILS'}] {der.name}: {der.statement}"
    return "\n".join([head] + [f"    {s}" for s in der.steps])
