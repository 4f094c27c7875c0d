"""simulator.synergy against the `synergy` package (D. Wooten, v1.0.0) and against analytic truth.

Convention mapping (see the module docstring): the package takes a viability-like response that falls from
E0 = 1, so it is fed ``E = 1 - fa``; its ``reference - E`` then equals our ``observed - expected`` in fa.
Loewe is compared with ``Loewe(mode="delta_nan")``, CI at the wells with ``CombinationIndex()``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import linregress
from synergy.combination import HSA, ZIP, Bliss, CombinationIndex, Loewe

from simulator import synergy as S
from simulator.errors import InputError
from simulator.synergy._hill import _dose_scale, _hill, _hill_partials

#: agreement with the reference implementation on score matrices (absolute)
REF_ATOL = 1e-6
#: analytic truth for quantities that go through a fit or a root find
ANALYTIC_ATOL = 1e-6
#: analytic truth for closed-form scores (Bliss)
EXACT_ATOL = 1e-12


def hill(d, c, h, emax=1.0):
    d = np.asarray(d, dtype=float)
    return emax * d**h / (c**h + d**h)


def loewe_additive(d1, d2, c1, c2, h, k=1.0):
    """Loewe-additive surface of two Hill drugs with slope h and Emax 1, doses scaled by k (closed form).

    d1/D1(E) + d2/D2(E) = 1 with D_i(E) = C_i (E/(1-E))^(1/h) gives (E/(1-E))^(1/h) = d1/C1 + d2/C2.
    """
    x = (k * (np.asarray(d1) / c1 + np.asarray(d2) / c2)) ** h
    return x / (1.0 + x)


def grid(a, b):
    return np.meshgrid(a, b, indexing="ij")


COMB = (slice(1, None), slice(1, None))

# ---- matrices shared by the reference comparisons ----------------------------------------------------------

# 7 x 8 grid, diagonal ratio 0.1; A: C=2, h=1.2, Emax=0.9; B: C=60, h=0.9, Emax=0.85; a Bliss-positive
# interaction of known size. Emax_A > Emax_B, so Loewe is undefined where A alone exceeds 0.85.
A1 = np.array([0, 0.1, 0.3, 1, 3, 10, 30.0])
B1 = np.array([0, 1, 3, 10, 30, 100, 300, 1000.0])


def smooth_matrix():
    d1, d2 = grid(A1, B1)
    fa1, fa2 = hill(d1, 2.0, 1.2, 0.9), hill(d2, 60.0, 0.9, 0.85)
    bliss = fa1 + fa2 - fa1 * fa2
    return A1, B1, bliss + 0.3 * fa1 * fa2 * (1 - bliss)


# 6 x 6 grid at ratio 1:100, seeded noise (sd 0.03) and two irregular wells: one combination well above
# baseline (feedback relief) and one non-monotone dip. Single-agent fa stay inside 0.02 < fa < 0.98, so the
# median-effect window makes no difference here (that difference is tested separately).
A2 = np.array([0, 0.1, 0.3, 1, 3, 10.0])
B2 = np.array([0, 10, 30, 100, 300, 1000.0])


def noisy_matrix():
    d1, d2 = grid(A2, B2)
    fa1, fa2 = hill(d1, 0.5, 1.2, 0.9), hill(d2, 60.0, 0.9, 0.85)
    fa = fa1 + fa2 - fa1 * fa2 + np.random.default_rng(20240611).normal(0.0, 0.03, d1.shape)
    fa[0, 0] = 0.0
    fa[1, 1] = -0.04
    fa[3, 2] -= 0.2
    assert np.all((fa[1:, 0] > 0.02) & (fa[1:, 0] < 0.98)) and np.all((fa[0, 1:] > 0.02) & (fa[0, 1:] < 0.98))
    return A2, B2, fa


MATRICES = {"smooth": smooth_matrix, "noisy": noisy_matrix}


def reference(model, a, b, fa):
    """Fit a `synergy` model on the flattened grid with E = 1 - fa; return the (n, m) synergy matrix."""
    d1, d2 = grid(a, b)
    with warnings.catch_warnings():  # its curve_fit covariance and divide warnings are not ours to fix
        warnings.simplefilter("ignore")
        return np.asarray(model.fit(d1.ravel(), d2.ravel(), 1.0 - fa.ravel())).reshape(fa.shape)


class PreciseLoewe(Loewe):
    """The package's Loewe with its bounded 1-D search tightened from xatol=1e-5 to 1e-12 (same formula)."""

    def _fit_Loewe_reference(self, d1, d2):
        lo = max(min(m.E0, m.Emax) for m in (self.drug1_model, self.drug2_model))
        hi = min(max(m.E0, m.Emax) for m in (self.drug1_model, self.drug2_model))
        return minimize_scalar(
            self._quadratic_reference_objective_function,
            args=(d1, d2),
            method="bounded",
            bounds=(lo, hi),
            options={"xatol": 1e-12},
        )


