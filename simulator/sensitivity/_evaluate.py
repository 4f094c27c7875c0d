"""Every output for a block of parameter vectors, with as few engine calls as possible."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from ..engine import SolverOptions, steady_states, time_courses
from ..model import CellLine, CompiledModel, Condition, Drug, load_cell_lines, load_drugs, make_condition
from ..readouts import Readout, compute_readouts, readouts_for
from ..status import Status
from ..synergy import constant_ratio_ci
from ._outputs import (
    CombinationIndexAt,
    IC50Shift,
    ObservableAt,
    Output,
    ReadoutAt,
    ReadoutGrid,
    _percent_remaining,
    _readout_ids,
    fraction_affected,
)

_Make = Callable[[str | None, Mapping[str, float]], Condition]
_Reduced = tuple[np.ndarray, Status, str]


@dataclass
class _Plan:
    """Requests of one block, grouped by kind so each group is one engine call (private, mutable)."""

    readouts: dict[str, list[Condition]] = field(default_factory=dict)  # mode -> conditions
    steady: dict[tuple[str, ...], list[Condition]] = field(default_factory=dict)  # select -> conditions
    courses: dict[tuple, list[Condition]] = field(default_factory=dict)  # (times, select) -> conditions
    _seen: dict[tuple[str, int], int] = field(default_factory=dict)  # (mode, id(condition)) -> position

    def add_readout(self, mode: str, c: Condition) -> tuple:
        """Queue ``c`` once per mode: outputs asking for the same (cached) condition share its readouts."""
        key = (mode, id(c))
        if key not in self._seen:
            group = self.readouts.setdefault(mode, [])
            group.append(c)
            self._seen[key] = len(group) - 1
        return ("readout", mode, self._seen[key])

    def add_steady(self, select: tuple[str, ...], c: Condition) -> tuple:
        group = self.steady.setdefault(select, [])
        group.append(c)
        return ("steady", select, len(group) - 1)

    def add_course(self, times: tuple[float, ...], select: tuple[str, ...], c: Condition) -> tuple:
        group = self.courses.setdefault((times, select), [])
        group.append(c)
        return ("course", (times, select), len(group) - 1)


def _readout_at_requests(out: ReadoutAt, make: _Make, plan: _Plan) -> list:
    return [plan.add_readout(out.mode, make(out.cell_line, dict(out.doses)))]


def _grid_requests(out: ReadoutGrid, make: _Make, plan: _Plan) -> list:
    return [plan.add_readout(out.mode, make(out.cell_line, {out.drug_a: a, out.drug_b: b})) for a, b in out.pairs()]


def _ci_requests(out: CombinationIndexAt, make: _Make, plan: _Plan) -> list:
    return [plan.add_readout(out.mode, make(out.cell_line, {out.drug_a: a, out.drug_b: b})) for a, b in out.series()]


def _shift_requests(out: IC50Shift, make: _Make, plan: _Plan) -> list:
    return [plan.add_readout(out.mode, make(line, {out.drug: d})) for line in (out.parental, out.resistant)
            for d in out.doses]


def _observable_requests(out: ObservableAt, make: _Make, plan: _Plan) -> list:
    c = make(out.cell_line, dict(out.doses))
    if not out.times:
        return [plan.add_steady((out.observable,), c)]
    times = out.times if out.times[0] == 0.0 else (0.0, *out.times)
    return [plan.add_course(times, (out.observable,), c)]


def _readout_values(out: ReadoutAt | ReadoutGrid, results: list, available: Mapping[str, Readout]) -> _Reduced:
    return np.array([r.values[out.readout] for r in results], dtype=float), Status.OK, ""


def _observable_values(out: ObservableAt, results: list, available: Mapping[str, Readout]) -> _Reduced:
    rec = results[0]
    if not out.times:
        return np.array([rec[out.observable]]), Status.OK, ""
    series = rec[out.observable]
    return (series if out.times[0] == 0.0 else series[1:]).astype(float), Status.OK, ""


def _ci_values(out: CombinationIndexAt, results: list, available: Mapping[str, Readout]) -> _Reduced:
    fa = fraction_affected(available[out.readout], np.array([r.values[out.readout] for r in results], dtype=float))
    return (_ci_median_effect if out.estimator == "median_effect" else _ci_curve)(out, fa)


def _shift_values(out: IC50Shift, results: list, available: Mapping[str, Readout]) -> _Reduced:
    values = np.array([r.values[out.readout] for r in results], dtype=float)
    n = len(out.doses)
    response = _percent_remaining(available[out.readout], values)
    ic50_p, ic50_r = (_ic50(np.asarray(out.doses), response[:n]), _ic50(np.asarray(out.doses), response[n:]))
    shift = ic50_r / ic50_p
    if not math.isfinite(shift):
        which = [name for name, v in ((out.parental, ic50_p), (out.resistant, ic50_r)) if not math.isfinite(v)]
        return (np.array([math.nan]), Status.UNDEFINED,
                f"{out.label}: response does not cross 50 % of control within {out.doses[0]:g}-{out.doses[-1]:g} nM "
                f"in {', '.join(which)}")
    return np.array([shift]), Status.OK, ""


#: a row message for a median-effect CI that the quality rules flag (counted in the run's warnings)
CI_FLAGGED = "CI flagged:"


#: output kind -> (the engine records it needs, queued on a plan; its column values from those records).
#: A new kind of output adds its class to ``_outputs.py``, its parser to ``_PARSERS`` there, and a row here.
_KINDS: dict[type, tuple[Callable[..., list], Callable[..., _Reduced]]] = {
    ReadoutAt: (_readout_at_requests, _readout_values),
    ReadoutGrid: (_grid_requests, _readout_values),
    ObservableAt: (_observable_requests, _observable_values),
    CombinationIndexAt: (_ci_requests, _ci_values),
    IC50Shift: (_shift_requests, _shift_values),
}


def _requests(out: Output, make: _Make, plan: _Plan) -> list:
    """Queue the engine records ``out`` needs on ``plan``; return where each will be."""
    return _KINDS[type(out)][0](out, make, plan)


def _reduce(out: Output, results: list, available: Mapping[str, Readout]) -> _Reduced:
    """(column values, status, message) of one output from its engine records."""
    bad = [r for r in results if r.status != Status.OK]
    if bad:
        return (np.full(len(out.column_keys()), np.nan), Status.FAILED,
                f"{out.label}: {len(bad)} simulation(s) not ok ({bad[0].status}: {bad[0].message})")
    return _KINDS[type(out)][1](out, results, available)


def _ci_median_effect(out: CombinationIndexAt, fa: np.ndarray) -> _Reduced:
    """Chou-Talalay CI by the one constant-ratio path of mekisim (:func:`simulator.synergy.constant_ratio_ci`).

    A CI the quality rules flag (a fit with r < 0.95, too few points in 0.02-0.98, an fa outside the fitted range;
    ``simulator.synergy.CI_QUALITY``) keeps its value, so the sample stays whole, but its row's message starts
    with :data:`CI_FLAGGED`; the run's warnings count those rows, so nobody reads indices of flagged CIs unawares.
    """
    na, nb = len(out.doses_a), len(out.doses_b)
    a = np.asarray(out.doses_a)
    table = constant_ratio_ci(a, fa[:na], np.asarray(out.doses_b), fa[na:na + nb], fa[na + nb:], out.ratio,
                              tuple(out.fa), mix_doses_a=a)
    ci = np.asarray(table.ci, dtype=float)
    if table.status != Status.OK or not np.all(np.isfinite(ci)):
        return ci, Status.UNDEFINED, f"{out.label}: CI undefined ({table.message or table.status})"
    flagged = [f"fa {level:g}: {flag}" for level, flag in zip(out.fa, table.flags, strict=True) if flag]
    if flagged:
        return ci, Status.OK, f"{CI_FLAGGED} {out.label}: {'; '.join(flagged)}"
    return ci, Status.OK, ""


def _ci_curve(out: CombinationIndexAt, fa: np.ndarray) -> _Reduced:
    na, nb = len(out.doses_a), len(out.doses_b)
    a, b = np.asarray(out.doses_a), np.asarray(out.doses_b)
    total = a * (1.0 + 1.0 / out.ratio)
    share_a = out.ratio / (1.0 + out.ratio)
    ci, notes, status = np.full(len(out.fa), np.nan), [], Status.OK
    for k, level in enumerate(out.fa):
        dx_a = _dose_at(a, fa[:na], level)
        dx_mix = _dose_at(total, fa[na + nb:], level)
        if not (math.isfinite(dx_a) and math.isfinite(dx_mix)):
            which = [n for n, v in ((f"{out.drug_a} alone", dx_a), ("the mixture", dx_mix)) if not math.isfinite(v)]
            notes.append(f"fa {level:g} not reached by {' and '.join(which)} within the series")
            status = Status.UNDEFINED
            continue
        d_a, d_b = dx_mix * share_a, dx_mix * (1.0 - share_a)
        dx_b = _dose_at(b, fa[na:na + nb], level)
        term_b = d_b / dx_b if math.isfinite(dx_b) else 0.0
        if not math.isfinite(dx_b):
            if np.nanmax(fa[na:na + nb]) >= level:
                notes.append(f"fa {level:g}: {out.drug_b} alone reaches it below its lowest dose")
                status = Status.UNDEFINED
                continue
            notes.append(f"fa {level:g}: {out.drug_b} alone stays below it up to {b[-1]:g} nM; its term "
                         f"(< {d_b / b[-1]:.3g}) taken as 0")
        ci[k] = d_a / dx_a + term_b
    message = f"{out.label}: " + "; ".join(notes) if notes else ""
    return ci, status, message


def _dose_at(doses: np.ndarray, effect: np.ndarray, level: float) -> float:
    """Lowest dose where ``effect`` (rising with dose) reaches ``level``, by PCHIP in log10 dose.

    NaN if it never does, or already does at the lowest dose (the crossing is then below the series). PCHIP
    is monotone between the points, so the crossing lies inside the bracketing interval and the estimate
    changes smoothly with the parameters (what a sensitivity index needs).
    """
    from scipy.interpolate import PchipInterpolator
    from scipy.optimize import brentq

    x, y = np.log10(doses), np.asarray(effect, dtype=float) - level
    if not np.all(np.isfinite(y)):
        return math.nan
    above = np.flatnonzero(y >= 0)
    if above.size == 0 or above[0] == 0:
        return math.nan
    i = int(above[0])
    if y[i] == 0:
        return float(doses[i])
    curve = PchipInterpolator(x, y)
    return float(10.0 ** brentq(lambda v: float(curve(v)), x[i - 1], x[i], xtol=1e-12))


def _ic50(doses: np.ndarray, response: np.ndarray) -> float:
    """Dose where ``response`` (% of control) first falls to 50 (:func:`_dose_at` on 100 - response)."""
    return _dose_at(doses, 100.0 - np.asarray(response, dtype=float), 50.0)


def evaluate_rows(
    model: CompiledModel,
    param_ids: Sequence[str],
    values: np.ndarray,
    outputs: Sequence[Output],
    *,
    options: SolverOptions | None = None,
    catalog: Mapping[str, Drug] | None = None,
    lines: Mapping[str, CellLine] | None = None,
    held: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, list[Status], list[str]]:
    """Evaluate every output for each row of ``values`` (parameter values, columns ``param_ids``).

    Parameters
    ----------
    model
        The compiled model.
    param_ids
        Parameter ids, one per column of ``values``.
    values
        Parameter values (linear scale), shape (rows, len(param_ids)).
    outputs
        The outputs to evaluate (:func:`parse_output`).
    options
        Solver settings passed to the engine.
    catalog, lines
        Drug catalogue and cell lines; default to the bundled files.
    held
        Values every evaluation applies over the cell line's (``--set``/``--switch-off``), before
        pre-equilibration; none of them may be a column.

    Returns
    -------
    tuple
        ``Y`` of shape (rows, total columns), the status of each row (``"ok"``, ``"failed"``,
        ``"undefined"``) and its message (the first problems, joined).
    """
    catalog = load_drugs() if catalog is None else catalog
    lines = load_cell_lines() if lines is None else lines
    values = np.asarray(values, dtype=float)
    plan = _Plan()
    row_requests: list[list[list]] = []
    base_params = dict(model.parameters)
    for row in values:
        sample = dict(zip(param_ids, row.tolist(), strict=True))
        base = {**base_params, **{k: v for k, v in sample.items() if k in base_params}}
        per_line: dict[str | None, dict[str, float]] = {}
        made: dict[tuple, Condition] = {}  # one Condition per (line, doses) of this row, shared by outputs

        def make(line: str | None, doses: Mapping[str, float], sample=sample, base=base, per_line=per_line,
                 made=made):
            key = (line, tuple(sorted(doses.items())))
            if key not in made:
                if line not in per_line:
                    per_line[line] = {**sample, **(lines[line].values(base) if line is not None else {}),
                                      **(held or {})}
                made[key] = make_condition(model, line, doses, values=per_line[line], catalog=catalog, lines=lines)
            return made[key]

        row_requests.append([_requests(out, make, plan) for out in outputs])

    done: dict[tuple, list] = {}
    available = readouts_for(model, _readout_ids(outputs))
    for mode, conds in plan.readouts.items():
        wanted = sorted({cast(Any, o).readout for o in outputs if getattr(o, "mode", None) == mode})  # readouts
        done[("readout", mode)] = compute_readouts(model, conds, mode=mode, readouts=wanted, options=options)
    for select, conds in plan.steady.items():
        done[("steady", select)] = steady_states(model, conds, select=list(select), options=options)
    for (times, select), conds in plan.courses.items():
        done[("course", (times, select))] = time_courses(model, list(times), conds, select=list(select),
                                                           options=options)
    return _collect(outputs, row_requests, done, available)


def _collect(outputs: Sequence[Output], row_requests: list[list[list]], done: dict[tuple, list],
             available: Mapping[str, Readout]) -> tuple[np.ndarray, list[Status], list[str]]:
    """:func:`evaluate_rows`' table from the solved records: each output reduced per row, a status per row."""
    n_cols = sum(len(o.column_keys()) for o in outputs)
    y = np.full((len(row_requests), n_cols), np.nan)
    statuses: list[Status] = []
    messages: list[str] = []
    for i, requests in enumerate(row_requests):
        col, status, notes = 0, Status.OK, []
        for out, reqs in zip(outputs, requests, strict=True):
            records = [done[(kind, key)][k] for kind, key, k in reqs]
            vals, st, msg = _reduce(out, records, available)
            y[i, col:col + len(vals)] = vals
            col += len(vals)
            if st == Status.FAILED or (st == Status.UNDEFINED and status == Status.OK):
                status = st
            if msg:
                notes.append(msg)
        if status == Status.OK and not np.all(np.isfinite(y[i])):
            status = Status.UNDEFINED
            notes.append("a non-finite output value (e.g. a readout relative to a DMSO value of 0)")
        statuses.append(status)
        messages.append("; ".join(notes[:3]) + (f"; ... ({len(notes) - 3} more)" if len(notes) > 3 else ""))
    return y, statuses, messages
