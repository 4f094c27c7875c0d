"""simulator.synergy on many matrices: a batch of K scores each matrix as a batch of one does, and as references do.

One implementation scores every matrix (``synergy_scores`` is ``synergy_batch`` on a batch of one, and that path is
checked against the ``synergy`` package and analytic truth in tests/test_synergy.py). Here: K matrices at once give
each matrix's single-matrix result (the batch's composition changes nothing); the Loewe roots equal a scalar Brent
root of the same equation (``_brent_loewe_expected``, the implementation the package had before it had one), also
when bisection alone finishes the search; the median-effect fits equal ``scipy.stats.linregress``; and the screen's
synergy table equals the per-matrix assembly ``screen._synergy_chunk`` used before it scored groups
(``_reference_rows``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import expit
from scipy.stats import linregress

from simulator import synergy as S
from simulator.errors import InputError
from simulator.readouts import READOUTS
from simulator.screen import FA_LEVELS, WELL_SCORES, effect_of, ratio_series
from simulator.screen._scoring import MIN_SYNERGY_CHUNKS, SYNERGY_MATRICES_PER_CHUNK, _synergy_chunk, _synergy_chunks
from simulator.synergy import (
    loewe_expected_many,
    matrix_summaries,
    median_effect_fits,
    synergy_scores_many,
)

#: the batched median-effect fits sum in another order than linregress: a few ulps (measured <= 1.2e-14)
ROUNDOFF_RTOL = 1e-12
#: Loewe roots: both are converged roots (brentq xtol 1e-13 in x; Newton to the same tolerance)
LOEWE_ATOL = 1e-12

A10 = np.r_[0.0, np.geomspace(0.1, 100, 9)]


def _brent_loewe_expected(d1: float, d2: float, f1: S.HillFit, f2: S.HillFit) -> float:
    """Loewe-additive effect at ``(d1 > 0, d2 > 0)`` by Brent's method, or NaN where it does not exist (reference).

    ``g(E) = d1/D1(E) + d2/D2(E)`` falls from +inf at ``lo = max(E0)`` to ``g(hi)`` at ``hi = min(Emax)``; a root
    exists iff ``g(hi) < 1``. ``E = lo + (hi - lo)·expit(x)``; the bracket doubles from ±1 up to ±700.
    """
    lo, hi = max(f1.E0, f2.E0), min(f1.Emax, f2.Emax)
    if not hi > lo:
        return math.nan
    width = hi - lo
    fits = ((d1, f1), (d2, f2))

    def g_minus_1(x: float) -> float:
        total = 0.0
        for dose, f in fits:
            above_e0 = (lo - f.E0) + width * expit(x)
            below_emax = (f.Emax - hi) + width * expit(-x)
            with np.errstate(divide="ignore", over="ignore"):
                total += dose / (f.C * np.float_power(above_e0 / below_emax, 1.0 / f.h))
        return float(total - 1.0)

    limit = sum(dose / float(f.dose_for(hi)) for dose, f in fits if f.Emax > hi)
    if limit >= 1.0:
        return math.nan
    x_lo, x_hi = -1.0, 1.0
    if g_minus_1(0.0) > 0:
        x_lo = 0.0
        while g_minus_1(x_hi) > 0 and x_hi < 700:
            x_hi = min(2 * x_hi, 700.0)
        if g_minus_1(x_hi) > 0:
            return math.nan
    else:
        x_hi = 0.0
        while g_minus_1(x_lo) <= 0 and x_lo > -700:
            x_lo = max(2 * x_lo, -700.0)
        if g_minus_1(x_lo) <= 0:
            return lo
    root = brentq(g_minus_1, x_lo, x_hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
    return float(lo + width * expit(root))


def _linregress_fit(doses: np.ndarray, fa: np.ndarray) -> S.MedianEffectFit:
    """The median-effect fit by ``scipy.stats.linregress`` on the CompuSyn window (reference)."""
    use = np.isfinite(doses) & np.isfinite(fa) & (doses > 0) & (fa > S.FA_WINDOW[0]) & (fa < S.FA_WINDOW[1])
    n = int(use.sum())
    if n < 2:
        return S.MedianEffectFit(math.nan, math.nan, math.nan, n, "too_few_points")
    x, f_in = np.log(doses[use]), fa[use]
    if np.ptp(x) == 0:
        return S.MedianEffectFit(math.nan, math.nan, math.nan, n, "degenerate")
    line = linregress(x, np.log(f_in / (1.0 - f_in)))
    m = float(line.slope)
    if not m > 0:
        return S.MedianEffectFit(m, math.nan, float(line.rvalue), n, "non_increasing")
    return S.MedianEffectFit(m, float(np.exp(-line.intercept / m)), float(line.rvalue), n, "ok")
B10 = np.r_[0.0, np.geomspace(10, 10000, 9)]


def hill(d, c, h, emax):
    return emax * d**h / (c**h + d**h)


def surface(a, b, c1, h1, e1, c2, h2, e2, interaction=0.0):
    d1, d2 = np.meshgrid(a, b, indexing="ij")
    f1, f2 = hill(d1, c1, h1, e1), hill(d2, c2, h2, e2)
    bliss = f1 + f2 - f1 * f2
    return bliss + interaction * f1 * f2 * (1 - bliss)


def screen_like(rng, k, a=A10, b=B10):
    """An ensemble of one cell line: log-normal spread of potencies, Emax 0.6-1, mild synergy or antagonism."""
    return np.array([
        surface(a, b, 3 * math.exp(rng.normal(0, 0.4)), rng.uniform(0.8, 2.0), rng.uniform(0.6, 1.0),
                300 * math.exp(rng.normal(0, 0.4)), rng.uniform(0.8, 2.0), rng.uniform(0.6, 1.0),
                rng.uniform(-0.4, 0.4))
        for _ in range(k)
    ])


def noisy(rng, k, sd=0.05, a=A10, b=B10):
    e = screen_like(rng, k, a, b) + rng.normal(0, sd, (k, a.size, b.size))
    e[:, 0, 0] = 0.0
    return e


def edge_cases():
    """Matrices that hit every special branch, on a 6 x 6 grid with a constant-ratio diagonal (A:B = 1:10)."""
    a, b = np.array([0, 1, 3, 10, 30, 100.0]), np.array([0, 10, 30, 100, 300, 1000.0])
    mats = []
    # Loewe undefined where A alone exceeds B's Emax (0.5)
    mats.append(surface(a, b, 3, 1.5, 0.95, 100, 1.0, 0.5))
    # readout above baseline (negative fa) in single-agent and combination wells
    m = surface(a, b, 10, 1, 0.8, 100, 1, 0.7)
    m[0, 2], m[3, 0], m[2, 2] = -0.05, -0.02, -0.1
    mats.append(m)
    # a flat drug B (no effect at all: Hill fit "ok" but not inhibitory; median-effect fit has no points)
    m = surface(a, b, 10, 1, 0.8, 100, 1, 0.0)
    mats.append(m)
    # a failed Hill fit (MINPACK gives up on a single late step)
    m = surface(a, b, 10, 1, 0.8, 100, 1, 0.7)
    m[:, 0] = [0, 0, 0, 0, 0, 0.5]
    mats.append(m)
    # steep single agents (h ~ 60): Loewe roots far out on the expit scale
    m = surface(a, b, 10, 1, 0.8, 100, 1, 0.7)
    m[:, 0], m[0, :] = [0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0.9, 0.9]
    mats.append(m)
    # saturated single agents (fa >= 0.98 outside the median-effect window; non-increasing fits)
    m = surface(a, b, 0.01, 1, 1.0, 1e6, 1, 0.9)
    mats.append(m)
    m = surface(a, b, 10, 1, 0.8, 100, 1, 0.7)
    m[:, 0] = [0, 0.5, 0.4, 0.3, 0.2, 0.1]  # decreasing: non_increasing median-effect fit
    mats.append(m)
    return a, b, np.array(mats)


def assert_same(many: S.SynergyResult, one: S.SynergyResult) -> None:
    """Every field of two results: exact where the arithmetic is the same, roundoff where it is summed."""
    for name in ("doses_a", "doses_b", "effect", "bliss", "hsa", "below_baseline", "ci_undefined",
                 "loewe_undefined", "zip_undefined"):
        np.testing.assert_array_equal(getattr(many, name), getattr(one, name), err_msg=name)
    # assert_allclose also requires NaN in the same places
    np.testing.assert_allclose(many.loewe, one.loewe, rtol=0, atol=LOEWE_ATOL, err_msg="loewe")
    np.testing.assert_allclose(many.zip, one.zip, rtol=ROUNDOFF_RTOL, atol=1e-14, err_msg="zip")
    np.testing.assert_allclose(many.ci, one.ci, rtol=ROUNDOFF_RTOL, err_msg="ci")
    # the same MINPACK calls; numpy's SIMD reductions depend on memory alignment, which a degenerate fit
    # (a flat drug: h -> 0) amplifies to ~1e-14 relative
    for fit, ref in ((many.hill_a, one.hill_a), (many.hill_b, one.hill_b)):
        assert (fit.status, fit.message) == (ref.status, ref.message)
        np.testing.assert_allclose([fit.E0, fit.Emax, fit.h, fit.C], [ref.E0, ref.Emax, ref.h, ref.C],
                                   rtol=ROUNDOFF_RTOL, atol=1e-15)
    for name in ("median_a", "median_b"):
        assert_same_fit(getattr(many, name), getattr(one, name))
    cr, ref = many.constant_ratio, one.constant_ratio
    assert (cr.status, cr.message) == (ref.status, ref.message)
    assert cr.ratio == ref.ratio or (math.isnan(cr.ratio) and math.isnan(ref.ratio))
    np.testing.assert_array_equal(cr.fa, ref.fa)
    for name in ("dose_a", "dose_b", "dx_a", "dx_b", "ci", "dri_a", "dri_b"):
        np.testing.assert_allclose(getattr(cr, name), getattr(ref, name), rtol=ROUNDOFF_RTOL, err_msg=name)
    assert_same_fit(cr.fit_mix, ref.fit_mix)
    pd.testing.assert_frame_equal(many.to_frame(), one.to_frame(), check_exact=False, rtol=ROUNDOFF_RTOL,
                                  atol=LOEWE_ATOL)


def assert_same_fit(fit: S.MedianEffectFit, ref: S.MedianEffectFit) -> None:
    assert (fit.status, fit.n_points) == (ref.status, ref.n_points)
    np.testing.assert_allclose([fit.m, fit.Dm, fit.r], [ref.m, ref.Dm, ref.r], rtol=ROUNDOFF_RTOL)


def compare(a, b, effects, **kwargs) -> list[S.SynergyResult]:
    many = synergy_scores_many(a, b, effects, **kwargs)
    assert len(many) == len(effects)
    for k, e in enumerate(effects):
        assert_same(many[k], S.synergy_scores(a, b, e, **kwargs))
    return many


def test_screen_like_family_matches_one_by_one():
    many = compare(A10, B10, screen_like(np.random.default_rng(1), 12), ratio=0.01, fa_levels=FA_LEVELS)
    assert any(r.loewe_undefined.any() for r in many)  # unequal Emax: some wells have no Loewe expectation
    assert all(np.isfinite(r.bliss[1:, 1:]).all() for r in many)


def test_noisy_random_matrices_match_one_by_one():
    many = compare(A10, B10, noisy(np.random.default_rng(2), 12, sd=0.06), ratio=(1, 100))
    assert any(r.below_baseline.any() for r in many)


def test_edge_cases_match_one_by_one():
    a, b, effects = edge_cases()
    many = compare(a, b, effects)  # ratio None: the diagonal ratio 0.1
    assert all(r.constant_ratio.ratio == pytest.approx(0.1) for r in many)
    statuses = {r.hill_a.status for r in many} | {r.hill_b.status for r in many}
    assert "failed" in statuses
    assert many[0].loewe_undefined[1:, 1:].any() and not many[0].loewe_undefined[1:, 1:].all()
    assert many[1].below_baseline.sum() == 3
    assert {r.median_a.status for r in many} >= {"ok", "non_increasing"}
    assert "too_few_points" in {r.median_b.status for r in many}


def test_three_by_three_grid_has_no_hill_fits():
    a, b = np.array([0, 1, 10.0]), np.array([0, 10, 100.0])
    many = compare(a, b, noisy(np.random.default_rng(3), 5, sd=0.02, a=a, b=b))
    assert all(r.hill_a.status == "failed" and r.loewe_undefined[1:, 1:].all() for r in many)


def test_no_diagonal_ratio_and_a_ratio_off_the_grid():
    a, b = np.array([0, 1, 2, 10, 30.0]), np.array([0, 10, 30, 100, 1000.0])  # diagonal ratios differ
    effects = noisy(np.random.default_rng(4), 4, sd=0.02, a=a, b=b)
    many = compare(a, b, effects)
    assert all(r.constant_ratio.message.startswith("no constant-ratio diagonal") for r in many)
    many = compare(a, b, effects, ratio=0.37)  # no well lies on it
    assert all(r.constant_ratio.message.startswith("no well lies on the ratio") for r in many)


def _random_hill_pairs(seed: int = 5, count: int = 60):
    """Dose axes down to 1e-9 and random Hill pairs: steep and shallow fits, E0 != 0, Emax below and above 1."""
    rng = np.random.default_rng(seed)
    a = np.r_[0.0, np.geomspace(1e-9, 1e3, 8)]
    b = np.r_[0.0, np.geomspace(1e-9, 1e4, 8)]
    fits_a, fits_b = [], []
    for _ in range(count):
        for fits in (fits_a, fits_b):
            e0 = rng.choice([0.0, rng.uniform(-0.1, 0.3)])
            fits.append(S.HillFit(e0, rng.uniform(e0 - 0.2, 1.2), math.exp(rng.uniform(-1.5, 4.2)),
                                  math.exp(rng.uniform(-2, 8))))
    return a, b, fits_a, fits_b


@pytest.mark.parametrize("max_newton", [100, 2, 0])
def test_loewe_roots_and_edge_cases_equal_a_brent_root(max_newton):
    """Random Hill pairs against Brent's root of the same equation, including when Newton is cut short and bisection
    finishes the wells Newton left open (``max_newton`` 2), or bisection does all the work (0)."""
    a, b, fits_a, fits_b = _random_hill_pairs()
    expected = loewe_expected_many(a, b, fits_a, fits_b, max_newton=max_newton)
    kinds = {"nan": 0, "lo": 0, "root": 0}
    for k, (f1, f2) in enumerate(zip(fits_a, fits_b, strict=True)):
        lo = max(f1.E0, f2.E0)
        for i in range(1, a.size):
            for j in range(1, b.size):
                ref, got = _brent_loewe_expected(a[i], b[j], f1, f2), expected[k, i, j]
                if math.isnan(ref):
                    assert math.isnan(got), (k, i, j)
                    kinds["nan"] += 1
                elif ref == lo:
                    assert got == lo, (k, i, j)
                    kinds["lo"] += 1
                else:
                    assert abs(got - ref) <= LOEWE_ATOL, (k, i, j, got, ref)
                    kinds["root"] += 1
    assert all(np.isnan(expected[:, 0, :]).ravel()) and all(np.isnan(expected[:, :, 0]).ravel())
    assert min(kinds.values()) > 0, kinds  # every branch was exercised


def test_loewe_excess_of_one_matrix_is_the_batch_of_one():
    """loewe_excess (one matrix) and loewe_expected_many (K matrices) are one code path: the same numbers."""
    a, b, fits_a, fits_b = _random_hill_pairs(seed=9, count=6)
    many = loewe_expected_many(a, b, fits_a, fits_b)
    for k, (f1, f2) in enumerate(zip(fits_a, fits_b, strict=True)):
        one = S.loewe_excess(a, b, np.zeros((a.size, b.size)), hill_a=f1, hill_b=f2)
        np.testing.assert_array_equal(one.expected, many[k])


def test_median_effect_fits_equal_linregress_fits():
    """The batched least-squares line (one masked computation over all rows) against ``scipy.stats.linregress``:
    the same formulas summed in another order, so a few ulps apart (``ROUNDOFF_RTOL``)."""
    rng = np.random.default_rng(6)
    doses = np.r_[0.0, np.geomspace(0.1, 100, 7)]
    fa = np.clip(hill(doses, 5.0, 1.2, 0.9) + rng.normal(0, 0.1, (40, doses.size)), -0.1, 1.05)
    fa[0] = [0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]  # flat log-odds: r NaN, non-increasing
    fa[1] = [0, 0.001, 0.5, 0.99, 0.999, 1, 1, 1]  # one point in the window
    fits = median_effect_fits(doses, fa)
    for k in range(fa.shape[0]):
        assert_same_fit(fits.fit(k), _linregress_fit(doses, fa[k]))
        assert_same_fit(S.median_effect_fit(doses, fa[k]), fits.fit(k))  # one series: a batch of one
    assert {"ok", "too_few_points", "non_increasing"} <= set(fits.status)


def test_bad_input_names_the_problem():
    with pytest.raises(InputError, match=r"= \(K, 3, 3\), got \(2, 3, 4\)"):
        synergy_scores_many([0, 1, 2], [0, 1, 2], np.zeros((2, 3, 4)))
    bad = np.zeros((3, 3, 3))
    bad[1, 2, 2] = np.nan
    with pytest.raises(InputError, match="matrix 1 contain NaN"):
        synergy_scores_many([0, 1, 2], [0, 1, 2], bad)
    with pytest.raises(InputError, match="start with 0"):
        synergy_scores_many([1, 2, 3], [0, 1, 2], np.zeros((1, 3, 3)))
    assert synergy_scores_many([0, 1, 2], [0, 1, 2], np.zeros((0, 3, 3))) == []


# ---- the screen's synergy table ----------------------------------------------------------------------------


def _summaries_by_loops(score: np.ndarray, size: int = 3) -> tuple[float, float]:
    """Mean over the defined combination wells and the best fully defined size x size block, well by well."""
    combo = [float(score[i, j]) for i in range(1, score.shape[0]) for j in range(1, score.shape[1])]
    defined = [v for v in combo if math.isfinite(v)]
    mean = sum(defined) / len(defined) if defined else math.nan
    best = math.nan
    for i in range(1, score.shape[0] - size + 1):
        for j in range(1, score.shape[1] - size + 1):
            block = [float(score[i + di, j + dj]) for di in range(size) for dj in range(size)]
            if all(math.isfinite(v) for v in block):
                value = sum(block) / len(block)
                best = value if math.isnan(best) else max(best, value)
    return mean, best


def test_matrix_summaries_agree_with_well_by_well_loops_and_hand_cases():
    rng = np.random.default_rng(12)
    scores = rng.normal(0, 0.2, size=(40, 6, 7))
    scores[rng.random(scores.shape) < 0.15] = np.nan  # undefined wells (Loewe) in most matrices
    scores[3, 1:, 1:] = np.nan  # nothing defined
    mean, msa = matrix_summaries(scores)
    for k in range(scores.shape[0]):
        ref_mean, ref_msa = _summaries_by_loops(scores[k])
        np.testing.assert_allclose([mean[k], msa[k]], [ref_mean, ref_msa], rtol=1e-12, equal_nan=True)
    assert math.isnan(mean[3]) and math.isnan(msa[3])
    # single-agent row and column never count; a hot 3 x 3 corner is the most synergistic area
    hand = np.zeros((1, 6, 6))
    hand[0, 0, :] = hand[0, :, 0] = 5.0
    hand[0, 3:, 3:] = 0.9
    mean, msa = matrix_summaries(hand)
    assert mean[0] == pytest.approx(9 * 0.9 / 25) and msa[0] == pytest.approx(0.9)  # 25 combination wells
    # a combination grid under 3 x 3 has no area, but a mean
    mean, msa = matrix_summaries(np.ones((2, 3, 4)))
    assert np.all(mean == 1) and np.all(np.isnan(msa))
    with pytest.raises(InputError, match="shape"):
        matrix_summaries(np.ones((3, 3)))


def _reference_rows(frame: pd.DataFrame, line: str, member: int, readout: str, ratio: float) -> pd.DataFrame:
    """One matrix's synergy rows exactly as the per-matrix ``_synergy_chunk`` (before grouping) built them."""
    info = READOUTS[readout]
    series = frame["series"].to_numpy()
    dose_a_all, dose_b_all = frame["dose_a_nM"].to_numpy(dtype=float), frame["dose_b_nM"].to_numpy(dtype=float)
    value_all = frame["value"].to_numpy(dtype=float)
    matrix = series == "matrix"
    doses_a, rows = np.unique(dose_a_all[matrix], return_inverse=True)
    doses_b, cols = np.unique(dose_b_all[matrix], return_inverse=True)
    grid = np.full((doses_a.size, doses_b.size), np.nan)
    grid[rows, cols] = value_all[matrix]
    effect = effect_of(info, grid)
    result = S.synergy_scores(doses_a, doses_b, effect, ratio=ratio, fa_levels=FA_LEVELS)
    mix = ~matrix
    order = np.argsort(dose_a_all[mix], kind="stable")
    mix_a, mix_b, mix_value = dose_a_all[mix][order], dose_b_all[mix][order], value_all[mix][order]
    np.testing.assert_array_equal(mix_b, mix_a / ratio)
    cr = S.constant_ratio_ci(doses_a, effect[:, 0], doses_b, effect[0, :], effect_of(info, mix_value), ratio,
                             FA_LEVELS, mix_doses_a=mix_a)
    fit_mix = cr.fit_mix
    grid_a, grid_b = np.repeat(doses_a, doses_b.size), np.tile(doses_b, doses_a.size)
    parts = []
    well_frame = result.to_frame()  # the documented flag wording of SynergyResult
    for name in WELL_SCORES:
        sub = well_frame[well_frame["score"] == name]
        parts.append(pd.DataFrame({"dose_a": grid_a, "dose_b": grid_b, "fa": effect.ravel(), "score": name,
                                   "value": sub["value"].to_numpy(), "flag": sub["flag"].to_numpy()}))
    with np.errstate(divide="ignore", invalid="ignore"):
        iso = {"iso_x": doses_a[:, None] / result.median_a.dose_for(effect),
               "iso_y": doses_b[None, :] / result.median_b.dose_for(effect)}
    combo = (doses_a[:, None] > 0) & (doses_b[None, :] > 0) & ~result.ci_undefined
    for name, m in iso.items():
        parts.append(pd.DataFrame({"dose_a": grid_a, "dose_b": grid_b, "fa": effect.ravel(), "score": name,
                                   "value": np.where(combo, m, np.nan).ravel(), "flag": ""}))
    ratio_flag = ([cr.message or cr.status] * cr.fa.size if cr.status != "ok"
                  else [flag or "ok" for flag in cr.flags])
    for name, values in (("ci_ratio", cr.ci), ("dri_a", cr.dri_a), ("dri_b", cr.dri_b)):
        parts.append(pd.DataFrame({"dose_a": cr.dose_a, "dose_b": cr.dose_b, "fa": cr.fa, "score": name,
                                   "value": values, "flag": ratio_flag}))
    for which, fit in (("a", result.median_a), ("b", result.median_b), ("mix", fit_mix)):
        for key, row in (("m", "m"), ("Dm", "Dm"), ("r", "r"), ("n_points", "n"), ("fa_min", "fa_min"),
                         ("fa_max", "fa_max")):
            parts.append(pd.DataFrame({"dose_a": [np.nan], "dose_b": [np.nan], "fa": [np.nan],
                                       "score": f"median_{which}_{row}", "value": [float(getattr(fit, key))],
                                       "flag": ";".join(fit.quality_flags) or fit.status}))
    for name in ("bliss", "hsa", "loewe", "zip"):  # per-matrix summaries, computed well by well here
        mean, msa = _summaries_by_loops(getattr(result, name))
        for suffix, value in (("mean", mean), ("msa", msa)):
            parts.append(pd.DataFrame({"dose_a": [np.nan], "dose_b": [np.nan], "fa": [np.nan],
                                       "score": f"{name}_{suffix}", "value": [value], "flag": ""}))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "readout", readout)
    out.insert(0, "member", np.int64(member))
    out.insert(0, "cell_line", line)
    return out


