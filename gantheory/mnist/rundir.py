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

Safety of the directory: the config, the device, the memory the run needs
(:func:`check_memory`, before anything is allocated) and the data are checked before anything in
``out`` is touched. A run holds ``out/.lock`` (``fcntl.flock``, with the owner's PID inside for the
message) while it writes, so a second writer is refused in one line; the kernel drops the lock of
a dead process, so a stale file never blocks. ``--overwrite`` moves the old run's files into
``out/.replaced-<time>/`` and deletes them only once the new run has written its first
checkpoint; a failure before that puts them back (and a start that finds such a folder left by a
killed process does the same). A start that fails in a directory it created removes it again.
``--resume`` of a run that has all its epochs trains nothing and returns the usual summary keys
(``"epoch_s": []``, no checkpoint written); the command line says "already complete".
Output to a closed stdout (``| head``) stops the echo, never the training; a file that cannot be
written is an :class:`~gantheory.errors.OutputError`, one line.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

import torch
from tqdm import tqdm

from ..config import as_dict, override
from ..errors import CheckpointError, ConfigError, OutputError
from ..util.io import tensor_digest
from ..util.memory import check_fits
from ..plotting import save_figure
from ..util.rng import seed_generator
from ..util.versions import git_revision, versions
from . import checkpoint, distributed as ddp, figures
from .config import MNISTConfig, changed_maths, from_dict, memory_bytes
from .trainer import Trainer, configure_process, fit, restore_process_rng


LOCK_NAME = ".lock"
REPLACED_PREFIX = ".replaced-"
#: What belongs to a run in its directory (moved aside by --overwrite); checkpoints besides.
RUN_FILES = ("metrics.jsonl", "run.json", "samples", "figure2.png", "figure3.png")


def load_data(cfg: MNISTConfig, root: str | Path | None = None) -> tuple[torch.Tensor, dict]:
    """The first ``cfg.train_images`` training images as ``(N, 784)`` floats in [0, 1], and a
    record of where they came from (source and SHA-256 of the data, for run.json)."""
    if cfg.data == "synthetic":  # seeded blobs, for tests that must not need the real data
        g = seed_generator(0, "synthetic")
        x = torch.rand(cfg.train_images, 784, generator=g).pow_(4)
        return x, {"source": "synthetic", "sha256": tensor_digest(x)}
    from ..util.cli import status
    from .data import CACHE_NPZ, cache_dir, load

    if root is None and not (cache_dir() / CACHE_NPZ).exists():
        status(f"fetching MNIST once (about 6 s, 55 MB; cached in {cache_dir()}, "
               f"GANTHEORY_DATA moves it)")
    data = load(root=root)
    return data.train.x()[: cfg.train_images], {"source": data.source, "sha256": data.sha256}


def load_images(cfg: MNISTConfig, root: str | Path | None = None) -> torch.Tensor:
    """The first ``cfg.train_images`` training images as ``(N, 784)`` floats in [0, 1]."""
    return load_data(cfg, root)[0]


