"""The README covers what a new user needs: every environment variable the code reads, every
command's running time, and the extras it names exist."""

import re
import tomllib
from pathlib import Path

from gantheory.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    read = set()
    for f in (ROOT / "gantheory").rglob("*.py"):
        read |= set(re.findall(r"\bGANTHEORY_[A-Z_]+\b", f.read_text()))
    assert read >= {"GANTHEORY_DATA", "GANTHEORY_OFFLINE", "GANTHEORY_THREADS"}
    assert sorted(v for v in read if f"`{v}" not in README) == []


def test_every_command_has_a_running_time_in_the_readme():
    table = README[README.index("## How long each command takes"):]
    table = table[:table.index("\n## ")]
    for words, _, _ in COMMANDS:
        assert f"`gantheory {' '.join(words)}" in table, words


def test_the_extras_the_readme_names_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for docs in [README, *(p.read_text() for p in (ROOT / "docs").glob("*.md"))]:
        for name in re.findall(r"gantheory\[(\w+)\]", docs):
            assert name in extras, name
