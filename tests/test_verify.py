"""The verify CLI and the console script: exit codes, one-line errors, JSON output."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_settings_list_every_field_of_each_claim_with_its_default(capsys):
    assert main(["all", "--settings"]) == 0
    blocks = capsys.readouterr().out.split("\n\n")
    assert len(blocks) == len(REGISTRY)
    for block, (name, claim) in zip(blocks, REGISTRY.items()):
        lines = block.splitlines()
        assert lines[0].startswith(f"{name}: --set keys")
        cfg = claim.config()
        if not dataclasses.fields(cfg):
            assert lines[1:] == ["  (none: nothing to set)"]
            continue
        assert [ln.split()[0] for ln in lines[1:]] == [f.name for f in dataclasses.fields(cfg)]
        for ln, f in zip(lines[1:], dataclasses.fields(cfg)):
            assert repr(getattr(cfg, f.name)) in ln


def test_settings_show_the_note_beside_a_field_in_the_source(capsys):
    assert main(["saturation", "--settings"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.split()[0] == "n_eval")
    assert line.split()[1:3] == ["int", "8000"]
    assert line.endswith("mlp generator: samples per seed and record for the JSD estimate")


@pytest.mark.parametrize("args, needle", [
    (["no_such_claim"], "unknown claim"),
    (["no_such_claim", "--settings"], "unknown claim"),
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


@pytest.mark.parametrize("value, needle", [("abc", "is not an integer"), ("0", "must be >= 1")])
def test_a_malformed_thread_count_is_one_line_and_exit_2(value, needle):
    env = {**os.environ, "GANTHEORY_THREADS": value}
    proc = subprocess.run([sys.executable, "-m", "gantheory.verify", "optimal_d"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "GANTHEORY_THREADS" in lines[0] and needle in lines[0], lines
    assert proc.stdout == ""


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
def test_every_claim_passes_at_its_defaults():
    # the verdicts as documented, in one process; the studies (REPORTED, minutes of training for
    # the 2-D mixtures) are left to `verify all` and to the quick report below
    claims = [name for name, c in REGISTRY.items() if c.kind == "claim"]
    proc = run_cli(*claims, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(claims)} of {len(claims)} claims passed." in proc.stdout
    for name in claims:
        assert f"{name}: PASS" in proc.stdout


@pytest.mark.slow
def test_verify_all_writes_a_report(tmp_path):
    proc = run_cli("all", "--quick", "--report", str(tmp_path / "rep"), timeout=900)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "(quick settings)" in proc.stdout
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


def test_a_study_prints_reported_and_is_left_out_of_the_count_and_exit_status(capsys):
    # symbolic passes; k_steps (a study, at a seconds-long size) asserts nothing
    assert main(["symbolic", "k_steps", "--seeds", "2", "--steps", "10"]) == 0
    out = capsys.readouterr().out
    assert "k_steps: REPORTED" in out and "k_steps: PASS" not in out
    assert out.strip().splitlines()[-1] == "1 of 1 claims passed; 1 study reported."


def test_a_study_does_not_rescue_a_failed_claim(capsys):
    code = main(["optimal_d", "k_steps", "--seeds", "1", "--steps", "20"])
    assert code == 1
    out = capsys.readouterr().out
    assert "optimal_d: FAIL" in out and "  FAIL reason: " in out and "k_steps: REPORTED" in out
    assert out.strip().splitlines()[-1] == "0 of 1 claims passed; 1 study reported."


def test_study_json_says_kind_study(capsys):
    assert main(["k_steps", "--seeds", "2", "--steps", "10", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert obj["kind"] == "study" and obj["status"] == "REPORTED" and obj["passed"] is None


def test_report_mode_writes_every_figure(tmp_path):
    code = main(["saturation", "convergence", "--report", str(tmp_path), "--seeds", "3",
                 "--steps", "60", "--set", "d_pretrain=20", "--set", "parametric_steps=10",
                 "--set", "n_eval=500", "--set", "grid=1001", "--set", "convexity_pairs=2",
                 "--set", "losses=minimax,non_saturating", "--set", "n_grid=21"])
    assert code in (0, 1)  # 60 steps are too few for saturation to pass; files are the point
    for name in ("saturation.png", "saturation_costs.png", "convergence.png",
                 "convergence_parametric.png", "report.md", "results.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["claim"] for r in results] == ["saturation", "convergence"]
    assert results[1]["passed"] is True
    assert sorted(Path(f).name for f in results[0]["figures"]) == ["saturation.png",
                                                                   "saturation_costs.png"]


@dataclasses.dataclass(frozen=True)
class _PlotCfg:
    plot: str | None = None


def _fig_text(fig) -> str:
    sup = getattr(fig, "_suptitle", None)
    return "\n".join([sup.get_text() if sup is not None else "", *(t.get_text() for t in fig.texts),
                      *(ax.get_title() for ax in fig.axes)])


@pytest.mark.parametrize("kind, passed, status", [("claim", True, "PASS"),
                                                  ("claim", False, "FAIL"),
                                                  ("study", None, "REPORTED")])
def test_every_saved_figure_says_the_claims_status(kind, passed, status, tmp_path, monkeypatch):
    from gantheory import plotting
    from gantheory.claims.registry import Claim, Report, Verdict, run_claim

    def figures(m, cfg, v):
        titled, suptitled, bare = (plotting.subplots()[0] for _ in range(3))
        titled.axes[0].set_title("main")
        suptitled.suptitle("two panels")
        bare.axes[0].set_title("a study beside the claim [REPORTED]")
        return {"": titled, "sup": suptitled, "study": bare}

    verdict = None if kind == "study" else (lambda m, cfg: Verdict(passed, () if passed else ("x",)))
    monkeypatch.setitem(REGISTRY, "fake", Claim("fake", "s", _PlotCfg, lambda cfg: None, verdict,
                                                lambda m, cfg: Report({}), figures, kind))
    saved = {}
    monkeypatch.setattr(plotting, "save_figure", lambda fig, path: saved.setdefault(str(path), fig)
                        and str(path))
    res = run_claim("fake", _PlotCfg(plot=str(tmp_path / "fake.png")))
    assert res.status == status and len(saved) == 3
    main_fig, sup_fig = saved[str(tmp_path / "fake.png")], saved[str(tmp_path / "fake_sup.png")]
    study_fig = saved[str(tmp_path / "fake_study.png")]
    assert main_fig.axes[0].get_title() == f"main [{status}]"
    assert sup_fig._suptitle.get_text() == f"two panels [{status}]"
    for fig in (main_fig, sup_fig):  # the red box on a failure only
        assert [t.get_text() for t in fig.texts].count("FAIL") == (status == "FAIL")
    # a panel the claim itself labels as a study is not judged
    assert "PASS" not in _fig_text(study_fig) and "FAIL" not in _fig_text(study_fig)


def test_the_claims_memory_budget_is_the_machines(monkeypatch, capsys):
    """The estimate is checked against gantheory.util.memory's budget (available memory times
    FRACTION), before the config's own check builds anything: optimal_d's range check would
    evaluate D* on every grid point."""
    import gantheory.claims.optimal_d as od
    import gantheory.util.memory as memory

    monkeypatch.setattr(od, "in_range", lambda *a, **k: pytest.fail("grid built before the "
                                                                      "estimate"))
    monkeypatch.setattr(memory, "available_bytes", lambda: 10**12)
    assert main(["optimal_d", "--set", "grid=10000000000"]) == 2  # 2.6 TB > 0.8 TB
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "grid=10000000000" in err[0] and "lower grid" in err[0], err
    # the same request fits a machine with more memory; a default one does not fit in 10 MB
    from gantheory.claims.registry import check_memory

    assert check_memory("optimal_d", od.OptimalDConfig(grid=10**10), limit=10**13) > 2 * 10**12
    monkeypatch.setattr(memory, "available_bytes", lambda: 10**7)
    from gantheory.errors import ConfigError

    with pytest.raises(ConfigError, match="lower seeds"):
        check_memory("optimal_d", od.OptimalDConfig())
