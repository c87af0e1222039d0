"""The paper's claims, each registered under its name (see :mod:`gantheory.claims.registry`).

Importing this package registers every claim; the CLI, the tests and the docs read
:data:`REGISTRY`.
"""

from .registry import (JSON_KEYS, REGISTRY, Claim, ClaimResult, Report,  # noqa: F401
                       Verdict, check_config, register_claim, run_claim)
from . import optimal_d  # noqa: F401  (registration order is the order of `verify all`)

__all__ = ["JSON_KEYS", "REGISTRY", "Claim", "ClaimResult", "Report", "Verdict",
           "check_config", "register_claim", "run_claim"]
from . import global_optimum, symbolic  # noqa: F401,E402
from . import saturation, convergence, k_steps  # noqa: F401,E402
from . import dirac  # noqa: F401,E402
# beyond the 2014 paper: the f-divergence family, Wasserstein, Arjovsky-Bottou, 2-D mixtures
from . import optimal_critic, variational_bound, wgan_example  # noqa: F401,E402
from . import vanishing_gradient, gradient_identity  # noqa: F401,E402
from . import mixtures2d  # noqa: F401,E402
