"""What a benchmark ran on, for its JSON line: the CPU's name and the vector units torch uses.

The CPU behind this project's machines varies from one to the next (an AMD EPYC with AVX2 only,
then one with AVX-512), and the name /proc/cpuinfo gives is often just "AMD EPYC"; torch's CPU
capability tells the two apart.
"""

from __future__ import annotations

import platform

import torch


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, else what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            names = (line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
            return next(names)
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def cpu_capability() -> str:
    """The vector instruction set torch's CPU kernels dispatch to (e.g. "AVX2", "AVX512")."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        return "unknown"
