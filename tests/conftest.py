"""Shared pytest set-up: hypothesis profiles.

Profiles: ``dev`` (few examples, quick), ``ci`` (deterministic: derandomized, fixed examples),
``thorough`` (many examples). Choose with HYPOTHESIS_PROFILE; CI=true selects ``ci``.
Deadlines are off everywhere: torch and quadrature calls have jittery first-call costs.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=15, deadline=None)
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "dev"))

# The suite runs small tensors; on a 2-core machine a second intra-op thread costs more than it
# gains (docs/benchmarks.md), and the CLI uses 1 thread too.
import torch  # noqa: E402

torch.set_num_threads(1)