def max_abs_diff(ours, ref):
    """Max |difference| on combination wells where both are finite; NaN positions must coincide."""
    ours, ref = ours[COMB], ref[COMB]
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    both = np.isfinite(ours) & np.isfinite(ref)
    return float(np.max(np.abs(ours[both] - ref[both])))


@pytest.fixture(scope="module", params=list(MATRICES))
def case(request):
    a, b, fa = MATRICES[request.param]()
    return request.param, a, b, fa, S.synergy_scores(a, b, fa)


# ---- 1. agreement with the reference implementation --------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "model"),
    [("bliss", Bliss), ("hsa", HSA), ("zip", ZIP), ("ci", CombinationIndex)],
)
def test_matches_synergy_package(case, score, model):
    _, a, b, fa, result = case
    ours = result.score(score)
    ref = reference(model(), a, b, fa)
    assert max_abs_diff(ours, ref) < REF_ATOL
    # deliberate difference 1: single-agent row/column are NaN here, 0 (excess) or 1 (CI) there
    assert np.all(np.isnan(ours[0, :])) and np.all(np.isnan(ours[:, 0]))
    assert np.all(ref[0, :] == (1.0 if score == "ci" else 0.0))


def test_loewe_matches_synergy_delta_nan(case):
    name, a, b, fa, result = case
    # with the package's root search tightened, the two agree to REF_ATOL, NaN (undefined) wells included
    assert max_abs_diff(result.loewe, reference(PreciseLoewe(mode="delta_nan"), a, b, fa)) < REF_ATOL
    # deliberate difference 4: stock package stops its bounded search at xatol=1e-5 (measured ~3e-6 here)
    stock = max_abs_diff(result.loewe, reference(Loewe(mode="delta_nan"), a, b, fa))
    assert stock < 1e-4
    if name == "smooth":  # Emax_A = 0.9 > Emax_B = 0.85: wells beyond 0.85 have no Loewe expectation
        assert result.loewe_undefined.any()
        assert np.array_equal(result.loewe_undefined[COMB], np.isnan(result.loewe[COMB]))


def test_hill_fits_match_synergy_package(case):
    from synergy.single import Hill

    _, a, b, fa, result = case
    for doses, column, fit in ((a, fa[:, 0], result.hill_a), (b, fa[0, :], result.hill_b)):
        ref = Hill()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.fit(doses, 1.0 - column)
        np.testing.assert_allclose([fit.E0, fit.Emax], [1 - ref.E0, 1 - ref.Emax], atol=1e-8)
        np.testing.assert_allclose([fit.h, fit.C], [ref.h, ref.C], rtol=1e-7)


