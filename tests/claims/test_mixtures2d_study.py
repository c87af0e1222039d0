"""Study ``mixtures2d``: its quick run reports (REPORTED, no verdict) with the documented JSON keys;
its statistics against hand-computed cases; the report tells apart arms that differ from arms
that do not."""

import json

import numpy as np
import pytest

from gantheory import mixtures2d as m2d
from gantheory.claims import JSON_KEYS, REGISTRY, run_claim
from gantheory.claims import mixtures2d as study
from gantheory.config import override
from gantheory.errors import ConfigError

QUICK = REGISTRY["mixtures2d"].quick
ARM_KEYS = {"modes_mean", "modes_ci95", "modes_median", "modes_any_mean", "high_quality_mean",
            "high_quality_ci95", "all_modes", "n", "all_modes_rate", "all_modes_wilson95",
            "collapsed", "diverged", "modes_per_seed", "modes_histogram",
            "high_quality_per_seed", "settings"}


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    plot = tmp_path_factory.mktemp("fig") / "m.png"
    return run_claim("mixtures2d", override(study.Mixtures2DConfig(), QUICK, plot=str(plot)))


def test_mixtures2d_is_a_registered_study():
    c = REGISTRY["mixtures2d"]
    assert c.kind == "study" and c.verdict is None and c.config is study.Mixtures2DConfig


def test_quick_run_reports_with_the_json_keys(quick_result):
    r = quick_result
    assert r.status == "REPORTED" and r.kind == "study" and r.passed is None
    assert r.reasons == ()
    js = json.loads(json.dumps(r.to_json()))
    assert tuple(js) == JSON_KEYS
    assert js["status"] == "REPORTED" and js["seeds"] == list(range(QUICK["seeds"]))
    assert set(js["metrics"]) == {"setup", "mixtures", "published", "published_note"}
    for name, mix in js["metrics"]["mixtures"].items():
        assert set(mix["arms"]) == set(study.ARMS)
        for arm, s in mix["arms"].items():
            assert ARM_KEYS <= set(s)
            assert len(s["modes_per_seed"]) == QUICK["seeds"]
            assert sum(s["modes_histogram"]) == QUICK["seeds"]
            assert ("vs_baseline" in s) == (arm != "baseline")
        assert mix["p_data"]["high_quality_expected"] == pytest.approx(m2d.TRUE_HIGH_QUALITY)
    assert js["metrics"]["mixtures"]["ring"]["p_data"]["modes_min"] == 8
    assert js["metrics"]["published"]["ring"][0]["modes"] == 1.0


def test_quick_run_writes_both_figures(quick_result):
    assert len(quick_result.figures) == 2
    assert quick_result.figures[1].endswith("m_modes.png")


def test_the_arms_use_the_settings_they_name():
    cfg = study.Mixtures2DConfig(k=4, r1_gamma=0.3)
    t = {a: cfg.train_config("ring", a) for a in study.ARMS}
    assert (t["baseline"].loss, t["baseline"].update, t["baseline"].k,
            t["baseline"].r1_gamma) == ("non_saturating", "alternating", 1, 0.0)
    assert t["minimax"].loss == "minimax" and t["simultaneous"].update == "simultaneous"
    assert t["k_steps"].k == 4 and t["k_steps"].r1_gamma == 0.0
    assert t["r1"].r1_gamma == 0.3 and t["r1"].k == 1


def _measurement(modes_by_arm: dict, n_modes: int = 8):
    """A hand-made measurement: mode counts per arm, high quality 0.5 everywhere."""
    res = {}
    for arm, modes in modes_by_arm.items():
        modes = np.asarray(modes)
        res[arm] = {"modes": modes, "modes_any": modes, "high_quality": np.full(len(modes), 0.5),
                    "min_count": 62.5, "diverged": np.zeros(len(modes), bool)}
    ref = dict(res["baseline"], modes=np.full(len(modes), n_modes))
    return study.Mixtures2DMeasurement(list(range(len(modes))), {"ring": res}, {"ring": ref})


def test_report_finds_a_difference_that_is_there_and_none_that_is_not():
    cfg = study.Mixtures2DConfig(mixtures="ring", arms="baseline,r1,minimax")
    m = _measurement({"baseline": [1] * 32, "r1": [8] * 32, "minimax": [1] * 32})
    arms = study.report(m, cfg).metrics["mixtures"]["ring"]["arms"]
    assert arms["r1"]["vs_baseline"]["mannwhitney_modes_p"] < 1e-10
    assert arms["r1"]["vs_baseline"]["fisher_all_modes_p"] < 1e-10
    assert arms["r1"]["all_modes_wilson95"][0] > 0.89  # 32/32: Wilson's lower end 0.8928
    assert arms["minimax"]["vs_baseline"]["mannwhitney_modes_p"] == 1.0
    assert arms["minimax"]["vs_baseline"]["fisher_all_modes_p"] == 1.0
    assert arms["baseline"]["modes_mean"] == 1.0 and arms["baseline"]["collapsed"] == 32


def test_holm_adjustment_by_hand():
    adj = study.holm({"a": 0.01, "b": 0.04, "c": 0.03})
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.06 (monotone)
    assert adj == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})


def test_t_interval_by_hand():
    lo, hi = study.t_interval(np.array([1.0, 2.0, 3.0]))
    # mean 2, sd 1; with 2 degrees of freedom the t quantile has the closed form
    # t_p = (2p - 1) / sqrt(2 p (1 - p)) (the cdf is 1/2 + t / (2 sqrt(2 + t^2)))
    p = 0.975
    t = (2 * p - 1) / (2 * p * (1 - p)) ** 0.5
    assert (lo, hi) == pytest.approx((2 - t / 3**0.5, 2 + t / 3**0.5), rel=1e-12)


@pytest.mark.parametrize("bad", [{"arms": "minimax,r1"}, {"arms": "baseline,unrolled"},
                                 {"mixtures": "spiral"}, {"mixtures": ""}, {"seeds": 0},
                                 {"r1_gamma": 0.0}, {"k": 0}, {"arms": "baseline,baseline"}])
def test_bad_study_configs_are_one_line_errors(bad):
    with pytest.raises(ConfigError) as e:
        override(study.Mixtures2DConfig(), bad)
    assert "\n" not in str(e.value)


def test_verify_runs_the_study_and_exits_zero(capsys):
    from gantheory.verify import main

    rc = main(["mixtures2d", "--json", "--seeds", "2", "--steps", "3", "--set", "batch=8",
               "--set", "hidden=4", "--set", "n_eval=50", "--set", "mixtures=ring",
               "--set", "arms=baseline,r1"])
    assert rc == 0
    js = json.loads(capsys.readouterr().out)
    assert js["status"] == "REPORTED" and js["kind"] == "study"


def test_verify_rejects_a_bad_arm_with_exit_2(capsys):
    from gantheory.verify import main

    assert main(["mixtures2d", "--set", "arms=baseline,unrolled"]) == 2
    err = capsys.readouterr().err
    assert "arms" in err and "Traceback" not in err


@pytest.mark.parametrize("field", ["seeds", "n_eval"])
def test_memory_estimate_names_the_parameter_out_of_scale(field):
    cfg = override(study.Mixtures2DConfig(), {field: 10**8})
    (name,) = cfg.memory_bytes()
    assert name == field and cfg.memory_bytes()[name] > 2**31
