"""Writing IDX files, for tests that make their own MNIST-format data."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 ``array`` as an IDX file, gzipped if ``path`` ends in ``.gz``."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    blob = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    blob += array.tobytes()
    Path(path).write_bytes(gzip.compress(blob, mtime=0) if str(path).endswith(".gz") else blob)