def test_median_effect_window_differs_from_synergy_package():
    """Deliberate difference 2: the fit uses 0.02 < fa < 0.98 (CompuSyn); the package uses 0 < fa < 1."""
    a, b = np.array([0, 0.01, 0.1, 1, 10, 100.0]), np.array([0, 1, 3, 10, 30.0])
    d1, d2 = grid(a, b)
    fa = loewe_additive(d1, d2, 1.0, 10.0, 1.0, k=1.5)
    fa[0, 1:] = hill(b[1:], 10.0, 1.0)
    fa[1:, 0] = [0.01, 0.12, 0.45, 0.93, 0.99]  # noisy single-agent A with points outside the window
    result = S.synergy_scores(a, b, fa)
    inside = (fa[1:, 0] > 0.02) & (fa[1:, 0] < 0.98)
    line = linregress(np.log(a[1:][inside]), np.log(fa[1:, 0][inside] / (1 - fa[1:, 0][inside])))
    assert result.median_a.n_points == 3
    assert result.median_a.m == pytest.approx(line.slope, rel=1e-12)
    assert result.median_a.Dm == pytest.approx(np.exp(-line.intercept / line.slope), rel=1e-12)

    ref = reference(CombinationIndex(), a, b, fa)
    assert np.nanmax(np.abs(result.ci[COMB] - ref[COMB])) > 0.01  # the windows give different CIs
    # ...and the window is the only difference: with the package's (0, 1) fit passed in, CIs agree
    wide = linregress(np.log(a[1:]), np.log(fa[1:, 0] / (1 - fa[1:, 0])))
    fit_wide = S.MedianEffectFit(wide.slope, np.exp(-wide.intercept / wide.slope), wide.rvalue, 5)
    same = S.combination_index(a, b, fa, fit_a=fit_wide)
    assert max_abs_diff(same.ci, ref) < REF_ATOL


def test_ci_outside_unit_interval_is_nan_and_flagged():
    """Deliberate difference 3: fa outside (0, 1) gives NaN + ci_undefined; the package gives inf at fa = 0."""
    a, b = np.array([0, 0.3, 1, 3, 10.0]), np.array([0, 3, 10, 30, 100.0])
    d1, d2 = grid(a, b)
    fa = loewe_additive(d1, d2, 1.0, 10.0, 1.0)
    fa[1, 1], fa[2, 2], fa[3, 3] = 0.0, 1.0, 1.02
    result = S.synergy_scores(a, b, fa)
    for i in (1, 2, 3):
        assert np.isnan(result.ci[i, i]) and result.ci_undefined[i, i]
    assert result.ci_undefined.sum() == 3
    ref = reference(CombinationIndex(), a, b, fa)
    assert np.isinf(ref[1, 1]) and np.isnan(ref[2, 2]) and np.isnan(ref[3, 3])


def test_non_inhibitory_fit_makes_loewe_undefined():
    """Deliberate difference 4/5: a drug that raises the readout (Emax < E0) has no Loewe or ZIP null."""
    a, b = np.array([0, 0.3, 1, 3, 10.0]), np.array([0, 3, 10, 30, 100.0])
    d1, d2 = grid(a, b)
    fa = hill(d1, 1.0, 1.0) - 0.5 * hill(d2, 10.0, 1.0)
    result = S.synergy_scores(a, b, fa)
    assert result.hill_b.Emax < result.hill_b.E0
    assert result.loewe_undefined[COMB].all() and np.isnan(result.loewe[COMB]).all()
    assert result.below_baseline[0, 1:].all()


def test_non_inhibitory_pair_makes_zip_undefined():
    """Deliberate difference 5: the package swaps E0/Emax when the mean fit is not inhibitory; we flag instead."""
    a, b = np.array([0, 0.3, 1, 3, 10.0]), np.array([0, 3, 10, 30, 100.0])
    d1, d2 = grid(a, b)
    result = S.synergy_scores(a, b, -0.3 * hill(d1, 1.0, 1.0) - 0.3 * hill(d2, 10.0, 1.0))
    assert result.zip_undefined[COMB].all() and np.isnan(result.zip[COMB]).all()
    assert result.below_baseline[1:, 1:].all() and np.isfinite(result.bliss[COMB]).all()


def test_inactive_drug_leaves_ci_undefined_not_guessed():
    """Deliberate difference 3: with < 2 single-agent points in the window there is no median-effect fit."""
    a, b = np.array([0, 0.3, 1, 3, 10.0]), np.array([0, 3, 10, 30, 100.0])
    d1, d2 = grid(a, b)
    fa = hill(d1, 1.0, 1.0) + 0.01 * hill(d2, 10.0, 1.0)  # drug B alone never exceeds fa = 0.01
    result = S.synergy_scores(a, b, fa)
    assert result.median_b.status == "too_few_points"
    assert result.ci_undefined[COMB].all() and np.isnan(result.ci[COMB]).all()
    assert result.constant_ratio.status == "undefined"
    assert "drug B: too_few_points" in result.constant_ratio.message