def synthetic_wells(rng, line, members, ratio, a=A10[:7], b=B10[:7]):
    """A wells table as the wells pass writes it (perk_suppression is fa; viability is % of control)."""
    mixture = ratio_series(tuple(a), ratio)
    frames = []
    for member in members:
        fa = noisy(rng, 1, sd=0.04, a=a, b=b)[0]
        mix_fa = hill(np.array([p[0] for p in mixture]), 3.0 * math.exp(rng.normal(0, 0.3)), 1.3, 0.95)
        pairs = [(x, y) for x in a for y in b] + mixture
        values = np.r_[fa.ravel(), mix_fa + rng.normal(0, 0.02, mix_fa.size)]
        for readout, transform in (("perk_suppression", lambda v: v), ("viability", lambda v: 100 * (1 - v))):
            frames.append(pd.DataFrame({
                "cell_line": line, "member": np.int64(member),
                "series": ["matrix"] * a.size * b.size + ["ratio"] * len(mixture),
                "dose_a_nM": [p[0] for p in pairs], "dose_b_nM": [p[1] for p in pairs], "readout": readout,
                "value": transform(values), "status": "ok", "message": "",
            }))
    wells = pd.concat(frames, ignore_index=True)
    return wells.sort_values(["member", "series", "dose_a_nM", "dose_b_nM"], kind="stable", ignore_index=True)


