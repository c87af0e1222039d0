"""Import a script of experiments/ as a module, for tests that call its functions."""

import importlib.util
import sys
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def load_script(name: str, monkeypatch):
    """experiments/``name``.py as a module (registered in sys.modules for the test only: a
    dataclass resolves its module's annotations through sys.modules while it is built)."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)
    spec.loader.exec_module(mod)
    return mod
