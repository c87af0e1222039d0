r"""Claim ``dirac``: the Dirac-GAN (Mescheder, Geiger and Nowozin 2018) by autograd through the
toolkit's losses, against the paper's closed forms.

    python -m gantheory.verify dirac [--steps N] [--plot F] [--set h=0.2 --set gamma=0.3]

Checks, all of which must hold (see :mod:`gantheory.dirac` for the model and the formulas):

* ``field``: for minimax, non-saturating, WGAN, R1, R2, WGAN-GP and instance noise, the field by
  autograd equals the closed form on an n x n grid of (theta, psi) in [-2, 2]^2
  (instance noise: against adaptive quadrature of the closed-form integrands);
* ``jacobian`` / ``eigenvalues``: the Jacobian at (0, 0) by autograd (second derivatives) and its
  eigenvalues equal the closed forms; unregularised they are +- i f'(0) (real part 0), with R1 or
  R2 their real parts are -gamma/2, with instance noise f''(0) noise^2 = -noise^2/4;
* ``maps``: the Jacobian of one step of simultaneous and alternating descent (autograd through
  the map) equals the chain-rule matrix, and its spectral radius the closed form
  (sqrt(1 + h^2 f'(0)^2) > 1 simultaneous; exactly 1 alternating, Lemma 2.4);
* ``trainer``: :func:`gantheory.gan.step.gan_step` with SGD reproduces the maps' iterates;
* ``simultaneous_diverges``: for minimax and WGAN the norm grows at every step from (1, 1)
  (the field is orthogonal to the state, so |x'|^2 = |x|^2 + h^2 |v|^2), and from a small start
  it grows at the rate of the spectral radius;
* ``alternating_cycles``: for minimax and WGAN alternating descent keeps circling: after
  ``steps`` its norm stays above half the start's and it has gone round at least once;
* ``regularised_converges``: with R1, R2 or instance noise both orders converge (norm below
  CONVERGED_TOL of the start) at the rate of the closed-form spectral radius;
* ``wgan_gp_does_not_converge``: WGAN-GP's trajectories stay away from (0, 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dc_field

import numpy as np

from .. import dirac
from ..dirac import DiracCase
from ..errors import ConfigError
from ..util.io import jsonable
from .registry import Report, Verdict, register_claim

# Closed forms and autograd must agree to 1e-10. Every quantity is O(1) and is a
# handful of float64 operations either way, so the measured gap is ~1e-16; 1e-10 leaves six
# orders for the quadrature of the instance-noise field (epsabs 1e-14) and its 80-node
# Gauss-Hermite counterpart.
CLOSED_FORM_TOL = 1e-10
# gan_step and the maps round differently (SGD's in-place add, the D loss's 1/2 undone by a
# doubled learning rate); over a few hundred steps of a map with spectral radius ~1 the gap is
# a few hundred ulps (measured 2e-15); 1e-12 is far below any modelling difference (a wrong
# order or a halved D step moves the iterates by >= 1e-3 within 10 steps).
TRAINER_TOL = 1e-12
TRAINER_STEPS = 200
# "Converged": the norm fell below 1e-6 of the start's.
CONVERGED_TOL = 1e-6
# "Does not converge": after all steps the norm is still above half the start's.
CYCLE_FRACTION = 0.5
# The small start of the rate check: in the linear regime the nonlinear terms of the field are
# O(|x|^2) relative, so from |x| <= 1e-4 up to |x| = RATE_R_MAX = 1e-2 the per-step growth equals
# the spectral radius to ~1e-4 relative at worst (measured ~1e-9 for minimax, where x.v = 0).
RATE_START = 1e-4
RATE_R_MAX = 1e-2
DIVERGE_RATE_RTOL = 1e-4
# For a converging map the norm of M^n x oscillates within a factor kappa (the condition number
# of M's eigenvectors) of rho^n |x|, so the rate measured over m steps is within kappa^(1/m) of
# rho; the tolerance is that bound with kappa computed, plus 1e-9 for the nonlinear start.
RATE_SLACK = 1e-9
# The rate is read above 1e-12 of the start: the Gauss-Hermite sums of the instance-noise field
# leave a rounding residue of ~1e-17 at (0, 0) where the iterates stall.
RATE_FLOOR = 1e-12
# The field check evaluates each case's field at n_grid^2 states (0.45 ms a state, measured: n_grid
# 40 instead of 7 added 4.2 s over the six cases on a grid); its memory is n_grid floats. 201 is
# 40,000 states a case (~2 minutes); a larger grid would run for hours to days without a word (10^4
# points a side: three days), so it is refused.
MAX_N_GRID = 201


@dataclass(frozen=True)
class DiracConfig:
    h: float = 0.5  # step size of both players
    steps: int = 600
    k: int = 1  # D steps per G step in the alternating order
    gamma: float = 0.3  # R1 / R2 weight: gamma < 2 f'(0) = 1 keeps the eigenvalues complex
    gp_gamma: float = 1.0
    g0: float = 1.0  # WGAN-GP's target gradient norm
    noise: float = 1.0  # instance noise std
    theta0: float = 1.0
    psi0: float = 1.0
    n_grid: int = 7  # field check: n_grid x n_grid states (instance noise: 3 x 3, quadrature)
    plot: str | None = None

    def check(self) -> None:
        if not self.h > 0:
            raise ConfigError(f"h must be > 0, got {self.h}")
        for name in ("steps", "k", "n_grid"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_grid > MAX_N_GRID:
            raise ConfigError(f"n_grid must be <= {MAX_N_GRID} (the field is checked at n_grid^2 "
                              f"states), got {self.n_grid}")
        if self.steps < 8:
            raise ConfigError(f"steps must be >= 8 (the rate checks use the last half), "
                              f"got {self.steps}")
        if self.gamma >= 2 * dirac.F_PRIME_0["minimax"]:
            raise ConfigError(f"gamma must be < 2 f'(0) = 1 (complex eigenvalues, real part "
                              f"-gamma/2), got {self.gamma}")
        for name in ("gamma", "gp_gamma", "noise"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.g0 < 0:
            raise ConfigError(f"g0 must be >= 0, got {self.g0}")
        if self.theta0 == 0 and self.psi0 == 0:
            raise ConfigError("the start (theta0, psi0) must not be the equilibrium (0, 0)")
        if self.k * (self.h * 1.0) ** 2 > 4:
            raise ConfigError("sqrt(k) h f'(0) must be <= 2 (Lemma 2.4's regime) for WGAN")

    def cases(self) -> dict[str, DiracCase]:
        return {"minimax": DiracCase("minimax"), "non_saturating": DiracCase("non_saturating"),
                "wgan": DiracCase("wgan"), "r1": DiracCase("minimax", "r1", self.gamma),
                "r2": DiracCase("minimax", "r2", self.gamma),
                "wgan_gp": DiracCase("wgan", "wgan_gp", self.gp_gamma, self.g0),
                "instance_noise": DiracCase("minimax", noise=self.noise)}


UNREGULARISED = ("minimax", "non_saturating", "wgan")
ORTHOGONAL = ("minimax", "wgan")  # x . v(x) = 0: the norm grows exactly under simultaneous GD
REGULARISED = ("r1", "r2", "instance_noise")
UPDATES = ("simultaneous", "alternating")


@dataclass
class DiracMeasurement:
    cases: dict[str, dict]  # per case: errors, eigenvalues, spectral radii
    trajectories: dict[str, dict[str, np.ndarray]]  # case -> update -> (steps + 1, 2)
    runs: dict[str, dict[str, dict]]  # case -> update -> trajectory summaries
    trainer_err: dict[str, float]
    seeds: tuple = ()
    fields: dict = dc_field(default_factory=dict)  # quiver grids for the figure


def _revolutions(traj: np.ndarray) -> float:
    ang = np.unwrap(np.arctan2(traj[:, 1], traj[:, 0]))
    return float(abs(ang[-1] - ang[0]) / (2 * math.pi))


def _rate(norms: np.ndarray) -> float:
    m = len(norms) - 1
    return float((norms[-1] / norms[0]) ** (1.0 / m))


def measure(cfg: DiracConfig) -> DiracMeasurement:
    cases, trajs, runs = {}, {}, {}
    grid = np.linspace(-2, 2, cfg.n_grid)
    for name, case in cfg.cases().items():
        g = grid if case.noise == 0 else np.linspace(-2, 2, min(cfg.n_grid, 3))
        err = max(float(np.max(np.abs(dirac.field(case, a, b) - dirac.field_closed(case, a, b))))
                  for a in g for b in g)
        out = {"label": case.label, "loss": case.loss, "field_err": err}
        if case.reg != "wgan_gp":
            jac = dirac.jacobian(case)
            ev, ev_c = dirac.eigenvalues(jac), dirac.eigenvalues_closed(case)
            out.update(jacobian=jac, jacobian_err=float(np.max(np.abs(jac - dirac.jacobian_closed(
                case)))), eig=ev, eig_closed=ev_c, eig_err=float(np.max(np.abs(ev - ev_c))))
            for upd in UPDATES:
                m = dirac.map_jacobian(case, upd, cfg.h, cfg.k)
                m_c = dirac.map_jacobian_closed(dirac.jacobian_closed(case), upd, cfg.h, cfg.k)
                w, vecs = np.linalg.eig(m_c)
                out[upd] = {"map_err": float(np.max(np.abs(m - m_c))),
                            "rho": float(np.max(np.abs(np.linalg.eigvals(m)))),
                            "rho_closed": dirac.spectral_radius_closed(case, upd, cfg.h, cfg.k),
                            "eigvec_cond": float(np.linalg.cond(vecs))}
        cases[name] = out
        trajs[name], runs[name] = {}, {}
        for upd in UPDATES:
            tr = dirac.trajectory(case, upd, cfg.h, cfg.steps, (cfg.theta0, cfg.psi0), cfg.k)
            r = np.linalg.norm(tr, axis=1)
            run = {"start_norm": float(r[0]), "final_norm": float(r[-1]),
                   "min_norm": float(r.min()), "max_norm": float(r.max()),
                   "revolutions": _revolutions(tr),
                   "norm_increasing": bool(np.all(np.diff(r) > 0))}
            if name in REGULARISED:
                # the last half of the steps before the norm meets the rounding floor
                below = np.nonzero(r < RATE_FLOOR * r[0])[0]
                window = r[: below[0] + 1] if len(below) else r
                half = window[len(window) // 2:]
                run["rate_last_half"] = _rate(half)
                run["rate_steps"] = len(half) - 1
            if name in ORTHOGONAL and upd == "simultaneous":
                # from a small start, until the norm reaches RATE_R_MAX (the linear regime)
                rho = out[upd]["rho_closed"]
                n = int(min(cfg.steps, math.log(RATE_R_MAX / RATE_START) / math.log(rho)))
                s = RATE_START / math.sqrt(2)
                small = dirac.trajectory(case, upd, cfg.h, max(n, 1), (s, s), cfg.k)
                run["rate_small_start"] = _rate(np.linalg.norm(small, axis=1))
                run["rate_steps"] = max(n, 1)
            trajs[name][upd], runs[name][upd] = tr, run
    trainer = {}
    for name in ("minimax", "non_saturating"):
        case = cfg.cases()[name]
        for upd in UPDATES:
            a = dirac.trajectory(case, upd, cfg.h, TRAINER_STEPS, (cfg.theta0, cfg.psi0), cfg.k)
            b = dirac.trajectory_gan_step(case, upd, cfg.h, TRAINER_STEPS, (cfg.theta0, cfg.psi0),
                                          cfg.k)
            trainer[f"{name} {upd}"] = float(np.max(np.abs(a - b)))
    fields = {}
    if cfg.plot:
        for name, case in cfg.cases().items():
            fields[name] = dirac.vector_field_grid(case, lim=2.0, n=13)
    return DiracMeasurement(cases, trajs, runs, trainer, (), fields)


def verdict(m: DiracMeasurement, cfg: DiracConfig) -> Verdict:
    c, r = m.cases, m.runs
    checks = {}
    bad = {n: v["field_err"] for n, v in c.items() if not v["field_err"] <= CLOSED_FORM_TOL}
    checks["field"] = (not bad, f"autograd vs closed form > {CLOSED_FORM_TOL:g}: {bad}")
    diff = [n for n in c if "jacobian" in c[n]]
    bad = {n: (c[n]["jacobian_err"], c[n]["eig_err"]) for n in diff
           if not (c[n]["jacobian_err"] <= CLOSED_FORM_TOL and c[n]["eig_err"] <= CLOSED_FORM_TOL)}
    checks["jacobian"] = (not bad, f"Jacobian / eigenvalue errors above {CLOSED_FORM_TOL:g}: {bad}")
    # the structure the paper derives, read off the autograd eigenvalues
    expect_re = {n: 0.0 for n in UNREGULARISED}
    expect_re.update(r1=-cfg.gamma / 2, r2=-cfg.gamma / 2,
                     instance_noise=dirac.F_SECOND_0["minimax"] * cfg.noise**2)
    bad = {}
    for n, re in expect_re.items():
        ev = c[n]["eig"]
        ok = np.all(np.abs(ev.real - re) <= CLOSED_FORM_TOL)
        if n in UNREGULARISED:
            ok = ok and np.all(np.abs(np.abs(ev.imag) - dirac.F_PRIME_0[c[n]["loss"]])
                               <= CLOSED_FORM_TOL)
        if not ok:
            bad[n] = [str(v) for v in ev]
    checks["eigenvalues"] = (not bad, f"eigenvalues off the paper's forms: {bad}")
    bad = {}
    for n in diff:
        for upd in UPDATES:
            u = c[n][upd]
            if not (u["map_err"] <= CLOSED_FORM_TOL
                    and abs(u["rho"] - u["rho_closed"]) <= CLOSED_FORM_TOL):
                bad[f"{n} {upd}"] = (u["map_err"], u["rho"], u["rho_closed"])
    for n in UNREGULARISED:
        if not c[n]["simultaneous"]["rho"] > 1 + CLOSED_FORM_TOL:
            bad[f"{n} simultaneous rho <= 1"] = c[n]["simultaneous"]["rho"]
        if not abs(c[n]["alternating"]["rho"] - 1) <= CLOSED_FORM_TOL:
            bad[f"{n} alternating rho != 1"] = c[n]["alternating"]["rho"]
    for n in REGULARISED:
        for upd in UPDATES:
            if not c[n][upd]["rho"] < 1 - CLOSED_FORM_TOL:
                bad[f"{n} {upd} rho >= 1"] = c[n][upd]["rho"]
    checks["maps"] = (not bad, f"update maps off their closed forms: {bad}")
    bad = {k: v for k, v in m.trainer_err.items() if not v <= TRAINER_TOL}
    checks["trainer"] = (not bad, f"gan_step departs from the map by more than {TRAINER_TOL:g}: "
                                  f"{bad}")
    bad = {}
    for n in ORTHOGONAL:
        run, rho = r[n]["simultaneous"], c[n]["simultaneous"]["rho_closed"]
        if not run["norm_increasing"]:
            bad[f"{n} norm not increasing"] = run["final_norm"]
        if not abs(run["rate_small_start"] / rho - 1) <= DIVERGE_RATE_RTOL:
            bad[f"{n} rate"] = (run["rate_small_start"], rho)
    checks["simultaneous_diverges"] = (not bad, f"simultaneous descent did not diverge: {bad}")
    bad = {n: (r[n]["alternating"]["final_norm"], r[n]["alternating"]["revolutions"])
           for n in ORTHOGONAL
           if not (r[n]["alternating"]["min_norm"] >= CYCLE_FRACTION * r[n]["alternating"][
               "start_norm"] and r[n]["alternating"]["revolutions"] >= 1)}
    checks["alternating_cycles"] = (not bad, f"alternating descent did not cycle: {bad}")
    bad = {}
    for n in REGULARISED:
        for upd in UPDATES:
            run, u = r[n][upd], c[n][upd]
            tol = u["eigvec_cond"] ** (1.0 / run["rate_steps"]) - 1 + RATE_SLACK
            if not (run["final_norm"] <= CONVERGED_TOL * run["start_norm"]
                    and abs(run["rate_last_half"] / u["rho_closed"] - 1) <= tol):
                bad[f"{n} {upd}"] = (run["final_norm"], run["rate_last_half"], u["rho_closed"])
    checks["regularised_converges"] = (not bad, f"regularised descent did not converge at the "
                                                f"closed-form rate: {bad}")
    bad = {u: r["wgan_gp"][u]["final_norm"] for u in UPDATES
           if not r["wgan_gp"][u]["final_norm"] >= CYCLE_FRACTION * r["wgan_gp"][u]["start_norm"]}
    checks["wgan_gp_does_not_converge"] = (not bad, f"WGAN-GP came to (0, 0): {bad}")
    return Verdict.from_checks(checks)


def _fmt_ev(ev) -> str:
    return ", ".join(f"{z.real:+.4f}{z.imag:+.4f}i" for z in ev)


def report(m: DiracMeasurement, cfg: DiracConfig) -> Report:
    c, r = m.cases, m.runs
    lines = [f"Dirac-GAN, h = {cfg.h:g}, {cfg.steps} steps from ({cfg.theta0:g}, {cfg.psi0:g}), "
             f"k = {cfg.k}; gamma = {cfg.gamma:g} (R1, R2), {cfg.gp_gamma:g} (WGAN-GP, g0 = "
             f"{cfg.g0:g}), instance noise std {cfg.noise:g}"]
    for n, v in c.items():
        s = f"{n}: field err {v['field_err']:.1e}"
        if "eig" in v:
            s += (f"; eigenvalues {_fmt_ev(v['eig'])} (closed form err {v['eig_err']:.1e}); "
                  f"spectral radius simultaneous {v['simultaneous']['rho']:.6f}, alternating "
                  f"{v['alternating']['rho']:.6f}")
        for upd in UPDATES:
            run = r[n][upd]
            s += (f"; {upd}: |x| {run['start_norm']:.3g} -> {run['final_norm']:.3g} "
                  f"(min {run['min_norm']:.3g}, {run['revolutions']:.1f} turns)")
        lines.append(s)
    lines.append("gan_step vs map, max |diff| over "
                 f"{TRAINER_STEPS} steps: " + ", ".join(f"{k} {v:.1e}"
                                                       for k, v in m.trainer_err.items()))
    metrics = {"cases": {n: {k: v for k, v in d.items() if k not in ("jacobian",)}
                         for n, d in c.items()},
               "runs": r, "trainer_max_abs_diff": m.trainer_err}
    for d in metrics["cases"].values():
        for key in ("eig", "eig_closed"):
            if key in d:
                d[key] = [[float(z.real), float(z.imag)] for z in d[key]]
    tol = {"closed_form": CLOSED_FORM_TOL, "trainer": TRAINER_TOL, "converged": CONVERGED_TOL,
           "cycle_fraction": CYCLE_FRACTION, "diverge_rate_rtol": DIVERGE_RATE_RTOL}
    return Report(jsonable(metrics), tol, tuple(lines))


def plot(m: DiracMeasurement, cfg: DiracConfig, v) -> dict:
    from ..plotting import plot_dirac_trajectories

    return {"": plot_dirac_trajectories(m.trajectories, m.fields,
                                        {n: d["label"] for n, d in m.cases.items()},
                                        title=f"Dirac-GAN, h = {cfg.h:g}, {cfg.steps} steps")}


register_claim(
    "dirac",
    "Mescheder et al. 2018 (Dirac-GAN): unregularised GAN training has Jacobian eigenvalues "
    "+- i f'(0) at the equilibrium; simultaneous gradient descent diverges and alternating "
    "descent cycles; with R1 (or R2, or instance noise) the real parts become negative and both "
    "converge.", DiracConfig, measure=measure, verdict=verdict, report=report, plot=plot,
    quick={"steps": 150, "h": 0.6, "gamma": 0.6, "n_grid": 3})
