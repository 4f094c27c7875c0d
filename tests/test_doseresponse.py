"""4PL fits against known truth: exact curves, seeded noisy replicates (CI coverage), censored responses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.errors import InputError
from simulator.readouts import fit_logistic, logistic4

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
