"""Markdown that renders as written (CommonMark, as GitHub reads it), for report.md.

    from gantheory.util.markdown import claim_section
    md = ["# gantheory report", "", summary, ""]
    for r in results:
        md += claim_section(r.claim, r.status, r.statement, r.lines, r.wall_s, r.figures,
                            report_dir)

Claim output is maths in plain text: ``0.3*normal(-2,0.5)+0.7*normal(1,1)`` would turn italic,
a line starting ``> `` or ``1.`` would open a quote or a list, and a derivation spanning several
lines, put in a list item, is folded into one paragraph. So one-line results become escaped list
items, several-line ones fenced code blocks; figures get unique alt texts and paths relative to
the report. tests/test_report_markdown.py parses the result with markdown-it-py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

# Characters with an inline meaning: code spans, emphasis, links and images, raw HTML, entities,
# GFM strikethrough, and the backslash itself. An underscore between two letters or digits
# (p_data) cannot emphasise in CommonMark and is left as it is, for a readable source.
_INLINE = re.compile(r"([\\`*\[\]<>&~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# What opens a block when it starts a line: headings, quotes, lists, thematic breaks, setext
# underlines, fences, tables' pipes.
_BLOCK_START = re.compile(r"^(\s*)([#>+\-=|]|\d+[.)])")


def escape(text: str) -> str:
    """One line of plain text as Markdown that renders as exactly that text."""
    text = " ".join(text.split("\n"))
    text = _INLINE.sub(r"\\\1", text)
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if len(m.group(2)) == 1
                            else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def code_block(text: str, info: str = "text") -> list[str]:
    """``text`` verbatim in a fenced block whose fence no backtick run inside can close."""
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [fence + info, *text.splitlines(), fence]


def relative_path(path: str | os.PathLike, report_dir: str | os.PathLike) -> str:
    """``path`` relative to the report's folder, with forward slashes (as links need)."""
    rel = os.path.relpath(Path(path).resolve(), Path(report_dir).resolve())
    return Path(rel).as_posix()


def claim_section(claim: str, status: str, statement: str, lines: Iterable[str], wall_s: float,
                  figures: Iterable[str], report_dir: str | os.PathLike) -> list[str]:
    """The Markdown lines of one claim: heading, statement quoted, results, figures."""
    md = [f"## {escape(claim)}: {status}", "", f"> {escape(statement)}", ""]
    bullets: list[str] = []
    for line in [*lines, f"wall time: {wall_s:.1f} s"]:
        if "\n" in line.strip("\n"):
            if bullets:
                md += bullets + [""]
                bullets = []
            md += code_block(line.strip("\n")) + [""]
        else:
            bullets.append(f"- {escape(line.strip())}")
    md += bullets + [""] if bullets else []
    figures = list(figures)
    for i, f in enumerate(figures, 1):
        alt = claim if len(figures) == 1 else f"{claim}, figure {i} of {len(figures)}"
        target = relative_path(f, report_dir)
        md.append(f"![{escape(alt)}](<{target}>)")
    return md + ([""] if figures else [])
