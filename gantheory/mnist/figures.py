"""Pictures of an MNIST GAN: sample grids and the paper's Figures 2 and 3.

Computing and drawing are separate: :func:`nearest_neighbours` and :func:`interpolate` return
tensors, :func:`tile` a numpy image, the ``*_figure`` functions a matplotlib ``Figure`` (Agg canvas,
no pyplot state, no display needed);
:func:`gantheory.plotting.save_figure` writes one atomically.

* Figure 2: random (not cherry-picked) samples, each with its nearest training image beside it
  (squared L2 over all training images, in chunks), showing G does not copy the data.
* Figure 3: digits along straight lines in z space, z_a + t (z_b - z_a) for t in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


SIDE = 28


def tile(images: torch.Tensor, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    """``rows * cols`` images of 784 pixels as one grey image with ``pad`` pixels between them."""
    x = images.detach().float().cpu().reshape(-1, SIDE, SIDE).clamp(0, 1).numpy()
    h, w = rows * (SIDE + pad) + pad, cols * (SIDE + pad) + pad
    out = np.ones((h, w), dtype=np.float32) * 0.5
    for i in range(min(len(x), rows * cols)):
        r, c = divmod(i, cols)
        y0, x0 = pad + r * (SIDE + pad), pad + c * (SIDE + pad)
        out[y0:y0 + SIDE, x0:x0 + SIDE] = x[i]
    return out


def nearest_neighbours(samples: torch.Tensor, train: torch.Tensor,
                       chunk: int = 10_000) -> tuple[torch.Tensor, torch.Tensor]:
    r"""For each sample, the index of the nearest training image and the squared distance.

    .. math:: j^*(s) = \arg\min_j \lVert s - x_j \rVert_2^2

    Computed as ``|s|^2 - 2 s.x + |x|^2`` in float64, ``chunk`` training images at a time; the
    rounding (~1e-13 of a distance) can only swap near-exact ties.
    """
    s = samples.detach().double().reshape(len(samples), -1)
    s2 = (s * s).sum(1, keepdim=True)
    best_d = torch.full((len(s),), float("inf"), dtype=torch.float64, device=s.device)
    best_i = torch.zeros(len(s), dtype=torch.long, device=s.device)
    for start in range(0, len(train), chunk):
        x = train[start:start + chunk].to(s.device, torch.float64)
        d = s2 - 2 * s @ x.T + (x * x).sum(1)[None, :]
        val, idx = d.min(1)
        better = val < best_d
        best_d = torch.where(better, val, best_d)
        best_i = torch.where(better, idx + start, best_i)
    return best_i, best_d


def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    """Points on the segments from ``z_a[i]`` to ``z_b[i]``: shape ``(rows * steps, z_dim)``."""
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype, device=z_a.device)[None, :, None]
    return (z_a[:, None, :] + t * (z_b - z_a)[:, None, :]).reshape(-1, z_a.shape[-1])


def _figure(image: np.ndarray, title: str) -> Figure:
    fig = Figure(figsize=(image.shape[1] / 40 + 0.4, image.shape[0] / 40 + 0.7), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    fig.suptitle(title, fontsize=9)
    return fig


def samples_figure(images: torch.Tensor, title: str, cols: int = 10) -> Figure:
    """A grid of samples (e.g. G on fixed noise after an epoch)."""
    rows = -(-len(images) // cols)
    return _figure(tile(images, rows, cols), title)


def figure2(samples: torch.Tensor, neighbours: torch.Tensor, pairs_per_row: int = 4) -> Figure:
    """Figure 2: sample | nearest training image, ``pairs_per_row`` pairs per row."""
    pairs = torch.stack([samples.detach().cpu(), neighbours.detach().cpu()], 1).reshape(
        -1, samples.shape[-1])
    rows = -(-len(samples) // pairs_per_row)
    image = tile(pairs, rows, 2 * pairs_per_row)
    for c in range(2, 2 * pairs_per_row, 2):  # a thin light rule between pairs
        image[:, c * (SIDE + 2) + 1] = 1.0
    return _figure(image, "Figure 2: random samples, each beside its nearest training image (L2)")


def figure3(images: torch.Tensor, rows: int, steps: int) -> Figure:
    """Figure 3: each row is G along a straight line in z space."""
    return _figure(tile(images, rows, steps), "Figure 3: digits along straight lines in z space")
