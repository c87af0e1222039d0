"""Refuse, before allocating, a request whose memory cannot fit: one line naming the parameter.

    from gantheory.util.memory import check_fits
    check_fits(n * 784 * 8, "--n-samples", n)   # ConfigError if it needs more than is available

The budget is the memory the kernel reports available (``MemAvailable`` in ``/proc/meminfo``),
capped by an address-space limit (``ulimit -v``) when one is set, times ``FRACTION``: a request
above it would end in the OOM killer or a ``MemoryError`` traceback after minutes of work.
"""

from __future__ import annotations

import os
import resource

from ..errors import ConfigError

#: The share of the available memory one request may plan to use (the rest: Python, torch, the
#: page cache, and the estimates' slack).
FRACTION = 0.8


def available_bytes() -> int:
    """Memory this process may still use: MemAvailable, capped by RLIMIT_AS."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    if avail is None:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        avail = min(avail, soft)
    return avail


def human(n: float) -> str:
    """Bytes as ``1.2 GB`` (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


def check_fits(need: int, parameter: str, value: object, *, advice: str | None = None) -> None:
    """Raise :class:`ConfigError` if ``need`` bytes exceed the budget; names ``parameter``.

    The line reads ``{parameter} {value} needs about 12.3 GB of memory, more than the 4.5 GB this
    machine has available; {advice}`` (by default "use a smaller {parameter}").
    """
    budget = int(available_bytes() * FRACTION)
    if need > budget:
        raise ConfigError(f"{parameter} {value} needs about {human(need)} of memory, more than "
                          f"the {human(budget)} this machine has available; "
                          f"{advice or f'use a smaller {parameter}'}")
