"""`gantheory eval parzen|metrics` on a real (tiny) checkpoint, and its bad-input handling."""

import json

import pytest

from gantheory.metrics.cli import main
from gantheory.mnist.generate import load_generator, sample
from gantheory.mnist.rundir import train
from tests.mnist.tiny import tiny


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train(tiny(epochs=1), out)
    return out


def test_sampling_a_checkpoint_is_reproducible(run_dir):
    G, cfg, info = load_generator(run_dir)
    a, b = sample(G, cfg, 300, seed=1), sample(G, cfg, 300, seed=1)
    assert a.shape == (300, 784) and bool(((a >= 0) & (a <= 1)).all())
    assert a.equal(b) and not a.equal(sample(G, cfg, 300, seed=2))
    assert info["epoch"] == 1


@pytest.mark.mnist
def test_eval_parzen_prints_the_protocol_as_json(run_dir, capsys, tmp_path):
    plot = tmp_path / "sigma.png"
    code = main(["parzen", "--checkpoint", str(run_dir), "--n-samples", "200", "--n-valid", "100",
                 "--sigmas", "0.1,0.2,0.4", "--references", "--plot", str(plot), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    r = out["parzen"]
    assert {"sigma", "mean_ll", "stderr", "n_samples", "n_test", "n_valid", "sigma_curve"} <= set(r)
    assert r["n_samples"] == 200 and r["n_test"] == 10_000 and r["n_valid"] == 100
    assert r["sigma"] in (0.1, 0.2, 0.4)
    # real training images must score above uniform noise under the same protocol
    assert out["references"]["train"]["mean_ll"] > out["references"]["uniform"]["mean_ll"]
    assert plot.stat().st_size > 5_000


@pytest.mark.parametrize("args, needle", [
    (["parzen", "--checkpoint", "/nonexistent/run"], "no such run"),
    (["parzen"], "required"),
    (["parzen", "--checkpoint", "X", "--n-samples", "0"], "must be >= 1"),
    (["nonsense", "--checkpoint", "X"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_a_corrupt_checkpoint_is_refused(run_dir, tmp_path, capsys):
    ckpt = sorted(run_dir.glob("ckpt-*.pt"))[-1]
    bad = tmp_path / ckpt.name
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    assert main(["parzen", "--checkpoint", str(bad)]) == 2
    assert "checkpoint" in capsys.readouterr().err
