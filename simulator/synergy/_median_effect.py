"""Chou-Talalay: median-effect fits, the combination index at every well and along a constant ratio."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import InputError
from ..status import Status
from ._inputs import _RATIO_RTOL, _check_fa_levels, _check_matrix, _combination_mask, _frozen, _ratio_value

#: Open window of fa used by the median-effect fit (CompuSyn): log-odds outside it are dominated by noise.
FA_WINDOW = (0.02, 0.98)


#: Thresholds of the Chou–Talalay verdicts (biology.md section 3).
_CI_SYNERGY, _CI_ANTAGONISM = 0.9, 1.1


#: CompuSyn's rule of thumb for cell data (Chou 2006, Pharmacol Rev 58:621): a median-effect fit with a linear
#: correlation r below this does not describe its points well enough for Dx, and a CI built on it is flagged.
R_MIN = 0.95


#: Points inside :data:`FA_WINDOW` a median-effect fit needs before its r means anything (two points always give
#: r = 1); a CI built on a fit with fewer is flagged.
MIN_FIT_POINTS = 3


#: A combination well whose fa is below the first value, or above the second while the stronger single agent at
#: the well's doses is above it too, is saturated: nothing is left to measure (no effect, or nothing left to
#: inhibit), so it gets no CI and no synergy colour (SynergyFinder's convention), only a flag.
SATURATION = (0.01, 0.99)


#: The CI quality rule in words; stored in screen manifests next to the numbers (``ci_quality``).
CI_QUALITY = (
    f"Median-effect fits (drug A alone, drug B alone, the constant-ratio mixture on its total dose) use only the "
    f"points with dose > 0 and {FA_WINDOW[0]} < fa < {FA_WINDOW[1]} (CompuSyn); points outside are excluded, "
    f"counted, never clipped. Every CI is reported with each fit's r, its points and the fa range they span. A CI "
    f"is flagged (shown, with its flag, but kept out of rankings and summaries) when a fit it uses has fewer "
    f"than {MIN_FIT_POINTS} points inside the window (<x>_few_points) or r < {R_MIN} (<x>_low_r, CompuSyn's rule "
    f"for cell data); when its fa lies outside the fa range of the mixture's fitted points "
    f"(fa_outside_mixture); or when neither drug alone reaches that fa at any tested dose (beyond_single_agents: "
    f"Loewe's CI is undefined there and the median-effect value is an extrapolation). A combination well with "
    f"fa < {SATURATION[0]}, or with fa > {SATURATION[1]} where the stronger single agent at its doses is also "
    f"> {SATURATION[1]}, is saturated: no CI (NaN) and no synergy colour, flagged 'saturated'."
)


@dataclass(frozen=True)
class MedianEffectFit:
    """Median-effect line ``log(fa/fu) = m·log D − m·log Dm`` of one drug or one fixed-ratio mixture.

    Attributes
    ----------
    m
        Slope (sigmoidicity; 1 hyperbolic, > 1 sigmoidal). Usable only if > 0.
    Dm
        Median-effect dose (fa = 0.5); for a mixture, the *total* dose.
    r
        Linear correlation of the median-effect plot; CompuSyn users expect r > 0.95 for cell data.
    n_points
        Points inside ``0.02 < fa < 0.98`` with dose > 0 that entered the fit.
    status
        ``"ok"``, ``"too_few_points"``, ``"degenerate"`` (a single dose) or ``"non_increasing"`` (m ≤ 0)
        (:class:`~simulator.status.Status`).
    fa_min, fa_max
        The fa range of the points that entered the fit (NaN without points).
    n_outside
        Points with dose > 0 left out because their fa lies outside the window.
    fa_reached
        The highest fa of the series at any dose > 0, inside the window or not (NaN if unknown).
    """

    m: float
    Dm: float
    r: float
    n_points: int
    status: Status = Status.OK
    fa_min: float = math.nan
    fa_max: float = math.nan
    n_outside: int = 0
    fa_reached: float = math.nan

    @property
    def ok(self) -> bool:
        """Whether the fit can be used for Dx and CI."""
        return self.status == Status.OK

    @property
    def quality_flags(self) -> tuple[str, ...]:
        """``"few_points"`` (< :data:`MIN_FIT_POINTS` points) and ``"low_r"`` (r < :data:`R_MIN`) of a usable fit."""
        if not self.ok:
            return ()
        return tuple(flag for flag, bad in (("few_points", self.n_points < MIN_FIT_POINTS),
                                            ("low_r", not self.r >= R_MIN)) if bad)

    def dose_for(self, fa: ArrayLike) -> np.ndarray:
        """``Dx = Dm·(fa/(1 − fa))^(1/m)``: the dose giving ``fa``; NaN for ``fa`` outside (0, 1) or an unusable fit."""
        x = np.asarray(fa, dtype=float)
        if not self.ok:
            return np.full(x.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (x > 0) & (x < 1)
            return np.where(inside, self.Dm * np.float_power(x / (1.0 - x), 1.0 / self.m), np.nan)


def median_effect_fit(doses: ArrayLike, fa: ArrayLike) -> MedianEffectFit:
    """Fit the median-effect equation (Chou & Talalay 1984) by linear regression of the log-odds.

    Only points with dose > 0 and ``0.02 < fa < 0.98`` are used (the CompuSyn window): outside it
    ``log(fa/(1 − fa))`` amplifies measurement noise without bound, and ``fa ≤ 0`` (a readout above its
    baseline) has no log-odds at all. Those points are excluded, never clipped into the window.

    Parameters
    ----------
    doses
        Doses (for a fixed-ratio mixture: total dose ``d_A + d_B``), shape (k,).
    fa
        Fraction affected at those doses.

    Returns
    -------
    MedianEffectFit
        ``m``, ``Dm``, ``r``, the number of points used and a status; parameters are NaN unless
        ``status == "ok"`` (``"non_increasing"`` keeps them for inspection).
    """
    d = np.asarray(doses, dtype=float).ravel()
    f = np.asarray(fa, dtype=float).ravel()
    if d.shape != f.shape:
        raise InputError(f"doses and fa must have the same length, got {d.size} and {f.size}.")
    return median_effect_fits(d, f[None]).fit(0)  # one series: a batch of one


@dataclass(frozen=True)
class CombinationIndexScores:
    """Chou–Talalay CI at every combination well.

    Attributes
    ----------
    ci
        ``d_A/Dx_A + d_B/Dx_B`` at the well's observed fa; < 1 synergy. NaN on single-agent wells and where
        ``undefined``.
    undefined
        Combination wells with fa outside (0, 1), or with an unusable single-drug fit.
    fit_a, fit_b
        Median-effect fits of each drug alone.
    """

    ci: np.ndarray
    undefined: np.ndarray
    fit_a: MedianEffectFit
    fit_b: MedianEffectFit


def combination_index(
    doses_a: ArrayLike,
    doses_b: ArrayLike,
    effect: ArrayLike,
    *,
    fit_a: MedianEffectFit | None = None,
    fit_b: MedianEffectFit | None = None,
) -> CombinationIndexScores:
    """Chou–Talalay combination index at every combination well (mutually exclusive form).

    ``CI = d_A/Dx_A + d_B/Dx_B``: the fraction of each drug's solo dose that the combination spends to reach
    the well's observed effect. CI = 1 is exactly Loewe additivity when both drugs follow the median-effect
    equation; the verdict thresholds (0.9, 1.1) leave room for assay noise.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``.
    fit_a, fit_b
        Median-effect fits to use; by default fitted to column 0 and row 0 (see :func:`median_effect_fit`).

    Returns
    -------
    CombinationIndexScores
        CI, the ``undefined`` mask and the fits.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    fa_ = fit_a if fit_a is not None else median_effect_fit(a, e[:, 0])
    fb_ = fit_b if fit_b is not None else median_effect_fit(b, e[0, :])
    ci, undefined = combination_index_many(a, b, e[None], MedianFits.of([fa_]), MedianFits.of([fb_]))
    return CombinationIndexScores(_frozen(ci[0]), _frozen(undefined[0]), fa_, fb_)


