"""4PL fits against known truth: exact curves, seeded noisy replicates (CI coverage), censored responses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.errors import InputError
from simulator.readouts import MODEL_FREE, MODEL_NORMALIZED, fit_logistic, logistic4

#: exact 4PL data must be recovered to this relative tolerance
EXACT_RTOL = 1e-6
DOSES = np.logspace(-1, 3, 9)


@pytest.mark.parametrize(("top", "bottom", "ic50", "hill"), [(95.0, 5.0, 10.0, 1.3), (1.0, 0.2, 0.7, 0.8),
                                                             (20.0, 80.0, 50.0, 2.5)])
def test_exact_4pl_is_recovered(top, bottom, ic50, hill):
    fit = fit_logistic(DOSES, logistic4(DOSES, top, bottom, ic50, hill))
    assert fit.status == "ok", fit.message
    assert (fit.top, fit.bottom, fit.ic50, fit.hill) == pytest.approx((top, bottom, ic50, hill), rel=EXACT_RTOL)
    assert fit.ic50_ci95 == pytest.approx((ic50, ic50), rel=EXACT_RTOL)  # no residual, no uncertainty
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    assert fit.n == DOSES.size


def test_controls_are_not_fitted_in_the_free_variant():
    y = logistic4(DOSES, 95.0, 5.0, 10.0, 1.3)
    fit = fit_logistic(np.r_[0.0, 0.0, DOSES], np.r_[300.0, -50.0, y])  # absurd controls change nothing
    assert fit.n == DOSES.size
    assert fit.ic50 == pytest.approx(10.0, rel=EXACT_RTOL)


def test_normalized_variant_fixes_top_and_bottom_and_uses_controls_as_top():
    y = logistic4(DOSES, 100.0, 0.0, 3.0, 1.7)
    fit = fit_logistic(DOSES, y, normalized=True)
    assert fit.status == "ok"
    assert (fit.top, fit.bottom) == (100.0, 0.0)
    assert (fit.ic50, fit.hill) == pytest.approx((3.0, 1.7), rel=EXACT_RTOL)
    # raw signal (controls at 0.8 OD): rescaled so that the control mean is 100
    raw = fit_logistic(np.r_[0.0, 0.0, DOSES], np.r_[0.8, 0.8, y * 0.008], normalized=True)
    assert (raw.ic50, raw.hill) == pytest.approx((3.0, 1.7), rel=EXACT_RTOL)


def test_normalized_fit_of_a_curve_with_a_residual_plateau_differs_from_the_free_fit():
    """Prism's normalised model forces bottom = 0; a curve that plateaus at 20 % gets a larger IC50."""
    y = logistic4(DOSES, 100.0, 20.0, 10.0, 1.0)
    free, norm = fit_logistic(DOSES, y), fit_logistic(DOSES, y, normalized=True)
    assert free.ic50 == pytest.approx(10.0, rel=EXACT_RTOL)
    assert norm.ic50 > free.ic50


def test_ci_coverage_on_seeded_noisy_replicates():
    """Wald CI on log10 IC50: 200 seeded replicates (9 doses x triplicates, sd 5 %) cover the truth ~95 %."""
    truth = dict(top=100.0, bottom=0.0, ic50=10.0, hill=1.0)
    doses = np.repeat(DOSES, 3)
    covered, estimates = 0, []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        y = logistic4(doses, **truth) + rng.normal(0.0, 5.0, doses.size)
        fit = fit_logistic(doses, y)
        assert fit.status == "ok", fit.message
        covered += fit.ic50_ci95[0] <= truth["ic50"] <= fit.ic50_ci95[1]
        estimates.append(math.log10(fit.ic50))
    coverage = covered / 200
    assert 0.9 <= coverage <= 0.99, coverage
    assert 10 ** np.median(estimates) == pytest.approx(truth["ic50"], rel=0.05)


def test_flat_response_is_not_reached():
    flat = np.full(DOSES.size, 100.0)
    for fit in (fit_logistic(DOSES, flat), fit_logistic(np.r_[0.0, DOSES], np.r_[100.0, flat], normalized=True)):
        assert fit.status == "not_reached"
        assert math.isnan(fit.ic50) and all(math.isnan(c) for c in fit.ic50_ci95)
        assert "not reached" in fit.message
    noisy = flat + np.random.default_rng(0).normal(0.0, 3.0, DOSES.size)
    assert fit_logistic(DOSES, noisy).status == "not_reached"
    assert fit_logistic(DOSES, noisy, normalized=True).status == "not_reached"


def test_partial_response_is_flagged_as_extrapolated():
    """The response reaches only ~75 % at the top dose: the IC50 beyond it is an extrapolation, flagged."""
    y = logistic4(DOSES, 100.0, 0.0, 3000.0, 1.0)
    fit = fit_logistic(DOSES, y, normalized=True)
    assert fit.status == "extrapolated"
    assert fit.ic50 == pytest.approx(3000.0, rel=EXACT_RTOL)
    assert "extrapolation" in fit.message


def test_too_few_points_fail_as_a_value():
    fit = fit_logistic([1.0, 10.0, 100.0], [90.0, 50.0, 10.0])
    assert fit.status == "failed" and "need" in fit.message


