"""GPU checks of the MNIST trainer and the Parzen estimator; they run only where CUDA is present.

CI has no GPU, so here they are reported as skipped; benchmarks/gpu_session.sh runs them on a lent
GPU machine. What they pin down: an eager CUDA run resumed from a checkpoint continues bitwise (a
CUDA-graph run to float32 round-off), the CUDA-graph step computes what the eager step computes
from the same seed, and the Parzen protocol on the GPU gives the CPU's numbers.
"""

import copy

import numpy as np
import pytest
import torch

from gantheory.metrics.parzen import parzen_protocol
from gantheory.mnist.trainer import Trainer, configure_process
from tests.mnist.tiny import run_steps, synthetic_images, tiny

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# The graph replays the eager step's kernels on the same inputs and Philox offsets, so the two
# should agree to float32 round-off; cuBLAS may pick another algorithm inside a capture, which
# moves single weights by a few ulps per step. 1e-5 absolute after 20 steps on weights of size
# ~0.1 is a few hundred ulps: room for that, and far below what one missed or repeated random
# draw does (it changes weights by ~1e-2, see test_graph_noise_is_not_repeated).
GRAPH_ATOL = 1e-5


def _images():
    return synthetic_images()


def _run(cfg, steps, state=None):
    return run_steps(cfg, steps, state, device="cuda")


def _snapshot(t):
    return copy.deepcopy(t.state_dict())


def _max_weight_diff(a, b):
    return max((p - q).abs().max().item() for m, n in ((a.G, b.G), (a.D, b.D))
               for p, q in zip(m.parameters(), n.parameters()))


@pytest.mark.parametrize("graph", [False, True])
def test_cuda_resume_continues_the_run(graph):
    # Eager: bitwise. Graph: a fresh process runs its first steps eagerly (the capture's warm-up),
    # where the uninterrupted run replays the graph, so the two agree to GRAPH_ATOL, not bitwise.
    cfg = tiny(device="cuda", cuda_graph=graph)
    whole = _run(cfg, 24)
    half = _run(cfg, 12)
    resumed = _run(cfg, 12, state=_snapshot(half))
    assert _max_weight_diff(whole, resumed) <= (GRAPH_ATOL if graph else 0.0)
    assert torch.equal(whole.gen_z.get_state(), resumed.gen_z.get_state())
    assert torch.equal(whole.gen_drop.get_state(), resumed.gen_drop.get_state())


def test_graph_matches_eager():
    eager = _run(tiny(device="cuda", cuda_graph=False), 20)
    graph = _run(tiny(device="cuda", cuda_graph=True), 20)
    assert graph.graph is not None and graph.graph.graph is not None  # it did capture
    assert _max_weight_diff(eager, graph) <= GRAPH_ATOL
    assert torch.equal(eager.gen_z.get_state(), graph.gen_z.get_state())
    assert torch.equal(eager.gen_drop.get_state(), graph.gen_drop.get_state())


def test_graph_noise_is_not_repeated():
    # Negative control for the tolerance above: a run whose noise generator is set back after
    # every step (as a graph that did not advance its Philox offset would be) ends far away.
    cfg = tiny(device="cuda")
    ref = _run(cfg, 20)
    t = Trainer(cfg, _images(), torch.device("cuda"))
    frozen = t.gen_z.get_state()
    for _ in range(20):
        t.train_step()
        t.gen_z.set_state(frozen)
    torch.cuda.synchronize()
    assert _max_weight_diff(ref, t) > 100 * GRAPH_ATOL


def test_a_cuda_run_turns_tf32_off_and_the_trainer_alone_changes_no_global_state():
    # configure_process (what a run calls) owns the process-wide settings; the constructor does
    # not touch them (the first assertion is the negative control for the second)
    cfg = tiny(device="cuda")
    try:
        torch.backends.cuda.matmul.allow_tf32 = True
        Trainer(cfg, _images(), torch.device("cuda"))
        assert torch.backends.cuda.matmul.allow_tf32 is True
        configure_process(cfg)
        assert torch.backends.cuda.matmul.allow_tf32 is False
        assert torch.backends.cudnn.allow_tf32 is False
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False


def test_parzen_on_gpu_matches_cpu():
    rng = np.random.default_rng(0)
    s, v, x = (rng.random((n, 64)) for n in (600, 100, 300))
    cpu = parzen_protocol(s, v, x)
    gpu = parzen_protocol(s, v, x, device="cuda")
    assert gpu.sigma == cpu.sigma
    assert gpu.mean_ll == pytest.approx(cpu.mean_ll, rel=1e-9)  # float64 both; order of sums only
    for g, c in zip(gpu.sigma_curve, cpu.sigma_curve):
        assert g["valid_mean_ll"] == pytest.approx(c["valid_mean_ll"], rel=1e-9)
