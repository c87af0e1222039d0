"""The verify CLI and the console script: exit codes, one-line errors, JSON output."""

import json
import subprocess
import sys

import pytest

from gantheory.claims import REGISTRY
from gantheory.verify import main


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "gantheory.verify", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_list_names_every_registered_claim(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in REGISTRY:
        assert name in out


@pytest.mark.parametrize("args, needle", [
    (["no_such_claim"], "unknown claim"),
    (["optimal_d", "--p-data", "normal(0,"], "malformed density spec"),
    (["optimal_d", "--p-g", "normal(0,-1)"], "sigma must be > 0"),
    (["optimal_d", "--p-g", "mixture(0.3*normal(0,1)+0.6*normal(1,1))"], "sum to 1"),
    (["optimal_d", "--seeds", "0"], "seeds must be >= 1"),
    (["optimal_d", "--seeds", "many"], "invalid int value"),
    (["optimal_d", "--set", "no_such_field=1"], "unknown OptimalDConfig option"),
    (["optimal_d", "--set", "lr=fast"], "lr expects float"),
    (["symbolic", "--seeds", "3"], "takes no --seeds"),
    ([], "name a claim"),
])
def test_bad_input_gives_one_line_and_exit_2(args, needle, capsys):
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


def test_bad_input_in_a_real_process_has_no_traceback():
    proc = run_cli("optimal_d", "--p-g", "normal(0,-1)")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "gantheory: error: sigma must be > 0, got -1.0"


def test_a_failed_claim_exits_1_with_json():
    proc = run_cli("optimal_d", "--seeds", "1", "--steps", "20", "--json")
    assert proc.returncode == 1, proc.stderr
    obj = json.loads(proc.stdout.strip().splitlines()[-1])
    assert obj["claim"] == "optimal_d" and obj["passed"] is False


def test_console_script_dispatches_to_verify():
    proc = subprocess.run([sys.executable, "-m", "gantheory", "verify", "--list"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "optimal_d" in proc.stdout


@pytest.mark.slow
def test_readme_main_job_passes(tmp_path):
    """The README's main command, as a user runs it, with its plot."""
    plot = tmp_path / "d.png"
    proc = run_cli("optimal_d", "--plot", str(plot))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "optimal_d: PASS" in proc.stdout
    assert plot.stat().st_size > 10_000


@pytest.mark.slow
def test_verify_all_writes_a_report(tmp_path):
    proc = run_cli("all", "--report", str(tmp_path / "rep"), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [r["claim"] for r in results] == list(REGISTRY)
    report = (tmp_path / "rep" / "report.md").read_text()
    for r in results:
        assert f"## {r['claim']}" in report
        for fig in r["figures"]:
            assert (tmp_path / "rep" / fig.split("/")[-1]).exists()
    assert not [p for p in (tmp_path / "rep").iterdir() if p.name.startswith(".")]  # no temp files
    # written through a temporary file, yet readable like any other output (not mkstemp's 0600)
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "rep").iterdir()} == {0o644}
