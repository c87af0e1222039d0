"""The ``gantheory`` console script: one entry point for every command.

    gantheory --help                      # every command, one line each
    gantheory verify optimal_d            # = python -m gantheory.verify optimal_d
    gantheory train mnist --preset paper  # = python -m gantheory.mnist.cli --preset paper
    gantheory sample --checkpoint RUN --n 100 --out samples.npz
    gantheory eval parzen --checkpoint RUN        # or --samples FILE (another GAN's samples)
    gantheory eval metrics --samples samples.npz

Each command's own module parses its arguments (``gantheory CMD --help``); this file only lists
and dispatches them, from the one table :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
import sys

from .util.cli import run_command, version_string

#: (words, module, one-line summary); the help and the dispatch both read this table.
COMMANDS: list[tuple[tuple[str, ...], str, str]] = [
    (("verify",), "gantheory.verify",
     "check the paper's claims by computation (seconds to minutes each)"),
    (("train", "mnist"), "gantheory.mnist.cli",
     "train the paper's MNIST GAN (the paper preset: 250 epochs, hours on a CPU)"),
    (("sample",), "gantheory.sample",
     "draw samples of a trained generator into an .npz or a folder of PNGs"),
    (("eval", "parzen"), "gantheory.metrics.cli",
     "the paper's Parzen-window log-likelihood (Table 1) of a checkpoint or samples"),
    (("eval", "metrics"), "gantheory.metrics.cli",
     "MNIST-native metrics: classifier Frechet distance, classes, nearest images"),
]
#: Words that only group commands (``gantheory eval --help`` lists the group's commands).
GROUPS = {"train": "train a model", "eval": "measure a trained generator or a file of samples"}


def usage() -> str:
    width = max(len(" ".join(w)) for w, _, _ in COMMANDS)
    lines = ["usage: gantheory [--version] [--help] COMMAND [options]", "",
             "Goodfellow et al. (2014), 'Generative Adversarial Nets': its claims checked by",
             "computation and its MNIST experiment reproduced.", "", "commands:"]
    lines += [f"  {' '.join(w):{width}s}  {summary}" for w, _, summary in COMMANDS]
    lines += ["", "'gantheory COMMAND --help' describes a command and its options.",
              "Exit status: 0 success; 1 a claim failed (verify); 2 bad input, one line on "
              "stderr;", "130 interrupted."]
    return "\n".join(lines)


def group_usage(group: str) -> str:
    rows = [(w, s) for w, _, s in COMMANDS if w[0] == group]
    width = max(len(" ".join(w)) for w, _ in rows)
    lines = [f"usage: gantheory {group} {{{','.join(w[1] for w, _ in rows)}}} [options]", "",
             f"{GROUPS[group]}:"]
    lines += [f"  gantheory {' '.join(w):{width}s}  {s}" for w, s in rows]
    lines += ["", f"'gantheory {group} COMMAND --help' describes a command and its options."]
    return "\n".join(lines)


def _dispatch(argv: list[str]):
    """``(module, its argv)`` when ``argv`` names a command with a module of its own, else None
    (this file answers: the help, the version, an unknown command)."""
    for words, module, _ in COMMANDS:
        if tuple(argv[: len(words)]) == words:
            rest = argv[len(words):]
            if words == ("verify",) and "--version" in rest:  # verify's own parser has none
                return None
            if words[0] == "eval":  # one parser with a subcommand per measurement
                rest = [words[1]] + rest
            return module, rest
    if argv and argv[0] == "eval":  # `gantheory eval --help`, `--version`: its own parser
        return "gantheory.metrics.cli", argv[1:]
    return None


def _own(argv: list[str]) -> int:
    """What this file prints itself: the help, the version, a group's commands, an error."""
    if not argv:
        print(usage(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] == "--version" or argv[:1] == ["verify"]:
        print(version_string())
        return 0
    if argv[0] in GROUPS and (len(argv) == 1 or argv[1] in ("-h", "--help", "--version")):
        if len(argv) > 1 and argv[1] == "--version":
            print(version_string())
            return 0
        print(group_usage(argv[0]), file=sys.stdout if len(argv) > 1 else sys.stderr)
        return 0 if len(argv) > 1 else 2
    where = " ".join(argv[:2]) if argv[0] in GROUPS else argv[0]
    print(f"gantheory: error: unknown command {where!r} (see gantheory --help)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    target = _dispatch(argv)
    if target is not None:  # each command runs under its own run_command
        module, rest = target
        return int(importlib.import_module(module).main(rest) or 0)
    # the help and the rest under run_command too: `gantheory --help | head` is a quiet exit
    return run_command("gantheory", lambda: _own(argv))


if __name__ == "__main__":
    sys.exit(main())
