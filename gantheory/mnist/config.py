"""The MNIST experiment's settings: one dataclass, :class:`MNISTConfig`, and its named presets.

``PRESETS["paper"]`` is the setup of the original code's ``mnist.yaml`` (goodfeli/adversarial,
June 2014; docs/reproduction.md lists every setting);
``PRESETS["smoke"]`` is a seconds-long run on a few hundred real images with tiny networks, for CI.
Change any field with :func:`gantheory.config.override` (the CLI's ``--set key=value``)::

    from gantheory.config import override
    from gantheory.mnist.config import PRESETS
    cfg = override(PRESETS["paper"], k=2, update="alternating")

The schedules are pure functions of the step and epoch counters, so a checkpoint needs only those
counters to restore them: :func:`lr_at` and :func:`momentum_at`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError
from ..gan.losses import GeneratorLoss
from ..gan.step import UpdateOrder

#: The largest seed: seeds feed torch.Generator.manual_seed through a 64-bit hash, but a seed
#: is also a JSON number in run.json, and 2**53 is where JSON readers stop being exact.
MAX_SEED = 2**53 - 1
#: ``cuda`` or ``cuda:N``.
CUDA_DEVICE = re.compile(r"cuda(:\d{1,4})?")

# Fields a resumed run may change: how long it runs and how it reports, not the maths of a step.
RUN_CONTROL = frozenset({"epochs", "log_every", "ckpt_every_steps", "keep_checkpoints",
                         "sample_every", "figures", "device", "cuda_graph", "threads"})


@dataclass(frozen=True)
class MNISTConfig:
    """Every setting of an MNIST GAN run; defaults are the paper's (``mnist.yaml``)."""

    # data: the first `train_images` of MNIST's 50,000 training images, or seeded synthetic images
    data: Literal["mnist", "synthetic"] = "mnist"
    train_images: int = 50_000
    # G: z_dim -> g_hidden ReLU -> g_hidden ReLU -> 784 sigmoid, weights U(-g_init, g_init),
    # output bias logit(clip(mean pixel, g_bias_clip, 1 - g_bias_clip)) (pylearn2's clip)
    z_dim: int = 100
    z: Literal["uniform", "normal"] = "uniform"  # uniform on [-sqrt 3, sqrt 3]: unit variance
    g_hidden: int = 1200
    g_init: float = 0.05
    g_bias_clip: float = 1e-7
    # D: 784 -> maxout d_units x d_pieces -> maxout d_units x d_pieces -> 1 logit,
    # weights U(-d_init, d_init)
    d_units: int = 240
    d_pieces: int = 5
    d_init: float = 0.005
    d_input_keep: float = 0.8  # dropout keep probability on D's input (kept pixels scaled 1/keep)
    d_hidden_keep: float = 0.5  # ... on the input of each later D layer
    # the objective and the update order (the 1-D trainer's switches)
    loss: GeneratorLoss = "non_saturating"
    update: UpdateOrder = "simultaneous"  # the original run; "alternating" is Algorithm 1
    k: int = 1  # D steps per G step when alternating
    # SGD with momentum, shared by D and G
    batch: int = 100  # the global minibatch (split across ranks under torchrun)
    lr: float = 0.1
    lr_decay: float = 1.000004  # lr / lr_decay after every minibatch ...
    lr_min: float = 1e-6  # ... down to lr_min
    momentum: float = 0.5
    momentum_final: float = 0.7
    momentum_start: int = 1  # momentum rises linearly from epoch momentum_start ...
    momentum_saturate: int = 250  # ... to momentum_final at epoch momentum_saturate
    # the run
    epochs: int = 1  # the paper gives no epoch count
    seed: int = 0
    device: str = "auto"  # "auto": cuda when available, else cpu
    cuda_graph: bool = False  # the step as one CUDA graph (checked on one H200; see mnist/graph.py)
    threads: int = 0  # torch CPU threads; 0 leaves torch's default
    log_every: int = 50  # steps between progress/metrics updates (the only host syncs)
    ckpt_every_steps: int = 0  # extra checkpoints every N steps (0: only at epoch ends)
    keep_checkpoints: int = 2
    sample_every: int = 1  # epochs between fixed-noise sample grids (0: never)
    figures: bool = True  # Figures 2 and 3 at the end

    def check(self) -> None:
        """Raise :class:`ConfigError` for an impossible setting.

        Every field's type and range is checked here, so a config read from a file (a
        checkpoint's) is held to the same rules as one built from the command line.
        """
        self._check_types()
        positive = ("train_images", "z_dim", "g_hidden", "d_units", "d_pieces", "k", "batch",
                    "epochs", "log_every", "keep_checkpoints", "momentum_saturate")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("ckpt_every_steps", "sample_every", "threads", "momentum_start"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.momentum_saturate < self.momentum_start:
            raise ConfigError("momentum_saturate must be >= momentum_start")
        for name in ("g_init", "d_init", "lr", "lr_min"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.lr_decay >= 1:
            raise ConfigError(f"lr_decay must be >= 1 (a decay), got {self.lr_decay}")
        for name in ("d_input_keep", "d_hidden_keep"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("momentum", "momentum_final"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 < self.g_bias_clip < 0.5:
            raise ConfigError(f"g_bias_clip must be in (0, 0.5), got {self.g_bias_clip}")
        if self.data == "mnist" and self.train_images > 50_000:
            raise ConfigError(f"train_images must be <= 50000 (the paper's training split), "
                              f"got {self.train_images}")
        if self.batches_per_step * self.batch > self.train_images:
            raise ConfigError(f"one step needs {self.batches_per_step * self.batch} images but "
                              f"train_images is {self.train_images}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be in [0, {MAX_SEED}], got {self.seed}")
        if self.device not in ("auto", "cpu") and not CUDA_DEVICE.fullmatch(self.device):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N (N a GPU index), "
                              f"got {self.device!r}")

    def _check_types(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            want, value = hints[f.name], getattr(self, f.name)
            if typing.get_origin(want) is Literal:
                choices = typing.get_args(want)
                if value not in choices:
                    raise ConfigError(f"{f.name} must be one of {', '.join(map(str, choices))}, "
                                      f"got {value!r}")
            elif want is bool and not isinstance(value, bool):
                raise ConfigError(f"{f.name} must be true or false, got {value!r}")
            elif want is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{f.name} must be an integer, got {value!r}")
            elif want is float and (isinstance(value, bool) or not isinstance(value, (int, float))
                                    or not math.isfinite(value)):
                raise ConfigError(f"{f.name} must be a finite number, got {value!r}")
            elif want is str and not isinstance(value, str):
                raise ConfigError(f"{f.name} must be a string, got {value!r}")

    @property
    def batches_per_step(self) -> int:
        """Minibatches of real data one :func:`gantheory.gan.step.gan_step` consumes."""
        return self.k if self.update == "alternating" else 1

    @property
    def steps_per_epoch(self) -> int:
        """Steps in one pass over the data; a remainder smaller than one step is dropped."""
        return self.train_images // (self.batch * self.batches_per_step)


#: Pixels of an MNIST image (G's output, D's input).
_PIXELS = 784
#: The real MNIST a run loads whatever ``train_images`` is: 70,000 uint8 images, and the 50,000
#: of the training split as float32.
_MNIST_BYTES = 70_000 * _PIXELS + 50_000 * _PIXELS * 4


def generator_parameters(z_dim: int, g_hidden: int) -> int:
    """Weights and biases of G: ``z_dim -> g_hidden -> g_hidden -> 784``."""
    return (z_dim + 1) * g_hidden + (g_hidden + 1) * g_hidden + (g_hidden + 1) * _PIXELS


def discriminator_parameters(d_units: int, d_pieces: int) -> int:
    """Weights and biases of D: two maxout layers of ``d_units x d_pieces``, one logit."""
    return ((_PIXELS + 1) * d_units * d_pieces + (d_units + 1) * d_units * d_pieces
            + d_units + 1)


def memory_bytes(cfg: MNISTConfig, world_size: int = 1) -> int:
    """An upper estimate of the host memory a run of ``cfg`` takes, over ``world_size`` ranks
    on one machine (each holds the nets and the images).

    Every parameter: its value, gradient and momentum in float32, twice over for the
    checkpoint's serialised copy (16 x 2 bytes); the images in float32 (the real data besides,
    for ``data="mnist"``); a step's activations, pre-activations and dropout masks for the real
    and the fake batch, four times over for the backward pass.
    """
    params = (generator_parameters(cfg.z_dim, cfg.g_hidden)
              + discriminator_parameters(cfg.d_units, cfg.d_pieces))
    images = cfg.train_images * _PIXELS * 4 + (_MNIST_BYTES if cfg.data == "mnist" else 0)
    width = cfg.z_dim + 2 * cfg.g_hidden + 2 * _PIXELS + 4 * cfg.d_units * cfg.d_pieces
    activations = 2 * cfg.batch * cfg.batches_per_step * width * 4 * 4
    return world_size * (32 * params + images + activations)


def lr_at(cfg: MNISTConfig, step: int) -> float:
    r"""The learning rate of update ``step`` (0-based), as pylearn2's ``ExponentialDecay``.

    .. math:: \eta_t = \max(\eta_0 \, \gamma^{-t}, \eta_{\min})
    """
    return max(cfg.lr * cfg.lr_decay ** (-step), cfg.lr_min)


def momentum_at(cfg: MNISTConfig, epoch: int) -> float:
    """The momentum during 1-based ``epoch``, as pylearn2's ``MomentumAdjustor``.

    Linear from ``momentum`` at epoch ``momentum_start`` to ``momentum_final`` at epoch
    ``momentum_saturate``, constant outside.
    """
    width = cfg.momentum_saturate - cfg.momentum_start
    if width == 0:
        alpha = 1.0 if epoch >= cfg.momentum_start else 0.0
    else:
        alpha = min(max((epoch - cfg.momentum_start) / width, 0.0), 1.0)
    return cfg.momentum * (1 - alpha) + cfg.momentum_final * alpha


def changed_maths(old: MNISTConfig, new: MNISTConfig) -> list[str]:
    """Fields outside :data:`RUN_CONTROL` where ``new`` differs from ``old`` (a resume's check)."""
    return [f.name for f in dataclasses.fields(old)
            if f.name not in RUN_CONTROL and getattr(old, f.name) != getattr(new, f.name)]


def from_dict(values: dict) -> MNISTConfig:
    """A config from a checkpoint's dict; names this version does not know are errors."""
    names = {f.name for f in dataclasses.fields(MNISTConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"checkpoint config has unknown field(s) {', '.join(unknown)}")
    if not isinstance(values, dict):
        raise ConfigError(f"checkpoint config is a {type(values).__name__}, not a dict")
    cfg = MNISTConfig(**values)
    cfg.check()
    return cfg


PRESETS: dict[str, MNISTConfig] = {
    "paper": MNISTConfig(),
    # CI: 300 real images, tiny nets, 2 epochs of 6 steps, a checkpoint every 4 steps
    "smoke": MNISTConfig(train_images=300, batch=50, g_hidden=64, d_units=32, d_pieces=2,
                         epochs=2, log_every=2, ckpt_every_steps=4, device="cpu"),
}
