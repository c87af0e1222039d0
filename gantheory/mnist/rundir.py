"""An MNIST GAN run's directory and the run end to end: :class:`RunFiles` and :func:`train`.

    from gantheory.mnist.config import PRESETS
    from gantheory.mnist.rundir import train
    summary = train(PRESETS["smoke"], "runs/smoke")                            # a new run
    summary = train(None, "runs/smoke", resume=True, overrides={"epochs": 3})  # continue it

A run directory holds ``run.json`` (the manifest: config, versions, seed, device, world size, git
revision, one entry per session), ``metrics.jsonl`` (a record per log interval, ``"kind": "log"``,
and per epoch, ``"kind": "epoch"``), the last ``keep_checkpoints`` checkpoints ``ckpt-<step>.pt``,
``samples/epoch-NNNN.png`` (G on fixed noise after each epoch) and, at the end, ``figure2.png`` and
``figure3.png``. A resumed run first drops the metric records after its checkpoint, so the log
reads as one uninterrupted run. Under ``torchrun`` only rank 0 writes.
"""

from __future__ import annotations

import datetime
import json
import sys
import warnings
from pathlib import Path

import torch
from tqdm import tqdm

from ..config import as_dict, override
from ..errors import CheckpointError, ConfigError
from ..plotting import save_figure
from ..util.rng import seed_generator
from ..util.versions import git_revision, versions
from . import checkpoint, distributed as ddp, figures
from .config import MNISTConfig, changed_maths, from_dict
from .trainer import Trainer, configure_process, fit, restore_process_rng


def load_images(cfg: MNISTConfig, root: str | Path | None = None) -> torch.Tensor:
    """The first ``cfg.train_images`` training images as ``(N, 784)`` floats in [0, 1]."""
    if cfg.data == "synthetic":  # seeded blobs, for tests that must not need the real data
        g = seed_generator(0, "synthetic")
        return torch.rand(cfg.train_images, 784, generator=g).pow_(4)
    from .data import load
    return load(root=root).train.x()[: cfg.train_images]


class RunFiles:
    """Everything rank 0 writes into the run directory ``out``."""

    def __init__(self, out: str | Path, echo: bool = False, sinks=()):
        self.out, self.echo = Path(out), echo
        self.sinks = list(sinks)  # more logs: see gantheory.mnist.logs.Sink
        self.metrics, self.manifest_path = self.out / "metrics.jsonl", self.out / "run.json"
        self.last_checkpoint: Path | None = None

    def prepare(self, resume: bool, overwrite: bool) -> None:
        """Create ``out``, remove stale temporary files, refuse to mix two runs."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create run directory {self.out}: {exc.strerror}") from exc
        for stale in checkpoint.clean_stale(self.out):
            warnings.warn(f"removed {stale.name}, left by an interrupted write", stacklevel=2)
        existing = checkpoint.list_checkpoints(self.out)
        if resume and not existing:
            raise CheckpointError(f"--resume: no checkpoint in {self.out}")
        if not resume and existing:
            if not overwrite:
                raise CheckpointError(f"{self.out} already holds checkpoints; pass --resume to "
                                      f"continue that run or --overwrite to start again")
            for path in existing + [self.metrics, self.manifest_path]:
                path.unlink(missing_ok=True)

    def start(self, cfg: MNISTConfig, device: torch.device, world: ddp.World,
              resumed_from: int | None, argv: list[str] | None) -> None:
        """Write the manifest; on a resume, cut the metrics log back to the checkpoint's step."""
        session = {"started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                   "resumed_from_step": resumed_from, "device": str(device),
                   "world_size": world.size, "argv": argv}
        manifest = {}
        if resumed_from is not None:
            self._truncate_metrics(resumed_from)
            try:
                manifest = json.loads(self.manifest_path.read_text())
            except (OSError, ValueError):
                manifest = {}
        manifest.update(config=as_dict(cfg), seed=cfg.seed, device=str(device),
                        world_size=world.size, versions=versions(), git=git_revision())
        manifest["sessions"] = list(manifest.get("sessions", [])) + [session]
        blob = (json.dumps(manifest, indent=2) + "\n").encode()
        checkpoint.atomic_write(self.manifest_path, blob)
        for sink in self.sinks:
            sink.start(self, cfg, resumed_from)

    def _truncate_metrics(self, step: int) -> None:
        kept = []
        if self.metrics.exists():
            for line in self.metrics.read_text().splitlines():
                try:
                    if json.loads(line)["step"] <= step:
                        kept.append(line)
                except (ValueError, KeyError, TypeError):
                    pass  # a half-written last line from a killed run
        checkpoint.atomic_write(self.metrics, "".join(f"{line}\n" for line in kept).encode())

    def record(self, rec: dict) -> None:
        with open(self.metrics, "a") as f:
            f.write(json.dumps(rec) + "\n")
        for sink in self.sinks:
            sink.record(self, rec)
        if self.echo and rec["kind"] == "epoch":
            tqdm.write(f"epoch {rec['epoch']} step {rec['step']}: d_loss {rec['d_loss']:.4f} "
                       f"g_loss {rec['g_loss']:.4f} D(x) {rec['d_real']:.4f} D(G(z)) "
                       f"{rec['d_fake']:.4f} ({rec['epoch_s']:.1f} s)", file=sys.stdout)
            sys.stdout.flush()  # beside the progress bar, which tqdm.write steps around

    def save(self, trainer: Trainer) -> None:
        self.last_checkpoint = checkpoint.save(self.out, trainer.state_dict(),
                                               trainer.cfg.keep_checkpoints)
        for sink in self.sinks:
            sink.saved(self, trainer)

    def samples(self, epoch: int, images: torch.Tensor) -> None:
        (self.out / "samples").mkdir(exist_ok=True)
        fig = figures.samples_figure(images, f"G on fixed noise after epoch {epoch}")
        save_figure(fig, self.out / "samples" / f"epoch-{epoch:04d}.png")

    def figures(self, trainer: Trainer) -> None:
        """The paper's Figure 2 (samples and nearest training images) and Figure 3 (lines in z)."""
        fig2, fig3 = figures.paper_figures(trainer.G, trainer.cfg, trainer.x, trainer.cfg.seed)
        save_figure(fig2, self.out / "figure2.png")
        save_figure(fig3, self.out / "figure3.png")


