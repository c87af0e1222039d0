"""Every command under bad input and faults, through the real command lines.

Each row of :data:`BAD` is a request a command must refuse: it must exit with status 2 (130 for
Ctrl-C), print exactly one line on stderr that names the problem, no traceback, and leave every
file in its working directory (an earlier run included) exactly as it was: nothing lost, nothing
half-written, no new file or folder. The child's peak resident memory must stay under
:data:`MEMORY_LIMIT`, so a request for gigabytes is refused by an estimate, not by the kernel.
:data:`FAULTS` are faults that are not bad input (a closed stdout, a full disk, a corrupt newest
checkpoint, a user's file named like a temporary one), each with its own expectation.

The rows are grouped by the classes of faults they test:

1. data loss on bad input; 2. two writers in one run directory; 3. unbounded memory; 4. a closed
stdout; 5. pruning after a fallback; 6. output paths checked before the work; 7. a full or
read-only disk; 8. numbers the parser accepts but the maths cannot; 9. unchecked flags and
environment; 10. crafted but well-checksummed files; 11. start-up cleanup of temporary files;
12. one-line errors and Ctrl-C in eval and verify, checks before work; 13. failed starts, resume
of a finished run, progress bars on a non-terminal.

The commands run in children forked from one process that imported torch once
(:mod:`tests.faultrun`), which keeps the whole matrix to well under a minute of CPU; a few rows
that depend on the interpreter's own start-up run as plain subprocesses. Rows that need the real
MNIST are marked ``mnist``.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from gantheory.mnist import checkpoint
from gantheory.util.io import is_temp_name
from tests.faultrun import REPO, Runner
from tests.mnist.tiny import TINY, cli_args
from tests.readonly import read_only_folder

#: A refused request must stay below this peak resident memory (the child's, torch included).
MEMORY_LIMIT = 10**9
#: The tiny run every row that needs a run directory copies: 2 epochs of 10 steps, 2 checkpoints.
RUN_ARGS = ["train", "mnist", *cli_args(epochs=2, keep_checkpoints=3), "--no-progress"]
#: The tiny config, reading the real-data path (``data=mnist``) so that ``--data`` is used.
MNIST_ARGS = cli_args(data="mnist", train_images=200)



# -- fixtures: one fork server, one tiny finished run, the crafted files ------------------------


@pytest.fixture(scope="module")
def runner():
    with Runner() as r:
        yield r


def _gzip_bomb(path: Path, dims: tuple[int, ...], zeros_mb: int) -> None:
    """A gzip stream: an IDX header for ``dims``, then ``zeros_mb`` MB of zeros in a few kB.

    A full-flush block of 1 MB of zeros is repeated (each such block stands alone), so the file
    is built without compressing the gigabytes; the trailer's CRC is not that of the data, which
    no reader that stops early will see.
    """
    header = bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    path.write_bytes(head + block * zeros_mb + c.flush())


def _write_idx_set(d: Path, images: bytes) -> None:
    """The four MNIST file names in ``d``: ``images`` as the training images, small others."""
    from tests.mnist.idx import write_idx

    d.mkdir()
    (d / "train-images-idx3-ubyte.gz").write_bytes(images)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(60_000, np.uint8))
    write_idx(d / "t10k-images-idx3-ubyte.gz", np.zeros((10, 28, 28), np.uint8))
    write_idx(d / "t10k-labels-idx1-ubyte.gz", np.zeros(10, np.uint8))


def _craft(run: Path, name: str, change) -> None:
    """A copy of the run's newest checkpoint, changed by ``change(state)`` and saved with a
    checksum that matches, as the newest checkpoint of ``run/name``'s copy."""
    state = checkpoint.load(checkpoint.list_checkpoints(run)[-1])
    change(state)
    out = run.parent / name
    shutil.copytree(run, out)
    for p in checkpoint.list_checkpoints(out):
        p.unlink()
    checkpoint.save(out, state, keep=10)


