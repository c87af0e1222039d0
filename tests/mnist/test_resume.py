"""A training process killed with SIGKILL three times, at random points, and resumed each time
ends bitwise equal (weights, velocities, generator states, logged losses) to an uninterrupted run.

The command-line trainer runs in a subprocess on the tiny synthetic config (60 steps, a
checkpoint every 3), slowed by a test callback (tests/mnist/faults.py) to ~20 ms a step so the kills land mid-run; each kill
comes a random 0-100 ms after a new checkpoint appears, so it may hit a step, a metrics write or a
checkpoint write. The reference run is in process (same code, one thread, same seed). Negative
control: the same killed run, resumed with a perturbed noise generator, must not match.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

from gantheory.mnist import checkpoint
from gantheory.mnist.rundir import train
from tests.mnist.faults import PerturbRng
from tests.mnist.tiny import cli_args, tiny

REPO = Path(__file__).resolve().parents[2]
KILLS = 3
START_TIMEOUT_S = 120  # a loaded 2-core machine can take ~10 s just to import torch


def _newest_step(run_dir: Path) -> int:
    paths = checkpoint.list_checkpoints(run_dir)
    return int(paths[-1].name[5:14]) if paths else -1


def _losses(run_dir: Path) -> list:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    keys = ("kind", "step", "epoch", "lr", "momentum", "d_loss", "g_loss", "d_real", "d_fake")
    return [tuple(json.loads(line).get(k) for k in keys) for line in lines]


def test_three_sigkills_and_resumes_end_bitwise_equal_to_an_uninterrupted_run(tmp_path,
                                                                             monkeypatch):
    changes = dict(epochs=6, ckpt_every_steps=3)
    train(tiny(**changes), tmp_path / "ref")
    ref, _ = checkpoint.load_latest(tmp_path / "ref")

    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tests.mnist.faults", "sleep=0.02", "--", *cli_args(**changes),
           "--out", str(run)]
    env = dict(os.environ)
    rng, resumed_from = random.Random(20140610), []
    for kill in range(KILLS):
        before = _newest_step(run)
        with open(tmp_path / f"stderr-{kill}.txt", "w") as err:
            proc = subprocess.Popen(cmd + (["--resume"] if kill else []), cwd=REPO, env=env,
                                    stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + START_TIMEOUT_S
            while _newest_step(run) <= before:
                assert proc.poll() is None, (tmp_path / f"stderr-{kill}.txt").read_text()
                assert time.monotonic() < deadline, "no new checkpoint"
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.1))
            proc.kill()  # SIGKILL
            proc.wait()
        resumed_from.append(_newest_step(run))
    assert resumed_from[-1] < 60, "the run finished before the last kill"
    shutil.copytree(run, tmp_path / "control")

    done = subprocess.run(cmd + ["--resume"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=START_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    final, _ = checkpoint.load_latest(run)
    assert final["step"] == ref["step"] == 60
    for net in ("G", "D"):
        for name, value in ref[net].items():
            assert torch.equal(final[net][name], value), f"{net}.{name}"
    for opt in ("opt_g", "opt_d"):
        for a, b in zip(final[opt]["velocity"], ref[opt]["velocity"]):
            assert torch.equal(a, b)
    for name, state in ref["rng"].items():
        assert torch.equal(final["rng"][name], state), name
    assert _losses(run) == _losses(tmp_path / "ref")  # the log reads as one run
    sessions = json.loads((run / "run.json").read_text())["sessions"]
    assert len(sessions) == KILLS + 1

    # negative control: the same killed run, resumed with its noise generator moved one draw on
    train(None, tmp_path / "control", resume=True, callbacks=[PerturbRng()])
    control, _ = checkpoint.load_latest(tmp_path / "control")
    assert control["step"] == 60
    assert any(not torch.equal(control[n][k], v) for n in ("G", "D") for k, v in ref[n].items())
