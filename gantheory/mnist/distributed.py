"""Data parallelism for the MNIST trainer under ``torchrun`` (gloo on CPU, NCCL on CUDA).

    torchrun --standalone --nproc_per_node=2 -m gantheory.mnist.cli --preset paper --out DIR

Each rank computes on its slice of the same global minibatch (``batch / world`` rows); G and D
have separate ``DistributedDataParallel`` wrappers, so D's step all-reduces only D's gradients and
G's only G's (G's step calls D's inner module, see ``d_for_g`` in :func:`gantheory.gan.step.gan_step`).
Gradients are averaged over ranks, so a step is the same maths as one process on the global batch.
Rank 0 alone writes files; decisions it takes alone (which checkpoint to load, whether the run
directory is usable) reach the other ranks through :func:`agree`, errors included.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError
from ..util.env import env_int

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place in the job: ``rank`` of ``size``, and ``local_rank`` on its host."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


#: The variables torchrun sets for every worker; a job has all of them or none.
TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def from_env() -> World:
    """The world ``torchrun`` describes in the environment (a single process when unset).

    Raises :class:`~gantheory.errors.ConfigError` for a malformed or inconsistent description:
    a value that is not an integer, ``WORLD_SIZE < 1``, a rank outside ``[0, WORLD_SIZE)``, or
    ``RANK``/``WORLD_SIZE`` without the rest of torchrun's variables (``RANK=1`` alone would
    wait forever for a rank 0 that does not exist).
    """
    size = env_int("WORLD_SIZE", 1, minimum=1, maximum=1 << 20)
    rank = env_int("RANK", 0, minimum=0)
    local = env_int("LOCAL_RANK", 0, minimum=0)
    if rank >= size:
        raise ConfigError(f"environment variable RANK={rank} must be < WORLD_SIZE={size}")
    if size > 1 or rank > 0:
        missing = [v for v in TORCHRUN_VARS if not os.environ.get(v, "").strip()]
        if missing:
            raise ConfigError(f"a multi-process run needs torchrun's variables; "
                              f"{', '.join(missing)} not set (launch with torchrun)")
    if local >= size:
        raise ConfigError(f"environment variable LOCAL_RANK={local} must be < WORLD_SIZE={size}")
    return World(rank, size, local)


def device_for(requested: str, world: World) -> torch.device:
    """``auto`` -> CUDA when available; under torchrun each rank takes GPU ``local_rank``."""
    if requested not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d{1,4}", requested):
        raise ConfigError(f"device must be auto, cpu, cuda or cuda:N (N a GPU index), "
                          f"got {requested!r}")
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and world.size > 1:
        requested = f"cuda:{world.local_rank}"
    return torch.device(requested)


def init(world: World, device: torch.device) -> bool:
    """Join the process group; True if this call created it (a no-op for one process, or when
    the caller already set one up, which then stays the caller's to destroy)."""
    if world.size == 1 or dist.is_initialized():
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, rank=world.rank, world_size=world.size)
    return True


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, world: World, device: torch.device) -> nn.Module:
    """``module`` in its own DDP wrapper (itself for one process)."""
    if world.size == 1:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def all_reduce_mean(t: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of ``t`` over ranks, in place (a no-op for one process)."""
    if world.size > 1:
        dist.all_reduce(t)
        t.div_(world.size)
    return t


def agree(world: World, fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 and hand its result, or the exception it raised, to every rank."""
    if world.size == 1:
        return fn()
    box: list = [None]
    if world.main:
        try:
            box[0] = (True, fn())
        except Exception as exc:  # delivered to every rank, re-raised everywhere
            box[0] = (False, exc)
    dist.broadcast_object_list(box, src=0)
    ok, value = box[0]
    if not ok:
        raise value
    return value


def replicas_identical(modules: list[nn.Module], world: World) -> bool:
    """Whether every rank holds bitwise the same parameters as rank 0 (True for one process)."""
    if world.size == 1:
        return True
    flat = torch.cat([p.detach().reshape(-1) for m in modules for p in m.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    bad = torch.tensor([0.0 if torch.equal(flat, ref) else 1.0], device=flat.device)
    dist.all_reduce(bad)
    return bad.item() == 0
