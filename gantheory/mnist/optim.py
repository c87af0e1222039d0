"""SGD with momentum as pylearn2 applies it, with its learning rate and momentum held in tensors.

pylearn2's ``Momentum`` rule (what the paper's MNIST run used) folds the learning rate into the
velocity, ``v <- mu v - eta g; theta <- theta + v``. ``torch.optim.SGD`` instead keeps
``b <- mu b + g; theta <- theta - eta b``; the two agree while eta is constant and drift apart by
the decay factor per step otherwise. This optimiser is pylearn2's rule exactly.

The learning rate and momentum live in 0-dim tensors on the parameters' device, updated in place
by :meth:`PylearnMomentum.set_hyper` each step: a captured CUDA graph reads the current values at
every replay, and no step needs a host synchronisation.
"""

from __future__ import annotations

import torch


class PylearnMomentum:
    r"""Momentum SGD, pylearn2's form, with the optimiser interface :func:`gan_step` uses.

    .. math:: v \leftarrow \mu v - \eta \nabla_\theta L, \qquad \theta \leftarrow \theta + v

    A plain class rather than a ``torch.optim.Optimizer`` subclass: the base class imports
    ``torch._dynamo`` on construction, 2-3 s per process on a small CPU, for nothing used here.

    Parameters
    ----------
    params : the parameters to update.
    lr, momentum : initial values; change them with :meth:`set_hyper`.
    """

    def __init__(self, params, lr: float, momentum: float):
        self.params = list(params)
        device = self.params[0].device
        self.lr_t = torch.tensor(float(lr), device=device)
        self.momentum_t = torch.tensor(float(momentum), device=device)
        self.lr, self.momentum = float(lr), float(momentum)
        # allocated up front, so a graph capture finds them in place
        self.velocity = [torch.zeros_like(p) for p in self.params]

    def set_hyper(self, lr: float, momentum: float) -> None:
        """Set the learning rate and momentum of the next step (in place, no host sync)."""
        self.lr_t.fill_(lr)
        self.momentum_t.fill_(momentum)
        self.lr, self.momentum = float(lr), float(momentum)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        # v <- mu v - eta g; theta <- theta + v. On a GPU mu and eta are read from device tensors
        # (what a CUDA graph replays); on the CPU Python floats save a pass per parameter.
        on_cpu = self.lr_t.device.type == "cpu"
        for p, v in zip(self.params, self.velocity):
            if p.grad is None:
                continue
            if on_cpu:
                v.mul_(self.momentum).add_(p.grad, alpha=-self.lr)
            else:
                v.mul_(self.momentum_t).addcmul_(p.grad, self.lr_t, value=-1.0)
            p.add_(v)

    def state_dict(self) -> dict:
        return {"velocity": [v.clone() for v in self.velocity], "lr": self.lr,
                "momentum": self.momentum}

    def load_state_dict(self, state: dict) -> None:
        """Restore velocities in place (tensors a captured graph holds stay valid)."""
        saved = state["velocity"]
        if len(saved) != len(self.velocity) or any(
                s.shape != v.shape for s, v in zip(saved, self.velocity)):
            raise ValueError("optimiser state does not match the parameters")
        for v, s in zip(self.velocity, saved):
            v.copy_(s)
        self.set_hyper(state["lr"], state["momentum"])
