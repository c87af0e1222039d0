"""``gantheory sample``: draw samples of a trained MNIST generator into a file or a folder.

    gantheory sample --checkpoint runs/paper --n 10000 --out samples.npz   # + samples-grid.png
    gantheory sample --checkpoint runs/paper --n 100 --out samples/        # 000000.png, ...
    gantheory eval parzen --samples samples.npz                            # scores them again

``FILE.npz`` holds one float32 array ``samples`` of shape ``(N, 784)``, pixels in [0, 1]; a folder
gets one 28 x 28 grey PNG per sample (``round(255 x)``), in order. Either way a grid of the first
100 samples goes beside it (``FILE-grid.png``, ``DIR-grid.png``; never inside the folder, which
``eval --samples`` reads). The same checkpoint and ``--seed`` give the same samples as ``eval
--checkpoint`` draws. An existing output needs ``--overwrite``. ``--json`` prints one object
(keys in docs/training.md).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from .errors import ConfigError
from .util.cli import Parser, add_version, json_result, run_command

PROG = "gantheory sample"
GRID = 100


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Draw samples of a trained MNIST generator into a file or "
               "a folder.\n\nAn .npz file gets one float32 array 'samples' (N, 784) in [0, 1]; a folder gets\n"
               "one 28x28 PNG per sample. A grid of the first 100 goes beside the output.")
    add_version(p)
    p.add_argument("--checkpoint", required=True, metavar="RUN",
                   help="a run directory (its newest verified checkpoint) or a ckpt-*.pt file")
    p.add_argument("--n", type=int, default=10_000, metavar="N", help="number of samples")
    p.add_argument("--out", required=True, metavar="FILE.npz|DIR",
                   help="an .npz file, or a folder for PNGs")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of G's noise")
    p.add_argument("--no-grid", action="store_true", help="no grid PNG beside the output")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def grid_path(out: Path) -> Path:
    return out.with_name(f"{out.stem if out.suffix == '.npz' else out.name}-grid.png")


def check_out(out: Path, overwrite: bool, grid: bool) -> str:
    """Every check of ``--out`` (and of the grid beside it), before any sample is drawn; returns
    the format, ``npz`` or ``png``."""
    from .util.io import check_output_dir, check_output_file

    if out.suffix.lower() == ".npz":
        if out.exists() and not out.is_dir() and not overwrite:
            raise ConfigError(f"{out} exists; pass --overwrite to replace it")
        check_output_file(out, "--out")
        fmt = "npz"
    elif out.suffix:
        raise ConfigError(f"--out {out}: expected FILE.npz or a folder (no suffix)")
    else:
        check_output_dir(out, "--out")
        if out.is_dir() and any(out.glob("*.png")) and not overwrite:
            raise ConfigError(f"{out} already holds PNGs; pass --overwrite to replace them")
        fmt = "png"
    if grid:
        check_output_file(grid_path(out), "--out's grid")
    return fmt


def _write_pngs(x, out: Path) -> None:
    """One PNG per sample in the folder ``out``, replacing the PNGs it held only once every new
    one is written: the new ones go to a temporary folder inside ``out`` first, the old ones are
    moved aside into another, and a failure puts everything back (nothing lost, nothing half
    written). Other files in ``out`` are left alone."""
    import os
    import shutil
    import tempfile

    import numpy as np
    from PIL import Image

    from .util.io import TEMP_SUFFIX

    created = [p for p in [out, *out.parents] if not p.exists()]
    out.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(dir=out, prefix=".tmp-new.", suffix=TEMP_SUFFIX))
    old = Path(tempfile.mkdtemp(dir=out, prefix=".tmp-old.", suffix=TEMP_SUFFIX))
    moved_old, moved_new = [], []
    try:
        pixels = (x.reshape(-1, 28, 28).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
        for i, image in enumerate(pixels):
            Image.fromarray(image, mode="L").save(new / f"{i:06d}.png")
        for p in sorted(out.glob("*.png")):
            os.replace(p, old / p.name)
            moved_old.append(p.name)
        for p in sorted(new.iterdir()):
            os.replace(p, out / p.name)
            moved_new.append(p.name)
    except BaseException:
        for name in moved_new:
            with _suppress():
                os.unlink(out / name)
        for name in moved_old:
            with _suppress():
                os.replace(old / name, out / name)
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        for p in created:  # the folders this call made, innermost first
            with _suppress():
                p.rmdir()
        raise
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def _suppress():
    import contextlib

    return contextlib.suppress(OSError)


def write_samples(x, out: Path, overwrite: bool) -> str:
    """Write ``(N, 784)`` samples to an .npz file or a folder of PNGs; returns the format.

    Either way the old output survives a failure: an .npz is written atomically, a folder's
    PNGs are replaced only once every new one is written (:func:`_write_pngs`)."""
    import numpy as np

    from .util.io import atomic_write

    fmt = check_out(out, overwrite, grid=False)
    if fmt == "npz":
        buf = io.BytesIO()
        np.savez_compressed(buf, samples=x.float().numpy())
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(out, buf.getvalue())
        except OSError as exc:
            raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None
        return fmt
    try:
        _write_pngs(x, out)
    except OSError as exc:
        raise ConfigError(f"cannot write into {out}: {exc.strerror or exc}") from None
    return fmt


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        args = build_parser().parse_args(argv)
        if args.n < 1:
            raise ConfigError(f"--n must be >= 1, got {args.n}")
        from .mnist.figures import samples_figure
        from .mnist.generate import load_generator, sample
        from .plotting import save_figure

        out = Path(args.out)
        check_out(out, args.overwrite, grid=not args.no_grid)  # before the checkpoint is read
        G, cfg, info = load_generator(args.checkpoint)
        x = sample(G, cfg, args.n, seed=args.seed, flag="--n")
        fmt = write_samples(x, out, args.overwrite)
        grid = None
        if not args.no_grid:
            grid = save_figure(samples_figure(x[:GRID], f"{min(GRID, args.n)} samples of "
                                              f"{Path(info['checkpoint']).name}"), grid_path(out))
        source = {"kind": "checkpoint", "path": info["checkpoint"], "step": info["step"],
                  "epoch": info["epoch"], "seed": args.seed, "n_samples": args.n}
        result = json_result("sample", {"source": source, "out": str(out), "format": fmt,
                                        "n_samples": args.n, "grid": grid})
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{args.n} samples of {info['checkpoint']} (epoch {info['epoch']}) -> {out}"
                  + (f"; grid: {grid}" if grid else ""))
        return 0

    return run_command(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
