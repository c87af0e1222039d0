"""experiments/figure1.py in its smoke mode: the whole path runs and writes both figures."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "figure1.py"


def _load(monkeypatch):
    spec = importlib.util.spec_from_file_location("figure1_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    # dataclasses resolve the module's annotations through sys.modules while the class is built
    monkeypatch.setitem(sys.modules, spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def test_figure1_smoke_writes_png_and_svg(tmp_path, capsys, monkeypatch):
    mod = _load(monkeypatch)
    assert mod.main(["--smoke", "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [p["title"][:3] for p in out["panels"]] == ["(a)", "(b)", "(c)", "(d)"]
    for name in ("figure1.png", "figure1.svg"):
        assert (tmp_path / name).stat().st_size > 1000
    assert all(np.isfinite(p["jsd"]) for p in out["panels"])
