"""PEtab v1 problems on the mekisim engine: simulation tables and the negative log-likelihood.

Why this module exists: the PEtab benchmark problems (``shared/benchmarks/petab/REFERENCE.md``) carry
objective values computed by other tools (AMICI, Data2Dynamics), so reproducing them tests the engine
end to end against external truth; the later fitting objective is built on :func:`simulate_petab` and
:func:`petab_nllh`.

Semantics (PEtab v1), and where they are implemented:

* Parameter values are on linear scale: ``nominalValue`` of the parameter table, overridden by the
  caller's mapping (:meth:`PetabProblem.parameter_values`). Every parameter-table id that is a model
  parameter is applied to the model; the others only enter observable and noise formulas.
* Each (``preequilibrationConditionId``, ``simulationConditionId``) pair is one engine call. Condition
  table cells are numbers or parameter-table ids; an empty cell keeps the model default. With a
  preequilibration condition the run starts at its steady state (``Condition.untreated``) and the
  simulation condition's parameters act from t = 0.
* Observable and noise formulas are parsed with petab's own parser and compiled once per formula with
  ``sympy.lambdify`` at load time, so repeated simulations (an optimizer) pay only for the ODE solve.
* Simulated values are on linear scale (``observableTransformation`` only enters the likelihood).

What is not supported raises :class:`~simulator.errors.InputError` at load time, naming the problem:
steady-state (``time = inf``) measurements, compartment sizes in formulas or condition columns,
conditions that set species with initial assignments, species re-initialisation after
preequilibration (the engine restores the whole pre-equilibrated state), noise formulas that use model
quantities (as in ``petab.v1.calculate``), and noise distributions other than normal and laplace.
Priors are not part of :func:`petab_nllh` (they belong to the objective).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import petab.v1 as petab_v1
import sympy
from petab.v1.math import sympify_petab

from .conditions import Condition
from .engine import SolverOptions, Trajectory, time_courses
from .errors import InputError, SimulationError
from .model import CompiledModel, load_sbml

__all__ = ["PetabProblem", "load_petab", "noise_sigma", "observe", "petab_nllh", "simulate_petab", "solve_experiments"]

_TIME = "time"  # PEtab v1's symbol for model time in formulas
_TRANSFORMATIONS = ("lin", "log", "log10")
_DISTRIBUTIONS = ("normal", "laplace")
_Override = float | str  # a number, or a parameter-table id resolved at evaluation time


# ------------------------------------------------------------------------------------ compiled parts


@dataclass(frozen=True)
class _Formula:
    """An observable or noise formula, lambdified once; ``symbols`` are the arguments in call order."""

    text: str
    symbols: tuple[str, ...]
    func: Callable[..., object] = field(repr=False)

    def evaluate(self, args: Mapping[str, np.ndarray | float], n: int) -> np.ndarray:
        """Value for ``n`` rows; ``args`` holds a scalar or an ``(n,)`` array per symbol."""
        out = self.func(*(args[s] for s in self.symbols))
        return np.array(np.broadcast_to(np.asarray(out, dtype=float), (n,)))


@dataclass(frozen=True)
class _Group:
    """Rows of one observable within one experiment: table positions and indices into the output times."""

    observable_id: str
    rows: np.ndarray
    time_index: np.ndarray


@dataclass(frozen=True)
class _Experiment:
    """One (preequilibration, simulation) condition pair: one engine call at ``times``."""

    preeq_id: str | None
    sim_id: str
    times: np.ndarray
    groups: tuple[_Group, ...]


@dataclass(frozen=True)
class _Plan:
    """Everything :func:`load_petab` derives from the tables, so a simulation only solves and evaluates."""

    observables: Mapping[str, _Formula]
    noise: Mapping[str, _Formula]
    transformation: Mapping[str, str]
    distribution: Mapping[str, str]
    experiments: tuple[_Experiment, ...]
    conditions: Mapping[str, Mapping[str, _Override]]
    model_parameter_ids: tuple[str, ...]
    select: tuple[str, ...]
    observable_overrides: tuple[tuple[_Override, ...], ...]
    noise_overrides: tuple[tuple[_Override, ...], ...]
    rows_by_observable: Mapping[str, np.ndarray]
    observable_ids: np.ndarray
    measurement: np.ndarray
    time: np.ndarray


# ------------------------------------------------------------------------------------------- problem


@dataclass(frozen=True, eq=False)
class PetabProblem:
    """A loaded PEtab v1 problem bound to its compiled model.

    The tables are the petab objects themselves (pandas frames); treat them as read-only, because the
    compiled plan was derived from them at load time.

    Attributes
    ----------
    petab
        The ``petab.v1.Problem`` (measurement, condition, observable and parameter tables).
    model
        The SBML model compiled for the engine.
    parameter_df
        The parameter table, indexed by ``parameterId``.
    source
        The YAML file the problem was loaded from.
    nominal
        ``nominalValue`` of every parameter-table id, on linear scale.
    """

    petab: petab_v1.Problem = field(repr=False)
    model: CompiledModel
    parameter_df: pd.DataFrame = field(repr=False)
    source: Path
    nominal: Mapping[str, float] = field(repr=False)
    _plan: _Plan = field(repr=False)

    @property
    def parameter_ids(self) -> tuple[str, ...]:
        """Ids of the parameter table, in table order."""
        return tuple(self.nominal)

    @property
    def simulation_parameter_ids(self) -> frozenset[str]:
        """Parameter-table ids that change an ODE solution: model parameters and condition-table references.

        The others (scales, offsets, noise parameters) only enter formulas, so changing them needs
        :func:`observe` and :func:`noise_sigma` but no new :func:`solve_experiments`.
        """
        plan = self._plan
        refs = {v for cond in plan.conditions.values() for v in cond.values() if isinstance(v, str)}
        return frozenset(plan.model_parameter_ids) | frozenset(refs)

    @property
    def measurement(self) -> np.ndarray:
        """Measured values in measurement-table order (read-only view)."""
        view = self._plan.measurement.view()
        view.flags.writeable = False
        return view

    @property
    def noise_models(self) -> tuple[np.ndarray, np.ndarray]:
        """Per measurement row: ``observableTransformation`` and ``noiseDistribution`` (arrays of str)."""
        plan = self._plan
        return (np.array([plan.transformation[o] for o in plan.observable_ids]),
                np.array([plan.distribution[o] for o in plan.observable_ids]))

    def parameter_values(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """Linear-scale values of every parameter-table id: nominal values updated by ``overrides``.

        Raises
        ------
        InputError
            An override names an id that is not in the parameter table, or is not a finite number.
        """
        values = dict(self.nominal)
        for key, value in (overrides or {}).items():
            if key not in values:
                raise InputError(
                    f"{key!r} is not in the parameter table of PEtab problem {str(self.source)!r}; "
                    f"valid: {', '.join(values)}."
                )
            value = float(value)
            if not math.isfinite(value):
                raise InputError(f"value of parameter {key!r} is {value!r}; it must be a finite number.")
            values[key] = value
        unset = [key for key, value in values.items() if not math.isfinite(value)]
        if unset:
            raise InputError(
                f"parameter(s) {', '.join(unset)} of PEtab problem {str(self.source)!r} have no finite "
                "nominalValue; pass their values in the parameters mapping."
            )
        return values


def load_petab(yaml_path: str | Path) -> PetabProblem:
    """Load a PEtab v1 problem and compile its model and formulas.

    Parameters
    ----------
    yaml_path
        The problem's YAML file (one SBML model; several measurement/condition/observable files are
        merged by petab).

    Returns
    -------
    PetabProblem
        Ready for :func:`simulate_petab` and :func:`petab_nllh`.

    Raises
    ------
    InputError
        The files cannot be read or parsed by petab (the message names the YAML file and petab's
        error), or the problem uses a feature listed as unsupported in the module docstring.
    """
    path = Path(yaml_path)
    if not path.is_file():
        raise InputError(f"PEtab problem file {str(path)!r} does not exist or is not a file.")
    try:
        with warnings.catch_warnings():
            # petab 0.8 calls pandas APIs deprecated in pandas 3 (float_precision, inplace=True);
            # harmless here, and the test suite turns warnings into errors.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"petab(\.|$)")
            problem = petab_v1.Problem.from_yaml(path)
    except Exception as exc:  # petab raises yaml, jsonschema, pandas and OS errors: all mean a bad input file
        raise InputError(
            f"PEtab problem {str(path)!r} could not be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    sbml_path = _sbml_path(problem, path)
    model = load_sbml(sbml_path)
    parameter_df = problem.parameter_df
    nominal = {str(pid): float(value) for pid, value in parameter_df["nominalValue"].items()}
    plan = _compile_plan(problem, model, nominal, where=str(path))
    return PetabProblem(
        petab=problem,
        model=model,
        parameter_df=parameter_df,
        source=path,
        nominal=MappingProxyType(nominal),
        _plan=plan,
    )


def _sbml_path(problem: petab_v1.Problem, yaml_path: Path) -> Path:
    model = problem.model
    rel = getattr(model, "rel_path", None)
    if model is None or model.type_id != "sbml" or rel is None:
        raise InputError(f"PEtab problem {str(yaml_path)!r} has no SBML model file; only SBML models are supported.")
    base = getattr(model, "base_path", None)
    return Path(base) / rel if base else Path(rel)


# --------------------------------------------------------------------------------------- compilation


def _compile_plan(problem: petab_v1.Problem, model: CompiledModel, nominal: Mapping[str, float], where: str) -> _Plan:
    """Check the tables against the model and precompute formulas, experiments and overrides."""
    model_parameter_ids = []
    for pid in nominal:
        if pid in model.parameters:
            model_parameter_ids.append(pid)
        elif pid in model.readable_ids() or problem.model.has_entity_with_id(pid):
            raise InputError(
                f"parameter-table id {pid!r} of {where} is a model entity that cannot be set "
                "(a species, compartment, or a rule or initial-assignment target)."
            )
    observables, noise, transformation, distribution, select = _compile_observables(problem, model, nominal, where)

    mdf = problem.measurement_df.reset_index(drop=True)
    obs_col = mdf["observableId"].astype(str).to_numpy()
    unknown_obs = sorted(set(obs_col) - set(observables))
    if unknown_obs:
        raise InputError(f"measurement table of {where} uses observables not in the observable table: {unknown_obs}.")
    time = mdf["time"].to_numpy(dtype=float)
    if not np.all(np.isfinite(time)) or np.any(time < 0):
        raise InputError(
            f"measurement table of {where} has times that are negative or not finite; steady-state "
            "(time = inf) measurements are not supported."
        )
    preeq_cells = mdf["preequilibrationConditionId"].tolist() if "preequilibrationConditionId" in mdf else []
    preeq = [None if petab_v1.is_empty(v) else str(v) for v in preeq_cells] or [None] * len(mdf)
    sim = mdf["simulationConditionId"].astype(str).tolist()
    conditions = _conditions(problem, model, nominal, {*sim, *(p for p in preeq if p)}, where)
    return _Plan(
        observables=MappingProxyType(observables),
        noise=MappingProxyType(noise),
        transformation=MappingProxyType(transformation),
        distribution=MappingProxyType(distribution),
        experiments=_experiments(preeq, sim, obs_col, time, conditions, model, where),
        conditions=MappingProxyType(conditions),
        model_parameter_ids=tuple(model_parameter_ids),
        select=select,
        observable_overrides=_overrides(
            mdf, "observableParameters", "observableParameter", observables, obs_col, nominal, where
        ),
        noise_overrides=_overrides(mdf, "noiseParameters", "noiseParameter", noise, obs_col, nominal, where),
        rows_by_observable=MappingProxyType({o: np.flatnonzero(obs_col == o) for o in dict.fromkeys(obs_col)}),
        observable_ids=obs_col,
        measurement=mdf["measurement"].to_numpy(dtype=float),
        time=time,
    )


def _compile_observables(
    problem: petab_v1.Problem, model: CompiledModel, nominal: Mapping[str, float], where: str
) -> tuple[dict[str, _Formula], dict[str, _Formula], dict[str, str], dict[str, str], tuple[str, ...]]:
    """Formulas, transformations and distributions per observable, and the model ids to select."""
    readable = set(model.readable_ids())
    observables, noise, transformation, distribution = {}, {}, {}, {}
    select: set[str] = set()
    for obs_id, row in problem.observable_df.iterrows():
        obs_id = str(obs_id)
        formula = _compile(row["observableFormula"], f"observableFormula of {obs_id!r} in {where}")
        for sym in formula.symbols:
            if _placeholder_index(sym, "observableParameter", obs_id) or sym == _TIME:
                continue
            if sym in readable:
                select.add(sym)  # read from the simulation, so condition-specific values are honoured
            elif sym not in nominal:
                raise InputError(
                    f"observableFormula of {obs_id!r} in {where} uses {sym!r}, which is neither a readable "
                    "model id (species, parameter, assignment target), a parameter-table id, 'time', nor an "
                    f"observableParameter placeholder of {obs_id!r}."
                )
        observables[obs_id] = formula
        noise_formula = _compile(row.get("noiseFormula", math.nan), f"noiseFormula of {obs_id!r} in {where}")
        for sym in noise_formula.symbols:
            if not (_placeholder_index(sym, "noiseParameter", obs_id) or sym == obs_id or sym in nominal):
                raise InputError(
                    f"noiseFormula of {obs_id!r} in {where} uses {sym!r}; only noiseParameter placeholders, "
                    "the observable id and parameter-table ids are supported (as in petab.v1.calculate)."
                )
        noise[obs_id] = noise_formula
        transformation[obs_id] = _choice(row.get("observableTransformation"), _TRANSFORMATIONS, "lin", obs_id, where)
        distribution[obs_id] = _choice(row.get("noiseDistribution"), _DISTRIBUTIONS, "normal", obs_id, where)
    return observables, noise, transformation, distribution, tuple(sorted(select))


def _experiments(
    preeq: list[str | None],
    sim: list[str],
    obs_col: np.ndarray,
    time: np.ndarray,
    conditions: Mapping[str, Mapping[str, _Override]],
    model: CompiledModel,
    where: str,
) -> tuple[_Experiment, ...]:
    """One experiment per (preequilibration, simulation) pair, in first-seen order."""
    pair_of_row = list(zip(preeq, sim, strict=True))
    experiments = []
    for pre_id, sim_id in dict.fromkeys(pair_of_row):
        if pre_id is not None:
            species_set = sorted(k for k in conditions[sim_id] if k in model.species)
            if species_set:
                raise InputError(
                    f"simulation condition {sim_id!r} of {where} sets species {species_set} after "
                    f"preequilibration with {pre_id!r}; re-initialising species after preequilibration is "
                    "not supported by the engine."
                )
        rows = np.array([i for i, p in enumerate(pair_of_row) if p == (pre_id, sim_id)], dtype=np.intp)
        times = np.unique(time[rows])
        if times[0] > 0:
            times = np.concatenate(([0.0], times))  # integrate from t = 0, report only measured times
        if times.size < 2:
            times = np.concatenate((times, [times[-1] + 1.0]))  # the engine needs two output times
        groups = []
        for obs_id in dict.fromkeys(obs_col[rows]):
            sub = rows[obs_col[rows] == obs_id]
            groups.append(_Group(str(obs_id), sub, np.searchsorted(times, time[sub])))
        experiments.append(_Experiment(pre_id, sim_id, times, tuple(groups)))
    return tuple(experiments)


def _compile(expr: object, where: str) -> _Formula:
    """Parse a PEtab formula (petab's grammar) and lambdify it over its free symbols, sorted by name."""
    if petab_v1.is_empty(expr):
        raise InputError(f"{where} is empty.")
    try:
        parsed = sympify_petab(expr)
    except ValueError as exc:
        raise InputError(f"{where} ({expr!r}) could not be parsed: {exc}") from exc
    symbols = tuple(sorted(str(s) for s in parsed.free_symbols))
    by_name = {str(s): s for s in parsed.free_symbols}
    func = sympy.lambdify([by_name[s] for s in symbols], parsed, modules="numpy", dummify=True)
    return _Formula(str(expr), symbols, func)


def _placeholder_index(symbol: str, kind: str, obs_id: str) -> int:
    """``n`` if ``symbol`` is ``{kind}{n}_{obs_id}``, else 0."""
    match = re.fullmatch(rf"{kind}([1-9][0-9]*)_{re.escape(obs_id)}", symbol)
    return int(match.group(1)) if match else 0


def _choice(value: object, valid: tuple[str, ...], default: str, obs_id: str, where: str) -> str:
    if value is None or petab_v1.is_empty(value):
        return default
    if value not in valid:
        raise InputError(f"observable {obs_id!r} of {where} has {value!r}; supported: {', '.join(valid)}.")
    return str(value)


def _overrides(
    mdf: pd.DataFrame,
    column: str,
    kind: str,
    formulas: Mapping[str, _Formula],
    obs_col: np.ndarray,
    nominal: Mapping[str, float],
    where: str,
) -> tuple[tuple[_Override, ...], ...]:
    """Per-row placeholder overrides, checked: one per placeholder, numbers or parameter-table ids."""
    needed = {
        obs_id: max((_placeholder_index(s, kind, obs_id) for s in f.symbols), default=0)
        for obs_id, f in formulas.items()
    }
    cells = mdf[column].tolist() if column in mdf else [math.nan] * len(mdf)
    out = []
    for i, (obs_id, cell) in enumerate(zip(obs_col, cells, strict=True)):
        try:
            values = petab_v1.split_parameter_replacement_list(cell)
        except ValueError as exc:
            raise InputError(f"{column} of measurement row {i} in {where}: {exc}") from exc
        if len(values) != needed[obs_id]:
            raise InputError(
                f"{column} of measurement row {i} in {where} has {len(values)} value(s); observable "
                f"{obs_id!r} has {needed[obs_id]} {kind} placeholder(s)."
            )
        for value in values:
            if isinstance(value, str) and value not in nominal:
                raise InputError(
                    f"{column} of measurement row {i} in {where} names {value!r}, which is not in the parameter table."
                )
        out.append(tuple(v if isinstance(v, str) else float(v) for v in values))
    return tuple(out)


def _conditions(
    problem: petab_v1.Problem, model: CompiledModel, nominal: Mapping[str, float], used: set[str], where: str
) -> dict[str, dict[str, _Override]]:
    """Non-empty cells of the used conditions: id -> number or parameter-table id."""
    settable = set(model.parameters) | set(model.species_initial)
    cdf = problem.condition_df
    missing = sorted(used - {str(c) for c in cdf.index})
    if missing:
        raise InputError(f"condition table of {where} has no condition(s) {missing}.")
    columns = [c for c in cdf.columns if c != "conditionName"]
    out: dict[str, dict[str, _Override]] = {}
    for cond_id in sorted(used):
        values: dict[str, _Override] = {}
        for col in columns:
            cell = cdf.at[cond_id, col]
            if petab_v1.is_empty(cell):
                continue  # PEtab: keep the model's value
            if col not in settable:
                raise InputError(
                    f"condition table of {where} sets {col!r}, which is not a settable parameter or species of "
                    "the model (compartments and initial-assignment targets are not supported)."
                )
            value = petab_v1.to_float_if_float(cell)
            if isinstance(value, str) and value not in nominal:
                raise InputError(
                    f"condition {cond_id!r} of {where} sets {col!r} to {value!r}, which is neither a number "
                    "nor a parameter-table id."
                )
            values[str(col)] = value if isinstance(value, str) else float(value)
        out[cond_id] = values
    return out


def _resolve(value: _Override, params: Mapping[str, float]) -> float:
    return params[value] if isinstance(value, str) else value


# --------------------------------------------------------------------------------------- simulation


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
        ids, or the failure message (``str``) when the integration or the preequilibration failed.
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
        traj = time_courses(
            problem.model, exp.times, [condition], pre_equilibrate=exp.preeq_id is not None,
            select=plan.select, options=options, throw=False,
        )[0]
        # the engine falls back to the initial conditions when preequilibration fails; PEtab does not
        failure = traj.message if not traj.ok else (
            traj.message if exp.preeq_id and not traj.pre_equilibrated else ""
        )
        out.append((failure or "failed") if failure or not traj.ok else traj)
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
            args[_TIME] = exp.times[group.time_index]
            simulation[group.rows] = _evaluate(
                plan.observables[group.observable_id], group, "observableParameter",
                plan.observable_overrides, values, args,
            )
    return simulation


def noise_sigma(problem: PetabProblem, simulation: np.ndarray, values: Mapping[str, float]) -> np.ndarray:
    """The noise parameter sigma of every measurement row (normal: standard deviation; laplace: scale).

    ``simulation`` is the row-aligned simulated values (:func:`observe`), needed by noise formulas that use
    the observable; ``values`` the linear-scale parameter-table values.
    """
    plan = problem._plan
    sigma = np.full(plan.measurement.size, np.nan)
    for obs_id, rows in plan.rows_by_observable.items():
        group = _Group(obs_id, rows, np.zeros(rows.size, dtype=np.intp))
        sigma[rows] = _evaluate(plan.noise[obs_id], group, "noiseParameter", plan.noise_overrides, values,
                                {obs_id: simulation[rows]})
    return sigma


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


# --------------------------------------------------------------------------------------- likelihood


def petab_nllh(
    problem: PetabProblem,
    simulation_df: pd.DataFrame | np.ndarray,
    parameters: Mapping[str, float] | None = None,
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
    sigma = noise_sigma(problem, simulation, params)
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
