"""Checkpoint files of an MNIST run: atomic writes, a checksum, the last N kept, a safe fallback.

A run directory holds ``ckpt-<step>.pt`` files, each a plain ``torch.save`` dict (readable with
``torch.load(path, weights_only=True)``) whose ``"sha256"`` entry is a digest of every other
entry, tensors' bytes included, so a flipped bit is caught even where the zip format's own checks
would not. Writes go to a temporary file in the same directory, are flushed and fsynced, then
renamed over the final name (``os.replace``), and the directory is fsynced: a killed process
leaves either the old set of checkpoints or the new one, plus at worst a stale temporary file,
which :func:`clean_stale` removes when the next run starts (only names of exactly the form
:func:`gantheory.util.io.atomic_write` makes; anything else, a directory of that name included,
is left alone).

Pruning (:func:`prune`) keeps the checkpoint just written, which is read back and verified, and
the newest ``keep - 1`` older ones; it never deletes a checkpoint for being older than a newer
file that does not verify. :func:`check_fields` holds every entry of a loaded checkpoint to the
rules a command-line value meets (the config through ``MNISTConfig.check``, the counters, the
random generators' state sizes), so a crafted file with a valid checksum is refused in one line.

:func:`load_latest` returns the newest checkpoint that loads and verifies; a corrupt newer one is
skipped with a warning, and if none verifies it raises :class:`~gantheory.errors.CheckpointError`
(never a silent restart from scratch).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import re
import warnings
import zipfile
from pathlib import Path

import torch

from ..util.io import atomic_write as _atomic_write, is_temp_name, tensor_digest
from ..errors import CheckpointError, ConfigError

FORMAT = "gantheory.mnist/1"
NAME = re.compile(r"^ckpt-(\d{9,})\.pt$")  # zero-padded to 9 digits, wider past 999,999,999
TMP_PREFIX = ".tmp-"
REQUIRED = ("format", "config", "step", "epoch", "step_in_epoch", "G", "D", "opt_g", "opt_d",
            "rng", "sha256")


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:09d}.pt"


def step_of(path: Path) -> int:
    """The step in a checkpoint's name."""
    return int(NAME.match(path.name).group(1))


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """The checkpoint files of ``run_dir``, oldest first (by step, as a number)."""
    d = Path(run_dir)
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if NAME.match(p.name) and p.is_file()), key=step_of)


def clean_stale(run_dir: str | Path) -> list[Path]:
    """Remove temporary files a killed writer left in ``run_dir``; returns what was removed.

    Only regular files named as :func:`atomic_write` names its temporary files are removed; a
    directory or link of such a name is left with a warning.
    """
    d = Path(run_dir)
    removed = []
    for p in sorted(d.iterdir()) if d.is_dir() else []:
        if not is_temp_name(p.name, TMP_PREFIX):
            continue
        if p.is_symlink() or not p.is_file():
            warnings.warn(f"left {p.name} in place: named like a temporary file but not a "
                          f"regular file", stacklevel=2)
            continue
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed.append(p)
    return removed


def atomic_write(path: str | Path, blob: bytes) -> None:
    """Write ``blob`` atomically, with the run directory's stale-file prefix."""
    _atomic_write(path, blob, prefix=TMP_PREFIX)


digest = tensor_digest  # kept under this name: checkpoints record it as "sha256"


def save(run_dir: str | Path, state: dict, keep: int = 2) -> Path:
    """Write ``state`` as ``ckpt-<step>.pt`` atomically, then keep only the last ``keep``."""
    d = Path(run_dir)
    state = dict(state, format=FORMAT)
    state.pop("sha256", None)
    state["sha256"] = digest(state)
    buf = io.BytesIO()
    torch.save(state, buf)
    path = d / checkpoint_name(int(state["step"]))
    blob = buf.getvalue()
    try:
        atomic_write(path, blob)
        written = hashlib.sha256(path.read_bytes()).digest()  # read back: what a resume will see
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {path}: {exc.strerror or exc}") from exc
    if written != hashlib.sha256(blob).digest():
        raise CheckpointError(f"checkpoint {path} reads back differently from what was written "
                              f"(a failing disk?); the older checkpoints were kept")
    prune(d, path, keep)
    return path


def prune(run_dir: str | Path, verified: Path, keep: int) -> list[Path]:
    """Delete the checkpoints older than ``verified`` beyond the newest ``keep - 1`` of them.

    ``verified`` is a checkpoint known to load; newer files (a corrupt one a resume fell back
    from) are never a reason to delete anything. Returns the deleted paths.
    """
    step = step_of(Path(verified))
    older = [p for p in list_checkpoints(run_dir) if step_of(p) < step]
    doomed = older[:max(len(older) - (keep - 1), 0)]
    for old in doomed:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return doomed


