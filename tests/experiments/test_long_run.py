"""experiments/long_run.py's Parzen sink on the tiny synthetic trainer.

The real script needs MNIST for its validation and test sets; here ``load`` is replaced by small
synthetic splits so the sink runs inside ``train`` exactly as in a long run: rows at epoch 1 and
every ``every`` epochs, after that epoch's checkpoint, none twice across a resume. Each row's score
is recomputed from the snapshot it kept, with a numpy/scipy Parzen estimate written here (not the
package's), so a row scored on the wrong weights or the wrong samples fails.
"""

import json
import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from gantheory.mnist.data import MNIST, Split
from gantheory.mnist.generate import sample
from gantheory.mnist.nets import Generator
from gantheory.mnist.rundir import train
from tests.experiments.scripts import load_script
from tests.mnist.tiny import synthetic_images, tiny

N_SPLIT = 40  # validation and test images; the protocol's cost grows with them, not its verdict


def _fake_mnist(root=None):
    pixels = (synthetic_images(2 * N_SPLIT) * 255).round().to(torch.uint8)
    labels = torch.zeros(N_SPLIT, dtype=torch.int64)
    return MNIST(train=Split(pixels[:0], labels[:0]), valid=Split(pixels[:N_SPLIT], labels),
                 test=Split(pixels[N_SPLIT:], labels), source="synthetic (test)")


def _parzen_numpy(samples: np.ndarray, points: np.ndarray, sigma: float) -> np.ndarray:
    """log p(x) under an isotropic Gaussian mixture centred on ``samples``, one x per row."""
    d = samples.shape[1]
    sq = ((points[:, None, :] - samples[None, :, :]) ** 2).sum(-1)
    return (logsumexp(-sq / (2 * sigma**2), axis=1) - math.log(len(samples))
            - d / 2 * math.log(2 * math.pi * sigma**2))


@pytest.fixture
def long_run(monkeypatch):
    mod = load_script("long_run", monkeypatch)
    monkeypatch.setattr(mod, "load", _fake_mnist)
    return mod


def _rows(run):
    return [json.loads(line) for line in (run / "parzen.jsonl").read_text().splitlines()]


def test_rows_at_epoch_1_and_every_k_match_a_rescoring_of_their_snapshots(long_run, tmp_path):
    cfg = tiny(epochs=4, ckpt_every_steps=3)  # mid-epoch checkpoints too, which it must skip
    sink = long_run.ParzenEvery(2, None, torch.device("cpu"))
    train(cfg, tmp_path / "run", sinks=[sink])
    rows = _rows(tmp_path / "run")
    assert [r["epoch"] for r in rows] == [1, 2, 4]
    assert [r["step"] for r in rows] == [e * cfg.steps_per_epoch for e in (1, 2, 4)]
    data = _fake_mnist()
    test = data.test.x(torch.float64).numpy()
    previous = None
    for r in rows:
        G = Generator(cfg.z_dim, cfg.g_hidden, cfg.g_init, None, torch.Generator())
        G.load_state_dict(torch.load(tmp_path / "run" / "snapshots" / f"G-epoch-{r['epoch']:04d}.pt",
                                     weights_only=True))
        x = sample(G.eval(), cfg, 10_000, seed=0).double().numpy()
        ll = _parzen_numpy(x, test, r["sigma"])
        # float64 throughout; the two sums differ only in order: 1e-9 nats is far below any
        # change of weights or samples (a step of training moves the score by ~0.1-1 nat here)
        assert r["mean_ll"] == pytest.approx(ll.mean(), abs=1e-9)
        assert r["stderr"] == pytest.approx(ll.std() / math.sqrt(len(ll)), rel=1e-9)
        assert r["n_samples"] == 10_000 and r["n_test"] == N_SPLIT
        assert r["mean_ll"] != previous  # the snapshots differ: each row scored its own epoch
        previous = r["mean_ll"]


def test_a_resumed_run_scores_only_the_epochs_it_has_not(long_run, tmp_path):
    run = tmp_path / "run"
    train(tiny(epochs=2), run, sinks=[long_run.ParzenEvery(2, None, torch.device("cpu"))])
    first = _rows(run)
    snapshot = (run / "snapshots" / "G-epoch-0002.pt").read_bytes()
    # resume from the end of epoch 1 (as after a newest checkpoint that failed to verify), so
    # epoch 2 is trained again and its scored row and snapshot must be left as they are
    newest = max(run.glob("ckpt-*.pt"))
    assert int(newest.stem.split("-")[1]) == first[1]["step"]
    newest.unlink()
    train(None, run, resume=True, overrides={"epochs": 4},
          sinks=[long_run.ParzenEvery(2, None, torch.device("cpu"))])
    rows = _rows(run)
    assert [r["epoch"] for r in rows] == [1, 2, 4]
    assert rows[:2] == first
    assert (run / "snapshots" / "G-epoch-0002.pt").read_bytes() == snapshot


def test_noise_choice_is_refused_on_resume(long_run, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["long_run.py", "RUN", "--resume", "--z", "normal"])
    with pytest.raises(SystemExit) as exc:
        long_run.main()
    assert exc.value.code == 2
    assert "a resumed run keeps its own" in capsys.readouterr().err
