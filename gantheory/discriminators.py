"""Discriminators as people write them, for the theory oracle (:func:`gantheory.value`).

Say what your D returns, and hand over whatever callable you have:

    >>> import gantheory as gt, scipy.special, torch
    >>> gt.value(gt.Discriminator.from_logits(lambda x: 2 * x), p_data, p_g)    # logits
    >>> gt.value(gt.Discriminator.from_probs(scipy.special.expit), p_data, p_g)  # probabilities
    >>> gt.value(net, p_data, p_g, output="logits")                              # torch module

Accepted callables (the calling convention is found by probing, in this order):

* a **torch module**: called on a float tensor of shape (n, 1) in the module's parameter dtype,
  under ``torch.no_grad()``; the output must have n elements ((n,) or (n, 1)).
* a **numpy function**, vectorised: called on a float64 array of shape (n,), it must return n
  values (shape (n,) or (n, 1)); a function that returns one number for the whole array (a
  reduction) is rejected.
* a **torch function** on tensors: called on a float64 tensor of shape (n,), or (n, 1).
* a **scalar function** float -> float, called once per point.
* the toolkit's own objects (D*, strategies' discriminators): anything with ``logit(x)`` or
  ``logit_scalar(x)`` is taken as logits.

With logits, log D = -softplus(-l) and log(1 - D) = -softplus(l) are exact at any l. With
probabilities, log D = log(y) and log(1 - D) = log1p(-y); where y rounded to exactly 0 or 1
the true log is unknown (only bounded by log 2^-53 = -36.7), so :func:`gantheory.value` raises
:class:`DiscriminatorError` naming x if that happens on density mass that matters, and tells you
to pass logits. A probability outside [0, 1], a NaN, or a logit of NaN is an error too.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .errors import SpecError

OUTPUTS = ("logits", "probs")


class DiscriminatorError(SpecError):
    """A discriminator that cannot be evaluated, or returned values no D can take."""


def _softplus(t: float) -> float:
    """log(1 + e^t) without overflow."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def _probe_points() -> np.ndarray:
    return np.array([-1.5, 0.0, 0.5, 2.0])