def _device(requested: str, world: ddp.World) -> torch.device:
    device = ddp.device_for(requested, world)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device} requested but CUDA is not available")
    return device


def train(cfg: MNISTConfig | None, out: str | Path, *, resume: bool = False,
          overwrite: bool = False, overrides: dict | None = None, data_root: str | None = None,
          progress: bool = False, echo: bool = False, argv: list[str] | None = None,
          callbacks=(), sinks=()) -> dict:
    """Train (or, with ``resume``, continue) the run in ``out``; returns a summary dict.

    ``cfg=None`` with ``resume`` continues with the checkpoint's own config; ``overrides`` apply
    on top of either. A resumed run may change only :data:`~gantheory.mnist.config.RUN_CONTROL`
    fields. ``callbacks`` go to the :class:`~.trainer.Trainer`, ``sinks`` (more logs, see
    :mod:`gantheory.mnist.logs`) to the :class:`RunFiles` of rank 0. Raises ConfigError, DataError,
    CheckpointError or TrainingDiverged on bad input.
    """
    world = ddp.from_env()
    files = RunFiles(out, echo, sinks) if world.main else None
    held: dict = {}

    def decide() -> tuple[MNISTConfig, str | None]:  # rank 0 only
        files.prepare(resume, overwrite)
        if not resume:
            if cfg is None:
                raise ConfigError("a new run needs a config (a preset)")
            return override(cfg, overrides), None
        state, path = checkpoint.load_latest(out)
        saved = from_dict(state["config"])
        new = override(cfg if cfg is not None else saved, overrides)
        changed = changed_maths(saved, new)
        if changed:
            raise CheckpointError(f"{path} was trained with different {', '.join(changed)}; "
                                  f"a resumed run may change only run-control fields")
        held["state"] = state
        return new, str(path)

    base = cfg.device if cfg is not None else "auto"
    created = ddp.init(world, _device(str((overrides or {}).get("device", base)), world))
    try:
        run_cfg, path = ddp.agree(world, decide)
        device = _device(run_cfg.device, world)
        if run_cfg.threads:
            torch.set_num_threads(run_cfg.threads)
        state = held.get("state") or (checkpoint.load(path) if path else None)
        configure_process(run_cfg)
        trainer = Trainer(run_cfg, load_images(run_cfg, data_root), device, world, callbacks)
        if state is not None:
            trainer.load_state_dict(state)
            restore_process_rng(state, device)
        if files:
            files.start(run_cfg, device, world, trainer.step if state else None, argv)
        summary = fit(trainer, files, progress)
        if files and run_cfg.figures:
            files.figures(trainer)
        return dict(summary, out=str(out))
    finally:
        if created:
            ddp.shutdown()