@pytest.fixture(scope="module")
def base(runner, tmp_path_factory):
    """A folder of inputs every row copies: a finished tiny run, samples, crafted files."""
    b = tmp_path_factory.mktemp("base")
    got = runner.run(RUN_ARGS + ["--out", str(b / "run")], cwd=b)
    assert got.rc == 0, got.err
    run = b / "run"
    assert len(checkpoint.list_checkpoints(run)) == 2
    np.savez(b / "samples.npz", samples=np.random.default_rng(0).random((20, 784)))
    (b / "existing_file").write_text("a user's file\n")
    _craft(run, "bogus_loss", lambda s: s["config"].update(loss="bogus"))
    _craft(run, "bad_rng", lambda s: s["rng"].update(z=torch.zeros(7, dtype=torch.uint8)))
    _craft(run, "wide_g", lambda s: s["config"].update(g_hidden=33))
    _craft(run, "huge_dims", lambda s: s["config"].update(g_hidden=10**9, z_dim=10**9))
    _write_idx_set(b / "bomb", b"")
    # 64 kB that would inflate to 64 MB past its header's 47 MB (the reader stops at the cap;
    # the cap, not the bomb's size, bounds the memory, so a small bomb tests it as well)
    _gzip_bomb(b / "bomb" / "train-images-idx3-ubyte.gz", (60_000, 28, 28), 64)
    _write_idx_set(b / "overflow", gzip.compress(bytes([0, 0, 8, 3]) + b"\xff" * 12 + bytes(64)))
    # a rewritten cache whose sidecar's hash was updated to match: still not MNIST
    cache = b / "cache"
    cache.mkdir()
    buf = io.BytesIO()
    np.savez_compressed(buf, **{f"{s}_{k}": np.zeros((n, 784) if k == "x" else n, np.uint8)
                     for s, n in (("train", 50_000), ("valid", 10_000), ("test", 10_000))
                     for k in ("x", "y")})
    (cache / "mnist.npz").write_bytes(buf.getvalue())  # compressed: kB, not 55 MB per copy
    (cache / "mnist.json").write_text(json.dumps(
        {"sha256": hashlib.sha256(buf.getvalue()).hexdigest()}))
    # an npz whose one member inflates to 8 GB, and an .npy whose header promises 10**12 rows
    np.lib.format.write_array_header_1_0(f := open(b / "huge.npy", "wb"), {
        "descr": "|u1", "fortran_order": False, "shape": (10**12, 784)})
    f.close()
    return b


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    """An existing folder this process cannot write into (a read-only tmpfs when running as root,
    which ignores permission bits), holding one empty subfolder ``sub``."""
    d = tmp_path_factory.mktemp("ro") / "ro"
    d.mkdir()
    with read_only_folder(d, ("sub",)):
        yield d


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: path -> SHA-256 (files) or ``dir``."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if rel.startswith(".faultrun."):
            continue
        if p.is_dir() and not p.is_symlink():
            out[rel] = "dir"
        elif p.stat().st_size > 100 << 20:  # a sparse giant made by a row: its size and time
            out[rel] = f"{p.stat().st_size}:{p.stat().st_mtime_ns}"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# -- the rows -----------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    argv: list[str]  # {W}: the working folder (a copy of base); {RO}: the read-only folder
    needle: str  # a word the one stderr line must hold
    env: dict = field(default_factory=dict)
    unset: tuple = ()
    rc: int = 2
    prepare: object = None  # prepare(W) -> a context to hold during the command (a lock)
    sigint_after: float | None = None
    marks: tuple = ()

    def param(self):
        return pytest.param(self, id=self.id, marks=self.marks)


def _sparse_idx(w: Path):
    """``huge/``: the four MNIST names, the training images a sparse 10 GB file."""
    _write_idx_set(w / "huge", b"")
    with open(w / "huge" / "train-images-idx3-ubyte.gz", "wb") as f:
        f.truncate(10 << 30)


def _hold_lock(w: Path):
    """Hold ``run/.lock`` as a running writer would (flock, with a live PID inside)."""
    fd = os.open(w / "run" / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _png_folder(w: Path):
    """``pngs/``: a folder of an earlier ``gantheory sample``'s PNGs."""
    from PIL import Image

    (w / "pngs").mkdir()
    for i in range(3):
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8), mode="L").save(
            w / "pngs" / f"{i:06d}.png")