# ---- 2. analytic truth --------------------------------------------------------------------------------------

A3 = np.array([0, 0.1, 0.3, 1, 3, 10.0])
B3 = np.array([0, 1, 3, 10, 30, 100.0])  # diagonal ratio A:B = 1:10


def in_window(fa):
    return (fa > 0.02) & (fa < 0.98)


@pytest.mark.parametrize("h", [0.8, 1.0, 2.0])
def test_loewe_additive_matrix_is_additive(h):
    d1, d2 = grid(A3, B3)
    fa = loewe_additive(d1, d2, 1.0, 10.0, h)
    result = S.synergy_scores(A3, B3, fa)
    window = in_window(fa[COMB])
    assert window.sum() >= 10
    np.testing.assert_allclose(result.ci[COMB][window], 1.0, atol=ANALYTIC_ATOL)
    np.testing.assert_allclose(result.loewe[COMB], 0.0, atol=ANALYTIC_ATOL)
    # the only wells without a CI are the saturated ones: fa > 0.99 where drug A alone (10 nM: 0.990 at h = 2)
    # is above 0.99 too (SATURATION); at h = 0.8 and 1 there are none
    stronger = np.maximum(fa[:, :1], fa[:1, :])
    saturated = (fa > 0.99) & (stronger > 0.99)
    saturated[0, :] = saturated[:, 0] = False
    assert saturated.any() == (h == 2.0)
    np.testing.assert_array_equal(result.saturated, saturated)
    np.testing.assert_array_equal(result.ci_undefined, saturated)
    assert not result.loewe_undefined.any() and np.isfinite(result.loewe[COMB]).all()
    assert result.median_a.m == pytest.approx(h, rel=1e-9) and result.median_a.Dm == pytest.approx(1.0, rel=1e-9)
    assert result.median_a.r == pytest.approx(1.0, rel=1e-12)
    # constant ratio = the diagonal (1:10 by default); an explicit (1, 10) gives the same table
    table = result.ci_table()
    assert list(table["fa"]) == [0.5, 0.75, 0.9]
    np.testing.assert_allclose(table["ci"], 1.0, atol=ANALYTIC_ATOL)
    assert (table["verdict"] == "additive").all() and (table["status"] == "ok").all()
    np.testing.assert_allclose(table["dri_a"], table["dx_a"] / table["dose_a"], rtol=1e-12)
    explicit = S.synergy_scores(A3, B3, fa, ratio=(1, 10)).ci_table()
    pd.testing.assert_frame_equal(explicit, table)


def test_bliss_independent_matrix_has_zero_bliss_excess():
    d1, d2 = grid(A3, B3)
    fa1, fa2 = hill(d1, 1.0, 1.3, 0.95), hill(d2, 10.0, 0.7, 0.8)
    fa = fa1 + fa2 - fa1 * fa2
    result = S.synergy_scores(A3, B3, fa)
    np.testing.assert_allclose(result.bliss[COMB], 0.0, atol=EXACT_ATOL)
    # ZIP's slice fits are exact on Bliss data (each slice is again a Hill curve), so delta is 0 too
    np.testing.assert_allclose(result.zip[COMB], 0.0, atol=ANALYTIC_ATOL)


@pytest.mark.parametrize("emax", [1.0, 0.8])
def test_sham_combination_is_loewe_additive(emax):
    """A drug combined with itself: the effect depends on d1 + d2 only."""
    doses = np.array([0, 0.1, 0.3, 1, 3, 10.0])
    d1, d2 = grid(doses, doses)
    fa = hill(d1 + d2, 1.0, 1.5, emax)
    result = S.synergy_scores(doses, doses, fa)
    np.testing.assert_allclose(result.loewe[COMB], 0.0, atol=ANALYTIC_ATOL)
    if emax == 1.0:  # the median-effect equation is exact only for E0 = 0, Emax = 1
        np.testing.assert_allclose(result.ci[COMB], 1.0, atol=ANALYTIC_ATOL)
        np.testing.assert_allclose(result.constant_ratio.ci, 1.0, atol=ANALYTIC_ATOL)
    # Bliss does not call the sham additive (synergy at low doses, antagonism near Emax): the reason Loewe exists
    assert np.nanmax(np.abs(result.bliss)) > 0.01


