"""Figures: pure functions from arrays to matplotlib figures, plus one atomic saver.

Every figure is a ``matplotlib.figure.Figure`` on an Agg canvas, made by :func:`subplots`: no
pyplot state and no backend switch, so importing this module leaves a notebook's backend alone.

Nothing here computes theory; claims compute, then hand arrays to these functions. The style of
:func:`plot_discriminator` follows the paper's Figure 1: data density black and dotted, p_g green
and solid, D blue and dashed.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .util.io import atomic_write


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``(fig, axes)`` as ``pyplot.subplots`` returns them, on an Agg canvas of the figure's own."""
    fig_kw = {k: kwargs.pop(k) for k in ("figsize", "dpi") if k in kwargs}
    fig = Figure(**fig_kw)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def plot_discriminator(xs: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, d_star: np.ndarray,
                       d_curves: Sequence[np.ndarray] = (), title: str = "", ax=None, *,
                       region: tuple[float, float] | None = None,
                       region_label: str = "region compared", status: str | None = None):
    """p_data, p_g, D* and trained D(x) curves on one axis (Figure 1 style).

    ``region`` (lo, hi) draws the compared region's edges as thin grey lines, in the legend as
    ``region_label``; ``status`` ("PASS", "FAIL", ...) goes through :func:`mark_status`.
    """
    fig, ax = (ax.figure, ax) if ax is not None else subplots(figsize=(7, 4))
    ax.plot(xs, p_data, "k:", lw=2, label="p_data")
    ax.plot(xs, p_g, "g-", lw=1.5, label="p_g")
    ax.plot(xs, d_star, color="tab:red", lw=1, label="D* = p_data / (p_data + p_g)")
    for i, d in enumerate(d_curves):
        ax.plot(xs, d, "b--", lw=1, alpha=0.8, label="trained D (one per seed)" if i == 0 else None)
    if region is not None:
        for i, edge in enumerate(region):
            ax.axvline(edge, color="grey", lw=0.5, label=region_label if i == 0 else None)
    ax.set_xlabel("x")
    ax.set_ylabel("density; D(x)")
    ax.set_ylim(-0.02, max(1.02, float(np.max(p_data)) * 1.05, float(np.max(p_g)) * 1.05))
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    if status is not None:
        mark_status(fig, status)
    fig.tight_layout()
    return fig


#: The label of the shaded band :func:`plot_curves` draws around a median over seeds.
BAND_LABEL = "10-90% of seeds (shaded)"


def mark_status(fig, status: str) -> None:
    """Say a claim's outcome on its figure: ``[STATUS]`` after the title (the figure's suptitle,
    else the first axis's title), and for FAIL also a red "FAIL" box in the top-left corner, so
    a failed claim's plot cannot be mistaken for a passing one. Idempotent."""
    tag = f"[{status}]"
    sup_text = getattr(fig, "_suptitle", None)  # Figure.get_suptitle needs matplotlib 3.8
    sup = sup_text.get_text() if sup_text is not None else ""
    if sup:
        if tag not in sup:
            sup_text.set_text(f"{sup} {tag}")
    elif fig.axes:
        ax = fig.axes[0]
        if tag not in ax.get_title():
            ax.set_title(f"{ax.get_title()} {tag}".strip(), fontsize=10)
    if status == "FAIL" and not any(t.get_text() == "FAIL" for t in fig.texts):
        fig.text(0.01, 0.99, "FAIL", color="white", fontsize=11, fontweight="bold", ha="left",
                 va="top", bbox=dict(facecolor="tab:red", edgecolor="none", pad=3))


