"""Pieces every command line of the toolkit shares: the parser, ``--set KEY=VALUE``, one-line errors.

A user's mistake (a malformed flag, an impossible value, a bad file) is a
:class:`~gantheory.errors.GanTheoryError`; :func:`run_command` turns it into one line on stderr
and exit status 2, Ctrl-C into exit status 130, a closed stdout (``... | head``) into a quiet
exit, as Unix tools do, and every warning (the toolkit's or a library's) into one line
``PROG: warning: ...``. Anything else is a bug and keeps its traceback.

Every command prints text by default and, with ``--json``, one JSON object made by
:func:`json_result`: ``{"schema": SCHEMA, "command": "eval parzen", ...}``. ``schema`` is the
version of the command's documented keys (docs/evaluation.md for ``eval``, docs/training.md for
``train`` and ``sample``); it goes up when a key changes meaning or disappears, not when one is
added. Slow steps announce themselves on stderr through :func:`status` (the ``gantheory`` logger),
so stdout stays the result alone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from typing import Any, Callable

from ..errors import ConfigError, GanTheoryError


#: The version of every command's ``--json`` keys (see the module docstring).
SCHEMA = 1
#: The logger status lines go through; :func:`run_command` gives it a stderr handler.
LOG = logging.getLogger("gantheory")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (plain text, line breaks kept); an option's default is shown
    unless it is empty (None, False, [])."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        empty = action.default in (None, False, [], argparse.SUPPRESS)
        if "%(default)" in text or empty or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`ConfigError` (one line, exit 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise ConfigError(f"{message} (see --help)")


def version_string() -> str:
    """``gantheory 0.1.0 (torch 2.x, Python 3.x)``: what ``--version`` prints, read from the
    installed distributions' metadata (no import of torch, which takes seconds)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"gantheory {of('gantheory')} (torch {of('torch')}, Python {platform.python_version()})"


def add_version(p: argparse.ArgumentParser) -> None:
    """Give a parser ``--version``."""
    p.add_argument("--version", action="version", version=version_string())


def json_result(command: str, body: dict[str, Any]) -> dict[str, Any]:
    """The one ``--json`` object of a command: ``schema`` and ``command`` first, then ``body``."""
    return {"schema": SCHEMA, "command": command, **body}


def status(message: str) -> None:
    """A progress line for a slow step (e.g. a first-time download), on stderr, never stdout."""
    LOG.info(message)


class _StatusHandler(logging.StreamHandler):
    def __init__(self, prog: str):
        super().__init__()  # stderr, looked up at emit time (pytest's capsys swaps it)
        self.setFormatter(logging.Formatter(f"{prog}: %(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def parse_sets(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; the values are parsed by the config."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def one_line(exc: object) -> str:
    """An exception's (or a warning's) message on one line."""
    return " ".join(str(exc).split())


def _flush_stdout() -> bool:
    """Flush stdout; False when its reader has gone (``| head``), after which stdout points at
    /dev/null so that the interpreter's own last flush does not print "Exception ignored"."""
    try:
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        pass
    except (ValueError, OSError):  # a closed or unusable stdout: nothing more can reach it
        return False
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return False


def run_command(prog: str, body: Callable[[], int], *, interrupted: str = "interrupted") -> int:
    """Run ``body()`` and return its exit status, with the toolkit's error conventions.

    While it runs, :func:`status` lines go to stderr prefixed with ``prog``. Output still
    buffered is flushed before returning (also when ``--help`` leaves through ``SystemExit``), so
    a reader that went away stops the command quietly with the status it had: 0 after success.
    """
    handler = _StatusHandler(prog)
    LOG.addHandler(handler)
    level, LOG.level = LOG.level, logging.INFO
    saved_format = warnings.formatwarning
    warnings.formatwarning = _one_line_warning(prog)
    try:
        try:
            code = int(body() or 0)
        except GanTheoryError as exc:
            print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
            code = 2
        except KeyboardInterrupt:
            print(f"{prog}: {interrupted}", file=sys.stderr)
            code = 130
        except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
            code = 0
        except SystemExit:  # argparse's --help and --version
            _flush_stdout()
            raise
        _flush_stdout()
        return code
    finally:
        warnings.formatwarning = saved_format
        LOG.removeHandler(handler)
        LOG.setLevel(level)


def _one_line_warning(prog: str):
    """A ``warnings.formatwarning`` that prints ``prog: warning: message`` on one line (no file
    name, no source line: a library's warning reaches the user as one line too)."""

    def fmt(message, category, filename, lineno, line=None) -> str:
        return f"{prog}: warning: {one_line(message)}\n"

    return fmt
