"""A tiny MNIST-trainer config shared by the tests: synthetic images, small nets, one thread.

Weights start at +-0.1 (not the paper's +-0.005) so that 20-60 steps move them measurably: a
comparison between two runs then has something to disagree about.
"""

from gantheory.config import override
from gantheory.mnist.config import PRESETS

TINY = {"data": "synthetic", "train_images": 200, "batch": 20, "g_hidden": 32, "d_units": 16,
        "d_pieces": 2, "g_init": 0.1, "d_init": 0.1, "threads": 1, "figures": False,
        "sample_every": 0, "log_every": 5, "device": "cpu"}


def tiny(**changes):
    """The tiny config (10 steps per epoch) with ``changes``."""
    return override(PRESETS["paper"], TINY, **changes)


def cli_args(**changes) -> list[str]:
    """The tiny config as ``--set`` options for the command line."""
    out = []
    for key, value in dict(TINY, **changes).items():
        out += ["--set", f"{key}={value}"]
    return out


def synthetic_images(n: int = 200):
    """``n`` fixed pseudo-images in [0, 1], skewed towards 0 as MNIST's pixels are."""
    import torch

    return torch.rand(n, 784, generator=torch.Generator().manual_seed(0)).pow_(4)


def run_steps(cfg, steps: int, state=None, device: str = "cpu"):
    """A :class:`Trainer` on :func:`synthetic_images`, optionally restored from ``state``, after
    ``steps`` more training steps (epochs closed as the loop would)."""
    import torch

    from gantheory.mnist.trainer import Trainer

    t = Trainer(cfg, synthetic_images(), torch.device(device))
    if state is not None:
        t.load_state_dict(state)
    for _ in range(steps):
        if t.step_in_epoch == cfg.steps_per_epoch:
            t.end_epoch()
        t.train_step()
    if device != "cpu":
        torch.cuda.synchronize()
    return t
