"""A checkpoint from another kind of device (a GPU run continued on the CPU, or the reverse).

Its noise and dropout generator states cannot be loaded into this device's generators (a CUDA
Philox state is 16 bytes, a CPU mt19937 state 5,056). The trainer then derives both streams afresh
from (seed, step) and says so. Checked here on the CPU with a checkpoint whose generator states
are replaced by 16-byte Philox-shaped states, as a GPU run writes them.
"""

import copy
import warnings

import pytest
import torch

from gantheory.mnist.trainer import Trainer
from gantheory.util.rng import seed_generator
from tests.mnist.tiny import run_steps, synthetic_images, tiny

PHILOX_STATE_BYTES = 16  # torch's CUDA generator state: seed and offset, two uint64


def _images():
    return synthetic_images()


def _trained(cfg, steps, state=None):
    return run_steps(cfg, steps, state)


def _as_if_from_a_gpu(state):
    state = copy.deepcopy(state)
    for name in ("z", "dropout"):
        state["rng"][name] = torch.arange(PHILOX_STATE_BYTES, dtype=torch.uint8)
    return state


def _weights(t):
    return [p.detach().clone() for m in (t.G, t.D) for p in m.parameters()]


def test_a_gpu_checkpoint_continues_on_the_cpu_with_streams_derived_from_seed_and_step():
    cfg = tiny()
    first = _trained(cfg, 7)
    state = _as_if_from_a_gpu(first.state_dict())
    with pytest.warns(UserWarning, match="derived afresh from the seed at step 7"):
        resumed = Trainer(cfg, _images(), torch.device("cpu"))
        resumed.load_state_dict(state)
    assert resumed.rng_rederived and resumed.step == 7
    for gen, stream in ((resumed.gen_z, "z"), (resumed.gen_drop, "dropout")):
        want = torch.Generator().manual_seed(seed_generator(cfg.seed, f"{stream}/step-7")
                                             .initial_seed())
        assert torch.equal(gen.get_state(), want.get_state())
    # D's dropout layers draw from the trainer's generator object, re-seeded in place
    assert all(m.dropout_gen is resumed.gen_drop for m in resumed.D.modules()
               if hasattr(m, "dropout_gen"))
    # the continuation is reproducible: two resumes from the same checkpoint agree bitwise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = _trained(cfg, 5, state), _trained(cfg, 5, state)
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b)))


def test_a_same_device_checkpoint_keeps_its_streams_and_does_not_warn():
    # negative control for the test above: the re-derivation happens only across device types,
    # and a same-device resume is the uninterrupted run bitwise
    cfg = tiny()
    whole = _trained(cfg, 12)
    half = _trained(cfg, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = _trained(cfg, 5, copy.deepcopy(half.state_dict()))
    assert not resumed.rng_rederived
    assert all(torch.equal(x, y) for x, y in zip(_weights(whole), _weights(resumed)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = _trained(cfg, 5, _as_if_from_a_gpu(half.state_dict()))
    assert not all(torch.equal(x, y) for x, y in zip(_weights(whole), _weights(other)))


def test_the_run_manifest_records_where_the_streams_were_derived_afresh(tmp_path):
    # a run trained for one epoch, its checkpoint rewritten as a GPU would have written it (the
    # digest recomputed), then continued here: run.json's session says so, with the step
    import json

    from gantheory.mnist import checkpoint
    from gantheory.mnist.rundir import train

    out = tmp_path / "run"
    train(tiny(epochs=1), out)
    state, path = checkpoint.load_latest(out)
    path.unlink()
    checkpoint.save(out, _as_if_from_a_gpu(state))
    with pytest.warns(UserWarning, match="derived afresh"):
        train(None, out, resume=True, overrides={"epochs": 2})
    sessions = json.loads((out / "run.json").read_text())["sessions"]
    assert "rng_rederived_at_step" not in sessions[0]
    assert sessions[-1]["rng_rederived_at_step"] == state["step"] == 10
