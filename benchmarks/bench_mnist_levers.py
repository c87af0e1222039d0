"""Benchmark: speed levers for the MNIST trainer's CPU step, each side by side with today's step.

    python benchmarks/bench_mnist_levers.py                 # paper sizes, 1 thread (~3 min)
    python benchmarks/bench_mnist_levers.py --threads 2 --levers today foreach
    python benchmarks/bench_mnist_levers.py --quick         # small nets, seconds (plus compiles)

Each lever patches one :class:`gantheory.mnist.trainer.Trainer` instance (the library is not
changed) and is judged twice:

* bitwise: 30 steps of the ``paper`` preset on synthetic images (``torch.rand(5000, 784)
  .pow_(4)``) from the same seed with and without the lever; every weight and velocity is
  compared with ``torch.equal`` and the dropout generator's state must agree. A long run is
  going on today's step, so only a lever that passes this may enter the library;
* speed: all levers alternate in rounds on one machine, median it/s per lever and the speed-up
  over today's step.

Levers:

* ``foreach``: :meth:`PylearnMomentum.step` as three multi-tensor ``torch._foreach_*`` calls;
* ``compiled_update``: the same update as one function over all of a player's parameters,
  compiled by ``torch.compile`` (inductor, C++): one fused pass per tensor instead of three;
* ``dropout_where``: D's dropout as ``torch.where(u < keep, x * (1/keep), 0)``;
* ``dropout_one_rand``: all six dropout masks of a step drawn by one ``torch.rand`` and
  thresholded and scaled in one pass each (same generator stream, drawn ahead by one step);
* ``compiled_maxout``: D's two maxout layers (linear, then max over pieces) through
  ``torch.compile``.

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from gantheory.config import override
from gantheory.mnist.config import PRESETS
from gantheory.mnist.trainer import Trainer


# -- levers: each takes a Trainer and patches it in place ------------------------------------

def _foreach_step(opt):
    @torch.no_grad()
    def step():
        pairs = [(p, v) for p, v in zip(opt.params, opt.velocity) if p.grad is not None]
        params, vel = [p for p, _ in pairs], [v for _, v in pairs]
        torch._foreach_mul_(vel, opt.momentum)
        torch._foreach_add_(vel, [p.grad for p in params], alpha=-opt.lr)
        torch._foreach_add_(params, vel)
    return step


def foreach(t: Trainer) -> None:
    for opt in (t.opt_g, t.opt_d):
        opt.step = _foreach_step(opt)


def _update(params, vel, grads, mu, neg_lr):
    for p, v, g in zip(params, vel, grads):
        v_new = v * mu + g * neg_lr  # eager: mul_ (rounded), then add_ with alpha (an FMA)
        v.copy_(v_new)
        p.add_(v_new)


def compiled_update(t: Trainer) -> None:
    fn = torch.compile(_update, dynamic=False)
    for opt in (t.opt_g, t.opt_d):
        mu, neg_lr = torch.zeros(()), torch.zeros(())

        def step(opt=opt, mu=mu, neg_lr=neg_lr):
            mu.fill_(opt.momentum)
            neg_lr.fill_(-opt.lr)
            with torch.no_grad():
                fn(opt.params, opt.velocity, [p.grad for p in opt.params], mu, neg_lr)
        opt.step = step


def dropout_where(t: Trainer) -> None:
    D = t.D

    def _dropout(x, keep):
        if keep >= 1.0 or not D.training:
            return x
        u = torch.rand(x.shape, generator=D.dropout_gen, dtype=x.dtype)
        return torch.where(u < keep, x * (1.0 / keep), 0.0)
    D._dropout = _dropout


def dropout_one_rand(t: Trainer) -> None:
    """Masks for a whole step from one draw; the layer order of draws is today's."""
    D, b = t.D, t.cfg.batch
    widths = [784, t.cfg.d_units, t.cfg.d_units] * 2  # D(real), then D(fake)
    keeps = list(D.keep) * 2
    state = {"masks": [], "i": 0}

    def refill():
        u = torch.rand(b * sum(widths), generator=D.dropout_gen)
        masks, at = [], 0
        for w, k in zip(widths, keeps):
            masks.append(u[at:at + b * w].view(b, w).lt_(k).mul_(1.0 / k))
            at += b * w
        state["masks"], state["i"] = masks, 0

    def _dropout(x, keep):
        if keep >= 1.0 or not D.training:
            return x
        if state["i"] == len(state["masks"]):
            refill()
        mask = state["masks"][state["i"]]
        state["i"] += 1
        return x * mask
    D._dropout = _dropout


def compiled_maxout(t: Trainer) -> None:
    for layer in (t.D.h0, t.D.h1):
        layer.forward = torch.compile(layer.forward, dynamic=False)


LEVERS = {"today": lambda t: None, "foreach": foreach, "compiled_update": compiled_update,
          "dropout_where": dropout_where, "dropout_one_rand": dropout_one_rand,
          "compiled_maxout": compiled_maxout}


# -- judging ---------------------------------------------------------------------------------

def make(cfg, images, lever: str) -> Trainer:
    t = Trainer(cfg, images, torch.device("cpu"))
    LEVERS[lever](t)
    return t


def step_fn(t: Trainer):
    def step():
        if t.step_in_epoch == t.cfg.steps_per_epoch:
            t.end_epoch()
        t.train_step()
        if t.step % t.cfg.log_every == 0:
            t.flush()
    return step


def bitwise(cfg, images, lever: str, steps: int = 30) -> bool:
    ref, new = make(cfg, images, "today"), make(cfg, images, lever)
    for t in (ref, new):
        run = step_fn(t)
        for _ in range(steps):
            run()
    tensors = lambda t: [*t.G.parameters(), *t.D.parameters(), *t.opt_g.velocity,  # noqa: E731
                         *t.opt_d.velocity]
    return (all(torch.equal(a, b) for a, b in zip(tensors(ref), tensors(new)))
            and torch.equal(ref.gen_drop.get_state(), new.gen_drop.get_state())
            and torch.equal(ref.gen_z.get_state(), new.gen_z.get_state()))


def rate(step, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=30, help="steps per round and lever")
    p.add_argument("--quick", action="store_true", help="small nets, few steps")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    levers = ["today"] + [name for name in args.levers if name != "today"]
    cfg = override(PRESETS["paper"], figures=False, train_images=5000)
    if args.quick:
        cfg = override(cfg, g_hidden=128, d_units=32)
        args.rounds, args.steps = min(args.rounds, 3), min(args.steps, 15)
    images = torch.rand(cfg.train_images, 784, generator=torch.Generator().manual_seed(0)).pow_(4)
    same = {name: bitwise(cfg, images, name) for name in levers if name != "today"}
    steps = {name: step_fn(make(cfg, images, name)) for name in levers}
    for step in steps.values():
        rate(step, 5)  # warm-up (and compiles)
    rates = {name: [] for name in levers}
    for _ in range(args.rounds):
        for name, step in steps.items():
            rates[name].append(rate(step, args.steps))
    med = {name: statistics.median(r) for name, r in rates.items()}
    print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__,
                      "g_hidden": cfg.g_hidden, "d_units": cfg.d_units, "rounds": args.rounds,
                      "steps_per_round": args.steps,
                      "it_s": {k: round(v, 2) for k, v in med.items()},
                      "ms": {k: round(1e3 / v, 2) for k, v in med.items()},
                      "speedup": {k: round(v / med["today"], 3) for k, v in med.items()},
                      "bitwise_identical": same,
                      "rounds_it_s": {k: [round(x, 2) for x in v] for k, v in rates.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
