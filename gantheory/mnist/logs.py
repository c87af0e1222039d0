"""A run's logs beyond ``metrics.jsonl``: CSV, TensorBoard, evaluation during training, loss curves.

Each logger is a *sink* of :class:`gantheory.mnist.rundir.RunFiles`: ``train(..., sinks=[...])``
hands it every record the run writes to ``metrics.jsonl`` and calls it after every checkpoint::

    from gantheory.mnist.logs import CSVLog, EvalEvery, TensorBoardLog, loss_curve_figure
    train(cfg, "runs/x", sinks=[CSVLog(), TensorBoardLog(), EvalEvery(5)])
    # gantheory train mnist --tensorboard --eval-every 5 --out runs/x     (the same)

* :class:`CSVLog`: ``metrics.csv``, the JSONL's records as a table (one column per key), rewritten
  from the JSONL at every epoch end and at the end, so a resumed run's CSV is as clean as its log.
* :class:`TensorBoardLog`: ``tensorboard/`` event files through ``torch.utils.tensorboard``
  (``pip install 'gantheory[tensorboard]'``); a resumed run purges the events after its
  checkpoint's step, as the JSONL does.
* :class:`EvalEvery`: every N epochs, the Parzen protocol on a subset (``n_samples`` samples of G,
  sigma on 1,000 validation images, ``n_test`` test images) and, optionally, the classifier
  metrics of the same samples, written as ``"kind": "eval"`` records into the same logs.
* :func:`loss_curve_figure`: the end-of-run picture of the losses, D(x) and D(G(z)) against the
  step, and the evaluations if any.

Sinks run on rank 0 only (the rank that writes files). None of them prints; the evaluation's
progress goes through the ``gantheory`` logger (the CLI shows it on stderr).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError
from ..util.io import atomic_write

LOG = logging.getLogger("gantheory")
#: The paper's Table 1 figure for its MNIST GAN (nats), drawn beside the evaluations.
PAPER_PARZEN = 225.0


class Sink:
    """What :class:`~gantheory.mnist.rundir.RunFiles` calls; every hook does nothing here."""

    def start(self, files, cfg, resumed_from: int | None) -> None:
        """The run (re)starts; ``resumed_from`` is the checkpoint's step or None."""

    def record(self, files, rec: dict) -> None:
        """``rec`` was just appended to ``metrics.jsonl``."""

    def saved(self, files, trainer) -> None:
        """A checkpoint of ``trainer`` was just written (after every epoch, and mid-epoch ones)."""

    def close(self) -> None:
        """The run is over (or failed): flush and release files."""


def read_records(path: str | Path) -> list[dict]:
    """The records of a ``metrics.jsonl``; a half-written last line is skipped."""
    out = []
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def records_csv(records: list[dict]) -> str:
    """The records as CSV text: one column per key in order of first appearance; lists and
    dicts as JSON, missing values empty."""
    columns: dict[str, None] = {}
    for rec in records:
        columns.update(dict.fromkeys(rec))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                         for k, v in rec.items()})
    return buf.getvalue()


class CSVLog(Sink):
    """``metrics.csv`` beside ``metrics.jsonl`` (see the module docstring)."""

    def __init__(self):
        self.files = None

    def write(self) -> None:
        records = read_records(self.files.metrics)
        atomic_write(self.files.out / "metrics.csv", records_csv(records).encode())

    def start(self, files, cfg, resumed_from):
        self.files = files
        self.write()

    def record(self, files, rec):
        if rec["kind"] in ("epoch", "eval"):
            self.write()

    def close(self):
        if self.files is not None:
            self.write()


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("TensorBoard logging needs the tensorboard package: "
                          "pip install 'gantheory[tensorboard]'") from None
    return SummaryWriter