def _write_error(what: str, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {what}: {exc.strerror or exc}")


class RunLock:
    """An exclusive lock on a run directory: ``out/.lock``, flock'ed, holding the owner's PID."""

    def __init__(self, out: Path):
        self.path, self.fd = out / LOCK_NAME, None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot use run directory {self.path.parent}: "
                              f"{exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputError(f"run directory {self.path.parent} is in use by another run "
                                  f"(process {owner}); wait for it to end or choose another "
                                  f"--out") from None
            raise OutputError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        old = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if old.isdigit() and int(old) != os.getpid() and not _alive(int(old)):
            warnings.warn(f"took over the stale lock of process {old}, which is gone",
                          stacklevel=3)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self, remove: bool = False) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)  # no PID: the next run finds no stale owner to report
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
        self.fd = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunFiles:
    """Everything rank 0 writes into the run directory ``out``."""

    def __init__(self, out: str | Path, echo: bool = False, sinks=()):
        self.out, self.echo = Path(out), echo
        self.sinks = list(sinks)  # more logs: see gantheory.mnist.logs.Sink
        self.metrics, self.manifest_path = self.out / "metrics.jsonl", self.out / "run.json"
        self.last_checkpoint: Path | None = None
        self.lock = RunLock(self.out)
        self.created = False  # whether this run made `out` (a failed start removes it again)
        self.replaced: Path | None = None  # the old run's files, until the first checkpoint
        self.data_info: dict | None = None

    def prepare(self, resume: bool, overwrite: bool) -> None:
        """Create and lock ``out``, remove stale temporary files, refuse to mix two runs; with
        ``overwrite``, move the old run aside (see the module docstring)."""
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"run directory {self.out} exists and is not a directory")
        self.created = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.created = False
            raise OutputError(f"cannot create run directory {self.out}: "
                              f"{exc.strerror or exc}") from exc
        self.lock.acquire()
        self._recover_replaced()
        for stale in checkpoint.clean_stale(self.out):
            warnings.warn(f"removed {stale.name}, left by an interrupted write", stacklevel=2)
        existing = checkpoint.list_checkpoints(self.out)
        if resume and not existing:
            raise CheckpointError(f"--resume: no checkpoint in {self.out}")
        if not resume and existing and not overwrite:
            raise CheckpointError(f"{self.out} already holds checkpoints; pass --resume to "
                                  f"continue that run or --overwrite to start again")
        if not resume and overwrite:
            self._move_aside(existing)

    def _move_aside(self, existing: list[Path]) -> None:
        old = existing + [self.out / n for n in RUN_FILES if os.path.lexists(self.out / n)]
        if not old:
            return
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
        aside = self.out / f"{REPLACED_PREFIX}{stamp}-{os.getpid()}"
        moved: list[Path] = []
        try:
            aside.mkdir()
            for path in old:
                os.replace(path, aside / path.name)
                moved.append(path)
        except OSError as exc:
            for path in moved:  # put back what moved: the old run stays whole
                with contextlib.suppress(OSError):
                    os.replace(aside / path.name, path)
            with contextlib.suppress(OSError):
                aside.rmdir()
            raise _write_error(f"{self.out} (moving the old run aside)", exc) from exc
        self.replaced = aside

    def _recover_replaced(self) -> None:
        """A ``.replaced-*`` folder left by a killed process: restore it if its replacement never
        wrote a checkpoint, else finish deleting it."""
        for aside in sorted(self.out.glob(f"{REPLACED_PREFIX}*")):
            if not aside.is_dir() or aside.is_symlink():
                continue
            if checkpoint.list_checkpoints(self.out):
                shutil.rmtree(aside, ignore_errors=True)
            else:
                self.replaced = aside
                self.restore_replaced()
                warnings.warn(f"restored the run that {aside.name} held (its replacement was "
                              f"interrupted before its first checkpoint)", stacklevel=2)

    def restore_replaced(self) -> None:
        """Put the old run's files back (the new run failed before its first checkpoint); the
        new run's files of the same names go."""
        aside, self.replaced = self.replaced, None
        if aside is None:
            return
        for name in RUN_FILES:  # the failed new run's partial files
            target = self.out / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            elif os.path.lexists(target):
                target.unlink()
        for path in sorted(aside.iterdir()):
            os.replace(path, self.out / path.name)
        aside.rmdir()

    def drop_replaced(self) -> None:
        """The new run has a checkpoint: the old run's files go."""
        aside, self.replaced = self.replaced, None
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)

    def abandon(self) -> None:
        """A start failed: restore a replaced run, remove ``out`` if this run created it and it
        holds nothing else, release the lock."""
        with contextlib.suppress(OSError):
            self.restore_replaced()
        self.lock.release(remove=self.created)
        if self.created:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only if empty: nothing of anyone's is deleted

    def close(self) -> None:
        self.lock.release()

    def start(self, cfg: MNISTConfig, device: torch.device, world: ddp.World,
              resumed_from: int | None, argv: list[str] | None,
              rng_rederived: bool = False) -> None:
        """Write the manifest; on a resume, cut the metrics log back to the checkpoint's step."""
        session = {"started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                   "resumed_from_step": resumed_from, "device": str(device),
                   "world_size": world.size, "argv": argv}
        if rng_rederived:  # resumed from another device type: see Trainer.load_state_dict
            session["rng_rederived_at_step"] = resumed_from
        manifest = {}
        if resumed_from is not None:
            self._truncate_metrics(resumed_from)
            try:
                manifest = json.loads(self.manifest_path.read_text())
            except (OSError, ValueError):
                manifest = {}
        # The top-level versions and git say what wrote the manifest last; each session keeps
        # its own, so a checkpoint's step can be traced to the code and torch that trained it.
        session.update(versions=versions(), git=git_revision(),
                       torch_threads=torch.get_num_threads())
        manifest.update(config=as_dict(cfg), seed=cfg.seed, device=str(device),
                        world_size=world.size, versions=session["versions"], git=session["git"])
        if self.data_info is not None:
            recorded = manifest.get("data")
            if resumed_from is not None and recorded and recorded != self.data_info:
                warnings.warn(f"the data differ from the run's first session: SHA-256 "
                              f"{self.data_info.get('sha256')}, run.json records "
                              f"{recorded.get('sha256')}", stacklevel=2)
            manifest["data"] = self.data_info
            session["data_sha256"] = self.data_info.get("sha256")
        manifest["sessions"] = list(manifest.get("sessions", [])) + [session]
        blob = (json.dumps(manifest, indent=2) + "\n").encode()
        try:
            checkpoint.atomic_write(self.manifest_path, blob)
        except OSError as exc:
            raise _write_error(str(self.manifest_path), exc) from exc
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
        try:
            checkpoint.atomic_write(self.metrics, "".join(f"{line}\n" for line in kept).encode())
        except OSError as exc:
            raise _write_error(str(self.metrics), exc) from exc

    def last_epoch_record(self) -> dict | None:
        """The last ``"kind": "epoch"`` record of metrics.jsonl, if any."""
        last = None
        with contextlib.suppress(OSError):
            for line in self.metrics.read_text().splitlines():
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    rec = json.loads(line)
                    if rec.get("kind") == "epoch":
                        last = rec
        return last

    def record(self, rec: dict) -> None:
        # one write of a whole line: a killed run leaves at worst a partial last line, which a
        # resume drops
        line = (json.dumps(rec) + "\n").encode()
        try:
            fd = os.open(self.metrics, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _write_error(str(self.metrics), exc) from exc
        for sink in self.sinks:
            sink.record(self, rec)
        if self.echo and rec["kind"] == "epoch":
            self._echo(f"epoch {rec['epoch']} step {rec['step']}: d_loss {rec['d_loss']:.4f} "
                       f"g_loss {rec['g_loss']:.4f} D(x) {rec['d_real']:.4f} D(G(z)) "
                       f"{rec['d_fake']:.4f} ({rec['epoch_s']:.1f} s)")

    def _echo(self, text: str) -> None:
        """A line on stdout; a closed or broken stdout (``| head``) silences the echo for the rest
        of the run and never stops the training."""
        try:
            tqdm.write(text, file=sys.stdout)
            sys.stdout.flush()  # beside the progress bar, which tqdm.write steps around
        except (BrokenPipeError, ValueError, OSError):
            self.echo = False
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)  # the final flush must not raise
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)

    def save(self, trainer: Trainer) -> None:
        self.last_checkpoint = checkpoint.save(self.out, trainer.state_dict(),
                                               trainer.cfg.keep_checkpoints)
        self.drop_replaced()
        for sink in self.sinks:
            sink.saved(self, trainer)

    def samples(self, epoch: int, images: torch.Tensor) -> None:
        fig = figures.samples_figure(images, f"G on fixed noise after epoch {epoch}")
        path = self.out / "samples" / f"epoch-{epoch:04d}.png"
        try:
            path.parent.mkdir(exist_ok=True)
            save_figure(fig, path)
        except OSError as exc:
            raise _write_error(str(path), exc) from exc

    def figures(self, trainer: Trainer) -> None:
        """The paper's Figure 2 (samples and nearest training images) and Figure 3 (lines in z)."""
        fig2, fig3 = figures.paper_figures(trainer.G, trainer.cfg, trainer.x, trainer.cfg.seed)
        for fig, name in ((fig2, "figure2.png"), (fig3, "figure3.png")):
            try:
                save_figure(fig, self.out / name)
            except OSError as exc:
                raise _write_error(str(self.out / name), exc) from exc


