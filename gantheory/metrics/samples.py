"""Samples from any generator, read from a file, for the toolkit's evaluations.

    from gantheory.metrics.samples import load_samples
    x, info = load_samples("their_gan.npz")      # (N, 784) pixels in [0, 1]
    # gantheory eval parzen --samples their_gan.npz   (the same, from the command line)

Accepted, so that another GAN's MNIST samples can be scored with the paper's protocol:

* ``.npy``: one array; ``.npz``: its only array, or the one named ``samples``, ``x`` or
  ``images``;
* a folder of ``.png`` files, one 28 x 28 image each (grey, or colour converted to grey), read
  in name order;
* shapes ``(N, 784)``, ``(N, 28, 28)``, or either with a channel axis of size 1
  (``(N, 1, 28, 28)``, ``(N, 28, 28, 1)``);
* values: ``uint8`` (or any integer type) in 0..255, read as ``v / 255`` exactly as the MNIST
  loader reads the data; or floats in [0, 1], kept in their precision (float16 becomes float32).
  Images in [-1, 1] (a tanh generator) must be rescaled first, ``(x + 1) / 2``.

Anything else is a :class:`~gantheory.errors.DataError` naming the file and what was wrong. An
array's header (its shape and dtype) is read and checked before its data: one that claims more
bytes than the file holds, or more than the machine's memory
(:func:`gantheory.util.memory.check_fits`), is refused before anything is allocated.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError, GanTheoryError
from ..util.memory import check_fits

SIDE = 28
PIXELS = SIDE * SIDE
NPZ_NAMES = ("samples", "x", "images")


def _header(f, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an open .npy stream's header declares (nothing of its data read)."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(f)
    else:  # 3.0 differs from 2.0 only in its header's encoding (utf-8), which numpy has no
        # public reader for
        shape, _, dtype = fmt._read_array_header(f, version)
    if dtype.hasobject:
        raise DataError(f"{where}: an array of Python objects; expected numbers")
    return tuple(int(n) for n in shape), dtype


def _check_header(shape: tuple[int, ...], dtype: np.dtype, where: str,
                  holds: int | None) -> None:
    """Refuse an array whose data ``holds`` bytes cannot contain, or that cannot fit in memory
    (its own bytes and the float64 (N, 784) copy :func:`as_pixels` makes)."""
    n = int(np.prod(shape, dtype=object))
    size = n * dtype.itemsize
    if holds is not None and size > holds:
        raise DataError(f"{where}: its header declares shape {shape} of {dtype} ({size} bytes), "
                        f"but the file holds only {holds} bytes of data")
    check_fits(size + n * 8, "--samples", where,
               advice="score fewer samples (a slice of the array)")


def _from_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        shape, dtype = _header(f, str(path))
        _check_header(shape, dtype, str(path), path.stat().st_size - f.tell())
    return np.load(path, allow_pickle=False)


def _from_npz(path: Path) -> tuple[np.ndarray, str]:
    with np.load(path, allow_pickle=False) as z:
        names = list(z.files)
        chosen = names[0] if len(names) == 1 else next((n for n in NPZ_NAMES if n in names), None)
        if chosen is not None:
            # the member's header, read from the archive: a compressed member's data size is
            # not known before it is inflated, so only the memory check applies
            member = f"{chosen}.npy" if f"{chosen}.npy" in z.zip.namelist() else chosen
            with z.zip.open(member) as f:
                shape, dtype = _header(f, f"{path}[{chosen}]")
            _check_header(shape, dtype, f"{path}[{chosen}]", None)
            return z[chosen], f"npz[{chosen}]"
    raise DataError(f"{path}: holds arrays {', '.join(names) or '(none)'}; name the samples "
                    f"one of {', '.join(NPZ_NAMES)} or save only one array")


def _from_pngs(folder: Path) -> np.ndarray:
    from PIL import Image  # a dependency of matplotlib

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise DataError(f"{folder}: no .png files in this folder")
    images = []
    for f in files:
        try:
            with Image.open(f) as im:
                grey = np.asarray(im.convert("L"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{f}: not a readable PNG ({' '.join(str(exc).split())})") from None
        if grey.shape != (SIDE, SIDE):
            raise DataError(f"{f}: image is {grey.shape[1]} x {grey.shape[0]} pixels, "
                            f"expected {SIDE} x {SIDE}")
        images.append(grey)
    return np.stack(images)


def _read(path: Path) -> tuple[np.ndarray, str]:
    if path.is_dir():
        return _from_pngs(path), "png"
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return _from_npy(path), "npy"
        if suffix == ".npz":
            return _from_npz(path)
    except GanTheoryError:
        raise  # a refusal of ours (the memory check), already one line
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: cannot read it as {suffix} "
                        f"({' '.join(str(exc).split())[:200]})") from None
    raise DataError(f"{path}: expected a .npy or .npz file or a folder of .png files")


def as_pixels(a: np.ndarray, where: str = "samples") -> torch.Tensor:
    """An array of images as ``(N, 784)`` pixels in [0, 1] (rules in the module docstring)."""
    if a.ndim == 4 and a.shape[1] == 1:  # (N, 1, 28, 28), channels first
        a = a[:, 0]
    elif a.ndim == 4 and a.shape[3] == 1:  # (N, 28, 28, 1), channels last
        a = a[..., 0]
    ok = (a.ndim == 2 and a.shape[1] == PIXELS) or (a.ndim == 3 and a.shape[1:] == (SIDE, SIDE))
    if not ok or a.shape[0] == 0:
        raise DataError(f"{where}: shape {a.shape}; expected (N, 784) or (N, 28, 28) with N >= 1")
    a = a.reshape(a.shape[0], PIXELS)
    if a.dtype == np.bool_ or not (np.issubdtype(a.dtype, np.integer)
                                   or np.issubdtype(a.dtype, np.floating)):
        raise DataError(f"{where}: dtype {a.dtype}; expected uint8 (0..255) or floats in [0, 1]")
    if np.issubdtype(a.dtype, np.integer):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{where}: integer pixels in [{lo}, {hi}]; expected 0..255")
        return torch.from_numpy(a.astype(np.float64)) / 255  # as the loader: x_u8.double() / 255
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(a))
    if not bool(torch.isfinite(t).all()):
        raise DataError(f"{where}: pixels contain NaN or inf")
    lo, hi = float(t.min()), float(t.max())
    if lo < 0 or hi > 1:
        hint = "; images in [-1, 1] need (x + 1) / 2" if lo >= -1 and hi <= 1 else ""
        raise DataError(f"{where}: float pixels in [{lo:.4g}, {hi:.4g}]; expected [0, 1]{hint}")
    return t


def load_samples(path: str | Path) -> tuple[torch.Tensor, dict]:
    """``(x, info)``: the samples in ``path`` as ``(N, 784)`` pixels in [0, 1], and
    ``info = {"kind": "samples", "path", "format", "dtype", "n_samples"}``."""
    path = Path(path)
    a, fmt = _read(path)
    x = as_pixels(a, str(path))
    return x, {"kind": "samples", "path": str(path), "format": fmt, "dtype": str(a.dtype),
               "n_samples": int(x.shape[0])}
