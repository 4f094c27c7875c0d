"""Synergy scores of K dose matrices on one dose grid at once, each exactly as :mod:`simulator.synergy` scores it.

A screen scores thousands of matrices (cell lines x ensemble members x readouts) that share one dose grid.
Scored one by one, the per-call overhead of small numpy operations, a per-well Brent root for Loewe and a
``linregress`` per median-effect fit cost ~10 ms per matrix; here every step that is the same arithmetic for
every matrix runs once on ``(K, n, m)`` arrays:

- Bliss, HSA, below-baseline masks, CI at the wells, the normalised-isobologram inputs and the constant-ratio
  table are elementwise array operations (the same floating-point operations as the single-matrix code).
- The median-effect fits are one masked least-squares line per row of a ``(K, p)`` array (the formulas of
  ``scipy.stats.linregress``, summed in a different order: agreement to a few ulps, not bit for bit).
- The Loewe expectation of every well of every matrix is one vectorised safeguarded Newton iteration on the
  bracket that :func:`simulator.synergy._loewe_expected` would search, so the NaN / ``lo`` edge cases come
  from the same bracketing decisions and the root agrees to ~1e-13 (both are converged roots).
- The 4-parameter Hill fits stay one MINPACK call per drug per matrix (:func:`simulator.synergy.fit_hill_many`:
  the dose scaling and start are shared, each call ~0.1 ms): a batched Levenberg–Marquardt would have to
  reproduce MINPACK's path to give the same optimum on hard (flat, noisy) curves.
- ZIP is :func:`simulator.synergy.zip_delta_many`.

Everything here is pure: no state is kept between calls and every returned array is read-only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit

from ..errors import InputError
from ._single import (
    _RATIO_RTOL,
    FA_WINDOW,
    ConstantRatioCI,
    HillFit,
    MedianEffectFit,
    SynergyResult,
    _check_doses,
    _check_fa_levels,
    _diagonal_ratio,
    _frozen,
    _loewe_expected,
    _ratio_value,
    fit_hill_many,
    zip_delta_many,
)

__all__ = [
    "ConstantRatioMany",
    "MedianFits",
    "SynergyBatch",
    "constant_ratio_many",
    "loewe_expected_many",
    "matrix_summaries",
    "median_effect_fits",
    "synergy_batch",
    "synergy_scores_many",
]

#: Side of the square block of adjacent combination wells of the most synergistic area (SynergyFinder's 3 x 3).
MSA_SIZE = 3

#: Newton iterations before a well falls back to the scalar Brent root (never reached on the test families).
_MAX_NEWTON = 100
#: Bracket ends tried by the Loewe bracketing, as in :func:`simulator.synergy._loewe_expected`.
_X_LIMIT = 700.0


# --------------------------------------------------------------------------------------------------------------
# One number per matrix
# --------------------------------------------------------------------------------------------------------------


def matrix_summaries(scores: object, size: int = MSA_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Summary scores of K well-score matrices ``(K, n, m)`` (row 0 and column 0 the single agents).

    Why: comparing cell lines, drug pairs or ensemble members needs one number per matrix, the summaries
    SynergyFinder made standard (Ianevski et al. 2017), defined here as:

    - ``mean``: the mean of the score over the combination wells (both doses > 0) where it is defined (Loewe
      is NaN where it has no additive reference); NaN when none is;
    - ``msa`` (most synergistic area): the highest mean over ``size`` x ``size`` blocks of adjacent combination
      wells, each block fully defined; NaN when the combination grid is smaller or no block is fully defined.
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 3:
        raise InputError(f"matrix_summaries needs scores of shape (K, n, m), not {values.shape}.")
    combo = values[:, 1:, 1:]
    finite = np.isfinite(combo)
    defined = finite.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, combo, 0.0).sum(axis=(1, 2)) / defined
    mean[defined == 0] = np.nan
    msa = np.full(values.shape[0], np.nan)
    if combo.shape[1] >= size and combo.shape[2] >= size:
        blocks = np.lib.stride_tricks.sliding_window_view(combo, (size, size), axis=(1, 2)).mean(axis=(-2, -1))
        blocks = blocks.reshape(values.shape[0], -1)  # a block with a NaN well is NaN
        some = np.isfinite(blocks).any(axis=1)
        msa[some] = np.nanmax(blocks[some], axis=1)
    return _frozen(mean), _frozen(msa)


# --------------------------------------------------------------------------------------------------------------
# Median-effect fits of many series
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedianFits:
    """K median-effect fits as arrays (one per matrix); ``fit(k)`` is the :class:`MedianEffectFit` of matrix k.

    Attributes
    ----------
    m, Dm, r
        Slope, median-effect dose and correlation, shape (K,); NaN as :func:`simulator.synergy.median_effect_fit`
        leaves them.
    n_points
        Points inside the fa window that entered each fit.
    status
        One status per fit (``"ok"``, ``"too_few_points"``, ``"degenerate"``, ``"non_increasing"``).
    """

    m: np.ndarray
    Dm: np.ndarray
    r: np.ndarray
    n_points: np.ndarray
    status: tuple[str, ...]

    @property
    def ok(self) -> np.ndarray:
        """Which fits can be used for Dx and CI, shape (K,)."""
        return np.array([s == "ok" for s in self.status], dtype=bool)

    def fit(self, k: int) -> MedianEffectFit:
        """The fit of matrix ``k``."""
        return MedianEffectFit(float(self.m[k]), float(self.Dm[k]), float(self.r[k]), int(self.n_points[k]),
                               self.status[k])

    def dose_for(self, fa: np.ndarray) -> np.ndarray:
        """``Dx`` of every fit at ``fa`` of shape (K, ...): :meth:`MedianEffectFit.dose_for` row by row."""
        x = np.asarray(fa, dtype=float)
        extra = (1,) * (x.ndim - 1)
        dm, m, ok = self.Dm.reshape(-1, *extra), self.m.reshape(-1, *extra), self.ok.reshape(-1, *extra)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (x > 0) & (x < 1) & ok
            return np.where(inside, dm * np.float_power(x / (1.0 - x), 1.0 / m), np.nan)


def median_effect_fits(doses: object, fa: object) -> MedianFits:
    """:func:`simulator.synergy.median_effect_fit` of each row of ``fa`` (K, p) against ``doses`` (p,) or (K, p).

    The same window (dose > 0, ``0.02 < fa < 0.98``), the same statuses and the formulas of ``linregress``
    (population covariances; ``r`` clipped to [-1, 1], NaN or 0 when a variance is 0), as one masked
    computation over all rows.
    """
    f = np.asarray(fa, dtype=float)
    if f.ndim != 2:
        raise InputError(f"median_effect_fits needs fa of shape (K, p), got {f.shape}.")
    d = np.broadcast_to(np.asarray(doses, dtype=float), f.shape)
    with np.errstate(invalid="ignore"):
        use = np.isfinite(d) & np.isfinite(f) & (d > 0) & (f > FA_WINDOW[0]) & (f < FA_WINDOW[1])
    n = use.sum(axis=1)
    safe_d, safe_f = np.where(use, d, 1.0), np.where(use, f, 0.5)
    x, y = np.log(safe_d), np.log(safe_f / (1.0 - safe_f))
    with np.errstate(divide="ignore", invalid="ignore"):
        xm = np.where(use, x, 0.0).sum(axis=1) / n
        ym = np.where(use, y, 0.0).sum(axis=1) / n
        dx, dy = np.where(use, x - xm[:, None], 0.0), np.where(use, y - ym[:, None], 0.0)
        ssxm, ssxym, ssym = (dx * dx).sum(axis=1) / n, (dx * dy).sum(axis=1) / n, (dy * dy).sum(axis=1) / n
        r = np.clip(ssxym / np.sqrt(ssxm * ssym), -1.0, 1.0)
        r = np.where((ssxm == 0) | (ssym == 0), np.where(ssxym == 0, np.nan, 0.0), r)
        slope = ssxym / ssxm
        intercept = ym - slope * xm
        dm = np.exp(-intercept / slope)
    ptp = np.where(use, x, -np.inf).max(axis=1, initial=-np.inf) - np.where(use, x, np.inf).min(axis=1, initial=np.inf)
    few, degenerate = n < 2, ptp == 0
    increasing = slope > 0
    status = np.where(few, "too_few_points", np.where(degenerate, "degenerate",
                                                      np.where(increasing, "ok", "non_increasing")))
    invalid = few | degenerate
    return MedianFits(
        m=_frozen(np.where(invalid, np.nan, slope)),
        Dm=_frozen(np.where(invalid | ~increasing, np.nan, dm)),
        r=_frozen(np.where(invalid, np.nan, r)),
        n_points=_frozen(n.astype(np.int64)),
        status=tuple(str(s) for s in status),
    )


# --------------------------------------------------------------------------------------------------------------
# Constant-ratio CI of many matrices
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstantRatioMany:
    """:class:`simulator.synergy.ConstantRatioCI` of K matrices as (K, L) arrays; ``table(k)`` gives one."""

    ratio: float
    fa: np.ndarray
    dose_a: np.ndarray
    dose_b: np.ndarray
    dx_a: np.ndarray
    dx_b: np.ndarray
    ci: np.ndarray
    dri_a: np.ndarray
    dri_b: np.ndarray
    fit_mix: MedianFits
    status: tuple[str, ...]

    def table(self, k: int) -> ConstantRatioCI:
        """The constant-ratio table of matrix ``k``."""
        return ConstantRatioCI(self.ratio, self.fa, *(_frozen(getattr(self, name)[k]) for name in
                                                      ("dose_a", "dose_b", "dx_a", "dx_b", "ci", "dri_a", "dri_b")),
                               self.fit_mix.fit(k), self.status[k])


def constant_ratio_many(
    median_a: MedianFits,
    median_b: MedianFits,
    median_mix: MedianFits,
    ratio: float | tuple[float, float],
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> ConstantRatioMany:
    """:func:`simulator.synergy.combination_index_at` for K matrices at once (same operations, elementwise)."""
    r = _ratio_value(ratio)
    levels = _check_fa_levels(fa_levels)
    k = median_a.m.size
    grid = np.broadcast_to(levels, (k, levels.size))
    dx_mix = median_mix.dose_for(grid)
    dose_a, dose_b = dx_mix * (r / (1.0 + r)), dx_mix * (1.0 / (1.0 + r))
    dx_a, dx_b = median_a.dose_for(grid), median_b.dose_for(grid)
    status = []
    for i in range(k):
        problems = [f"{name}: {fits.status[i]}" for name, fits in
                    (("drug A", median_a), ("drug B", median_b), ("mixture", median_mix)) if fits.status[i] != "ok"]
        status.append("ok" if not problems else "; ".join(problems))
    return ConstantRatioMany(
        ratio=r, fa=_frozen(levels), dose_a=_frozen(dose_a), dose_b=_frozen(dose_b), dx_a=_frozen(dx_a),
        dx_b=_frozen(dx_b), ci=_frozen(dose_a / dx_a + dose_b / dx_b), dri_a=_frozen(dx_a / dose_a),
        dri_b=_frozen(dx_b / dose_b), fit_mix=median_mix, status=tuple(status),
    )


# --------------------------------------------------------------------------------------------------------------
# Loewe expectation of every well of many matrices
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wells:
    """Per-well copies of everything :func:`simulator.synergy._loewe_expected` uses (flat arrays)."""

    d1: np.ndarray
    d2: np.ndarray
    e0: tuple[np.ndarray, np.ndarray]
    emax: tuple[np.ndarray, np.ndarray]
    h: tuple[np.ndarray, np.ndarray]
    c: tuple[np.ndarray, np.ndarray]
    lo: np.ndarray
    hi: np.ndarray

    def take(self, idx: np.ndarray) -> _Wells:
        return _Wells(self.d1[idx], self.d2[idx], *(tuple(p[idx] for p in pair) for pair in
                                                    (self.e0, self.emax, self.h, self.c)), self.lo[idx], self.hi[idx])

    def g_minus_1(self, x: np.ndarray) -> np.ndarray:
        """``d1/D1(E) + d2/D2(E) − 1`` with ``E = lo + (hi − lo)·expit(x)``: the scalar code's expression."""
        width = self.hi - self.lo
        total = 0.0
        for dose, e0, emax, h, c in zip((self.d1, self.d2), self.e0, self.emax, self.h, self.c, strict=True):
            above_e0 = (self.lo - e0) + width * expit(x)
            below_emax = (emax - self.hi) + width * expit(-x)
            with np.errstate(divide="ignore", over="ignore"):
                total = total + dose / (c * np.float_power(above_e0 / below_emax, 1.0 / h))
        return total - 1.0

    def log_g(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log g(x)`` and its derivative, for Newton: ``log g`` is close to linear in ``x`` on both tails."""
        width = self.hi - self.lo
        s, t = expit(x), expit(-x)
        slope_e = width * s * t  # dE/dx
        logs, slopes = [], []
        for dose, e0, emax, h, c in zip((self.d1, self.d2), self.e0, self.emax, self.h, self.c, strict=True):
            above_e0 = (self.lo - e0) + width * s
            below_emax = (emax - self.hi) + width * t
            logs.append(np.log(dose) - np.log(c) - (np.log(above_e0) - np.log(below_emax)) / h)
            slopes.append(-slope_e * (1.0 / above_e0 + 1.0 / below_emax) / h)
        log_g = np.logaddexp(logs[0], logs[1])
        return log_g, np.exp(logs[0] - log_g) * slopes[0] + np.exp(logs[1] - log_g) * slopes[1]


def _bracket(wells: _Wells) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The scalar code's bracketing, vectorised: ``(x_lo, x_hi, is_nan, is_lo)`` per well.

    ``g(0) > 0``: the root lies above ``x = 0``; ``x_hi`` doubles from 1 (capped at 700) until ``g ≤ 0``, and no
    sign change by 700 means NaN. Otherwise ``x_lo`` doubles from −1 down to −700 until ``g > 0``; none means the
    root is closer to ``lo`` than ``expit(−700)`` resolves, and the answer is ``lo``.
    """
    size = wells.d1.size
    positive = wells.g_minus_1(np.zeros(size)) > 0
    x_lo, x_hi = np.where(positive, 0.0, -1.0), np.where(positive, 1.0, 0.0)
    is_nan, is_lo = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    moving = np.arange(size)
    while moving.size:
        up = positive[moving]
        x = np.where(up, x_hi[moving], x_lo[moving])
        g = wells.take(moving).g_minus_1(x)
        found = np.where(up, ~(g > 0), g > 0)
        at_limit = np.abs(x) >= _X_LIMIT
        is_nan[moving[~found & at_limit & up]] = True
        is_lo[moving[~found & at_limit & ~up]] = True
        moving = moving[~found & ~at_limit]
        step = positive[moving]
        x_hi[moving[step]] = np.minimum(2 * x_hi[moving[step]], _X_LIMIT)
        x_lo[moving[~step]] = np.maximum(2 * x_lo[moving[~step]], -_X_LIMIT)
    return x_lo, x_hi, is_nan, is_lo


def _newton_root(wells: _Wells, x_lo: np.ndarray, x_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root of ``log g(x) = 0`` in each bracket by Newton steps, bisecting whenever a step leaves the bracket.

    Stops a well when a step is below brentq's tolerance ``1e-13 + 4·eps·|x|``; returns ``(x, converged)``.
    """
    x = 0.5 * (x_lo + x_hi)
    done = np.zeros(x.size, dtype=bool)
    for _ in range(_MAX_NEWTON):
        active = np.flatnonzero(~done)
        if not active.size:
            break
        xa, lo_a, hi_a = x[active], x_lo[active], x_hi[active]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            f, slope = wells.take(active).log_g(xa)
            above = f > 0  # g > 1: the root lies at larger x
            lo_a, hi_a = np.where(above, xa, lo_a), np.where(above, hi_a, xa)
            candidate = xa - f / slope
        inside = np.isfinite(candidate) & (candidate > lo_a) & (candidate < hi_a)
        new = np.where(inside, candidate, 0.5 * (lo_a + hi_a))
        tol = 1e-13 + 4 * np.finfo(float).eps * np.abs(new)
        finished = (inside & (np.abs(new - xa) <= tol)) | (hi_a - lo_a <= tol) | (f == 0)
        x[active], x_lo[active], x_hi[active] = np.where(f == 0, xa, new), lo_a, hi_a
        done[active] = finished
    return x, done


def loewe_expected_many(
    doses_a: np.ndarray, doses_b: np.ndarray, hills_a: Sequence[HillFit], hills_b: Sequence[HillFit]
) -> np.ndarray:
    """Loewe-additive effect of every combination well of K matrices, shape (K, n, m).

    Each entry equals :func:`simulator.synergy._loewe_expected` at that well (NaN where it is NaN, ``lo`` where it
    returns ``lo``, the root to ~1e-13 otherwise); single-agent wells and matrices without two usable fits are NaN.
    A well whose Newton iteration does not converge (none seen) is solved by the scalar code itself.
    """
    a, b = np.asarray(doses_a, dtype=float), np.asarray(doses_b, dtype=float)
    k = len(hills_a)
    expected = np.full((k, a.size, b.size), np.nan)
    usable = [i for i in range(k) if hills_a[i].ok and hills_b[i].ok]
    if not usable or a.size < 2 or b.size < 2:
        return expected

    def param(fits: Sequence[HillFit], name: str) -> np.ndarray:
        return np.repeat(np.array([getattr(fits[i], name) for i in usable]), (a.size - 1) * (b.size - 1))

    d1 = np.tile(np.repeat(a[1:], b.size - 1), len(usable))
    d2 = np.tile(np.tile(b[1:], a.size - 1), len(usable))
    e0 = (param(hills_a, "E0"), param(hills_b, "E0"))
    emax = (param(hills_a, "Emax"), param(hills_b, "Emax"))
    lo, hi = np.maximum(*e0), np.minimum(*emax)
    wells = _Wells(d1, d2, e0, emax, (param(hills_a, "h"), param(hills_b, "h")),
                   (param(hills_a, "C"), param(hills_b, "C")), lo, hi)
    value = np.full(d1.size, np.nan)

    # Where no root exists: an empty [lo, hi], or the stronger drug alone already beyond the weaker one's Emax.
    limit = np.zeros(d1.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        for dose, e0_, emax_, h_, c_ in zip((d1, d2), e0, emax, wells.h, wells.c, strict=True):
            odds = (hi - e0_) / (emax_ - hi)
            dose_for_hi = np.where(odds >= 0, c_ * np.float_power(odds, 1.0 / h_), np.nan)
            limit = np.where(emax_ > hi, limit + dose / dose_for_hi, limit)
    solvable = np.flatnonzero((hi > lo) & ~(limit >= 1.0))
    if solvable.size:
        sub = wells.take(solvable)
        x_lo, x_hi, is_nan, is_lo = _bracket(sub)
        roots = np.full(solvable.size, np.nan)
        roots_lo = is_lo & ~is_nan
        roots[roots_lo] = sub.lo[roots_lo]
        search = np.flatnonzero(~is_nan & ~is_lo)
        if search.size:
            part = sub.take(search)
            x, converged = _newton_root(part, x_lo[search], x_hi[search])
            roots[search] = part.lo + (part.hi - part.lo) * expit(x)
            for j in np.flatnonzero(~converged):  # safety net: the scalar Brent root
                i = search[j]
                f1 = HillFit(sub.e0[0][i], sub.emax[0][i], sub.h[0][i], sub.c[0][i])
                f2 = HillFit(sub.e0[1][i], sub.emax[1][i], sub.h[1][i], sub.c[1][i])
                roots[i] = _loewe_expected(float(sub.d1[i]), float(sub.d2[i]), f1, f2)
        value[solvable] = roots
    expected[np.array(usable), 1:, 1:] = value.reshape(len(usable), a.size - 1, b.size - 1)
    return expected


# --------------------------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynergyBatch:
    """Every synergy score of K matrices on one dose grid, stacked; ``result(k)`` is matrix k's SynergyResult.

    Array attributes have shape (K, n, m) and mean what the :class:`simulator.synergy.SynergyResult` attribute
    of the same name means; ``hills_*`` hold the K Hill fits, ``median_*`` the K median-effect fits.
    ``constant_ratio`` is None when there was no ratio to use (no ``ratio=`` and no constant diagonal); each
    result then carries the NaN table ``synergy_scores`` gives, at ``fa_levels``.
    """

    doses_a: np.ndarray
    doses_b: np.ndarray
    effect: np.ndarray
    bliss: np.ndarray
    hsa: np.ndarray
    loewe: np.ndarray
    zip: np.ndarray
    ci: np.ndarray
    hills_a: tuple[HillFit, ...]
    hills_b: tuple[HillFit, ...]
    median_a: MedianFits
    median_b: MedianFits
    constant_ratio: ConstantRatioMany | None
    fa_levels: np.ndarray
    below_baseline: np.ndarray
    ci_undefined: np.ndarray
    loewe_undefined: np.ndarray
    zip_undefined: np.ndarray

    def __len__(self) -> int:
        return self.effect.shape[0]

    def _table(self, k: int) -> ConstantRatioCI:
        if self.constant_ratio is not None:
            return self.constant_ratio.table(k)
        return _no_diagonal_table(self.fa_levels)

    def result(self, k: int) -> SynergyResult:
        """Matrix ``k`` as :func:`simulator.synergy.synergy_scores` returns it."""
        return SynergyResult(
            doses_a=self.doses_a, doses_b=self.doses_b, effect=_frozen(self.effect[k]),
            bliss=_frozen(self.bliss[k]), hsa=_frozen(self.hsa[k]), loewe=_frozen(self.loewe[k]),
            zip=_frozen(self.zip[k]), ci=_frozen(self.ci[k]), hill_a=self.hills_a[k], hill_b=self.hills_b[k],
            median_a=self.median_a.fit(k), median_b=self.median_b.fit(k), constant_ratio=self._table(k),
            below_baseline=_frozen(self.below_baseline[k]), ci_undefined=_frozen(self.ci_undefined[k]),
            loewe_undefined=_frozen(self.loewe_undefined[k]), zip_undefined=_frozen(self.zip_undefined[k]),
        )

    def results(self) -> list[SynergyResult]:
        """All K results, in order."""
        return [self.result(k) for k in range(len(self))]


def _no_diagonal_table(levels: np.ndarray) -> ConstantRatioCI:
    """The NaN table :func:`simulator.synergy.synergy_scores` returns when there is no ratio to use."""
    empty = np.full(levels.shape, np.nan)
    no_fit = MedianEffectFit(math.nan, math.nan, math.nan, 0, "too_few_points")
    return ConstantRatioCI(math.nan, _frozen(levels), *(_frozen(empty) for _ in range(7)), no_fit,
                           "no constant-ratio diagonal; pass ratio= (dose A / dose B)")


def _check_effects(a: np.ndarray, b: np.ndarray, effects: object) -> np.ndarray:
    e = np.asarray(effects, dtype=float)
    if e.ndim != 3 or e.shape[1:] != (a.size, b.size):
        raise InputError(
            f"effects must have shape (K, len(doses_a), len(doses_b)) = (K, {a.size}, {b.size}), got {e.shape}; "
            "rows follow drug A, columns drug B."
        )
    bad = np.flatnonzero(~np.isfinite(e).all(axis=(1, 2)))
    if bad.size and e.shape[0] == 1:
        raise InputError("effect contains NaN or inf; drop or impute failed wells before scoring.")
    if bad.size:
        raise InputError(f"effects of matri{'ces' if bad.size > 1 else 'x'} {', '.join(map(str, bad[:10]))}"
                         f"{', ...' if bad.size > 10 else ''} contain NaN or inf; drop or impute failed wells "
                         "before scoring.")
    return e


def synergy_batch(
    doses_a: object,
    doses_b: object,
    effects: object,
    *,
    ratio: float | tuple[float, float] | None = None,
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> SynergyBatch:
    """Score K matrices on one dose grid; :meth:`SynergyBatch.result` gives each as ``synergy_scores`` would.

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (each starts at 0 and increases strictly).
    effects
        Fraction affected, shape ``(K, len(doses_a), len(doses_b))``; every value finite.
    ratio, fa_levels
        As in :func:`simulator.synergy.synergy_scores` (the same ratio for every matrix).

    Returns
    -------
    SynergyBatch
        The stacked scores, fits and flags.
    """
    a, b = _check_doses(doses_a, "doses_a"), _check_doses(doses_b, "doses_b")
    e = _check_effects(a, b, effects)
    levels = _check_fa_levels(fa_levels)
    k = e.shape[0]
    combination = np.zeros(e.shape[1:], dtype=bool)
    combination[1:, 1:] = True
    single = ~combination

    hills_a, hills_b = fit_hill_many(a, e[:, :, 0]), fit_hill_many(b, e[:, 0, :])
    expected = loewe_expected_many(a, b, hills_a, hills_b)
    zips = zip_delta_many(a, b, e, hills_a=hills_a, hills_b=hills_b)
    zip_ = np.stack([z.delta for z in zips]) if k else np.empty(e.shape)
    zip_undefined = np.stack([z.undefined for z in zips]) if k else np.zeros(e.shape, dtype=bool)

    median_a, median_b = median_effect_fits(a, e[:, :, 0]), median_effect_fits(b, e[:, 0, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = a[:, None] / median_a.dose_for(e) + b[None, :] / median_b.dose_for(e)
    ci[:, single] = np.nan
    ci_undefined = combination & ~np.isfinite(ci)
    ci[ci_undefined] = np.nan

    r = _ratio_value(ratio) if ratio is not None else _diagonal_ratio(a, b)
    table = None
    if r is not None:
        grid_a, grid_b = np.meshgrid(a[1:], b[1:], indexing="ij")
        on = np.abs(grid_a / grid_b - r) <= _RATIO_RTOL * r
        total = (grid_a + grid_b)[on]
        order = np.argsort(total)
        fa_mix = e[:, 1:, 1:][:, on][:, order]
        table = constant_ratio_many(median_a, median_b, median_effect_fits(total[order], fa_mix), r, levels)
        if total.size == 0:
            status = f"no well lies on the ratio A:B = {r:g}; pass the mixture fit to combination_index_at"
            table = replace(table, status=(status,) * k)

    fa_a, fa_b = e[:, :, :1], e[:, :1, :]
    bliss = e - (fa_a + fa_b - fa_a * fa_b)
    hsa = e - np.maximum(fa_a, fa_b)
    for score in (bliss, hsa):
        score[:, single] = np.nan
    return SynergyBatch(
        doses_a=_frozen(a), doses_b=_frozen(b), effect=_frozen(e), bliss=_frozen(bliss), hsa=_frozen(hsa),
        loewe=_frozen(e - expected), zip=_frozen(zip_), ci=_frozen(ci), hills_a=hills_a, hills_b=hills_b,
        median_a=median_a, median_b=median_b, constant_ratio=table, fa_levels=_frozen(levels),
        below_baseline=_frozen(e < 0), ci_undefined=_frozen(ci_undefined),
        loewe_undefined=_frozen(combination & np.isnan(expected)), zip_undefined=_frozen(zip_undefined),
    )


def synergy_scores_many(
    doses_a: object,
    doses_b: object,
    effects: object,
    *,
    ratio: float | tuple[float, float] | None = None,
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> list[SynergyResult]:
    """:func:`simulator.synergy.synergy_scores` of K matrices on one dose grid, vectorised across matrices.

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (each starts at 0 and increases strictly).
    effects
        Fraction affected, shape ``(K, len(doses_a), len(doses_b))``.
    ratio, fa_levels
        As in :func:`simulator.synergy.synergy_scores`.

    Returns
    -------
    list[SynergyResult]
        One per matrix, in order, with the same fields, flags and statuses as ``synergy_scores`` gives.
    """
    return synergy_batch(doses_a, doses_b, effects, ratio=ratio, fa_levels=fa_levels).results()
