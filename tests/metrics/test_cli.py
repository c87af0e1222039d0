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
    # refused before any data is read or sample drawn: more memory than any machine has
    (["parzen", "--checkpoint", "X", "--n-samples", "10000000000"], "needs about"),
    (["metrics", "--checkpoint", "X", "--n-samples", "10000000000"], "needs about"),
    (["metrics", "--checkpoint", "X", "--n-samples", "1"], "integer >= 2"),
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


# -- any generator's samples: --samples FILE --------------------------------------------------

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gantheory.metrics import cli as eval_cli  # noqa: E402
from gantheory.metrics.samples import load_samples  # noqa: E402
from tests.docs_keys import documented_keys  # noqa: E402

N_REF, SIGMAS, N_VALID = 400, "0.1,0.2,0.4", 200


def _json(argv, capsys) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_every_accepted_layout_of_samples_reads_as_the_same_pixels(tmp_path):
    from PIL import Image

    u8 = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    want = torch.from_numpy(u8.reshape(5, 784)).double() / 255
    np.save(tmp_path / "a.npy", u8)
    np.save(tmp_path / "b.npy", u8.reshape(5, 784).astype(np.float64) / 255)
    np.savez(tmp_path / "c.npz", samples=u8[:, None], labels=np.arange(5))
    np.save(tmp_path / "d.npy", u8[..., None])
    (tmp_path / "png").mkdir()
    for i, im in enumerate(u8):
        Image.fromarray(im, mode="L").save(tmp_path / "png" / f"{i:03d}.png")
    for name in ("a.npy", "b.npy", "c.npz", "d.npy", "png"):
        x, info = load_samples(tmp_path / name)
        assert x.shape == (5, 784) and info["n_samples"] == 5
        torch.testing.assert_close(x.double(), want, rtol=0, atol=1e-15, msg=name)


def _header_only(path, shape):
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(f, {"descr": "|u1", "fortran_order": False,
                                                 "shape": shape})


def _truncated(path):
    np.save(path, np.zeros((3, 784)))
    path.write_bytes(path.read_bytes()[:-8])


@pytest.mark.parametrize("suffix", ["npy", "npz"])
def test_samples_beyond_the_memory_are_refused_from_the_header(suffix, tmp_path, monkeypatch):
    """An honest header whose array does not fit: refused before its data are read."""
    from gantheory.errors import ConfigError
    import gantheory.util.memory as memory

    x = np.zeros((100, 784), np.uint8)  # 78 kB, and 627 kB as float64 pixels
    path = tmp_path / f"s.{suffix}"
    np.save(path, x) if suffix == "npy" else np.savez_compressed(path, samples=x)
    monkeypatch.setattr(memory, "available_bytes", lambda: 500_000)
    with pytest.raises(ConfigError, match="--samples .* needs about .* of memory"):
        load_samples(path)
    monkeypatch.setattr(memory, "available_bytes", lambda: 5_000_000)
    assert load_samples(path)[0].shape == (100, 784)


