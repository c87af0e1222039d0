"""``gantheory train mnist``: train the paper's MNIST GAN with checkpoints, samples and figures.

    gantheory train mnist --preset paper --epochs 1 --out runs/paper          # one real epoch
    gantheory train mnist --preset paper --epochs 2 --out runs/paper --resume # one more
    gantheory train mnist --update alternating --k 2 --set d_units=120 --out runs/alt
    gantheory train mnist --smoke                          # seconds: the whole path, for CI
    python -m gantheory.mnist.cli ...                    # the same
    torchrun --standalone --nproc_per_node=2 -m gantheory.mnist.cli --out runs/ddp

``--set key=value`` changes any :class:`~gantheory.mnist.config.MNISTConfig` field (unknown names
and impossible values are rejected); ``--epochs``, ``--k``, ``--loss``, ``--update``, ``--seed``
and ``--device`` are shorthands for the same. ``--resume`` continues the run in ``--out`` from its
newest valid checkpoint, with the checkpoint's config unless ``--preset`` is given; only
run-control fields (epochs, logging, checkpointing, device) may change. Starting a new run in a
directory that holds checkpoints needs ``--overwrite``. ``--smoke`` trains the ``smoke`` preset
(300 real images, tiny nets) for one epoch, then resumes it from its checkpoint for a second.

A progress bar (when stderr is a terminal) shows D's and G's losses, mean D(x) and D(G(z)); one line
per epoch goes to stdout and a JSON summary ends it. Exit status: 0 done; 2 bad input (unknown
option, impossible value, missing or corrupt data or checkpoint) or diverged training, with a
one-line message on stderr; 130 interrupted (continue with ``--resume``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings

from ..config import override
from ..errors import ConfigError
from ..gan.losses import GENERATOR_LOSSES
from .config import PRESETS
from ..util.cli import Parser, parse_sets, run_command
from .distributed import from_env

PROG = "gantheory train mnist"


def parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Train the MNIST GAN of Goodfellow et al. (2014).")
    p.add_argument("--preset", choices=sorted(PRESETS), help="named config (default: paper)")
    p.add_argument("--smoke", action="store_true", help="tiny CI run: train, checkpoint, resume")
    p.add_argument("--epochs", type=int)
    p.add_argument("--k", type=int, help="D steps per G step (alternating updates)")
    p.add_argument("--loss", choices=GENERATOR_LOSSES)
    p.add_argument("--update", choices=("simultaneous", "alternating"))
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any config field, repeatable")
    p.add_argument("--out", help="run directory (default runs/mnist-PRESET)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="start over in a used --out")
    p.add_argument("--data", metavar="DIR", help="MNIST files to load (see gantheory.mnist.data)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def overrides_from(args: argparse.Namespace) -> dict:
    """The config changes the command line asks for (``--set`` last, so it wins)."""
    out = {name: getattr(args, name) for name in ("epochs", "k", "loss", "update", "seed",
                                                  "device") if getattr(args, name) is not None}
    return dict(out, **parse_sets(args.set))


def run_cli(args: argparse.Namespace, argv: list[str], callbacks=()) -> dict:
    from .rundir import train  # torch and the data code load only once the arguments are good

    overrides = overrides_from(args)
    progress = sys.stderr.isatty() and not args.no_progress
    common = dict(data_root=args.data, progress=progress, echo=True, argv=argv,
                  callbacks=callbacks)
    if args.smoke:
        if args.resume or (args.preset not in (None, "smoke")):
            raise ConfigError("--smoke runs its own preset and resume; drop --resume/--preset")
        cfg = override(PRESETS["smoke"], overrides)
        out = args.out or tempfile.mkdtemp(prefix="gantheory-smoke-")
        first = train(override(cfg, epochs=1), out, overwrite=args.overwrite, **common)
        if cfg.epochs < 2:
            return first
        return dict(train(None, out, resume=True, overrides={"epochs": cfg.epochs}, **common),
                    resumed_from_step=first["step"])
    if args.resume:
        cfg = PRESETS[args.preset] if args.preset else None
        if not args.out:
            raise ConfigError("--resume needs --out DIR")
    else:
        cfg = PRESETS[args.preset or "paper"]
    out = args.out or f"runs/mnist-{args.preset or 'paper'}"
    return train(cfg, out, resume=args.resume, overwrite=args.overwrite, overrides=overrides,
                 **common)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"{PROG}: warning: {' '.join(str(message).split())}\n"


def main(argv: list[str] | None = None, callbacks=()) -> int:
    """Run the command; returns the exit status. ``callbacks`` go to the trainer (tests)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    rank = from_env().rank

    def body() -> int:
        warnings.formatwarning = _one_line_warning
        summary = run_cli(parser().parse_args(argv), argv, callbacks)
        if rank == 0:
            print(json.dumps(summary), flush=True)
        return 0

    prog = f"{PROG} (rank {rank})" if rank else PROG
    saved = warnings.formatwarning
    try:
        return run_command(prog, body, interrupted="interrupted; continue with --resume")
    finally:
        warnings.formatwarning = saved

if __name__ == "__main__":
    sys.exit(main())
