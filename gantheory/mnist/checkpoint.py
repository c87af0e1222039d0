"""Checkpoint files of an MNIST run: atomic writes, a checksum, the last N kept, a safe fallback.

A run directory holds ``ckpt-<step>.pt`` files, each a plain ``torch.save`` dict (readable with
``torch.load(path, weights_only=True)``) whose ``"sha256"`` entry is a digest of every other
entry, tensors' bytes included, so a flipped bit is caught even where the zip format's own checks
would not. Writes go to a temporary file in the same directory, are flushed and fsynced, then
renamed over the final name (``os.replace``), and the directory is fsynced: a killed process
leaves either the old set of checkpoints or the new one, plus at worst a stale temporary file,
which :func:`clean_stale` removes when the next run starts.

:func:`load_latest` returns the newest checkpoint that loads and verifies; a corrupt newer one is
skipped with a warning, and if none verifies it raises :class:`~gantheory.errors.CheckpointError`
(never a silent restart from scratch).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import torch

from ..util.io import atomic_write as _atomic_write, tensor_digest
from ..errors import CheckpointError

FORMAT = "gantheory.mnist/1"
NAME = re.compile(r"^ckpt-(\d{9})\.pt$")
TMP_PREFIX = ".tmp-"
REQUIRED = ("format", "config", "step", "epoch", "step_in_epoch", "G", "D", "opt_g", "opt_d",
            "rng", "sha256")


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:09d}.pt"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """The checkpoint files of ``run_dir``, oldest first (by step)."""
    d = Path(run_dir)
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if NAME.match(p.name)), key=lambda p: p.name)


def clean_stale(run_dir: str | Path) -> list[Path]:
    """Remove temporary files a killed writer left in ``run_dir``; returns what was removed."""
    d = Path(run_dir)
    stale = [p for p in d.iterdir() if p.name.startswith(TMP_PREFIX)] if d.is_dir() else []
    for p in stale:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return stale


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
    try:
        atomic_write(path, buf.getvalue())
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {path}: {exc.strerror or exc}") from exc
    for old in list_checkpoints(d)[:-keep]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return path


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load and verify one checkpoint; :class:`CheckpointError` if it is unreadable or corrupt."""
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged zip or pickle
        msg = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise CheckpointError(f"{path}: unreadable checkpoint ({msg})") from exc
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