TRAIN = ["train", "mnist"]
TINY_ARGS = cli_args()
#: The tiny config without its ``--set device=cpu`` (which would override ``--device``).
NODEV_ARGS = [a for i, a in enumerate(TINY_ARGS) if "device=cpu" not in TINY_ARGS[i:i + 2]]
EVAL_P = ["eval", "parzen"]
EVAL_M = ["eval", "metrics"]
VERIFY = ["verify", "optimal_d"]
#: optimal_d made cheap (a second, not fifteen), for rows that may run it before failing.
VERIFY_CHEAP = VERIFY + ["--seeds", "1", "--steps", "20", "--set", "grid=101"]

BAD = [
    # 1. data loss on bad input: the old run survives a refused --overwrite
    Case("1-overwrite-bad-lr", TRAIN + TINY_ARGS + ["--out", "{W}/run", "--overwrite", "--set",
                                                     "lr=-1"], "lr"),
    Case("1-overwrite-missing-data", TRAIN + MNIST_ARGS + ["--out", "{W}/run", "--overwrite",
                                                           "--data", "{W}/nonexistent"],
         "nonexistent"),
    Case("1-overwrite-bad-device", TRAIN + NODEV_ARGS + ["--out", "{W}/run", "--overwrite",
                                                        "--device", "cuda:abc"], "device"),
    # 2. two writers
    Case("2-second-writer-resume", TRAIN + ["--out", "{W}/run", "--resume", "--epochs", "3"],
         "in use", prepare=_hold_lock),
    Case("2-second-writer-overwrite", TRAIN + TINY_ARGS + ["--out", "{W}/run", "--overwrite"],
         "in use", prepare=_hold_lock),
    # 3. memory, refused before allocating
    # 10^11 points (an estimated 25 TB): refused on any machine, as the budget is its memory
    Case("3-verify-grid", VERIFY + ["--set", "grid=100000000000"], "grid"),
    Case("3-verify-seeds", VERIFY + ["--seeds", "1000000000"], "seeds"),
    # a product seeds x batch x hidden is blamed on the factor that was raised
    Case("3-verify-batch", VERIFY + ["--set", "batch=100000000000"], "lower batch"),
    Case("3-verify-hidden", VERIFY + ["--set", "hidden=100000000000"], "lower hidden"),
    # each claim's own fields that grow memory, named in the refusal
    *[Case(f"3-verify-{claim}-{f}", ["verify", claim, "--set", f"{f}=100000000000"],
           f"{f}=100000000000")
      for claim, f in [("gradient_identity", "panels"), ("vanishing_gradient", "panels"),
                       ("mixtures2d", "z_dim")]],
    # fields that grow memory and time: the config's check bounds them (the estimate stands
    # behind it), so the line names the field either way
    *[Case(f"3-verify-{claim}-{f}", ["verify", claim, "--set", f"{f}=100000000000"], f)
      for claim, f in [("vanishing_gradient", "etas"), ("variational_bound", "critics"),
                       ("wgan_example", "thetas"), ("global_optimum", "n_random_pairs")]],
    # counts that cost time, not memory: bounded by the config's check, refused before the work
    *[Case(f"3-verify-{claim}-{f}", ["verify", claim, "--set", f"{f}=100000000"], f"{f} must")
      for claim, f in [("dirac", "n_grid"), ("convergence", "convexity_pairs"),
                       ("global_optimum", "k"), ("mixtures2d", "k")]],
    Case("3-parzen-n-samples", EVAL_P + ["--checkpoint", "{W}/run", "--n-samples", "100000000"],
         "--n-samples"),
    Case("3-metrics-n-samples", EVAL_M + ["--checkpoint", "{W}/run", "--n-samples", "100000000"],
         "--n-samples"),
    Case("3-sample-n", ["sample", "--checkpoint", "{W}/run", "--n", "100000000", "--out",
                        "{W}/s.npz"], "--n 100000000"),
    Case("3-train-idx-gzip-bomb", TRAIN + MNIST_ARGS + ["--out", "{W}/new", "--data", "{W}/bomb"],
         "train-images"),
    Case("3-train-idx-huge-file", TRAIN + MNIST_ARGS + ["--out", "{W}/new", "--data",
                                                        "{W}/huge"], "bytes", prepare=_sparse_idx),
    Case("3-train-eval-samples", TRAIN + TINY_ARGS + ["--out", "{W}/new", "--eval-every", "1",
                                                      "--eval-samples", "100000000"],
         "--eval-samples"),
    Case("3-train-huge-images", TRAIN + TINY_ARGS + ["--out", "{W}/new", "--set",
                                                     "train_images=10000000000"], "memory"),
    Case("3-train-huge-nets", TRAIN + TINY_ARGS + ["--out", "{W}/new", "--set",
                                                   "g_hidden=1000000000"], "memory"),
    Case("3-dry-run-huge-nets", TRAIN + TINY_ARGS + ["--dry-run", "--set", "z_dim=1000000000"],
         "memory"),
    Case("3-eval-checkpoint-huge-nets", EVAL_P + ["--checkpoint", "{W}/huge_dims", "--n-samples",
                                                  "10"], "memory"),
    Case("3-eval-npy-huge-header", EVAL_P + ["--samples", "{W}/huge.npy"], "huge.npy"),
    # 6. output paths, checked before the work
    Case("6-verify-report-is-a-file", VERIFY_CHEAP + ["--report", "{W}/existing_file"], "report"),
    Case("6-verify-plot-format", VERIFY_CHEAP + ["--plot", "{W}/p.xyz"], "xyz"),
    Case("6-verify-plot-read-only", VERIFY_CHEAP + ["--plot", "{RO}/p.png"], "p.png"),
    Case("6-parzen-plot-format", EVAL_P + ["--samples", "{W}/samples.npz", "--plot", "{W}/p.xyz"],
         "xyz"),
    Case("6-parzen-plot-read-only", EVAL_P + ["--samples", "{W}/samples.npz", "--plot",
                                              "{RO}/p.png"], "p.png"),
    Case("6-sample-read-only", ["sample", "--checkpoint", "{W}/run", "--n", "10", "--out",
                                "{RO}/s.npz"], "s.npz"),
    Case("6-sample-pngs-without-overwrite", ["sample", "--checkpoint", "{W}/run", "--n", "10",
                                             "--out", "{W}/pngs"], "--overwrite",
         prepare=_png_folder),
    Case("6-sample-folder-read-only", ["sample", "--checkpoint", "{W}/run", "--n", "10", "--out",
                                       "{RO}/pngs"], "pngs"),
    Case("6-sample-bad-suffix", ["sample", "--checkpoint", "{W}/run", "--n", "10", "--out",
                                 "{W}/s.xyz"], "s.xyz"),
    # 7. a read-only disk (full disks are FAULTS below: the run has started)
    Case("7-train-out-read-only", TRAIN + TINY_ARGS + ["--out", "{RO}/sub"], "sub"),
    Case("7-train-out-under-read-only", TRAIN + TINY_ARGS + ["--out", "{RO}/new"], "new"),
    # 8. numbers the parser accepts but the maths cannot
    *[Case(f"8-verify-{spec}", VERIFY + ["--p-data", spec], "range")
      for spec in ("normal(0,1e-300)", "normal(1e20,1)", "normal(0,5e-324)", "normal(1e308,1)",
                   "normal(0,1e308)")],
    Case("8-parzen-sigma-1e-300", EVAL_P + ["--samples", "{W}/samples.npz", "--sigmas",
                                            "1e-300"], "sigma"),
    Case("8-parzen-sigma-nan", EVAL_P + ["--samples", "{W}/samples.npz", "--sigmas", "nan"],
         "sigma"),
    Case("8-train-lr-inf", TRAIN + TINY_ARGS + ["--out", "{W}/new", "--set", "lr=inf"], "lr"),
    Case("8-train-lr-nan", TRAIN + TINY_ARGS + ["--out", "{W}/new", "--set", "lr=nan"], "lr"),
    Case("9-train-seed-negative", TRAIN + TINY_ARGS + ["--out", "{W}/new", "--seed", "-1"],
         "seed"),
    Case("9-train-device-cuda-abc", TRAIN + NODEV_ARGS + ["--out", "{W}/new", "--device",
                                                         "cuda:abc"], "cuda:abc"),
    Case("9-eval-seed-negative", EVAL_P + ["--checkpoint", "{W}/run", "--seed", "-1"], "seed"),
    Case("9-sample-seed-negative", ["sample", "--checkpoint", "{W}/run", "--seed", "-1", "--out",
                                    "{W}/s.npz"], "seed"),
    Case("9-verify-threads-abc", VERIFY + ["--seeds", "0"], "GANTHEORY_THREADS",
         env={"GANTHEORY_THREADS": "abc"}),
    Case("9-verify-threads-0", VERIFY + ["--seeds", "0"], "GANTHEORY_THREADS",
         env={"GANTHEORY_THREADS": "0"}),
    Case("9-train-world-size-abc", TRAIN + TINY_ARGS + ["--out", "{W}/new"], "WORLD_SIZE",
         env={"WORLD_SIZE": "abc"}),
    Case("9-train-rank-1-alone", TRAIN + TINY_ARGS + ["--out", "{W}/new"], "RANK",
         env={"RANK": "1"}, unset=("WORLD_SIZE",)),
    Case("9-train-world-size-2-alone", TRAIN + TINY_ARGS + ["--out", "{W}/new"], "torchrun",
         env={"WORLD_SIZE": "2"}, unset=("RANK", "MASTER_ADDR", "MASTER_PORT")),
    Case("9-train-local-rank-abc", TRAIN + TINY_ARGS + ["--out", "{W}/new"], "LOCAL_RANK",
         env={"LOCAL_RANK": "abc"}),
    Case("9-train-rank-not-below-world", TRAIN + TINY_ARGS + ["--out", "{W}/new"], "RANK",
         env={"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
              "MASTER_PORT": "29999"}),
    # 10. crafted files with checksums that match
    Case("10-resume-bogus-loss", TRAIN + ["--out", "{W}/bogus_loss", "--resume", "--epochs", "3"],
         "bogus"),
    Case("10-resume-rng-size", TRAIN + ["--out", "{W}/bad_rng", "--resume", "--epochs", "3"],
         "rng"),
    Case("10-parzen-bogus-loss", EVAL_P + ["--checkpoint", "{W}/bogus_loss", "--n-samples", "10"],
         "bogus"),
    Case("10-sample-bogus-loss", ["sample", "--checkpoint", "{W}/bogus_loss", "--n", "10",
                                  "--out", "{W}/s.npz"], "bogus"),
    Case("10-train-idx-overflowing-dims", TRAIN + MNIST_ARGS + ["--out", "{W}/new", "--data",
                                                                "{W}/overflow"], "dimensions"),
    Case("10-train-rewritten-cache", TRAIN + MNIST_ARGS + ["--out", "{W}/new"], "canonical",
         env={"GANTHEORY_DATA": "{W}/cache", "GANTHEORY_OFFLINE": "1"}),
    # 12. one line, checks before work
    Case("12-parzen-weights-do-not-fit", EVAL_P + ["--checkpoint", "{W}/wide_g", "--n-samples",
                                                   "10"], "do not fit"),
    Case("12-sample-weights-do-not-fit", ["sample", "--checkpoint", "{W}/wide_g", "--n", "10",
                                          "--out", "{W}/s.npz"], "do not fit"),
    Case("12-metrics-one-sample", EVAL_M + ["--checkpoint", "{W}/run", "--n-samples", "1"],
         "--n-samples"),
    Case("12-parzen-missing-checkpoint", EVAL_P + ["--checkpoint", "{W}/nothing"], "nothing"),
    Case("12-verify-sigint", ["verify", "all", "--json"], "interrupted", rc=130,
         sigint_after=2.0),
    Case("12-train-sigint", TRAIN + cli_args(epochs=10**6) + ["--out", "{W}/new"], "interrupted",
         rc=130, sigint_after=1.5),
    # 13. failed starts leave nothing; bad config files are one line
    Case("13-config-file-bad-toml", TRAIN + ["--config", "{W}/existing_file", "--out", "{W}/new"],
         "TOML"),
]
# Rows whose working folder legitimately changes: Ctrl-C of a run keeps its first files.
CHANGES_FILES = {"12-train-sigint"}