def test_grouped_chunk_equals_per_matrix_rows():
    """One chunk of 5 members x 2 readouts gives the per-matrix rows, in the per-matrix chunk-id order."""
    wells = synthetic_wells(np.random.default_rng(8), "L1", range(5), ratio=0.01)
    payload = {"wells": wells, "cell_line": "L1", "ratio": 0.01,
               "readouts": (("perk_suppression", READOUTS["perk_suppression"]), ("viability", READOUTS["viability"]))}
    got = _synergy_chunk(payload)
    expected = pd.concat([
        _reference_rows(wells[(wells["member"] == m) & (wells["readout"] == r)], "L1", m, r, 0.01)
        for m in range(5) for r in ("perk_suppression", "viability")
    ], ignore_index=True)
    assert (got.dtypes == expected.dtypes).all() and list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=ROUNDOFF_RTOL, atol=LOEWE_ATOL)
    exact = ["cell_line", "member", "readout", "score", "flag", "fa"]
    pd.testing.assert_frame_equal(got[exact], expected[exact])


def test_chunks_group_members_and_isolate_unscorable_matrices(mpnst):
    from simulator.screen import DrugAxis, ScreenSpec

    spec = ScreenSpec(model=mpnst, cell_lines=("S462", "S462_R1"), ratio=0.01,
                      drug_a=DrugAxis(drug="trametinib", doses=tuple(A10[:7])),
                      drug_b=DrugAxis(drug="src_inhibitor_1", doses=tuple(B10[:7])),
                      ensemble=tuple({"kE": 4.0} for _ in range(40)))
    rng = np.random.default_rng(9)
    wells = pd.concat([synthetic_wells(rng, line, range(40), 0.01) for line in spec.cell_lines], ignore_index=True)
    broken = (wells["cell_line"] == "S462_R1") & (wells["member"] == 7) & (wells["readout"] == "viability")
    wells.loc[broken & (wells["dose_a_nM"] == A10[3]) & (wells["series"] == "matrix"), "value"] = np.nan
    chunks = _synergy_chunks(spec, wells, 0.01)
    ids = [cid for cid, _ in chunks]
    assert len(set(ids)) == len(ids)
    # 2 lines x 40 members x 2 readouts = 160 matrices: >= MIN_SYNERGY_CHUNKS chunks, each a run of members of one line
    grouped = [p for cid, p in chunks if "__m" in cid and "-" in cid.rsplit("__m", 1)[1]]
    assert len(grouped) >= MIN_SYNERGY_CHUNKS
    sizes = [p["wells"].groupby(["member", "readout"]).ngroups for p in grouped]
    assert max(sizes) <= SYNERGY_MATRICES_PER_CHUNK and sum(sizes) == 160 - 1
    assert "S462_R1__m00007__viability" in ids  # the matrix with a failed well fails alone, as before
    alone = dict(chunks)["S462_R1__m00007__viability"]
    with pytest.raises(InputError, match="NaN or inf"):
        _synergy_chunk(alone)
    # the rows of a group chunk do not depend on how the members were grouped
    payload = grouped[0]
    whole = _synergy_chunk(payload)
    split = pd.concat([_synergy_chunk({**payload, "wells": part}) for _, part in payload["wells"].groupby("member")],
                      ignore_index=True)
    pd.testing.assert_frame_equal(whole, split, check_exact=False, rtol=ROUNDOFF_RTOL, atol=LOEWE_ATOL)


