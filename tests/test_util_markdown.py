"""gantheory.util.markdown: claim output renders as exactly its text, multi-line output as a code
block, figures with unique alts and relative paths (checked with markdown-it-py)."""

import json

import pytest
from markdown_it import MarkdownIt

from gantheory.util.markdown import claim_section, code_block, escape
from tests.test_report_markdown import figure_problems, schema_problems, structure_problems

DERIVATION = ("optimal_discriminator: holds\nf(y) = a*log(y) + b*log(1 - y)\n"
              "f''(y) = -(a/y**2 + b/(y - 1)**2)\n2 j(p, q) = p*log(2*p/(p + q)) + q*log(2*q)")
AWKWARD = [
    "p_data = normal(0,1), p_g = mixture(0.3*normal(-2,0.5)+0.7*normal(1,1))",
    "> not a quote", "# not a heading", "1. not a list", "- not a list", "+ nor this",
    "a `code` span, <b>html</b>, [a](link), ![img](x), &amp; ~~strike~~, back\\slash",
    "-4.86 starts with a minus", "=== not an underline", "| not | a table |",
    "_leading and trailing_ underscores, __double__, p_data and a_b_c intraword",
]


def _plain(inline) -> str:
    """The text a reader sees of an inline token."""
    return "".join(c.content for c in inline.children if c.type in ("text", "code_inline"))


@pytest.mark.parametrize("line", AWKWARD)
def test_escaped_text_renders_as_itself(line):
    tokens = MarkdownIt("commonmark").parse(escape(line))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    inline = tokens[1]
    assert [c.type for c in inline.children] == ["text"] and _plain(inline) == line


def test_a_code_block_holds_backticks_verbatim():
    text = "a ``` fence inside\nand `ticks`"
    tokens = MarkdownIt("commonmark").parse("\n".join(code_block(text)))
    assert [t.type for t in tokens] == ["fence"] and tokens[0].content == text + "\n"


@pytest.fixture
def report(tmp_path):
    (tmp_path / "figs").mkdir()
    figs = [tmp_path / "c.png", tmp_path / "figs" / "c_costs.png", tmp_path / "d.png"]
    for f in figs:
        f.write_bytes(b"png")
    res = [{"schema": 2, "claim": "c", "status": "FAIL", "statement": "C(G) = -log 4 + 2*JSD",
            "figures": [str(f) for f in figs[:2]]},
           {"schema": 2, "claim": "d", "status": "PASS", "statement": "d_star > 0",
            "figures": [str(figs[2])]}]
    md = ["# gantheory report", "", "1 of 2 claims passed.", ""]
    md += claim_section("c", "FAIL", res[0]["statement"], [*AWKWARD, DERIVATION, "after"], 1.25,
                        res[0]["figures"], tmp_path)
    md += claim_section("d", "PASS", res[1]["statement"], [DERIVATION], 0.5, res[1]["figures"],
                        tmp_path)
    (tmp_path / "report.md").write_text("\n".join(md))
    (tmp_path / "results.json").write_text(json.dumps(res))
    return tmp_path


def test_claim_sections_render_without_problems(report):
    assert structure_problems(report) + figure_problems(report) + schema_problems(report) == []


def test_claim_sections_show_every_line_as_written(report):
    tokens = MarkdownIt("commonmark").parse((report / "report.md").read_text())
    items = [_plain(tokens[i + 2]) for i, t in enumerate(tokens) if t.type == "list_item_open"]
    assert items[:len(AWKWARD)] == AWKWARD and "after" in items
    fences = [t.content for t in tokens if t.type == "fence"]
    assert fences == [DERIVATION + "\n"] * 2
    images = [c.attrs["src"] for t in tokens if t.type == "inline" for c in t.children
              if c.type == "image"]
    assert images == ["c.png", "figs/c_costs.png", "d.png"]
