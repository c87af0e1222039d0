"""Fault injection for the trainer's tests, as :class:`~gantheory.mnist.trainer.TrainerCallback` s.

    python -m tests.mnist.faults sleep=0.02 -- [train mnist options]   # the CLI, slowed

The library holds no test code: a test passes these callbacks to :class:`Trainer`,
:func:`~gantheory.mnist.rundir.train` or :func:`gantheory.mnist.cli.main`; a test that needs a
separate process (a SIGKILL) runs this module, which calls the CLI with the named faults.
"""

from __future__ import annotations

import sys
import time

import torch

from gantheory.mnist.trainer import TrainerCallback


class NanAt(TrainerCallback):
    """G's output bias becomes NaN just before step ``step``."""

    def __init__(self, step: int):
        self.step = step

    def on_step(self, trainer, indices):
        if trainer.step == self.step:
            with torch.no_grad():
                trainer.G.net[-1].bias.fill_(float("nan"))


class PerturbRng(TrainerCallback):
    """After a restore the noise generator moves one draw on (the resume tests' negative control)."""

    def on_restore(self, trainer):
        torch.rand(1, generator=trainer.gen_z, device=trainer.device)


class Sleep(TrainerCallback):
    """Sleep ``seconds`` before every step, so a test can kill a run mid-way."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_step(self, trainer, indices):
        time.sleep(self.seconds)


class IndexLog(TrainerCallback):
    """Records this rank's rows of every minibatch, in order."""

    def __init__(self):
        self.indices: list[torch.Tensor] = []

    def on_step(self, trainer, indices):
        self.indices.extend(i.cpu() for i in indices)


FAULTS = {"nan_at": lambda v: NanAt(int(v)), "perturb_rng": lambda v: PerturbRng(),
          "sleep": lambda v: Sleep(float(v))}


def main(argv: list[str]) -> int:
    from gantheory.mnist.cli import main as cli_main

    split = argv.index("--")
    callbacks = [FAULTS[k](v) for k, _, v in (a.partition("=") for a in argv[:split])]
    return cli_main(argv[split + 1:], callbacks=callbacks)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