def _fill(argv, w: Path, ro: Path | None) -> list[str]:
    return [a.replace("{W}", str(w)).replace("{RO}", str(ro)) for a in argv]


def _workdir(base: Path, tmp_path: Path) -> Path:
    w = tmp_path / "w"
    shutil.copytree(base, w, symlinks=True)
    return w


def _assert_one_line(got, needle: str) -> None:
    assert got.killed is None, f"the child was killed ({got.killed}): {got.err[-2000:]}"
    assert "Traceback" not in got.err, got.err[-3000:]
    assert len(got.err_lines) == 1, got.err[-3000:]
    line = got.err_lines[0]
    assert line.startswith("gantheory"), line
    assert needle.lower() in line.lower(), line


def _check_row(case: Case, runner, base: Path, tmp_path: Path, request, pre: str | None = None):
    w = _workdir(base, tmp_path)
    ro = request.getfixturevalue("readonly") if any("{RO}" in a for a in case.argv) else None
    held = case.prepare(w) if case.prepare else None
    before = _snapshot(w)
    env = {k: v.replace("{W}", str(w)) for k, v in case.env.items()}
    try:
        got = runner.run(_fill(case.argv, w, ro), cwd=w, env=env, unset=case.unset,
                         sigint_after=case.sigint_after, pre=pre)
    finally:
        if held is not None:
            os.close(held)
    assert got.rc == case.rc, got.err[-3000:]
    _assert_one_line(got, case.needle)
    assert got.maxrss_bytes < MEMORY_LIMIT, f"peak RSS {got.maxrss_bytes / 1e9:.2f} GB"
    after = _snapshot(w)
    if case.id in CHANGES_FILES:
        assert set(before) <= set(after)
        assert not [p for p in after if is_temp_name(Path(p).name)]
    else:
        assert after == before, (sorted(set(after) ^ set(before)),
                                 [p for p in before if after.get(p) != before[p]])
    if ro is not None:
        assert not any(ro.iterdir()) or sorted(p.name for p in ro.iterdir()) == ["sub"]


