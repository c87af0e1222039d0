"""experiments/reproduction_plot.py: its log-linear fit and the figure's legend."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.experiments.scripts import load_script


@pytest.fixture
def plot(monkeypatch):
    return load_script("reproduction_plot", monkeypatch)


def test_fit_recovers_an_exact_log_line_and_where_it_reaches_225(plot):
    # ll = 100 + 20 log2(epoch) reaches 225 at log2(epoch) = 6.25, i.e. epoch 2**6.25 = 76.1
    epochs = np.array([25.0, 50, 100, 200, 400])
    fit = plot.log_fit(epochs, 100 + 20 * np.log2(epochs))
    assert fit["slope_per_doubling"] == pytest.approx(20, abs=1e-9)
    assert fit["a"] == pytest.approx(100, abs=1e-9)
    assert fit["slope_se"] < 1e-6
    assert fit["reaches_225_at_epoch"]["fit"] == pytest.approx(2 ** 6.25, rel=1e-9)


def test_a_flat_or_falling_curve_never_reaches_225(plot):
    epochs = np.array([100.0, 200, 300, 400])
    fit = plot.log_fit(epochs, np.array([200.0, 199, 198.5, 198]))
    assert fit["slope_per_doubling"] < 0
    assert fit["reaches_225_at_epoch"]["fit"] == math.inf


def _run_dir(tmp: Path) -> Path:
    run = tmp / "run"
    run.mkdir()
    rows = [{"epoch": e, "mean_ll": 150 + 10 * math.log2(e / 25), "stderr": 2.0, "sigma": 0.17}
            for e in (25, 50, 75, 100, 125)]
    (run / "parzen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    epochs = [{"kind": "epoch", "epoch": e, "d_real": 0.6, "d_fake": 0.4} for e in range(1, 126)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in epochs))
    return run


def test_marks_appear_in_the_legend(plot, tmp_path, monkeypatch, capsys):
    figures = []
    monkeypatch.setattr(plot, "save_figure", lambda fig, out: figures.append(fig) or out)
    plot.main([str(_run_dir(tmp_path)), str(tmp_path / "p.png"), "--mark", "60=moved to the CPU"])
    labels = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    assert "moved to the CPU" in labels
    out = capsys.readouterr().out
    assert "| 125 | 173.2 +- 2.0 |" in out  # 150 + 10 log2(5), the last evaluation's row


def test_plateau_fit_recovers_a_curve_that_levels_off(plot):
    epochs = np.arange(75.0, 1601, 25)
    ll = 240 - 60 * (epochs / 100) ** -0.8
    fit = plot.plateau_fit(epochs, ll)
    assert fit["plateau"] == pytest.approx(240, abs=1e-4)
    assert fit["alpha"] == pytest.approx(0.8, abs=1e-5)
    # 240 - 60 (e/100)^-0.8 = 225 at e = 100 * 4 ** (1 / 0.8)
    assert fit["reaches_225_at_epoch"] == pytest.approx(100 * 4 ** 1.25, rel=1e-4)
    assert fit["rss"] < 1e-8 < fit["rss_log_line"]


def test_plateau_below_225_never_reaches_it(plot):
    epochs = np.arange(75.0, 801, 25)
    fit = plot.plateau_fit(epochs, 210 - 40 * (epochs / 100) ** -1.0)
    assert fit["plateau"] == pytest.approx(210, abs=1e-3)
    assert fit["reaches_225_at_epoch"] == math.inf


def test_earlier_runs_read_from_jsonl_and_csv_alike(plot, tmp_path):
    run = _run_dir(tmp_path)
    csv = tmp_path / "old.csv"
    csv.write_text("# a comment\nepoch,mean_ll,stderr,sigma\n"
                   "25,150.0,2.0,0.17\n50,160.0,2.0,0.17\n")
    jsonl = plot.read_evaluations(run / "parzen.jsonl")
    assert jsonl[:, 0].tolist() == [25, 50, 75, 100, 125]
    assert jsonl[1, 1] == pytest.approx(160.0)
    assert plot.read_evaluations(csv).tolist() == [[25.0, 150.0], [50.0, 160.0]]


def test_window_fits_agree_on_a_log_line_and_fall_on_a_curve_that_bends_over(plot):
    epochs = np.arange(75.0, 1401, 25)
    line = plot.window_fits(epochs, 70 + 15 * np.log2(epochs), [61, 300, 600, 1350])
    # epochs 1350-1400 are 3 evaluations, too few for the 3-parameter plateau: window left out
    assert [f["from"] for f in line] == [61, 300, 600]
    assert all(f["slope_per_doubling"] == pytest.approx(15, abs=1e-9) for f in line)
    bent = plot.window_fits(epochs, 240 - 60 * (epochs / 100) ** -0.8, [61, 300, 600])
    slopes = [f["slope_per_doubling"] for f in bent]
    assert slopes[0] > slopes[1] > slopes[2] > 0
    assert all(f["plateau_reading"]["plateau"] == pytest.approx(240, abs=1e-3) for f in bent)


def test_fits_plot_draws_only_the_plateaus_the_data_determine(plot, tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(plot, "save_figure", lambda fig, out: figures.append(fig) or out)
    epochs = np.arange(75.0, 1401, 25)
    ll = 240 - 60 * (epochs / 100) ** -0.8
    fits = plot.window_fits(epochs, ll, [61, 300])
    fits[1]["plateau_reading"]["plateau_se"] = plot.PLATEAU_SE_DRAWN + 1  # as if undetermined
    plot.fits_plot(epochs, ll, np.full_like(ll, 2.0), fits, str(tmp_path / "f.png"), "t")
    labels = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    assert sum(lb.startswith("line from epoch") for lb in labels) == 2
    assert [lb for lb in labels if lb.startswith("plateau")] == [
        f"plateau from epoch 61: 240 +- 0, 225 at epoch {100 * 4 ** 1.25:,.0f}"]


def test_fit_windows_must_be_epochs(plot, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        plot.main([str(_run_dir(tmp_path)), str(tmp_path / "p.png"), "--fit-windows", "61,x"])
    assert e.value.code == 2
    assert "--fit-windows: a comma-separated list of epochs, got '61,x'" in capsys.readouterr().err
