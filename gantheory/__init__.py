"""gantheory: the claims of Goodfellow et al. (2014), "Generative Adversarial Nets", checked by computation.

    >>> import gantheory as gt
    >>> p_data, p_g = gt.Normal(0, 1), gt.parse_density("mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))")
    >>> gt.virtual_training_criterion(p_data, p_g) + gt.LOG4 - 2 * gt.jsd(p_data, p_g)  # ~ 1e-16

Command line: ``python -m gantheory.verify --list``.
"""

__version__ = "0.1.0"

from .densities import (Density, Laplace, Logistic, Mixture, Normal, ScipyDensity, StudentT, Uniform,
                        as_density, parse_density)
from .discriminators import Discriminator, DiscriminatorError, as_discriminator
from .divergences import jsd, jsd_normal_batch, kl, kl_normal
from .fdivergences import F_DIVERGENCES, conjugate, f_divergence, optimal_critic, wasserstein1
from .errors import ConfigError, DataError, GanTheoryError, SpecError
from .theory import LOG4, OptimalDiscriminator, optimal_discriminator, value, virtual_training_criterion

__all__ = [
    "Density", "Mixture", "Normal", "parse_density", "Uniform", "Laplace", "Logistic", "StudentT",
    "ScipyDensity", "as_density", "Discriminator", "DiscriminatorError", "as_discriminator", "jsd", "jsd_normal_batch", "kl", "kl_normal",
    "ConfigError", "DataError", "GanTheoryError", "SpecError", "LOG4", "OptimalDiscriminator",
    "optimal_discriminator", "value", "virtual_training_criterion", "__version__",
    "F_DIVERGENCES", "conjugate", "f_divergence", "optimal_critic", "wasserstein1",
]