def check_memory(cfg: MNISTConfig, world_size: int = 1) -> None:
    """Refuse, before anything is allocated, a config whose run cannot fit in memory
    (:func:`~gantheory.mnist.config.memory_bytes`); one line naming the sizes."""
    sizes = ", ".join(f"{k}={getattr(cfg, k)}" for k in ("train_images", "batch", "z_dim",
                                                           "g_hidden", "d_units", "d_pieces"))
    check_fits(memory_bytes(cfg, world_size), "the config", f"({sizes})",
               advice="make train_images, batch or the networks smaller")


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

    def decide() -> tuple[MNISTConfig, str | None, bool]:  # rank 0 only
        # everything that can be checked without touching `out` is checked first
        if not resume:
            if cfg is None:
                raise ConfigError("a new run needs a config (a preset)")
            new = override(cfg, overrides)
            _device(new.device, world)
            check_memory(new, world.size)
            held["images"], files.data_info = load_data(new, data_root)
            files.prepare(False, overwrite)
            return new, None, False
        files.prepare(True, False)  # the lock, before anything is read
        state, path = checkpoint.load_latest(out)
        checkpoint.check_fields(state, path)
        saved = from_dict(state["config"])
        new = override(cfg if cfg is not None else saved, overrides)
        changed = changed_maths(saved, new)
        if changed:
            raise CheckpointError(f"{path} was trained with different {', '.join(changed)}; "
                                  f"a resumed run may change only run-control fields")
        _device(new.device, world)
        check_memory(new, world.size)
        if state["epoch"] >= new.epochs and state["step_in_epoch"] == 0:
            held["state"] = state
            return new, str(path), True
        _set_aside_newer(out, path)
        held["images"], files.data_info = load_data(new, data_root)
        held["state"] = state
        return new, str(path), False

    base = cfg.device if cfg is not None else "auto"
    created = ddp.init(world, _device(str((overrides or {}).get("device", base)), world))
    try:
        run_cfg, path, complete = ddp.agree(world, decide)
        state = held.get("state") or (checkpoint.load(path) if path else None)
        device = _device(run_cfg.device, world)
        if complete:
            return _complete_summary(state, files, out, world, device)
        if run_cfg.threads:
            torch.set_num_threads(run_cfg.threads)
        configure_process(run_cfg)
        images = held.get("images")
        if images is None:
            images = load_data(run_cfg, data_root)[0]
        trainer = Trainer(run_cfg, images, device, world, callbacks)
        if state is not None:
            try:
                trainer.load_state_dict(state)
                restore_process_rng(state, device)
            except (RuntimeError, TypeError, ValueError, KeyError) as exc:
                msg = " ".join(str(exc).split())[:200]
                raise CheckpointError(f"{path}: does not fit this run: {msg}") from exc
        if files:
            files.start(run_cfg, device, world, trainer.step if state else None, argv,
                        rng_rederived=trainer.rng_rederived)
        summary = fit(trainer, files, progress)
        if files and run_cfg.figures:
            files.figures(trainer)
        return dict(summary, out=str(out))
    except BaseException:
        if files:
            files.abandon()  # restores a replaced run that got no checkpoint of its successor
        raise
    finally:
        if files:
            files.close()
        if created:
            ddp.shutdown()


