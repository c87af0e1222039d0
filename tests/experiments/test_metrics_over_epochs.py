"""experiments/metrics_over_epochs.py picks the snapshots to score: those not scored before and,
with ``--every N``, only epochs that are multiples of N. The scoring itself (classifier, MNIST) is
replaced by a stub that records which snapshot it was given."""

import json

import pytest
import torch

from tests.experiments.scripts import load_script


@pytest.fixture
def script(monkeypatch):
    mod = load_script("metrics_over_epochs", monkeypatch)
    G = torch.nn.Linear(1, 1)
    monkeypatch.setattr(mod, "load_generator", lambda run: (G, None, None))
    for name in ("load", "get_classifier", "real_reference"):
        monkeypatch.setattr(mod, name, lambda *a, **k: None)
    # the snapshot's weight (its epoch) travels through "sampling" into the metrics row
    monkeypatch.setattr(mod, "sample", lambda G, cfg, n, seed: G.weight.item())
    monkeypatch.setattr(mod, "mnist_metrics", lambda x, *a, **k: {
        "frechet_distance_classifier": x, "class_kl_to_data": 0.0, "classes_covered": 10,
        "nn_dist_median": 0.0})
    return mod


def _run(script, monkeypatch, run, *args):
    monkeypatch.setattr("sys.argv", ["metrics_over_epochs.py", str(run), *args])
    script.main()
    return [json.loads(s) for s in (run / "metrics_by_epoch.jsonl").read_text().splitlines()]


def _snapshots(run, epochs):
    (run / "snapshots").mkdir(parents=True, exist_ok=True)
    for e in epochs:
        torch.save({"weight": torch.tensor([[float(e)]]), "bias": torch.zeros(1)},
                   run / "snapshots" / f"G-epoch-{e:04d}.pt")


def test_every_n_scores_only_multiples_of_n_and_never_one_twice(script, monkeypatch, tmp_path):
    _snapshots(tmp_path, range(25, 401, 25))
    rows = _run(script, monkeypatch, tmp_path, "--every", "100")
    assert [r["epoch"] for r in rows] == [100, 200, 300, 400]
    assert [r["frechet_distance_classifier"] for r in rows] == [100, 200, 300, 400]
    _snapshots(tmp_path, range(425, 601, 25))
    rows = _run(script, monkeypatch, tmp_path, "--every", "100")
    assert [r["epoch"] for r in rows] == [100, 200, 300, 400, 500, 600]
    rows = _run(script, monkeypatch, tmp_path)  # the default: every snapshot not yet scored
    assert sorted(r["epoch"] for r in rows) == list(range(25, 601, 25))
    assert all(r["frechet_distance_classifier"] == r["epoch"] for r in rows)


def test_every_below_one_is_refused(script, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sys.argv", ["metrics_over_epochs.py", str(tmp_path), "--every", "0"])
    with pytest.raises(SystemExit) as exc:
        script.main()
    assert exc.value.code == 2
    assert "--every must be a positive integer, got 0" in capsys.readouterr().err
