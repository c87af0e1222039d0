"""Figures: pure functions from arrays to matplotlib figures, plus an atomic saver.

Nothing here computes theory; claims compute, then hand arrays to these functions. The style of
:func:`plot_discriminator` follows the paper's Figure 1: data density black and dotted, p_g green
and solid, D blue and dashed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on the machines this runs on; set before pyplot loads
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_discriminator(xs: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, d_star: np.ndarray,
                       d_curves: Sequence[np.ndarray] = (), title: str = "", ax=None):
    """p_data, p_g, D* and trained D(x) curves on one axis (Figure 1 style)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 4))
    ax.plot(xs, p_data, "k:", lw=2, label="p_data")
    ax.plot(xs, p_g, "g-", lw=1.5, label="p_g")
    ax.plot(xs, d_star, color="tab:red", lw=1, label="D* = p_data / (p_data + p_g)")
    for i, d in enumerate(d_curves):
        ax.plot(xs, d, "b--", lw=1, alpha=0.8, label="trained D (one per seed)" if i == 0 else None)
    ax.set_xlabel("x")
    ax.set_ylim(-0.02, max(1.02, float(np.max(p_data)) * 1.05, float(np.max(p_g)) * 1.05))
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_curves(steps: np.ndarray, curves: dict[str, np.ndarray], *, ylabel: str,
                title: str = "", logy: bool = True, bound: float | None = None, ax=None):
    """One line per entry of ``curves``; a 2-D entry (T, S) is drawn as median and 10-90% band."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 4))
    for label, y in curves.items():
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            med = np.median(y, axis=1)
            lo, hi = np.percentile(y, [10, 90], axis=1)
            (line,) = ax.plot(steps, med, label=f"{label} (median, {y.shape[1]} seeds)")
            ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)
        else:
            ax.plot(steps, y.reshape(len(steps), -1), label=label)
    if bound is not None:
        ax.axhline(bound, color="k", ls=":", lw=1, label=f"bound {bound:g}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> str:
    """Write ``fig`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        plt.close(fig)
    return str(path)
