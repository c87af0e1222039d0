"""experiments/figure1.py in its smoke mode: the whole path runs and writes both figures."""

import json

import numpy as np

from tests.experiments.scripts import load_script


def test_figure1_smoke_writes_png_and_svg(tmp_path, capsys, monkeypatch):
    mod = load_script("figure1", monkeypatch)
    assert mod.main(["--smoke", "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [p["title"][:3] for p in out["panels"]] == ["(a)", "(b)", "(c)", "(d)"]
    for name in ("figure1.png", "figure1.svg"):
        assert (tmp_path / name).stat().st_size > 1000
    assert all(np.isfinite(p["jsd"]) for p in out["panels"])
