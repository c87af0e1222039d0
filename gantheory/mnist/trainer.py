"""The MNIST GAN trainer: the paper's networks driven by :func:`gantheory.gan.step.gan_step`.

:class:`Trainer` owns everything a step reads or changes, G, D, both optimisers, the step and
epoch counters and every random generator, and can hand all of it over as a checkpoint dict
(:meth:`Trainer.state_dict`) and take it back, so a resumed run is bitwise the uninterrupted one
on the CPU. :func:`gantheory.mnist.rundir.train` builds one and drives it with
:func:`gantheory.mnist.rundir.fit`; the command line is :mod:`gantheory.mnist.cli`.

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
import time
import warnings
from typing import Callable

import torch
from tqdm import tqdm

from ..config import as_dict
from ..errors import CheckpointError, ConfigError, TrainingDiverged
from ..util.rng import seed_generator
from ..gan.step import gan_step
from . import distributed as ddp
from .config import MNISTConfig, lr_at, momentum_at
from .graph import CapturedStep
from .nets import PIXELS, Shard, build, draw_z, generator_output_bias
from .optim import PylearnMomentum

SAMPLES = 100  # fixed-noise grid, 10 x 10
STATS = ("d_loss", "g_loss", "d_real", "d_fake")  # d_real = mean D(x), d_fake = mean D(G(z))


class TrainerCallback:
    """Hooks a caller hands to :class:`Trainer` (tests inject faults this way); each does nothing.

    ``on_step(trainer, indices)`` runs before every step with that step's minibatch rows;
    ``on_restore(trainer)`` after a checkpoint has been restored.
    """

    def on_step(self, trainer: "Trainer", indices: list[torch.Tensor]) -> None:
        pass

    def on_restore(self, trainer: "Trainer") -> None:
        pass


def configure_process(cfg: MNISTConfig) -> None:
    """Process-wide settings a run owns (the CLI's and :func:`~.rundir.train`'s job, not a
    constructor's): full-fp32 matmuls on GPUs (never TF32), and torch's global generators seeded
    from the seed, so that their checkpointed state too is a function of it (nothing here draws
    from them)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(seed_generator(cfg.seed, "torch-global").initial_seed())


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
    callbacks : :class:`TrainerCallback` s to call at every step and restore.

    The constructor changes no global state; :func:`configure_process` does that for a run.
    """

    def __init__(self, cfg: MNISTConfig, images: torch.Tensor, device: torch.device,
                 world: ddp.World = ddp.World(), callbacks=()):
        cfg.check()
        if cfg.batch % world.size:
            raise ConfigError(f"batch {cfg.batch} does not split evenly over {world.size} ranks")
        self.cfg, self.device, self.world = cfg, device, world
        self.shard = Shard(world.rank, world.size)
        self.x = images.to(device, torch.float32).contiguous()
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
        self.callbacks = list(callbacks)
        self.graph = None
        self.rng_rederived = False  # set by load_state_dict across device types
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
        lr, momentum = lr_at(self.cfg, self.step), momentum_at(self.cfg, self.epoch + 1)
        self.opt_g.set_hyper(lr, momentum)
        self.opt_d.set_hyper(lr, momentum)
        indices = self.step_indices()
        for cb in self.callbacks:
            cb.on_step(self, indices)
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
        self.rng_rederived = not all(rng[k].numel() == g.get_state().numel()
                                     for k, g in (("z", self.gen_z), ("dropout", self.gen_drop)))
        if self.rng_rederived:
            # A checkpoint from another kind of device (a CPU mt19937 state on a GPU's Philox
            # generator or the reverse) cannot continue the same random streams: the noise and
            # dropout generators are derived afresh from (seed, step), so the continuation is
            # reproducible but not the stream an uninterrupted run on one device would draw.
            for gen, stream in ((self.gen_z, "z"), (self.gen_drop, "dropout")):
                # in place: D's dropout layers (and a CUDA graph) hold these generator objects
                gen.manual_seed(seed_generator(self.cfg.seed,
                                               f"{stream}/step-{self.step}").initial_seed())
            warnings.warn(f"the checkpoint's random generators come from another device type: "
                          f"noise and dropout streams derived afresh from the seed at step "
                          f"{self.step} (the continuation is reproducible, not bitwise the "
                          f"run on one device)", stacklevel=2)
        else:
            self.gen_z.set_state(rng["z"])
            self.gen_drop.set_state(rng["dropout"])
        for cb in self.callbacks:
            cb.on_restore(self)


def restore_process_rng(state: dict, device: torch.device) -> None:
    """Set torch's global generators to a checkpoint's (the counterpart of
    :func:`configure_process` on a resume)."""
    torch.set_rng_state(state["rng"]["torch_cpu"])
    if device.type == "cuda" and "torch_cuda" in state["rng"]:
        torch.cuda.set_rng_state(state["rng"]["torch_cuda"], device)


def fit(trainer: Trainer, files=None, progress: bool = False) -> dict:
    """Train until ``cfg.epochs`` epochs are complete, logging, sampling and checkpointing.

    ``files`` (a :class:`gantheory.mnist.rundir.RunFiles`, or None to write nothing) receives
    every record, the fixed-noise samples and the checkpoints.
    """
    cfg, spe = trainer.cfg, trainer.cfg.steps_per_epoch
    fixed_z = draw_z(SAMPLES, cfg.z_dim, cfg.z, seed_generator(cfg.seed, "fixed-z"), Shard(), "cpu")
    bar = tqdm(total=cfg.epochs * spe, initial=trainer.step, unit="step",
               disable=not (progress and trainer.world.main),
               desc="mnist gan", dynamic_ncols=True)
    t0, wall0, epoch_s, last = time.perf_counter(), trainer.wall_s, [], {}
    try:
        while trainer.epoch < cfg.epochs:
            t_epoch, first = time.perf_counter(), trainer.step
            while trainer.step_in_epoch < spe:
                trainer.train_step()
                end = trainer.step_in_epoch == spe
                ckpt = bool(cfg.ckpt_every_steps) and trainer.step % cfg.ckpt_every_steps == 0
                if end or ckpt or trainer.step % cfg.log_every == 0:
                    rec = trainer.flush()  # the one host sync; raises on a non-finite loss
                    trainer.wall_s = wall0 + time.perf_counter() - t0
                    rec["wall_s"] = round(trainer.wall_s, 3)
                    if files:
                        files.record(rec)
                    bar.update(trainer.step - bar.n)
                    bar.set_postfix(d_loss=f"{rec['d_loss']:.3f}", g_loss=f"{rec['g_loss']:.3f}",
                                    Dx=f"{rec['d_real']:.3f}", DGz=f"{rec['d_fake']:.3f}")
                if ckpt and not end:
                    trainer.check_finite()
                    if files:
                        files.save(trainer)
            last = trainer.end_epoch()
            epoch_s.append(time.perf_counter() - t_epoch)
            last.update(epoch_s=round(epoch_s[-1], 3), steps_timed=trainer.step - first,
                        wall_s=round(wall0 + time.perf_counter() - t0, 3))
            trainer.check_finite()
            if files:
                files.record(last)
                if cfg.sample_every and trainer.epoch % cfg.sample_every == 0:
                    files.samples(trainer.epoch, trainer.sample(fixed_z))
                files.save(trainer)
    except TrainingDiverged as exc:
        where = files.last_checkpoint if files else None
        raise TrainingDiverged(f"training diverged: {exc}; last good checkpoint: "
                               f"{where or 'none written in this session'}") from None
    finally:
        bar.close()
    same = ddp.replicas_identical([trainer.G, trainer.D], trainer.world)
    if not same:
        raise RuntimeError("ranks hold different weights after training (a DDP bug)")
    return {"step": trainer.step, "epoch": trainer.epoch,
            **{k: last.get(k) for k in ("d_loss", "g_loss", "d_real", "d_fake")},
            "wall_s": round(trainer.wall_s, 3), "epoch_s": [round(t, 3) for t in epoch_s],
            "checkpoint": str(files.last_checkpoint) if files and files.last_checkpoint else None,
            "replicas_identical": same, "world_size": trainer.world.size,
            "device": str(trainer.device)}
