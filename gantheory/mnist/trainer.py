"""The MNIST GAN trainer: the paper's networks driven by :func:`gantheory.train.gan_step`.

:class:`Trainer` owns everything a step reads or changes, G, D, both optimisers, the step and
epoch counters and every random generator, and can hand all of it over as a checkpoint dict
(:meth:`Trainer.state_dict`) and take it back, so a resumed run is bitwise the uninterrupted one
on the CPU. :func:`gantheory.mnist.run.train` builds one and drives it with
:func:`gantheory.mnist.run.fit`; the command line is :mod:`gantheory.mnist.train`.

Speed: the training images sit in one tensor on the training device and minibatches are gathered
with a device-side permutation (no DataLoader, no workers); statistics are summed on the device
and read once per ``log_every`` steps (the only host synchronisation). With ``cuda_graph`` the
whole step is one CUDA graph (:mod:`gantheory.mnist.graph`, untested without a GPU).

Randomness, all of it checkpointed:

* data order: ``epoch_permutation(seed, epoch)``, a pure function, so a mid-epoch resume continues
  the same permutation at the same position;
* noise z and D's dropout masks: two ``torch.Generator`` s on the training device, identical on
  every rank (each rank draws the global batch's values and keeps its rows);
* torch's global CPU (and CUDA) generators are seeded from the seed and saved too, though
  nothing here draws from them; numpy and Python's ``random`` are not used.
"""

from __future__ import annotations

import math
import os
import time
from typing import Callable

import torch

from ..config import as_dict
from ..errors import CheckpointError, ConfigError, TrainingDiverged
from ..nets import seed_generator
from ..train import gan_step
from . import distributed as ddp
from .config import MNISTConfig, lr_at, momentum_at
from .graph import CapturedStep
from .nets import PIXELS, Shard, build, draw_z, generator_output_bias
from .optim import PylearnMomentum

STATS = ("d_loss", "g_loss", "d_real", "d_fake")  # d_real = mean D(x), d_fake = mean D(G(z))
HOOKS_ENV = "GANTHEORY_TEST_HOOKS"


def fault_hooks() -> dict[str, float]:
    """Fault injection for tests, read from ``$GANTHEORY_TEST_HOOKS`` (empty in normal use).

    ``nan_at_step=N``: G's output bias becomes NaN before step N; ``perturb_rng=1``: the noise
    generator moves one draw on after a checkpoint is restored; ``step_sleep=S``: sleep S seconds
    per step (so a test can kill a run mid-way).
    """
    spec = os.environ.get(HOOKS_ENV, "")
    return {k: float(v) for k, v in (item.split("=") for item in spec.split(",") if item)}


