"""Pieces every command line of the toolkit shares: the parser, ``--set KEY=VALUE``, one-line errors.

A user's mistake (a malformed flag, an impossible value, a bad file) is a
:class:`~gantheory.errors.GanTheoryError`; :func:`run_command` turns it into one line on stderr
and exit status 2, Ctrl-C into exit status 130, and a closed stdout (``... | head``) into a quiet
exit, as Unix tools do. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from ..errors import ConfigError, GanTheoryError


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`ConfigError` (one line, exit 2)."""

    def error(self, message: str):
        raise ConfigError(f"{message} (see --help)")


def parse_sets(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; the values are parsed by the config."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split())


def run_command(prog: str, body: Callable[[], int], *, interrupted: str = "interrupted") -> int:
    """Run ``body()`` and return its exit status, with the toolkit's error conventions."""
    try:
        return int(body() or 0)
    except GanTheoryError as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly; point stdout at devnull so the
        # interpreter's final flush does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
