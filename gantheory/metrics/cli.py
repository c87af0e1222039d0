"""``gantheory eval parzen|metrics``: measure a trained MNIST generator, or any file of samples.

    gantheory eval parzen --checkpoint runs/paper [--n-samples 10000] [--references] [--plot F]
    gantheory eval parzen --samples their_gan.npz --json    # another GAN's samples, same protocol
    gantheory eval metrics --checkpoint runs/paper
    python -m gantheory.metrics.cli parzen ...               # the same

``--checkpoint RUN`` draws ``--n-samples`` samples of the run's generator; ``--samples FILE``
reads them from an .npy/.npz file or a folder of PNGs (:mod:`gantheory.metrics.samples`). Text by
default; ``--json`` prints one object whose keys (``schema`` 1) are documented in
docs/evaluation.md, "The eval commands' JSON"; both sources give the same keys. Slow first-time
steps (the MNIST fetch, the classifier's training) say so on stderr. Bad input (a missing run, a
corrupt checkpoint, a malformed samples file, a sigma outside [1e-4, 1e4], an unwritable --plot)
gives one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import ConfigError
from ..util.cli import Parser, add_version, json_result, run_command, status
from ..util.env import threads as env_threads

PROG = "gantheory eval"
PARZEN = """\
The paper's Parzen-window protocol (Goodfellow et al. 2014, Section 5, Table 1).

Fit an isotropic Gaussian Parzen window on the samples, choose its width sigma on the first
--n-valid validation images from the grid logspace(-1, 0, 10), and report the mean
log-likelihood (nats) of the 10,000 test images with its standard error. Table 1 gives
225 +- 2 for the paper's GAN. --references scores real training images and uniform noise
under the same protocol, the two sanity figures a generator should land between.

A high-variance estimator in 784 dimensions (Theis et al. 2016): see docs/evaluation.md.
Takes about 10 s for 10,000 samples on a 2-core CPU (three times that with --references)."""
METRICS = """\
MNIST-native metrics of the samples, in the feature space of the toolkit's own classifier.

The Frechet distance between Gaussians fitted to the classifier's features of the samples
and of the training images, beside its real-vs-real floor (test vs train); the histogram of
predicted classes, its KL divergence to the data's class frequencies and the classes covered;
the distance of each sample to its nearest training image, beside the test images' own.