def _unreadable(path: Path, exc: BaseException) -> str:
    """What is wrong with a file torch could not load, in words."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as err:
        return f"cannot read it: {err.strerror or err}"
    if size == 0:
        return "the file is empty"
    if head != b"PK\x03\x04":
        return f"not a torch.save zip file (it starts with bytes {head.hex()})"
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return f"truncated or damaged zip archive, {size} bytes ({' '.join(str(err).split())})"
    if bad is not None:
        return f"damaged zip member {bad}"
    msg = " ".join(str(exc).split())
    return f"torch refused it: {type(exc).__name__}: {msg[:200]}"


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load and verify one checkpoint; :class:`CheckpointError` if it is unreadable or corrupt."""
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged zip or pickle
        raise CheckpointError(f"{path}: unreadable checkpoint ({_unreadable(path, exc)})") from exc
    if not isinstance(state, dict) or any(key not in state for key in REQUIRED):
        raise CheckpointError(f"{path}: not a gantheory MNIST checkpoint (missing entries)")
    if state["format"] != FORMAT:
        raise CheckpointError(f"{path}: format {state['format']!r}, expected {FORMAT!r}")
    recorded = state.pop("sha256")
    if digest(state) != recorded:
        raise CheckpointError(f"{path}: checksum mismatch (the file is corrupt)")
    return state


def load_latest(run_dir: str | Path, map_location: str | torch.device = "cpu") -> tuple[dict, Path]:
    """The newest checkpoint in ``run_dir`` that verifies, and its path.

    A corrupt newer checkpoint is skipped with a warning. Raises :class:`CheckpointError` when
    ``run_dir`` has no checkpoint or none of them verifies.
    """
    paths = list_checkpoints(run_dir)
    if not paths:
        raise CheckpointError(f"no checkpoint in {run_dir} to resume from")
    errors = []
    for path in reversed(paths):
        try:
            state = load(path, map_location)
        except CheckpointError as exc:
            errors.append(str(exc))
            continue
        for msg in errors:
            warnings.warn(f"{msg}; falling back to {path.name}", stacklevel=2)
        return state, path
    raise CheckpointError(f"no usable checkpoint in {run_dir}: {'; '.join(errors)}")


def _rng_state_sizes() -> dict[str, set[int]]:
    cpu = torch.Generator().get_state().numel()
    return {"z": {cpu, 16}, "dropout": {cpu, 16}, "torch_cpu": {cpu}, "torch_cuda": {16}}


def check_fields(state: dict, path: str | Path) -> None:
    """Refuse a verified checkpoint whose entries a run cannot use, in one line.

    The checksum only says the file is what some writer wrote; this says the writer wrote
    something sane: a config ``MNISTConfig.check`` accepts, non-negative integer counters within
    an epoch, finite statistics, and generator states of the sizes torch uses.
    """
    from .config import from_dict

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: {what}")

    try:
        cfg = from_dict(state["config"])
    except (ConfigError, TypeError) as exc:
        raise bad(f"its config is not valid: {' '.join(str(exc).split())}") from None
    for name in ("step", "epoch", "step_in_epoch"):
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise bad(f"{name} must be an integer >= 0, got {v!r}")
    if state["step_in_epoch"] >= cfg.steps_per_epoch:
        raise bad(f"step_in_epoch {state['step_in_epoch']} is not below the "
                  f"{cfg.steps_per_epoch} steps of an epoch")
    if state["step"] < state["epoch"] * cfg.steps_per_epoch + state["step_in_epoch"]:
        raise bad(f"step {state['step']} is fewer than epoch {state['epoch']} and "
                  f"step_in_epoch {state['step_in_epoch']} imply")
    sums = state.get("epoch_sums", [])
    if not isinstance(sums, list) or not all(
            isinstance(v, (int, float)) and math.isfinite(v) for v in sums):
        raise bad("epoch_sums must be a list of finite numbers")
    wall = state.get("wall_s", 0.0)
    if not isinstance(wall, (int, float)) or not math.isfinite(wall) or wall < 0:
        raise bad(f"wall_s must be a finite number >= 0, got {wall!r}")
    rng, sizes = state["rng"], _rng_state_sizes()
    if not isinstance(rng, dict) or any(k not in rng for k in ("z", "dropout", "torch_cpu")):
        raise bad("rng must hold the states z, dropout and torch_cpu")
    for name, t in rng.items():
        if name not in sizes:
            raise bad(f"rng holds an unknown generator {name!r}")
        if not isinstance(t, torch.Tensor) or t.dtype != torch.uint8 or t.ndim != 1 \
                or t.numel() not in sizes[name]:
            got = (f"{t.dtype} of shape {tuple(t.shape)}" if isinstance(t, torch.Tensor)
                   else type(t).__name__)
            raise bad(f"rng state {name!r} is {got}, expected uint8 of "
                      f"{' or '.join(map(str, sorted(sizes[name])))} bytes")
    for name in ("G", "D", "opt_g", "opt_d"):
        if not isinstance(state[name], dict):
            raise bad(f"{name} must be a state dict, got {type(state[name]).__name__}")
