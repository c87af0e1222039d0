r"""Claim ``gradient_identity`` (Arjovsky and Bottou 2017, Theorem 2.5): at the optimal
discriminator, the non-saturating generator gradient is the gradient of KL(p_g || p_data) minus
twice the Jensen-Shannon divergence.

    python -m gantheory.verify gradient_identity [--set variant=...]

With D* = p_data / (p_data + p_g_theta0) held fixed and G_theta(z) = a z + b, z ~ N(0, 1)
(so p_g_theta = N(b, a^2)):

.. math:: E_z\big[-\nabla_\theta \log D^*(g_\theta(z))\big]_{\theta_0}
          = \nabla_\theta\big[\mathrm{KL}(p_{g_\theta} \| p_{data})
            - 2\,\mathrm{JSD}(p_{g_\theta} \| p_{data})\big]_{\theta_0}.

Left: autograd of -log D*(a z + b) (through the logit, -log D* = softplus(-logit)) in (a, b),
averaged over z by composite Gauss-Legendre quadrature against N(0, 1) (``panels`` panels of 16
nodes on |z| <= 12, checked against twice as many). Right: five-point central differences in
(a, b) of the oracle's KL and JSD (adaptive quadrature, 1e-9). The two share nothing but the
densities.

``variant`` (negative controls, must fail): ``d_star_follows_theta`` recomputes D* from p_g_theta
inside the derivative instead of holding it fixed; ``minimax`` differentiates log(1 - D*) (whose
expectation's gradient is 2 grad JSD, Theorem 2.4's cost); ``jsd_once`` compares with
grad [KL - JSD].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from ..densities import Normal, parse_density
from ..divergences import jsd, kl
from ..errors import ConfigError
from ..util.io import jsonable
from .registry import Report, Verdict, register_claim

# The bound: autograd vs finite differences of the oracle, to 1e-6 absolute.
IDENTITY_TOL = 1e-6
# Five-point differences with step H: truncation h^4 f^(5) / 30 ~ 1e-10 for these O(1)
# functions, rounding 1.5 x (oracle error 1e-9 promised, ~1e-14 measured) / h <= 1.5e-7. The
# same difference at step H/2 is reported; measured agreement ~1e-10.
H = 4e-3
# The expectation over z: composite Gauss-Legendre (:func:`_z_rule`) on |z| <= Z_MAX (beyond,
# N(0, 1) has mass 2e-32 against integrands growing like z^3), with `panels` and 2 x `panels`
# panels, which must agree to GL_TOL: the quadrature error of the left side.
Z_MAX = 12.0
GL_TOL = 1e-10

Variant = Literal["correct", "d_star_follows_theta", "minimax", "jsd_once"]
# Bytes per panel of the z rule (16 nodes): the autograd graph of the expectation keeps ~90 float64
# arrays of the nodes. Measured peak RSS over the default run's: +206 MB at 20,000 panels and
# +1.17 GB at 100,000 (10.3 and 11.7 kB a panel); 16 kB over-estimates both.
BYTES_PER_PANEL = 16_000
DEFAULT_CASES = ("normal(0,1) @ 1.0,1.5; normal(0,1) @ 0.6,-0.8; "
                 "mixture(0.3*normal(-2,0.5)+0.7*normal(1,1)) @ 1.0,0.0; "
                 "mixture(0.3*normal(-2,0.5)+0.7*normal(1,1)) @ 1.8,2.5")


@dataclass(frozen=True)
class GradientIdentityConfig:
    cases: str = DEFAULT_CASES  # "P_DATA @ a,b; ...": p_data and the generator's theta0 = (a, b)
    panels: int = 200
    variant: Variant = "correct"
    plot: str | None = None

    def check(self) -> None:
        if self.panels < 10:
            raise ConfigError(f"panels must be >= 10, got {self.panels}")
        if self.variant not in ("correct", "d_star_follows_theta", "minimax", "jsd_once"):
            raise ConfigError(f"variant must be correct, d_star_follows_theta, minimax or "
                              f"jsd_once, got {self.variant!r}")
        cases(self)

    def memory_bytes(self) -> dict[str, int]:
        return {"panels": BYTES_PER_PANEL * self.panels}


def cases(cfg: GradientIdentityConfig) -> list[tuple]:
    out = []
    for item in cfg.cases.split(";"):
        try:
            spec, theta = item.split("@")
            a, b = (float(v) for v in theta.split(","))
        except ValueError:
            raise ConfigError(f"cases must be 'P_DATA @ a,b; ...', got {item.strip()!r}") from None
        if a <= 0:
            raise ConfigError(f"the generator's scale a must be > 0, got {a}")
        out.append((parse_density(spec.strip()), a, b))
    return out


def _z_rule(panels: int):
    """Composite 16-point Gauss-Legendre on z in [-Z_MAX, Z_MAX], times the N(0, 1) density.

    -log D*(a z + b) of a mixture p_data bends sharply where its components trade places (over
    ~0.1 in x for a component of width 0.5), which a global Gauss-Hermite rule resolves only
    slowly (1e-4 at 160 nodes); short panels resolve it at any location.
    """
    g, gw = np.polynomial.legendre.leggauss(16)
    edges = np.linspace(-Z_MAX, Z_MAX, panels + 1)
    half = 0.5 * np.diff(edges)
    z = ((edges[:-1] + half)[:, None] + half[:, None] * g[None, :]).ravel()
    w = (half[:, None] * gw[None, :]).ravel() * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return torch.tensor(z, dtype=torch.float64), torch.tensor(w, dtype=torch.float64)


def autograd_side(p_data, a0: float, b0: float, panels: int, variant: str = "correct"):
    r"""E_z[-grad_theta log D*(a z + b)] at (a0, b0), D* fixed at p_g = N(b0, a0^2)."""
    z, w = _z_rule(panels)
    a = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    x = a * z + b
    if variant == "d_star_follows_theta":  # broken: D* of p_g_theta, not of p_g_theta0
        lg = -0.5 * ((x - b) / a) ** 2 - torch.log(a) - 0.5 * np.log(2 * np.pi)
    else:
        lg = Normal(b0, a0).logpdf(x)
    logit = p_data.logpdf(x) - lg  # log D* - log(1 - D*)
    if variant == "minimax":  # broken: the cost log(1 - D*), i.e. -softplus(logit)
        cost = -torch.nn.functional.softplus(logit)
    else:  # -log D* = softplus(-logit)
        cost = torch.nn.functional.softplus(-logit)
    ga, gb = torch.autograd.grad((w * cost).sum(), (a, b))
    return np.array([float(ga), float(gb)])


def oracle_objective(p_data, a: float, b: float, variant: str = "correct") -> float:
    """KL(p_g || p_data) - 2 JSD(p_g || p_data) for p_g = N(b, a^2) (KL - JSD for jsd_once)."""
    p_g = Normal(b, a)
    return kl(p_g, p_data) - (1.0 if variant == "jsd_once" else 2.0) * jsd(p_g, p_data)


def difference_side(p_data, a0: float, b0: float, h: float, variant: str = "correct"):
    """Five-point central differences of :func:`oracle_objective` in a and in b."""
    def d(f):
        return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)

    ga = d(lambda t: oracle_objective(p_data, a0 + t, b0, variant))
    gb = d(lambda t: oracle_objective(p_data, a0, b0 + t, variant))
    return np.array([ga, gb])


@dataclass(frozen=True)
class GradientIdentityMeasurement:
    rows: list


def measure(cfg: GradientIdentityConfig) -> GradientIdentityMeasurement:
    rows = []
    for p_data, a0, b0 in cases(cfg):
        lhs = autograd_side(p_data, a0, b0, cfg.panels, cfg.variant)
        lhs2 = autograd_side(p_data, a0, b0, 2 * cfg.panels, cfg.variant)
        rhs = difference_side(p_data, a0, b0, H, cfg.variant)
        rhs2 = difference_side(p_data, a0, b0, H / 2, cfg.variant)
        rows.append({"p_data": str(p_data), "a0": a0, "b0": b0, "autograd": lhs,
                     "autograd_2x_panels": lhs2, "finite_differences": rhs,
                     "finite_differences_half_step": rhs2,
                     "max_abs_diff": float(np.max(np.abs(lhs - rhs)))})
    return GradientIdentityMeasurement(rows)


def verdict(m: GradientIdentityMeasurement, cfg: GradientIdentityConfig) -> Verdict:
    key = lambda r: f"{r['p_data']} at (a, b) = ({r['a0']:g}, {r['b0']:g})"  # noqa: E731
    gh = {key(r): float(np.max(np.abs(r["autograd"] - r["autograd_2x_panels"]))) for r in m.rows
          if not np.max(np.abs(r["autograd"] - r["autograd_2x_panels"])) <= GL_TOL}
    off = {key(r): (list(r["autograd"]), list(r["finite_differences"])) for r in m.rows
           if not r["max_abs_diff"] <= IDENTITY_TOL}
    return Verdict.from_checks({
        "quadrature_converged": (not gh, f"Gauss-Legendre with {cfg.panels} and {2 * cfg.panels} "
                                         f"panels differ by more than {GL_TOL:g}: {gh}"),
        "identity": (not off, f"E[-grad log D*] (autograd) vs grad[KL - 2 JSD] (differences) "
                              f"beyond {IDENTITY_TOL:g}: {off}"),
    })


def report(m: GradientIdentityMeasurement, cfg: GradientIdentityConfig) -> Report:
    lines = ["E_z[-grad_(a,b) log D*(a z + b)] (autograd, D* fixed) vs grad[KL(p_g||p_data) - "
             "2 JSD(p_g||p_data)] (differences of the oracle)"
             + ("" if cfg.variant == "correct" else f"; BROKEN variant {cfg.variant}")]
    for r in m.rows:
        lines.append(f"{r['p_data']} at (a, b) = ({r['a0']:g}, {r['b0']:g}): "
                     f"autograd ({r['autograd'][0]:+.10f}, {r['autograd'][1]:+.10f}), "
                     f"differences ({r['finite_differences'][0]:+.10f}, "
                     f"{r['finite_differences'][1]:+.10f}); max |diff| {r['max_abs_diff']:.1e}")
    metrics = {"rows": m.rows, "max_abs_diff": max(r["max_abs_diff"] for r in m.rows),
               "variant": cfg.variant, "panels": cfg.panels}
    tol = {"identity": IDENTITY_TOL, "gauss_legendre": GL_TOL, "difference_step": H}
    return Report(jsonable(metrics), tol, tuple(lines))


def plot(m: GradientIdentityMeasurement, cfg: GradientIdentityConfig, v) -> dict:
    """grad_b of both sides along b for the first case: the identity as two overlying curves."""
    from ..plotting import subplots

    p_data, a0, b0 = cases(cfg)[0]
    bs = np.linspace(b0 - 3, b0 + 3, 25)
    lhs = [autograd_side(p_data, a0, b, cfg.panels, cfg.variant)[1] for b in bs]
    rhs = [difference_side(p_data, a0, b, H, cfg.variant)[1] for b in bs]
    fig, ax = subplots(figsize=(6.4, 4.2))
    ax.plot(bs, lhs, "o", ms=4, label="E_z[-d/db log D*(a z + b)] (autograd, D* fixed)")
    ax.plot(bs, rhs, "-", label="d/db [KL(p_g || p_data) - 2 JSD] (oracle differences)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel(f"b (p_g = N(b, {a0:g}^2), p_data = {p_data})")
    ax.set_ylabel("gradient in b")
    ax.set_title("Arjovsky-Bottou Theorem 2.5: the non-saturating gradient at D*", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return {"": fig}


register_claim(
    "gradient_identity",
    "Arjovsky and Bottou 2017, Theorem 2.5: with D = D* held fixed, "
    "E_z[-grad_theta log D*(g_theta(z))] = grad_theta [KL(p_g || p_data) - 2 JSD(p_g || p_data)].",
    GradientIdentityConfig, measure=measure, verdict=verdict, report=report, plot=plot,
    quick={"cases": "normal(0,1) @ 1.0,1.5; mixture(0.3*normal(-2,0.5)+0.7*normal(1,1)) @ 1.0,0.0"})
