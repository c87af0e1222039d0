"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Used for every file the toolkit writes that a later run trusts (checkpoints, the MNIST cache,
the classifier cache): write a temporary file beside the target, flush and fsync it, rename it
over the target (``os.replace`` is atomic on POSIX), then fsync the directory so the rename
itself survives a crash. A failure removes the temporary file and re-raises.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, blob: bytes, *, prefix: str = ".tmp-", mode: int = 0o644) -> None:
    """Write ``blob`` to ``path`` atomically; temporary names start with ``prefix``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{prefix}{path.name}.")
    try:
        os.fchmod(fd, mode)  # mkstemp's 0600 would hide the file from other users
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
