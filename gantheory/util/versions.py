"""What produced a result: the toolkit's and its libraries' versions, and the git revision."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path


def versions() -> dict[str, str | None]:
    """Versions of gantheory, Python, the numerical libraries and the platform, for every result."""
    import numpy
    import scipy
    import sympy
    import torch

    from .. import __version__

    return {"gantheory": __version__, "python": platform.python_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__, "sympy": sympy.__version__,
            "torch": torch.__version__, "cuda": torch.version.cuda,
            "platform": platform.platform()}


def git_revision() -> dict | None:
    """The source tree's commit and whether it has uncommitted changes (None outside git)."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=5)
        return {"commit": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None