@pytest.mark.parametrize("case", [c.param() for c in BAD])
def test_bad_input_is_refused_in_one_line_and_loses_nothing(case, runner, base, tmp_path,
                                                            request):
    _check_row(case, runner, base, tmp_path, request)


ROW = {c.id: c for c in BAD}


@pytest.mark.parametrize("row, pre", [
    # no memory estimate: the allocation itself fails, with torch's traceback
    ("3-train-huge-images", "import gantheory.util.memory as m; m.FRACTION = 1e12"),
    # the claims' estimate disabled: optimal_d's range check builds the grid itself
    ("3-verify-grid", "import gantheory.util.memory as m; m.FRACTION = 1e12"),
    # a refusal that first allocates 1.5 GB (the peak-memory check)
    ("3-sample-n", "import torch, gantheory.util.memory as m\n"
                   "f = m.check_fits\n"
                   "def g(*a, **k):\n"
                   "    x = torch.ones(1500 << 20, dtype=torch.uint8)\n"
                   "    f(*a, **k)\n"
                   "m.check_fits = g\n"
                   "import gantheory.mnist.generate as gen; gen.check_fits = g"),
    # the old --overwrite: the old run is deleted before the new config is checked
    ("1-overwrite-bad-lr", "import pathlib, gantheory.mnist.cli as c\n"
                           "f = c.run_cli\n"
                           "def g(args, *a, **k):\n"
                           "    [p.unlink() for p in pathlib.Path(args.out).glob('ckpt-*')]\n"
                           "    return f(args, *a, **k)\n"
                           "c.run_cli = g"),
    # a half-written file left behind by a refused start
    ("7-train-out-read-only", "import gantheory.mnist.rundir as r, pathlib\n"
                              "f = r.RunFiles.prepare\n"
                              "def g(self, *a):\n"
                              "    pathlib.Path('partial.part').write_text('half')\n"
                              "    return f(self, *a)\n"
                              "r.RunFiles.prepare = g"),
    # a warning beside the error: two lines
    ("9-train-seed-negative", "import warnings, gantheory.mnist.cli as c\n"
                              "f = c.run_cli\n"
                              "def g(*a, **k):\n"
                              "    warnings.warn('noise')\n"
                              "    return f(*a, **k)\n"
                              "c.run_cli = g"),
], ids=["no-estimate", "verify-no-estimate", "allocates-first", "deletes-first", "half-written", "two-lines"])
def test_the_matrix_fails_a_deliberately_broken_toolkit(row, pre, runner, base, tmp_path,
                                                        request):
    """Negative controls: each breakage, put into the toolkit in the child, fails the row."""
    with pytest.raises(AssertionError):
        _check_row(ROW[row], runner, base, tmp_path, request, pre=pre)