def combination_index_many(doses_a: np.ndarray, doses_b: np.ndarray, effects: np.ndarray, median_a: MedianFits,
                           median_b: MedianFits) -> tuple[np.ndarray, np.ndarray]:
    """:func:`combination_index` of K checked matrices (K, n, m) with their single-drug fits.

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (checked).
    effects
        Fraction affected, shape (K, n, m), every value finite.
    median_a, median_b
        The K median-effect fits of each drug alone.

    Returns
    -------
    tuple of numpy.ndarray
        CI (K, n, m), NaN on single-agent wells and where undefined, and the ``undefined`` mask of combination
        wells (fa outside (0, 1), or an unusable fit).
    """
    combination = _combination_mask(effects.shape[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = doses_a[:, None] / median_a.dose_for(effects) + doses_b[None, :] / median_b.dose_for(effects)
    ci[:, ~combination] = np.nan
    undefined = combination & ~np.isfinite(ci)
    ci[undefined] = np.nan
    return ci, undefined


@dataclass(frozen=True)
class ConstantRatioCI:
    """CI and DRI at fixed fa levels along one constant dose ratio (the CompuSyn "Fa–CI" table).

    Attributes
    ----------
    ratio
        Dose A / dose B of the mixture.
    fa
        The fa levels.
    dose_a, dose_b
        Each drug's dose in the mixture that reaches ``fa`` (from the mixture's median-effect fit).
    dx_a, dx_b
        Each drug's dose alone that reaches ``fa``.
    ci
        ``dose_a/dx_a + dose_b/dx_b``; < 1 synergy.
    dri_a, dri_b
        Dose-reduction indices ``dx/dose``; > 1 means the mixture needs less of that drug.
    fit_mix
        Median-effect fit of the mixture (total dose).
    status
        ``"ok"``, or ``"undefined"`` when the table is NaN.
    message
        Why the table is NaN (no wells on the ratio, an unusable fit), or an empty string.
    flags
        One text per fa level: the quality flags of that CI joined by ``;`` (:data:`CI_QUALITY`), ``""`` when
        none applies. A flagged CI is a number to look at, not a result: keep it out of rankings and summaries.
    fit_a, fit_b
        Median-effect fits of each drug alone (None when the table was built without them).
    """

    ratio: float
    fa: np.ndarray
    dose_a: np.ndarray
    dose_b: np.ndarray
    dx_a: np.ndarray
    dx_b: np.ndarray
    ci: np.ndarray
    dri_a: np.ndarray
    dri_b: np.ndarray
    fit_mix: MedianEffectFit
    status: Status = Status.OK
    message: str = ""
    flags: tuple[str, ...] = ()
    fit_a: MedianEffectFit | None = None
    fit_b: MedianEffectFit | None = None

    @property
    def usable(self) -> np.ndarray:
        """Which CIs are results: finite and without a quality flag (shape of ``fa``)."""
        flags = np.array(self.flags if self.flags else [""] * self.fa.size, dtype=object)
        return np.isfinite(self.ci) & (flags == "")

    def to_frame(self) -> pd.DataFrame:
        """One row per fa level: ratio, fa, doses, Dx, CI, its verdict, DRIs, quality, the status and its message.

        The quality columns are each fit's r, the mixture's points inside the window and their fa range, the
        flags and ``usable`` (finite and unflagged: a flagged CI keeps its number and verdict, but is not a result).
        """
        none = MedianEffectFit(math.nan, math.nan, math.nan, 0, Status.TOO_FEW_POINTS)
        fit_a, fit_b = self.fit_a or none, self.fit_b or none
        usable = self.usable
        return pd.DataFrame(
            {
                "ratio_a_to_b": self.ratio,
                "fa": self.fa,
                "dose_a": self.dose_a,
                "dose_b": self.dose_b,
                "dx_a": self.dx_a,
                "dx_b": self.dx_b,
                "ci": self.ci,
                "verdict": classify_ci(self.ci),
                "dri_a": self.dri_a,
                "dri_b": self.dri_b,
                "r_a": fit_a.r,
                "r_b": fit_b.r,
                "r_mix": self.fit_mix.r,
                "n_mix": self.fit_mix.n_points,
                "mix_fa_min": self.fit_mix.fa_min,
                "mix_fa_max": self.fit_mix.fa_max,
                "flag": list(self.flags) if self.flags else "",
                "usable": usable,
                "status": self.status,
                "message": self.message,
            }
        )


def classify_ci(ci: ArrayLike) -> np.ndarray:
    """Chou–Talalay verdicts: ``"synergy"`` (< 0.9), ``"additive"`` (0.9–1.1), ``"antagonism"`` (> 1.1), or ``""``.

    Parameters
    ----------
    ci
        Combination indices (any shape).

    Returns
    -------
    numpy.ndarray
        Verdict strings, same shape; ``""`` where CI is NaN.
    """
    x = np.asarray(ci, dtype=float)
    return np.where(
        np.isnan(x), "", np.where(x < _CI_SYNERGY, "synergy", np.where(x > _CI_ANTAGONISM, "antagonism", "additive"))
    )


def combination_index_at(
    fit_a: MedianEffectFit,
    fit_b: MedianEffectFit,
    fit_mix: MedianEffectFit,
    ratio: float | tuple[float, float],
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> ConstantRatioCI:
    """CI and DRI at chosen fa levels for a fixed-ratio mixture (Chou & Talalay 1984).

    The mixture is treated as a third drug whose dose is the total ``d_A + d_B``; its median-effect fit gives
    the total dose ``Dx_mix`` for each fa, split as ``ratio`` prescribes, and compared with the solo doses.
    Reporting CI at fixed fa makes values comparable across studies, because CI depends strongly on fa.

    Parameters
    ----------
    fit_a, fit_b
        Median-effect fits of each drug alone.
    fit_mix
        Median-effect fit of the mixture series, with doses as total dose (see :func:`constant_ratio_series`).
    ratio
        Dose A / dose B of the mixture, or a pair ``(a, b)`` meaning ``a:b`` (e.g. ``(1, 100)``).
    fa_levels
        Effect levels strictly between 0 and 1.

    Returns
    -------
    ConstantRatioCI
        One entry per fa level; NaN, with status ``"undefined"`` and a message, if any fit is unusable.
    """
    one = constant_ratio_many(MedianFits.of([fit_a]), MedianFits.of([fit_b]), MedianFits.of([fit_mix]), ratio,
                              fa_levels)
    return one.table(0)  # one mixture: a batch of one


def constant_ratio_series(
    doses_a: ArrayLike, doses_b: ArrayLike, effect: ArrayLike, ratio: float | tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The matrix's wells that lie on one dose ratio, as (total dose, fa) for :func:`median_effect_fit`.

    A well is on the ratio when ``d_A/d_B`` equals it to a relative 1e-9; if none is (an irregular grid), run
    the mixture separately and pass its fit to :func:`combination_index_at`.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``.
    ratio
        Dose A / dose B, or a pair ``(a, b)`` meaning ``a:b``.

    Returns
    -------
    tuple of numpy.ndarray
        Total doses ``d_A + d_B`` (increasing) and the observed fa there; empty if no well is on the ratio.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    on, total, order = ratio_wells(a, b, _ratio_value(ratio))
    return total, e[1:, 1:][on][order]


def ratio_wells(doses_a: np.ndarray, doses_b: np.ndarray, ratio: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which combination wells lie on the dose ratio ``ratio`` (A/B, relative 1e-9), and their total doses.

    Parameters
    ----------
    doses_a, doses_b
        The dose axes (checked; each starts at 0).
    ratio
        Dose A / dose B (> 0).

    Returns
    -------
    tuple of numpy.ndarray
        ``on``: mask of the combination wells ``[1:, 1:]`` on the ratio; the total doses ``d_A + d_B`` of those
        wells in increasing order; ``order``, the permutation that sorts ``effect[1:, 1:][on]`` the same way.
    """
    grid_a, grid_b = np.meshgrid(doses_a[1:], doses_b[1:], indexing="ij")
    on = np.abs(grid_a / grid_b - ratio) <= _RATIO_RTOL * ratio
    total = (grid_a + grid_b)[on]
    order = np.argsort(total)
    return on, total[order], order


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
    fa_min, fa_max, n_outside, fa_reached
        As in :class:`MedianEffectFit`, shape (K,).
    """

    m: np.ndarray
    Dm: np.ndarray
    r: np.ndarray
    n_points: np.ndarray
    status: tuple[Status, ...]
    fa_min: np.ndarray
    fa_max: np.ndarray
    n_outside: np.ndarray
    fa_reached: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Which fits can be used for Dx and CI, shape (K,)."""
        return np.array([s == Status.OK for s in self.status], dtype=bool)

    @property
    def few_points(self) -> np.ndarray:
        """Usable fits with fewer than :data:`MIN_FIT_POINTS` points, shape (K,)."""
        return self.ok & (self.n_points < MIN_FIT_POINTS)

    @property
    def low_r(self) -> np.ndarray:
        """Usable fits with r < :data:`R_MIN` (CompuSyn's rule for cell data), shape (K,)."""
        with np.errstate(invalid="ignore"):
            return self.ok & ~(self.r >= R_MIN)

    @classmethod
    def of(cls, fits: Sequence[MedianEffectFit]) -> MedianFits:
        """The fits as arrays (the inverse of :meth:`fit`).

        Parameters
        ----------
        fits
            Median-effect fits, one per matrix.

        Returns
        -------
        MedianFits
            Their ``m``, ``Dm``, ``r`` and ``n_points`` as arrays, statuses as a tuple.
        """
        def floats(name: str) -> np.ndarray:
            return _frozen(np.array([getattr(f, name) for f in fits], dtype=float))

        return cls(m=floats("m"), Dm=floats("Dm"), r=floats("r"),
                   n_points=_frozen(np.array([f.n_points for f in fits], dtype=np.int64)),
                   status=tuple(f.status for f in fits), fa_min=floats("fa_min"), fa_max=floats("fa_max"),
                   n_outside=_frozen(np.array([f.n_outside for f in fits], dtype=np.int64)),
                   fa_reached=floats("fa_reached"))

    def fit(self, k: int) -> MedianEffectFit:
        """The fit of matrix ``k``."""
        return MedianEffectFit(float(self.m[k]), float(self.Dm[k]), float(self.r[k]), int(self.n_points[k]),
                               self.status[k], float(self.fa_min[k]), float(self.fa_max[k]),
                               int(self.n_outside[k]), float(self.fa_reached[k]))

    def dose_for(self, fa: np.ndarray) -> np.ndarray:
        """``Dx`` of every fit at ``fa`` of shape (K, ...): :meth:`MedianEffectFit.dose_for` row by row."""
        x = np.asarray(fa, dtype=float)
        extra = (1,) * (x.ndim - 1)
        dm, m, ok = self.Dm.reshape(-1, *extra), self.m.reshape(-1, *extra), self.ok.reshape(-1, *extra)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (x > 0) & (x < 1) & ok
            return np.where(inside, dm * np.float_power(x / (1.0 - x), 1.0 / m), np.nan)


def median_effect_fits(doses: ArrayLike, fa: ArrayLike) -> MedianFits:
    """:func:`simulator.synergy.median_effect_fit` of each row of ``fa`` (K, p) against ``doses`` (p,) or (K, p).

    The same window (dose > 0, ``0.02 < fa < 0.98``), the same statuses and the formulas of ``linregress``
    (population covariances; ``r`` clipped to [-1, 1], NaN or 0 when a variance is 0), as one masked
    computation over all rows.

    Parameters
    ----------
    doses
        Doses, (p,) shared or (K, p) per row.
    fa
        Fractions affected, (K, p).

    Returns
    -------
    MedianFits
        Slope ``m``, median dose ``Dm``, ``r``, points used and status per row.
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
    status = np.where(few, Status.TOO_FEW_POINTS, np.where(degenerate, Status.DEGENERATE,
                                                           np.where(increasing, Status.OK, Status.NON_INCREASING)))
    invalid = few | degenerate
    dosed = np.isfinite(d) & np.isfinite(f) & (d > 0)
    some = n > 0
    fa_min = np.where(some, np.where(use, f, np.inf).min(axis=1, initial=np.inf), np.nan)
    fa_max = np.where(some, np.where(use, f, -np.inf).max(axis=1, initial=-np.inf), np.nan)
    reached = np.where(dosed.any(axis=1), np.where(dosed, f, -np.inf).max(axis=1, initial=-np.inf), np.nan)
    return MedianFits(
        m=_frozen(np.where(invalid, np.nan, slope)),
        Dm=_frozen(np.where(invalid | ~increasing, np.nan, dm)),
        r=_frozen(np.where(invalid, np.nan, r)),
        n_points=_frozen(n.astype(np.int64)),
        status=tuple(Status(s) for s in status),
        fa_min=_frozen(fa_min), fa_max=_frozen(fa_max),
        n_outside=_frozen((dosed & ~use).sum(axis=1).astype(np.int64)), fa_reached=_frozen(reached),
    )


@dataclass(frozen=True)
class ConstantRatioMany:
    """:class:`simulator.synergy.ConstantRatioCI` of K matrices as (K, L) arrays; ``table(k)`` gives one.

    ``flags`` (K, L) holds the quality flags of each CI (text, ``""`` when none); ``median_a``/``median_b`` the
    single-drug fits the table was built from.
    """

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
    status: tuple[Status, ...]
    message: tuple[str, ...]
    flags: np.ndarray
    median_a: MedianFits
    median_b: MedianFits

    @property
    def usable(self) -> np.ndarray:
        """Which CIs are results: finite and without a quality flag, shape (K, L)."""
        return np.isfinite(self.ci) & (self.flags == "")

    def table(self, k: int) -> ConstantRatioCI:
        """The constant-ratio table of matrix ``k``."""
        return ConstantRatioCI(self.ratio, self.fa, _frozen(self.dose_a[k]), _frozen(self.dose_b[k]),
                               _frozen(self.dx_a[k]), _frozen(self.dx_b[k]), _frozen(self.ci[k]),
                               _frozen(self.dri_a[k]), _frozen(self.dri_b[k]),
                               self.fit_mix.fit(k), self.status[k], self.message[k],
                               tuple(str(f) for f in self.flags[k]), self.median_a.fit(k), self.median_b.fit(k))


#: quality flags of a constant-ratio CI, in text order (:func:`ratio_flags`)
RATIO_FLAGS = ("a_few_points", "a_low_r", "b_few_points", "b_low_r", "mix_few_points", "mix_low_r",
               "fa_outside_mixture", "beyond_single_agents")


def flag_texts(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Bit codes -> flag text: bit ``i`` of a code switches on ``names[i]``; the names are joined by ``;``.

    Only the distinct codes are turned into text (a screen has millions of wells and a few dozen codes).
    """
    codes = np.asarray(codes, dtype=np.int64)
    distinct, inverse = np.unique(codes, return_inverse=True)
    texts = np.array([";".join(name for bit, name in enumerate(names) if code >> bit & 1) for code in distinct],
                     dtype=object)
    return texts[inverse].reshape(codes.shape)


def ratio_flags(median_a: MedianFits, median_b: MedianFits, median_mix: MedianFits,
                levels: np.ndarray) -> np.ndarray:
    """The quality flags (:data:`CI_QUALITY`, names :data:`RATIO_FLAGS`) of K constant-ratio CIs at ``levels``.

    Parameters
    ----------
    median_a, median_b, median_mix
        The K fits of drug A alone, drug B alone and the mixture.
    levels
        The fa levels (L,).

    Returns
    -------
    numpy.ndarray
        Flag text per matrix and level, shape (K, L), ``""`` when the CI is a result.
    """
    k = median_a.m.size
    code = np.zeros((k, levels.size), dtype=np.int64)
    bits = (median_a.few_points, median_a.low_r, median_b.few_points, median_b.low_r, median_mix.few_points,
            median_mix.low_r)
    for bit, on in enumerate(bits):
        code |= on[:, None].astype(np.int64) << bit
    with np.errstate(invalid="ignore"):
        outside = median_mix.ok[:, None] & ((levels[None, :] < median_mix.fa_min[:, None])
                                            | (levels[None, :] > median_mix.fa_max[:, None]))
        reached = np.fmax(median_a.fa_reached, median_b.fa_reached)
        beyond = levels[None, :] > reached[:, None]
    code |= outside.astype(np.int64) << len(bits)
    code |= beyond.astype(np.int64) << (len(bits) + 1)
    return flag_texts(code, RATIO_FLAGS)


def constant_ratio_many(
    median_a: MedianFits,
    median_b: MedianFits,
    median_mix: MedianFits,
    ratio: float | tuple[float, float],
    fa_levels: Sequence[float] | np.ndarray = (0.5, 0.75, 0.9),
) -> ConstantRatioMany:
    """:func:`simulator.synergy.combination_index_at` for K matrices at once (same operations, elementwise).

    Parameters
    ----------
    median_a, median_b
        Median-effect fits of drug A and drug B alone, one per matrix.
    median_mix
        Median-effect fits of the constant-ratio mixture (dose = total dose).
    ratio
        Dose A / dose B of the mixture, or ``(a, b)``.
    fa_levels
        Fractions affected at which CI is computed.

    Returns
    -------
    ConstantRatioMany
        CI, doses and dose-reduction indices per matrix and level, with statuses and messages.
    """
    r = _ratio_value(ratio)
    levels = _check_fa_levels(fa_levels)
    k = median_a.m.size
    grid = np.broadcast_to(levels, (k, levels.size))
    dx_mix = median_mix.dose_for(grid)
    dose_a, dose_b = dx_mix * (r / (1.0 + r)), dx_mix * (1.0 / (1.0 + r))
    dx_a, dx_b = median_a.dose_for(grid), median_b.dose_for(grid)
    message = []
    for i in range(k):
        problems = [f"{name}: {fits.status[i]}" for name, fits in
                    (("drug A", median_a), ("drug B", median_b), ("mixture", median_mix))
                    if fits.status[i] != Status.OK]
        message.append("; ".join(problems))
    ci = dose_a / dx_a + dose_b / dx_b
    flags = np.where(np.isfinite(ci), ratio_flags(median_a, median_b, median_mix, levels), "")
    return ConstantRatioMany(
        ratio=r, fa=_frozen(levels), dose_a=_frozen(dose_a), dose_b=_frozen(dose_b), dx_a=_frozen(dx_a),
        dx_b=_frozen(dx_b), ci=_frozen(ci), dri_a=_frozen(dx_a / dose_a),
        dri_b=_frozen(dx_b / dose_b), fit_mix=median_mix,
        status=tuple(Status.UNDEFINED if m else Status.OK for m in message), message=tuple(message),
        flags=_frozen(flags.astype(object)), median_a=median_a, median_b=median_b,
    )


def constant_ratio_ci_many(
    doses_a: ArrayLike,
    fa_a: ArrayLike,
    doses_b: ArrayLike,
    fa_b: ArrayLike,
    mix_doses_a: ArrayLike,
    fa_mix: ArrayLike,
    ratio: float | tuple[float, float],
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> ConstantRatioMany:
    """The Chou–Talalay constant-ratio design of K experiments: fits, CI/DRI at ``fa_levels`` and quality flags.

    This is the one path every CI along a constant ratio takes (a screen's mixture series, a study's design,
    a sensitivity output): drug A alone at ``doses_a``, drug B alone at ``doses_b`` and the mixture with drug A at
    ``mix_doses_a`` and drug B at ``mix_doses_a / ratio``, each fitted by the median-effect equation (the
    mixture on its total dose), then :func:`constant_ratio_many`. Conventions: :data:`CI_QUALITY`.

    Parameters
    ----------
    doses_a, doses_b
        Doses of each drug alone (p,) or (K, p); doses of 0 are ignored by the fits.
    fa_a, fa_b
        Fraction affected of each drug alone, (K, p).
    mix_doses_a
        Drug A's dose in each mixture point, (p,) or (K, p).
    fa_mix
        Fraction affected of the mixture, (K, p).
    ratio
        Dose A / dose B of the mixture, or a pair ``(a, b)`` meaning ``a:b``.
    fa_levels
        fa levels of the table.

    Returns
    -------
    ConstantRatioMany
        ``table(k)`` is experiment ``k``'s :class:`ConstantRatioCI` (with its fits and flags).
    """
    r = _ratio_value(ratio)
    mix = np.asarray(mix_doses_a, dtype=float)
    median_a, median_b = median_effect_fits(doses_a, fa_a), median_effect_fits(doses_b, fa_b)
    return constant_ratio_many(median_a, median_b, median_effect_fits(mix + mix / r, fa_mix), r, fa_levels)


def constant_ratio_ci(
    doses_a: object,
    fa_a: object,
    doses_b: object,
    fa_b: object,
    fa_mix: object,
    ratio: float | tuple[float, float],
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
    *,
    mix_doses_a: object | None = None,
) -> ConstantRatioCI:
    """One Chou–Talalay constant-ratio experiment (CompuSyn's design): :func:`constant_ratio_ci_many` of one.

    Parameters
    ----------
    doses_a, fa_a
        Drug A alone: doses and fraction affected.
    doses_b, fa_b
        Drug B alone.
    fa_mix
        Fraction affected of the mixture, one value per mixture point.
    ratio
        Dose A / dose B of the mixture, or a pair ``(a, b)`` meaning ``a:b`` (e.g. ``(1, 1000)``).
    fa_levels
        fa levels of the table.
    mix_doses_a
        Drug A's dose in each mixture point; default ``doses_a`` (the mixture diluted like drug A alone).

    Returns
    -------
    ConstantRatioCI
        CI, DRI, the three fits and each CI's quality flags.
    """
    fa_mix = np.asarray(fa_mix, dtype=float).ravel()
    mix = np.asarray(doses_a if mix_doses_a is None else mix_doses_a, dtype=float).ravel()
    if mix.shape != fa_mix.shape:
        raise InputError(f"the mixture has {mix.size} doses and {fa_mix.size} fa values; give one fa per dose.")
    series = []
    for name, d, f in (("drug A", doses_a, fa_a), ("drug B", doses_b, fa_b)):
        d, f = np.asarray(d, dtype=float).ravel(), np.asarray(f, dtype=float).ravel()
        if d.shape != f.shape:
            raise InputError(f"{name} alone has {d.size} doses and {f.size} fa values; give one fa per dose.")
        series.append((d, f[None]))
    (da, fa), (db, fb) = series
    return constant_ratio_ci_many(da, fa, db, fb, mix, fa_mix[None], ratio, fa_levels).table(0)


def _no_diagonal_table(levels: np.ndarray) -> ConstantRatioCI:
    """The NaN table :func:`simulator.synergy.synergy_scores` returns when there is no ratio to use."""
    empty = np.full(levels.shape, np.nan)
    no_fit = MedianEffectFit(math.nan, math.nan, math.nan, 0, Status.TOO_FEW_POINTS)
    nan7 = [_frozen(empty) for _ in range(7)]  # dose_a, dose_b, dx_a, dx_b, ci, dri_a, dri_b
    return ConstantRatioCI(math.nan, _frozen(levels), nan7[0], nan7[1], nan7[2], nan7[3], nan7[4], nan7[5], nan7[6],
                           no_fit, Status.UNDEFINED, "no constant-ratio diagonal; pass ratio= (dose A / dose B)",
                           ("",) * levels.size)
