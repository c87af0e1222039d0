"""The paper's Parzen-window log-likelihood protocol (Goodfellow et al. 2014, Section 5, Table 1).

Fit an isotropic Gaussian Parzen window on samples drawn from G, choose its width ``sigma`` on
validation images, and report the mean log-likelihood of the test images with its standard error,
as ``parzen_ll.py`` in the original repository did::

    from gantheory.metrics.parzen import parzen_protocol
    result = parzen_protocol(samples, valid, test)   # arrays (n, d), pixels in [0, 1]
    print(json.dumps(result.to_dict()))

Inputs may be numpy arrays or torch tensors; everything is computed in float64 (the squared
distances lose too much to cancellation in float32, and TF32/bf16 are never involved). The
estimator is known to be poor in high dimension (Theis et al. 2016); see ``docs/evaluation.md``.
Tests: ``python -m pytest tests/test_parzen.py``; ``benchmarks/bench_parzen.py`` times it against
scikit-learn's ``KernelDensity``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import SpecError
from ..util.memory import check_fits

#: The paper's grid of window widths: ``logspace(-1, 0, 10)``, i.e. 0.1 .. 1.0.
PAPER_SIGMAS = tuple(torch.logspace(-1, 0, 10, dtype=torch.float64).tolist())
#: The widths the protocol accepts. Pixels lie in [0, 1], so squared distances between images
#: lie in [0, d] (d = 784 for MNIST), and distinct 8-bit images differ by at least (1/255)^2 in
#: squared distance. Below 1e-4 every kernel is already a point mass (exp(-769) between any two
#: distinct images underflows), while the rounding of the distances (eps * 2d, from the expansion
#: in :func:`parzen_log_likelihoods`) divided by 2 sigma^2 grows to 0.1 nats at 1e-6 and to a
#: division by zero at 1e-300; at 1e-4 it is under 2e-5 nats. Above 1e4 the window is flat over
#: the whole cube (exponents within d / (2 sigma^2) = 4e-6 of 0). No width outside the range
#: shows anything one inside it does not.
SIGMA_RANGE = (1e-4, 1e4)
#: Rows of ``x`` handled per block; a block of distances is ``chunk * n_samples`` float64 values.
DEFAULT_CHUNK = 1024


#: MNIST's sizes, the defaults of :func:`check_request`.
MNIST_D, MNIST_TRAIN, MNIST_HELD_OUT = 784, 50_000, 20_000


def protocol_bytes(n_samples: int, *, d: int = MNIST_D, n_points: int = MNIST_HELD_OUT,
                   chunk: int = DEFAULT_CHUNK, references: bool = False,
                   n_train: int = MNIST_TRAIN) -> int:
    """An upper estimate of the memory the protocol takes for ``n_samples`` samples of G.

    G's float32 samples and their float64 copy, the held-out images in float64, two blocks of
    ``chunk x n_samples`` float64 distances; with ``references``, the training images in float64
    and two more sample sets of ``min(n_samples, n_train)`` rows.
    """
    n = int(n_samples)
    need = n * d * (4 + 8) + n_points * d * 8 + 2 * min(chunk, n_points) * n * 8
    if references:
        m = min(n, n_train)
        need += n_train * d * 8 + 2 * m * d * 8 + 2 * min(chunk, n_points) * m * 8
    return need


def check_request(n_samples: int, *, n_valid: int = 1000, sigmas: Any = None,
                  references: bool = False, n_train: int = MNIST_TRAIN, d: int = MNIST_D) -> None:
    """Every check of a Parzen evaluation that needs no data: call it before any work.

    ``n_samples`` and ``n_valid`` >= 1, ``sigmas`` in :data:`SIGMA_RANGE`, and the memory of
    :func:`protocol_bytes` within what the machine has (:func:`gantheory.util.memory.check_fits`).
    Raises :class:`SpecError` or :class:`~gantheory.errors.ConfigError`, one line each.
    """
    for name, v in (("--n-samples", n_samples), ("--n-valid", n_valid)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise SpecError(f"{name} must be an integer >= 1, got {v!r}")
    if sigmas is not None:
        _as_sigmas("--sigmas", sigmas)
    check_fits(protocol_bytes(n_samples, d=d, references=references, n_train=n_train),
               "--n-samples", n_samples)


@dataclasses.dataclass(frozen=True)
class ParzenResult:
    """The protocol's outcome; ``to_dict()`` gives the stable JSON keys."""

    sigma: float  # the width chosen on the validation images
    mean_ll: float  # mean log-likelihood of the test images (nats)
    stderr: float  # std / sqrt(n_test), population std as in parzen_ll.py
    n_samples: int
    n_test: int
    n_valid: int
    sigma_curve: list[dict[str, float]]  # [{"sigma": s, "valid_mean_ll": m}, ...], grid order

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _as_points(name: str, a: Any, device: torch.device | str | None = None) -> torch.Tensor:
    t = a.detach() if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    t = t.to(device=device if device is not None else t.device, dtype=torch.float64)
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
        raise SpecError(f"{name} must be a non-empty 2-D array (n, d), got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise SpecError(f"{name} contains non-finite values (NaN or inf)")
    return t


def _as_sigmas(name: str, sigmas: Any) -> list[float]:
    s = np.asarray(sigmas.detach().cpu() if isinstance(sigmas, torch.Tensor) else sigmas, float)
    s = s.reshape(-1)
    if s.size == 0 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise SpecError(f"{name} must be finite and > 0 (and not empty), got {s.tolist()}")
    lo, hi = SIGMA_RANGE
    outside = [float(v) for v in s if not lo <= v <= hi]
    if outside:
        raise SpecError(f"{name} {outside[0]:g} is outside the supported range [{lo:g}, {hi:g}] "
                        f"for pixels in [0, 1]")
    return s.tolist()


def _check_dims(samples: torch.Tensor, **others: torch.Tensor) -> None:
    for name, t in others.items():
        if t.shape[1] != samples.shape[1]:
            raise SpecError(f"{name} has d={t.shape[1]} but samples have d={samples.shape[1]}")


def parzen_log_likelihoods(
    samples: Any, x: Any, sigmas: Sequence[float] | Any, *, chunk: int = DEFAULT_CHUNK
) -> torch.Tensor:
    r"""Log-likelihoods of ``x`` under Parzen windows of several widths on ``samples``.

    For samples :math:`s_1 .. s_m \in \mathbb{R}^d` and each width :math:`\sigma`,

    .. math::

        \log p_\sigma(x) = \log \frac{1}{m} \sum_{i=1}^m
            \exp\left(-\frac{\lVert x - s_i \rVert^2}{2\sigma^2}\right)
            - d \log\left(\sigma \sqrt{2\pi}\right)

    (Goodfellow et al. 2014, Section 5; Breuleux et al. 2011). The squared distances are computed
    once per block of ``chunk`` rows of ``x`` as :math:`\lVert x\rVert^2 - 2 x\cdot s + \lVert s
    \rVert^2` in float64, clamped at 0, and reused for every width.

    Parameters
    ----------
    samples : array or Tensor, shape (m, d)
    x : array or Tensor, shape (n, d)
    sigmas : sequence of float in :data:`SIGMA_RANGE`, length k
    chunk : int, rows of ``x`` per block (changes memory, not the result)

    Returns
    -------
    Tensor, float64, shape (k, n), on the device of ``samples``.
    """
    s = _as_points("samples", samples)
    xs = _as_points("x", x, s.device)
    _check_dims(s, x=xs)
    widths = _as_sigmas("sigmas", sigmas)
    if int(chunk) < 1:
        raise SpecError(f"chunk must be a positive integer, got {chunk}")
    m, d = s.shape
    s_sq = (s * s).sum(dim=1)
    out = torch.empty(len(widths), xs.shape[0], dtype=torch.float64, device=s.device)
    for lo in range(0, xs.shape[0], int(chunk)):
        block = xs[lo : lo + int(chunk)]
        # ||x - s||^2 = ||x||^2 - 2 x.s + ||s||^2, clamped: cancellation can make it slightly < 0
        dist = torch.addmm(s_sq, block, s.T, alpha=-2.0)
        dist.add_((block * block).sum(dim=1, keepdim=True)).clamp_(min=0.0)
        for k, sigma in enumerate(widths):
            out[k, lo : lo + block.shape[0]] = torch.logsumexp(dist * (-0.5 / sigma**2), dim=1)
    width = torch.tensor(widths, dtype=torch.float64, device=s.device)
    log_norm = math.log(m) + d * torch.log(width * math.sqrt(2 * math.pi))
    return out - log_norm.unsqueeze(1)


def parzen_log_likelihood(
    samples: Any, x: Any, sigma: float, *, chunk: int = DEFAULT_CHUNK
) -> torch.Tensor:
    """Per-point log-likelihoods, float64 of shape (n,), for one width.

    See :func:`parzen_log_likelihoods` for the formula and the parameters.
    """
    _as_sigmas("sigma", [sigma])
    return parzen_log_likelihoods(samples, x, [sigma], chunk=chunk)[0]


def parzen_protocol(
    samples: Any,
    valid: Any,
    test: Any,
    *,
    sigmas: Sequence[float] | Any = None,
    n_valid: int = 1000,
    device: torch.device | str | None = None,
) -> ParzenResult:
    """The paper's evaluation: pick sigma on ``valid[:n_valid]``, score ``test`` with it.

    ``sigmas`` defaults to the paper's ``torch.logspace(-1, 0, 10)``; the first maximiser of the
    validation mean wins. The standard error is ``std(ll) / sqrt(n_test)`` with the population std,
    as in the original ``parzen_ll.py``. ``device`` defaults to the device of ``samples``.
    """
    s = _as_points("samples", samples, device)
    v = _as_points("valid", valid, s.device)
    t = _as_points("test", test, s.device)
    _check_dims(s, valid=v, test=t)
    widths = _as_sigmas("sigmas", PAPER_SIGMAS if sigmas is None else sigmas)
    if int(n_valid) < 1:
        raise SpecError(f"n_valid must be a positive integer, got {n_valid}")
    v = v[: int(n_valid)]
    valid_means = parzen_log_likelihoods(s, v, widths).mean(dim=1).tolist()
    best = int(np.argmax(valid_means))
    ll = parzen_log_likelihood(s, t, widths[best])
    return ParzenResult(
        sigma=widths[best],
        mean_ll=float(ll.mean()),
        stderr=float(ll.std(unbiased=False)) / math.sqrt(ll.numel()),
        n_samples=s.shape[0],
        n_test=t.shape[0],
        n_valid=v.shape[0],
        sigma_curve=[{"sigma": w, "valid_mean_ll": mv} for w, mv in zip(widths, valid_means)],
    )


def reference_bounds(
    train: Any,
    valid: Any,
    test: Any,
    n_samples: int = 10000,
    generator: torch.Generator | None = None,
    **protocol_kwargs: Any,
) -> dict[str, ParzenResult]:
    """Sanity figures for the protocol: ``{"train": high reference, "uniform": low reference}``.

    ``"train"`` uses ``n_samples`` training images drawn without replacement as the samples (a
    generator that memorised the data); ``"uniform"`` uses ``n_samples`` points of uniform noise
    on ``[0, 1]^d``. A trained G should land between them, but neither is a true bound: a model
    can outscore the data itself (Theis et al. 2016). ``generator`` defaults to seed 0;
    ``protocol_kwargs`` (``sigmas``, ``n_valid``, ``device``) go to :func:`parzen_protocol`.
    """
    tr = _as_points("train", train, protocol_kwargs.get("device"))
    if not 1 <= int(n_samples) <= tr.shape[0]:
        raise SpecError(f"n_samples must be in [1, {tr.shape[0]}] (rows of train), got {n_samples}")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    pick = torch.randperm(tr.shape[0], generator=gen)[: int(n_samples)]
    noise = torch.rand(int(n_samples), tr.shape[1], generator=gen, dtype=torch.float64)
    return {
        "train": parzen_protocol(tr[pick.to(tr.device)], valid, test, **protocol_kwargs),
        "uniform": parzen_protocol(noise.to(tr.device), valid, test, **protocol_kwargs),
    }