def _set_aside_newer(out: str | Path, path: str | Path) -> None:
    """Rename the checkpoints newer than ``path`` (the resume fell back past them: they do not
    verify) to ``*.corrupt``, kept for inspection but no longer a checkpoint of the run."""
    step = checkpoint.step_of(Path(path))
    for p in checkpoint.list_checkpoints(out):
        if checkpoint.step_of(p) > step:
            bad = p.with_name(p.name + ".corrupt")
            try:
                os.replace(p, bad)
            except OSError as exc:
                raise _write_error(str(bad), exc) from exc
            warnings.warn(f"renamed {p.name}, which does not verify, to {bad.name}", stacklevel=3)


def _complete_summary(state: dict, files: RunFiles | None, out: str | Path, world: ddp.World,
                      device: torch.device) -> dict:
    """The summary of a ``--resume`` that finds every epoch done: the keys of any other run
    (docs/training.md), with nothing trained this session (``"epoch_s": []``, no checkpoint
    written); the command line adds ``already_complete`` and says so."""
    epoch, step = int(state["epoch"]), int(state["step"])
    last = (files.last_epoch_record() if files else None) or {}
    stats = {k: (last[k] if isinstance(last.get(k), (int, float)) else None)
             for k in ("d_loss", "g_loss", "d_real", "d_fake")}
    return {"step": step, "epoch": epoch, **stats,
            "wall_s": round(float(state.get("wall_s", 0.0)), 3), "epoch_s": [],
            "checkpoint": None, "replicas_identical": True, "world_size": world.size,
            "device": str(device), "out": str(out)}