def plot_curves(steps: np.ndarray, curves: dict[str, np.ndarray], *, ylabel: str,
                title: str = "", logy: bool = True, bound: float | None = None, ax=None,
                linestyles: dict[str, str] | None = None, xlabel: str = "step"):
    """One line per entry of ``curves``; a 2-D entry (T, S) is drawn as median and 10-90% band.

    ``steps`` is shared, or a dict with one x array per entry of ``curves``; ``linestyles``
    optionally maps an entry to a matplotlib line style (e.g. "--" for curves that overlap).
    """
    fig, ax = (ax.figure, ax) if ax is not None else subplots(figsize=(7, 4))
    band = False
    for label, y in curves.items():
        y = np.asarray(y)
        xs = steps[label] if isinstance(steps, dict) else steps
        ls = (linestyles or {}).get(label, "-")
        if y.ndim == 2 and y.shape[1] > 1:
            med = np.median(y, axis=1)
            lo, hi = np.percentile(y, [10, 90], axis=1)
            (line,) = ax.plot(xs, med, ls, label=f"{label} (median, {y.shape[1]} seeds)")
            # one legend entry explains every band (each takes its line's colour)
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2,
                            label=None if band else BAND_LABEL)
            band = True
        else:
            ax.plot(xs, y.reshape(len(xs), -1), ls, label=label)
    if bound is not None:
        ax.axhline(bound, color="k", ls=":", lw=1, label=f"bound {bound:g}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> str:
    """Write ``fig`` to ``path`` atomically (:func:`gantheory.util.io.atomic_write`).

    The format follows the suffix (png, svg, pdf); the folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    atomic_write(path, buf.getvalue())
    return str(path)


def plot_generator_costs(d: np.ndarray, costs: dict[str, np.ndarray], grads: dict[str, np.ndarray],
                         title: str = ""):
    """The generator's costs and their logit-gradients against D(G(z)) (Goodfellow 2016, Fig. 16).

    Left: each cost J(d) on a linear axis; right: |dJ/dl| on log-log axes, where saturation (the
    minimax gradient -> 0 as d -> 0) is a straight line of slope 1.
    """
    fig, (ax1, ax2) = subplots(1, 2, figsize=(10, 4))
    for name, c in costs.items():
        ax1.plot(d, c, label=name)
    ax1.set_ylim(-20, 15)
    ax1.set_xlabel("D(G(z))")
    ax1.set_ylabel("generator cost J")
    ax1.legend(fontsize=8)
    for name, g in grads.items():
        ax2.loglog(d, np.abs(g), label=name)
    ax2.set_xlabel("D(G(z))")
    ax2.set_ylabel("|dJ / d logit|")
    ax2.legend(fontsize=8)
    fig.suptitle(title or "Generator costs and their gradients against D(G(z))", fontsize=10)
    fig.tight_layout()
    return fig


def plot_convergence(jsd_curves: dict[str, np.ndarray], snapshots: dict[str, dict], *,
                     bound: float | None = None, title: str = ""):
    """Function-space descent: JSD per step (left) and p_data, initial and final p_g per case.

    ``snapshots[name]`` holds arrays ``x``, ``p_data``, ``p_g0`` and ``p_g`` on the grid.
    """
    n = len(snapshots)
    fig, axes = subplots(1, 1 + n, figsize=(5 + 4 * n, 4))
    for name, j in jsd_curves.items():
        axes[0].semilogy(np.arange(len(j)), np.maximum(j, 1e-18), label=name)
    if bound is not None:
        axes[0].axhline(bound, color="k", ls=":", lw=1, label=f"bound {bound:g}")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("JSD(p_data || p_g) on the grid")
    axes[0].legend(fontsize=8)
    for ax, (name, s) in zip(axes[1:], snapshots.items()):
        ax.plot(s["x"], s["p_data"], "k:", lw=2, label="p_data")
        ax.plot(s["x"], s["p_g0"], color="tab:gray", lw=1, label="p_g, step 0")
        ax.plot(s["x"], s["p_g"], "g-", lw=1.2, label="p_g, last step")
        ax.set_xlim(float(s["x"][0]) + 3, float(s["x"][-1]) - 3)
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_sample_densities(xs: np.ndarray, p_data: np.ndarray, samples: np.ndarray, *,
                          bins: int = 120, labels: Sequence[str] | None = None, title: str = ""):
    """Small multiples, one per seed: p_data (black, dotted) and a histogram of G's samples."""
    samples = np.atleast_2d(samples)
    n = samples.shape[0]
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = subplots(rows, cols, figsize=(3 * cols, 2.2 * rows), squeeze=False,
                             sharex=True)
    edges = np.linspace(xs[0], xs[-1], bins + 1)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        ax.plot(xs, p_data, "k:", lw=1.5)
        ax.stairs(np.histogram(samples[i], bins=edges, density=True)[0], edges, color="g")
        ax.set_ylim(0, 2.5 * float(np.max(p_data)))
        ax.set_title(labels[i] if labels else f"seed {i}", fontsize=8)
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel("density", fontsize=8)
        if i + cols >= n:
            ax.set_xlabel("x", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_figure1(xs: np.ndarray, p_data: np.ndarray, panels: Sequence[dict], *, title: str = ""):
    """The paper's Figure 1 layout: one panel per state, p_data black dotted, p_g green solid,
    D blue dashed; below, the z line (uniform noise) with lines to x = G(z) on the x line.

    Each panel dict holds ``title``, ``p_g`` and ``d`` (arrays on ``xs``), and ``z_lines`` /
    ``x_lines`` (z values and their images G(z)). z in [-sqrt 3, sqrt 3] is drawn on the central
    60% of the x range.
    """
    fig, axes = subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    top = max(1.05, 1.1 * float(np.max(p_data)), *(1.1 * float(np.max(p["p_g"])) for p in panels))
    centre, half = 0.5 * (xs[0] + xs[-1]), 0.3 * (xs[-1] - xs[0])
    y_x, y_z = -0.08 * top, -0.38 * top
    for ax, p in zip(axes, panels):
        ax.plot(xs, p_data, "k:", lw=2, label="p_data")
        ax.plot(xs, p["p_g"], "g-", lw=1.5, label="p_g")
        ax.plot(xs, p["d"], "b--", lw=1.2, label="D(x)")
        ax.axhline(y_x, color="k", lw=0.8)
        ax.plot([centre - half, centre + half], [y_z, y_z], color="k", lw=0.8)
        z_pos = centre + half * np.asarray(p["z_lines"]) / math.sqrt(3.0)
        for zp, xp in zip(z_pos, p["x_lines"]):
            ax.annotate("", xy=(xp, y_x), xytext=(zp, y_z),
                        arrowprops=dict(arrowstyle="->", lw=0.6, color="0.3"))
        ax.text(xs[0], y_x, " x", va="bottom", fontsize=8)
        ax.text(centre - half, y_z, "z ", ha="right", va="center", fontsize=8)
        ax.set_ylim(y_z - 0.06 * top, top)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_title(p["title"], fontsize=8)
        ax.set_yticks([0, 0.5, 1.0])
    axes[0].legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_sigma_curve(curves: dict[str, list[dict]], ax=None,
                     chosen: dict[str, float] | None = None):
    """Parzen validation log-likelihood against sigma, one line per sample set (log x axis).

    ``chosen[label]`` is the sigma the protocol chose for that set (the result's ``sigma``);
    without it, the sigma of the curve's highest validation log-likelihood, which is the
    protocol's rule. Each chosen point is ringed, and the first set's also gets a dashed line
    and its value, all in the legend.
    """
    fig, ax = (ax.figure, ax) if ax is not None else subplots(figsize=(6, 4))
    for i, (label, curve) in enumerate(curves.items()):
        sig = [c["sigma"] for c in curve]
        ll = [c["valid_mean_ll"] for c in curve]
        (line,) = ax.plot(sig, ll, "o-", ms=3, label=label)
        best = (chosen or {}).get(label, sig[int(np.argmax(ll))])
        j = int(np.argmin(np.abs(np.log(sig) - math.log(best))))
        ax.plot([sig[j]], [ll[j]], "o", ms=10, mfc="none", mec=line.get_color(), mew=1.5,
                label="chosen sigma (best on validation)" if i == 0 else None)
        if i == 0:
            ax.axvline(best, color=line.get_color(), ls="--", lw=0.8,
                       label=f"{label}: sigma = {best:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("Parzen window width sigma")
    ax.set_ylabel("mean validation log-likelihood (nats)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_dirac_trajectories(trajectories: dict[str, dict[str, np.ndarray]],
                            fields: dict[str, tuple], labels: dict[str, str], *,
                            lim: float = 2.0, title: str = ""):
    """Dirac-GAN iterates in the (theta, psi) plane, one column per training method and one row
    per update order, over the method's vector field (Mescheder et al. 2018, Figs. 1-3 style).

    ``trajectories[case][update]`` is a (T, 2) array; ``fields[case]`` is (theta grid, psi grid,
    theta_dot, psi_dot) as :func:`gantheory.dirac.vector_field_grid` returns it.
    """
    names = list(trajectories)
    updates = list(next(iter(trajectories.values())))
    fig, axes = subplots(len(updates), len(names), figsize=(2.6 * len(names), 2.7 * len(updates)),
                         squeeze=False)
    for j, name in enumerate(names):
        for i, upd in enumerate(updates):
            ax = axes[i, j]
            if name in fields:
                tt, pp, u, v = fields[name]
                ax.quiver(tt, pp, u, v, color="0.6", angles="xy", width=0.004)
            tr = trajectories[name][upd]
            inside = np.all(np.abs(tr) <= 3 * lim, axis=1)
            ax.plot(tr[inside, 0], tr[inside, 1], color="tab:blue", lw=0.8)
            ax.plot(tr[0, 0], tr[0, 1], "o", color="tab:green", ms=4)
            ax.plot(tr[-1, 0], tr[-1, 1], "x", color="tab:red", ms=5)
            ax.plot(0, 0, "*", color="k", ms=7)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(labels.get(name, name), fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{upd}\npsi", fontsize=8)
            if i == len(updates) - 1:
                ax.set_xlabel("theta", fontsize=8)
    if title:
        fig.suptitle(title + "  (green: start, red x: end, black star: equilibrium)", fontsize=9)
    fig.tight_layout()
    return fig
