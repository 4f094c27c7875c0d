"""The 4-parameter Hill fits of each drug alone, behind Loewe and ZIP."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import leastsq
from scipy.special import expit

from ..errors import InputError
from ..status import Status


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
        ``"ok"`` or ``"failed"`` (:class:`~simulator.status.Status`); a failed fit has NaN parameters.
    message
        Why the fit failed, or an empty string.
    """

    E0: float
    Emax: float
    h: float
    C: float
    status: Status = Status.OK
    message: str = ""

    def __post_init__(self) -> None:
        for name in ("E0", "Emax", "h", "C"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.status == Status.OK and not (self.h > 0 and self.C > 0 and math.isfinite(self.E0 + self.Emax)):
            raise InputError(f"HillFit needs finite E0/Emax and h > 0, C > 0; got {self!r}.")

    @property
    def ok(self) -> bool:
        """Whether the fit can be used."""
        return self.status == Status.OK

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
                    ) -> tuple[float, float, float, float, Status, str]:
    """``(E0_u, Emax_u, h, C, status, message)`` from MINPACK's answer on the scaled doses."""
    if ier not in (1, 2, 3, 4):
        return math.nan, math.nan, math.nan, math.nan, Status.FAILED, message
    with np.errstate(over="ignore"):
        e0, emax, h, c = float(popt[0]), float(popt[1]), float(np.exp(popt[2])), float(np.exp(popt[3]) * axis.scale)
    if not (math.isfinite(e0 + emax) and 0 < h < math.inf and 0 < c < math.inf):
        return (math.nan, math.nan, math.nan, math.nan, Status.FAILED,
                "parameters left the finite range (h or C at 0 or inf)")
    return e0, emax, h, c, Status.OK, ""


def _check_hill_input(d: np.ndarray, fa: np.ndarray) -> None:
    if d.shape[-1:] != fa.shape[-1:] or not np.all(np.isfinite(d)) or not np.all(np.isfinite(fa)):
        raise InputError(f"fit_hill needs finite (dose, effect) pairs of equal length, got {d.size} and "
                         f"{fa.shape[-1] if fa.ndim else fa.size}.")
    if np.any(d < 0) or not np.any(d > 0):
        raise InputError("fit_hill needs doses ≥ 0 with at least one dose > 0.")


def fit_hill(doses: object, effect: object) -> HillFit:
    """Fit the 4-parameter Hill curve to one drug alone (the curve behind Loewe and ZIP).

    The fit reproduces the ``synergy`` package's (``docs/notes/synergy.md``), so Loewe and ZIP scores can be checked
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
        return tuple(HillFit(math.nan, math.nan, math.nan, math.nan, Status.FAILED, f"{d.size} points for 4 parameters")
                     for _ in range(fa.shape[0]))
    axis = _DoseAxis.of(d)
    u = 1.0 - fa
    fits = []
    # leastsq without full_output warns where a fit fails; the failure is the fit's status instead
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for row, p0 in zip(u, axis.starts(u), strict=True):
            e0_u, emax_u, h, c, status, message = _hill_from_popt(axis, *_minpack_fit(axis, row, p0))
            fits.append(HillFit(1.0 - e0_u, 1.0 - emax_u, h, c, status, message))
    return tuple(fits)
