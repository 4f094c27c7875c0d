"""Profile likelihoods: identifiability of chosen parameters, with re-optimisation of all the others.

From the best fit, step outwards on each side with the parameter fixed and the others re-optimised, until the
profile rises by chi2_1(0.95)/2 (the 95 % likelihood-ratio interval) or a bound is reached. The step control,
the refined crossing and the handling of a fit that was not at the optimum: ``docs/notes/fit.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import InputError
from ..parallel import Executor, SerialExecutor
from ..status import Status
from ._multistart import FitResult, FitSettings, run_start
from ._objective import THRESHOLD_95, objective_for, to_linear

#: a profile point this far below the fit's nllh means the fit was not at the optimum (nllh units; the
#: fit's own tolerance leaves differences of ~1e-8 on well-posed problems)
IMPROVEMENT_TOL = 1e-6
#: the message of a profile's own starting point (the fit's optimum, re-optimised)
BEST_FIT = "best fit"


@dataclass(frozen=True)
class ProfileSettings:
    """Step control of a profile (scaled units of the parameter).

    ``first_step`` is a fraction of the parameter's scaled range; ``min_step``/``max_step`` bound the adaptive
    step (same units as the scale); ``max_points`` per side; ``refine`` bisections of the bracket around each
    threshold crossing (each a re-optimisation; the bracket shrinks 2^refine-fold); ``fit`` are the
    re-optimisation settings
    (default: the fit's, with at most 200 evaluations per point, since each point is warm-started).
    """

    first_step: float = 0.02
    min_step: float = 1e-4
    max_step: float = 1.0
    max_points: int = 30
    threshold: float = THRESHOLD_95
    refine: int = 4
    fit: FitSettings = FitSettings(max_nfev=200)

    def __post_init__(self) -> None:
        if not (0 < self.min_step <= self.max_step) or not (0 < self.first_step <= 1) or self.max_points < 1:
            raise InputError("ProfileSettings: need 0 < min_step <= max_step, 0 < first_step <= 1 and "
                             "max_points >= 1.")


@dataclass(frozen=True)
class Profile:
    """The profile of one parameter.

    ``values`` (scaled) ascending, ``nllh`` the re-optimised objective (with objective priors: the negative
    log-posterior ``nllh + nlprior``, the profiled parameter's own prior included; ``objective`` says which, and the
    tables carry it in a column), ``status`` and ``message`` per point
    (the fit's own point has message :data:`BEST_FIT`; a failed re-optimisation says why), ``others`` the
    re-optimised vectors (scaled, all estimated parameters, the profiled one included) per point.
    ``best_nllh``/``best_value`` are the reference optimum: the lowest of the fit's nllh (``fit_nllh``) and
    every profile point. ``improved`` is set when a profile point lay below the fit by more than
    :data:`IMPROVEMENT_TOL` (the fit had not reached the optimum; refit with more starts).
    ``ci_low``/``ci_high`` are the 95 % bounds on linear scale, ``nan`` where the profile never crossed the
    threshold on that side (practically non-identifiable there; ``reached_bound`` tells whether the bound
    stopped it).
    """

    parameter: str
    scale: str
    best_value: float
    best_nllh: float
    threshold: float
    values: np.ndarray
    nllh: np.ndarray
    status: tuple[Status, ...]
    message: tuple[str, ...]
    others: np.ndarray
    ids: tuple[str, ...]
    ci_low: float
    ci_high: float
    reached_bound: tuple[bool, bool]
    time_s: float
    fit_nllh: float = math.nan
    objective: str = "nllh"

    @property
    def improved(self) -> bool:
        """True when the profile found a point better than the fit it started from (by > IMPROVEMENT_TOL)."""
        return self.fit_nllh - self.best_nllh > IMPROVEMENT_TOL

    @property
    def delta(self) -> np.ndarray:
        """Profile minus the best nllh."""
        return self.nllh - self.best_nllh

    @property
    def identifiable(self) -> bool:
        """True when the profile crosses the threshold on both sides (a finite 95 % interval)."""
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    def to_frame(self) -> pd.DataFrame:
        """One row per point: parameter, value (scaled and linear), nllh, delta, status and message."""
        return pd.DataFrame({
            "parameter": self.parameter,
            "scale": self.scale,
            "value_scaled": self.values,
            "value": to_linear(self.values, [self.scale] * len(self.values)),
            "nllh": self.nllh,
            "delta_nllh": self.delta,
            "objective": self.objective,
            "status": list(self.status),
            "message": list(self.message),
        })

    def summary(self) -> dict:
        """Best value, 95 % interval (linear) and flags."""
        best = float(to_linear(np.array([self.best_value]), [self.scale])[0])
        return {"parameter": self.parameter, "scale": self.scale, "estimate": best, "ci95_low": self.ci_low,
                "ci95_high": self.ci_high, "identifiable": self.identifiable,
                "low_side_hit_bound": self.reached_bound[0], "high_side_hit_bound": self.reached_bound[1],
                "fit_nllh": self.fit_nllh, "best_nllh": self.best_nllh, "objective": self.objective,
                "improved_fit": self.improved,
                "points": len(self.values), "time_s": self.time_s}


def profile_parameter(
    yaml_path: str | Path,
    x_best: ArrayLike,
    parameter: str,
    settings: ProfileSettings | None = None,
) -> Profile:
    """Profile one estimated parameter from the best fit ``x_best`` (scaled, in the objective's id order).

    Parameters
    ----------
    yaml_path
        The PEtab problem's YAML file (the objective is rebuilt from it, so this runs in any process).
    x_best
        The best fit's estimated parameters, scaled, in the objective's id order.
    parameter
        Id of the estimated parameter to profile.
    settings
        Step control; ``None`` for :class:`ProfileSettings` defaults.

    Returns
    -------
    Profile
        The profile points both sides of the optimum and the 95 % interval.

    Raises
    ------
    InputError
        ``parameter`` is not estimated in the problem, or ``x_best`` has the wrong length.
    """
    settings = settings or ProfileSettings()
    t0 = time.perf_counter()
    full = objective_for(yaml_path, settings.fit.options, central=settings.fit.central,
                         gradient=settings.fit.gradient)
    if parameter not in full.ids:
        raise InputError(f"cannot profile {parameter!r}: not an estimated parameter of {str(yaml_path)!r}; "
                         f"estimated: {', '.join(full.ids)}.")
    best = np.asarray(x_best, dtype=float)
    if best.shape != (full.dim,):
        raise InputError(f"x_best has {best.size} values; the problem estimates {full.dim}.")
    i = full.ids.index(parameter)
    scale = full.scales[i]
    lo, hi = float(full.lower[i]), float(full.upper[i])
    fit_nllh = full.nlpost(best)  # the optimised objective: nllh, plus the priors' term when the problem has them

    def reoptimise(target: float, current: np.ndarray) -> tuple[float, Status, str, np.ndarray]:
        """The nllh with the parameter fixed at ``target`` (scaled), the others re-optimised from ``current``."""
        fixed_value = float(to_linear(np.array([target]), [scale])[0])
        objective = objective_for(yaml_path, settings.fit.options, fix={parameter: fixed_value},
                                  central=settings.fit.central, gradient=settings.fit.gradient)
        result = run_start(objective, np.delete(current, i), settings.fit)
        if not result.ok:
            return math.inf, result.status, result.message, current.copy()
        return result.nlpost, Status.OK, "", np.insert(np.array(result.x), i, target)

    centre_nllh, centre_status, _, centre_x = reoptimise(best[i], best)
    if centre_status != Status.OK or not centre_nllh < fit_nllh:
        centre_nllh, centre_x = fit_nllh, best.copy()
    best_nllh = centre_nllh  # the steps and the threshold test follow the best value known so far
    points: list[tuple[float, float, Status, str, np.ndarray]] = [(best[i], centre_nllh, Status.OK, BEST_FIT,
                                                                    centre_x)]
    reached = [False, False]
    for side, direction in enumerate((-1.0, 1.0)):
        walked, reached[side], best_nllh = _walk(reoptimise, best[i], centre_x, direction, (lo, hi), best_nllh,
                                                 settings)
        points += walked
    points.sort(key=lambda p: p[0])
    values = np.array([p[0] for p in points])
    nllh = np.array([p[1] for p in points])
    k_best = int(np.argmin(np.where(np.isfinite(nllh), nllh, np.inf)))
    best_nllh, best_value = float(nllh[k_best]), float(values[k_best])
    ci_low = _crossing(values, nllh - best_nllh, best_value, settings.threshold, side=-1)
    ci_high = _crossing(values, nllh - best_nllh, best_value, settings.threshold, side=1)
    lin = to_linear(np.array([ci_low, ci_high]), [scale, scale])
    return Profile(
        parameter=parameter, scale=scale, best_value=best_value, best_nllh=best_nllh,
        threshold=settings.threshold, values=values, nllh=nllh, status=tuple(p[2] for p in points),
        message=tuple(p[3] for p in points), others=np.array([p[4] for p in points]), ids=full.ids,
        ci_low=float(lin[0]), ci_high=float(lin[1]),
        reached_bound=(reached[0], reached[1]), time_s=time.perf_counter() - t0, fit_nllh=fit_nllh,
        objective="nlpost = nllh + nlprior" if full.priors else "nllh",
    )


def _walk(reoptimise, start: float, centre_x: np.ndarray, direction: float, bounds: tuple[float, float],
          best_nllh: float, settings: ProfileSettings) -> tuple[list[tuple], bool, float]:
    """Step from ``start`` in ``direction`` until the profile crosses the threshold, a bound or ``max_points``.

    Returns the points, whether the bound stopped the walk, and the best nllh seen so far (the threshold test
    follows it).
    """
    lo, hi = bounds
    points: list[tuple[float, float, Status, str, np.ndarray]] = []
    value, prev_delta, current = start, 0.0, centre_x.copy()
    step = settings.first_step * (hi - lo)
    for _ in range(settings.max_points):
        target = min(max(value + direction * step, lo), hi)
        if target == value:
            return points, True, best_nllh
        nllh, status, message, full_x = reoptimise(target, current)
        points.append((target, nllh, status, message, full_x))
        if status != Status.OK:
            break
        best_nllh = min(best_nllh, nllh)
        delta = nllh - best_nllh
        if delta > settings.threshold:
            if settings.refine and prev_delta <= settings.threshold:
                points.extend(_refine(reoptimise, value, target, current, best_nllh, settings))
            break
        value, current = target, full_x
        if target in (lo, hi):
            return points, True, best_nllh
        rise = delta - prev_delta
        if rise > 0.5 * settings.threshold:
            step = max(step / 2.0, settings.min_step)
        elif rise < 0.1 * settings.threshold:
            step = min(step * 1.5, settings.max_step)
        prev_delta = max(delta, prev_delta)
    return points, False, best_nllh


def _refine(reoptimise, inside: float, outside: float, start: np.ndarray, best_nllh: float,
            settings: ProfileSettings) -> list[tuple[float, float, Status, str, np.ndarray]]:
    """Bisect the bracket [inside, outside] of the threshold crossing: extra profile points close to it.

    Each bisection re-optimises (warm-started from the inside point); ``settings.refine`` halvings shrink the
    bracket, so the linear interpolation of :func:`_crossing` is accurate to a fraction of the last step.
    """
    out = []
    for _ in range(settings.refine):
        middle = 0.5 * (inside + outside)
        nllh, status, message, full_x = reoptimise(middle, start)
        out.append((middle, nllh, status, message, full_x))
        if status != Status.OK:
            break
        if nllh - best_nllh > settings.threshold:
            outside = middle
        else:
            inside, start = middle, full_x
    return out


def _crossing(values: np.ndarray, delta: np.ndarray, best: float, threshold: float, side: int) -> float:
    """Where the profile crosses ``threshold`` on one side of ``best`` (linear interpolation), or nan."""
    order = np.argsort(side * (values - best))
    v, d = values[order], delta[order]
    keep = side * (v - best) >= 0
    v, d = v[keep], d[keep]
    for k in range(1, len(v)):
        if d[k] > threshold and math.isfinite(d[k]):
            if d[k - 1] > threshold:  # the crossing lies between the best fit and the first point past it
                return float(v[k - 1])
            frac = (threshold - d[k - 1]) / (d[k] - d[k - 1])
            return float(v[k - 1] + frac * (v[k] - v[k - 1]))
    return math.nan


def _profile_task(payload: dict) -> Profile | str:
    """Worker: one parameter's profile (module level for process pools and Dask); an error becomes a message."""
    try:
        return profile_parameter(payload["yaml"], payload["x_best"], payload["parameter"], payload["settings"])
    except Exception as exc:  # noqa: BLE001 - one failed profile never ends the others; the caller reports it
        return f"{payload['parameter']}: {type(exc).__name__}: {exc}"


def profile_parameters(
    fit: FitResult,
    parameters: Sequence[str],
    *,
    executor: Executor | None = None,
    settings: ProfileSettings | None = None,
) -> tuple[tuple[Profile, ...], tuple[str, ...]]:
    """Profiles of ``parameters`` from a fit's best start, one task per parameter.

    Returns
    -------
    (profiles, errors)
        The profiles that ran, and a message per parameter whose profile raised.

    Parameters
    ----------
    fit
        A finished :func:`fit_petab` result.
    parameters
        Ids of estimated parameters to profile.
    executor
        Runs the profiles (one task each); ``None`` runs them here, one after another.
    settings
        Step control; ``None`` for :class:`ProfileSettings` defaults.

    Raises
    ------
    InputError
        A name is not an estimated parameter, or the fit has no successful start.
    """
    unknown = [p for p in parameters if p not in fit.ids]
    if unknown:
        raise InputError(f"cannot profile {', '.join(unknown)}: not estimated; estimated: {', '.join(fit.ids)}.")
    if not fit.best.ok:
        raise InputError("cannot profile: no start of the fit succeeded.")
    settings = settings or ProfileSettings(fit=replace(fit.settings, max_nfev=min(fit.settings.max_nfev, 200)))
    executor = executor or SerialExecutor()
    payloads = [{"yaml": str(fit.source), "x_best": list(fit.best.x), "parameter": p, "settings": settings}
                for p in parameters]
    results = executor.map(_profile_task, payloads)
    return (tuple(r for r in results if isinstance(r, Profile)), tuple(r for r in results if isinstance(r, str)))
