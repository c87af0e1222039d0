"""The test suite's strategies: the package's own (gantheory.strategies), re-exported."""

from gantheory.strategies import (  # noqa: F401
    densities, density_pairs, discriminators, logistic_discriminators, mixtures,
    net_discriminators, normals,
)
