"""Time courses: pre-equilibrate the untreated condition, then add the drug at t = 0."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..errors import InputError, SimulationError
from ..model import CompiledModel, Condition
from ..status import Status
from ..units import MAX_TIME_POINTS
from ._diagnose import _explain_failure, _plain_reason
from ._roadrunner import _quietly, _Runner, _runner, _select, _split_condition
from ._steady import _solve
from ._types import SolverOptions, Trajectory

#: First output of the refined retry grid, as a fraction of the time span (see time_courses)
_RETRY_FIRST_STEP = 1e-6

#: A segment that ends at a piecewise switch stops this far (relative) before it (see _simulate)
_BREAK_GAP = 1e-12


def time_course(
    model: CompiledModel,
    times: Sequence[float] | np.ndarray,
    condition: Condition | Mapping[str, float] | None = None,
    *,
    pre_equilibrate: bool = True,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = True,
) -> Trajectory:
    """Simulate ``condition`` at ``times`` (model time units, increasing, ``times[0]`` is when the drug is added).

    With ``pre_equilibrate`` (default) the cell starts at the steady state of the untreated condition
    (same cell line and values, every dose 0), and the drug is added at ``times[0]``: the protocol of a
    western-blot time course. If the untreated model has no steady state (it oscillates) there is nothing to
    start from: the run starts from the initial conditions, its status is ``not_pre_equilibrated`` (never
    ``ok``) and the message says why; ``throw=True`` raises instead. Without it the run starts from the
    model's initial conditions. A model's ``pre_equilibration`` metadata (settings such as a switched-off
    cell population, which has no steady state while it grows) apply during pre-equilibration only.

    Parameters
    ----------
    model
        Compiled model.
    times
        Output times in model time units, strictly increasing, at least 2; ``times[0]`` is the drug's addition.
    condition
        A :class:`~simulator.model.Condition` or a mapping of ids to values; default the model's own values.
    pre_equilibrate
        Start from the untreated steady state (default) instead of the initial conditions.
    select
        Ids to report; default the model's observables.
    options
        Solver settings.
    throw
        Raise :class:`~simulator.errors.SimulationError` unless the status is ``ok`` (default).

    Returns
    -------
    Trajectory
        Values of the selected ids at ``times``, the status and its message, and whether the run was
        pre-equilibrated.
    """
    return time_courses(
        model, times, [condition], pre_equilibrate=pre_equilibrate, select=select, options=options, throw=throw
    )[0]


@_quietly
def time_courses(
    model: CompiledModel,
    times: Sequence[float] | np.ndarray,
    conditions: Iterable[Condition | Mapping[str, float] | None],
    *,
    pre_equilibrate: bool = True,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = False,
) -> list[Trajectory]:
    """Time courses of many conditions; the untreated steady state is solved once per distinct untreated condition.

    As :func:`time_course`, but ``throw`` defaults to False: a failed or not pre-equilibrated run is a record
    with that status.

    Parameters
    ----------
    model
        Compiled model.
    times
        Output times in model time units, strictly increasing, at least 2 (shared by every condition).
    conditions
        Conditions or mappings of ids to values (``None``: the model's own values).
    pre_equilibrate
        Start each run from its untreated steady state (default).
    select
        Ids to report; default the model's observables.
    options
        Solver settings.
    throw
        Raise on the first run that is not ``ok`` (default False).

    Returns
    -------
    list of Trajectory
        One per condition, in order.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise InputError("times must be a 1-D array of at least 2 finite, strictly increasing values.")
    options = options or SolverOptions()
    ids = _select(model, select)
    if pre_equilibrate and model.events:
        # the start state is a copy of the steady state's species and rate-rule variables: what an event changed on
        # the way there (a parameter: X' = k - X with "at time > 5: k = 3" started at X = 3 with k = 1, status ok)
        # and the events' trigger state are not carried, and every event fires again from t = 0
        raise InputError(
            f"model {model.name!r} has event(s) {', '.join(model.events)}: a pre-equilibrated time course would start "
            "from a steady state without what the events changed on the way there, and fire them again; simulate "
            "from the initial conditions (pre_equilibrate=False; mekisim simulate --no-pre-equilibrate)")
    if times.size > MAX_TIME_POINTS:
        raise InputError(f"{times.size:,} time points exceed the limit of {MAX_TIME_POINTS:,} per time course "
                         f"({times.size * (len(ids) + 1) * 8 / 1e9:.2g} GB per copy of the table as float64); "
                         "use fewer points: a time course is smooth between them.")
    runner = _runner(model)  # moiety-reduced when roadrunner allows it: Newton's Jacobian is regular
    runner.configure(options, ids)
    start_states: dict[bytes, tuple[np.ndarray | None, str]] = {}
    out = []
    for condition in conditions:
        treated, untreated = _split_condition(condition)
        params, init = runner.vectors(treated)
        start, note = (_start_state(runner, model, untreated, ids, options, start_states) if pre_equilibrate
                       else (None, ""))
        traj = _run(runner, times, ids, params, init, start, note)
        if traj.status == Status.FAILED and runner.moieties:
            # the moiety-reduced system failed where the full one integrates (Isensee 2018 right after a
            # forskolin switch: CV_ERR_FAILURE); the full runner is built only for such a run, so every run that
            # succeeds on the reduced system keeps its numbers
            full = _runner(model, moieties=False)
            full.configure(options, ids)
            again = _run(full, times, ids, params, init, start, note)
            if again.ok:
                traj = Trajectory(again.time, again.ids, again.values, again.status,
                                  "; ".join(x for x in (again.message, "integrated without conserved-moiety "
                                                        f"reduction after it failed ({_plain_reason(traj.message)})")
                                            if x),
                                  pre_equilibrated=again.pre_equilibrated)
        if traj.ok and pre_equilibrate and start is None:
            traj = Trajectory(traj.time, traj.ids, traj.values, Status.NOT_PRE_EQUILIBRATED, traj.message,
                              pre_equilibrated=False)
        if throw and traj.status == Status.FAILED:
            raise SimulationError(f"time course of model {model.name!r} failed: {traj.message}")
        if throw and traj.status == Status.NOT_PRE_EQUILIBRATED:
            raise SimulationError(f"time course of model {model.name!r} could not be pre-equilibrated: "
                                  f"{traj.message}; pass pre_equilibrate=False to start from the initial conditions")
        out.append(traj)
    return out


def _run(runner: _Runner, times: np.ndarray, ids: tuple[str, ...], params: np.ndarray, init: np.ndarray,
         start: np.ndarray | None, note: str) -> Trajectory:
    """Integrate one condition from ``start`` (or the initial conditions), retrying once on a refined grid."""
    runner.load(params, init, start=start)  # same totals as the untreated state: cell line values are shared
    traj = _integrate(runner, times, ids, note, pre_equilibrated=start is not None)
    if traj.status == Status.FAILED:
        traj = _retry_on_a_refined_grid(runner, params, init, start, times, ids, note, traj)
    return traj


def _start_state(runner: _Runner, model: CompiledModel, untreated: Mapping[str, float], ids: tuple[str, ...],
                 options: SolverOptions, cache: dict[bytes, tuple[np.ndarray | None, str]]
                 ) -> tuple[np.ndarray | None, str]:
    """The untreated steady state to start from (solved once per distinct untreated condition), or None and why."""
    # the model's own pre-equilibration settings (e.g. Model B's population switched off) apply here only
    u_params, u_init = runner.vectors({**untreated, **model.pre_equilibration})
    key = u_params.tobytes() + u_init.tobytes()
    if key not in cache:
        runner.load(u_params, u_init)
        record = _solve(runner, ids, options)
        cache[key] = (
            (runner.state(), "") if record.ok
            else (None, f"started from the initial conditions: the untreated condition has no steady state "
                        f"to pre-equilibrate to ({record.status}: {record.message})")
        )
    return cache[key]


def _retry_on_a_refined_grid(runner: _Runner, params: np.ndarray, init: np.ndarray, start: np.ndarray | None,
                             times: np.ndarray, ids: tuple[str, ...], note: str, failed: Trajectory) -> Trajectory:
    """Integrate again from the same start on a grid refined towards t0; keep the requested rows.

    At tight tolerances CVODE's error test can fail right after t0 when a rate law has a kink at the start
    state (Model B's max(0, 1 - ERK), ERK = 1 before the drug) and the first output time is far away; with
    output times close to t0 it passes.
    """
    def restart() -> None:
        runner.load(params, init, start=start)

    restart()
    span = float(times[-1] - times[0])
    grid = np.unique(np.concatenate([times, times[0] + span * np.geomspace(_RETRY_FIRST_STEP, 1.0, 40)]))
    retry = _integrate(runner, grid, ids, note, pre_equilibrated=start is not None, restart=restart)
    if retry.ok:
        keep = np.isin(grid, times)
        return Trajectory(times.copy(), ids, retry.values[keep], Status.OK,
                          "; ".join(x for x in (note, f"integrated on a grid refined towards t0 after the "
                                                      f"integrator failed ({_plain_reason(failed.message)})") if x),
                          pre_equilibrated=retry.pre_equilibrated)
    return Trajectory(times.copy(), ids, np.full((times.size, len(ids)), np.nan), Status.FAILED,
                      retry.message, pre_equilibrated=retry.pre_equilibrated)


def _integrate(
    runner: _Runner, times: np.ndarray, ids: tuple[str, ...], note: str, *, pre_equilibrated: bool, restart=None
) -> Trajectory:
    """Integrate from the current state over ``times``; a failure is a Status.FAILED record.

    With ``restart`` (puts the runner back at the start state) the failure is explained in the model's terms
    (:func:`_explain_failure`, a few extra short runs); without it the message is the integrator's own.
    """
    try:
        result = _simulate(runner, times)
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "integrator error"
        if restart is not None:
            failed_at = float(runner.m.getTime())
            restart()
            message = _explain_failure(runner, float(times[0]), failed_at, message)
            if note:  # the only note: pre-equilibration skipped (its own message would repeat this one)
                message += " (the run started from the initial conditions: the untreated condition has no steady state)"
        return Trajectory(times, ids, np.full((times.size, len(ids)), np.nan), Status.FAILED, message,
                          pre_equilibrated=pre_equilibrated)
    return Trajectory(result[:, 0].copy(), ids, result[:, 1:].copy(), Status.OK, note,
                      pre_equilibrated=pre_equilibrated)


def _simulate(runner: _Runner, times: np.ndarray) -> np.ndarray:
    """Roadrunner's table at ``times`` (time column first), restarting the integrator at the model's breakpoints.

    Each ``simulate`` call starts CVODE afresh, so a segment ends exactly at a switch of a ``piecewise`` input
    and the next starts from the state reached there (the solution is continuous; its derivative jumps).
    """
    breaks = runner.breakpoints(float(times[0]), float(times[-1])) if runner._breakpoints else []
    if not breaks:
        return np.asarray(runner.rr.simulate(times=times.tolist()), dtype=float)
    edges = [float(times[0]), *breaks, float(times[-1])]
    rows: dict[float, np.ndarray] = {}
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        inner = times[(times > a) & (times < b)]
        last = b == edges[-1]
        # a segment that ends at a switch stops _BREAK_GAP before it: CVODE's last step, landing exactly on the
        # switch, sees the new branch of the piecewise there and its error test failed until max_steps (Isensee
        # 2018, Sp8-Br-cAMPS-AM added at 10 min: CV_TOO_MUCH_WORK "at t = 10"); the next segment starts at the
        # switch from that state (an error of the gap times the rate, ~1e-12 relative)
        end = b if last else b - _BREAK_GAP * max(1.0, abs(b))
        segment = np.unique(np.concatenate([[a], inner[inner < end], [end]]))
        table = np.asarray(runner.rr.simulate(times=segment.tolist()), dtype=float)
        for t, row in zip(segment.tolist(), table, strict=True):
            rows.setdefault(t, row)
        if not last:
            rows.setdefault(b, np.concatenate([[b], table[-1, 1:]]))  # the state is continuous at the switch
            for t in inner[inner >= end].tolist():  # an output time inside the gap: the state reached at its end
                rows.setdefault(t, np.concatenate([[t], table[-1, 1:]]))
    return np.array([rows[t] for t in times.tolist()])
