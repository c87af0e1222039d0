"""Follow a training run: Parzen log-likelihood of its newest checkpoint every few epochs.

    python experiments/track_parzen.py RUN_DIR [--every 5] [--poll 60] [--until-epoch 250]

The trainer keeps only its last two checkpoints; this watcher evaluates the newest one at epoch 1
and at every multiple of ``--every`` (a missed multiple at the next epoch it sees), appends the result to RUN_DIR/parzen.jsonl and keeps a copy
of the generator's weights (RUN_DIR/snapshots/G-epoch-NNNN.pt) for later metrics. It runs beside
the trainer (both on the CPU) and stops at ``--until-epoch`` or when interrupted.
"""

import argparse
import json
import time
from pathlib import Path

import torch

from gantheory.errors import CheckpointError
from gantheory.metrics.parzen import parzen_protocol
from gantheory.mnist import load
from gantheory.mnist.generate import load_generator, sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--poll", type=float, default=60)
    ap.add_argument("--until-epoch", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    run = Path(args.run)
    log = run / "parzen.jsonl"
    done = {json.loads(line)["epoch"] for line in log.read_text().splitlines()} if log.exists() else set()
    data = load()
    valid, test = data.valid.x(torch.float64), data.test.x(torch.float64)
    while True:
        try:
            G, cfg, info = load_generator(run)
        except CheckpointError:
            time.sleep(args.poll)
            continue
        epoch = info["epoch"]
        # epoch 1 and every multiple of --every; one that was missed (the trainer moved on while
        # the watcher slept) is caught up at the next epoch seen
        due = epoch == 1 or epoch % args.every == 0 or (
            done and epoch // args.every > max(done) // args.every)
        if epoch not in done and due:
            t0 = time.perf_counter()
            res = parzen_protocol(sample(G, cfg, 10_000, seed=0).double(), valid, test)
            (run / "snapshots").mkdir(exist_ok=True)
            torch.save(G.state_dict(), run / "snapshots" / f"G-epoch-{epoch:04d}.pt")
            row = {"epoch": epoch, "step": info["step"], **res.to_dict(),
                   "eval_s": round(time.perf_counter() - t0, 1), "time": time.time()}
            with log.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"epoch {epoch}: {res.mean_ll:.1f} +- {res.stderr:.1f} (sigma {res.sigma:.3f})",
                  flush=True)
            done.add(epoch)
        if epoch >= args.until_epoch:
            return
        time.sleep(args.poll)


if __name__ == "__main__":
    main()
