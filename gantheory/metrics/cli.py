"""``gantheory eval parzen|metrics``: measure a trained MNIST generator.

    gantheory eval parzen --checkpoint runs/paper [--n-samples 10000] [--references] [--plot F]
    gantheory eval metrics --checkpoint runs/paper

``parzen`` runs the paper's protocol (Table 1): 10,000 samples of G, sigma chosen on the first
1,000 validation images from logspace(-1, 0, 10), the mean log-likelihood of the 10,000 test images
and its standard error. ``--references`` adds the same protocol with real training images and with
uniform noise in place of G's samples. ``metrics`` reports the MNIST-native measurements of
:mod:`gantheory.metrics.mnist_metrics`. Both print JSON with ``--json`` (keys in
docs/evaluation.md). Bad input (a missing run, a corrupt checkpoint, a sigma <= 0) gives one line
on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import time

from ..errors import ConfigError
from ..util.cli import Parser, run_command


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="gantheory eval", description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["parzen", "metrics"])
    p.add_argument("--checkpoint", required=True, metavar="RUN",
                   help="a run directory (its newest verified checkpoint) or a ckpt-*.pt file")
    p.add_argument("--n-samples", type=int, default=10_000)
    p.add_argument("--n-valid", type=int, default=1000)
    p.add_argument("--sigmas", help="comma-separated sigma grid (default logspace(-1, 0, 10))")
    p.add_argument("--split", choices=["test", "valid"], default="test",
                   help="the split whose log-likelihood is reported")
    p.add_argument("--seed", type=int, default=0, help="seed of G's noise")
    p.add_argument("--references", action="store_true",
                   help="also score real training images and uniform noise (parzen)")
    p.add_argument("--data", metavar="DIR", help="MNIST files (see gantheory.mnist.load)")
    p.add_argument("--plot", metavar="FILE", help="save the sigma curve (parzen)")
    p.add_argument("--json", action="store_true")
    return p


def _sigmas(text: str | None):
    if text is None:
        return None
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--sigmas expects comma-separated numbers, got {text!r}") from None


def run_parzen(args, G, cfg, data) -> dict:
    import torch

    from ..mnist.generate import sample
    from .parzen import parzen_protocol, reference_bounds

    target = data.test if args.split == "test" else data.valid
    samples = sample(G, cfg, args.n_samples, seed=args.seed).double()
    result = parzen_protocol(samples, data.valid.x(torch.float64), target.x(torch.float64),
                             sigmas=_sigmas(args.sigmas), n_valid=args.n_valid)
    out = {"parzen": result.to_dict()}
    if args.references:
        refs = reference_bounds(data.train.x(torch.float64), data.valid.x(torch.float64),
                                target.x(torch.float64), n_samples=args.n_samples,
                                sigmas=_sigmas(args.sigmas), n_valid=args.n_valid)
        out["references"] = {k: v.to_dict() for k, v in refs.items()}
    if args.plot:
        from ..plotting import plot_sigma_curve, save_figure

        curves = {"G": result.sigma_curve}
        curves.update({k: v["sigma_curve"] for k, v in out.get("references", {}).items()})
        out["figure"] = save_figure(plot_sigma_curve(curves), args.plot)
    return out


def run_metrics(args, G, cfg, data) -> dict:
    from ..mnist.generate import sample
    from .classifier import get_classifier
    from .mnist_metrics import mnist_metrics

    samples = sample(G, cfg, args.n_samples, seed=args.seed)
    return {"metrics": mnist_metrics(samples, data, get_classifier(data))}


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = build_parser().parse_args(argv)
        if args.n_samples < 1 or args.n_valid < 1:
            raise ConfigError("--n-samples and --n-valid must be >= 1")
        from ..mnist import load
        from ..mnist.generate import load_generator

        t0 = time.perf_counter()
        G, cfg, info = load_generator(args.checkpoint)
        data = load(args.data)
        out = run_parzen(args, G, cfg, data) if args.what == "parzen" else run_metrics(
            args, G, cfg, data)
        out = {"checkpoint": info, **out, "wall_s": round(time.perf_counter() - t0, 2)}
        report(args, info, out)
        return 0

    return run_command("gantheory eval", body)


def report(args, info: dict, out: dict) -> None:
    """Print the result: one JSON object with ``--json``, else text."""
    if args.json:
        print(json.dumps(out))
    elif args.what == "parzen":
        r = out["parzen"]
        print(f"{info['checkpoint']} (epoch {info['epoch']}): Parzen log-likelihood on "
              f"{args.split} = {r['mean_ll']:.1f} +- {r['stderr']:.1f} (sigma {r['sigma']:.3f}, "
              f"{r['n_samples']} samples); paper, Table 1: 225 +- 2")
        for name, ref in out.get("references", {}).items():
            print(f"  reference {name}: {ref['mean_ll']:.1f} +- {ref['stderr']:.1f} "
                  f"(sigma {ref['sigma']:.3f})")
        print("  (a high-variance estimator in 784 dimensions: see docs/evaluation.md)")
    else:
        print(json.dumps(out["metrics"], indent=2))
