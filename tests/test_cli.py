"""The ``gantheory`` front door: every command's --help and --version, the listing, bad input."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from gantheory.cli import COMMANDS, main
from gantheory.mnist.config import MNISTConfig

REPO = Path(__file__).resolve().parents[1]
EVERY = [list(words) for words, _, _ in COMMANDS] + [["train"], ["eval"]]
RAW_REST = ("``", ":func:", ":class:", ":mod:", ".. math::")


@pytest.mark.parametrize("words", EVERY, ids=" ".join)
def test_every_command_has_plain_help(words, capsys):
    with pytest.raises(SystemExit) as done:
        code = main([*words, "--help"])
        raise SystemExit(code)
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith("usage:") and len(out.splitlines()) > 3
    assert not any(mark in out for mark in RAW_REST), out


@pytest.mark.parametrize("words", [[]] + EVERY, ids=lambda w: " ".join(w) or "top")
def test_every_command_has_the_version(words, capsys):
    from gantheory import __version__

    with pytest.raises(SystemExit) as done:
        raise SystemExit(main([*words, "--version"]))
    assert done.value.code in (0, None)
    assert capsys.readouterr().out.strip().startswith(f"gantheory {__version__} (torch ")


def test_top_level_help_lists_every_command_on_one_line(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for words, _, summary in COMMANDS:
        assert f"  {' '.join(words)} " in out and summary in out
    assert main([]) == 2 and "commands:" in capsys.readouterr().err


def test_eval_parzen_and_metrics_have_separate_helps(capsys):
    helps = {}
    for what in ("parzen", "metrics"):
        with pytest.raises(SystemExit):
            main(["eval", what, "--help"])
        helps[what] = capsys.readouterr().out
    assert "Table 1" in helps["parzen"] and "--sigmas" in helps["parzen"]
    assert "Frechet" in helps["metrics"] and "--sigmas" not in helps["metrics"]


def test_train_help_gives_the_time_and_every_set_key_with_type_and_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "mnist", "--help"])
    out = capsys.readouterr().out
    assert "250 epochs" in out and "40 s" in out and "collapsed" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.startswith("  ") and len(line.split()) >= 3}
    for f in dataclasses.fields(MNISTConfig):
        assert f.name in rows, f.name
        assert rows[f.name][2] == repr(f.default), (f.name, rows[f.name])
    assert rows["lr"][1] == "float"
    assert set(rows["update"][1].split("|")) == {"simultaneous", "alternating"}


@pytest.mark.parametrize("argv", [["bogus"], ["train", "bogus"], ["eval", "bogus"]])
def test_an_unknown_command_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gantheory" in err[0], err


def test_the_eval_module_prints_help_in_a_real_process():
    # it used to print nothing for --help: the module had no __main__ block
    done = subprocess.run([sys.executable, "-m", "gantheory.metrics.cli", "--help"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("usage: gantheory eval"), done.stderr
    assert "parzen" in done.stdout and "metrics" in done.stdout
