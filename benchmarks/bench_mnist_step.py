"""Benchmark: the MNIST trainer's step against a tutorial-style loop and the step's GEMM floor.

    python benchmarks/bench_mnist_step.py                  # CPU, paper sizes, 1 thread (~2 min)
    python benchmarks/bench_mnist_step.py --threads 1 2    # one JSON line per thread count
    python benchmarks/bench_mnist_step.py --quick          # seconds, small nets
    python benchmarks/bench_mnist_step.py --device cuda    # eager vs CUDA-graph ms per step

CPU mode times iterations per second of (a) :meth:`gantheory.mnist.trainer.Trainer.train_step`
(data in one tensor, device-side permutation, pylearn2 momentum, statistics summed on the device
and read every ``log_every`` steps) and (b) the loop a PyTorch tutorial would write for the same
model, batch and update order: ``DataLoader(TensorDataset, shuffle=True)``, sigmoid outputs into
``nn.BCELoss``, ``torch.optim.SGD`` with an ``ExponentialLR`` decay stepped per batch, losses read
with ``.item()`` each step, and, for the simultaneous order, G's loss computed through a second
forward of D.

The GEMM floor: one of our steps runs under a ``TorchDispatchMode`` that records every
``aten.mm``/``addmm``/``bmm`` with its exact sizes and strides (so a transposed operand stays
transposed); each distinct call is then timed alone on fresh tensors of that layout (median of
repeats) and the times are summed with their multiplicities. That is what one step would cost if
it were nothing but its matrix multiplies at the speed this machine gives them in isolation;
``ours_over_floor`` is our step time over it.

Ours, the tutorial and the floor alternate in rounds on the same machine; the figures are medians
over rounds. Each thread count prints one JSON line (the last lines of stdout), with epochs per
hour of the paper preset (500 steps per epoch). It also profiles a few steps of each loop (torch's
profiler): matrix-multiply FLOPs and the share of the step spent in matmuls, and the "ceiling",
the tutorial's step time over our matmul time, the ratio ours would reach if everything but its
matmuls cost nothing. A ceiling below the target means loop engineering cannot reach it. Run
with ``PYTHONPATH=.`` or after ``pip install -e .``.

CUDA mode (for a GPU session) first trains 20 steps eagerly and as
one CUDA graph from the same seed and reports how far apart the weights end, then times the
trainer eagerly, as a graph, and the tutorial loop (ms per step).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.data import DataLoader, TensorDataset

from gantheory.config import override
from gantheory.mnist.config import PRESETS
from gantheory.mnist.trainer import Trainer
from machine import cpu_capability, cpu_name

TARGET_RATIO = 1.6  # our step over the tutorial loop's time, at the same thread count
TARGET_FLOOR = 1.35  # our step's time over its GEMM floor, at most
STEPS_PER_EPOCH = 500  # the paper preset: 50,000 images in minibatches of 100


class TutorialD(nn.Module):
    """The paper's D as a tutorial writes it: nn.Dropout, maxout, a sigmoid output."""

    def __init__(self, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.h0, self.h1 = nn.Linear(784, units * pieces), nn.Linear(units, units * pieces)
        self.y = nn.Linear(units, 1)
        self.drop_in, self.drop = nn.Dropout(0.2), nn.Dropout(0.5)

    def forward(self, x):
        h = self.h0(self.drop_in(x)).view(-1, self.units, self.pieces).max(-1).values
        h = self.h1(self.drop(h)).view(-1, self.units, self.pieces).max(-1).values
        return torch.sigmoid(self.y(self.drop(h)))


class TutorialLoop:
    """One step per call: a DataLoader batch, BCELoss on probabilities, torch SGD."""

    def __init__(self, cfg, images: torch.Tensor, device: torch.device):
        h = cfg.g_hidden
        self.G = nn.Sequential(nn.Linear(cfg.z_dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                               nn.Linear(h, 784), nn.Sigmoid()).to(device)
        self.D = TutorialD(cfg.d_units, cfg.d_pieces).to(device)
        self.opt_g = torch.optim.SGD(self.G.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        self.opt_d = torch.optim.SGD(self.D.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        self.sched = [torch.optim.lr_scheduler.ExponentialLR(o, 1 / cfg.lr_decay)
                      for o in (self.opt_g, self.opt_d)]
        self.loader = DataLoader(TensorDataset(images), batch_size=cfg.batch, shuffle=True,
                                 drop_last=True)
        self.bce, self.cfg, self.device, self.it = nn.BCELoss(), cfg, device, iter(())
        self.ones = torch.ones(cfg.batch, 1, device=device)
        self.zeros = torch.zeros(cfg.batch, 1, device=device)

    def _batch(self):
        try:
            return next(self.it)[0].to(self.device)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)[0].to(self.device)

    def __call__(self):
        real = self._batch()
        z = (torch.rand(self.cfg.batch, self.cfg.z_dim, device=self.device) * 2 - 1) * math.sqrt(3)
        fake = self.G(z)
        if self.cfg.update == "simultaneous":  # G's gradient at the D of this step ...
            self.opt_g.zero_grad()
            loss_g = self.bce(self.D(fake), self.ones)
            loss_g.backward()
        self.opt_d.zero_grad()  # ... then D's
        loss_d = 0.5 * (self.bce(self.D(real), self.ones) + self.bce(self.D(fake.detach()),
                                                                      self.zeros))
        loss_d.backward()
        self.opt_d.step()
        if self.cfg.update == "alternating":
            self.opt_g.zero_grad()
            loss_g = self.bce(self.D(fake), self.ones)  # the DCGAN tutorial reuses fake
            loss_g.backward()
        self.opt_g.step()
        for s in self.sched:
            s.step()
        return loss_d.item(), loss_g.item()


def ours(cfg, images, device, trainer=None):
    trainer = trainer or Trainer(cfg, images, device)

    def step():
        if trainer.step_in_epoch == cfg.steps_per_epoch:
            trainer.end_epoch()
        trainer.train_step()
        if trainer.step % cfg.log_every == 0:
            trainer.flush()
    return step


def rate(step, n: int, sync) -> float:
    sync()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return n / (time.perf_counter() - t0)


MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear")


def matmul_profile(step, n: int = 5) -> dict:
    """Per step: matrix-multiply FLOPs and seconds, from torch's profiler.

    FLOPs are the profiler's count over every op; the matmul seconds are the self time of the
    matmul ops (``aten::linear``/``matmul`` dispatch to ``mm``/``addmm``, whose self time is the
    kernel). A loop with no cost but its matmuls would take ``matmul_s`` per step.
    """
    from torch.profiler import ProfilerActivity, profile

    step()
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        for _ in range(n):
            step()
    events = prof.key_averages()
    return {"matmul_gflop": sum(e.flops for e in events) / n / 1e9,
            "matmul_s": sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS)
            / n / 1e6}


_GEMMS = {torch.ops.aten.mm.default, torch.ops.aten.addmm.default, torch.ops.aten.bmm.default}


class RecordGemms(TorchDispatchMode):
    """Counts every mm/addmm/bmm dispatched inside it (forward and backward) by exact layout.

    A key is the op and, per tensor argument, its sizes and strides (a transposed weight has
    strides ``(1, fan_in)``), plus the non-tensor arguments (addmm's ``beta``/``alpha``).
    """

    def __init__(self):
        super().__init__()
        self.calls: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _GEMMS:
            layout = tuple((tuple(a.shape), a.stride(), a.dtype) if isinstance(a, torch.Tensor)
                           else a for a in args)
            self.calls[(func, layout, tuple(sorted(kwargs.items())))] += 1
        return func(*args, **kwargs)


def gemm_flops(func, layout) -> int:
    """2 m k n (times the batch for bmm) of one recorded call."""
    a, b = (layout[1], layout[2]) if func is torch.ops.aten.addmm.default else layout[:2]
    return 2 * math.prod(a[0]) * b[0][-1]


def _fresh(spec) -> torch.Tensor:
    """A new tensor with the recorded sizes and strides, random values (views allowed)."""
    if not isinstance(spec, tuple) or len(spec) != 3 or not isinstance(spec[2], torch.dtype):
        return spec
    shape, stride, dtype = spec
    storage = 1 + sum((n - 1) * st for n, st in zip(shape, stride))
    return torch.rand(storage, dtype=dtype).as_strided(shape, stride)


def gemm_calls(step) -> Counter:
    """The matmuls of one call of ``step``, by layout, with how often each occurs."""
    step()  # warm: the recorded step is a steady-state one
    rec = RecordGemms()
    with rec:
        step()
    return rec.calls


def gemm_floor_ms(calls: Counter, repeats: int = 7) -> float:
    """Sum over the recorded matmuls of the median time of each, run alone on fresh tensors."""
    total = 0.0
    for (func, layout, kwargs), count in calls.items():
        args = [_fresh(a) for a in layout]
        for _ in range(2):
            func(*args, **dict(kwargs))
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            func(*args, **dict(kwargs))
            times.append(time.perf_counter() - t0)
        total += count * statistics.median(times)
    return 1e3 * total


def load(cfg, synthetic: bool) -> torch.Tensor:
    if not synthetic:
        try:
            from gantheory.mnist.data import load as load_mnist
            return load_mnist().train.x()[: cfg.train_images]
        except Exception as exc:  # noqa: BLE001 - a benchmark falls back to synthetic data
            print(f"real MNIST unavailable ({exc}); using synthetic images", file=sys.stderr)
    return torch.rand(cfg.train_images, 784).pow_(4)


def cpu_run(cfg, images, args, threads: int) -> dict:
    """Ours, the tutorial and the GEMM floor, alternating in rounds at ``threads`` threads."""
    if threads:
        torch.set_num_threads(threads)
    device, sync = torch.device("cpu"), (lambda: None)
    contestants = {"ours": ours(cfg, images, device),
                   "tutorial": TutorialLoop(cfg, images, device)}
    calls = gemm_calls(contestants["ours"])
    floor_gflop = sum(gemm_flops(f, lay) * n for (f, lay, _), n in calls.items()) / 1e9
    rates = {name: [] for name in contestants}
    floors = []
    for name, step in contestants.items():  # warm-up
        rate(step, 5, sync)
    for _ in range(args.rounds):
        for name, step in contestants.items():
            rates[name].append(rate(step, args.steps, sync))
        floors.append(gemm_floor_ms(calls))
    med = {name: statistics.median(r) for name, r in rates.items()}
    floor_ms = statistics.median(floors)
    prof = {name: matmul_profile(step) for name, step in contestants.items()}
    ours_ms, tutorial_ms = 1e3 / med["ours"], 1e3 / med["tutorial"]
    result = {"device": "cpu", "cpu": cpu_name(), "cpu_capability": cpu_capability(),
              "torch": torch.__version__,
              "threads": torch.get_num_threads(),
              "update": cfg.update, "batch": cfg.batch, "g_hidden": cfg.g_hidden,
              "d_units": cfg.d_units, "d_pieces": cfg.d_pieces, "rounds": args.rounds,
              "steps_per_round": args.steps,
              "ours_it_s": round(med["ours"], 2), "tutorial_it_s": round(med["tutorial"], 2),
              "ratio": round(med["ours"] / med["tutorial"], 3), "target_ratio": TARGET_RATIO,
              "ours_ms": round(ours_ms, 2), "tutorial_ms": round(tutorial_ms, 2),
              "floor_ms": round(floor_ms, 2), "floor_gflop": round(floor_gflop, 4),
              "floor_gemm_calls": sum(calls.values()), "floor_gemm_layouts": len(calls),
              "floor_gflop_s": round(floor_gflop / floor_ms * 1e3, 1),
              "ours_over_floor": round(ours_ms / floor_ms, 3), "target_floor": TARGET_FLOOR,
              "tutorial_over_floor": round(tutorial_ms / floor_ms, 3),
              "ours_epochs_per_hour": round(3600 * med["ours"] / STEPS_PER_EPOCH, 1),
              "tutorial_epochs_per_hour": round(3600 * med["tutorial"] / STEPS_PER_EPOCH, 1),
              "ours_matmul_gflop": round(prof["ours"]["matmul_gflop"], 4),
              "tutorial_matmul_gflop": round(prof["tutorial"]["matmul_gflop"], 4),
              "matmul_flop_ratio": round(prof["tutorial"]["matmul_gflop"]
                                         / prof["ours"]["matmul_gflop"], 3),
              # share of each step (timed without the profiler) spent in matmuls
              "ours_matmul_share": round(prof["ours"]["matmul_s"] * med["ours"], 3),
              "tutorial_matmul_share": round(prof["tutorial"]["matmul_s"] * med["tutorial"], 3),
              # the tutorial's step time over our matmul time: our ratio if nothing else cost
              "ceiling_ratio": round(1 / (med["tutorial"] * prof["ours"]["matmul_s"]), 3),
              # the same with the isolated-GEMM floor in place of our in-step matmul time
              "floor_ceiling_ratio": round(tutorial_ms / floor_ms, 3),
              "rounds_ours_it_s": [round(r, 2) for r in rates["ours"]],
              "rounds_tutorial_it_s": [round(r, 2) for r in rates["tutorial"]],
              "rounds_floor_ms": [round(f, 2) for f in floors]}
    result["meets_target"] = result["ratio"] >= TARGET_RATIO
    result["meets_floor_target"] = result["ours_over_floor"] <= TARGET_FLOOR
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="small nets, few steps")
    p.add_argument("--threads", type=int, nargs="+", default=[1],
                   help="torch CPU thread counts, one JSON line each (0: torch's default)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=40, help="steps per round and contestant")
    p.add_argument("--update", default="simultaneous", choices=("simultaneous", "alternating"))
    p.add_argument("--synthetic", action="store_true")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    cfg = override(PRESETS["paper"], update=args.update, device=args.device, figures=False)
    if args.quick:
        cfg = override(cfg, g_hidden=128, d_units=32, train_images=5000)
        args.rounds, args.steps = min(args.rounds, 3), min(args.steps, 20)
    images = load(cfg, args.synthetic)
    if device.type == "cuda":
        if args.threads[0]:
            torch.set_num_threads(args.threads[0])
        return cuda_mode(cfg, images, device, args, torch.cuda.synchronize)
    for threads in args.threads:
        print(json.dumps(cpu_run(cfg, images, args, threads)), flush=True)
    return 0


def graph_agreement(cfg, images, device, steps: int = 20) -> dict:
    """The same seed for ``steps`` steps eagerly and as a CUDA graph: how far apart they end.

    Same kernels, same Philox offsets: expected equal or within float32 round-off.
    """
    eager = Trainer(override(cfg, cuda_graph=False), images, device)
    graph = Trainer(override(cfg, cuda_graph=True), images, device)
    for t in (eager, graph):
        for _ in range(steps):
            t.train_step()
    torch.cuda.synchronize()
    diff = max((a - b).abs().max().item()
               for m, n in ((eager.G, graph.G), (eager.D, graph.D))
               for a, b in zip(m.parameters(), n.parameters()))
    return {"steps": steps, "max_abs_weight_diff": diff,
            "noise_state_equal": torch.equal(eager.gen_z.get_state(), graph.gen_z.get_state()),
            "dropout_state_equal": torch.equal(eager.gen_drop.get_state(),
                                               graph.gen_drop.get_state())}


def cuda_mode(cfg, images, device, args, sync) -> int:
    """ms per step: eager trainer, CUDA-graph trainer, tutorial loop (median of rounds)."""
    agreement = graph_agreement(cfg, images, device)
    runs = {"eager": ours(override(cfg, cuda_graph=False), images, device),
            "graph": ours(override(cfg, cuda_graph=True), images, device),
            "tutorial": TutorialLoop(cfg, images, device)}
    ms = {name: [] for name in runs}
    for step in runs.values():
        rate(step, 10, sync)  # includes the graph's warm-up and capture
    for _ in range(args.rounds):
        for name, step in runs.items():
            ms[name].append(1e3 / rate(step, max(args.steps, 100), sync))
    med = {name: statistics.median(v) for name, v in ms.items()}
    print(json.dumps({"device": torch.cuda.get_device_name(device), "update": cfg.update,
                      "batch": cfg.batch, "eager_ms": round(med["eager"], 4),
                      "graph_ms": round(med["graph"], 4), "tutorial_ms": round(med["tutorial"], 4),
                      "graph_speedup": round(med["eager"] / med["graph"], 3),
                      "graph_vs_eager": agreement}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