The first run trains the classifier (about 90 s on a 2-core CPU) and caches it beside the
MNIST cache. Then about 2.5 minutes for 10,000 samples, most of it nearest-neighbour
searches over the 50,000 training images (1.5 minutes of it the real-data side, the test
images' own distances). Keys: docs/evaluation.md."""
#: A classifier config for the metrics (None: the documented default); tests set a small one.
CLASSIFIER_CONFIG = None


def _common(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("what to score (one of)").add_mutually_exclusive_group(
        required=True)
    src.add_argument("--checkpoint", metavar="RUN",
                     help="a run directory (its newest verified checkpoint) or a ckpt-*.pt file")
    src.add_argument("--samples", metavar="FILE",
                     help="samples of any generator: .npy/.npz, (N, 784) or (N, 28, 28), uint8 "
                          "or floats in [0, 1], or a folder of 28x28 PNGs")
    p.add_argument("--n-samples", type=int, default=10_000, metavar="N",
                   help="samples drawn from --checkpoint's generator")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of G's noise (--checkpoint)")
    p.add_argument("--data", metavar="DIR",
                   help="your own copy of the MNIST files (default: the cache, see README)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (keys in docs/evaluation.md)")
    add_version(p)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Measure a trained MNIST generator, or a file of samples "
                                      "from any generator.",
               epilog="'gantheory eval parzen --help' and 'gantheory eval metrics --help' "
                      "describe each measurement.")
    add_version(p)
    sub = p.add_subparsers(dest="what", metavar="{parzen,metrics}", required=True,
                           parser_class=Parser)
    parzen = sub.add_parser("parzen", prog=f"{PROG} parzen", description=PARZEN,
                            help="the paper's Parzen-window log-likelihood (Table 1)")
    _common(parzen)
    parzen.add_argument("--n-valid", type=int, default=1000, metavar="N",
                        help="validation images on which sigma is chosen")
    parzen.add_argument("--sigmas", metavar="S1,S2,...", help="comma-separated sigma grid (default: logspace(-1, 0, "
                                         "10), the paper's)")
    parzen.add_argument("--split", choices=["test", "valid"], default="test",
                        help="the split whose log-likelihood is reported")
    parzen.add_argument("--references", action="store_true",
                        help="also score real training images and uniform noise")
    parzen.add_argument("--plot", metavar="FILE", help="save the sigma curve as an image")
    metrics = sub.add_parser("metrics", prog=f"{PROG} metrics", description=METRICS,
                             help="classifier Frechet distance, classes covered, nearest images")
    _common(metrics)
    metrics.add_argument("--references", action="store_true",
                         help="also measure the validation images and uniform noise (minutes)")
    return p


def _sigmas(text: str | None):
    if text is None:
        return None
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--sigmas expects comma-separated numbers, got {text!r}") from None


def load_data(root: str | None):
    """MNIST, saying so on stderr when it must be fetched first."""
    from ..mnist import load
    from ..mnist.data import CACHE_NPZ, cache_dir

    if root is None and not (cache_dir() / CACHE_NPZ).exists():
        status(f"fetching MNIST once (about 6 s, 55 MB; cached in {cache_dir()}, "
               f"GANTHEORY_DATA moves it)")
    return load(root)


def samples_of(args):
    """The samples to score, ``(N, 784)`` in [0, 1], and the ``source`` dict of the result."""
    if args.samples is not None:
        from .samples import load_samples

        return load_samples(args.samples)
    from ..mnist.generate import load_generator, sample

    G, cfg, info = load_generator(args.checkpoint)
    x = sample(G, cfg, args.n_samples, seed=args.seed)
    return x, {"kind": "checkpoint", "path": info["checkpoint"], "step": info["step"],
               "epoch": info["epoch"], "seed": args.seed, "n_samples": int(x.shape[0])}


def run_parzen(args, samples, data) -> dict:
    import torch

    from .parzen import parzen_protocol, reference_bounds

    target = data.test if args.split == "test" else data.valid
    status(f"Parzen window of {len(samples)} samples: sigma on {min(args.n_valid, len(data.valid))}"
           f" validation images, then the {len(target)} {args.split} images")
    result = parzen_protocol(samples.double(), data.valid.x(torch.float64),
                             target.x(torch.float64), sigmas=_sigmas(args.sigmas),
                             n_valid=args.n_valid)
    out = {"parzen": result.to_dict()}
    if args.references:
        status("the references: the same protocol on training images and on uniform noise")
        refs = reference_bounds(data.train.x(torch.float64), data.valid.x(torch.float64),
                                target.x(torch.float64), n_samples=min(len(samples),
                                                                       len(data.train)),
                                sigmas=_sigmas(args.sigmas), n_valid=args.n_valid)
        out["references"] = {k: v.to_dict() for k, v in refs.items()}
    if args.plot:
        from ..plotting import plot_sigma_curve, save_figure

        curves = {"G": result.sigma_curve}
        curves.update({k: v["sigma_curve"] for k, v in out.get("references", {}).items()})
        chosen = {"G": result.sigma}
        chosen.update({k: v["sigma"] for k, v in out.get("references", {}).items()})
        out["figure"] = str(save_figure(plot_sigma_curve(curves, chosen=chosen), args.plot))
    return out


def classifier_for(data):
    """The metrics' classifier, saying so on stderr when it must be trained first."""
    from .classifier import ClassifierConfig, cache_file, cache_key, get_classifier

    cfg = CLASSIFIER_CONFIG or ClassifierConfig()
    path = cache_file(cache_key(data, cfg))
    if not path.exists():
        status(f"training the MNIST classifier once (about 90 s on 2 cores; cached as {path})")
    return get_classifier(data, cfg)


def run_metrics(args, samples, data) -> dict:
    from .mnist_metrics import mnist_metrics, real_reference, sanity_references

    clf = classifier_for(data)
    status(f"nearest-neighbour search: {len(data.test)} test images and {len(samples)} samples "
           f"against {len(data.train)} training images")
    ref = real_reference(data, clf)
    out = {"metrics": mnist_metrics(samples, data, clf, reference=ref)}
    if args.references:
        status("the references: validation images and uniform noise (two more searches)")
        out["references"] = sanity_references(data, clf, n_samples=len(samples), reference=ref)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        args = build_parser().parse_args(argv)
        if args.n_samples < 1 or getattr(args, "n_valid", 1) < 1:
            raise ConfigError("--n-samples and --n-valid must be >= 1")
        if args.what == "parzen":  # every check that needs no data, before any work
            from .parzen import check_request
            check_request(args.n_samples, n_valid=args.n_valid, sigmas=_sigmas(args.sigmas),
                          references=args.references)
            if args.plot:
                from ..util.io import check_output_file, figure_formats

                check_output_file(args.plot, "--plot", formats=figure_formats())
        else:
            from .mnist_metrics import check_request
            check_request(args.n_samples)
        n_threads = env_threads(None)  # $GANTHEORY_THREADS; unset leaves torch's default
        if n_threads is not None:
            import torch

            torch.set_num_threads(n_threads)
        t0 = time.perf_counter()
        samples, source = samples_of(args)
        data = load_data(args.data)
        run = run_parzen if args.what == "parzen" else run_metrics
        out = {"source": source, **run(args, samples, data),
               "wall_s": round(time.perf_counter() - t0, 2)}
        report(args, json_result(f"eval {args.what}", out))
        return 0

    return run_command(PROG, body)


def _source_line(src: dict) -> str:
    if src["kind"] == "checkpoint":
        return f"{src['path']} (epoch {src['epoch']}, {src['n_samples']} samples)"
    return f"{src['path']} ({src['n_samples']} samples, {src['format']} {src['dtype']})"


def report(args, out: dict) -> None:
    """Print the result: the one JSON object with ``--json``, else text."""
    if args.json:
        print(json.dumps(out))
        return
    print(_source_line(out["source"]))
    if args.what == "parzen":
        r = out["parzen"]
        print(f"  Parzen log-likelihood on {args.split} = {r['mean_ll']:.1f} +- "
              f"{r['stderr']:.1f} nats (sigma {r['sigma']:.3f}); paper, Table 1: 225 +- 2")
        for name, ref in out.get("references", {}).items():
            print(f"  reference {name}: {ref['mean_ll']:.1f} +- {ref['stderr']:.1f} "
                  f"(sigma {ref['sigma']:.3f})")
        if "figure" in out:
            print(f"  figure: {out['figure']}")
        print("  (a high-variance estimator in 784 dimensions: see docs/evaluation.md)")
        return
    rows = {"": out["metrics"], **{f"reference {k}": v
                                    for k, v in out.get("references", {}).items()}}
    for name, m in rows.items():
        lead = f"  {name}: " if name else "  "
        print(f"{lead}classifier Frechet distance {m['frechet_distance_classifier']:.2f} "
              f"(real-vs-real floor {m['fd_floor_train_vs_test']:.2f}); classes covered "
              f"{m['classes_covered']}/10, KL to the data's classes {m['class_kl_to_data']:.3f}; "
              f"nearest training image: median {m['nn_dist_median']:.2f} (test images: "
              f"{m['nn_dist_test_reference_median']:.2f}), min {m['nn_dist_min']:.2f}")
    print("  (keys and how to read them: docs/evaluation.md)")


if __name__ == "__main__":
    sys.exit(main())
