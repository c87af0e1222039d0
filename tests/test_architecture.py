"""The package's layering, read from the code itself: each layer imports only layers below it.

docs/architecture.md draws the same picture; this test keeps the two from drifting apart. Imports
are read with ``ast`` from every module (function-level imports included), resolved to the
top-level part of gantheory they name (``gan``, ``oned``, ``mnist``, a top-level module, ...).
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "gantheory"

# Layer of each part of the package; a module may import its own layer or lower ones.
BASE = {"errors", "config", "util"}
THEORY = {"densities", "divergences", "fdivergences", "theory", "function_space", "symbolic",
          "stats", "strategies", "plotting", "discriminators", "testing", "pytest_plugin"}
LAYERS = {0: BASE, 1: THEORY, 2: {"gan"}, 3: {"oned", "dirac", "mixtures2d", "twod"},
          4: {"mnist", "metrics"}, 5: {"claims"}, 6: {"verify", "cli", "__main__", "sample", "__init__"}}
LAYER_OF = {part: n for n, parts in LAYERS.items() for part in parts}
# Known, deliberate exceptions (importer part, imported part): the MNIST figures borrow the
# evaluation's nearest-neighbour search, and the evaluation reads the MNIST data and generators;
# mnist and metrics are one layer that imports both ways.
ALLOWED = {("mnist", "metrics"), ("metrics", "mnist")}


def part_of(path: Path, root: Path = PKG) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_parts(path: Path, root: Path = PKG) -> set[str]:
    """The gantheory parts ``path`` (a file under the package folder ``root``) imports."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(root).parts) - 1  # 0 for gantheory/x.py, 1 for gantheory/sub/x.py
    parts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            else:
                up = node.level - 1  # levels above this module's package
                if up > depth:
                    continue
                base = list(path.relative_to(root).parts[:-1])[: depth - up]
                mod = base + ([node.module] if node.module else [])
                if not mod:  # `from .. import x`: x is a part
                    parts.update(a.name for a in node.names)
                    continue
                names = ["gantheory." + ".".join(mod)]
        else:
            continue
        for name in names:
            bits = name.split(".")
            if bits[0] == "gantheory" and len(bits) > 1:
                parts.add(bits[1])
    return parts


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(p) for p in PKG.rglob("*.py")}
    assert sorted(parts - set(LAYER_OF)) == [], "add new modules to LAYERS (and the docs picture)"


def upward_imports(path: Path, root: Path = PKG) -> list[str]:
    """``"me (layer a) imports other (layer b)"`` for every import of a higher layer."""
    me, out = part_of(path, root), []
    for other in sorted(imported_parts(path, root)):
        if other == me or (me, other) in ALLOWED or other not in LAYER_OF:
            continue
        if LAYER_OF[other] > LAYER_OF[me]:
            out.append(f"{me} (layer {LAYER_OF[me]}) imports {other} (layer {LAYER_OF[other]})")
    return out


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_modules_import_only_their_own_layer_or_lower(path):
    assert upward_imports(path) == []


def test_the_layer_check_catches_an_upward_import(tmp_path):
    # negative control: a theory module that imports the MNIST trainer is reported
    copy = tmp_path / "gantheory" / "densities.py"
    copy.parent.mkdir()
    copy.write_text((PKG / "densities.py").read_text() + "\nfrom .mnist.trainer import Trainer\n")
    assert upward_imports(copy, copy.parent) == ["densities (layer 1) imports mnist (layer 4)"]