@pytest.mark.parametrize(("k", "sign"), [(2.0, 1), (0.5, -1)])
def test_dose_scaled_loewe_data_is_synergistic_or_antagonistic(k, sign):
    """Combination wells that behave as if the doses were k-fold: CI = 1/k exactly, Loewe excess has sign(k-1)."""
    d1, d2 = grid(A3, B3)
    fa = loewe_additive(d1, d2, 1.0, 10.0, 1.2, k=k)
    fa[0, :], fa[:, 0] = loewe_additive(0, B3, 1.0, 10.0, 1.2), loewe_additive(A3, 0, 1.0, 10.0, 1.2)
    result = S.synergy_scores(A3, B3, fa)
    np.testing.assert_allclose(result.ci[COMB], 1.0 / k, atol=ANALYTIC_ATOL)
    assert np.all(sign * result.loewe[COMB] > 0)
    np.testing.assert_allclose(result.constant_ratio.ci, 1.0 / k, atol=ANALYTIC_ATOL)
    expected = "synergy" if k > 1 else "antagonism"
    assert (result.ci_table()["verdict"] == expected).all()


def test_constant_ratio_ci_matches_hand_computation():
    """A 1:100 mixture series (not on the matrix) with its own slope: CI by hand from the median-effect algebra."""
    d = np.array([0.1, 1, 10, 100, 1000.0])
    fit_a = S.median_effect_fit(d, hill(d, 1.0, 1.0))  # m = 1, Dm = 1
    fit_b = S.median_effect_fit(d, hill(d, 100.0, 1.0))  # m = 1, Dm = 100
    total = np.array([5, 10, 20, 40, 80, 160.0])
    fit_mix = S.median_effect_fit(total, hill(total, 20.0, 2.0))  # m = 2, Dm = 20 (total dose)
    assert (fit_a.m, fit_a.Dm, fit_mix.m, fit_mix.Dm) == pytest.approx((1, 1, 2, 20), rel=1e-12)
    out = S.combination_index_at(fit_a, fit_b, fit_mix, (1, 100))
    # Dx_mix = 20 (fa/fu)^(1/2); d_A = Dx_mix/101, d_B = 100 Dx_mix/101; Dx_A = fa/fu, Dx_B = 100 fa/fu
    # => CI = 2 Dx_mix / (101 fa/fu): 40/101, 40 sqrt(3)/303, 120/909
    np.testing.assert_allclose(out.ci, [40 / 101, 40 * np.sqrt(3) / 303, 120 / 909], rtol=1e-12)
    np.testing.assert_allclose(out.dri_a, [101 / 20, 101 * 3 / (20 * np.sqrt(3)), 101 * 9 / 60], rtol=1e-12)
    np.testing.assert_allclose(out.dri_b, out.dri_a, rtol=1e-12)  # equipotent 1:100 mixture
    np.testing.assert_allclose(out.dose_b / out.dose_a, 100.0, rtol=1e-12)
    assert out.ratio == 0.01 and out.status == "ok"
    assert list(out.to_frame()["verdict"]) == ["synergy"] * 3


def test_constant_ratio_without_wells_on_the_ratio_says_so():
    d1, d2 = grid(A3, B3)
    result = S.synergy_scores(A3, B3, loewe_additive(d1, d2, 1.0, 10.0, 1.0), ratio=1 / 7)
    assert np.isnan(result.constant_ratio.ci).all()
    assert "no well lies on the ratio" in result.constant_ratio.message
    irregular = np.array([0, 1, 2, 5, 7, 100.0])
    result = S.synergy_scores(A3, irregular, loewe_additive(*grid(A3, irregular), 1.0, 10.0, 1.0))
    assert "no constant-ratio diagonal" in result.constant_ratio.message


def test_median_effect_fit_statuses():
    assert S.median_effect_fit([0, 1, 10], [0.0, 0.5, 0.99]).status == "too_few_points"
    assert S.median_effect_fit([1, 1], [0.3, 0.4]).status == "degenerate"
    falling = S.median_effect_fit([1, 10, 100], [0.6, 0.4, 0.2])
    assert falling.status == "non_increasing" and np.isnan(falling.dose_for(0.5))


