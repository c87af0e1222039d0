"""Packaging metadata: the license pyproject declares is the LICENSE file shipped, with URLs."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_file_is_the_mit_text_pyproject_declares():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "LICENSE").read_text()
    assert meta["license"] == {"text": "MIT"}
    assert text.startswith("MIT License\n") and "the gantheory authors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text


def test_project_urls_and_extras_are_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # the sources the project reproduces; its own repository address is not fixed yet
    assert meta["urls"]["Paper"] == "https://arxiv.org/abs/1406.2661"
    assert meta["urls"]["Original code"] == "https://github.com/goodfeli/adversarial"
    assert all(u.startswith("https://") for u in meta["urls"].values())
    extras = meta["optional-dependencies"]
    assert any(d.startswith("hypothesis") for d in extras["testing"])
    assert any(d.startswith("markdown-it-py") for d in extras["test"])
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        "pytest11"] == {"gantheory": "gantheory.pytest_plugin"}
