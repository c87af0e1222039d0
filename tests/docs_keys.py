"""The documented ``--json`` keys of each command, read from the tables in docs/ (the tests hold
the commands to what the docs say, so the two cannot drift apart)."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def documented_keys(doc: str, heading: str) -> set[str]:
    """The keys in the first column of the table under ``heading`` in ``docs/doc``."""
    text = (DOCS / doc).read_text()
    start = text.index(heading)
    keys: set[str] = set()
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("| `"):
            keys.update(re.findall(r"`([a-z_0-9]+)`", line.split("|")[1]))
    assert keys, f"no table under {heading!r} in docs/{doc}"
    return keys
