"""``gantheory train mnist``: train the paper's MNIST GAN with checkpoints, samples, logs and figures.

    gantheory train mnist --preset paper --epochs 1 --out runs/paper          # one real epoch
    gantheory train mnist --preset paper --epochs 2 --out runs/paper --resume # one more
    gantheory train mnist --update alternating --k 2 --set d_units=120 --out runs/alt
    gantheory train mnist --config my.toml --print-config    # the resolved config, as TOML
    gantheory train mnist --dry-run                          # one real step of the config, no files
    gantheory train mnist --smoke                            # seconds: the whole path, for CI
    python -m gantheory.mnist.cli ...                        # the same
    torchrun --standalone --nproc_per_node=2 -m gantheory.mnist.cli --out runs/ddp

The config is, in this order: the preset (default ``paper``), then ``--config FILE`` (a TOML file
of :class:`~gantheory.mnist.config.MNISTConfig` fields, at the top level or under ``[config]``,
or a run's own ``run.json``), then the shorthands (``--epochs``, ``--k``, ``--loss``,
``--update``, ``--seed``, ``--device``), then ``--set key=value``; unknown names and impossible
values are rejected. ``--resume`` continues the run in ``--out`` from its newest valid checkpoint,
with the checkpoint's config unless ``--preset`` is given; only run-control fields (epochs,
logging, checkpointing, device) may change. Starting a new run in a directory that holds
checkpoints needs ``--overwrite``. ``--smoke`` trains the ``smoke`` preset (300 real images, tiny
nets) for one epoch, then resumes it from its checkpoint for a second.

Besides ``metrics.jsonl`` the run writes ``metrics.csv``, ``loss_curve.png`` at the end, with
``--tensorboard`` event files in ``tensorboard/``, and with ``--eval-every N`` an evaluation every
N epochs (:mod:`gantheory.mnist.logs`). A progress bar (when stderr is a terminal) shows D's and
G's losses; one line per epoch and a summary go to stdout, or with ``--json`` one JSON object
(keys in docs/training.md). Exit status: 0 done; 2 bad input (unknown option, impossible value,
missing or corrupt data or checkpoint) or diverged training, with a one-line message on stderr;
130 interrupted (continue with ``--resume``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..config import as_dict, override, settings_help
from ..errors import ConfigError, OutputError
from ..gan.losses import GENERATOR_LOSSES
from ..util.cli import Parser, add_version, json_result, parse_sets, run_command, status
from .config import PRESETS, MNISTConfig
from .distributed import from_env

PROG = "gantheory train mnist"
DESCRIPTION = """\
Train the MNIST GAN of Goodfellow et al. (2014) with the paper's setup (the 'paper' preset).

