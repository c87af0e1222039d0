"""Tests for gantheory.mnist.checkpoint and gantheory.mnist.figures: atomic files, checksums,
the fallback past a corrupt checkpoint, and the nearest-neighbour search behind Figure 2."""

import os
from pathlib import Path
import warnings

import numpy as np
import pytest
import torch

from gantheory.errors import CheckpointError
from gantheory.mnist import checkpoint, figures
from gantheory.plotting import save_figure

# float64 distances from |s|^2 - 2 s.x + |x|^2 against cdist: ~1e-13 relative for values ~100.
DIST_TOL = 1e-9
REQUIRED = {k: 0 for k in checkpoint.REQUIRED if k not in ("format", "sha256")}


def _state(step, value=1.0):
    return dict(REQUIRED, step=step, G={"w": torch.full((3,), value)}, rng={"z": torch.arange(4)})


def test_save_keeps_the_last_two_and_load_latest_returns_the_newest(tmp_path):
    for step in (3, 6, 9):
        checkpoint.save(tmp_path, _state(step, float(step)), keep=2)
    assert [p.name for p in checkpoint.list_checkpoints(tmp_path)] == [
        "ckpt-000000006.pt", "ckpt-000000009.pt"]
    state, path = checkpoint.load_latest(tmp_path)
    assert path.name == "ckpt-000000009.pt" and torch.equal(state["G"]["w"], torch.full((3,), 9.0))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(checkpoint.TMP_PREFIX)]


def test_a_checkpoint_is_a_plain_torch_file(tmp_path):
    path = checkpoint.save(tmp_path, _state(1))
    assert torch.load(path, weights_only=True)["step"] == 1


def test_truncated_latest_falls_back_to_the_previous_with_a_warning(tmp_path):
    checkpoint.save(tmp_path, _state(1))
    newest = checkpoint.save(tmp_path, _state(2))
    newest.write_bytes(newest.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable checkpoint.*falling back to ckpt-000000001"):
        state, path = checkpoint.load_latest(tmp_path)
    assert state["step"] == 1


def test_a_changed_tensor_fails_the_checksum(tmp_path):
    path = checkpoint.save(tmp_path, _state(1))
    state = torch.load(path, weights_only=True)
    state["G"]["w"][0] += 1e-6  # the zip stays valid; only the digest can tell
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        checkpoint.load(path)


def test_no_usable_checkpoint_is_an_error_not_a_fresh_start(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        checkpoint.load_latest(tmp_path)
    (tmp_path / "ckpt-000000001.pt").write_bytes(b"garbage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CheckpointError, match="no usable checkpoint"):
            checkpoint.load_latest(tmp_path)


def test_clean_stale_removes_only_the_toolkits_own_temporary_files(tmp_path):
    keep = checkpoint.save(tmp_path, _state(1))
    stale = tmp_path / f"{checkpoint.TMP_PREFIX}ckpt-000000002.pt.ab_c1234.part"
    stale.write_bytes(b"half")
    users = tmp_path / f"{checkpoint.TMP_PREFIX}notes.txt"  # a user's file with the prefix
    users.write_text("mine")
    a_dir = tmp_path / f"{checkpoint.TMP_PREFIX}ckpt-000000003.pt.abcd1234.part"
    a_dir.mkdir()
    with pytest.warns(UserWarning, match="left .* in place"):
        assert checkpoint.clean_stale(tmp_path) == [stale]
    assert keep.exists() and not stale.exists() and users.exists() and a_dir.is_dir()


def test_checkpoint_names_past_step_999999999_are_listed_in_step_order(tmp_path):
    for step in (999_999_999, 1_000_000_000, 12):
        checkpoint.save(tmp_path, _state(step), keep=5)
    assert [checkpoint.step_of(p) for p in checkpoint.list_checkpoints(tmp_path)] == [
        12, 999_999_999, 1_000_000_000]
    assert checkpoint.load_latest(tmp_path)[0]["step"] == 1_000_000_000


def test_pruning_after_a_fallback_keeps_the_verified_checkpoints(tmp_path):
    """keep=1 after a resume fell back past a corrupt newest file: the new one stays."""
    checkpoint.save(tmp_path, _state(10), keep=5)
    corrupt = checkpoint.save(tmp_path, _state(20), keep=5)
    corrupt.write_bytes(corrupt.read_bytes()[:100])
    new = checkpoint.save(tmp_path, _state(12), keep=1)  # the resumed run's next checkpoint
    assert sorted(checkpoint.list_checkpoints(tmp_path)) == sorted([new, corrupt])
    with pytest.warns(UserWarning, match="falling back to ckpt-000000012"):
        assert checkpoint.load_latest(tmp_path)[0]["step"] == 12


@pytest.mark.parametrize("blob, says", [(b"", "empty"), (b"garbage!", "not a torch.save zip"),
                                        (None, "truncated or damaged zip")])
def test_unreadable_checkpoint_says_what_is_wrong(tmp_path, blob, says):
    path = checkpoint.save(tmp_path, _state(1))
    path.write_bytes(path.read_bytes()[:300] if blob is None else blob)
    with pytest.raises(CheckpointError, match=says):
        checkpoint.load(path)


def test_files_honour_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        path = checkpoint.save(tmp_path, _state(1))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640


def test_atomic_write_leaves_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        checkpoint.atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [target]


def test_paper_figures_are_a_function_of_the_checkpoint_and_the_seed():
    from gantheory.mnist.nets import Generator
    from tests.mnist.tiny import tiny

    cfg = tiny()
    G = Generator(cfg.z_dim, cfg.g_hidden, cfg.g_init, None, torch.Generator().manual_seed(0))
    train = torch.rand(300, 784, generator=torch.Generator().manual_seed(1))

    def pixels(seed):
        return [np.asarray(f.canvas.buffer_rgba()).copy()
                for f in (f.canvas.draw() or f for f in figures.paper_figures(G, cfg, train, seed))]

    first, again, other = pixels(0), pixels(0), pixels(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])  # another seed draws other samples


def test_interpolation_runs_from_z_a_to_z_b_in_equal_steps():
    a, b = torch.zeros(2, 3), torch.ones(2, 3)
    line = figures.interpolate(a, b, 5).reshape(2, 5, 3)
    assert torch.equal(line[:, 0], a) and torch.equal(line[:, -1], b)
    torch.testing.assert_close(line[0, :, 0], torch.linspace(0, 1, 5))


def test_figures_render_to_png(tmp_path):
    x = torch.rand(8, 784)
    fig = figures.figure2(x[:4], x[4:], pairs_per_row=2)
    path = Path(save_figure(fig, tmp_path / "f2.png"))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figures.tile(x, 2, 4).shape == (2 * 30 + 2, 4 * 30 + 2)
