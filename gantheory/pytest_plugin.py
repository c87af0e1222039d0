"""pytest plugin: gantheory's checks and strategies as fixtures.

Registered through the ``pytest11`` entry point when gantheory is installed (or load it by hand
with ``pytest -p gantheory.pytest_plugin``). Fixtures:

* ``gan_checks``: the :mod:`gantheory.testing` module (``gan_checks.assert_discriminator_loss``,
  ``assert_generator_loss``, ``assert_stable``, and the ``check_*`` forms returning results).
* ``gan_strategies``: :mod:`gantheory.strategies` (needs ``gantheory[testing]``).
* ``density_pair``: a seeded (p_data, p_g) pair on which the checks are accurate.

Importing the plugin imports nothing heavy: test sessions that use none of it pay nothing.
"""

import pytest


@pytest.fixture
def gan_checks():
    """The gantheory.testing checks of a user's GAN losses."""
    from gantheory import testing

    return testing


@pytest.fixture
def gan_strategies():
    """gantheory.strategies (hypothesis strategies of densities and discriminators)."""
    from gantheory import strategies

    return strategies


@pytest.fixture
def density_pair():
    """(p_data, p_g) = (N(0, 1), N(1.5, 0.7^2)): overlapping, unequal widths."""
    from gantheory.densities import parse_density
    from gantheory.testing import DEFAULT_PAIR

    return tuple(parse_density(s) for s in DEFAULT_PAIR)
