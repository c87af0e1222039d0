"""Tests for the MNIST trainer and its command line, in process (gantheory.mnist.trainer, .run,
.train): bitwise resume with a negative control, data order across a mid-epoch resume,
divergence, the run-directory rules, one-line errors, and the --smoke run on real data."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gantheory.errors import TrainingDiverged
from gantheory.mnist import checkpoint
from gantheory.mnist.rundir import load_images, train
from gantheory.mnist.cli import main
from gantheory.mnist.trainer import Trainer, epoch_permutation
from tests.mnist.faults import IndexLog, NanAt, PerturbRng
from tests.mnist.tiny import cli_args, tiny

REPO = Path(__file__).resolve().parents[2]


def _weights(run_dir):
    state, _ = checkpoint.load_latest(run_dir)
    return state


def _assert_same_run(a, b):
    assert a["step"] == b["step"]
    for key in ("G", "D"):
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name} differs"
    for key in ("opt_g", "opt_d"):
        assert all(torch.equal(u, v) for u, v in zip(a[key]["velocity"], b[key]["velocity"]))
    assert all(torch.equal(a["rng"][k], b["rng"][k]) for k in a["rng"])


def _any_weight_differs(a, b):
    return any(not torch.equal(a[k][n], b[k][n]) for k in ("G", "D") for n in a[k])


def test_mid_epoch_resume_is_bitwise_the_uninterrupted_run(tmp_path, monkeypatch):
    cfg = tiny(epochs=3, ckpt_every_steps=7, update="alternating", k=2)  # 5 steps per epoch
    train(cfg, tmp_path / "ref")
    ref = _weights(tmp_path / "ref")
    train(tiny(epochs=1, ckpt_every_steps=7, update="alternating", k=2), tmp_path / "cut")
    train(None, tmp_path / "cut", resume=True, overrides={"epochs": 2})  # to step 10
    # drop the epoch-2 checkpoint: resume from step 7, two steps into epoch 2
    (tmp_path / "cut" / "ckpt-000000010.pt").unlink()
    assert _weights(tmp_path / "cut")["step_in_epoch"] == 2
    train(None, tmp_path / "cut", resume=True, overrides={"epochs": 3})
    _assert_same_run(ref, _weights(tmp_path / "cut"))
    # negative control: a perturbed noise generator after the restore must break the equality
    (tmp_path / "cut" / "ckpt-000000015.pt").unlink()
    train(None, tmp_path / "cut", resume=True, overrides={"epochs": 3}, callbacks=[PerturbRng()])
    assert _any_weight_differs(ref, _weights(tmp_path / "cut"))


def test_every_training_index_is_seen_once_per_epoch_across_a_resume():
    cfg = tiny(epochs=2)  # 200 images, batch 20: 10 steps per epoch
    images = load_images(cfg)
    log = IndexLog()
    first = Trainer(cfg, images, torch.device("cpu"), callbacks=[log])
    for _ in range(13):  # one epoch and 3 steps into the second
        first.train_step()
        if first.step_in_epoch == cfg.steps_per_epoch:
            first.end_epoch()
    second = Trainer(cfg, images, torch.device("cpu"), callbacks=[log])
    second.load_state_dict(dict(first.state_dict()))
    for _ in range(7):
        second.train_step()
    seen = torch.cat(log.indices)
    for epoch in range(2):
        part = seen[epoch * 200:(epoch + 1) * 200]
        assert torch.equal(part.sort().values, torch.arange(200))
        assert torch.equal(part, epoch_permutation(cfg.seed, epoch, 200))  # the same order
    assert not torch.equal(seen[:200], seen[200:])  # a fresh order each epoch


def test_a_nan_stops_the_run_and_the_last_checkpoint_stays_finite(tmp_path, monkeypatch,
                                                                   capsys):
    out = tmp_path / "run"
    rc = main([*cli_args(epochs=3, ckpt_every_steps=4), "--out", str(out)], callbacks=[NanAt(13)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "training diverged" in err[0] and "non-finite" in err[0]
    assert "ckpt-000000012.pt" in err[0]  # the last good checkpoint, named
    state = _weights(out)
    assert state["step"] == 12
    assert all(torch.isfinite(t).all() for k in ("G", "D") for t in state[k].values())


def test_divergence_is_detected_within_one_log_interval():
    cfg = tiny(epochs=1, log_every=3, lr=1e30)
    trainer = Trainer(cfg, load_images(cfg), torch.device("cpu"))
    with pytest.raises(TrainingDiverged, match="non-finite loss"):
        for _ in range(cfg.steps_per_epoch):
            trainer.train_step()
            if trainer.step % cfg.log_every == 0:
                trainer.flush()


@pytest.mark.parametrize("args, match", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--epochs", "two"], "invalid int value"),
    (["--set", "nonsense=1"], "unknown MNISTConfig option"),
    (["--set", "lr"], "--set expects KEY=VALUE"),
    (["--loss", "hinge"], "invalid choice"),
    (["--resume"], "no checkpoint in"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, match):
    rc = main([*cli_args(), "--out", str(tmp_path / "r"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and match in err[0], err


def test_run_directory_rules(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main([*cli_args(epochs=1), "--out", out]) == 0
    assert main([*cli_args(epochs=1), "--out", out]) == 2  # used directory, no --overwrite
    assert "already holds checkpoints" in capsys.readouterr().err
    assert main([*cli_args(epochs=2), "--out", out, "--resume", "--set", "lr=0.5"]) == 2
    assert "different lr" in capsys.readouterr().err  # a resume may not change the maths
    assert main([*cli_args(epochs=1), "--out", out, "--overwrite"]) == 0
    for path in checkpoint.list_checkpoints(out):
        path.write_bytes(b"not a checkpoint")
    assert main(["--out", out, "--resume", "--epochs", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "no usable checkpoint" in err[-1] and not any("Traceback" in e for e in err)


def test_corrupt_latest_checkpoint_falls_back_with_a_warning(tmp_path):
    out = tmp_path / "r"
    train(tiny(epochs=2), out)
    latest = checkpoint.list_checkpoints(out)[-1]
    latest.write_bytes(latest.read_bytes()[:-50])
    with pytest.warns(UserWarning, match="falling back to ckpt-000000010.pt"):
        summary = train(None, out, resume=True, overrides={"epochs": 3})
    assert summary["step"] == 30


def test_cli_error_has_no_traceback_in_a_real_process(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gantheory.mnist.cli", "--epochs", "0",
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "gantheory train mnist: error: epochs must be >= 1, got 0"]


def test_tf32_is_off_after_training(tmp_path):
    torch.backends.cuda.matmul.allow_tf32 = True
    train(tiny(epochs=1), tmp_path)
    assert torch.backends.cuda.matmul.allow_tf32 is False


@pytest.mark.mnist
def test_smoke_run_trains_checkpoints_resumes_and_draws_on_real_mnist(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["--smoke", "--out", str(out), "--set", "threads=1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["resumed_from_step"] == 6 and summary["step"] == 12
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "epoch"] == [6, 12]
    assert all(math.isfinite(r["d_loss"]) for r in records)
    manifest = json.loads((out / "run.json").read_text())
    assert [s["resumed_from_step"] for s in manifest["sessions"]] == [None, 6]
    assert manifest["config"]["train_images"] == 300 and "torch" in manifest["versions"]
    for name in ("figure2.png", "figure3.png", "samples/epoch-0001.png", "samples/epoch-0002.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert len(checkpoint.list_checkpoints(out)) == 2


def test_each_session_records_the_code_torch_and_threads_that_trained_it(tmp_path, monkeypatch):
    # run.json's top-level versions and git are overwritten by every session; the per-session
    # copies are what tie a checkpoint's steps to the code that computed them
    commits = iter(["a" * 40, "b" * 40])
    monkeypatch.setattr("gantheory.mnist.rundir.git_revision",
                        lambda: {"commit": next(commits), "dirty": False})
    threads = torch.get_num_threads()
    try:
        train(tiny(epochs=1, threads=1), tmp_path / "run")
        train(None, tmp_path / "run", resume=True, overrides={"epochs": 2, "threads": 2})
    finally:
        torch.set_num_threads(threads)
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    sessions = manifest["sessions"]
    assert [s["git"]["commit"] for s in sessions] == ["a" * 40, "b" * 40]
    assert [s["torch_threads"] for s in sessions] == [1, 2]
    assert all(s["versions"]["torch"] == torch.__version__ for s in sessions)
    assert manifest["git"]["commit"] == "b" * 40  # the top level: the last session's
