"""Why an integration failed, in the model's terms (what grows without bound, which rate law breaks)."""

from __future__ import annotations

import math

import numpy as np

from ._roadrunner import _Runner

#: CVODE's failure flags in words (the rest of its message is solver internals)
_CVODE_REASONS = {
    "CV_TOO_MUCH_WORK": "the integrator needed more than max_steps steps between two output times (very fast or "
                        "stiff dynamics; raise SolverOptions.max_steps or add output times)",
    "CV_CONV_FAILURE": "the integrator's step size shrank to nothing (a blow-up, a discontinuity or a singular "
                       "rate law)",
    "CV_ERR_FAILURE": "the integrator's error test failed repeatedly (a discontinuity or a kink in a rate law)",
    "CV_RHSFUNC_FAIL": "a rate law could not be evaluated (e.g. a division by zero or a negative base to a "
                       "fractional power)",
    "CV_TOO_CLOSE": "the start and end times are too close",
}


def _plain_reason(raw: str) -> str:
    """An integrator message in words: the CVODE flag translated, or the first line of the message."""
    for flag, words in _CVODE_REASONS.items():
        if flag in raw:
            return words
    first = raw.strip().splitlines()[0] if raw.strip() else "integrator error"
    return first.split("; In ")[0]  # roadrunner appends the C++ function it failed in


def _time_unit(runner: _Runner) -> str:
    return runner.model.time_unit or "model time units"


def _explain_failure(runner: _Runner, t0: float, failed_at: float, raw: str) -> str:
    """Why an integration from the current state (at ``t0``) stopped at ``failed_at``, in the model's terms.

    Re-integrates to 90, 99 and 99.9 % of the way to the failure and looks at the floating species there. A
    variable that is already large and still grows tenfold over that last stretch is blowing up: "X grows
    without bound near t = 1" is what the user can act on (a rate law that produces without limit), where the
    integrator only reports that its step size shrank to nothing. Otherwise: the integrator's reason in words
    and the fastest-changing variable at the last point reached.
    """
    reason = _plain_reason(raw)
    unit = _time_unit(runner)
    span = failed_at - t0
    names = list(runner.m.getFloatingSpeciesIds())
    with np.errstate(invalid="ignore"):
        rates = np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float)
    bad = [n for n, r in zip(names, rates, strict=False) if not math.isfinite(r)]
    if bad:
        return (f"the rate of change of {', '.join(bad[:5])} is not a number at the start (t = {t0:.4g} {unit}): a "
                "rate law divides by zero or takes an invalid power or log there; check the rate laws of "
                f"{'that species' if len(bad) == 1 else 'those species'}")
    if not (math.isfinite(span) and span > 0):
        return f"the simulation failed at its start (t = {t0:.4g} {unit}): {reason}"
    start = np.abs(np.asarray(runner.m.getFloatingSpeciesConcentrations(), dtype=float))
    scale = max(1.0, float(start.max(initial=0.0)))
    probes, t = [], t0
    for fraction in (0.9, 0.99, 0.999):
        end = t0 + fraction * span
        try:
            runner.rr.simulate(t, end, 2)
        except RuntimeError:
            break
        probes.append((end, np.asarray(runner.m.getFloatingSpeciesConcentrations(), dtype=float)))
        t = end
    if not probes or not names:
        return f"the simulation stopped near t = {failed_at:.4g} {unit}: {reason}"
    t_last, last = probes[-1]
    first = probes[0][1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        growth = np.where(np.isfinite(last), np.abs(last) / np.maximum(np.abs(first), 1e-300), np.inf)
    j = int(np.nanargmax(np.where(np.abs(last) > 10 * scale, growth, 0.0))) if np.any(np.abs(last) > 10 * scale) \
        else -1
    if j >= 0 and (growth[j] > 10 or not np.isfinite(last[j])):
        return (f"{names[j]} grows without bound near t = {failed_at:.4g} {unit} ({names[j]} = {last[j]:.3g} at "
                f"t = {t_last:.4g}, from {start[j]:.3g} at t = {t0:.4g}); check the rate laws that produce it for "
                "growth without limit (a positive feedback without saturation, a missing degradation)")
    rates = np.abs(np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float))
    k = int(np.nanargmax(np.where(np.isfinite(rates), rates, np.inf))) if rates.size else 0
    per = runner.model.time_unit or "model time unit"
    return (f"the simulation stopped near t = {failed_at:.4g} {unit}: {reason}; fastest-changing variable there: "
            f"{names[k]} ({names[k]} = {last[k]:.3g}, rate {rates[k]:.3g} per {per})")
