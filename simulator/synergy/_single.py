"""Synergy scores of one two-drug dose matrix: Bliss, HSA, Loewe, ZIP and Chou–Talalay CI/DRI.

Input convention
----------------
Every function takes ``doses_a`` (n,), ``doses_b`` (m,) and ``effect`` (n, m). Both dose vectors start at 0 and
increase strictly; ``effect[i, j]`` is the **fraction affected** ``fa`` (inhibition: 0 = untreated control,
1 = complete) at ``(doses_a[i], doses_b[j])``. Row 0 is therefore drug B alone, column 0 drug A alone and
``effect[0, 0]`` the control (≈ 0). Effects are used as given: normalising to the control is the caller's job,
because only the caller knows whether the control is a replicate mean or a model's exact baseline.

Every returned score matrix has the shape of ``effect``; the single-agent row and column are NaN, because a
combination score is not defined without a combination. Sign conventions are in :data:`SCORE_CONVENTIONS`:
all "excess" scores (Bliss, HSA, Loewe, ZIP) are *observed − expected*, > 0 synergy; the combination index is
< 1 synergy. An effect < 0 means the readout rose above its baseline (feedback relief); it is never clipped.
Bliss, HSA, and the Hill fits behind Loewe and ZIP keep it as it is; median-effect fits and CI exclude it
(it lies outside 0.02 < fa < 0.98 and outside (0, 1)); every such well is reported in ``below_baseline``.

The methods
-----------
- **Bliss** (Bliss 1939): independent action, ``E_bliss = fa_A + fa_B − fa_A·fa_B``, from the observed
  single-agent wells.
- **HSA** (highest single agent; Gaddum's criterion): ``E_hsa = max(fa_A, fa_B)``.
- **Loewe** (Loewe & Muischnek 1926): dose additivity, ``E_loewe`` solves ``d_A/D_A(E) + d_B/D_B(E) = 1``
  with ``D(E)`` the inverse of a fitted 4-parameter Hill curve ``E = E0 + (Emax − E0)·d^h/(C^h + d^h)``.
  Where no ``E`` solves it (one drug alone at its dose already exceeds the other drug's ``Emax``, or a
  fit is not inhibitory) the score is NaN and ``loewe_undefined`` is set.
- **ZIP** (Yadav et al. 2015): the δ score, the average of 3-parameter Hill curves fitted along each row and
  column of the matrix (baseline fixed at the other drug's single-agent effect) minus the Bliss expectation
  of the single-drug Hill fits.
- **Chou–Talalay** (Chou & Talalay 1984): the median-effect equation ``log(fa/fu) = m·log D − m·log Dm`` is
  fitted to each drug alone using only ``0.02 < fa < 0.98`` (as CompuSyn does: the log-odds of values near
  0 or 1 are dominated by noise); ``CI = d_A/Dx_A + d_B/Dx_B`` with ``Dx = Dm·(fa/(1 − fa))^(1/m)``
  (mutually exclusive form), at every combination well and, along a constant dose ratio, at fixed
  ``fa`` levels (default 0.5/0.75/0.9), together with the dose-reduction indices ``DRI = Dx/d``.

Relation to the ``synergy`` package (D. Wooten, v1.0.0)
-------------------------------------------------------
The package is the independent reference in ``tests/test_synergy.py``. It expects a response ``E`` that
*decreases* from ``E0 ≈ 1`` (viability-like) and reports ``reference − E``. With ``E = 1 − fa`` its scores
are ours: ``reference_E − E = (1 − expected_fa) − (1 − fa) = fa − expected_fa``. The mapping, per score:

- ``bliss`` = ``Bliss().fit(d1, d2, 1 − fa)``; ``hsa`` = ``HSA()`` (its ``np.minimum`` of viabilities is our
  maximum of ``fa``). Its default ``LogLinear`` single-drug model returns the observed single-agent value at
  grid doses, which is what we use directly.
- ``loewe`` = ``Loewe(mode="delta_nan")`` (Hill single-drug fits; NaN where Loewe is undefined).
- ``zip`` = ``ZIP()``.
- ``ci`` (wells) = ``CombinationIndex()`` (``Hill_CI``: the same log-linear median-effect regression).

The Hill fits reproduce the package's parameterisation (fitted on ``u = 1 − fa`` with ``log h``,
``log C`` and doses divided by their geometric median; initial guess ``E0 = u(d_min)``, ``Emax = u(d_max)``,
``h = 1``, ``C = median(d)``; Levenberg–Marquardt for the 4-parameter fit, trust-region with
``0 ≤ Emax_u ≤ 1.5`` for ZIP's 3-parameter fits), so both converge to the same optimum; the Hill model is
affine-equivariant, so this is the same least-squares problem as a fit in ``fa``. :class:`HillFit` reports
the parameters in the ``fa`` convention (``E0 = 1 − E0_u``, ``Emax = 1 − Emax_u``).

Deliberate differences (tested in ``tests/test_synergy.py``, except ZIP's optimiser-failure branches, which
no test matrix provokes):

1. Single-agent row and column are NaN; the package sets excess scores to 0 and CI to 1 there.
2. The median-effect fit uses ``0.02 < fa < 0.98`` (CompuSyn); the package uses ``0 < fa < 1``. The fits, and
   so every CI, differ whenever a single-agent ``fa`` lies in ``(0, 0.02]`` or ``[0.98, 1)``.
3. CI at a well with ``fa`` outside ``(0, 1)`` is NaN with ``ci_undefined`` set; the package returns ``inf``
   at ``fa = 0`` and NaN (unflagged) outside ``[0, 1)``. CI is also NaN and flagged when a median-effect fit
   is unusable (fewer than 2 points in the window, or slope ``m ≤ 0``); the package computes a number.
4. The Loewe expectation is a bracketed root (Brent, ``|ΔE| ≲ 1e-12``); the package minimises
   ``(CI − 1)^2`` with ``minimize_scalar(method="bounded")`` at its default ``xatol = 1e-5``, so the two differ
   by up to ~1e-5 (measured 2.9e-6 and 1.5e-6 on the two test matrices). With the package's search tightened
   to ``xatol = 1e-12`` they agree to ~4e-9. Where the package's optimiser reports failure it silently uses
   ``min`` of the single viabilities; we return NaN and flag. A fit with ``Emax ≤ E0`` (not inhibitory)
   makes Loewe undefined.
5. ZIP fits each row/column slice once (the package refits the same slice for every well, to the same
   result). A slice fit that fails gives NaN and ``zip_undefined``; the package raises, or (when the
   optimum contains NaN) silently keeps the previous slice's parameters. When the mean single-drug fit is
   not inhibitory the package swaps ``E0`` and ``Emax``; we mark ZIP undefined instead. We evaluate the Hill
   curve as ``expit(h·log(d/C))``, which cannot overflow; the package's ``d^h`` overflows to NaN for steep
   slices. On a slice whose slope is not identifiable (a flat, saturated, noisy row: the optimum lies at
   ``h → ∞``) the two optimisers stop at different points of that valley, so δ there can differ (seen once,
   0.03, in a 20-seed sweep at noise sd 0.06; at sd 0.03 all 20 seeds agreed to 1e-15).

Bliss, HSA, ZIP and the well-wise CI otherwise agree with the package to ~1e-15 on the test matrices.

Nothing here holds state between calls; every function is pure and returns new, read-only arrays.

References
----------
Bliss CI (1939) The toxicity of poisons applied jointly. Ann Appl Biol 26:585–615.
Loewe S, Muischnek H (1926) Über Kombinationswirkungen. Arch Exp Pathol Pharmakol 114:313–326.
Chou TC, Talalay P (1984) Quantitative analysis of dose-effect relationships. Adv Enzyme Regul 22:27–55.
Yadav B et al. (2015) Searching for drug synergy in complex dose–response landscapes using an interaction
potency model. Comput Struct Biotechnol J 13:504–513.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import brentq, leastsq
from scipy.special import expit

from ..errors import InputError
from ._lsq_batch import least_squares_trf_batch

__all__ = [
    "FA_WINDOW",
    "SCORE_CONVENTIONS",
    "CombinationIndexScores",
    "ConstantRatioCI",
    "HillFit",
    "LoeweScores",
    "MedianEffectFit",
    "SynergyResult",
    "ZipScores",
    "bliss_excess",
    "classify_ci",
    "combination_index",
    "combination_index_at",
    "constant_ratio_series",
    "fit_hill",
    "fit_hill_many",
    "hsa_excess",
    "loewe_excess",
    "median_effect_fit",
    "synergy_scores",
    "zip_delta",
]

#: Sign convention of every score, in words; stored in screen manifests next to the numbers.
SCORE_CONVENTIONS: dict[str, str] = {
    "bliss": "observed − Bliss-independence expectation (fa_A + fa_B − fa_A·fa_B); > 0 synergy, < 0 antagonism "
    "(Bliss 1939)",
    "hsa": "observed − highest single agent (max(fa_A, fa_B)); > 0 synergy, < 0 antagonism",
    "loewe": "observed − Loewe-additive expectation (d_A/D_A(E) + d_B/D_B(E) = 1, Hill fits); > 0 synergy, "
    "< 0 antagonism; NaN where Loewe is undefined (Loewe 1926)",
    "zip": "ZIP delta: fitted combination surface − Bliss expectation of the single-drug Hill fits; > 0 synergy, "
    "< 0 antagonism (Yadav et al. 2015)",
    "ci": "< 0.9 synergy, 0.9–1.1 additive, > 1.1 antagonism (Chou–Talalay combination index, mutually exclusive form)",
    "dri": "dose-reduction index Dx/d: fold reduction of a drug's dose in the mixture for the same fa; > 1 favourable",
    "mean": "<score>_mean (bliss, hsa, loewe, zip): one number per matrix, the mean of the excess over the "
    "combination wells (both doses > 0) where it is defined; > 0 synergy on average",
    "msa": "<score>_msa: most synergistic area, the highest mean excess over 3 x 3 blocks of adjacent combination "
    "wells (NaN under a 3 x 3 combination grid); > 0 synergy in the best dose region",
}

#: Open window of fa used by the median-effect fit (CompuSyn): log-odds outside it are dominated by noise.
FA_WINDOW = (0.02, 0.98)

#: Thresholds of the Chou–Talalay verdicts (biology.md section 3).
_CI_SYNERGY, _CI_ANTAGONISM = 0.9, 1.1

#: Relative tolerance for "this well lies on the requested dose ratio".
_RATIO_RTOL = 1e-9


# --------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------


def _frozen(array: np.ndarray) -> np.ndarray:
    """Return a read-only copy, so a frozen result cannot be changed through its arrays."""
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


def _check_doses(doses: object, name: str) -> np.ndarray:
    d = np.asarray(doses, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise InputError(f"{name} must be a 1-D array of at least 2 doses (0 first), got shape {d.shape}.")
    if not np.all(np.isfinite(d)):
        raise InputError(f"{name} contains a non-finite dose: {d.tolist()}.")
    if d[0] != 0.0:
        raise InputError(f"{name} must start with 0 (the single-agent row/column), got {d[0]!r}.")
    if np.any(np.diff(d) <= 0):
        raise InputError(f"{name} must increase strictly, got {d.tolist()}.")
    return d


def _check_matrix(doses_a: object, doses_b: object, effect: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = _check_doses(doses_a, "doses_a")
    b = _check_doses(doses_b, "doses_b")
    e = np.asarray(effect, dtype=float)
    if e.shape != (a.size, b.size):
        raise InputError(
            f"effect must have shape (len(doses_a), len(doses_b)) = ({a.size}, {b.size}), got {e.shape}; "
            "rows follow drug A, columns drug B."
        )
    if not np.all(np.isfinite(e)):
        raise InputError("effect contains NaN or inf; drop or impute failed wells before scoring.")
    return a, b, e


def _combination_mask(shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[1:, 1:] = True
    return mask


def _ratio_value(ratio: float | tuple[float, float]) -> float:
    """Dose A / dose B from a number or an ``(a, b)`` pair meaning ``a:b``."""
    if isinstance(ratio, tuple | list):
        if len(ratio) != 2:
            raise InputError(f"ratio must be a number (dose A / dose B) or a pair (a, b) meaning a:b, got {ratio!r}.")
        value = float(ratio[0]) / float(ratio[1])
    else:
        value = float(ratio)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"dose ratio A:B must be finite and > 0, got {ratio!r}.")
    return value


def _check_fa_levels(fa_levels: Sequence[float]) -> np.ndarray:
    levels = np.asarray(fa_levels, dtype=float).ravel()
    if levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
        raise InputError(f"fa_levels must be fractions strictly between 0 and 1, got {list(fa_levels)!r}.")
    return levels


# --------------------------------------------------------------------------------------------------------------
# Bliss and HSA
# --------------------------------------------------------------------------------------------------------------


def bliss_excess(doses_a: object, doses_b: object, effect: object) -> np.ndarray:
    """Observed − Bliss-independence expectation at every combination well.

    Bliss (1939) independence treats the two drugs as acting on independent events, so the fraction left
    unaffected multiplies: ``1 − E = (1 − fa_A)(1 − fa_B)``. It needs no curve fit, which makes it the
    most robust score for sparse or non-sigmoidal (e.g. above-baseline) single-agent responses.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``. Values < 0 are used as they are.

    Returns
    -------
    numpy.ndarray
        ``effect − E_bliss``; > 0 synergy. NaN on the single-agent row and column.
    """
    _, _, e = _check_matrix(doses_a, doses_b, effect)
    fa_a = e[:, :1]
    fa_b = e[:1, :]
    out = e - (fa_a + fa_b - fa_a * fa_b)
    out[~_combination_mask(e.shape)] = np.nan
    return _frozen(out)


def hsa_excess(doses_a: object, doses_b: object, effect: object) -> np.ndarray:
    """Observed − highest-single-agent expectation at every combination well.

    HSA (Gaddum's criterion) asks only whether the combination beats the better of its parts at the same
    doses; it is the least demanding null model, so HSA "synergy" is necessary, not sufficient, for Bliss or
    Loewe synergy.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``. Values < 0 are used as they are.

    Returns
    -------
    numpy.ndarray
        ``effect − max(fa_A, fa_B)``; > 0 synergy. NaN on the single-agent row and column.
    """
    _, _, e = _check_matrix(doses_a, doses_b, effect)
    out = e - np.maximum(e[:, :1], e[:1, :])
    out[~_combination_mask(e.shape)] = np.nan
    return _frozen(out)


# --------------------------------------------------------------------------------------------------------------
# Hill fits (Loewe, ZIP)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HillFit:
    """A 4-parameter Hill curve of one drug alone, in the fraction-affected convention.

    ``E(d) = E0 + (Emax − E0)·d^h/(C^h + d^h)``. An inhibitory drug has ``Emax > E0``.

    Attributes
    ----------
    E0
        Effect at dose 0 (fitted, not fixed, as in the ``synergy`` package).
    Emax
        Effect at infinite dose.
    h
        Hill slope (> 0).
    C
        Dose at half of the ``E0 → Emax`` span (same unit as the doses).
    status
        ``"ok"`` or ``"failed: <reason>"``; a failed fit has NaN parameters.
    """

    E0: float
    Emax: float
    h: float
    C: float
    status: str = "ok"

    def __post_init__(self) -> None:
        for name in ("E0", "Emax", "h", "C"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.status == "ok" and not (self.h > 0 and self.C > 0 and math.isfinite(self.E0 + self.Emax)):
            raise InputError(f"HillFit needs finite E0/Emax and h > 0, C > 0; got {self!r}.")

    @property
    def ok(self) -> bool:
        """Whether the fit can be used."""
        return self.status == "ok"

    def effect(self, dose: object) -> np.ndarray:
        """Effect (fa) at ``dose``."""
        return _hill(np.asarray(dose, dtype=float), self.E0, self.Emax, self.h, self.C)

    def dose_for(self, effect: object) -> np.ndarray:
        """Dose giving ``effect``; NaN where the curve never reaches it (outside ``[E0, Emax]``)."""
        e = np.asarray(effect, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = (e - self.E0) / (self.Emax - e)
            return np.where(odds >= 0, self.C * np.float_power(odds, 1.0 / self.h), np.nan)


def _occupancy(d: np.ndarray, h: float, c: float) -> tuple[np.ndarray, np.ndarray]:
    """``H = d^h/(C^h + d^h)`` as ``expit(z)``, ``z = h·log(d/C)``, so steep fits (h ~ 100) cannot overflow."""
    d = np.asarray(d, dtype=float)
    positive = d > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.where(positive, h * (np.log(np.where(positive, d, 1.0)) - np.log(c)), -np.inf)
    return expit(z), z


def _hill(d: np.ndarray, e0: float, emax: float, h: float, c: float) -> np.ndarray:
    """4-parameter Hill curve ``E0 + (Emax − E0)·d^h/(C^h + d^h)``."""
    return e0 + (emax - e0) * _occupancy(d, h, c)[0]


def _hill_partials(d: np.ndarray, h: float, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Occupancy ``H`` and its derivatives w.r.t. ``log h`` (``H(1−H)·z``) and ``log C`` (``−h·H(1−H)``).

    The reference definition: the fits' lean callbacks (:func:`_minpack_fit`, :func:`_zip_slice_fits`) do these
    operations on precomputed log doses, and the tests compare them with this function.
    """
    occupancy, z = _occupancy(d, h, c)
    core = occupancy * (1.0 - occupancy)
    finite = np.isfinite(z)
    d_logh = np.where(finite, core * np.where(finite, z, 0.0), 0.0)
    return occupancy, d_logh, -h * core


def _dose_scale(d: np.ndarray) -> float:
    """Geometric median of the positive doses: fitting ``d/scale`` keeps ``log C`` near 0 (the package's choice)."""
    return float(np.exp(np.median(np.log(d[d > 0]))))


@dataclass(frozen=True)
class _DoseAxis:
    """What every Hill fit on one dose vector shares, computed once: scaled doses and their logarithms.

    ``logd`` is ``log(ds)`` with 1 in place of dose 0 and ``zero`` the indices of the zero doses, exactly the
    arrays :func:`_occupancy` builds on each call; ``p0_dose`` the fixed part of the start (``log`` of the
    scaled median dose) and ``at_min``/``at_max`` the doses whose ``u`` starts ``E0``/``Emax``.
    """

    scale: float
    ds: np.ndarray
    logd: np.ndarray
    zero: np.ndarray
    at_min: np.ndarray
    at_max: np.ndarray
    p0_dose: float

    @classmethod
    def of(cls, d: np.ndarray) -> _DoseAxis:
        scale = _dose_scale(d)
        ds = d / scale
        positive = ds > 0
        return cls(scale, ds, np.log(np.where(positive, ds, 1.0)), np.flatnonzero(~positive),
                   np.flatnonzero(ds == ds.min()), np.flatnonzero(ds == ds.max()),
                   float(np.log(np.median(ds) * scale / scale)))

    def starts(self, u: np.ndarray) -> np.ndarray:
        """The package's start ``(median u at the lowest dose, median u at the highest, 0, log median dose)``.

        ``u`` is (K, m); one row per curve. A lone lowest/highest dose (any strictly increasing axis) takes its
        ``u`` itself, which is what ``np.median`` of one value returns (``u = 1 − fa`` is never −0).
        """
        p0 = np.empty((u.shape[0], 4))
        for column, at in ((0, self.at_min), (1, self.at_max)):
            if at.size == 1:
                p0[:, column] = u[:, at[0]]
            else:
                p0[:, column] = [np.median(row[at]) for row in u]
        p0[:, 2] = 0.0
        p0[:, 3] = self.p0_dose
        return p0


def _minpack_fit(axis: _DoseAxis, u: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, int, str]:
    """One 4-parameter Hill fit of ``u`` by MINPACK ``lmder``: ``(popt, ier, message)``, as ``leastsq`` gives.

    The residual and Jacobian callbacks do the floating-point operations of ``_hill(ds, ...) - u`` and
    ``_hill_partials`` on the precomputed ``axis`` arrays, and the Jacobian reuses the occupancy of the residual
    call at the same point (MINPACK asks for the Jacobian where it last evaluated the residuals), so the fit is
    bit for bit the one ``leastsq(residual, p0, Dfun=jacobian, full_output=True)`` returns (tested), in about
    a third of the time (measured: 2,400 screen curves 0.9 s -> 0.33 s). Without ``full_output`` leastsq skips
    the covariance; the message of a failed fit is looked up by re-running the same fit with it. (Calling
    scipy's private ``_minpack._lmder`` directly saved another ~0.1 s per 2,400 curves; not done, because a
    scipy release may change it.)
    """
    logd, zero, m = axis.logd, axis.zero, axis.ds.size
    last: list = [None, None, None, None]  # the point of the last residual call and its h, z, occupancy

    def occupancy(p: np.ndarray) -> tuple[np.floating, np.ndarray, np.ndarray]:
        h, c = np.exp(p[2:4])
        z = h * (logd - np.log(c))
        z[zero] = -np.inf
        return h, z, expit(z)

    def residual(p: np.ndarray) -> np.ndarray:
        h, z, occ = occupancy(p)
        last[:] = p.tobytes(), h, z, occ
        return p[0] + (p[1] - p[0]) * occ - u

    def jacobian(p: np.ndarray) -> np.ndarray:
        h, z, occ = last[1:] if last[0] == p.tobytes() else occupancy(p)
        out = np.empty((4, m))  # one row per parameter (col_deriv): MINPACK's column-major Jacobian
        core = occ * np.subtract(1.0, occ, out=out[0])
        out[1] = occ
        span = p[1] - p[0]
        np.multiply(span, np.where(np.isfinite(z), core * z, 0.0), out=out[2])
        np.multiply(span, -h * core, out=out[3])
        return out

    popt, ier = leastsq(residual, p0, Dfun=jacobian, col_deriv=True)
    if ier in (1, 2, 3, 4):
        return popt, ier, ""
    popt, _, _, message, ier = leastsq(residual, p0, Dfun=jacobian, col_deriv=True, full_output=True)
    return popt, ier, message


def _hill_from_popt(axis: _DoseAxis, popt: np.ndarray, ier: int, message: str
                    ) -> tuple[float, float, float, float, str]:
    """``(E0_u, Emax_u, h, C, status)`` from MINPACK's answer on the scaled doses."""
    if ier not in (1, 2, 3, 4):
        return math.nan, math.nan, math.nan, math.nan, f"failed: {message}"
    with np.errstate(over="ignore"):
        e0, emax, h, c = float(popt[0]), float(popt[1]), float(np.exp(popt[2])), float(np.exp(popt[3]) * axis.scale)
    if not (math.isfinite(e0 + emax) and 0 < h < math.inf and 0 < c < math.inf):
        return math.nan, math.nan, math.nan, math.nan, "failed: parameters left the finite range (h or C at 0 or inf)"
    return e0, emax, h, c, "ok"


def _check_hill_input(d: np.ndarray, fa: np.ndarray) -> None:
    if d.shape[-1:] != fa.shape[-1:] or not np.all(np.isfinite(d)) or not np.all(np.isfinite(fa)):
        raise InputError(f"fit_hill needs finite (dose, effect) pairs of equal length, got {d.size} and "
                         f"{fa.shape[-1] if fa.ndim else fa.size}.")
    if np.any(d < 0) or not np.any(d > 0):
        raise InputError("fit_hill needs doses ≥ 0 with at least one dose > 0.")


def fit_hill(doses: object, effect: object) -> HillFit:
    """Fit the 4-parameter Hill curve to one drug alone (the curve behind Loewe and ZIP).

    The fit reproduces the ``synergy`` package's (module docstring), so Loewe and ZIP scores can be checked
    against it; all points are used, including effects < 0, as the package does.

    Parameters
    ----------
    doses
        Doses (the first may be 0), shape (k,); with fewer than 4 points the fit is returned as failed.
    effect
        Fraction affected at those doses.

    Returns
    -------
    HillFit
        Parameters in the fa convention; ``status`` says whether the optimiser converged.
    """
    d = np.asarray(doses, dtype=float).ravel()
    fa = np.asarray(effect, dtype=float).ravel()
    if d.shape != fa.shape:
        raise InputError(f"fit_hill needs finite (dose, effect) pairs of equal length, got {d.size} and {fa.size}.")
    return fit_hill_many(d, fa[None])[0]


def fit_hill_many(doses: object, effects: object) -> tuple[HillFit, ...]:
    """:func:`fit_hill` of each row of ``effects`` (K, k) against one dose vector (k,), each exactly as alone.

    Why: a screen fits two single-agent curves per matrix, thousands on the same doses; the dose scaling, log
    doses and start are computed once here, and each curve is one lean MINPACK call (:func:`_minpack_fit`).

    Parameters
    ----------
    doses
        Doses (the first may be 0), shape (k,).
    effects
        Fraction affected, shape (K, k); one curve per row.

    Returns
    -------
    tuple of HillFit
        One per row, in order.
    """
    d = np.asarray(doses, dtype=float).ravel()
    fa = np.asarray(effects, dtype=float)
    if fa.ndim != 2:
        raise InputError(f"fit_hill_many needs effects of shape (K, len(doses)), got {fa.shape}.")
    _check_hill_input(d, fa)
    if d.size < 4:
        # Not an input error: a 3x3 matrix is valid for Bliss/HSA/CI, it just cannot support 4 Hill parameters.
        return tuple(HillFit(math.nan, math.nan, math.nan, math.nan, f"failed: {d.size} points for 4 parameters")
                     for _ in range(fa.shape[0]))
    axis = _DoseAxis.of(d)
    u = 1.0 - fa
    fits = []
    # leastsq without full_output warns where a fit fails; the failure is the fit's status instead
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for row, p0 in zip(u, axis.starts(u), strict=True):
            e0_u, emax_u, h, c, status = _hill_from_popt(axis, *_minpack_fit(axis, row, p0))
            fits.append(HillFit(1.0 - e0_u, 1.0 - emax_u, h, c, status))
    return tuple(fits)


# --------------------------------------------------------------------------------------------------------------
# Loewe
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoeweScores:
    """Loewe additivity on one matrix.

    Attributes
    ----------
    excess
        Observed − ``expected``; > 0 synergy. NaN on single-agent wells and where ``undefined``.
    expected
        Loewe-additive effect ``E`` solving ``d_A/D_A(E) + d_B/D_B(E) = 1``.
    undefined
        Combination wells where no such ``E`` exists (see :func:`loewe_excess`).
    hill_a, hill_b
        The single-drug Hill fits used for ``D_A``, ``D_B``.
    """

    excess: np.ndarray
    expected: np.ndarray
    undefined: np.ndarray
    hill_a: HillFit
    hill_b: HillFit


def _loewe_expected(d1: float, d2: float, f1: HillFit, f2: HillFit) -> float:
    """Loewe-additive effect at ``(d1 > 0, d2 > 0)``, or NaN where it does not exist.

    ``g(E) = d1/D1(E) + d2/D2(E)`` falls monotonically from +inf at ``lo = max(E0)`` to ``g(hi)`` at
    ``hi = min(Emax)``, where the weaker drug needs an infinite dose. A root exists iff ``g(hi) < 1``, i.e. the
    stronger drug alone at its dose stays below the weaker drug's ``Emax`` (the package's ``delta_nan`` test).
    ``E`` is parameterised as ``lo + (hi − lo)·expit(x)`` so Brent's method works on an unbounded, well-scaled
    variable and the distances to both ends keep full precision.
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
            return lo  # the root sits closer to the baseline than expit(-700) resolves
    root = brentq(g_minus_1, x_lo, x_hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
    return float(lo + width * expit(root))


def loewe_excess(
    doses_a: object, doses_b: object, effect: object, *, hill_a: HillFit | None = None, hill_b: HillFit | None = None
) -> LoeweScores:
    """Observed − Loewe-additive expectation (Loewe 1926) from 4-parameter Hill fits of each drug alone.

    Loewe additivity is the null model in which a drug combined with itself is never synergistic (the "sham"
    combination), which Bliss lacks. Its price is that ``D(E)`` exists only between a drug's ``E0`` and
    ``Emax``: where one drug alone already exceeds the other's ``Emax`` there is no Loewe expectation, and we
    return NaN and set ``undefined`` rather than substitute a number (the ``synergy`` package's
    ``delta_weakest``/``delta_hsa`` substitutions; its ``delta_nan`` mode is what this matches).

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``.
    hill_a, hill_b
        Single-drug fits to use; by default fitted to column 0 (A alone) and row 0 (B alone).

    Returns
    -------
    LoeweScores
        Excess (> 0 synergy), expected effect, the ``undefined`` mask and the fits.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    f1 = hill_a if hill_a is not None else fit_hill(a, e[:, 0])
    f2 = hill_b if hill_b is not None else fit_hill(b, e[0, :])
    expected = np.full(e.shape, np.nan)
    if f1.ok and f2.ok:
        for i in range(1, a.size):
            for j in range(1, b.size):
                expected[i, j] = _loewe_expected(a[i], b[j], f1, f2)
    combination = _combination_mask(e.shape)
    undefined = combination & np.isnan(expected)
    return LoeweScores(_frozen(e - expected), _frozen(expected), _frozen(undefined), f1, f2)


# --------------------------------------------------------------------------------------------------------------
# ZIP
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipScores:
    """ZIP δ scores on one matrix.

    Attributes
    ----------
    delta
        ZIP δ; > 0 synergy. NaN on single-agent wells and where ``undefined``.
    undefined
        Combination wells whose row or column slice fit failed (or whose single-drug fits are unusable).
    hill_a, hill_b
        The single-drug Hill fits.
    """

    delta: np.ndarray
    undefined: np.ndarray
    hill_a: HillFit
    hill_b: HillFit


#: Bounds of ZIP's slice-fit parameters ``(Emax_u, log h, log(C/scale))``, as in the ``synergy`` package.
_ZIP_LOWER = np.array([0.0, -np.inf, -np.inf])
_ZIP_UPPER = np.array([1.5, np.inf, np.inf])


def _zip_slice_fits(axes: Sequence[np.ndarray], which: np.ndarray, u: np.ndarray, e0: np.ndarray, p0: np.ndarray
                    ) -> np.ndarray:
    """ZIP's slice fits on ``u``, all at once: ``E0`` fixed, ``(Emax, h, C)`` free with ``0 ≤ Emax ≤ 1.5``.

    Each slice is the package's ``least_squares(method="trf")`` problem (parameters ``Emax``, ``log h``,
    ``log(C/scale)`` with ``scale`` the geometric median dose, start ``p0`` clipped to the bounds), solved
    step for step by :func:`simulator.lsq_batch.least_squares_trf_batch`. The residual and Jacobian callbacks
    do the floating-point operations of ``_hill(ds, ...) - u`` and ``_hill_partials`` with the log doses
    computed once per dose axis (they run once per round of the batch, on every running slice).

    Parameters
    ----------
    axes
        The distinct dose axes, each of length m (rows and columns of a square grid share one solve).
    which
        Dose axis of each slice (index into ``axes``), shape (P,).
    u
        ``1 − fa`` of each slice, shape (P, m).
    e0
        Fixed baseline of each slice, shape (P,).
    p0
        Start ``(Emax, h, C)`` of each slice, shape (P, 3).

    Returns
    -------
    numpy.ndarray
        ``(Emax, h, C)`` per slice, shape (P, 3); NaN where the optimiser fails (scipy would raise or report
        no convergence).
    """
    out = np.full((u.shape[0], 3), np.nan)
    if u.shape[0] == 0:
        return out
    scales = np.array([_dose_scale(d) for d in axes])
    scale = scales[which]
    ds_axes = np.stack([d / s for d, s in zip(axes, scales, strict=True)])
    positive = ds_axes > 0
    log_axes = np.log(np.where(positive, ds_axes, 1.0))  # as _occupancy takes it, once per axis
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = np.column_stack([p0[:, 0], np.log(p0[:, 1]), np.log(p0[:, 2] / scale)])
    x0 = np.clip(x0, _ZIP_LOWER, _ZIP_UPPER)
    startable = ~np.any(np.isnan(x0), axis=1)  # scipy: "Initial guess is outside of provided bounds"
    idx = np.flatnonzero(startable)
    if idx.size == 0:
        return out
    u_s, e0_s, logd_s = u[idx], e0[idx, None], log_axes[which[idx]]
    shared_zeros = bool(np.all(positive == positive[:1]))
    zero_cols = np.flatnonzero(~positive[0])  # dose-0 columns when every axis has them in the same place
    zero_s = None if shared_zeros else ~positive[which[idx]]

    def occupancy(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = np.exp(x[:, 1:2])
        z = h * (logd_s[rows] - np.log(np.exp(x[:, 2:3])))
        if shared_zeros:
            z[:, zero_cols] = -np.inf
        else:
            z[zero_s[rows]] = -np.inf
        return h, z, expit(z)

    def residual(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        _, _, occ = occupancy(x, rows)
        e0_rows = e0_s[rows]
        return e0_rows + (x[:, 0:1] - e0_rows) * occ - u_s[rows]

    def jacobian(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        h, z, occ = occupancy(x, rows)
        core = occ * (1.0 - occ)
        span = x[:, 0:1] - e0_s[rows]
        jac = np.empty((*z.shape, 3))
        jac[:, :, 0] = occ
        jac[:, :, 1] = span * np.where(np.isfinite(z), core * z, 0.0)
        jac[:, :, 2] = span * (-h * core)
        return jac

    with np.errstate(all="ignore"):
        res = least_squares_trf_batch(residual, jacobian, x0[idx], _ZIP_LOWER, _ZIP_UPPER)
    good = res.success & np.all(np.isfinite(res.x), axis=1)
    x = res.x[good]
    with np.errstate(over="ignore"):  # a flat slice drives log C to +inf: C = inf (no effect), as in the package
        out[idx[good]] = np.column_stack([x[:, 0], np.exp(x[:, 1]), np.exp(x[:, 2]) * scale[idx[good]]])
    return out


def zip_delta(
    doses_a: object, doses_b: object, effect: object, *, hill_a: HillFit | None = None, hill_b: HillFit | None = None
) -> ZipScores:
    """ZIP δ score (Yadav et al. 2015), computed as the ``synergy`` package's ``ZIP`` computes it.

    ZIP asks whether adding one drug shifts the potency (``C``) or slope (``h``) of the other. Along every
    column (drug B fixed at ``d_B``) a Hill curve in ``d_A`` is fitted with its baseline fixed at B's fitted
    single-agent effect, and likewise along every row; the two fitted surfaces are averaged and compared with
    the Bliss expectation of the single-drug Hill fits (which use the mean of the two fitted ``E0``). Because
    the slices are *fitted*, δ is a smoothed score, less sensitive to a single noisy well than Bliss.

    The slices are fitted with scipy's trf run as a batch (:mod:`simulator.lsq_batch`, the same path as
    :func:`zip_delta_many`). It agrees with the ``synergy`` package to 1e-6 on the reference matrices; on a
    slice whose Hill slope is not identified (a flat valley) the last-bit rounding of the batch can move the
    end point, so δ can differ from a per-slice ``least_squares`` fit, and between batches of different
    composition (measured on 300 noisy random matrices: > 1e-3 in 4, at most 0.033; smooth simulated screen
    matrices: none seen). Such a δ is not meaningful to that precision under any optimiser.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly (≥ 4 each).
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``.
    hill_a, hill_b
        Single-drug fits to use; by default fitted to column 0 and row 0.

    Returns
    -------
    ZipScores
        δ (> 0 synergy), the ``undefined`` mask and the fits.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    f1 = hill_a if hill_a is not None else fit_hill(a, e[:, 0])
    f2 = hill_b if hill_b is not None else fit_hill(b, e[0, :])
    return _zip_batch(a, b, e[None], [f1], [f2])[0]


def zip_delta_many(
    doses_a: object,
    doses_b: object,
    effects: object,
    *,
    hills_a: Sequence[HillFit],
    hills_b: Sequence[HillFit],
) -> list[ZipScores]:
    """ZIP δ of K matrices on one dose grid, each exactly as :func:`zip_delta` scores it.

    All row and column slice fits of all K matrices go into one batched trust-region solve, which is what makes
    ZIP affordable in a screen (one ``least_squares`` call per slice costs ~1.5 ms of interpreter overhead).

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (as in :func:`zip_delta`).
    effects
        Fraction affected, shape ``(K, len(doses_a), len(doses_b))``.
    hills_a, hills_b
        The K single-drug fits of each matrix (column 0 / row 0), as :func:`fit_hill` returns them.

    Returns
    -------
    list[ZipScores]
        One per matrix, in order.
    """
    e = np.asarray(effects, dtype=float)
    if e.ndim != 3 or len(hills_a) != e.shape[0] or len(hills_b) != e.shape[0]:
        raise InputError(f"zip_delta_many needs effects of shape (K, n, m) and K fits per drug, got {e.shape}, "
                         f"{len(hills_a)} and {len(hills_b)} fits.")
    a, b = _check_doses(doses_a, "doses_a"), _check_doses(doses_b, "doses_b")
    if e.shape[1:] != (a.size, b.size):
        raise InputError(f"effects must have shape (K, len(doses_a), len(doses_b)) = (K, {a.size}, {b.size}), "
                         f"got {e.shape}; rows follow drug A, columns drug B.")
    bad = np.flatnonzero(~np.all(np.isfinite(e), axis=(1, 2)))
    if bad.size:
        raise InputError(f"effects contain NaN or inf in matrices {bad[:10].tolist()}; drop or impute failed wells "
                         "before scoring.")
    return _zip_batch(a, b, e, list(hills_a), list(hills_b))


def _zip_batch(a: np.ndarray, b: np.ndarray, e: np.ndarray, fits_1: list[HillFit], fits_2: list[HillFit]
               ) -> list[ZipScores]:
    """The one ZIP code path: δ of K checked matrices (K, n, m) with their single-drug fits.

    Column j (B fixed) gives drug A's curve with baseline B's single-agent fit at ``b[j]``; row i gives drug B's
    curve with baseline A's fit at ``a[i]`` (the package works on ``u = 1 − fa``, where an inhibitory drug falls
    from ``E0_u`` to ``Emax_u < E0_u``). Only the slices a combination well uses (j ≥ 1, i ≥ 1) are fitted.
    """
    k_all = e.shape[0]
    u = 1.0 - e
    combination = _combination_mask(e.shape[1:])
    par = np.array([[1.0 - f1.E0, 1.0 - f1.Emax, f1.h, f1.C, 1.0 - f2.E0, 1.0 - f2.Emax, f2.h, f2.C]
                    for f1, f2 in zip(fits_1, fits_2, strict=True)]).reshape(k_all, 8)
    e0_1, emax_1, h_1, c_1, e0_2, emax_2, h_2, c_2 = (par[:, i : i + 1] for i in range(8))
    ok_fits = np.array([f1.ok and f2.ok for f1, f2 in zip(fits_1, fits_2, strict=True)], dtype=bool)
    usable = np.flatnonzero(ok_fits & ((e0_1 + e0_2)[:, 0] / 2.0 >= (emax_1 + emax_2)[:, 0] / 2.0))
    delta = np.full(e.shape, np.nan)
    if usable.size:
        k = usable
        n_a, n_b = a.size - 1, b.size - 1
        # baselines of the slices: the other drug's single-agent fit at the slice's fixed dose
        base_col = _hill(b[None, 1:], e0_2[k], emax_2[k], h_2[k], c_2[k])  # (k, n_b)
        base_row = _hill(a[None, 1:], e0_1[k], emax_1[k], h_1[k], c_1[k])  # (k, n_a)
        start_1 = np.column_stack([emax_1[k], h_1[k], c_1[k]])
        start_2 = np.column_stack([emax_2[k], h_2[k], c_2[k]])
        col_u = np.swapaxes(u[k][:, :, 1:], 1, 2).reshape(-1, a.size)
        row_u = u[k][:, 1:, :].reshape(-1, b.size)
        col_p0, row_p0 = np.repeat(start_1, n_b, axis=0), np.repeat(start_2, n_a, axis=0)
        n_col, n_row = col_u.shape[0], row_u.shape[0]
        if a.size == b.size:  # one solve: the slowest slice sets the number of rounds, so share it
            both = _zip_slice_fits(
                (a, b),
                np.repeat([0, 1], [n_col, n_row]),
                np.concatenate([col_u, row_u]),
                np.concatenate([base_col.ravel(), base_row.ravel()]),
                np.concatenate([col_p0, row_p0]),
            )
            cols, rows = both[:n_col].reshape(-1, n_b, 3), both[n_col:].reshape(-1, n_a, 3)
        else:
            cols = _zip_slice_fits((a,), np.zeros(n_col, dtype=np.intp), col_u, base_col.ravel(), col_p0)
            rows = _zip_slice_fits((b,), np.zeros(n_row, dtype=np.intp), row_u, base_row.ravel(), row_p0)
            cols, rows = cols.reshape(-1, n_b, 3), rows.reshape(-1, n_a, 3)

        e0_mean = (e0_1[k] + e0_2[k]) / 2.0
        u1_alone = _hill(a[None, :], e0_mean, emax_1[k], h_1[k], c_1[k])  # (k, n_a + 1)
        u2_alone = _hill(b[None, :], e0_mean, emax_2[k], h_2[k], c_2[k])  # (k, n_b + 1)
        fit_1 = _hill(a[None, 1:, None], u2_alone[:, None, 1:], cols[:, None, :, 0], cols[:, None, :, 1],
                      cols[:, None, :, 2])
        fit_2 = _hill(b[None, None, 1:], u1_alone[:, 1:, None], rows[:, :, None, 0], rows[:, :, None, 1],
                      rows[:, :, None, 2])
        inner = u1_alone[:, 1:, None] * u2_alone[:, None, 1:] - (fit_1 + fit_2) / 2.0
        failed = np.isnan(cols[:, None, :, 0]) | np.isnan(rows[:, :, None, 0])
        delta[k, 1:, 1:] = np.where(failed, np.nan, inner)
    return [
        ZipScores(_frozen(delta[i]), _frozen(combination & np.isnan(delta[i])), fits_1[i], fits_2[i])
        for i in range(k_all)
    ]


# --------------------------------------------------------------------------------------------------------------
# Chou–Talalay
# --------------------------------------------------------------------------------------------------------------


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
        ``"ok"``, ``"too_few_points"``, ``"degenerate"`` (a single dose) or ``"non_increasing"`` (m ≤ 0).
    """

    m: float
    Dm: float
    r: float
    n_points: int
    status: str = "ok"

    @property
    def ok(self) -> bool:
        """Whether the fit can be used for Dx and CI."""
        return self.status == "ok"

    def dose_for(self, fa: object) -> np.ndarray:
        """``Dx = Dm·(fa/(1 − fa))^(1/m)``: the dose giving ``fa``; NaN for ``fa`` outside (0, 1) or an unusable fit."""
        x = np.asarray(fa, dtype=float)
        if not self.ok:
            return np.full(x.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (x > 0) & (x < 1)
            return np.where(inside, self.Dm * np.float_power(x / (1.0 - x), 1.0 / self.m), np.nan)


def median_effect_fit(doses: object, fa: object) -> MedianEffectFit:
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
    use = np.isfinite(d) & np.isfinite(f) & (d > 0) & (f > FA_WINDOW[0]) & (f < FA_WINDOW[1])
    n = int(use.sum())
    if n < 2:
        return MedianEffectFit(math.nan, math.nan, math.nan, n, "too_few_points")
    x, f_in = np.log(d[use]), f[use]
    if np.ptp(x) == 0:
        return MedianEffectFit(math.nan, math.nan, math.nan, n, "degenerate")
    from scipy.stats import linregress  # here, not at the top: scipy.stats adds ~0.3 s to every pool worker's start

    line = linregress(x, np.log(f_in / (1.0 - f_in)))
    m = float(line.slope)
    if not m > 0:
        return MedianEffectFit(m, math.nan, float(line.rvalue), n, "non_increasing")
    return MedianEffectFit(m, float(np.exp(-line.intercept / m)), float(line.rvalue), n, "ok")


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
    doses_a: object,
    doses_b: object,
    effect: object,
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
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = a[:, None] / fa_.dose_for(e) + b[None, :] / fb_.dose_for(e)
    combination = _combination_mask(e.shape)
    ci[~combination] = np.nan
    undefined = combination & ~np.isfinite(ci)
    ci[undefined] = np.nan
    return CombinationIndexScores(_frozen(ci), _frozen(undefined), fa_, fb_)


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
        ``"ok"`` or why the table is NaN (no wells on the ratio, an unusable fit).
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
    status: str = "ok"

    def to_frame(self) -> pd.DataFrame:
        """One row per fa level: ratio, fa, doses, Dx, CI, its verdict, DRIs and the status."""
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
                "status": self.status,
            }
        )


def classify_ci(ci: object) -> np.ndarray:
    """Chou–Talalay verdicts: ``"synergy"`` (< 0.9), ``"additive"`` (0.9–1.1), ``"antagonism"`` (> 1.1), or ``""``."""
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
        One entry per fa level; NaN with a status if any fit is unusable.
    """
    r = _ratio_value(ratio)
    levels = _check_fa_levels(fa_levels)
    problems = [
        f"{name}: {fit.status}"
        for name, fit in (("drug A", fit_a), ("drug B", fit_b), ("mixture", fit_mix))
        if not fit.ok
    ]
    dx_mix = fit_mix.dose_for(levels)
    dose_a, dose_b = dx_mix * (r / (1.0 + r)), dx_mix * (1.0 / (1.0 + r))
    dx_a, dx_b = fit_a.dose_for(levels), fit_b.dose_for(levels)
    ci = dose_a / dx_a + dose_b / dx_b
    return ConstantRatioCI(
        ratio=r,
        fa=_frozen(levels),
        dose_a=_frozen(dose_a),
        dose_b=_frozen(dose_b),
        dx_a=_frozen(dx_a),
        dx_b=_frozen(dx_b),
        ci=_frozen(ci),
        dri_a=_frozen(dx_a / dose_a),
        dri_b=_frozen(dx_b / dose_b),
        fit_mix=fit_mix,
        status="ok" if not problems else "; ".join(problems),
    )


def constant_ratio_series(
    doses_a: object, doses_b: object, effect: object, ratio: float | tuple[float, float]
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
    r = _ratio_value(ratio)
    grid_a, grid_b = np.meshgrid(a[1:], b[1:], indexing="ij")
    on = np.abs(grid_a / grid_b - r) <= _RATIO_RTOL * r
    total = (grid_a + grid_b)[on]
    order = np.argsort(total)
    return total[order], e[1:, 1:][on][order]


def _diagonal_ratio(a: np.ndarray, b: np.ndarray) -> float | None:
    """Dose A / dose B along the matrix diagonal, if it is one constant ratio (else None)."""
    k = min(a.size, b.size)
    ratios = a[1:k] / b[1:k]
    if ratios.size and np.all(np.abs(ratios - ratios[0]) <= _RATIO_RTOL * ratios[0]):
        return float(ratios[0])
    return None


# --------------------------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------------------------

#: Score matrices in :class:`SynergyResult`, in table order.
_SCORES = ("bliss", "hsa", "loewe", "zip", "ci")


@dataclass(frozen=True)
class SynergyResult:
    """Every synergy score of one dose matrix, with the fits and flags behind them.

    Attributes
    ----------
    doses_a, doses_b, effect
        The input (rows: drug A; columns: drug B; effect as fraction affected).
    bliss, hsa, loewe, zip, ci
        Score matrices of ``effect``'s shape; NaN on the single-agent row/column and where undefined.
        Conventions in :data:`SCORE_CONVENTIONS`.
    hill_a, hill_b
        4-parameter Hill fits of each drug alone (Loewe, ZIP).
    median_a, median_b
        Median-effect fits of each drug alone (CI).
    constant_ratio
        CI/DRI at ``fa_levels`` along the constant dose ratio.
    below_baseline
        Wells with effect < 0 (the readout rose above baseline): kept in Bliss/HSA, excluded from CI.
    ci_undefined, loewe_undefined, zip_undefined
        Combination wells where that score could not be computed (NaN).
    """

    doses_a: np.ndarray
    doses_b: np.ndarray
    effect: np.ndarray
    bliss: np.ndarray
    hsa: np.ndarray
    loewe: np.ndarray
    zip: np.ndarray
    ci: np.ndarray
    hill_a: HillFit
    hill_b: HillFit
    median_a: MedianEffectFit
    median_b: MedianEffectFit
    constant_ratio: ConstantRatioCI
    below_baseline: np.ndarray
    ci_undefined: np.ndarray
    loewe_undefined: np.ndarray
    zip_undefined: np.ndarray

    def score(self, name: str) -> np.ndarray:
        """One score matrix by name (``bliss``, ``hsa``, ``loewe``, ``zip``, ``ci``)."""
        if name not in _SCORES:
            raise InputError(f"unknown score {name!r}; known: {', '.join(_SCORES)}.")
        return getattr(self, name)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per well and score: ``dose_a, dose_b, score, value, flag``.

        ``flag`` joins, with ``;``, the reasons a value is NaN or needs care: ``single_agent``,
        ``below_baseline``, ``ci_undefined``, ``loewe_undefined``, ``zip_undefined``; empty when none apply.
        """
        grid_a, grid_b = np.meshgrid(self.doses_a, self.doses_b, indexing="ij")
        single = ~_combination_mask(self.effect.shape)
        undefined = {"ci": self.ci_undefined, "loewe": self.loewe_undefined, "zip": self.zip_undefined}
        frames = []
        for name in _SCORES:
            parts = [np.where(single, "single_agent", ""), np.where(self.below_baseline, "below_baseline", "")]
            if name in undefined:
                parts.append(np.where(undefined[name], f"{name}_undefined", ""))
            flags = [";".join(p for p in well if p) for well in zip(*(x.ravel() for x in parts), strict=True)]
            frames.append(
                pd.DataFrame(
                    {
                        "dose_a": grid_a.ravel(),
                        "dose_b": grid_b.ravel(),
                        "score": name,
                        "value": self.score(name).ravel(),
                        "flag": flags,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def ci_table(self) -> pd.DataFrame:
        """The constant-ratio CI/DRI table (see :meth:`ConstantRatioCI.to_frame`)."""
        return self.constant_ratio.to_frame()


def synergy_scores(
    doses_a: object,
    doses_b: object,
    effect: object,
    *,
    ratio: float | tuple[float, float] | None = None,
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> SynergyResult:
    """Compute Bliss, HSA, Loewe, ZIP and Chou–Talalay scores of one dose matrix.

    The scores answer different questions (independent action, beating the best drug, dose additivity,
    potency shift, dose reduction), so a screen reports them all and lets the reader see where they
    disagree; each function is also usable alone.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected (0 = control, 1 = complete), shape ``(len(doses_a), len(doses_b))``.
    ratio
        Dose A / dose B of the constant-ratio mixture for CI at ``fa_levels``, or a pair ``(a, b)`` meaning
        ``a:b``. Default: the diagonal ratio ``doses_a[k]/doses_b[k]`` if it is constant; otherwise the table is
        NaN with a status saying so.
    fa_levels
        fa levels of the constant-ratio table.

    Returns
    -------
    SynergyResult
        All score matrices, fits, the constant-ratio table and flags.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    levels = _check_fa_levels(fa_levels)
    hill_a, hill_b = fit_hill(a, e[:, 0]), fit_hill(b, e[0, :])
    loewe = loewe_excess(a, b, e, hill_a=hill_a, hill_b=hill_b)
    zip_ = zip_delta(a, b, e, hill_a=hill_a, hill_b=hill_b)
    ci = combination_index(a, b, e)

    r = _ratio_value(ratio) if ratio is not None else _diagonal_ratio(a, b)
    if r is None:
        empty = np.full(levels.shape, np.nan)
        no_fit = MedianEffectFit(math.nan, math.nan, math.nan, 0, "too_few_points")
        table = ConstantRatioCI(
            math.nan,
            _frozen(levels),
            *(_frozen(empty) for _ in range(7)),
            no_fit,
            "no constant-ratio diagonal; pass ratio= (dose A / dose B)",
        )
    else:
        total, fa_mix = constant_ratio_series(a, b, e, r)
        table = combination_index_at(ci.fit_a, ci.fit_b, median_effect_fit(total, fa_mix), r, levels)
        if total.size == 0:
            table = _replace_status(
                table, f"no well lies on the ratio A:B = {r:g}; pass the mixture fit to combination_index_at"
            )

    return SynergyResult(
        doses_a=_frozen(a),
        doses_b=_frozen(b),
        effect=_frozen(e),
        bliss=bliss_excess(a, b, e),
        hsa=hsa_excess(a, b, e),
        loewe=loewe.excess,
        zip=zip_.delta,
        ci=ci.ci,
        hill_a=hill_a,
        hill_b=hill_b,
        median_a=ci.fit_a,
        median_b=ci.fit_b,
        constant_ratio=table,
        below_baseline=_frozen(e < 0),
        ci_undefined=ci.undefined,
        loewe_undefined=loewe.undefined,
        zip_undefined=zip_.undefined,
    )


def _replace_status(table: ConstantRatioCI, status: str) -> ConstantRatioCI:
    return replace(table, status=status)