# -- faults that are not bad input --------------------------------------------------------------


def _files_whole(root: Path) -> None:
    """No temporary file anywhere, every PNG and checkpoint complete."""
    from PIL import Image

    for p in root.rglob("*"):
        assert not is_temp_name(p.name) and not p.name.endswith(".part"), p
        if p.suffix == ".png":
            with Image.open(p) as im:
                im.load()
    for p in checkpoint.list_checkpoints(root):
        checkpoint.load(p)


def test_4_a_closed_stdout_never_stops_training(runner, tmp_path):
    got = runner.run(RUN_ARGS + ["--out", str(tmp_path / "r")], cwd=tmp_path, stdout="closed")
    assert got.rc == 0 and got.err == "", got.err
    assert [checkpoint.step_of(p) for p in checkpoint.list_checkpoints(tmp_path / "r")] == [10, 20]
    records = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text()
               .splitlines()]
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [1, 2]


@pytest.mark.parametrize("argv", [
    pytest.param(["verify", "--list"], id="verify-list"),
    pytest.param(["--help"], id="help"),
    pytest.param(["--version"], id="version"),
    pytest.param(["train", "mnist", "--help"], id="train-help"),
    pytest.param(["train", "mnist", "--print-config"], id="print-config"),
    pytest.param(["eval", "parzen", "--help"], id="eval-help"),
    pytest.param(["sample", "--help"], id="sample-help"),
    pytest.param(["eval", "parzen", "--samples", "{W}/samples.npz", "--n-valid", "x"],
                 id="eval-error"),
])
def test_4_a_closed_stdout_is_a_quiet_exit(argv, runner, base, tmp_path):
    w = _workdir(base, tmp_path)
    got = runner.run(_fill(argv, w, None), cwd=w, stdout="closed")
    assert "Traceback" not in got.err and "Exception ignored" not in got.err, got.err
    assert got.rc in (0, 2), got.err


