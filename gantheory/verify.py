"""Check the paper's claims from the command line.

    python -m gantheory.verify --list
    python -m gantheory.verify optimal_d --seeds 5 --plot d_vs_dstar.png
    python -m gantheory.verify optimal_d --p-data "normal(0,1)" --p-g "normal(1,2)" --json
    python -m gantheory.verify all --report report/
    python -m gantheory.verify all --quick          # seconds-long smoke settings of every claim
    python -m gantheory.verify saturation --settings   # the --set keys of a claim, with defaults

A study (``k_steps``) reports what it saw and asserts nothing: it prints REPORTED, its JSON says
``"kind": "study"``, and it counts neither in "N of M claims passed" nor in the exit status.

Exit status: 0 when every claim passed, 1 when one failed, 2 on bad input (an unknown claim, a
malformed density spec, an impossible parameter, a pair outside a claim's range), reported as one
line on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .util.io import atomic_write, check_output_dir, check_output_file, figure_formats
from .config import override, settings_help
from .errors import ConfigError
from .util.cli import Parser, parse_sets, run_command
from .util.env import threads
from .util.markdown import claim_section

# Flags shared by several claims; each maps to the config field of the same name.
COMMON = {"p_data": "--p-data", "p_g": "--p-g", "seeds": "--seeds", "steps": "--steps",
          "plot": "--plot"}


def build_parser() -> argparse.ArgumentParser:
    from .claims import REGISTRY

    p = Parser(prog="python -m gantheory.verify", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("claims", nargs="*", metavar="CLAIM",
                   help=f"one or more of: {', '.join(REGISTRY)}, or 'all'")
    p.add_argument("--list", action="store_true", help="list the claims and exit")
    p.add_argument("--settings", action="store_true",
                   help="list the named claims' config fields (the --set keys: type, default, "
                        "meaning) and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object per claim")
    p.add_argument("--report", metavar="DIR", help="write report.md, results.json and figures")
    p.add_argument("--p-data", help="data density, e.g. 'normal(0,1)'")
    p.add_argument("--p-g", help="generator density, e.g. 'mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))'")
    p.add_argument("--seeds", type=int, help="number of seeds (>= 1)")
    p.add_argument("--steps", type=int, help="training steps")
    p.add_argument("--plot", metavar="FILE", help="save the claim's figure (single claim)")
    p.add_argument("--quick", action="store_true",
                   help="each claim at its seconds-long smoke settings (a check that it runs, "
                        "not its documented verdict)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other config field of the claim, e.g. --set batch=256")
    return p


def configs_for(names: list[str], args: argparse.Namespace) -> dict[str, object]:
    """Each selected claim's config: defaults, then the flags it has, then --set overrides."""
    from .claims import REGISTRY, check_config

    common = {k: getattr(args, k) for k in COMMON if getattr(args, k) is not None}
    extra = {key.replace("-", "_"): val for key, val in parse_sets(args.set).items()}
    if "seeds" in common and common["seeds"] < 1:
        raise ConfigError(f"--seeds must be >= 1, got {common['seeds']}")
    if "steps" in common and common["steps"] < 1:
        raise ConfigError(f"--steps must be >= 1, got {common['steps']}")
    if "plot" in common and len(names) > 1:
        raise ConfigError("--plot takes a single claim; use --report DIR for several")
    out = {}
    for name in names:
        claim = REGISTRY[name]
        fields = {f.name for f in dataclasses.fields(claim.config)}
        changes = {k: v for k, v in common.items() if k in fields}
        missing = sorted(set(common) - fields)
        if missing and len(names) == 1:
            flags = ", ".join(COMMON[k] for k in missing)
            raise ConfigError(f"claim {name} takes no {flags} option")
        changes.update({k: v for k, v in extra.items() if k in fields or len(names) == 1})
        if args.report and "plot" in fields:
            changes["plot"] = str(Path(args.report) / f"{name}.png")
        base = override(claim.config(), claim.quick) if args.quick else claim.config()
        # override() runs the config's own check(); a claim whose check() computes on a grid
        # (optimal_d) makes the memory estimate first, inside that check
        out[name] = override(base, changes)
    unknown = sorted(k for k in extra if not any(
        k in {f.name for f in dataclasses.fields(REGISTRY[n].config)} for n in names))
    if unknown:
        raise ConfigError(f"no selected claim has the option(s): {', '.join(unknown)}")
    for name, cfg in out.items():
        check_config(name, cfg)  # every claim's memory estimate, before the first one runs
    return out


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any claim runs, a --report or --plot that cannot be written."""
    if args.report:
        check_output_dir(args.report, "--report")
    if args.plot:
        check_output_file(args.plot, "--plot", formats=figure_formats())


def run_claims(configs: dict[str, object], progress: bool = False) -> list:
    """Run claims in order; each result carries its wall time and library versions."""
    from .claims import run_claim

    from tqdm import tqdm

    results = []
    bar = tqdm(list(configs.items()), desc="claims", unit="claim", disable=not progress,
               file=sys.stderr)
    for name, cfg in bar:
        bar.set_postfix_str(name)
        results.append(run_claim(name, cfg))
    return results


def exit_status(results: list) -> int:
    """0 when every claim passed, 1 when one failed; studies (REPORTED) do not count."""
    return 0 if all(r.passed for r in results if r.kind == "claim") else 1


def summary_line(results: list) -> str:
    claims = [r for r in results if r.kind == "claim"]
    studies = len(results) - len(claims)
    line = f"{sum(bool(r.passed) for r in claims)} of {len(claims)} claims passed"
    return line + (f"; {studies} stud{'y' if studies == 1 else 'ies'} reported." if studies
                   else ".")


def _atomic_write(path: Path, text: str) -> None:
    atomic_write(path, text.encode("utf-8"), prefix=".")


def write_report(results: list, directory: str) -> None:
    """report.md (statement, result, figures per claim; Markdown that renders as written, see
    :mod:`gantheory.util.markdown`) and results.json, written atomically."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    md = ["# gantheory report", "", summary_line(results), ""]
    for r in results:
        # escaped text, multi-line output in code blocks, unique alt texts, relative paths
        md += claim_section(r.claim, r.status, r.statement, r.lines, r.wall_s, r.figures, d)
    _atomic_write(d / "report.md", "\n".join(md))
    _atomic_write(d / "results.json", json.dumps([r.to_json() for r in results], indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    import torch

    from .claims import REGISTRY

    def body() -> int:
        # The 1-D claims run tiny tensors, where a second intra-op thread costs more in
        # synchronisation than it gains (docs/benchmarks.md); GANTHEORY_THREADS overrides (a
        # malformed value is a one-line error).
        torch.set_num_threads(threads(default=1))
        args = build_parser().parse_args(argv)
        if args.list:
            for c in REGISTRY.values():
                print(f"{c.name:16s} [{c.kind}] {c.statement}")
            return 0
        if not args.claims:
            raise ConfigError("name a claim (see --list) or 'all'")
        names = list(REGISTRY) if args.claims == ["all"] else args.claims
        for n in names:
            if n not in REGISTRY:
                raise ConfigError(f"unknown claim {n!r}; known: {', '.join(REGISTRY)}, all")
        if args.settings:
            print("\n\n".join(settings_help(REGISTRY[n].config(), f"{n}: --set keys (type, "
                                            "default, meaning)") for n in names))
            return 0
        configs = configs_for(names, args)
        check_outputs(args)
        # a bar only for a person watching: not into a log, a pipe or a file
        results = run_claims(configs, progress=len(names) > 1 and not args.json
                             and sys.stderr.isatty())
        if args.report:
            write_report(results, args.report)
        for r in results:
            if args.json:
                print(json.dumps(r.to_json()))
            else:
                print(f"{r.claim}: {r.status} ({r.wall_s:.1f} s)  {r.statement}")
                for reason in r.reasons:
                    print(f"  FAIL reason: {reason}")
                for line in r.lines:
                    print(f"  {line}")
                for f in r.figures:
                    print(f"  figure: {f}")
        if len(results) > 1 and not args.json:
            print(summary_line(results) + (" (quick settings)" if args.quick else ""))
        return exit_status(results)

    return run_command("gantheory", body)

if __name__ == "__main__":
    sys.exit(main())
