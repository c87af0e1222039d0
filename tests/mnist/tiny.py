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
