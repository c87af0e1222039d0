"""Atomic writes: a complete file or none, and no temporary file left behind whatever stops them."""

import os

import pytest

from gantheory.util import io
from gantheory.util.io import atomic_write, is_temp_name


def test_a_write_leaves_the_file_and_no_temporary(tmp_path):
    atomic_write(tmp_path / "a.bin", b"abc")
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]


@pytest.mark.parametrize("when", ["after_create", "on_write"])
def test_an_interrupt_anywhere_leaves_no_temporary_file(tmp_path, monkeypatch, when):
    # Ctrl-C can land between the temporary file's creation and the moment its name is known to
    # the writer (inside mkstemp, as the earlier version used): simulate it there and mid-write
    real_open, real_fdopen = os.open, os.fdopen

    def open_then_interrupt(*args, **kwargs):
        real_open(*args, **kwargs)  # the file now exists
        raise KeyboardInterrupt

    def fdopen_then_interrupt(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        f.close()
        raise KeyboardInterrupt

    (tmp_path / "a.bin").write_bytes(b"old")
    if when == "after_create":
        monkeypatch.setattr(io.os, "open", open_then_interrupt)
    else:
        monkeypatch.setattr(io.os, "fdopen", fdopen_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "a.bin", b"new")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"old"  # the old file is whole


def test_temporary_names_are_recognised_and_a_users_file_is_not(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def record(src, dst):
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", record)
    atomic_write(tmp_path / "ckpt.pt", b"x")
    assert len(seen) == 1 and is_temp_name(seen[0])
    assert not is_temp_name(".tmp-notes.txt") and not is_temp_name("ckpt.pt")
