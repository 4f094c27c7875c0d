"""Simulating a PEtab problem on the mekisim engine, and its exact negative log-likelihood."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd
import petab.v1 as petab_v1

from ..engine import SolverOptions, Trajectory, steady_states, time_courses
from ..errors import InputError, SimulationError
from ..model import Condition
from ..status import Status
from ._petab import _TIME, PetabProblem, _Formula, _Group, _Override, _placeholder_index, _Plan, _resolve


def simulate_petab(
    problem: PetabProblem,
    parameters: Mapping[str, float] | None = None,
    *,
    options: SolverOptions | None = None,
    throw: bool = True,
) -> pd.DataFrame:
    """Simulate every measurement of the problem: a PEtab simulation table.

    Parameters
    ----------
    problem
        From :func:`load_petab`.
    parameters
        Parameter-table id -> value on linear scale, overriding ``nominalValue``.
    options
        Solver settings; the engine's defaults when ``None``. Benchmark values need tight tolerances
        (rtol <= 1e-8), see REFERENCE.md.
    throw
        Raise :class:`SimulationError` when an integration or a preequilibration fails (default). With
        ``False`` the rows of that experiment get ``NaN`` (an optimizer treats them as infeasible).

    Returns
    -------
    pandas.DataFrame
        The measurement table, row for row, with ``measurement`` replaced by ``simulation`` (linear
        scale; transformations belong to the likelihood).
    """
    values = problem.parameter_values(parameters)
    solutions = solve_experiments(problem, values, options=options)
    if throw:
        for exp, solution in zip(problem._plan.experiments, solutions, strict=True):
            if isinstance(solution, str):
                label = f"{exp.preeq_id} -> {exp.sim_id}" if exp.preeq_id else exp.sim_id
                raise SimulationError(f"PEtab problem {str(problem.source)!r}, condition {label}: {solution}")
    table = problem.petab.measurement_df.reset_index(drop=True).rename(columns={"measurement": "simulation"})
    table["simulation"] = observe(problem, solutions, values)
    return table


def solve_experiments(
    problem: PetabProblem, values: Mapping[str, float], *, options: SolverOptions | None = None
) -> tuple[Trajectory | str, ...]:
    """Solve the ODEs of every experiment: the expensive half of :func:`simulate_petab`.

    Split from :func:`observe` so an optimizer can re-evaluate observable formulas (scales, offsets) at new
    parameter values without solving again, when only non-model parameters changed.

    Parameters
    ----------
    problem
        From :func:`load_petab`.
    values
        Linear-scale value of every parameter-table id (:meth:`PetabProblem.parameter_values`).
    options
        Solver settings; the engine's defaults when ``None``.

    Returns
    -------
    tuple
        Per experiment (in plan order), the :class:`~simulator.engine.Trajectory` of the selected model
        ids, or the failure message (``str``) when the integration or the preequilibration failed. An
        experiment with steady-state measurements (``time = inf``) has one more row, at time ``inf``: the
        steady state of its simulation condition from the initial conditions (PEtab v1).
    """
    plan = problem._plan
    model_values = {pid: values[pid] for pid in plan.model_parameter_ids}
    out: list[Trajectory | str] = []
    for exp in plan.experiments:
        treated = model_values | _condition_values(plan, exp.sim_id, values)
        untreated = (model_values | _condition_values(plan, exp.preeq_id, values)) if exp.preeq_id else treated
        condition = Condition(
            cell_line=None,
            doses=MappingProxyType({}),
            values=MappingProxyType(treated),
            untreated=MappingProxyType(untreated),
        )
        if exp.timed:
            traj = time_courses(
                problem.model, exp.times, [condition], pre_equilibrate=exp.preeq_id is not None,
                select=plan.select, options=options, throw=False,
            )[0]
            # a failed preequilibration is not ok (status not_pre_equilibrated): PEtab does not start elsewhere
            if not traj.ok:
                out.append(traj.message or "failed")
                continue
        else:
            traj = Trajectory(exp.times, plan.select, np.full((exp.times.size, len(plan.select)), np.nan), Status.OK)
        if exp.steady:
            steady = steady_states(problem.model, [condition], select=plan.select, options=options)[0]
            if not steady.ok:  # an oscillating condition has no steady state to compare with either
                out.append(f"no steady state for the time = inf measurements ({steady.status}: "
                           f"{steady.message or 'failed'})")
                continue
            traj = Trajectory(np.append(traj.time, math.inf), traj.ids, np.vstack([traj.values, steady.values]),
                              traj.status, traj.message, pre_equilibrated=traj.pre_equilibrated)
        out.append(traj)
    return tuple(out)


def observe(problem: PetabProblem, solutions: Sequence[Trajectory | str], values: Mapping[str, float]) -> np.ndarray:
    """Simulated value of every measurement row (linear scale), from :func:`solve_experiments`' output.

    Rows of a failed experiment are ``NaN``. ``values`` are linear-scale parameter-table values; they enter
    the observable formulas and the ``observableParameters`` overrides.
    """
    plan = problem._plan
    simulation = np.full(plan.measurement.size, np.nan)
    for exp, traj in zip(plan.experiments, solutions, strict=True):
        if isinstance(traj, str):
            continue
        for group in exp.groups:
            args: dict[str, np.ndarray | float] = {s: traj[s][group.time_index] for s in plan.select}
            args[_TIME] = traj.time[group.time_index]
            simulation[group.rows] = _evaluate(
                plan.observables[group.observable_id], group, "observableParameter",
                plan.observable_overrides, values, args,
            )
    return simulation


def noise_sigma(problem: PetabProblem, simulation: np.ndarray, values: Mapping[str, float],
                solutions: Sequence[Trajectory | str] | None = None) -> np.ndarray:
    """The noise parameter sigma of every measurement row (normal: standard deviation; laplace: scale).

    ``simulation`` is the row-aligned simulated values (:func:`observe`), needed by noise formulas that use
    the observable; ``values`` the linear-scale parameter-table values; ``solutions`` (:func:`solve_experiments`)
    is needed by noise formulas that read model states or time (:func:`has_state_noise`).
    """
    plan = problem._plan
    sigma = np.full(plan.measurement.size, np.nan)
    states = _row_states(problem, solutions) if has_state_noise(problem) else {}
    for obs_id, rows in plan.rows_by_observable.items():
        group = _Group(obs_id, rows, np.zeros(rows.size, dtype=np.intp))
        known = {obs_id: simulation[rows], **{s: states[s][rows] for s in plan.noise_states[obs_id]}}
        sigma[rows] = _evaluate(plan.noise[obs_id], group, "noiseParameter", plan.noise_overrides, values, known)
    return sigma


def has_state_noise(problem: PetabProblem) -> bool:
    """True when a noise formula reads a model state or time (then sigma needs the ODE solutions)."""
    return any(problem._plan.noise_states.values())


def _row_states(problem: PetabProblem, solutions: Sequence[Trajectory | str] | None) -> dict[str, np.ndarray]:
    """Per model id a noise formula reads (and time): its simulated value at every measurement row."""
    if solutions is None:
        raise InputError(f"PEtab problem {str(problem.source)!r} has noise formulas that read model states "
                         f"({_state_noise_text(problem)}); sigma needs the ODE solutions, not a simulation table "
                         "alone.")
    plan = problem._plan
    ids = sorted({s for states in plan.noise_states.values() for s in states})
    out = {s: np.full(plan.measurement.size, np.nan) for s in ids}
    for exp, traj in zip(plan.experiments, solutions, strict=True):
        if isinstance(traj, str):
            continue
        for group in exp.groups:
            for s in ids:
                out[s][group.rows] = (traj.time if s == _TIME else traj[s])[group.time_index]
    return out


def _state_noise_text(problem: PetabProblem) -> str:
    return "; ".join(f"{o}: {', '.join(s)}" for o, s in problem._plan.noise_states.items() if s)


def _condition_values(plan: _Plan, cond_id: str, params: Mapping[str, float]) -> dict[str, float]:
    return {key: _resolve(value, params) for key, value in plan.conditions[cond_id].items()}


def _evaluate(
    formula: _Formula,
    group: _Group,
    kind: str,
    overrides: tuple[tuple[_Override, ...], ...],
    params: Mapping[str, float],
    known: Mapping[str, np.ndarray | float],
) -> np.ndarray:
    """Evaluate a formula on the rows of ``group``: placeholders first, then ``known``, then parameters."""
    args: dict[str, np.ndarray | float] = {}
    for sym in formula.symbols:
        n = _placeholder_index(sym, kind, group.observable_id)
        if n:
            args[sym] = np.array([_resolve(overrides[r][n - 1], params) for r in group.rows])
        elif sym in known:
            args[sym] = known[sym]
        else:
            args[sym] = params[sym]
    return formula.evaluate(args, group.rows.size)


def petab_nllh(
    problem: PetabProblem,
    simulation_df: pd.DataFrame | np.ndarray,
    parameters: Mapping[str, float] | None = None,
    solutions: Sequence[Trajectory | str] | None = None,
) -> float:
    """PEtab v1 negative log-likelihood of the measurements given a simulation table.

    Per measurement, with ``h`` the transformation (lin, log, log10) and sigma the noise formula
    evaluated with the row's ``noiseParameters``, the observable's simulated value and the parameter
    values: normal ``0.5*log(2*pi*sigma**2) + 0.5*r**2`` and laplace ``log(2*sigma) + |r|``, with
    ``r = (h(m) - h(y)) / sigma``, plus the Jacobian of ``h`` (``log m``, ``log m + log log 10``) so the
    value is a density of the untransformed data. This is ``-petab.v1.calculate.calculate_llh``,
    constants included; priors are not included.

    Parameters
    ----------
    problem
        From :func:`load_petab`.
    simulation_df
        A PEtab simulation table: the one :func:`simulate_petab` returns, or any table whose rows match
        the measurements on their shared columns (observableId, simulationConditionId, time, ...), or a
        row-aligned array of simulated values (:func:`observe`).
    parameters
        Linear-scale overrides of ``nominalValue`` for the noise formulas (use the same mapping as for
        the simulation).
    solutions
        The ODE solutions (:func:`solve_experiments`), needed only when a noise formula reads a model state.

    Returns
    -------
    float
        The negative log-likelihood; ``inf`` when a simulated value is not finite (a failed simulation).

    Raises
    ------
    InputError
        ``simulation_df`` lacks a value for some measurement, or has several for one.
    """
    plan = problem._plan
    simulation = _aligned_simulation(problem, simulation_df)
    if not np.all(np.isfinite(simulation)):
        return math.inf
    params = problem.parameter_values(parameters)
    sigma = noise_sigma(problem, simulation, params, solutions)
    total = 0.0
    for obs_id, rows in plan.rows_by_observable.items():
        total += float(np.sum(_nllh_terms(plan.measurement[rows], simulation[rows], sigma[rows],
                                          plan.transformation[obs_id], plan.distribution[obs_id])))
    return total


def _aligned_simulation(problem: PetabProblem, simulation_df: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The simulated value of every measurement row, in measurement-table order.

    A table from :func:`simulate_petab` is row-aligned and used as is. Any other table (e.g. a
    benchmark's ``simulatedData`` file, in its own row order) is matched on the columns it shares with
    the measurement table, as ``petab.v1.calculate`` does; each measurement needs exactly one match.
    """
    plan = problem._plan
    where = str(problem.source)
    if isinstance(simulation_df, np.ndarray):
        if simulation_df.shape != plan.measurement.shape:
            raise InputError(f"the simulation array for {where!r} has shape {simulation_df.shape}; it must have one "
                             f"value per measurement row, shape {plan.measurement.shape}.")
        return simulation_df.astype(float)
    if "simulation" not in simulation_df.columns:
        raise InputError(f"the simulation table for {where!r} has no 'simulation' column.")
    sdf = simulation_df.reset_index(drop=True)
    if (
        len(sdf) == plan.measurement.size
        and {"observableId", "time"} <= set(sdf.columns)
        and np.array_equal(sdf["observableId"].astype(str).to_numpy(), plan.observable_ids)
        and np.array_equal(sdf["time"].to_numpy(dtype=float), plan.time)
        and ("simulationConditionId" not in sdf.columns  # a table in another condition order is matched below
             or np.array_equal(sdf["simulationConditionId"].astype(str).to_numpy(),
                               problem.petab.measurement_df["simulationConditionId"].astype(str).to_numpy()))
    ):
        return sdf["simulation"].to_numpy(dtype=float)
    mdf = problem.petab.measurement_df.reset_index(drop=True)
    keys = [c for c in mdf.columns if c in sdf.columns and c != "measurement"]
    right = _key_frame(sdf, keys).assign(simulation=sdf["simulation"].to_numpy(dtype=float)).drop_duplicates()
    if not {"observableId", "simulationConditionId", "time"} <= set(keys) or right.duplicated(keys).any():
        raise InputError(
            f"the simulation table for {where!r} cannot be matched to the measurement table: it needs the "
            "columns observableId, simulationConditionId and time, and one simulated value per key."
        )
    merged = _key_frame(mdf, keys).merge(right, on=keys, how="left", validate="many_to_one", indicator=True)
    missing = int((merged["_merge"] != "both").sum())
    if missing:
        raise InputError(f"the simulation table for {where!r} has no value for {missing} measurement row(s).")
    return merged["simulation"].to_numpy(dtype=float)


def _key_frame(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Key columns normalised for matching: time as float, everything else as text, empty cells as ''."""
    return pd.DataFrame({
        key: df[key].to_numpy(dtype=float) if key == "time"
        else [("" if petab_v1.is_empty(v) else str(v)) for v in df[key]]
        for key in keys
    })


def _nllh_terms(m: np.ndarray, y: np.ndarray, sigma: np.ndarray, transformation: str, distribution: str) -> np.ndarray:
    """Per-measurement negative log-likelihood, term for term as ``petab.v1.calculate_single_llh``."""
    if transformation == "lin":
        hm, hy, jacobian = m, y, 0.0
    elif transformation == "log":
        hm, hy, jacobian = np.log(m), np.log(y), np.log(m)
    else:  # log10
        hm, hy, jacobian = np.log10(m), np.log10(y), np.log(m) + math.log(math.log(10.0))
    r = (hm - hy) / sigma
    if distribution == "normal":
        return 0.5 * np.log(2.0 * math.pi * sigma**2) + jacobian + 0.5 * r**2
    return np.log(2.0 * sigma) + jacobian + np.abs(r)
