"""MNIST-native metrics of a generator's samples, in the feature space of the toolkit's classifier.

For samples ``(n, 784)`` in [0, 1] (10,000 is the intended size, as for the Parzen protocol)::

    from gantheory.mnist import load
    from gantheory.metrics.classifier import get_classifier
    from gantheory.metrics.mnist_metrics import mnist_metrics, real_reference, sanity_references
    data = load(); clf = get_classifier(data)
    ref = real_reference(data, clf)                    # the real-data side, reusable across calls
    print(json.dumps(mnist_metrics(samples, data, clf, reference=ref)))
    sanity_references(data, clf, reference=ref)       # {"valid": ..., "uniform": ...}

The keys (``METRIC_KEYS``) are documented in ``docs/evaluation.md``, "MNIST-native metrics": the
Fréchet distance between Gaussians fitted to the classifier's features of the samples and of the
training images, its real-vs-real floor (test vs train), the histogram of predicted classes with
its KL divergence to the training labels' frequencies and the number of classes covered, and the
distance of each sample to its nearest training image, beside the test images' own distances.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from ..errors import SpecError
from ..util.memory import check_fits
from .classifier import N_CLASSES, SIDE, Classifier, as_images

#: A class is "covered" when at least this fraction of the samples is predicted to be in it
#: (a tenth of its share under the data's near-uniform class frequencies).
COVERAGE_FRACTION = 0.01
#: Sample rows per block in :func:`nearest_train_distances`: a block holds ``chunk * n_train``
#: float64 distances (128 x 50,000 -> 51 MB).
NN_CHUNK = 128
METRIC_KEYS = ("frechet_distance_classifier", "fd_floor_train_vs_test", "class_hist",
               "class_kl_to_data", "classes_covered", "nn_dist_mean", "nn_dist_median",
               "nn_dist_min", "nn_dist_test_reference_median", "n_samples", "classifier_sha256")


def _features(name: str, f: Any) -> np.ndarray:
    a = np.asarray(f.detach().cpu() if isinstance(f, torch.Tensor) else f, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1 or not np.all(np.isfinite(a)):
        raise SpecError(f"{name} must be a finite (n, k) array with n >= 2, got shape {a.shape}")
    return a


def gaussian_stats(feat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(k,)`` and unbiased covariance ``(k, k)`` of the rows of ``feat``, in float64."""
    a = _features("features", feat)
    return a.mean(axis=0), np.atleast_2d(np.cov(a, rowvar=False))


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((c + c.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_from_stats(mu1: Any, cov1: Any, mu2: Any, cov2: Any) -> float:
    r"""Fréchet (squared 2-Wasserstein) distance between two Gaussians :math:`N(\mu_i, C_i)`.

    .. math::

        d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{tr} C_1 + \operatorname{tr} C_2
              - 2 \operatorname{tr} \left(C_1^{1/2} C_2 C_1^{1/2}\right)^{1/2}

    (Dowson and Landau 1982; Heusel et al. 2017 use it as FID with ``tr (C_1 C_2)^{1/2}``, equal
    because :math:`C_1 C_2` is similar to the symmetric :math:`C_1^{1/2} C_2 C_1^{1/2}`). Taking
    symmetric eigendecompositions instead of ``scipy.linalg.sqrtm(C1 @ C2)`` keeps every
    intermediate real, also for singular covariances (dead ReLU features); the tests compare the
    two.
    Rounding can leave a tiny negative eigenvalue or total: both are clamped at 0.
    """
    mu1, mu2 = np.asarray(mu1, np.float64).ravel(), np.asarray(mu2, np.float64).ravel()
    c1, c2 = (np.atleast_2d(np.asarray(c, np.float64)) for c in (cov1, cov2))
    k = mu1.shape[0]
    if mu2.shape != (k,) or c1.shape != (k, k) or c2.shape != (k, k):
        raise SpecError(f"shapes disagree: mu {mu1.shape}, {mu2.shape}; cov {c1.shape}, {c2.shape}")
    s1 = _psd_sqrt(c1)
    m = s1 @ c2 @ s1
    tr_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum())
    d2 = float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * tr_sqrt)
    return max(d2, 0.0)