class TensorBoardLog(Sink):
    """Event files in ``<run>/tensorboard``: every numeric key as the scalar ``<kind>/<key>``."""

    SKIP = frozenset({"kind", "step", "epoch"})

    def __init__(self):
        self.writer_class = _summary_writer()  # fails now, before training, when absent
        self.writer = None

    def start(self, files, cfg, resumed_from):
        self.writer = self.writer_class(
            log_dir=str(files.out / "tensorboard"),
            purge_step=None if resumed_from is None else resumed_from + 1)

    def record(self, files, rec):
        for key, value in rec.items():
            if key in self.SKIP or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            self.writer.add_scalar(f"{rec['kind']}/{key}", value, rec["step"])
        if rec["kind"] != "log":
            self.writer.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class EvalEvery(Sink):
    """Evaluate G every ``every`` epochs into the logs (see the module docstring).

    ``classifier(data)`` returns the metrics' classifier (None: Parzen only); ``data_root`` is
    where MNIST is read from (None: the cache). The real-data side of the metrics is computed
    once and reused.
    """

    def __init__(self, every: int, *, n_samples: int = 1000, n_test: int = 1000,
                 n_valid: int = 1000, seed: int = 0, data_root: str | None = None,
                 classifier: Callable[[Any], Any] | None = None):
        for name, v in (("every", every), ("n_samples", n_samples), ("n_test", n_test),
                        ("n_valid", n_valid)):
            if v < 1:
                raise ConfigError(f"--eval-{name.replace('_', '-')} must be >= 1, got {v}"
                                  if name != "every" else f"--eval-every must be >= 1, got {v}")
        self.every, self.n_samples, self.n_test, self.n_valid = every, n_samples, n_test, n_valid
        self.seed, self.data_root, self.classifier_of = seed, data_root, classifier
        self.data = self.clf = self.ref = None
        self.done: set[int] = set()

    def start(self, files, cfg, resumed_from):
        self.done = {r["epoch"] for r in read_records(files.metrics) if r.get("kind") == "eval"}

    def saved(self, files, trainer):
        epoch = trainer.epoch
        if trainer.step_in_epoch or epoch % self.every or epoch in self.done:
            return  # a mid-epoch checkpoint, an epoch off the schedule, or done before a resume
        self.done.add(epoch)
        files.record({"kind": "eval", "step": trainer.step, "epoch": epoch,
                      **self.evaluate(trainer)})

    def evaluate(self, trainer) -> dict:
        import time

        import torch

        from ..metrics.parzen import parzen_protocol
        from ..util.rng import seed_generator
        from .data import load
        from .nets import Shard, draw_z

        t0 = time.perf_counter()
        if self.data is None:
            self.data = load(self.data_root)
        cfg = trainer.cfg
        z = draw_z(self.n_samples, cfg.z_dim, cfg.z, seed_generator(self.seed, "eval-z"), Shard(),
                   "cpu")
        was = trainer.G.training
        trainer.G.eval()
        try:
            x = trainer.sample(z)
        finally:
            trainer.G.train(was)
        LOG.info(f"epoch {trainer.epoch}: evaluating {self.n_samples} samples")
        r = parzen_protocol(x.double(), self.data.valid.x(torch.float64),
                            self.data.test.x(torch.float64)[: self.n_test], n_valid=self.n_valid)
        out: dict[str, Any] = {"parzen_ll": r.mean_ll, "parzen_stderr": r.stderr,
                               "parzen_sigma": r.sigma, "parzen_n_samples": r.n_samples,
                               "parzen_n_test": r.n_test}
        if self.classifier_of is not None:
            from ..metrics.mnist_metrics import mnist_metrics, real_reference

            if self.clf is None:
                self.clf = self.classifier_of(self.data)
                self.ref = real_reference(self.data, self.clf)
            m = mnist_metrics(x, self.data, self.clf, reference=self.ref)
            out.update({k: v for k, v in m.items() if k != "n_samples"})
        out["eval_s"] = round(time.perf_counter() - t0, 3)
        return out


def loss_curve_figure(records: list[dict], title: str = ""):
    """The run's log records against the step: the two losses, mean D(x) and D(G(z)), and
    (when the run was evaluated) the Parzen log-likelihood beside Table 1's figure."""
    from ..plotting import subplots

    logs = [r for r in records if r.get("kind") == "log"]
    evals = [r for r in records if r.get("kind") == "eval" and "parzen_ll" in r]
    panels = 3 if evals else 2
    fig, axes = subplots(1, panels, figsize=(4.2 * panels, 3.4))
    steps = np.array([r["step"] for r in logs])
    for key, label in (("d_loss", "D's loss"), ("g_loss", "G's loss")):
        axes[0].plot(steps, [r[key] for r in logs], lw=1, label=label)
    axes[0].set_ylabel("loss (nats per example)")
    axes[0].set_title("losses", fontsize=10)
    for key, label in (("d_real", "mean D(x), real"), ("d_fake", "mean D(G(z)), generated")):
        axes[1].plot(steps, [r[key] for r in logs], lw=1, label=label)
    axes[1].axhline(0.5, color="grey", ls=":", lw=1, label="D = 1/2 (the optimum, p_g = p_data)")
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel("discriminator output")
    axes[1].set_title("discriminator", fontsize=10)
    if evals:
        ep = [r["epoch"] for r in evals]
        ll = np.array([r["parzen_ll"] for r in evals])
        se = np.array([r["parzen_stderr"] for r in evals])
        axes[2].errorbar(ep, ll, yerr=se, fmt="o-", ms=3, lw=1,
                         label=f"Parzen, {evals[-1]['parzen_n_samples']} samples")
        axes[2].axhline(PAPER_PARZEN, color="grey", ls=":", lw=1,
                        label=f"paper, Table 1 ({PAPER_PARZEN:g}; 10,000 samples)")
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("test log-likelihood (nats)")
        axes[2].set_title("Parzen-window estimate", fontsize=10)
    for ax in axes[:2]:
        ax.set_xlabel("step (minibatch updates)")
    for ax in axes:
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