@pytest.mark.parametrize("make, needle", [
    (lambda p: np.save(p / "s.npy", np.zeros((3, 27, 27))), "expected (N, 784)"),
    (lambda p: np.save(p / "s.npy", np.full((3, 784), 1.5)), "expected [0, 1]"),
    (lambda p: np.save(p / "s.npy", -np.ones((3, 784))), "(x + 1) / 2"),
    (lambda p: np.save(p / "s.npy", np.full((3, 784), np.nan)), "NaN"),
    (lambda p: np.save(p / "s.npy", np.full((3, 784), 300)), "0..255"),
    (lambda p: np.savez(p / "s.npz", a=np.zeros((3, 784)), b=np.zeros(3)), "name the samples"),
    (lambda p: (p / "s.npy").write_bytes(b"not numpy"), "cannot read"),
    # a header promising more than the file holds: refused from the header, nothing allocated
    (lambda p: _header_only(p / "s.npy", (10**12, 784)), "holds only 0 bytes"),
    (lambda p: _truncated(p / "s.npy"), "holds only"),
    (lambda p: np.save(p / "s.npy", np.array([None] * 784, dtype=object)), "Python objects"),
    (lambda p: None, "no such file"),
])
def test_bad_samples_are_one_line_and_exit_2(make, needle, tmp_path, capsys):
    make(tmp_path)
    name = next((str(f) for f in tmp_path.iterdir()), str(tmp_path / "missing.npy"))
    assert main(["parzen", "--samples", name]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


@pytest.mark.parametrize("argv, needle", [
    (["--sigmas", "1e-300"], "outside the supported range"),
    (["--sigmas", "0.1,2e4"], "outside the supported range"),
    (["--plot", "{T}/p.xyz"], "xyz"),
    (["--plot", "{T}/a_file/p.png"], "a_file"),
])
def test_parzen_requests_are_checked_before_the_samples_are_read(argv, needle, tmp_path,
                                                                 capsys, monkeypatch):
    (tmp_path / "a_file").write_text("not a folder")
    np.save(tmp_path / "s.npy", np.zeros((3, 784)))
    monkeypatch.setattr(eval_cli, "samples_of", lambda *a: pytest.fail("work before the check"))
    argv = [a.replace("{T}", str(tmp_path)) for a in argv]
    assert main(["parzen", "--samples", str(tmp_path / "s.npy"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "s.npy"]


@pytest.fixture(scope="module")
def mnist():
    from gantheory.mnist import load

    return load()


@pytest.fixture(scope="module")
def references(mnist):
    """The protocol's two reference figures, in process, and the images behind them (drawn as
    reference_bounds draws them: permutation, then noise, from one generator seeded 0)."""
    from gantheory.metrics.parzen import reference_bounds

    gen = torch.Generator().manual_seed(0)
    pick = torch.randperm(len(mnist.train), generator=gen)[:N_REF]
    noise = torch.rand(N_REF, 784, generator=gen, dtype=torch.float64)
    refs = reference_bounds(mnist.train.x(torch.float64), mnist.valid.x(torch.float64),
                            mnist.test.x(torch.float64), n_samples=N_REF,
                            sigmas=[float(s) for s in SIGMAS.split(",")], n_valid=N_VALID)
    return refs, mnist.train.x_u8[pick].numpy(), noise.numpy()


@pytest.mark.mnist
def test_samples_of_real_images_reproduce_the_real_data_reference(references, tmp_path, capsys):
    refs, real_u8, _ = references
    np.save(tmp_path / "real.npy", real_u8.reshape(-1, 28, 28))  # uint8, N x 28 x 28
    out = _json(["parzen", "--samples", str(tmp_path / "real.npy"), "--sigmas", SIGMAS,
                 "--n-valid", str(N_VALID), "--json"], capsys)
    assert out["parzen"] == refs["train"].to_dict()
    assert out["source"] == {"kind": "samples", "path": str(tmp_path / "real.npy"),
                             "format": "npy", "dtype": "uint8", "n_samples": N_REF}


@pytest.mark.mnist
def test_samples_of_uniform_noise_reproduce_the_noise_reference(references, tmp_path, capsys):
    refs, _, noise = references
    np.save(tmp_path / "noise.npy", noise)  # float64, N x 784
    out = _json(["parzen", "--samples", str(tmp_path / "noise.npy"), "--sigmas", SIGMAS,
                 "--n-valid", str(N_VALID), "--json"], capsys)
    assert out["parzen"] == refs["uniform"].to_dict()
    assert out["parzen"]["mean_ll"] < refs["train"].mean_ll - 100  # the figures are far apart


@pytest.mark.mnist
def test_eval_parzen_json_has_exactly_the_documented_keys(run_dir, tmp_path, capsys):
    doc = documented_keys("evaluation.md", "### `gantheory eval parzen --json`")
    source_doc = documented_keys("evaluation.md", "### `source`")
    out = _json(["parzen", "--checkpoint", str(run_dir), "--n-samples", "100", "--n-valid", "50",
                 "--sigmas", SIGMAS, "--references", "--plot", str(tmp_path / "s.png"),
                 "--json"], capsys)
    assert set(out) == doc and out["schema"] == 1 and out["command"] == "eval parzen"
    assert set(out["source"]) <= source_doc and out["source"]["kind"] == "checkpoint"
    plain = _json(["parzen", "--checkpoint", str(run_dir), "--n-samples", "100", "--n-valid",
                   "50", "--sigmas", SIGMAS, "--json"], capsys)
    assert set(plain) == doc - {"references", "figure"}  # the optional keys are the documented ones


@pytest.fixture
def small_metrics(mnist, monkeypatch, tmp_path):
    """eval metrics on a tenth of MNIST with a one-epoch classifier cached in tmp_path (the real
    ones take minutes: the full search over 50,000 training images and 90 s of training)."""
    from gantheory.metrics import classifier

    def cut(split, n):
        return dataclasses.replace(split, x_u8=split.x_u8[:n], y=split.y[:n])

    small = dataclasses.replace(mnist, train=cut(mnist.train, 3000), valid=cut(mnist.valid, 500),
                                test=cut(mnist.test, 500))
    monkeypatch.setattr(eval_cli, "load_data", lambda root: small)
    monkeypatch.setattr(eval_cli, "CLASSIFIER_CONFIG", classifier.ClassifierConfig(epochs=1))
    monkeypatch.setattr(classifier, "cache_file", lambda key: tmp_path / f"clf-{key}.pt")
    return small


@pytest.mark.mnist
def test_eval_metrics_json_has_the_documented_keys_for_both_sources(small_metrics, run_dir,
                                                                     tmp_path, capsys):
    from gantheory.metrics.mnist_metrics import METRIC_KEYS

    doc = documented_keys("evaluation.md", "### `gantheory eval metrics --json`")
    out = _json(["metrics", "--checkpoint", str(run_dir), "--n-samples", "200", "--references",
                 "--json"], capsys)
    assert set(out) == doc and out["command"] == "eval metrics"
    assert tuple(out["metrics"]) == METRIC_KEYS and out["metrics"]["n_samples"] == 200
    np.save(tmp_path / "valid.npy", small_metrics.valid.x_u8.numpy())
    from_file = _json(["metrics", "--samples", str(tmp_path / "valid.npy"), "--json"], capsys)
    assert set(from_file) == doc - {"references"}
    # the same images by file and as the sanity reference give the same metrics
    assert from_file["metrics"] == out["references"]["valid"]


def test_a_malformed_thread_count_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("GANTHEORY_THREADS", "many")
    assert main(["parzen", "--samples", "/nonexistent.npy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GANTHEORY_THREADS" in err[0], err
