"""Batched multi-seed training (gantheory.oned.train.train_1d): seed s of a batched run gives the same
numbers as the single run with seed s, for both generators, both update orders and all three
generator losses; plus a negative control showing the comparison can fail."""

import numpy as np
import pytest
import torch

from gantheory.gan.losses import GENERATOR_LOSSES
from gantheory.oned.train import Train1DConfig, train_1d

SEEDS = [3, 7, 11]
# Seed s of the batched run is the single run with seed s, bit for bit: every seed has its own
# parameters, noise streams and optimiser state, and the batched kernels (bmm, elementwise ops,
# per-seed reductions) do the same float64 operations in the same order for each seed. So the
# comparison is exact equality (NaN equal to NaN), not a tolerance.
# A short run that still exercises everything: D pretraining, k > 1, records, Adam, lr decay.
BASE = Train1DConfig(steps=24, batch=16, d_hidden=8, g_hidden=8, d_pretrain=3, record_every=6,
                     lr_final_ratio=0.5)


def _state(run, s_index):
    g = {k: v[s_index].detach().numpy() for k, v in run.G.state_dict().items()}
    d = {k: v[s_index].detach().numpy() for k, v in run.D.state_dict().items()}
    return g, d


def _assert_same(a, b):
    np.testing.assert_array_equal(a, b, strict=True)  # bitwise; NaN == NaN


@pytest.mark.parametrize("loss", GENERATOR_LOSSES)
@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
@pytest.mark.parametrize("generator", ["affine", "mlp"])
def test_batched_seed_equals_single_run(generator, update, loss):
    cfg = Train1DConfig(**{**BASE.__dict__, "generator": generator, "update": update,
                           "loss": loss, "k": 2 if update == "alternating" else 1})
    batched = train_1d(cfg, SEEDS)
    for i, s in enumerate(SEEDS):
        single = train_1d(cfg, [s])
        (gb, db), (gs, ds) = _state(batched, i), _state(single, 0)
        for key in gs:
            _assert_same(gb[key], gs[key])
        for key in ds:
            _assert_same(db[key], ds[key])
        for key in single.stats:
            _assert_same(batched.stats[key][:, i], single.stats[key][:, 0])
        if generator == "affine":
            _assert_same(batched.jsd[:, i], single.jsd[:, 0])
    assert np.array_equal(batched.steps, single.steps)


def test_on_record_extras_are_per_seed():
    def mean_of_g(G, D):
        z = torch.linspace(-1, 1, 5, dtype=torch.float64).expand(len(SEEDS), 5)[..., None]
        return {"g_mean": G(z).mean(dim=(1, 2)).numpy()}

    cfg = Train1DConfig(**{**BASE.__dict__, "generator": "mlp"})
    batched = train_1d(cfg, SEEDS, on_record=lambda G, D: mean_of_g(G, D))
    assert batched.extra["g_mean"].shape == (len(batched.steps), len(SEEDS))
    z1 = torch.linspace(-1, 1, 5, dtype=torch.float64)[None, :, None]
    single = train_1d(cfg, [SEEDS[1]],
                      on_record=lambda G, D: {"g_mean": G(z1).mean(dim=(1, 2)).numpy()})
    _assert_same(batched.extra["g_mean"][:, 1], single.extra["g_mean"][:, 0])


def test_different_seeds_differ_negative_control():
    """The comparison above is not vacuous: another seed's run is far from seed 7's."""
    cfg = Train1DConfig(**{**BASE.__dict__, "generator": "mlp"})
    batched = train_1d(cfg, SEEDS)
    single = train_1d(cfg, [7])
    g_other, _ = _state(batched, 0)  # seed 3
    g_same, _ = _state(batched, 1)  # seed 7
    g_single, _ = _state(single, 0)
    key = next(iter(g_single))
    assert np.max(np.abs(g_other[key] - g_single[key])) > 1e-3
    _assert_same(g_same[key], g_single[key])