# ---- the cheaper synergy pass changes no value (issue 3, item 8) -------------------------------------------------


def test_batch_hill_fits_and_zip_are_the_single_matrix_ones_bit_for_bit():
    """synergy_batch fits the single agents with fit_hill_many and scores ZIP in one batched solve: each matrix's
    fits are fit_hill's and its ZIP is zip_delta's with those fits, bit for bit (screen-like noisy matrices)."""
    from simulator.synergy import synergy_batch

    e = noisy(np.random.default_rng(31), 12, sd=0.03)
    batch = synergy_batch(A10, B10, e)

    def bits(fit):
        return (*(np.float64(getattr(fit, k)).tobytes() for k in ("E0", "Emax", "h", "C")), fit.status,
                fit.message)

    for k in range(e.shape[0]):
        assert bits(batch.hills_a[k]) == bits(S.fit_hill(A10, e[k, :, 0]))
        assert bits(batch.hills_b[k]) == bits(S.fit_hill(B10, e[k, 0, :]))
        one = S.zip_delta(A10, B10, e[k], hill_a=batch.hills_a[k], hill_b=batch.hills_b[k])
        np.testing.assert_array_equal(batch.zip[k], one.delta)
    assert np.isfinite(batch.zip[:, 1:, 1:]).mean() > 0.9


def test_chunk_text_columns_are_what_pandas_makes_of_python_strings():
    """The chunk builds its text columns from codes (pandas' per-object string conversion was the slowest part of
    the table); each must equal, dtype included, the column pandas builds from the same Python strings."""
    wells = synthetic_wells(np.random.default_rng(4), "L2", range(3), ratio=0.01)
    payload = {"wells": wells, "cell_line": "L2", "ratio": 0.01,
               "readouts": (("perk_suppression", READOUTS["perk_suppression"]), ("viability", READOUTS["viability"]))}
    got = _synergy_chunk(payload)
    assert len(got) > 0
    for column in ("cell_line", "readout", "score", "flag"):
        rebuilt = pd.DataFrame({column: np.array(got[column].tolist(), dtype=object)})[column]
        pd.testing.assert_series_equal(got[column], rebuilt)
    assert set(got["score"]) >= {*WELL_SCORES, "iso_x", "ci_ratio", "median_mix_r"}
    assert (got["flag"] == "single_agent").any() and (got["flag"] == "").any()
