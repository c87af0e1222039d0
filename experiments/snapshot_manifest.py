"""The manifest of every scored generator snapshot of a run: its file's SHA-256 and what trained it.

    python experiments/snapshot_manifest.py RUN_DIR [--out FILE]

For each evaluation in RUN_DIR/parzen.jsonl (written by experiments/long_run.py or
experiments/track_parzen.py) it finds the generator weights that were scored,
RUN_DIR/snapshots/G-epoch-NNNN.pt, and writes one JSON row: the epoch, step and Parzen figure, the
snapshot's size and SHA-256, and the session of RUN_DIR/run.json that trained the snapshot's last
step (the last session that resumed before it and had started when the snapshot was scored),
with that session's device, torch version, git commit and thread count where the session
recorded them (sessions before these were recorded have null there). The snapshots stay out of
git (about 10 MB each); the manifest goes in beside the figures, so a snapshot kept elsewhere can
be checked against the number it earned.

A snapshot that is gone is listed with ``"sha256": null`` and named on stderr; a missing or
unreadable parzen.jsonl, run.json or snapshot, a malformed row or an unwritable --out is a
one-line error (exit status 2) and writes nothing. The output is written atomically (default:
RUN_DIR/snapshots.jsonl; a missing folder is created).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from gantheory.errors import GanTheoryError
from gantheory.mnist.checkpoint import atomic_write
from gantheory.util.io import check_output_file, sha256_hex


def _started(session: dict) -> float | None:
    """A session's start as seconds since the epoch (None when it did not record one)."""
    try:
        return datetime.fromisoformat(session["started"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def session_of(step: int, sessions: list[dict], written: float | None = None) -> int | None:
    """Index of the session that trained ``step``: the last one that resumed before it (a
    session that resumed from step r trains steps r+1 on; the first starts from step 0) among
    those that had started when its evaluation was ``written`` (seconds since the epoch).

    The time matters after a resume from an older checkpoint: the rerun retrains epochs that were
    scored already, but keeps their rows and snapshots (long_run.py skips scored epochs), so those
    still belong to the session that first trained them. None when there are no sessions.
    """
    owner = None
    for i, s in enumerate(sessions):
        began = _started(s)
        if written is not None and began is not None and began > written:
            continue
        if (s.get("resumed_from_step") or 0) < step:
            owner = i
    return owner


def manifest_rows(run: Path, evaluations: list[dict], sessions: list[dict]) -> list[dict]:
    rows = []
    for ev in evaluations:
        if not isinstance(ev.get("epoch"), int) or isinstance(ev["epoch"], bool):
            raise ManifestError(f"{run / 'parzen.jsonl'}: an evaluation's epoch is "
                                f"{ev.get('epoch')!r}, not a whole number")
        path = run / "snapshots" / f"G-epoch-{ev['epoch']:04d}.pt"
        i = session_of(ev["step"], sessions, ev.get("time"))
        s = sessions[i] if i is not None else {}
        row = {"epoch": ev["epoch"], "step": ev["step"], "mean_ll": ev["mean_ll"],
               "stderr": ev["stderr"], "sigma": ev["sigma"],
               "file": path.relative_to(run).as_posix(), "bytes": None, "sha256": None,
               "session": i, "session_started": s.get("started"), "device": s.get("device"),
               "torch": (s.get("versions") or {}).get("torch"),
               "git": s.get("git"), "torch_threads": s.get("torch_threads")}
        if path.exists():
            try:
                blob = path.read_bytes()  # about 10 MB
            except OSError as exc:
                raise ManifestError(f"{path}: {exc.strerror or exc}") from None
            row["sha256"], row["bytes"] = sha256_hex(blob), len(blob)
        rows.append(row)
    return rows


class ManifestError(Exception):
    """An input the manifest cannot be made from; the message is the whole error line."""


def _read(path: Path, jsonl: bool):
    try:
        text = path.read_text()
        return [json.loads(s) for s in text.splitlines() if s.strip()] if jsonl \
            else json.loads(text)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ManifestError(f"{path}: {reason}") from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--out", metavar="FILE", help="default: RUN/snapshots.jsonl")
    args = ap.parse_args(argv)
    run = Path(args.run)
    out = Path(args.out) if args.out else run / "snapshots.jsonl"
    try:
        check_output_file(out, "--out")
        evaluations = _read(run / "parzen.jsonl", jsonl=True)
        manifest = _read(run / "run.json", jsonl=False)
        try:
            rows = manifest_rows(run, evaluations, manifest.get("sessions", []))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ManifestError(f"{run}: a malformed evaluation or session ({exc!r})") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, "".join(json.dumps(r) + "\n" for r in rows).encode())
    except (ManifestError, GanTheoryError, OSError) as exc:
        print(f"snapshot_manifest: error: {exc}", file=sys.stderr)
        return 2
    gone = [r["epoch"] for r in rows if r["sha256"] is None]
    if gone:
        print(f"snapshot_manifest: {len(gone)} scored snapshot(s) missing, epochs {gone}",
              file=sys.stderr)
    print(f"{out}: {len(rows)} scored snapshots, {len(rows) - len(gone)} hashed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