@pytest.mark.parametrize(("doses", "response"), [([1, 2], [1.0]), ([-1, 1, 2], [1, 2, 3]),
                                                 ([1, 2, 3], [1, math.nan, 3])])
def test_bad_input_raises(doses, response):
    with pytest.raises(InputError):
        fit_logistic(doses, response)


def test_absolute_ic50_and_relative_ec50_are_distinct_and_known():
    # a curve from 98 to a 16 % plateau: the relative EC50 is its midpoint parameter; the absolute IC50 the dose
    # where it crosses 50 % of untreated, EC50 * ((top - 50)/(50 - bottom))^(1/hill)
    top, bottom, ec50, hill = 98.0, 16.0, 10.0, 1.2
    y = logistic4(DOSES, top, bottom, ec50, hill)
    fit = fit_logistic(np.r_[0.0, DOSES], np.r_[100.0, y], absolute_level=50.0)
    assert fit.model == MODEL_FREE and fit.ec50_rel == pytest.approx(ec50, rel=EXACT_RTOL)
    truth = ec50 * ((top - 50.0) / (50.0 - bottom)) ** (1.0 / hill)
    assert fit.ic50_abs == pytest.approx(truth, rel=EXACT_RTOL) and fit.ic50_abs > 1.2 * fit.ec50_rel
    assert fit.ic50_abs_text == f"{truth:.4g}" and fit.ic50_abs_label() == f"{truth:.4g} nM"
    # the normalised model forces the curve through 100 and 0: its one IC50 is both, and it is named
    norm = fit_logistic(np.r_[0.0, DOSES], np.r_[100.0, y], normalized=True, absolute_level=50.0)
    assert norm.model == MODEL_NORMALIZED and norm.ic50_abs == pytest.approx(norm.ec50_rel, rel=1e-9)
    # without a level (a response that is not a fraction of untreated) there is no absolute IC50
    assert fit_logistic(DOSES, y).ic50_abs_text == "n/a" and math.isnan(fit_logistic(DOSES, y).ic50_abs)


def test_a_drug_that_never_reaches_50_percent_has_no_absolute_ic50_number():
    y = logistic4(DOSES, 100.0, 86.0, 10.0, 1.0)  # never below 86 %: a relative EC50 of 10, no absolute IC50
    fit = fit_logistic(DOSES, y, absolute_level=50.0)
    assert fit.ec50_rel == pytest.approx(10.0, rel=EXACT_RTOL)
    assert math.isnan(fit.ic50_abs) and fit.ic50_abs_text == "> 1000 (top dose)"
    assert fit.ic50_abs_label() == "> 1000 nM (top dose)"
    below = fit_logistic(DOSES, logistic4(DOSES, 40.0, 5.0, 10.0, 1.0), absolute_level=50.0)
    assert math.isnan(below.ic50_abs) and below.ic50_abs_text == "< 0.1 (lowest dose)"


def test_dose_response_and_the_screens_single_agent_fit_agree(mpnst, tmp_path):
    # the same doses in a screen's matrix edge and in `dose-response`: the same model, EC50 and absolute IC50,
    # and the screen report shows them
    from simulator.readouts import READOUTS, dose_response, fit_dose_response
    from simulator.report import build_report
    from simulator.screen import DrugAxis, ScreenSpec, run_screen
    from tests._report_html import parse_tables

    axis_a, axis_b = DrugAxis.parse("trametinib:0.1:1000:9"), DrugAxis.parse("src_inhibitor_1:10:10000:6")
    spec = ScreenSpec(model=mpnst, cell_lines=("S462_R1",), drug_a=axis_a, drug_b=axis_b, readouts=("viability",))
    wells = run_screen(spec, tmp_path / "screen", workers=1, progress=False).wells
    edge = wells[(wells["series"] == "matrix") & (wells["dose_b_nM"] == 0)].sort_values("dose_a_nM")
    np.testing.assert_array_equal(edge["dose_a_nM"], axis_a.doses)
    screen_fit = fit_dose_response(READOUTS["viability"], edge["dose_a_nM"], edge["value"])[0]
    alone = dose_response(mpnst, "S462_R1", "trametinib", axis_a.doses).fit
    assert alone.model == screen_fit.model == "4PL, top and bottom free"
    # the steady states agree to the solver's tolerance (the screen solves in chunks), the fits then to 1e-6
    for key in ("ec50_rel", "ic50_abs", "top", "bottom", "hill"):
        assert getattr(screen_fit, key) == pytest.approx(getattr(alone, key), rel=1e-6), key
    assert 10 < alone.bottom < 20 and alone.ic50_abs > alone.ec50_rel  # R1's plateau: two different numbers
    build_report(tmp_path / "screen", workers=1)
    tables = [t for t in parse_tables((tmp_path / "screen" / "report.html").read_text())
              if t.get("h3", "").startswith("Single agents")]
    header, *rows = tables[0]["rows"]
    row = dict(zip(header, next(r for r in rows if "trametinib" in r), strict=True))
    assert row["model"] == alone.model and row["ic50_abs"] == alone.ic50_abs_text
    assert float(row["ec50_rel_nM"]) == pytest.approx(alone.ec50_rel, rel=1e-3)
    srci = dict(zip(header, next(r for r in rows if "src_inhibitor_1" in r), strict=True))
    assert srci["ic50_abs"] == "> 10000 (top dose)" and srci["ic50_abs_nM"] == ""
