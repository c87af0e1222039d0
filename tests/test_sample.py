"""``gantheory sample``: its outputs, and that a refused or failed run loses nothing.

The command runs in-process (``gantheory.sample.main``) on a tiny synthetic run trained once; a
failure part-way through writing a folder is made by a PIL ``save`` that fails on its third call.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest

from gantheory import sample as sample_cli
from gantheory.util.io import is_temp_name
from tests.mnist.tiny import cli_args


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    from gantheory.mnist.cli import main as train_main

    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()):
        mp.setenv("GANTHEORY_OFFLINE", "1")
        assert train_main([*cli_args(), "--epochs", "1", "--out", str(out),
                           "--no-progress"]) == 0
    return out


def _sample(run: Path, out: Path, n: int, *extra: str, capsys) -> tuple[int, str]:
    code = sample_cli.main(["--checkpoint", str(run), "--n", str(n), "--out", str(out),
                            "--no-grid", *extra])
    return code, capsys.readouterr().err


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): "dir" if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))}


def _pngs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


def test_a_folder_gets_one_png_per_sample_and_overwrite_replaces_them(run, tmp_path, capsys):
    out = tmp_path / "a" / "b"
    assert _sample(run, out, 7, capsys=capsys)[0] == 0
    assert _pngs(out) == [f"{i:06d}.png" for i in range(7)]
    (out / "notes.txt").write_text("mine")
    code, err = _sample(run, out, 3, "--seed", "1", "--overwrite", capsys=capsys)
    assert code == 0, err
    # the old 7 are gone (not 3 new + 4 old), the user's file stays, no temporary folder is left
    assert _pngs(out) == [f"{i:06d}.png" for i in range(3)]
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in out.iterdir() if is_temp_name(p.name)]
    from gantheory.metrics.samples import load_samples

    x, _ = load_samples(out)
    assert x.shape == (3, 784)


def test_a_folder_of_pngs_is_kept_without_overwrite(run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "s"
    assert _sample(run, out, 4, capsys=capsys)[0] == 0
    before = _tree(tmp_path)
    import gantheory.mnist.generate as gen

    monkeypatch.setattr(gen, "sample", lambda *a, **k: pytest.fail("sampled before the check"))
    code, err = _sample(run, out, 4, capsys=capsys)
    assert code == 2 and "--overwrite" in err and len(err.splitlines()) == 1, err
    assert _tree(tmp_path) == before


def _failing_save(real, fail_at: int):
    """PIL's ``Image.save``, failing with ENOSPC from its ``fail_at``-th call on; ``.calls``
    counts the calls."""

    def save(image, *a, **k):
        save.calls += 1
        if save.calls >= fail_at:
            raise OSError(28, "No space left on device")
        return real(image, *a, **k)

    save.calls = 0
    return save


def test_a_failure_part_way_through_overwrite_loses_no_old_png(run, tmp_path, capsys,
                                                              monkeypatch):
    from PIL import Image

    out = tmp_path / "s"
    assert _sample(run, out, 5, capsys=capsys)[0] == 0
    before = _tree(tmp_path)
    failing = _failing_save(Image.Image.save, fail_at=3)
    monkeypatch.setattr(Image.Image, "save", failing)
    code, err = _sample(run, out, 5, "--seed", "7", "--overwrite", capsys=capsys)
    assert failing.calls == 3  # two new PNGs were written before the failure
    assert code == 2 and "No space left" in err and len(err.splitlines()) == 1, err
    assert _tree(tmp_path) == before  # every old PNG, byte for byte; no temporary folder


def test_a_failure_into_a_new_folder_leaves_no_folder(run, tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(Image.Image, "save", _failing_save(Image.Image.save, fail_at=2))
    code, err = _sample(run, tmp_path / "new" / "s", 3, capsys=capsys)
    assert code == 2, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, needle", [("s.xyz", "s.xyz"), ("existing.npz", "--overwrite"),
                                          ("a_file/s.npz", "a_file")])
def test_the_output_is_checked_before_sampling(name, needle, run, tmp_path, capsys, monkeypatch):
    (tmp_path / "existing.npz").write_bytes(b"old")
    (tmp_path / "a_file").write_text("not a folder")
    before = _tree(tmp_path)
    import gantheory.mnist.generate as gen

    monkeypatch.setattr(gen, "sample", lambda *a, **k: pytest.fail("sampled before the check"))
    code, err = _sample(run, tmp_path / name, 4, capsys=capsys)
    assert code == 2 and needle in err and len(err.splitlines()) == 1, err
    assert _tree(tmp_path) == before


def test_a_too_large_n_names_the_flag_n(run, tmp_path, capsys):
    code, err = _sample(run, tmp_path / "s.npz", 10**13, capsys=capsys)
    assert code == 2, err
    assert "--n 10000000000000 needs" in err and "--n-samples" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_npz_holds_float32_samples_in_the_unit_interval(run, tmp_path, capsys):
    assert _sample(run, tmp_path / "s.npz", 6, capsys=capsys)[0] == 0
    with np.load(tmp_path / "s.npz") as z:
        x = z["samples"]
    assert x.dtype == np.float32 and x.shape == (6, 784) and 0 <= x.min() and x.max() <= 1
