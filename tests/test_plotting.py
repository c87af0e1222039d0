"""Figures say what they show: y-labels, every drawn element in a legend, a failed claim's plot
says FAIL, the sigma curve marks the chosen sigma."""

import numpy as np
import pytest

from gantheory import plotting

XS = np.linspace(-4, 4, 81)
PDF = np.exp(-XS ** 2 / 2) / np.sqrt(2 * np.pi)


def _legend_labels(ax) -> list[str]:
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg is not None else []


def _all_text(fig) -> str:
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_ylabel(), ax.get_xlabel(), *_legend_labels(ax)]
    return "\n".join(texts)


FIGURES = {
    "discriminator": lambda: plotting.plot_discriminator(XS, PDF, PDF, 0.5 + 0 * XS, [0.5 + 0 * XS],
                                                         region=(-3, 3)),
    "curves": lambda: plotting.plot_curves(np.arange(5), {"a": np.ones((5, 3))}, ylabel="JSD",
                                           bound=0.1),
    "convergence": lambda: plotting.plot_convergence(
        {"u": np.ones(4)}, {"u": {"x": XS, "p_data": PDF, "p_g0": PDF, "p_g": PDF}}),
    "sample_densities": lambda: plotting.plot_sample_densities(XS, PDF, np.zeros((5, 50))),
    "sigma": lambda: plotting.plot_sigma_curve({"G": [{"sigma": s, "valid_mean_ll": -s}
                                                      for s in (0.1, 0.2)]}),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_plotted_axis_has_a_y_label(name):
    fig = FIGURES[name]()
    for ax in fig.axes:
        if ax.axison and ax.get_subplotspec().is_first_col():
            assert ax.get_ylabel(), (name, ax.get_title())


def test_region_lines_and_the_shaded_band_are_in_the_legend():
    fig = FIGURES["discriminator"]()
    assert "region compared" in _legend_labels(fig.axes[0])
    fig = FIGURES["curves"]()
    assert _legend_labels(fig.axes[0]).count(plotting.BAND_LABEL) == 1
    # a plain (1-D) curve draws no band and names none
    fig = plotting.plot_curves(np.arange(5), {"a": np.ones(5)}, ylabel="JSD")
    assert plotting.BAND_LABEL not in _legend_labels(fig.axes[0])


@pytest.mark.parametrize("title_on", ["axis", "figure"])
def test_a_failed_claims_plot_says_fail_and_a_passed_one_does_not(title_on):
    def make():
        fig = FIGURES["discriminator"]()
        if title_on == "figure":
            fig.suptitle("claim")
        else:
            fig.axes[0].set_title("claim")
        return fig

    failed, passed = make(), make()
    plotting.mark_status(failed, "FAIL")
    plotting.mark_status(failed, "FAIL")  # idempotent
    plotting.mark_status(passed, "PASS")
    assert "[FAIL]" in _all_text(failed) and [t.get_text() for t in failed.texts].count("FAIL") == 1
    assert "FAIL" not in _all_text(passed) and "[PASS]" in _all_text(passed)
    assert _all_text(failed).count("[FAIL]") == 1


def test_plot_discriminator_takes_the_status():
    fig = plotting.plot_discriminator(XS, PDF, PDF, 0.5 + 0 * XS, title="t", status="FAIL")
    assert fig.axes[0].get_title() == "t [FAIL]" and fig.texts[0].get_text() == "FAIL"


def test_sigma_curve_marks_the_chosen_sigma():
    curve = [{"sigma": s, "valid_mean_ll": ll} for s, ll in ((0.1, -5.0), (0.2, -1.0),
                                                             (0.4, -3.0))]
    ax = plotting.plot_sigma_curve({"G": curve}).axes[0]
    labels = _legend_labels(ax)
    assert "G: sigma = 0.2" in labels and "chosen sigma (best on validation)" in labels
    vlines = [ln for ln in ax.get_lines() if ln.get_label() == "G: sigma = 0.2"]
    assert vlines[0].get_xdata()[0] == 0.2
    # an explicit choice wins over the curve's maximum
    ax = plotting.plot_sigma_curve({"G": curve}, chosen={"G": 0.4}).axes[0]
    assert "G: sigma = 0.4" in _legend_labels(ax)