def frechet_distance(feat_a: Any, feat_b: Any) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``(n_a, k)`` and ``(n_b, k)``."""
    return frechet_distance_from_stats(*gaussian_stats(feat_a), *gaussian_stats(feat_b))


def class_histogram(pred: Any, n_classes: int = N_CLASSES) -> np.ndarray:
    """Fraction of ``pred`` (integer labels in ``0 .. n_classes - 1``) in each class, float64."""
    p = np.asarray(pred).ravel()
    if p.size == 0 or p.dtype.kind not in "iu" or p.min() < 0 or p.max() >= n_classes:
        raise SpecError(f"pred must be a non-empty array of integers in [0, {n_classes})")
    return np.bincount(p, minlength=n_classes) / p.size


def kl_to_data_classes(hist: Any, data_hist: Any) -> float:
    r""":math:`\mathrm{KL}(p_g \| p_{data}) = \sum_c h_c \log(h_c / q_c)` over classes, in nats.

    ``hist`` is the samples' class histogram, ``data_hist`` the data's; classes with ``h_c = 0``
    add 0. All samples in one class ``c`` give ``-log q_c`` (about log 10 = 2.30 on MNIST).
    """
    h, q = np.asarray(hist, np.float64).ravel(), np.asarray(data_hist, np.float64).ravel()
    if h.shape != q.shape or np.any(h < 0) or np.any(q < 0) or h.sum() <= 0 or q.sum() <= 0:
        raise SpecError(f"histograms must be non-negative, not all 0 and of one length, "
                        f"got shapes {h.shape}, {q.shape}")
    h, q = h / h.sum(), q / q.sum()
    on = h > 0
    return float(np.sum(h[on] * np.log(h[on] / q[on]))) if np.all(q[on] > 0) else float("inf")


def _precision(a: Any) -> torch.dtype:
    """The floating dtype of ``a`` (float64 for integers, e.g. uint8 pixels)."""
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a)[:0])
    return t.dtype if t.is_floating_point() else torch.float64


def nearest_train_distances(
    samples: Any, train_x: Any, *, chunk: int = NN_CHUNK, return_index: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Euclidean distance (pixels in [0, 1]) from each sample to its nearest training image.

    The nearest image is found with :math:`\lVert x\rVert^2 - 2 x\cdot y + \lVert y\rVert^2`
    in float64 per block of ``chunk`` samples; its distance is then recomputed from the explicit
    difference. The training images are first rounded to the samples' precision (float32 samples:
    ``float32(v / 255)``), so a copy of a training image is at distance exactly 0 rather than
    ~1e-7. Returns float64 ``(n,)`` (and the int64 indices of the nearest images when
    ``return_index``).
    """
    prec = _precision(samples)
    s, t = as_images(samples, prec).double(), as_images(train_x, prec).double()
    if int(chunk) < 1:
        raise SpecError(f"chunk must be a positive integer, got {chunk}")
    t_sq = (t * t).sum(dim=1)
    idx = torch.empty(s.shape[0], dtype=torch.int64)
    for lo in range(0, s.shape[0], int(chunk)):
        block = s[lo:lo + int(chunk)]
        d2 = torch.addmm(t_sq, block, t.T, alpha=-2.0)  # + ||x||^2 is constant in each row
        idx[lo:lo + block.shape[0]] = d2.argmin(dim=1)
    dist = (s - t[idx]).pow_(2).sum(dim=1).sqrt_().numpy()
    return (dist, idx.numpy()) if return_index else dist


