"""report.md renders as intended on GitHub: parsed with markdown-it-py (CommonMark), the report of
`verify ... --report DIR` has one heading per claim, statements in block quotes, one-line list
items (a multi-line output belongs in a code block, not folded into a list paragraph), no
accidental emphasis from the maths' `*` and `_`, unique alt texts, and figure paths relative to
the report that resolve; results.json carries a schema version."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from gantheory.claims import REGISTRY

# Top-level blocks a claim section may contain.
ALLOWED_BLOCKS = {"heading", "paragraph", "blockquote", "bullet_list", "fence", "code_block"}


def make_report(directory: Path, *claims: str, extra=()) -> Path:
    proc = subprocess.run([sys.executable, "-m", "gantheory.verify", *claims, *extra,
                           "--report", str(directory)], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return directory


def _children(tokens, i):
    """The tokens between tokens[i] (an *_open) and its matching *_close."""
    depth, j = 0, i
    while True:
        depth += tokens[j].nesting
        if depth == 0:
            return tokens[i + 1:j]
        j += 1


def plain(inline) -> str:
    """The text a reader sees of an inline token (escapes resolved)."""
    return "".join(c.content if c.type != "softbreak" else " " for c in inline.children
                   if c.type in ("text", "code_inline", "softbreak"))


def parse(directory: Path):
    text = (directory / "report.md").read_text()
    return MarkdownIt("commonmark").parse(text)


def results(directory: Path):
    obj = json.loads((directory / "results.json").read_text())
    return obj["results"] if isinstance(obj, dict) else obj


def structure_problems(directory: Path) -> list[str]:
    """Headings, block quotes, list items and emphasis, as a renderer sees them."""
    tokens, res, out = parse(directory), results(directory), []
    h2 = [plain(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"
          and t.tag == "h2"]
    want = [f"{r['claim']}: {r['status']}" for r in res]
    if h2 != want:
        out.append(f"claim headings {h2} != {want} (an unclosed block swallows what follows)")
    for i, t in enumerate(tokens):
        if t.level == 0 and t.nesting >= 0 and t.type.removesuffix("_open") not in ALLOWED_BLOCKS:
            out.append(f"unexpected top-level block {t.type} at line {t.map}")
        if t.type == "list_item_open":
            inline = [c for c in _children(tokens, i) if c.type == "inline"]
            breaks = [c for x in inline for c in x.children if c.type == "softbreak"]
            if breaks:
                out.append(f"list item at lines {t.map} spans several lines: "
                           f"{inline[0].content[:60]!r}...")
            if any(c.type in ("bullet_list_open", "ordered_list_open", "fence", "code_block")
                   for c in _children(tokens, i)):
                out.append(f"list item at lines {t.map} holds a nested block")
        if t.type in ("em_open", "strong_open", "html_inline", "html_block"):
            out.append(f"{t.type} at {t.map}: markup read into the text")
        if t.type == "inline":
            for c in t.children:
                if c.type in ("em_open", "strong_open", "html_inline"):
                    out.append(f"{c.type} in {t.content[:80]!r}: the maths' * or _ read as markup")
    quotes = [" ".join(plain(c) for c in _children(tokens, i) if c.type == "inline")
              for i, t in enumerate(tokens) if t.type == "blockquote_open"]
    if quotes != [r["statement"] for r in res]:
        out.append("block quotes are not the claims' statements, one each")
    return out


def figure_problems(directory: Path) -> list[str]:
    tokens, res, out = parse(directory), results(directory), []
    images = [c for t in tokens if t.type == "inline" for c in t.children if c.type == "image"]
    alts = [im.content for im in images]
    if len(set(alts)) != len(alts):
        out.append(f"repeated alt texts: {sorted(a for a in set(alts) if alts.count(a) > 1)}")
    if any(not a.strip() for a in alts):
        out.append("an image without alt text")
    srcs = [im.attrs["src"] for im in images]
    for s in srcs:
        if s.startswith("/") or "://" in s or ".." in Path(s).parts:
            out.append(f"figure path {s!r} is not relative to the report")
        elif not (directory / s).is_file():
            out.append(f"figure {s!r} does not exist beside report.md")
    figures = [f for r in res for f in r["figures"]]
    if len(srcs) != len(figures):
        out.append(f"{len(figures)} figures in results.json, {len(srcs)} shown in report.md")
    return out


def schema_problems(directory: Path) -> list[str]:
    obj = json.loads((directory / "results.json").read_text())
    if isinstance(obj, dict):
        return [] if isinstance(obj.get("schema"), int) else ["results.json has no schema"]
    return [] if all(isinstance(r.get("schema"), int) for r in obj) else [
        "an entry of results.json has no schema"]


# -- the checks can fail: a report with each defect -------------------------------------------

GOOD = """# gantheory report

