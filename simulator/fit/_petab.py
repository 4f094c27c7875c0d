"""PEtab v1 problems bound to a compiled model: tables checked, formulas compiled once, at load time."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import petab.v1 as petab_v1
from petab.v1.math import sympify_petab

from .._lambdify import lambdify
from ..errors import InputError
from ..model import CompiledModel, load_sbml

_TIME = "time"  # PEtab v1's symbol for model time in formulas


_TRANSFORMATIONS = ("lin", "log", "log10")


_DISTRIBUTIONS = ("normal", "laplace")


_Override = float | str  # a number, or a parameter-table id resolved at evaluation time


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
    """One (preequilibration, simulation) condition pair: one engine call at ``times``.

    ``steady``: the pair has steady-state measurements (``time = inf``); their groups index the row after the
    last of ``times`` (:func:`solve_experiments` appends the steady state there). ``timed``: it has finite times.
    """

    preeq_id: str | None
    sim_id: str
    times: np.ndarray
    groups: tuple[_Group, ...]
    steady: bool = False
    timed: bool = True


@dataclass(frozen=True)
class _Plan:
    """Everything :func:`load_petab` derives from the tables, so a simulation only solves and evaluates."""

    observables: Mapping[str, _Formula]
    noise: Mapping[str, _Formula]
    noise_states: Mapping[str, tuple[str, ...]]
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
        error), or the problem uses a feature listed as unsupported in ``docs/notes/fit.md``.
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
    mapping = getattr(problem, "mapping_df", None)
    if mapping is not None and len(mapping):
        raise InputError(f"PEtab problem {str(path)!r} has a mapping table (mapping_files); it is not supported (its "
                         "PEtab ids would not reach the model): use the model's ids in the tables instead.")
    if getattr(problem, "extensions_config", None):
        raise InputError(f"PEtab problem {str(path)!r} uses PEtab extensions "
                         f"({', '.join(map(str, problem.extensions_config))}); they are not supported.")
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
    observables, noise, noise_states, transformation, distribution, select = _compile_observables(
        problem, model, nominal, where)

    mdf = problem.measurement_df.reset_index(drop=True)
    obs_col = mdf["observableId"].astype(str).to_numpy()
    unknown_obs = sorted(set(obs_col) - set(observables))
    if unknown_obs:
        raise InputError(f"measurement table of {where} uses observables not in the observable table: {unknown_obs}.")
    time = mdf["time"].to_numpy(dtype=float)
    if np.any(np.isnan(time)) or np.any(time < 0):
        raise InputError(
            f"measurement table of {where} has times that are negative or not a number; valid: a time >= 0, or "
            "inf for a steady-state measurement."
        )
    preeq_cells = mdf["preequilibrationConditionId"].tolist() if "preequilibrationConditionId" in mdf else []
    preeq = [None if petab_v1.is_empty(v) else str(v) for v in preeq_cells] or [None] * len(mdf)
    sim = mdf["simulationConditionId"].astype(str).tolist()
    conditions = _conditions(problem, model, nominal, {*sim, *(p for p in preeq if p)}, where)
    _refuse_unsupported(model, preeq, time, where)
    return _Plan(
        observables=MappingProxyType(observables),
        noise=MappingProxyType(noise),
        noise_states=MappingProxyType(noise_states),
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
) -> tuple[dict[str, _Formula], dict[str, _Formula], dict[str, tuple[str, ...]], dict[str, str], dict[str, str],
           tuple[str, ...]]:
    """Formulas, transformations and distributions per observable, and the model ids to select.

    Formulas read model ids (species, parameters, rule and initial-assignment targets) from the simulation, so
    condition-specific and rule-set values are honoured; a noise formula may read them too (PEtab v1: noise that
    depends on a state), ``noise_states`` lists those per observable.
    """
    readable = set(model.readable_ids())
    observables, noise, noise_states, transformation, distribution = {}, {}, {}, {}, {}
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
                    "model id (species, parameter, compartment, rule or initial-assignment target), a "
                    f"parameter-table id, 'time', nor an observableParameter placeholder of {obs_id!r}."
                )
        observables[obs_id] = formula
        noise_formula = _compile(row.get("noiseFormula", math.nan), f"noiseFormula of {obs_id!r} in {where}")
        states = []
        for sym in noise_formula.symbols:
            if _placeholder_index(sym, "noiseParameter", obs_id) or sym == obs_id or sym in nominal:
                continue
            if sym == _TIME or sym in readable:
                states.append(sym)
                if sym != _TIME:
                    select.add(sym)
                continue
            raise InputError(
                f"noiseFormula of {obs_id!r} in {where} uses {sym!r}, which is neither a noiseParameter "
                f"placeholder of {obs_id!r}, the observable id, a parameter-table id, 'time', nor a readable "
                "model id."
            )
        noise[obs_id] = noise_formula
        noise_states[obs_id] = tuple(states)
        transformation[obs_id] = _choice(row.get("observableTransformation"), _TRANSFORMATIONS, "lin", obs_id, where)
        distribution[obs_id] = _choice(row.get("noiseDistribution"), _DISTRIBUTIONS, "normal", obs_id, where)
    return observables, noise, noise_states, transformation, distribution, tuple(sorted(select))


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
        finite = np.isfinite(time[rows])
        times = np.unique(time[rows][finite]) if finite.any() else np.array([0.0])
        if times[0] > 0:
            times = np.concatenate(([0.0], times))  # integrate from t = 0, report only measured times
        if times.size < 2:
            times = np.concatenate((times, [times[-1] + 1.0]))  # the engine needs two output times
        groups = []
        for obs_id in dict.fromkeys(obs_col[rows]):
            sub = rows[obs_col[rows] == obs_id]
            # a steady-state row (time = inf) reads the row after the last output time
            index = np.where(np.isfinite(time[sub]), np.searchsorted(times, time[sub]), times.size)
            groups.append(_Group(str(obs_id), sub, index))
        experiments.append(_Experiment(pre_id, sim_id, times, tuple(groups), steady=bool((~finite).any()),
                                       timed=bool(finite.any())))
    return tuple(experiments)


def _refuse_unsupported(model: CompiledModel, preeq: list[str | None], time: np.ndarray, where: str) -> None:
    """Refuse what the engine would simulate wrongly for this problem, naming it.

    SBML events: roadrunner fires them in a time course, but a pre-equilibrated state or a steady state is
    copied as the species (and rate-rule variables) alone, without the events' trigger state, so an event could
    fire again or not at all. Steady-state measurements after a pre-equilibration would need the steady state
    of the simulation condition from the pre-equilibrated state; the engine solves it from the initial
    conditions only.
    """
    has_preeq = any(p is not None for p in preeq)
    steady = ~np.isfinite(time)
    if model.events and (has_preeq or steady.any()):
        raise InputError(
            f"the SBML model of {where} has event(s) {', '.join(model.events)}, and the problem uses "
            f"{'pre-equilibration' if has_preeq else 'steady-state measurements (time = inf)'}: the engine cannot "
            "carry an event's trigger state through a steady state, so this problem is not supported."
        )
    both = [i for i, p in enumerate(preeq) if p is not None and steady[i]]
    if both:
        raise InputError(
            f"measurement row {both[0]} of {where} (and {len(both) - 1} more) is a steady-state measurement "
            "(time = inf) with a preequilibrationConditionId; steady states after a pre-equilibration are not "
            "supported (the engine solves them from the initial conditions)."
        )


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
    func = lambdify([by_name[s] for s in symbols], parsed, modules="numpy")
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
