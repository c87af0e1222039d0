"""Environment variables the toolkit reads, each parsed and range-checked in one place.

    from gantheory.util.env import env_int
    threads = env_int("GANTHEORY_THREADS", default=1, minimum=1)

A malformed value (``GANTHEORY_THREADS=abc``, ``WORLD_SIZE=0``) is a
:class:`~gantheory.errors.ConfigError` naming the variable, so a command reports it on one line
with exit status 2 instead of a traceback from ``int()`` deep inside a run.
"""

from __future__ import annotations

import os

from ..errors import ConfigError


def env_int(name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    """The integer in ``$name`` (``default`` when unset or empty), within [minimum, maximum]."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"environment variable {name}={value} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"environment variable {name}={value} must be <= {maximum}")
    return value


def threads(default: int = 1) -> int:
    """``$GANTHEORY_THREADS``: torch CPU threads for a command (>= 1, at most 4096)."""
    return env_int("GANTHEORY_THREADS", default, minimum=1, maximum=4096)
