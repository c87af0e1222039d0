"""Pictures of an MNIST GAN: sample grids and the paper's Figures 2 and 3.

Computing and drawing are separate: :func:`interpolate` returns
tensors, :func:`tile` a numpy image, the ``*_figure`` functions a matplotlib ``Figure`` (Agg canvas,
no pyplot state, no display needed);
:func:`gantheory.plotting.save_figure` writes one atomically.

* Figure 2: random (not cherry-picked) samples, each with its nearest training image beside it
  (L2 over all training images, :func:`gantheory.metrics.mnist_metrics.nearest_train_distances`),
  showing G does not copy the data.
* Figure 3: digits along straight lines in z space, z_a + t (z_b - z_a) for t in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


from ..util.rng import seed_generator
from .nets import Shard, draw_z

SIDE = 28
FIG2_SAMPLES, FIG3_ROWS, FIG3_STEPS = 24, 6, 10


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


@torch.no_grad()
def paper_figures(G: torch.nn.Module, cfg, train_x: torch.Tensor, seed: int) -> tuple[Figure, Figure]:
    """The paper's Figure 2 and Figure 3 of generator ``G`` (config ``cfg``), from ``seed``'s own
    noise streams ("figure2", "figure3"): one checkpoint and one seed always give the same two
    figures, whoever draws them (the end of a run, or ``experiments/paper_figures.py``)."""
    from ..metrics.mnist_metrics import nearest_train_distances

    device = next(G.parameters()).device
    z = draw_z(FIG2_SAMPLES, cfg.z_dim, cfg.z, seed_generator(seed, "figure2"), Shard(), "cpu")
    samples = G(z.to(device)).cpu()
    _, idx = nearest_train_distances(samples, train_x.cpu(), return_index=True)
    fig2 = figure2(samples, train_x.cpu()[torch.as_tensor(idx)])
    ends = draw_z(2 * FIG3_ROWS, cfg.z_dim, cfg.z, seed_generator(seed, "figure3"), Shard(), "cpu")
    line = G(interpolate(ends[:FIG3_ROWS], ends[FIG3_ROWS:], FIG3_STEPS).to(device)).cpu()
    return fig2, figure3(line, FIG3_ROWS, FIG3_STEPS)
