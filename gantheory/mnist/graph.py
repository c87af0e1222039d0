"""The whole D+G training step as one CUDA graph (``cuda_graph=True`` on a CUDA device).

Checked on one GPU (NVIDIA H200, torch 2.11.0+cu130): tests/mnist/test_gpu.py holds it to the
eager step (weights within 1e-5 after 20 steps, with a negative control; they came out equal to
the last bit there) and to a resumed run; one step took 0.65 ms as a graph against 4.49 ms eager
(benchmarks/bench_mnist_step.py --device cuda). Other GPUs and torch builds have not run it; the
eager step stays the default (``cuda_graph=False``). The CPU path never imports CUDA state from here.

A step of :func:`gantheory.gan.step.gan_step` launches a few dozen small kernels; at batch 100 their
launch cost dominates on a GPU. :class:`CapturedStep` records one complete step (noise draws,
dropout masks, both forward and backward passes, both optimiser updates, the on-device statistics
sum) once, then replays it. What changes between steps lives in static tensors the graph reads:

* the real minibatches: copied into ``static_real`` before each replay (``index_select(out=)``);
* the noise and dropout masks: drawn inside the graph from the trainer's own generators,
  registered with the graph so every replay advances their Philox offsets;
* the learning rate and momentum: 0-dim tensors updated in place
  (:class:`gantheory.mnist.optim.PylearnMomentum`);
* gradients: allocated inside the capture (``zero_grad(set_to_none=True)`` then backward), so
  every replay overwrites the same memory.

The first ``warmup`` steps run eagerly on a side stream (they are real training steps), as
PyTorch's whole-network capture recipe asks. Only single-process runs capture (DDP's reducer is not
captured here).
"""

from __future__ import annotations

from typing import Callable

import torch


class CapturedStep:
    """Runs ``body(next_real)`` eagerly ``warmup`` times, then captures it and replays it.

    Parameters
    ----------
    body : runs one training step given a ``next_real()`` callable; must only launch kernels
        (no host syncs, no ``.item()``).
    batches_per_step, batch, features : the shape of the static real-data buffer.
    generators : CUDA generators ``body`` draws from; each is registered with the graph.
    """

    def __init__(self, body: Callable[[Callable[[], torch.Tensor]], None], batches_per_step: int,
                 batch: int, features: int, device: torch.device,
                 generators: list[torch.Generator], warmup: int = 3):
        if device.type != "cuda":
            raise ValueError("CapturedStep needs a CUDA device")
        self.body, self.generators, self.warmup_left = body, generators, warmup
        self.static_real = torch.zeros(batches_per_step, batch, features, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.side = torch.cuda.Stream(device)

    def _static_next_real(self) -> Callable[[], torch.Tensor]:
        it = iter(self.static_real)
        return lambda: next(it)

    def __call__(self, data: torch.Tensor, indices: list[torch.Tensor]) -> None:
        """One training step on the minibatches ``data[indices[j]]``."""
        for j, idx in enumerate(indices):
            torch.index_select(data, 0, idx, out=self.static_real[j])
        if self.graph is None and self.warmup_left > 0:
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                self.body(self._static_next_real())
            torch.cuda.current_stream().wait_stream(self.side)
            self.warmup_left -= 1
            return
        if self.graph is None:
            self.graph = self._capture()
        self.graph.replay()

    def _capture(self) -> torch.cuda.CUDAGraph:
        graph = torch.cuda.CUDAGraph()
        register = getattr(graph, "register_generator_state", None)
        if register is None:
            raise RuntimeError("cuda_graph needs torch.cuda.CUDAGraph.register_generator_state "
                               "(torch >= 2.4) to draw noise and dropout inside the graph")
        for gen in self.generators:
            register(gen)
        torch.cuda.synchronize()
        with torch.cuda.graph(graph):
            self.body(self._static_next_real())
        # Capturing records kernels without running them: the caller's step runs at replay.
        return graph
