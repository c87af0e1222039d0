"""mpmath references shared by the oracle's tests, at the precision the calling test sets
(independent of scipy)."""

import mpmath


def mp_logpdf(d, x):
    """log of a Normal or a mixture of Normals' density at ``x``, in mpmath (log-sum-exp)."""
    terms = [mpmath.log(w) - (x - c.mu) ** 2 / (2 * mpmath.mpf(c.sigma) ** 2)
             - mpmath.log(c.sigma) - mpmath.log(2 * mpmath.pi) / 2
             for w, c in zip(d.weights, d.components())]
    top = max(terms)
    return top + mpmath.log(sum(mpmath.exp(t - top) for t in terms))
