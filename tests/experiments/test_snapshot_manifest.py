"""experiments/snapshot_manifest.py: which session trained each scored snapshot, and its hash."""

import hashlib
import json
from datetime import datetime, timezone

import pytest

from tests.experiments.scripts import load_script


@pytest.fixture
def manifest(monkeypatch):
    return load_script("snapshot_manifest", monkeypatch)


def _at(hour: float) -> str:
    return datetime.fromtimestamp(T0 + 3600 * hour, timezone.utc).isoformat()


T0 = 1_800_000_000.0
SESSIONS = [{"resumed_from_step": None, "device": "cuda", "started": _at(0)},
            {"resumed_from_step": 6, "device": "cpu", "started": _at(1),
             "versions": {"torch": "2.13.0+cpu"}, "git": {"commit": "c" * 40, "dirty": False},
             "torch_threads": 2},
            {"resumed_from_step": 12, "device": "cpu", "started": _at(2)}]


def test_a_step_belongs_to_the_last_session_that_resumed_before_it(manifest):
    # a session resumed from step r trains r+1 on: step 6 is the first session's last
    assert [manifest.session_of(s, SESSIONS) for s in (1, 6, 7, 12, 13)] == [0, 0, 1, 1, 2]
    # a later session resumed from an earlier checkpoint retrained the steps after it
    rerun = SESSIONS + [{"resumed_from_step": 6}]
    assert manifest.session_of(13, rerun) == 3


def _run(tmp_path):
    run = tmp_path / "run"
    (run / "snapshots").mkdir(parents=True)
    evals = [{"epoch": e, "step": 6 * e, "mean_ll": 100.0 + e, "stderr": 2.0, "sigma": 0.17,
              "time": T0 + 3600 * (e - 0.5)} for e in (1, 2, 3)]  # each in its own session
    (run / "parzen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evals))
    (run / "run.json").write_text(json.dumps({"sessions": SESSIONS}))
    blobs = {1: b"weights of epoch 1", 3: b"weights of epoch 3" * 1000}  # epoch 2's is gone
    for e, blob in blobs.items():
        (run / "snapshots" / f"G-epoch-{e:04d}.pt").write_bytes(blob)
    return run, blobs


def test_rows_carry_each_snapshot_hash_and_its_session(manifest, tmp_path, capsys):
    run, blobs = _run(tmp_path)
    assert manifest.main([str(run)]) == 0
    rows = [json.loads(s) for s in (run / "snapshots.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for r in (rows[0], rows[2]):
        blob = blobs[r["epoch"]]
        assert r["sha256"] == hashlib.sha256(blob).hexdigest() and r["bytes"] == len(blob)
    assert rows[1]["sha256"] is None and rows[1]["bytes"] is None
    assert "1 scored snapshot(s) missing, epochs [2]" in capsys.readouterr().err
    assert [r["session"] for r in rows] == [0, 1, 2]  # steps 6, 12, 18
    assert rows[1]["git"]["commit"] == "c" * 40 and rows[1]["torch_threads"] == 2
    assert rows[1]["torch"] == "2.13.0+cpu" and rows[0]["torch"] is None  # not recorded then


@pytest.mark.parametrize("damage", ["run.json", "parzen.jsonl", "session"])
def test_bad_inputs_are_one_line_errors_and_write_nothing(manifest, tmp_path, capsys, damage):
    run, _ = _run(tmp_path)
    if damage == "session":
        (run / "run.json").write_text(json.dumps({"sessions": [["not", "a", "session"]]}))
    else:
        (run / damage).write_text("{truncated")
    assert manifest.main([str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("snapshot_manifest: error: ")
    assert not (run / "snapshots.jsonl").exists()


def test_a_rerun_from_an_older_checkpoint_keeps_the_rows_it_did_not_rewrite(manifest, tmp_path):
    # a fourth session resumed from step 6 retrains epochs 2-3, but long_run.py skips epochs
    # already scored: their rows and snapshots are still the second and third sessions'
    run, _ = _run(tmp_path)
    sessions = SESSIONS + [{"resumed_from_step": 6, "device": "cpu", "started": _at(3)}]
    (run / "run.json").write_text(json.dumps({"sessions": sessions}))
    with (run / "parzen.jsonl").open("a") as f:
        f.write(json.dumps({"epoch": 4, "step": 24, "mean_ll": 104.0, "stderr": 2.0,
                            "sigma": 0.17, "time": T0 + 3600 * 3.5}) + "\n")
    assert manifest.main([str(run)]) == 0
    rows = [json.loads(s) for s in (run / "snapshots.jsonl").read_text().splitlines()]
    assert [r["session"] for r in rows] == [0, 1, 2, 3]


def test_no_sessions_means_no_session_rather_than_the_first(manifest, tmp_path):
    run, _ = _run(tmp_path)
    (run / "run.json").write_text(json.dumps({}))
    assert manifest.main([str(run), "--out", str(tmp_path / "new" / "folder" / "m.jsonl")]) == 0
    rows = [json.loads(s) for s in (tmp_path / "new/folder/m.jsonl").read_text().splitlines()]
    assert {r["session"] for r in rows} == {None}


@pytest.mark.parametrize("damage", ["epoch", "snapshot is a folder", "out is a folder"])
def test_more_bad_inputs_are_one_line_errors(manifest, tmp_path, capsys, damage):
    run, _ = _run(tmp_path)
    argv = [str(run)]
    if damage == "epoch":
        (run / "parzen.jsonl").write_text(json.dumps(
            {"epoch": 2.5, "step": 15, "mean_ll": 1.0, "stderr": 1.0, "sigma": 0.2}) + "\n")
    elif damage == "snapshot is a folder":
        (run / "snapshots" / "G-epoch-0002.pt").mkdir()
    else:
        (tmp_path / "taken").mkdir()
        argv += ["--out", str(tmp_path / "taken")]
    assert manifest.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("snapshot_manifest: error: ")
    assert not (run / "snapshots.jsonl").exists()
