"""Named random streams: one ``torch.Generator`` per (seed, purpose) pair.

Every random draw of the toolkit (initial weights, noise, data, dropout masks, evaluation noise)
comes from a generator made here, so two purposes never share a stream and a run's randomness is
a function of its seed alone.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError

#: The largest seed: a seed is also a JSON number in run.json and the --json results, and 2**53
#: is where JSON readers stop being exact.
MAX_SEED = 2**53 - 1


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an int in ``[0, MAX_SEED]``, else a one-line :class:`ConfigError` naming it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= int(seed) <= MAX_SEED:
        raise ConfigError(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}")
    return int(seed)


def seed_generator(seed: int, stream: str) -> torch.Generator:
    """A torch generator for one (seed, purpose) pair, independent of every other pair.

    ``seed`` must pass :func:`check_seed` (a negative one is a :class:`ConfigError`).
    """
    words = [check_seed(seed)] + [ord(ch) for ch in stream]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