# ---- 3. symmetry and baseline handling ------------------------------------------------------------------------


def test_scores_are_symmetric_in_drug_order(case):
    _, a, b, fa, result = case
    swapped = S.synergy_scores(b, a, fa.T)
    np.testing.assert_array_equal(swapped.bliss, result.bliss.T)
    np.testing.assert_array_equal(swapped.hsa, result.hsa.T)
    for name in ("loewe", "zip", "ci"):
        np.testing.assert_allclose(swapped.score(name), result.score(name).T, atol=1e-9)


def test_below_baseline_effects_are_flagged_not_clipped():
    d1, d2 = grid(A3, B3)
    fa = loewe_additive(d1, d2, 1.0, 10.0, 1.0)
    fa[0, 1], fa[2, 3] = -0.05, -0.1  # readout above baseline: single agent B and one combination well
    result = S.synergy_scores(A3, B3, fa)
    assert result.effect[0, 1] == -0.05 and result.effect[2, 3] == -0.1
    expected_mask = np.zeros(fa.shape, bool)
    expected_mask[0, 1] = expected_mask[2, 3] = True
    np.testing.assert_array_equal(result.below_baseline, expected_mask)
    # Bliss and HSA use the negative values as they are
    fa_b = fa[0, 1]
    assert result.bliss[1, 1] == pytest.approx(fa[1, 1] - (fa[1, 0] + fa_b - fa[1, 0] * fa_b), abs=EXACT_ATOL)
    assert result.hsa[2, 3] == pytest.approx(-0.1 - max(fa[2, 0], fa[0, 3]), abs=EXACT_ATOL)
    # the median-effect fit drops it (5 -> 4 points) and CI at the negative well is NaN + flagged
    assert result.median_b.n_points == 4
    assert np.isnan(result.ci[2, 3]) and result.ci_undefined[2, 3] and result.ci_undefined.sum() == 1
    frame = result.to_frame()
    row = frame[(frame.dose_a == A3[2]) & (frame.dose_b == B3[3]) & (frame.score == "ci")].iloc[0]
    assert row.flag == "below_baseline;ci_undefined" and np.isnan(row.value)
    bliss_row = frame[(frame.dose_a == A3[2]) & (frame.dose_b == B3[3]) & (frame.score == "bliss")].iloc[0]
    assert bliss_row.flag == "below_baseline" and np.isfinite(bliss_row.value)


# ---- API shape -------------------------------------------------------------------------------------------------


def test_tidy_frame_and_conventions(case):
    _, a, b, fa, result = case
    frame = result.to_frame()
    assert list(frame.columns) == ["dose_a", "dose_b", "score", "value", "flag"]
    assert len(frame) == 5 * fa.size
    assert set(frame.score) == {"bliss", "hsa", "loewe", "zip", "ci"} <= set(S.SCORE_CONVENTIONS)
    single = frame[(frame.dose_a == 0) | (frame.dose_b == 0)]
    assert single.value.isna().all() and single.flag.str.startswith("single_agent").all()
    assert list(result.ci_table().columns[:3]) == ["ratio_a_to_b", "fa", "dose_a"]
    with pytest.raises(ValueError):
        result.bliss[1, 1] = 0.0  # read-only: a frozen result cannot be edited through its arrays


@pytest.mark.parametrize(
    ("a", "b", "fa", "match"),
    [
        ([1, 2], [0, 1], np.zeros((2, 2)), "start with 0"),
        ([0, 2, 1], [0, 1], np.zeros((3, 2)), "increase strictly"),
        ([0, 1], [0, 1], np.zeros((2, 3)), "shape"),
        ([0, 1], [0, 1], np.array([[0, 0], [0, np.nan]]), "NaN"),
    ],
)
def test_bad_input_raises_input_error(a, b, fa, match):
    with pytest.raises(InputError, match=match):
        S.synergy_scores(a, b, fa)


def test_bad_ratio_and_levels_raise():
    d1, d2 = grid(A3, B3)
    fa = loewe_additive(d1, d2, 1.0, 10.0, 1.0)
    with pytest.raises(InputError, match="ratio"):
        S.synergy_scores(A3, B3, fa, ratio=-1.0)
    with pytest.raises(InputError, match="fa_levels"):
        S.synergy_scores(A3, B3, fa, fa_levels=(0.5, 1.0))