How long: an epoch of the paper preset (500 steps of 100 images) takes about 40 s on a 2-core
CPU, so --epochs 1 is a minute and the 250 epochs of the reproduction (docs/reproduction.md) are
about 3 hours; a GPU is much faster. The default --epochs is 1: after one epoch the generator
is still collapsed (blurred, near-identical digits); that is expected, not a bug. Around
epoch 25 the digits are recognisable, and after 250 epochs the samples are clean digits of
every class (Parzen 177 nats against Table 1's 225). --dry-run checks a config in seconds.

The first run fetches MNIST (about 6 s, 55 MB) into $GANTHEORY_DATA or ~/.cache/gantheory;
--data DIR reads your own copy of the four IDX files instead."""


def config_keys_help() -> str:
    """Every ``--set`` key with its type, the paper preset's default and its comment."""
    return settings_help(PRESETS["paper"], "--set keys (MNISTConfig fields: type, default of the "
                                           "paper preset, meaning):")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description=DESCRIPTION, epilog=config_keys_help())
    add_version(p)
    p.add_argument("--preset", choices=sorted(PRESETS), help="named config (default: paper)")
    p.add_argument("--config", metavar="FILE",
                   help="a TOML file of config fields, or a run's run.json")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as TOML and exit")
    p.add_argument("--dry-run", action="store_true",
                   help="one real step of the resolved config on the real data, then exit; "
                        "writes nothing")
    p.add_argument("--smoke", action="store_true", help="tiny CI run: train, checkpoint, resume")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs in all (paper preset: 1)")
    p.add_argument("--k", type=int, metavar="K", help="D steps per G step (alternating updates)")
    p.add_argument("--loss", choices=GENERATOR_LOSSES, help="G's loss (paper: non_saturating)")
    p.add_argument("--update", choices=("simultaneous", "alternating"),
                   help="update order (paper: simultaneous)")
    p.add_argument("--seed", type=int, metavar="S", help="the run's seed (default 0)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any config field, repeatable (keys below)")
    p.add_argument("--out", help="run directory (default runs/mnist-PRESET)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="start over in a used --out")
    p.add_argument("--data", metavar="DIR", help="your own MNIST files (see README, 'Data')")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object at the end instead of text (docs/training.md)")
    logs = p.add_argument_group("logs beyond metrics.jsonl and metrics.csv")
    logs.add_argument("--tensorboard", action="store_true",
                      help="TensorBoard events in OUT/tensorboard (pip install "
                           "'gantheory[tensorboard]')")
    logs.add_argument("--eval-every", type=int, metavar="N",
                      help="every N epochs: Parzen on a subset and the classifier metrics")
    logs.add_argument("--eval-samples", type=int, default=1000, metavar="N",
                      help="samples of G per evaluation (also the test images scored)")
    logs.add_argument("--eval-metrics", action=argparse.BooleanOptionalAction, default=True,
                      help="include the classifier metrics in each evaluation (the first trains "
                           "the classifier, about 90 s)")
    return p


def read_config_file(path: str) -> dict:
    """The config fields of a TOML file (top level or ``[config]``) or of a ``run.json``."""
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--config {path}: {exc.strerror or exc}") from None
    if file.suffix.lower() == ".json":
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--config {path}: not valid JSON ({exc})") from None
    else:
        import tomllib

        try:
            values = tomllib.loads(text.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--config {path}: not valid TOML ({' '.join(str(exc).split())})"
                              ) from None
    if isinstance(values, dict) and isinstance(values.get("config"), dict):
        values = values["config"]  # run.json's manifest, or a TOML [config] table
    if not isinstance(values, dict):
        raise ConfigError(f"--config {path}: expected a table of config fields")
    return values


def overrides_from(args: argparse.Namespace) -> dict:
    """The config changes the command line asks for: the file, the shorthands, ``--set`` last."""
    out = read_config_file(args.config) if args.config else {}
    out.update({name: getattr(args, name) for name in ("epochs", "k", "loss", "update", "seed",
                                                       "device") if getattr(args, name) is not None})
    return dict(out, **parse_sets(args.set))


def to_toml(cfg: MNISTConfig) -> str:
    """A config as TOML that ``--config`` reads back to the same config."""
    lines = ["# gantheory train mnist --config FILE; every field of MNISTConfig", "[config]"]
    for key, value in as_dict(cfg).items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = json.dumps(value)
        else:
            text = repr(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def resolved_config(args: argparse.Namespace) -> MNISTConfig:
    """The config a run with these arguments would use (for --print-config and --dry-run)."""
    if args.resume and not args.preset:
        from . import checkpoint
        from .config import from_dict

        if not args.out:
            raise ConfigError("--resume needs --out DIR")
        state, _ = checkpoint.load_latest(args.out)
        base = from_dict(state["config"])
    else:
        base = PRESETS[args.preset or ("smoke" if args.smoke else "paper")]
    return override(base, overrides_from(args))


def dry_run(cfg: MNISTConfig, data_root: str | None) -> dict:
    """One real step of ``cfg`` on its real data, on its device; nothing is written."""
    import time

    from .distributed import World, device_for
    from .rundir import check_memory, load_images
    from .trainer import Trainer, configure_process

    t0 = time.perf_counter()
    device = device_for(cfg.device, World())
    check_memory(cfg)
    if device.type == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"device {device} requested but CUDA is not available")
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    configure_process(cfg)
    trainer = Trainer(cfg, load_images(cfg, data_root), device)
    trainer.train_step()
    rec = trainer.flush()  # raises TrainingDiverged on a non-finite loss
    trainer.check_finite()
    return {"dry_run": True, "device": str(device), "images": len(trainer.x),
            "batches": cfg.batches_per_step, "steps_per_epoch": cfg.steps_per_epoch,
            **{k: rec[k] for k in ("d_loss", "g_loss", "d_real", "d_fake")},
            "wall_s": round(time.perf_counter() - t0, 3)}


def make_sinks(args: argparse.Namespace) -> list:
    """The logs the arguments ask for (CSV always)."""
    from .logs import CSVLog, EvalEvery, TensorBoardLog

    sinks = [CSVLog()]
    if args.tensorboard:
        sinks.append(TensorBoardLog())  # a missing tensorboard fails here, before training
    if args.eval_every is not None:
        from ..util.memory import check_fits

        # before training, not at the first evaluation: G's samples in float32 and float64 and
        # the Parzen window's blocks of 1024 x n float64 distances, twice
        n = args.eval_samples
        check_fits(n * 784 * (4 + 8) * 2 + 2 * 1024 * n * 8 * 2, "--eval-samples", n)
        classifier = None
        if args.eval_metrics:
            from ..metrics.cli import classifier_for as classifier
        sinks.append(EvalEvery(args.eval_every, n_samples=args.eval_samples,
                               n_test=args.eval_samples, data_root=args.data,
                               classifier=classifier))
    return sinks


def loss_curve(out: str | Path) -> str | None:
    """Draw ``loss_curve.png`` from the run's log; None when there is nothing to draw."""
    from ..plotting import save_figure
    from .logs import loss_curve_figure, read_records

    records = read_records(Path(out) / "metrics.jsonl")
    if not any(r.get("kind") == "log" for r in records):
        return None
    path = Path(out) / "loss_curve.png"
    try:
        return save_figure(loss_curve_figure(records, f"MNIST GAN run {Path(out).name}"), path)
    except OSError as exc:  # a full or read-only disk after the training: the run itself is whole
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} (the run and its "
                          f"checkpoints are complete)") from None