def check_request(n_samples: int, *, n_train: int = 50_000, hidden: int = 128) -> None:
    """Every check of a metrics evaluation that needs no data or classifier: call it first.

    The Fréchet distance fits a covariance, so ``n_samples`` must be >= 2; the samples, their
    features and the nearest-neighbour blocks must fit in memory.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 2:
        raise SpecError(f"--n-samples must be an integer >= 2 (the Fréchet distance fits a "
                        f"covariance to the samples' features), got {n_samples!r}")
    n = int(n_samples)
    need = n * SIDE * SIDE * (4 + 8) * 2 + n * hidden * 8 * 2 + 2 * NN_CHUNK * n_train * 8
    check_fits(need, "--n-samples", n_samples)


@dataclasses.dataclass(frozen=True, eq=False)
class RealReference:
    """The real-data side of the metrics, computed once per (data, classifier)."""

    train_mu: np.ndarray  # mean of the training images' features
    train_cov: np.ndarray  # their covariance
    fd_floor: float  # Fréchet distance, test features vs train features
    data_hist: np.ndarray  # class frequencies of the training labels
    test_nn_median: float  # median distance of a test image to its nearest training image
    classifier_sha256: str


def real_reference(data: Any, classifier: Classifier) -> RealReference:
    """Feature statistics of ``data.train``, the test-vs-train floor, the test images' NN median."""
    train_mu, train_cov = gaussian_stats(classifier.features(data.train.x_u8))
    test_stats = gaussian_stats(classifier.features(data.test.x_u8))
    return RealReference(
        train_mu=train_mu, train_cov=train_cov,
        fd_floor=frechet_distance_from_stats(*test_stats, train_mu, train_cov),
        data_hist=class_histogram(data.train.y.numpy()),
        test_nn_median=float(np.median(nearest_train_distances(data.test.x_u8, data.train.x_u8))),
        classifier_sha256=classifier.digest)


def mnist_metrics(samples: Any, data: Any, classifier: Classifier, *,
                  reference: RealReference | None = None) -> dict[str, Any]:
    """The MNIST-native metrics of ``samples`` ``(n, 784)`` in [0, 1]; keys ``METRIC_KEYS``.

    ``reference`` (from :func:`real_reference` for the same ``data`` and ``classifier``) saves
    recomputing the real-data side; without it, it is computed here.
    """
    ref = reference if reference is not None else real_reference(data, classifier)
    if ref.classifier_sha256 != classifier.digest:
        raise SpecError("reference was computed with another classifier; call real_reference again")
    x = as_images(samples, _precision(samples))
    feats, pred = classifier.features_and_predictions(x)
    hist = class_histogram(pred)
    nn = nearest_train_distances(x, data.train.x_u8)
    values = (
        frechet_distance_from_stats(*gaussian_stats(feats), ref.train_mu, ref.train_cov),
        ref.fd_floor, hist.tolist(), kl_to_data_classes(hist, ref.data_hist),
        int((hist >= COVERAGE_FRACTION).sum()), float(nn.mean()), float(np.median(nn)),
        float(nn.min()), ref.test_nn_median, int(x.shape[0]), classifier.digest)
    return dict(zip(METRIC_KEYS, values, strict=True))


def sanity_references(data: Any, classifier: Classifier, *, n_samples: int = 10_000,
                      seed: int = 0, reference: RealReference | None = None) -> dict[str, dict]:
    """The metrics of two stand-ins for G.

    ``"valid"``: the validation images, real digits held out of the classifier's training and of
    the reference (FD near the floor, KL near 0, 10 classes). ``"uniform"``: ``n_samples`` images
    of uniform noise on [0, 1], drawn with ``seed``. The test images are not used: against a
    reference computed from them they reproduce the floor exactly, which checks nothing.
    """
    ref = reference if reference is not None else real_reference(data, classifier)
    noise = torch.rand(int(n_samples), SIDE * SIDE, generator=torch.Generator().manual_seed(seed))
    return {"valid": mnist_metrics(data.valid.x_u8, data, classifier, reference=ref),
            "uniform": mnist_metrics(noise, data, classifier, reference=ref)}

