"""Readouts of many conditions: the fast mode (steady states, closed forms), declared and level readouts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from ..engine import SolverOptions, steady_states, time_courses
from ..errors import InputError
from ..model import CompiledModel, Condition, DeclaredReadout
from ..status import Status
from ._population import _full
from ._readout import (
    DEFAULT_G1_0,
    DEFAULT_G1_MAX,
    DEFAULT_KCL_PER_HOUR,
    MODES,
    READOUTS,
    REQUIRED_IDS,
    SHORT_HOURS,
    VIABILITY_HOURS,
    Readout,
    ReadoutRecord,
    ReadoutTable,
    _key,
    _merge,
    _model_units_per_hour,
    _nan_record,
    _optional_ids,
    _ratio,
    _ratios,
    _require,
    closed_form_cells,
    readouts_for,
    unknown_readout_message,
)


def compute_readouts(
    model: CompiledModel,
    conditions: Sequence[Condition],
    *,
    mode: str = "fast",
    readouts: Sequence[str] | None = None,
    options: SolverOptions | None = None,
) -> list[ReadoutRecord]:
    """Readouts of each condition, one :class:`ReadoutRecord` per condition (failures do not stop the batch).

    Parameters
    ----------
    model
        A model defining ``pERK``, ``g`` and ``d`` (:data:`REQUIRED_IDS`) and a time unit.
    conditions
        :class:`~simulator.model.Condition` values (``make_condition``); each one's DMSO reference is
        its ``untreated`` mapping, solved once per distinct untreated condition within this call.
    mode
        ``"fast"`` (steady-state signalling, closed-form cell numbers) or ``"full"`` (cell numbers
        integrated with the signalling over 72 h). ``docs/notes/readouts.md`` says when they differ.
    readouts
        Readout ids (:data:`READOUTS`); default all.
    options
        Solver settings passed to the engine.

    Raises
    ------
    InputError
        Unknown mode or readout id, a model missing a required id or a time unit, or a condition that is
        not a :class:`~simulator.model.Condition`.
    """
    wanted, builtin, own, levels, conditions = _checked(model, conditions, mode, readouts)
    return _records(model, conditions, mode, wanted, builtin, own, levels, options)


def _records(model, conditions, mode, wanted, builtin, own, levels, options) -> list[ReadoutRecord]:
    """:func:`compute_readouts` after its input checks."""
    if not conditions:
        return []
    parts = []
    if builtin:
        hours = _model_units_per_hour(model)
        parts.append(_fast(model, conditions, builtin, hours, options).records() if mode == "fast"
                     else _full(model, conditions, builtin, hours, options))
    if own:
        parts.append(_declared(model, conditions, own, options))
    if levels:
        parts.append(_levels(model, conditions, levels, options))
    if len(parts) == 1:
        return parts[0]
    return [_merge(wanted, records) for records in zip(*parts, strict=True)]


def compute_readout_table(
    model: CompiledModel,
    conditions: Sequence[Condition],
    *,
    mode: str = "fast",
    readouts: Sequence[str] | None = None,
    options: SolverOptions | None = None,
) -> ReadoutTable:
    """:func:`compute_readouts` as a :class:`ReadoutTable` (same arguments, same values and statuses).

    The fast mode's built-in readouts come out as arrays without a record per condition (a screen's wells);
    other modes and declared readouts are computed as records and tabulated.
    """
    wanted, builtin, own, levels, conditions = _checked(model, conditions, mode, readouts)
    if builtin and not own and not levels and mode == "fast" and conditions:
        return _fast(model, conditions, builtin, _model_units_per_hour(model), options)
    return ReadoutTable.from_records(wanted, _records(model, conditions, mode, wanted, builtin, own, levels, options))


def _checked(model: CompiledModel, conditions: Sequence[Condition], mode: str, readouts: Sequence[str] | None
             ) -> tuple[tuple[str, ...], tuple[str, ...], tuple, tuple[Readout, ...], list[Condition]]:
    """(wanted ids, built-in ones, declared ones, level ones, conditions as a list) after the input checks."""
    if mode not in MODES:
        raise InputError(f"unknown readout mode {mode!r}; valid: {', '.join(MODES)}.")
    available = readouts_for(model, () if readouts is None else tuple(readouts))
    wanted = tuple(r for r in available if available[r].level is None) if readouts is None else tuple(readouts)
    unknown = [r for r in wanted if r not in available]
    if unknown or not wanted:
        if any(r in READOUTS for r in unknown) or (readouts is None and not model.readouts):
            _require(model)  # built-in readouts on a model without pERK/g/d or a time unit: say what it lacks
            _model_units_per_hour(model)
        raise InputError(unknown_readout_message(model, unknown))
    declared = {r.id: r for r in model.readouts}
    levels = tuple(available[r] for r in wanted if r not in declared and available[r].level is not None)
    if levels and mode != "fast":
        raise InputError(
            f"readout(s) {', '.join(r.id for r in levels)} are levels at steady state (or their time-average when "
            f"the model oscillates), the same in every mode; mode {mode!r} applies to the built-in phenotype "
            "readouts (viability, apoptosis, ...): use mode 'fast'."
        )
    builtin = tuple(r for r in wanted if r not in declared and available[r].level is None)
    own = tuple(declared[r] for r in wanted if r in declared)
    conditions = list(conditions)
    for c in conditions:
        if not isinstance(c, Condition):
            raise InputError(
                f"compute_readouts needs Condition values (from make_condition), not {type(c).__name__}: "
                "the DMSO reference is the condition's untreated values."
            )
    return wanted, builtin, own, levels, conditions


#: Time points of a declared readout's time course (the ``over_min`` statistic's minimum is taken over them).
DECLARED_POINTS = 401


def _declared(model: CompiledModel, conditions: list[Condition], wanted: tuple[DeclaredReadout, ...],
              options) -> list[ReadoutRecord]:
    """Declared readouts from pre-equilibrated time courses, drug added at t = 0 (one run per condition).

    Conditions with the same values share a run, and the untreated reference of a ``percent_of_untreated``
    readout is run once per distinct untreated condition.
    """
    ids = tuple(dict.fromkeys(r.observable for r in wanted))
    horizon = max(r.time for r in wanted)
    times = np.unique(np.concatenate([np.linspace(0.0, horizon, DECLARED_POINTS), [r.time for r in wanted]]))
    runs: dict[tuple, Condition] = {}
    for c in conditions:
        runs.setdefault(_key(c.values), c)
        if any(r.percent_of_untreated for r in wanted):
            runs.setdefault(_key(c.untreated), Condition(c.cell_line, MappingProxyType({}), c.untreated, c.untreated))
    trajs = dict(zip(runs, time_courses(model, times, list(runs.values()), pre_equilibrate=True, select=ids,
                                        options=options), strict=True))

    def read(traj, r: DeclaredReadout) -> float:
        column = traj.values[:, traj.ids.index(r.observable)]
        at = int(np.searchsorted(traj.time, r.time))
        value = float(column[at])
        if r.statistic == "over_min":
            low = float(column[: at + 1].min())
            value = value / low if low > 0 else math.nan
        return value

    out = []
    for c in conditions:
        traj = trajs[_key(c.values)]
        if not traj.ok:
            out.append(_nan_record(tuple(r.id for r in wanted), traj.status, f"time course: {traj.message}"))
            continue
        values = {}
        for r in wanted:
            value = read(traj, r)
            if r.percent_of_untreated:
                ref = trajs[_key(c.untreated)]
                if not ref.ok:
                    out.append(_nan_record(tuple(x.id for x in wanted), ref.status,
                                           f"untreated (DMSO) reference: {ref.message}"))
                    break
                value = 100.0 * _ratio(value, read(ref, r))
            values[r.id] = value
        else:
            out.append(ReadoutRecord(MappingProxyType(values), Status.OK))
    return out


def _levels(model: CompiledModel, conditions: list[Condition], wanted: tuple[Readout, ...],
            options) -> list[ReadoutRecord]:
    """Level readouts: X/X_untreated from steady states, one per distinct treated and untreated condition.

    A condition without a steady state that oscillates is read at its time-average over the last whole periods
    (:attr:`simulator.engine.SteadyState.mean`); the record says so in its message, per well, so a table shows
    which values are cycle averages. Any other failure, or an untreated level of 0 (the ratio is undefined),
    is a failed record with the reason.
    """
    ids = tuple(dict.fromkeys(r.level for r in wanted))
    runs: dict[tuple, Mapping[str, float]] = {}
    for c in conditions:
        runs.setdefault(_key(c.values), c.values)
        runs.setdefault(_key(c.untreated), c.untreated)
    states = dict(zip(runs, steady_states(model, list(runs.values()), select=ids, options=options), strict=True))
    column = {sid: k for k, sid in enumerate(ids)}
    names = tuple(r.id for r in wanted)

    def level(state) -> np.ndarray | None:
        if state.ok:
            return state.values
        if state.status == Status.OSCILLATING and state.mean is not None:
            return state.mean
        return None

    out = []
    for c in conditions:
        treated, untreated = states[_key(c.values)], states[_key(c.untreated)]
        bad = [(what, s) for what, s in (("untreated reference", untreated), ("treated condition", treated))
               if level(s) is None]
        if bad:
            what, s = bad[0]
            out.append(_nan_record(names, s.status if s.status != Status.OK else Status.FAILED, f"{what}: {s.message}"))
            continue
        x, x0 = level(treated), level(untreated)
        zero = [r.level for r in wanted if x0[column[r.level]] == 0]
        if zero:
            out.append(_nan_record(names, Status.FAILED, f"the untreated level of {', '.join(zero)} is 0, so the level "
                                                  "relative to untreated is undefined"))
            continue
        pairs = (("untreated reference", untreated),) if treated is untreated else (
            ("untreated reference", untreated), ("treated condition", treated))
        notes = [f"{what} oscillates (period {s.period:.4g} {model.time_unit or 'model time units'}): "
                 f"time-average over its last {s.cycles} periods"
                 for what, s in pairs if s.status == Status.OSCILLATING]
        values = {r.id: float(x[column[r.level]] / x0[column[r.level]]) for r in wanted}
        out.append(ReadoutRecord(MappingProxyType(values), Status.OK, "; ".join(notes)))
    return out


def _fast(model, conditions, wanted, hours, options) -> ReadoutTable:
    """Steady states (one per condition and per distinct untreated condition), then the closed forms.

    The arithmetic runs on arrays over all conditions at once (one ``closed_form_cells`` call per time
    point), because per-condition numpy scalar arithmetic cost as much as a third of the steady states, and
    the result stays a table (:class:`ReadoutTable`); :func:`compute_readouts` makes the records.
    """
    select = (*REQUIRED_IDS, *_optional_ids(model))
    # (untreated key, treated == untreated) per condition. The wells of a dose matrix share one untreated
    # mapping object (Condition.with_doses), so its sorted key is built once per object, and the treated
    # values are compared as dicts: two sorted keys per well cost 0.9 ms per 110-well matrix (now 0.03 ms).
    ref_keys: dict[int, tuple] = {}
    keys = []
    for c in conditions:
        ref_key = ref_keys.get(id(c.untreated))  # the objects live in `conditions`, so ids are not reused
        if ref_key is None:
            ref_key = ref_keys[id(c.untreated)] = _key(c.untreated)
        keys.append((ref_key, c.values == c.untreated))
    # Solved per DMSO reference, in order of first appearance: the reference, then its treated conditions in
    # the order given. A screen chunk passes several matrices (one reference each) in one call, so the
    # arithmetic below runs once over all of them while each matrix is solved exactly as a call of its own
    # would solve it (KINSOL in roadrunner carries state between solves at the ~1e-11 level, so the solve
    # order shows in the last digits).
    refs: dict[tuple, Mapping[str, float]] = {}
    groups: dict[tuple, list[int]] = {}
    for k, (c, (ref_key, same)) in enumerate(zip(conditions, keys, strict=True)):
        if ref_key not in refs:
            refs[ref_key], groups[ref_key] = c.untreated, []
        if not same:
            groups[ref_key].append(k)
    ref_states, solved = {}, {}
    for ref_key, treated in groups.items():
        batch = steady_states(model, [refs[ref_key], *(conditions[k] for k in treated)], select=select,
                              options=options)
        ref_states[ref_key] = batch[0]
        solved.update(zip(treated, batch[1:], strict=True))
    pairs = []
    for k, (ref_key, same) in enumerate(keys):
        ref = ref_states[ref_key]
        pairs.append((ref, ref if same else solved[k]))

    index = {name: k for k, name in enumerate(select)}
    good = [ref.status == Status.OK and ss.status == Status.OK for ref, ss in pairs]
    values = np.array([ss.values for (_, ss), ok in zip(pairs, good, strict=True) if ok]).reshape(-1, len(select))
    values0 = np.array([ref.values for (ref, _), ok in zip(pairs, good, strict=True) if ok]).reshape(
        -1, len(select))

    def column(name: str, default: float, table: np.ndarray = values) -> np.ndarray:
        return table[:, index[name]] if name in index else np.full(len(table), default)

    g, d, perk = column("g", 0.0), column("d", 0.0), column("pERK", 0.0)
    g0, perk0 = column("g", 0.0, values0), column("pERK", 0.0, values0)
    kcl = column("kcl", DEFAULT_KCL_PER_HOUR / hours)
    g1_0, g1_max = column("G1_0", DEFAULT_G1_0), column("G1_max", DEFAULT_G1_MAX)
    t24, t72 = SHORT_HOURS * hours, VIABILITY_HOURS * hours
    n72, _ = closed_form_cells(g, d, kcl, t72)
    n72_0, _ = closed_form_cells(g0, column("d", 0.0, values0), kcl, t72)
    n24, a24 = closed_form_cells(g, d, kcl, t24)
    with np.errstate(divide="ignore", invalid="ignore"):  # a DMSO reference of 0 gives NaN (see _ratio)
        table = {
            "perk_suppression": 1.0 - _ratios(perk, perk0),
            "viability": 100.0 * _ratios(n72, n72_0),
            "apoptosis": _ratios(a24, n24 + a24),
            "g0g1": g1_0 + (g1_max - g1_0) * (1.0 - _ratios(g, g0)),
            "cleaved_parp": d * n24 * hours,
        }
    out = np.full((len(pairs), len(wanted)), np.nan)
    out[np.asarray(good, dtype=bool)] = np.column_stack([table[k] for k in wanted]).reshape(-1, len(wanted))
    out.flags.writeable = False
    status, message = [Status.OK] * len(pairs), [""] * len(pairs)
    for k, ((ref, ss), ok) in enumerate(zip(pairs, good, strict=True)):
        if ok:
            continue
        what, s = next((w, s) for w, s in (("untreated (DMSO) reference", ref), ("treated condition", ss))
                       if not s.ok)
        hint = "; the fast mode needs a steady state: use mode='full'" if s.status == Status.OSCILLATING else ""
        status[k], message[k] = s.status, f"{what}: {s.message}{hint}"
    return ReadoutTable(wanted, out, tuple(status), tuple(message))
