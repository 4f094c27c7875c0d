"""Four-parameter logistic (4PL) fit of a dose-response series, with an honest IC50 and its 95 % CI.

``y = bottom + (top - bottom)/(1 + (dose/IC50)^hill)`` on the doses > 0, fitted by bounded least squares from a
grid of starts; the CI is a Wald interval on log10 IC50. The model, the method, Prism's conventions and what
each status (``ok``, ``extrapolated``, ``not_reached``, ``failed``) means: ``docs/notes/readouts.md``.

Two quantities, never one under the other's name (issue 20): the **relative EC50** (:attr:`LogisticFit.ic50`,
also :attr:`LogisticFit.ec50_rel`), the dose at the fitted curve's half-way level ``(top + bottom)/2``; and the
**absolute IC50** (:attr:`LogisticFit.ic50_abs`), the dose at which the response is 50 % of the untreated value
(``absolute_level``), read off the fitted curve, or "> top dose" when the tested responses never get there. They
coincide only for a curve from 100 to 0 (the normalised model). :data:`MODEL_FREE` and :data:`MODEL_NORMALIZED`
name the model in tables and legends.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ..errors import InputError
from ..status import Status

#: log10 IC50 is searched within the tested dose range widened by this many decades on each side; a
#: fit that ends on that bound has not found an IC50.
_SEARCH_DECADES = 3.0
_HILL_BOUNDS = (0.05, 20.0)

#: the free model's name in tables and legends
MODEL_FREE = "4PL, top and bottom free"
#: the normalised model's name: Prism's "[inhibitor] vs. normalized response -- Variable slope"
MODEL_NORMALIZED = "4PL, top 100 and bottom 0 fixed (Prism normalized response)"


def logistic4(dose, top: float, bottom: float, ic50: float, hill: float):
    """The 4PL curve ``bottom + (top - bottom)/(1 + (dose/ic50)^hill)`` (dose >= 0, broadcasts).

    Parameters
    ----------
    dose
        Dose(s), same unit as ``ic50``.
    top, bottom
        Response at zero and at infinite dose.
    ic50
        Dose of the half-way response (> 0).
    hill
        Hill slope (> 0 for a falling curve when ``top > bottom``).

    Returns
    -------
    numpy.ndarray or float
        The response, broadcast over ``dose``.
    """
    dose = np.asarray(dose, dtype=float)
    return bottom + (top - bottom) / (1.0 + (dose / ic50) ** hill)


@dataclass(frozen=True)
class LogisticFit:
    """Result of :func:`fit_logistic`.

    Attributes
    ----------
    top, bottom
        Plateaus at zero and infinite dose (100 and 0 when normalised).
    ic50
        Dose at the half-way level ``(top + bottom)/2`` (dose units of the input); NaN if not reached.
    hill
        Hill coefficient (> 0; Prism's HillSlope is ``-hill`` for an inhibitor).
    ic50_ci95
        95 % Wald interval (low, high) on log10 IC50, back-transformed; NaN if not reached.
    r2
        Coefficient of determination on the fitted points.
    n
        Number of fitted points (doses > 0).
    status
        ``"ok"``, ``"extrapolated"``, ``"not_reached"`` or ``"failed"`` (``docs/notes/readouts.md``).
    message
        Why the status is not ``"ok"``, or an empty string.
    model
        The model fitted (:data:`MODEL_FREE` or :data:`MODEL_NORMALIZED`).
    ic50_abs
        Absolute IC50: the dose at which the fitted response is ``absolute_level`` (50 % of untreated); NaN when
        the response does not reach it at the tested doses, or no level was given (module docstring).
    ic50_abs_text
        The absolute IC50 as a table shows it: the number (4 significant digits), ``"> D (top dose)"`` /
        ``"< D (lowest dose)"`` when the tested responses stay on one side of the level, ``"n/a"`` without a level.
    """

    top: float
    bottom: float
    ic50: float
    hill: float
    ic50_ci95: tuple[float, float]
    r2: float
    n: int
    status: Status
    message: str = ""
    model: str = MODEL_FREE
    ic50_abs: float = math.nan
    ic50_abs_text: str = "n/a"

    @property
    def ok(self) -> bool:
        """True when the IC50 is interpolated within the tested doses."""
        return self.status == Status.OK

    @property
    def ec50_rel(self) -> float:
        """The relative EC50: the dose at the curve's half-way level (the same number as :attr:`ic50`)."""
        return self.ic50

    def ic50_abs_label(self, unit: str = "nM") -> str:
        """The absolute IC50 for a sentence or legend: ``"9.5 nM"``, ``"> 10000 nM (top dose)"``, or ``"n/a"``."""
        if self.ic50_abs_text == "n/a":
            return "n/a"
        if math.isfinite(self.ic50_abs):
            return f"{self.ic50_abs:.4g} {unit}"
        bound, _, note = self.ic50_abs_text.partition(" (")
        return f"{bound} {unit} ({note}"


def fit_logistic(
    doses: Sequence[float] | np.ndarray,
    response: Sequence[float] | np.ndarray,
    *,
    normalized: bool = False,
    absolute_level: float | None = None,
) -> LogisticFit:
    """Fit the 4PL curve to one dose-response series (replicates are separate points with equal doses).

    Parameters
    ----------
    doses
        Doses >= 0 (any unit; the IC50 comes back in it). Dose 0 marks a control point.
    response
        Responses, same length as ``doses``.
    normalized
        Fix ``top = 100``, ``bottom = 0`` (Prism "[inhibitor] vs. normalized response -- Variable slope");
        controls, if present, rescale the series so that their mean is 100.
    absolute_level
        The response level of the absolute IC50 (50 for a response in % of untreated); None: no absolute IC50
        (a response that is not a fraction of untreated, e.g. an apoptotic fraction).

    Returns
    -------
    LogisticFit
        The curve's parameters, the IC50 with its 95 % CI, R^2, and the status with its message.

    Raises
    ------
    InputError
        Arrays of different lengths, non-finite values or negative doses.
    """
    x, y, control = _check_series(doses, response)
    fit = _fit(x, y, control, normalized)
    model = MODEL_NORMALIZED if normalized else MODEL_FREE
    if absolute_level is None:
        return dataclasses.replace(fit, model=model)
    scale = 100.0 / float(np.mean(control)) if normalized and control.size else 1.0
    value, text = _absolute_ic50(x, y * scale, fit, float(absolute_level))
    return dataclasses.replace(fit, model=model, ic50_abs=value, ic50_abs_text=text)


def _absolute_ic50(x: np.ndarray, y: np.ndarray, fit: LogisticFit, level: float) -> tuple[float, str]:
    """The dose at which the response is ``level`` (value, text): the fitted curve inverted where it crosses.

    The tested responses decide whether there is one: all above the level -> "> top dose", all below -> "<
    lowest dose" (NaN both). Otherwise the fitted curve is inverted, ``EC50·((top − L)/(L − bottom))^(1/hill)``;
    where the fit cannot be inverted at the level (it failed, or its plateaus do not bracket it), the
    log-linear interpolation between the two tested doses around the first crossing is used instead.
    """
    if x.size == 0:
        return math.nan, "n/a"
    dmin, dmax = float(x.min()), float(x.max())
    if np.all(y > level):
        return math.nan, f"> {_plain(dmax)} (top dose)"
    if np.all(y < level):
        return math.nan, f"< {_plain(dmin)} (lowest dose)"
    top, bottom, ec50, hill = fit.top, fit.bottom, fit.ec50_rel, fit.hill
    if all(math.isfinite(v) for v in (top, bottom, ec50, hill)) and min(top, bottom) < level < max(top, bottom):
        value = ec50 * ((top - level) / (level - bottom)) ** (1.0 / hill)
    else:
        order = np.argsort(x, kind="stable")
        xs, ys = np.log10(x[order]), y[order] - level
        k = int(np.flatnonzero(np.sign(ys[:-1]) != np.sign(ys[1:]))[0]) if np.any(ys[:-1] * ys[1:] <= 0) else 0
        t = ys[k] / (ys[k] - ys[k + 1]) if ys[k] != ys[k + 1] else 0.0
        value = 10.0 ** (xs[k] + t * (xs[k + 1] - xs[k]))
    return float(value), f"{value:.4g}"


def _plain(value: float) -> str:
    """A dose as a reader writes it: 10000, 0.1 (4 significant digits, no exponent within 1e-4..1e7)."""
    if not 1e-4 <= abs(value) < 1e7:
        return f"{value:.4g}"
    return np.format_float_positional(value, precision=4, unique=False, fractional=False, trim="-")


def _fit(x: np.ndarray, y: np.ndarray, control: np.ndarray, normalized: bool) -> LogisticFit:
    """The fit itself (:func:`fit_logistic` without the model's name and the absolute IC50)."""
    n_par = 2 if normalized else 4
    nan2 = (math.nan, math.nan)
    if x.size < n_par + 1 or np.unique(x).size < n_par:
        return LogisticFit(math.nan, math.nan, math.nan, math.nan, nan2, math.nan, int(x.size), Status.FAILED,
                           f"{x.size} points at {np.unique(x).size} doses > 0 cannot fit {n_par} parameters "
                           f"with a residual degree of freedom; need >= {n_par + 1} points at >= {n_par} doses.")
    if normalized and control.size:
        scale = float(np.mean(control))
        if scale <= 0:
            raise InputError(f"the control mean is {scale:g}; a normalised fit needs a positive control.")
        y = y * (100.0 / scale)
    lx = np.log10(x)
    best = _best_of_starts(lx, y, normalized)
    if best is None:
        return LogisticFit(math.nan, math.nan, math.nan, math.nan, nan2, math.nan, int(x.size), Status.FAILED,
                           "the optimiser failed from every start.")
    return _judge(best, x, y, normalized)


def _check_series(doses, response) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(doses > 0, their responses, the control responses)``; raises on unusable input."""
    x = np.asarray(doses, dtype=float).ravel()
    y = np.asarray(response, dtype=float).ravel()
    if x.shape != y.shape:
        raise InputError(f"doses ({x.size}) and response ({y.size}) must have the same length.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("doses and response must be finite numbers (drop missing wells first).")
    if np.any(x < 0):
        raise InputError("doses must be >= 0 (0 marks a control).")
    return x[x > 0], y[x > 0], y[x == 0]


def _unpack(p: np.ndarray, normalized: bool) -> tuple:
    """``(top, bottom, log10 IC50, hill)`` from the optimiser's vector."""
    return (100.0, 0.0, p[0], p[1]) if normalized else (p[0], p[1], p[2], p[3])


def _best_of_starts(lx: np.ndarray, y: np.ndarray, normalized: bool):
    """The least-squares fit with the lowest cost over 5 starts of log10 IC50 (None when every start failed)."""
    lo, hi = lx.min() - _SEARCH_DECADES, lx.max() + _SEARCH_DECADES

    def residuals(p):
        top, bottom, lic50, hill = _unpack(p, normalized)
        return bottom + (top - bottom) / (1.0 + 10.0 ** (hill * (lx - lic50))) - y

    order = np.argsort(lx)
    head, tail = y[order][:max(1, lx.size // 4)], y[order][-max(1, lx.size // 4):]
    top0, bottom0 = float(np.mean(head)), float(np.mean(tail))
    span = max(float(np.ptp(y)), 1e-12, abs(top0 - bottom0))
    if normalized:
        lower, upper = [lo, _HILL_BOUNDS[0]], [hi, _HILL_BOUNDS[1]]
    else:
        lower = [-np.inf, -np.inf, lo, _HILL_BOUNDS[0]]
        upper = [np.inf, np.inf, hi, _HILL_BOUNDS[1]]
    best = None
    for lic50_0 in np.linspace(lx.min(), lx.max(), 5):
        p0 = [lic50_0, 1.0] if normalized else [top0, bottom0, lic50_0, 1.0]
        try:
            res = optimize.least_squares(residuals, p0, bounds=(lower, upper), method="trf",
                                         x_scale=[1.0, 1.0] if normalized else [span, span, 1.0, 1.0],
                                         xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=500)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.all(np.isfinite(res.fun)) and (best is None or res.cost < best.cost):
            best = res
    return best


def _judge(best, x: np.ndarray, y: np.ndarray, normalized: bool) -> LogisticFit:
    """The fit with its IC50 CI, R^2 and status (ok, extrapolated or not reached) from the optimiser's result."""
    n_par = 2 if normalized else 4
    lx = np.log10(x)
    lo, hi = lx.min() - _SEARCH_DECADES, lx.max() + _SEARCH_DECADES
    top, bottom, lic50, hill = (float(v) for v in _unpack(best.x, normalized))
    rss = float(np.sum(best.fun**2))
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - rss / sst if sst > 0 else math.nan
    dof = x.size - n_par
    jac = np.asarray(best.jac, dtype=float)
    cov = np.linalg.pinv(jac.T @ jac) * (rss / dof)
    se = math.sqrt(max(float(cov[-2, -2]), 0.0))  # log10 IC50 is the second-to-last parameter
    half_t = float(stats.t.ppf(0.975, dof)) * se
    ci = (10.0 ** (lic50 - half_t), 10.0 ** (lic50 + half_t)) if math.isfinite(half_t) else (math.nan, math.nan)
    singular = np.linalg.matrix_rank(jac) < n_par

    half = 0.5 * (top + bottom)
    crossed = bool(np.any(y > half) and np.any(y < half))
    in_range = lx.min() <= lic50 <= lx.max()
    at_bound = min(lic50 - lo, hi - lic50) < 1e-3
    # the no-effect curve nested in the model: a constant (free fit) or the control level 100 (normalised)
    rss_flat = float(np.sum((y - 100.0) ** 2)) if normalized else sst
    flat = _no_better_than_flat(rss, rss_flat, x.size, n_par, 0 if normalized else 1)
    dmin, dmax = float(x.min()), float(x.max())
    unbounded = singular or not all(math.isfinite(c) for c in ci) or ci[1] / max(ci[0], 1e-300) > 1e6

    if flat or (not crossed and (at_bound or unbounded)):
        parts = []
        if flat:
            parts.append("no dose effect (the curve is no better than the no-effect line, F test p >= 0.05)")
        if not crossed and (normalized or not flat):
            side = "above" if np.median(y) > half else "below"
            bound = f"> {dmax:g}" if side == "above" else f"< {dmin:g}"
            parts.append(f"the response stays {side} the half-way level {half:.4g} at every tested dose, "
                         f"so IC50 {bound}")
        why = "; ".join(parts) + f"; tested {dmin:g}-{dmax:g}"
        return LogisticFit(top, bottom, math.nan, hill, (math.nan, math.nan), r2, int(x.size), Status.NOT_REACHED,
                           f"IC50 not reached: {why}.")
    ic50 = 10.0**lic50
    if not crossed or not in_range:
        why = (f"the IC50 lies outside the tested doses {dmin:g}-{dmax:g}" if not in_range
               else f"no response crosses the half-way level {half:.4g}")
        return LogisticFit(top, bottom, ic50, hill, ci, r2, int(x.size), Status.EXTRAPOLATED,
                           f"IC50 {ic50:.4g} is an extrapolation: {why}.")
    return LogisticFit(top, bottom, ic50, hill, ci, r2, int(x.size), Status.OK, "")


def _no_better_than_flat(rss: float, rss_flat: float, n: int, n_par: int, n_par_flat: int) -> bool:
    """Extra-sum-of-squares F test of the curve against the nested no-effect line (p >= 0.05 means flat)."""
    if rss_flat <= 0:
        return True
    if rss <= 1e-14 * rss_flat:
        return False
    df1, df2 = n_par - n_par_flat, n - n_par
    f = (max(rss_flat - rss, 0.0) / df1) / (rss / df2)
    return bool(stats.f.sf(f, df1, df2) >= 0.05)
