"""Train the `paper` preset for a long time, scoring it with Table 1's Parzen protocol as it goes.

    python experiments/long_run.py RUN [--device cuda] [--epochs 3000] [--every 25]
                                       [--stop-after-s 420] [--data DIR] [--resume]
                                       [--z normal]

One process does what ``gantheory train mnist`` and ``experiments/track_parzen.py`` do side by
side, for a machine where the watcher cannot keep up with the trainer (a GPU runs an epoch in
about a second): at epoch 1 and every ``--every`` epochs, right after that epoch's checkpoint,
it draws the same 10,000 samples as ``track_parzen.py`` (noise seed 0, G's weights copied to the
CPU), runs the paper's Parzen protocol on the training device, appends the row to
RUN/parzen.jsonl (track_parzen.py's format) and keeps G's weights in RUN/snapshots/.

``--stop-after-s`` interrupts the run after that much wall time (as Ctrl-C or SIGTERM do); the newest
epoch checkpoint stays, and ``--resume`` continues from it, on this device or another (see
``docs/reproduction.md`` for what a change of device does to the random streams). ``--z normal``
starts a run with Gaussian instead of uniform noise (the question of docs/reproduction.md's
"What the original leaves open"); a resumed run keeps the noise it started with.
"""

from __future__ import annotations

import argparse
import copy
import json
import signal
import sys
import threading
import time
from pathlib import Path

import torch

from gantheory.metrics.parzen import parzen_protocol
from gantheory.mnist import load
from gantheory.config import override
from gantheory.mnist.config import PRESETS
from gantheory.mnist.generate import sample
from gantheory.mnist.logs import Sink
from gantheory.mnist.rundir import train


class ParzenEvery(Sink):
    """After the checkpoint of epoch 1 and of every ``every``-th epoch: the full protocol."""

    def __init__(self, every: int, data_root: str | None, device: torch.device):
        self.every, self.device = every, device
        data = load(data_root)
        self.valid = data.valid.x(torch.float64).to(device)
        self.test = data.test.x(torch.float64).to(device)
        self.done: set[int] = set()

    def start(self, files, cfg, resumed_from):
        log = files.out / "parzen.jsonl"
        if log.exists():
            self.done = {json.loads(line)["epoch"] for line in log.read_text().splitlines()}

    def saved(self, files, trainer):
        epoch = trainer.epoch
        if trainer.step_in_epoch or epoch in self.done or not (epoch == 1 or epoch % self.every == 0):
            return
        t0 = time.perf_counter()
        G = copy.deepcopy(trainer.G).cpu().eval()
        x = sample(G, trainer.cfg, 10_000, seed=0).double().to(self.device)
        res = parzen_protocol(x, self.valid, self.test)
        snaps = files.out / "snapshots"
        snaps.mkdir(exist_ok=True)
        torch.save(G.state_dict(), snaps / f"G-epoch-{epoch:04d}.pt")
        row = {"epoch": epoch, "step": trainer.step, **res.to_dict(),
               "eval_s": round(time.perf_counter() - t0, 1), "time": time.time(),
               "device": str(self.device)}
        with (files.out / "parzen.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")
        self.done.add(epoch)
        print(f"epoch {epoch}: Parzen {res.mean_ll:.1f} +- {res.stderr:.1f} (sigma {res.sigma:.3f}),"
              f" {trainer.wall_s:.0f} s of training", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--epochs", type=int, default=3000)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--stop-after-s", type=float, default=0.0)
    ap.add_argument("--data", default=None)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--cuda-graph", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--z", choices=("uniform", "normal"), default=None,
                    help="the noise of a new run (default: the paper preset's, uniform)")
    ap.add_argument("--train-images", type=int, default=None,
                    help="fewer training images (a quick dry run of this script only)")
    args = ap.parse_args()
    if args.resume and args.z is not None:
        ap.error("--z chooses the noise of a new run; a resumed run keeps its own")
    sets = {"epochs": args.epochs, "sample_every": args.every, "figures": False,
            "device": args.device, "cuda_graph": args.cuda_graph, "threads": args.threads}
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    sink = ParzenEvery(args.every, args.data, device)
    # A process started in the background (`nohup ... &`) inherits SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: install it, and let SIGTERM stop the run the same way
    # (after the last complete checkpoint), so that the timer below and `kill` both work.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.stop_after_s > 0:
        timer = threading.Timer(args.stop_after_s, lambda: signal.raise_signal(signal.SIGINT))
        timer.daemon = True
        timer.start()
    paper = {} if args.train_images is None else {"train_images": args.train_images}
    if args.z is not None:
        paper["z"] = args.z
    cfg = None if args.resume else override(PRESETS["paper"], paper)
    try:
        summary = train(cfg, args.run, resume=args.resume, overrides=sets, data_root=args.data,
                        echo=True, argv=sys.argv, sinks=[sink])
    except KeyboardInterrupt:
        print("stopped; resume with --resume", flush=True)
        return 0
    print(json.dumps({k: v for k, v in summary.items() if k != "epoch_s"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
