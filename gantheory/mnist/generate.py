"""Load a trained generator from a run (or one checkpoint file) and draw samples from it.

    >>> G, cfg, info = load_generator("runs/paper")     # newest checkpoint that verifies
    >>> x = sample(G, cfg, 10_000, seed=0)               # (10000, 784) pixels in [0, 1]
"""

from __future__ import annotations

from pathlib import Path

import torch

from . import checkpoint
from .config import MNISTConfig, from_dict, generator_parameters
from .nets import Generator, Shard, draw_z
from ..errors import CheckpointError, ConfigError
from ..util.memory import check_fits
from ..util.rng import check_seed, seed_generator


def load_generator(run: str | Path) -> tuple[Generator, MNISTConfig, dict]:
    """G of a run directory's newest verified checkpoint, or of one ``ckpt-*.pt`` file."""
    path = Path(run)
    if path.is_dir():
        state, path = checkpoint.load_latest(path)
    elif path.is_file():
        state = checkpoint.load(path)
    else:
        raise CheckpointError(f"{run}: no such run directory or checkpoint file")
    checkpoint.check_fields(state, path)
    cfg = from_dict(state["config"])
    # G twice over (its weights and the checkpoint's copy), before building it
    check_fits(2 * 4 * generator_parameters(cfg.z_dim, cfg.g_hidden), "the checkpoint's G",
               f"(z_dim={cfg.z_dim}, g_hidden={cfg.g_hidden})",
               advice="this checkpoint's generator is too large to load here")
    G = Generator(cfg.z_dim, cfg.g_hidden, cfg.g_init, None, seed_generator(cfg.seed, "G"))
    try:
        G.load_state_dict(state["G"])
    except (RuntimeError, TypeError, ValueError) as exc:
        msg = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"{path}: generator weights do not fit the config ({msg})") from exc
    G.eval()
    info = {"checkpoint": str(path), "step": int(state["step"]), "epoch": int(state["epoch"])}
    return G, cfg, info


@torch.no_grad()
def sample(G: Generator, cfg: MNISTConfig, n: int, seed: int = 0, batch: int = 1000, *,
           flag: str = "--n-samples") -> torch.Tensor:
    """``n`` samples of G with noise of the run's kind, reproducible given ``seed``.

    Refuses (:class:`~gantheory.errors.ConfigError`, naming ``flag``) an ``n`` whose samples
    cannot fit in memory before drawing any, and a seed outside ``[0, 2**53)``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"{flag} must be an integer >= 0, got {n!r}")
    check_seed(seed, "--seed")
    check_fits(2 * n * 784 * 4, flag, n)  # the batches and their concatenation
    gen = seed_generator(seed, "eval-z")
    out = [G(draw_z(min(batch, n - i), cfg.z_dim, cfg.z, gen, Shard(), "cpu"))
           for i in range(0, n, batch)]
    return torch.cat(out) if out else torch.empty(0, 784)