def test_4_a_closed_stdout_in_a_real_pipe(tmp_path):
    """`gantheory verify --list | head -1`: the console script itself, the reader gone early."""
    cmd = f"{sys.executable} -m gantheory.cli verify --list | head -c 1 >/dev/null"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr


def test_5_resume_after_a_corrupt_newest_checkpoint_keeps_a_verified_one(runner, base, tmp_path):
    w = _workdir(base, tmp_path)
    newest = checkpoint.list_checkpoints(w / "run")[-1]
    newest.write_bytes(newest.read_bytes()[:-100])
    got = runner.run(TRAIN + ["--out", str(w / "run"), "--resume", "--epochs", "3", "--set",
                              "keep_checkpoints=1", "--no-progress"], cwd=w)
    assert got.rc == 0, got.err
    assert "Traceback" not in got.err
    ckpts = checkpoint.list_checkpoints(w / "run")
    assert [checkpoint.step_of(p) for p in ckpts] == [30]
    checkpoint.load(ckpts[0])
    assert (w / "run" / (newest.name + ".corrupt")).exists()


@pytest.mark.parametrize("what, fsize, extra", [
    ("run.json", 600, []),
    ("samples", 12_000, ["--set", "sample_every=1"]),
], ids=["run-json", "samples-png"])
def test_7_a_full_disk_is_one_line_and_nothing_half_written(what, fsize, extra, runner, tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: a write past it fails with EFBIG."""
    out = tmp_path / "r"
    got = runner.run(TRAIN + TINY_ARGS + extra + ["--out", str(out), "--no-progress"],
                     cwd=tmp_path, fsize=fsize)
    assert got.rc == 2, got.err
    _assert_one_line(got, what)
    if out.exists():
        _files_whole(out)


def test_7_a_full_disk_while_sampling_writes_no_partial_npz(runner, base, tmp_path):
    w = _workdir(base, tmp_path)
    got = runner.run(["sample", "--checkpoint", str(w / "run"), "--n", "500", "--out",
                      str(w / "s.npz")], cwd=w, fsize=4000)
    assert got.rc == 2, got.err
    _assert_one_line(got, "s.npz")
    assert not (w / "s.npz").exists()
    _files_whole(w)


def test_7_a_full_disk_while_overwriting_pngs_loses_none(runner, base, tmp_path):
    """The disk fills up at the third new PNG of an --overwrite: every old PNG survives."""
    w = _workdir(base, tmp_path)
    _png_folder(w)
    before = _snapshot(w)
    fail = ("from PIL import Image\n"
            "f, n = Image.Image.save, [0]\n"
            "def g(self, *a, **k):\n"
            "    n[0] += 1\n"
            "    if n[0] >= 3:\n"
            "        raise OSError(28, 'No space left on device')\n"
            "    return f(self, *a, **k)\n"
            "Image.Image.save = g")
    got = runner.run(["sample", "--checkpoint", str(w / "run"), "--n", "10", "--out",
                      str(w / "pngs"), "--overwrite"], cwd=w, pre=fail)
    assert got.rc == 2, got.err
    _assert_one_line(got, "pngs")
    assert _snapshot(w) == before


def test_11_cleanup_removes_only_the_toolkits_temporary_files(runner, base, tmp_path):
    w = _workdir(base, tmp_path)
    run = w / "run"
    (run / ".tmp-notes.txt").write_text("mine")
    (run / ".tmp-ckpt-000000010.pt.abcdefgh.part").mkdir()
    stale = run / ".tmp-ckpt-000000030.pt.a1b2c3d4.part"
    stale.write_bytes(b"half a checkpoint")
    got = runner.run(TRAIN + ["--out", str(run), "--resume", "--epochs", "3", "--no-progress"],
                     cwd=w)
    assert got.rc == 0, got.err
    assert "Traceback" not in got.err
    assert (run / ".tmp-notes.txt").read_text() == "mine"
    assert (run / ".tmp-ckpt-000000010.pt.abcdefgh.part").is_dir()
    assert not stale.exists()


def test_13_resume_of_a_finished_run_says_already_complete(runner, base, tmp_path):
    w = _workdir(base, tmp_path)
    before = _snapshot(w / "run")
    got = runner.run(TRAIN + ["--out", str(w / "run"), "--resume", "--json"], cwd=w)
    assert got.rc == 0, got.err
    summary = json.loads(got.out)
    assert summary["already_complete"] is True and summary["epoch"] == 2
    assert None not in (summary["step"], summary["wall_s"])
    assert "already complete" in got.err
    changed = {p for p in before if _snapshot(w / "run").get(p) != before[p]}
    assert changed <= {"loss_curve.png"}


@pytest.mark.parametrize("argv", [
    pytest.param(TRAIN + TINY_ARGS + ["--out", "{W}/r"], id="train"),
    pytest.param(["verify", "symbolic", "symbolic"], id="verify"),
])
def test_13_no_progress_bar_on_a_non_terminal_stderr(argv, runner, tmp_path):
    got = runner.run(_fill(argv, tmp_path, None), cwd=tmp_path)
    assert got.rc == 0, got.err
    assert "\r" not in got.err and "it/s" not in got.err and "%|" not in got.err, got.err


@pytest.mark.mnist
def test_12_eval_sigint_is_130_and_no_traceback(runner, base, tmp_path):
    """Ctrl-C during the Parzen protocol: its status lines, then one line saying so."""
    w = _workdir(base, tmp_path)
    got = runner.run(EVAL_P + ["--checkpoint", str(w / "run"), "--n-samples", "10000",
                               "--references"], cwd=w, sigint_after=3.0, memory_limit=16 << 30)
    assert got.rc == 130, got.err
    assert "Traceback" not in got.err and got.killed is None, got.err
    assert got.err_lines[-1] == "gantheory eval: interrupted", got.err
    assert all(line.startswith("gantheory eval: ") for line in got.err_lines), got.err


@pytest.mark.mnist
def test_4_eval_with_a_closed_stdout_is_quiet(runner, base, tmp_path):
    w = _workdir(base, tmp_path)
    got = runner.run(EVAL_P + ["--samples", str(w / "samples.npz"), "--n-valid", "50"], cwd=w,
                     stdout="closed")
    assert got.rc == 0 and "Traceback" not in got.err and "Exception" not in got.err, got.err
