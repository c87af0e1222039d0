"""gantheory.util.cli.run_command: the conventions every command shares (one-line errors and
warnings, 130 on Ctrl-C, a quiet exit when stdout's reader has gone)."""

import os
import sys
import warnings

import pytest

from gantheory.errors import ConfigError
from gantheory.util.cli import run_command


def test_a_library_warning_is_one_line_with_the_command_name(capsys, monkeypatch):
    def show(message, category, filename, lineno, file=None, line=None):  # Python's default,
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(warnings, "showwarning", show)  # which pytest's recorder replaces

    def body():
        warnings.warn("first line\n  second line\n  third line", UserWarning)
        return 0

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert run_command("gantheory eval", body) == 0
    err = capsys.readouterr().err
    assert err == "gantheory eval: warning: first line second line third line\n"


def test_the_warning_format_is_restored_afterwards():
    before = warnings.formatwarning
    run_command("x", lambda: 0)
    assert warnings.formatwarning is before


@pytest.mark.parametrize("exc, rc", [(ConfigError("bad\nvalue"), 2), (KeyboardInterrupt(), 130)])
def test_errors_and_ctrl_c_are_one_line(exc, rc, capsys):
    def body():
        raise exc

    assert run_command("gantheory verify", body, interrupted="stopped") == rc
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("gantheory verify: ")


def test_a_bug_keeps_its_traceback():
    with pytest.raises(ZeroDivisionError):
        run_command("x", lambda: 1 / 0)


def test_a_reader_gone_before_the_last_flush_is_a_quiet_exit_with_the_status(monkeypatch):
    """stdout is a pipe whose reader closed; what is buffered fails inside run_command, which
    points stdout at /dev/null and keeps the command's own status."""
    r, w = os.pipe()
    os.close(r)
    saved_fd = os.dup(1)
    stream = open(w, "w", closefd=True)
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        os.dup2(w, 1)

        def body():
            print("some output")
            raise ConfigError("and a bad value")

        assert run_command("x", body) == 2
        print("more", flush=True)  # now /dev/null: no BrokenPipeError
    finally:
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
