"""The ``gantheory`` console script: one entry point for every command.

    gantheory verify optimal_d           # = python -m gantheory.verify optimal_d
    gantheory train mnist --preset paper # = python -m gantheory.mnist.cli --preset paper
    gantheory eval parzen --checkpoint RUN

Each subcommand's own module parses its arguments; this file only dispatches.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    ("verify",): "gantheory.verify",
    ("train", "mnist"): "gantheory.mnist.cli",
    ("eval", "parzen"): "gantheory.metrics.cli",
    ("eval", "metrics"): "gantheory.metrics.cli",
}

USAGE = "usage: gantheory {verify CLAIM | train mnist | eval parzen | eval metrics} [options]"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    for words, module in COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            rest = argv[len(words):]
            if words[0] == "eval":
                rest = [words[1]] + rest
            return int(importlib.import_module(module).main(rest) or 0)
    print(f"gantheory: unknown command {' '.join(argv[:2])!r}; {USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