1 of 1 claims passed.

## c: PASS

> A statement.

- one line
- another line

```text
step 1
f''(y) = -(a/y**2 + b/(y - 1)**2)
```

![c: figure 1](c.png)
![c: figure 2](c_2.png)
"""

BROKEN = {
    "folded lines": GOOD.replace("- another line", "- another line\nstep 1\nstep 2"),
    "emphasis": GOOD.replace("- one line", "- V = p*log D + q*log(1 - D)"),
    "unclosed fence": GOOD.replace("```\n\n![", "\n!["),
    "nested list": GOOD.replace("- another line", "- another line\n    - nested"),
}


@pytest.fixture
def fake_report(tmp_path):
    def write(md: str, figures=("c.png", "c_2.png")):
        (tmp_path / "report.md").write_text(md)
        (tmp_path / "results.json").write_text(json.dumps(
            [{"schema": 2, "claim": "c", "status": "PASS", "statement": "A statement.",
              "figures": [str(tmp_path / f) for f in figures]}]))
        for f in figures:
            (tmp_path / f).write_bytes(b"png")
        return tmp_path
    return write


def test_a_well_formed_report_has_no_problems(fake_report):
    d = fake_report(GOOD)
    assert structure_problems(d) == [] and figure_problems(d) == [] and schema_problems(d) == []


@pytest.mark.parametrize("defect", BROKEN)
def test_each_markdown_defect_is_found(defect, fake_report):
    d = fake_report(BROKEN[defect])
    assert structure_problems(d) + figure_problems(d), defect


def test_repeated_alts_and_absolute_paths_are_found(fake_report, tmp_path):
    d = fake_report(GOOD.replace("c: figure 2", "c: figure 1").replace("(c.png)",
                                                                      f"({tmp_path}/c.png)"))
    found = " ".join(figure_problems(d))
    assert "repeated alt texts" in found and "not relative" in found


# -- the real report -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    """symbolic (multi-line output), saturation (two figures) and optimal_d, cut short so both
    fail: a report with every kind of section, in about 10 s."""
    return make_report(tmp_path_factory.mktemp("rep"), "symbolic", "saturation", "optimal_d",
                       extra=("--seeds", "2", "--steps", "30"))


def test_report_figure_paths_are_relative_and_resolve(small_report):
    assert not [p for p in figure_problems(small_report) if "alt" not in p]


def test_results_json_has_a_schema(small_report):
    assert schema_problems(small_report) == []


def test_report_structure_renders_without_nesting_errors(small_report):
    assert structure_problems(small_report) == []


def test_report_alt_texts_are_unique(small_report):
    assert figure_problems(small_report) == []


@pytest.mark.slow
def test_verify_all_report_renders_correctly(tmp_path):
    d = make_report(tmp_path / "rep", "all", extra=("--quick",))
    assert [r["claim"] for r in results(d)] == list(REGISTRY)
    assert structure_problems(d) + figure_problems(d) + schema_problems(d) == []
