"""Steady states: Newton from the initial conditions, verified; else presimulation or a detected oscillation."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..errors import SimulationError
from ..model import CompiledModel, Condition
from ..status import Status
from ._diagnose import _explain_failure, _time_unit
from ._roadrunner import _quietly, _rates_small, _Runner, _runner, _select, _split_condition, _verify
from ._types import SolverOptions, SteadyState


def steady_state(
    model: CompiledModel,
    condition: Condition | Mapping[str, float] | None = None,
    *,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = True,
) -> SteadyState:
    """Steady state of ``model`` under ``condition`` (drug present throughout).

    Parameters
    ----------
    model
        Compiled model.
    condition
        A :class:`~simulator.model.Condition` (cell line + doses) or a mapping of ids to values.
    select
        Ids to report; default the model's observables.
    options
        Solver settings.
    throw
        Raise :class:`SimulationError` on failure (default). With ``False`` the record carries
        ``status="failed"``; an oscillation is never an error, it is ``status="oscillating"``.

    Returns
    -------
    SteadyState
        The values of the selected ids with the status (``ok``, ``oscillating`` with period and range, or
        ``failed``) and its message.
    """
    return steady_states(model, [condition], select=select, options=options, throw=throw)[0]


@_quietly
def steady_states(
    model: CompiledModel,
    conditions: Iterable[Condition | Mapping[str, float] | None],
    *,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = False,
) -> list[SteadyState]:
    """Steady states of many conditions on one model, one record each (failures do not stop the batch).

    Parameters
    ----------
    model
        Compiled model.
    conditions
        Conditions or mappings of ids to values (``None``: the model's own values).
    select
        Ids to report; default the model's observables.
    options
        Solver settings.
    throw
        Raise on the first failure instead of recording it (default False).

    Returns
    -------
    list of SteadyState
        One record per condition, in order.
    """
    options = options or SolverOptions()
    ids = _select(model, select)
    if model.no_steady_state:  # declared in its metadata: searching would only fail slowly (seconds per call)
        message = (f"model {model.name!r} has no steady state ({model.no_steady_state}); simulate a time course "
                   "instead")
        if throw:
            raise SimulationError(message)
        return [_failed(ids, message) for _ in conditions]
    runner = _runner(model)
    runner.configure(options, ids)
    out = []
    # The initial concentrations are set only when they change, and only after a clean solve (first Newton
    # solver, verified): that path is load, reset, KINSOL, the checks, which leave them as set (checked in
    # tests/test_engine.py). Any other path (NLEQ2, presimulation, probes; roadrunner's reset() after a
    # failed NLEQ solve restored the SBML's own value once, see _Runner.reload) sets them again.
    clean_init = None
    for condition in conditions:
        treated, _ = _split_condition(condition)
        params, init = runner.vectors(treated)
        init_key = init.tobytes()
        runner.load(params, init, init_set=init_key == clean_init)
        record = _solve(runner, ids, options)
        clean_init = init_key if record.method == "newton" and runner.first_solver_ok else None
        if throw and record.status == Status.FAILED:
            raise SimulationError(f"steady state of model {model.name!r} failed: {record.message}")
        out.append(record)
    return out


def _solve(runner: _Runner, ids: tuple[str, ...], options: SolverOptions) -> SteadyState:
    """Newton from the initial conditions; then an oscillation check or presimulation + Newton.

    An unstable root means the attractor is elsewhere: typically a limit cycle around it (Kholodenko
    2000), so its Jacobian's leading complex pair sets the window of the oscillation probe. Otherwise the
    model is integrated over growing horizons with Newton retried each time; if it never comes to rest,
    the probe decides between "oscillating" and "failed".
    """
    rr = runner.rr
    newton_error = runner.newton(options, from_initial=True)  # every caller has just called runner.load
    if newton_error is None:
        return SteadyState(ids, runner.selected(), Status.OK, method="newton")

    if newton_error.startswith("unstable"):
        guess = _period_guess(runner)
        runner.reload()
        found = _probe_oscillation(runner, ids, options, 0.0, guess)
        if found is not None:
            return _oscillating(ids, *found)

    runner.reload()
    t, stalled = 0.0, ""
    for horizon in options.horizons():
        try:
            rr.simulate(t, horizon, 2)
        except RuntimeError as exc:
            failed_at = float(runner.m.getTime())
            runner.reload()
            stalled = _explain_failure(runner, 0.0, failed_at, str(exc))
            runner.reload()
            t = 0.0
            break
        t = horizon
        if _rates_small(runner, options, factor=1e3):
            before = runner.state()
            verdict = runner.newton(options)
            if verdict is not None:
                runner.set_state(before)  # continue from the trajectory, not from a bad root
                if _verify(runner, options) is None:  # Newton cannot polish it (e.g. singular without
                    _polish(runner, options)  # moiety analysis), but the integrated state is verified at rest
                    return SteadyState(
                        ids, runner.selected(), Status.OK,
                        message=f"Newton failed ({newton_error}); steady state reached by integration to "
                        f"t={horizon:g} and verified",
                        method="presimulation",
                    )
                continue
            if verdict is None:
                return SteadyState(
                    ids, runner.selected(), Status.OK,
                    message=f"Newton from the initial conditions failed ({newton_error}); "
                    f"converged after presimulation to t={horizon:g}",
                    method="presimulation+newton",
                )
    found = _probe_oscillation(runner, ids, options, t, _period_guess(runner))
    if found is not None:
        return _oscillating(ids, *found)
    if stalled:
        return _failed(ids, f"no steady state: {stalled} (simulated from the initial conditions)")
    return _failed(ids, f"no steady state found: not at rest after simulating to t = {t:g} "
                        f"{_time_unit(runner)}, and Newton failed ({newton_error})")


def _polish(runner: _Runner, options: SolverOptions, steps: int = 3) -> None:
    """Newton steps on an integrated steady state whose Jacobian is singular, in the directions that are not conserved.

    Why: roadrunner's Newton solvers refuse a singular Jacobian, which a conservation law the stoichiometry does not
    show makes (A <-> B with production and loss switched off by a condition: no moiety for roadrunner to
    reduce), so such a steady state was the integrator's, 2-6e-12 relative off the exact A* = T kr/(kf + kr) at
    rtol 1e-6..1e-8. Each step solves ``J dx = -f`` by least squares with every direction of J's left null space
    held (``L dx = 0``: the conserved totals the integration kept), and is kept only if the state still passes
    :func:`_verify` with smaller rates. Species only: a model with rate-rule variables or rule-defined species, or
    a moiety-reduced one, is left as integrated.
    """
    n = runner.m.getNumFloatingSpecies()
    # a moiety-reduced model reports the rates of its independent species only: its laws are held already
    if runner.rate_ids or len(runner.state_idx) != n or len(runner.m.getFloatingSpeciesConcentrationRates()) != n:
        return
    idx = runner.state_idx

    def rates(state: np.ndarray) -> np.ndarray:
        runner.set_state(state)
        return np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float)[idx]

    for _ in range(steps):
        x = runner.species()
        f = rates(x)
        if not np.abs(f).max(initial=0.0) > 0:
            return
        # central differences (roadrunner's getFullJacobian raised on a moiety-analysed model): a Jacobian off by
        # ~1e-9 relative still shrinks the residual ~1e9-fold per step
        h = 1e-6 * np.maximum(np.abs(x), max(1e-300, float(np.abs(x).max())))
        jac = np.column_stack([(rates(x + h[j] * e) - rates(x - h[j] * e)) / (2 * h[j])
                               for j, e in enumerate(np.eye(x.size))])
        runner.set_state(x)
        if not np.isfinite(jac).all():
            return
        u, sv, _ = np.linalg.svd(jac)
        held = u[:, sv <= 1e-10 * sv[0]].T if sv.size and sv[0] > 0 else np.zeros((0, x.size))
        step = np.linalg.lstsq(np.vstack([jac, held]), np.concatenate([-f, np.zeros(held.shape[0])]),
                               rcond=None)[0]
        runner.set_state(x + step)
        after = np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float)[idx]
        if not np.abs(after).max() < np.abs(f).max() or _verify(runner, options) is not None:
            runner.set_state(x)
            return


def _oscillating(ids: tuple[str, ...], period: float, low: np.ndarray, high: np.ndarray, mean: np.ndarray,
                 cycles: int) -> SteadyState:
    return SteadyState(
        ids, np.full(len(ids), np.nan), Status.OSCILLATING,
        message=f"no steady state: sustained oscillation with period {period:.6g} model time units",
        method="simulation", period=period, low=low, high=high, mean=mean, cycles=cycles,
    )


def _period_guess(runner: _Runner) -> float | None:
    """2*pi/omega of the leading complex eigenvalue pair of the Jacobian at the current state, if any."""
    try:
        eig = np.linalg.eigvals(np.asarray(runner.rr.getReducedJacobian(), dtype=float))
    except (RuntimeError, np.linalg.LinAlgError, ValueError):
        return None
    complex_eig = eig[np.abs(eig.imag) > 1e-12]
    if not complex_eig.size:
        return None
    lead = complex_eig[np.argmax(complex_eig.real)]
    return float(2 * math.pi / abs(lead.imag))


def _failed(ids: tuple[str, ...], message: str) -> SteadyState:
    return SteadyState(ids, np.full(len(ids), np.nan), Status.FAILED, message=message)


def _probe_oscillation(
    runner: _Runner, ids: tuple[str, ...], options: SolverOptions, t_start: float, period_guess: float | None
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Detect a sustained oscillation by simulating on from the current state.

    Windows of 40 guessed periods (``period_guess`` from the Jacobian's leading complex pair), 8000 points
    each, are tried at the guess and at 1/30 of it: a guess taken far from the fixed point can overshoot
    the real period many-fold (32752 s instead of 1300 s for Kholodenko 2000), which would leave too few
    samples per cycle. Without a guess the window is ``max(t_start, 1)`` model time units.

    Returns (period, low and high over the last cycle, time-average over the last whole cycles, their
    number) per selected id, or None.
    """
    base = 40 * period_guess if period_guess else max(t_start, 1.0)
    start = runner.state()
    for window in (base, base / 30):
        runner.set_state(start)
        try:
            result = np.asarray(runner.rr.simulate(t_start, t_start + window, 8001))
        except RuntimeError:
            continue
        time, values = result[:, 0], result[:, 1:]
        period = _period(time, values, floor=100 * options.atol)
        if period is not None:
            last = time >= time[-1] - period
            mean, cycles = _cycle_mean(time, values, period)
            return period, values[last].min(axis=0), values[last].max(axis=0), mean, cycles
    return None


def _cycle_mean(time: np.ndarray, values: np.ndarray, period: float) -> tuple[np.ndarray, int]:
    """Time-average of each column over the whole periods that fit in the second half of the trajectory.

    The second half is where :func:`_period` found the cycle sustained; averaging over a whole number of
    periods makes the mean independent of the phase the window ends at. Trapezoid rule on the samples,
    the window's first point interpolated linearly.
    """
    half = time[0] + 0.5 * (time[-1] - time[0])
    cycles = max(1, int((time[-1] - half) // period))
    start = max(time[0], time[-1] - cycles * period)
    keep = time > start
    t = np.concatenate([[start], time[keep]])
    first = np.array([np.interp(start, time, values[:, j]) for j in range(values.shape[1])])
    y = np.vstack([first[None, :], values[keep]])
    return np.trapezoid(y, t, axis=0) / (t[-1] - t[0]), cycles


def _period(time: np.ndarray, values: np.ndarray, floor: float = 0.0) -> float | None:
    """Period of a sustained oscillation in the second half of a trajectory, or None.

    Sustained means: at least 4 peaks of the most variable column with regular intervals (relative spread
    < 5 %), non-decaying heights (last/first peak-to-trough > 0.9) and a swing > 1e-3 of its level and
    > ``floor`` (so integrator noise on values near zero is not mistaken for a cycle).
    """
    from scipy.signal import find_peaks

    half = time >= time[0] + 0.5 * (time[-1] - time[0])
    t, y = time[half], values[half]
    if y.shape[0] < 10 or y.shape[1] == 0:
        return None
    swing = y.max(axis=0) - y.min(axis=0)
    level = np.maximum(np.abs(y).max(axis=0), 1e-300)
    col = int(np.argmax(np.where(swing > floor, swing / level, 0.0)))
    if swing[col] <= floor or swing[col] / level[col] < 1e-3:
        return None
    series = y[:, col]
    peaks, _ = find_peaks(series, prominence=0.25 * swing[col])
    troughs, _ = find_peaks(-series, prominence=0.25 * swing[col])
    if len(peaks) < 4 or len(troughs) < 3:
        return None
    intervals = np.diff(t[peaks])
    if np.std(intervals) > 0.05 * np.mean(intervals):
        return None
    first = series[peaks[1]] - series[troughs[0]]
    last = series[peaks[-1]] - series[troughs[-1]]
    if first <= 0 or last / first < 0.9:
        return None
    return float(np.mean(intervals[1:] if len(intervals) > 2 else intervals))
