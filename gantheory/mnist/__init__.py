"""The paper's MNIST experiment: data loading, the `paper` preset, the trainer."""

from .data import MNIST, load

__all__ = ["MNIST", "load"]