def epoch_permutation(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The order of the ``n`` training images in 0-based ``epoch``: a pure function of both."""
    return torch.randperm(n, generator=seed_generator(seed, f"perm/{epoch}"))


def device_generator(seed: int, stream: str, device: torch.device) -> torch.Generator:
    """A generator on ``device`` for one (seed, purpose) pair."""
    return torch.Generator(device).manual_seed(seed_generator(seed, stream).initial_seed())


class Trainer:
    """One MNIST GAN run's state and its training step (the loop: :func:`~.run.fit`).

    Parameters
    ----------
    cfg : the run's settings.
    images : ``(N, 784)`` float pixels in [0, 1], the training set (any device).
    device : where to train.
    world : this process's rank and the number of ranks (see :mod:`gantheory.mnist.distributed`).
    """

    def __init__(self, cfg: MNISTConfig, images: torch.Tensor, device: torch.device,
                 world: ddp.World = ddp.World()):
        cfg.check()
        if cfg.batch % world.size:
            raise ConfigError(f"batch {cfg.batch} does not split evenly over {world.size} ranks")
        self.cfg, self.device, self.world = cfg, device, world
        torch.backends.cuda.matmul.allow_tf32 = False  # full fp32 matmuls on GPUs; never TF32
        torch.backends.cudnn.allow_tf32 = False
        self.shard = Shard(world.rank, world.size)
        self.x = images.to(device, torch.float32).contiguous()
        # torch's global generators: unused by the step, seeded so that their checkpointed
        # state, too, is a function of the seed (this reseeds the process's global RNG)
        torch.manual_seed(seed_generator(cfg.seed, "torch-global").initial_seed())
        self.gen_z = device_generator(cfg.seed, "z", device)
        self.gen_drop = device_generator(cfg.seed, "dropout", device)
        bias = generator_output_bias(images.cpu(), cfg.g_bias_clip)
        G, D = build(cfg, bias, self.gen_drop, self.shard)
        self.G, self.D = G.to(device), D.to(device)
        self.G_run, self.D_run = ddp.wrap(self.G, world, device), ddp.wrap(self.D, world, device)
        self.opt_g = PylearnMomentum(self.G.parameters(), cfg.lr, cfg.momentum)
        self.opt_d = PylearnMomentum(self.D.parameters(), cfg.lr, cfg.momentum)
        self.step = self.epoch = self.step_in_epoch = 0  # epoch: completed epochs
        self.flushed_step = 0
        self.epoch_sums = [0.0] * len(STATS)
        self.wall_s = 0.0
        self.acc = torch.zeros(len(STATS), device=device)
        self.perm: torch.Tensor | None = None
        self.index_log: list[torch.Tensor] | None = None  # set to a list to record minibatches
        self.hooks = fault_hooks()
        self.graph = None
        if cfg.cuda_graph and device.type == "cuda":
            if world.size > 1:
                raise ConfigError("cuda_graph is for single-process runs (not under torchrun)")
            self.graph = CapturedStep(self._body, cfg.batches_per_step, cfg.batch, PIXELS,
                                      device, [self.gen_z, self.gen_drop])

    # -- one step -----------------------------------------------------------------------------

    def _next_z(self) -> torch.Tensor:
        return draw_z(self.cfg.batch // self.world.size, self.cfg.z_dim, self.cfg.z, self.gen_z,
                      self.shard, self.device)

    def _body(self, next_real: Callable[[], torch.Tensor]) -> None:
        # D ascends V(D, G) = E_x log D(x) + E_z log(1 - D(G(z))); G descends its loss, for the
        # paper's run the non-saturating -E_z log D(G(z)) (Section 3). gan_step does both, in the
        # configured order; D's inner module serves G's step so it all-reduces only G's grads.
        stats = gan_step(self.G_run, self.D_run, self.opt_g, self.opt_d, next_real, self._next_z,
                         loss=self.cfg.loss, update=self.cfg.update, k=self.cfg.k,
                         d_for_g=self.D)
        self.acc.add_(torch.stack([stats[name] for name in STATS]))

    def step_indices(self) -> list[torch.Tensor]:
        """This rank's rows of the next step's minibatches (advances nothing)."""
        if self.perm is None:
            self.perm = epoch_permutation(self.cfg.seed, self.epoch, len(self.x)).to(self.device)
        b, n = self.cfg.batch, self.cfg.batches_per_step
        first = self.step_in_epoch * n
        return [self.shard.rows(self.perm[i * b:(i + 1) * b]) for i in range(first, first + n)]

    def train_step(self) -> None:
        """One :func:`gan_step` at the scheduled learning rate and momentum; no host sync."""
        if self.hooks.get("step_sleep"):
            time.sleep(self.hooks["step_sleep"])
        if self.hooks.get("nan_at_step") == self.step:
            with torch.no_grad():
                self.G.net[-1].bias.fill_(float("nan"))
        lr, momentum = lr_at(self.cfg, self.step), momentum_at(self.cfg, self.epoch + 1)
        self.opt_g.set_hyper(lr, momentum)
        self.opt_d.set_hyper(lr, momentum)
        indices = self.step_indices()
        if self.index_log is not None:
            self.index_log.extend(i.cpu() for i in indices)
        if self.graph is not None:
            self.graph(self.x, indices)
        else:
            batches = iter(indices)
            self._body(lambda: self.x.index_select(0, next(batches)))
        self.step += 1
        self.step_in_epoch += 1

    # -- statistics and checks (host syncs) ---------------------------------------------------

    def flush(self) -> dict:
        """Means of the statistics since the last flush, over all ranks; raises on NaN/inf."""
        n = self.step - self.flushed_step
        sums = ddp.all_reduce_mean(self.acc.clone(), self.world).tolist()
        self.acc.zero_()
        self.flushed_step = self.step
        means = {name: s / max(n, 1) for name, s in zip(STATS, sums)}
        if not all(math.isfinite(v) for v in sums):
            bad = ", ".join(f"{k}={v:.4g}" for k, v in means.items())
            raise TrainingDiverged(f"non-finite loss by step {self.step} (epoch {self.epoch + 1}):"
                                   f" {bad}")
        self.epoch_sums = [a + s for a, s in zip(self.epoch_sums, sums)]
        lr, momentum = lr_at(self.cfg, self.step - 1), momentum_at(self.cfg, self.epoch + 1)
        return {"kind": "log", "step": self.step, "epoch": self.epoch + 1, "lr": lr,
                "momentum": momentum, **means}

    def end_epoch(self) -> dict:
        """Close the current epoch: its mean statistics; the counters move to the next one."""
        spe = self.cfg.steps_per_epoch
        means = {name: s / spe for name, s in zip(STATS, self.epoch_sums)}
        self.epoch += 1
        self.step_in_epoch, self.perm, self.epoch_sums = 0, None, [0.0] * len(STATS)
        return {"kind": "epoch", "step": self.step, "epoch": self.epoch, **means}

    def check_finite(self) -> None:
        """Raise :class:`TrainingDiverged` if any weight of G or D is NaN or infinite."""
        params = list(self.G.parameters()) + list(self.D.parameters())
        if not bool(torch.stack([p.isfinite().all() for p in params]).all()):
            raise TrainingDiverged(f"non-finite weights at step {self.step}")

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """G(z) on the CPU."""
        return self.G(z.to(self.device)).cpu()

    # -- checkpoints --------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything needed to continue bitwise: weights, optimisers, counters, generators."""
        rng = {"z": self.gen_z.get_state(), "dropout": self.gen_drop.get_state(),
               "torch_cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["torch_cuda"] = torch.cuda.get_rng_state(self.device)
        return {"config": as_dict(self.cfg), "step": self.step, "epoch": self.epoch,
                "step_in_epoch": self.step_in_epoch, "epoch_sums": list(self.epoch_sums),
                "wall_s": self.wall_s, "world_size": self.world.size,
                "schedule": {"lr": lr_at(self.cfg, self.step),
                             "momentum": momentum_at(self.cfg, self.epoch + 1)},
                "G": self.G.state_dict(), "D": self.D.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "rng": rng}

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (in place: tensors a CUDA graph holds stay valid)."""
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
        except (RuntimeError, ValueError, KeyError) as exc:
            msg = " ".join(str(exc).split())[:200]
            raise CheckpointError(f"checkpoint does not fit this run's networks: {msg}") from exc
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.flushed_step = self.step
        self.epoch_sums = [float(v) for v in state["epoch_sums"]]
        self.wall_s = float(state["wall_s"])
        self.perm = None
        rng = state["rng"]
        self.gen_z.set_state(rng["z"])
        self.gen_drop.set_state(rng["dropout"])
        torch.set_rng_state(rng["torch_cpu"])
        if self.device.type == "cuda" and "torch_cuda" in rng:
            torch.cuda.set_rng_state(rng["torch_cuda"], self.device)
        if self.hooks.get("perturb_rng"):  # negative control for the resume tests
            torch.rand(1, generator=self.gen_z, device=self.device)
