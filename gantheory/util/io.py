"""Files, digests and JSON: atomic writes, SHA-256 of bytes and of tensor trees, strict JSON.

Atomic file writes: a reader sees the old file or the new one, never half of one.

Used for every file the toolkit writes that a later run trusts (checkpoints, the MNIST cache,
the classifier cache): write a temporary file beside the target, flush and fsync it, rename it
over the target (``os.replace`` is atomic on POSIX), then fsync the directory so the rename
itself survives a crash. A failure removes the temporary file and re-raises.

Temporary names are ``<prefix><target name>.<8 random characters>.part`` (:func:`is_temp_name`
recognises exactly these), so a cleanup after a crash can remove the toolkit's own leftovers and
nothing a user put beside them. New files get ``0o666`` less the process's umask, as ``open``
would give them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


TEMP_SUFFIX = ".part"
_RANDOM = r"[a-z0-9_]{8}"  # tempfile's random part: 8 of "abcdefghijklmnopqrstuvwxyz0123456789_"


def _random_part() -> str:
    """8 characters of :data:`_RANDOM`'s alphabet, as tempfile draws them."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def current_umask() -> int:
    """The process's umask, read without changing it where /proc allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: the classic read-and-restore
    os.umask(mask)
    return mask


def is_temp_name(name: str, prefix: str = ".tmp-") -> bool:
    """Whether ``name`` is a temporary name :func:`atomic_write` makes with ``prefix``."""
    pattern = f"{re.escape(prefix)}.+\\.{_RANDOM}{re.escape(TEMP_SUFFIX)}"
    return re.fullmatch(pattern, name) is not None


def atomic_write(path: str | Path, blob: bytes, *, prefix: str = ".tmp-",
                 mode: int | None = None) -> None:
    """Write ``blob`` to ``path`` atomically; temporary names start with ``prefix``.

    ``mode`` defaults to ``0o666`` less the umask (mkstemp's 0600 would hide the file from other
    users, and a fixed 0644 would ignore a umask of 077 or 002).
    """
    path = Path(path)
    # The temporary file is created inside the try, under a name known before it exists: an
    # interrupt (Ctrl-C, SIGTERM) at any bytecode, even between the creation and the assignment
    # of its descriptor, finds the name to remove. (With mkstemp, an interrupt between its
    # os.open and its return leaves a file whose name nobody holds.)
    tmp = None
    try:
        for _ in range(100):
            tmp = path.parent / f"{prefix}{path.name}.{_random_part()}{TEMP_SUFFIX}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                             0o600)
                break
            except FileExistsError:
                tmp = None
        else:
            raise FileExistsError(errno.EEXIST, "no unused temporary name", str(path.parent))
        os.fchmod(fd, (0o666 & ~current_umask()) if mode is None else mode)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def sha256_hex(blob: bytes) -> str:
    """SHA-256 of ``blob`` as 64 hex digits."""
    return hashlib.sha256(blob).hexdigest()


def tensor_digest(state: Any) -> str:
    """SHA-256 over a nested dict/list/tuple of tensors and plain values, in a fixed order.

    Dict keys are visited sorted; a tensor contributes its dtype, shape and raw bytes (CPU,
    contiguous), anything else its ``repr``. Equal digests mean bitwise-equal trees.
    """
    import torch

    h = hashlib.sha256()

    def feed(x: Any) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(x, dict):
            h.update(b"{")
            for key in sorted(x, key=str):
                h.update(repr(key).encode())
                feed(x[key])
            h.update(b"}")
        elif isinstance(x, (list, tuple)):
            h.update(b"[")
            for item in x:
                feed(item)
            h.update(b"]")
        else:
            h.update(repr(x).encode())

    feed(state)
    return h.hexdigest()


def jsonable(x: Any) -> Any:
    """A copy of ``x`` fit for strict JSON.

    numpy scalars and arrays become Python numbers and lists; non-finite floats (an infinite odds
    ratio, a seed that never succeeded, a diverged run) become ``None``; callables are dropped
    from dicts; any other object (a sympy expression, a path) becomes its ``str``.
    """
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items() if not callable(v)}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else None
    if x is None or isinstance(x, str):
        return x
    return str(x)


# -- output paths, checked before the work that fills them ---------------------------------------


def figure_formats() -> frozenset[str]:
    """The suffixes (without the dot) matplotlib can save a figure as: png, pdf, svg, ..."""
    from matplotlib.backend_bases import FigureCanvasBase

    return frozenset(FigureCanvasBase.get_supported_filetypes())


def _probe_writable(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder`` (permission bits do not bind root; a read-only
    mount or a full quota does): an :class:`OutputError` if that fails."""
    from ..errors import OutputError

    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".gantheory-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write {what}: {folder}: {exc.strerror or exc}") from None


def _nearest_existing(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if os.path.lexists(parent):
            return parent
    return Path(".")


def check_output_file(path: str | Path, flag: str, *, formats: frozenset[str] | None = None,
                      overwrite: bool = True) -> Path:
    """Check, before any work, that ``path`` can be written as the output of ``flag``.

    ``formats``: the allowed suffixes (e.g. :func:`figure_formats`); ``overwrite=False`` refuses
    an existing file. The folder is probed by creating and removing a file in it (or in its
    nearest existing parent, which would be created). Raises
    :class:`~gantheory.errors.ConfigError` for a wrong suffix and
    :class:`~gantheory.errors.OutputError` for a path that cannot be written, one line each.
    """
    from ..errors import ConfigError, OutputError

    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if formats is not None and suffix not in formats:
        raise ConfigError(f"{flag} {path}: unknown format {suffix or '(no suffix)'!r}; use one of "
                          f"{', '.join(sorted(formats))}")
    if path.is_dir():
        raise OutputError(f"{flag} {path} is a folder; expected a file name")
    if os.path.lexists(path) and not overwrite:
        raise OutputError(f"{flag} {path} exists")
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise OutputError(f"{flag} {path}: {base} is not a folder")
    _probe_writable(base, f"{flag} {path}")
    return path


def check_output_dir(path: str | Path, flag: str) -> Path:
    """Check, before any work, that the folder ``path`` (created if missing) can be written."""
    from ..errors import OutputError

    path = Path(path)
    if os.path.lexists(path) and not path.is_dir():
        raise OutputError(f"{flag} {path} exists and is not a folder")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise OutputError(f"{flag} {path}: {base} is not a folder")
    _probe_writable(base, f"{flag} {path}")
    return path

