"""Named random streams: one ``torch.Generator`` per (seed, purpose) pair.

Every random draw of the toolkit (initial weights, noise, data, dropout masks, evaluation noise)
comes from a generator made here, so two purposes never share a stream and a run's randomness is
a function of its seed alone.
"""

from __future__ import annotations

import numpy as np
import torch


def seed_generator(seed: int, stream: str) -> torch.Generator:
    """A torch generator for one (seed, purpose) pair, independent of every other pair."""
    words = [int(seed)] + [ord(ch) for ch in stream]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