# ---- fit_hill_many and the direct MINPACK call (issue 3, item 8: cheaper Hill fits, same results) ------------


def _hill_curves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded noisy single-agent curves on a screen's 10-dose axis (0 plus 9 log-spaced doses), varied Emax/C/h."""
    rng = np.random.default_rng(seed)
    d = np.r_[0.0, np.geomspace(0.1, 100, 9)]
    fa = np.array([hill(d, rng.uniform(0.3, 30), rng.uniform(0.6, 3), rng.uniform(0.3, 1.0)) for _ in range(n)])
    return d, fa + rng.normal(0, 0.03, fa.shape)


def _bits(fit: S.HillFit) -> tuple:
    return (*(np.float64(getattr(fit, k)).tobytes() for k in ("E0", "Emax", "h", "C")), fit.status, fit.message)


def test_fit_hill_many_equals_fit_hill_curve_by_curve():
    """K curves on one dose axis share the scaling and start; each fit is the one fit_hill gives, bit for bit,
    including a curve whose fit fails (a single late step: MINPACK stops at maxfev) and its message."""
    d, fa = _hill_curves(40, 5)
    fa = np.vstack([fa, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5]])
    many = S.fit_hill_many(d, fa)
    assert len(many) == fa.shape[0]
    assert [_bits(f) for f in many] == [_bits(S.fit_hill(d, row)) for row in fa]
    assert sum(f.ok for f in many) == 40 and many[-1].status == "failed"
    assert many[-1].message.startswith("Number of calls")


def _reference_hill_fit(d: np.ndarray, fa: np.ndarray) -> tuple:
    """The Hill fit as it was before the lean callbacks: leastsq on ``_hill``/``_hill_partials``, full output."""
    from scipy.optimize import leastsq

    u = 1.0 - fa
    scale = _dose_scale(d)
    ds = d / scale
    p0 = np.array([np.median(u[ds == ds.min()]), np.median(u[ds == ds.max()]), 0.0,
                   np.log(np.median(ds) * scale / scale)])

    def residual(p):
        return _hill(ds, p[0], p[1], np.exp(p[2]), np.exp(p[3])) - u

    def jacobian(p):
        occ, d_logh, d_logc = _hill_partials(ds, np.exp(p[2]), np.exp(p[3]))
        span = p[1] - p[0]
        return np.column_stack([1.0 - occ, occ, span * d_logh, span * d_logc])

    with np.errstate(all="ignore"):
        popt, _, _, message, ier = leastsq(residual, p0, Dfun=jacobian, full_output=True)
    if ier not in (1, 2, 3, 4):
        return ("failed", message)
    return (np.float64(1.0 - popt[0]).tobytes(), np.float64(1.0 - popt[1]).tobytes(),
            np.float64(np.exp(popt[2])).tobytes(), np.float64(np.exp(popt[3]) * scale).tobytes(), "ok", "")


def test_lean_callbacks_reproduce_the_previous_fit():
    """The callbacks do _hill's and _hill_partials' floating-point operations on precomputed log doses and reuse
    the residual's occupancy for the Jacobian: every fit equals the previous implementation's, bit for bit."""
    d, fa = _hill_curves(40, 8)
    fa = np.vstack([fa, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5]])
    for fit, row in zip(S.fit_hill_many(d, fa), fa, strict=True):
        want = _reference_hill_fit(d, row)
        assert (_bits(fit) if fit.ok else (fit.status, fit.message)) == want


def test_fit_hill_many_input_checks():
    d, fa = _hill_curves(3, 7)
    with pytest.raises(InputError, match=r"shape \(K, len\(doses\)\)"):
        S.fit_hill_many(d, fa[0])
    with pytest.raises(InputError, match="equal length"):
        S.fit_hill_many(d[:-1], fa)
    with pytest.raises(InputError, match="finite"):
        S.fit_hill_many(d, np.where(fa > 0.5, np.nan, fa))
    assert [(f.status, f.message) for f in S.fit_hill_many(d[:3], fa[:, :3])] == [
        ("failed", "3 points for 4 parameters")] * 3