def run_cli(args: argparse.Namespace, argv: list[str], callbacks=(), sinks=()) -> dict:
    from .rundir import train  # torch and the data code load only once the arguments are good

    overrides = overrides_from(args)
    progress = sys.stderr.isatty() and not args.no_progress
    common = dict(data_root=args.data, progress=progress, echo=not args.json, argv=argv,
                  callbacks=callbacks, sinks=sinks)
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


def _text(summary: dict) -> str:
    lines = [f"done: epoch {summary['epoch']}, step {summary['step']}, "
             f"{summary['wall_s']:.1f} s of training in all; run directory {summary['out']}"]
    if summary.get("already_complete"):
        lines.append(f"  the run was already complete at epoch {summary['epoch']}: raise "
                     f"--epochs to train on")
    for key, label in (("checkpoint", "checkpoint"), ("loss_curve", "loss curve")):
        if summary.get(key):
            lines.append(f"  {label}: {summary[key]}")
    if summary["epoch"] <= 2:
        lines.append("  (after an epoch or two the generator is still collapsed: expected; "
                     "see gantheory train mnist --help)")
    return "\n".join(lines)


def main(argv: list[str] | None = None, callbacks=()) -> int:
    """Run the command; returns the exit status. ``callbacks`` go to the trainer (tests)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rank = from_env().rank
    except ConfigError:  # a malformed torchrun environment: train() reports it on one line
        rank = 0

    def body() -> int:
        args = parser().parse_args(argv)
        if args.print_config or args.dry_run:
            cfg = resolved_config(args)
            if args.print_config:
                print(to_toml(cfg), end="")
                return 0
            result = dry_run(cfg, args.data)
            print(json.dumps(json_result("train mnist", result)) if args.json else
                  f"dry run: one step on {result['device']} ({result['images']} images, "
                  f"{result['steps_per_epoch']} steps per epoch): d_loss {result['d_loss']:.4f} "
                  f"g_loss {result['g_loss']:.4f} D(x) {result['d_real']:.4f} D(G(z)) "
                  f"{result['d_fake']:.4f} ({result['wall_s']:.1f} s); nothing written")
            return 0
        sinks = make_sinks(args) if rank == 0 else []
        try:
            summary = run_cli(args, argv, callbacks, sinks)
        finally:
            for sink in sinks:
                sink.close()
        summary["already_complete"] = bool(args.resume) and not summary["epoch_s"]
        if summary["already_complete"]:
            status(f"the run in {summary['out']} was already complete "
                   f"(epoch {summary['epoch']}); nothing trained")
        if rank == 0:
            summary["loss_curve"] = loss_curve(summary["out"])
            print(json.dumps(json_result("train mnist", summary)) if args.json
                  else _text(summary), flush=True)
        return 0

    prog = f"{PROG} (rank {rank})" if rank else PROG
    return run_command(prog, body, interrupted="interrupted; continue with --resume")


if __name__ == "__main__":
    sys.exit(main())