class Discriminator:
    """A 1-D discriminator with a declared output: ``from_logits(f)`` or ``from_probs(f)``."""

    def __init__(self, f: Callable, output: str):
        if output not in OUTPUTS:
            raise DiscriminatorError(f"output must be one of {OUTPUTS}, got {output!r}")
        if not callable(f):
            raise DiscriminatorError(f"a discriminator must be callable, got {type(f).__name__}")
        self.f, self.output = f, output
        self._call = None  # the calling convention, found on first use

    @classmethod
    def from_logits(cls, f: Callable) -> "Discriminator":
        """D(x) = sigmoid(f(x)): ``f`` returns logits (pre-sigmoid scores)."""
        return cls(f, "logits")

    @classmethod
    def from_probs(cls, f: Callable) -> "Discriminator":
        """D(x) = f(x) in [0, 1]: ``f`` returns probabilities."""
        return cls(f, "probs")

    # ---- calling conventions ----
    def _conventions(self):
        f = self.f
        if isinstance(f, torch.nn.Module):
            params = list(f.parameters())
            dtype = params[0].dtype if params else torch.float64

            def module(x):
                with torch.no_grad():
                    return f(torch.as_tensor(x, dtype=dtype).reshape(-1, 1))
            return [("torch module on (n, 1) tensors", module)]

        def torch_fn(x):
            with torch.no_grad():
                return f(torch.as_tensor(x, dtype=torch.float64))

        def torch_col(x):
            with torch.no_grad():
                return f(torch.as_tensor(x, dtype=torch.float64).reshape(-1, 1))

        return [("numpy function on (n,) arrays", lambda x: f(np.asarray(x, dtype=np.float64))),
                ("torch function on (n,) tensors", torch_fn),
                ("torch function on (n, 1) tensors", torch_col),
                ("scalar function", lambda x: np.array([f(float(t)) for t in x]))]

    @staticmethod
    def _flat(y, n: int):
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().to(torch.float64).numpy()
        y = np.asarray(y, dtype=np.float64)
        if y.size != n:
            raise DiscriminatorError(
                f"the discriminator returned {y.size} values for {n} points (shape {y.shape}); "
                "it must return one value per point")
        return y.reshape(n)

    def _resolve(self):
        x = _probe_points()
        errors = []
        for name, call in self._conventions():
            try:
                y = self._flat(call(x), x.size)
                # a convention that answers must agree with the pointwise answers
                y1 = np.array([self._flat(call(x[i:i + 1]), 1)[0] for i in range(x.size)])
            except Exception as e:  # noqa: BLE001 - probing: try the next convention
                errors.append(f"{name}: {type(e).__name__}: {e}")
                continue
            if not np.allclose(y, y1, rtol=1e-5, atol=1e-6, equal_nan=True):
                errors.append(f"{name}: values differ between batched and one-point calls")
                continue
            self._call, self.convention = call, name
            return
        raise DiscriminatorError(
            "cannot call the discriminator as a torch module, numpy, torch or scalar function "
            "of x: " + "; ".join(e.splitlines()[0] for e in errors))

    def raw(self, x) -> np.ndarray:
        """f at the points x, as a float64 array (logits or probabilities, as declared)."""
        if self._call is None:
            self._resolve()
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = self._flat(self._call(x), x.size)
        bad = np.isnan(y) if self.output == "logits" else ~((y >= 0) & (y <= 1))
        if bad.any():
            i = int(np.argmax(bad))
            what = "logit" if self.output == "logits" else "probability"
            raise DiscriminatorError(
                f"D returned the {what} {float(y[i])!r} at x = {float(x[i])!r}; "
                + ("a logit must not be NaN" if self.output == "logits"
                   else "a probability must lie in [0, 1]"))
        return y

    def log_pair(self, x: float) -> tuple[float, float]:
        """(log D(x), log(1 - D(x))); -inf where a probability rounded to exactly 0 or 1."""
        y = float(self.raw(np.array([x]))[0])
        if self.output == "logits":
            return -_softplus(-y), -_softplus(y)
        return (math.log(y) if y > 0 else -math.inf), (math.log1p(-y) if y < 1 else -math.inf)

    def __call__(self, x):
        """D(x) as probabilities (numpy)."""
        y = self.raw(x)
        return 0.5 * (1.0 + np.tanh(0.5 * y)) if self.output == "logits" else y

    def logit(self, x):
        """The logit of D (from a probability D: exact only where it has not saturated)."""
        y = self.raw(x)
        if self.output == "logits":
            return y
        with np.errstate(divide="ignore"):
            return np.log(y) - np.log1p(-y)

    def __repr__(self) -> str:
        return f"Discriminator.from_{self.output}({self.f!r})"


def as_discriminator(d, output: str | None = None) -> Discriminator:
    """A :class:`Discriminator` from anything :func:`gantheory.value` accepts.

    ``output`` ("logits" or "probs") says what a bare callable returns. Without it, objects with
    ``logit``/``logit_scalar`` are taken as logits and other callables as probabilities (D in
    [0, 1], as Eq. 1 writes it).
    """
    if output is not None and output not in OUTPUTS:
        raise DiscriminatorError(f"output must be one of {OUTPUTS}, got {output!r}")
    if isinstance(d, Discriminator):
        if output is not None and output != d.output:
            raise DiscriminatorError(f"output={output!r} contradicts {d!r}")
        return d
    if output is None and not isinstance(d, torch.nn.Module) and (
            hasattr(d, "logit_scalar") or hasattr(d, "logit")):
        if hasattr(d, "logit_scalar"):
            return _ScalarLogits(d.logit_scalar)
        return Discriminator.from_logits(d.logit)
    if not callable(d):
        raise DiscriminatorError(f"a discriminator must be callable, got {type(d).__name__}")
    return Discriminator(d, output or "probs")


class _ScalarLogits(Discriminator):
    """The toolkit's own objects: a fast float -> logit path for quadrature."""

    def __init__(self, logit_scalar):
        super().__init__(logit_scalar, "logits")
        self._call, self.convention = (lambda x: np.array([logit_scalar(float(t)) for t in x]),
                                       "scalar logit")

    def log_pair(self, x: float) -> tuple[float, float]:
        l = float(self.f(x))
        if math.isnan(l):
            raise DiscriminatorError(f"D returned the logit nan at x = {x!r}")
        return -_softplus(-l), -_softplus(l)
