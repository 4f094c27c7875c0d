"""What the live teaching page computes, independent of the web framework.

Every panel is a function of a frozen :class:`PageState` (the page's controls), memoised per
:class:`TeachPage` on only the controls that panel depends on: moving the time slider recomputes the time
course, not the 36-well matrix. The engine keeps one stateful solver per model per process and is not
thread-safe, while Dash serves callbacks on several threads, so every engine call of a page holds its lock.

Switches are the model's named ``[switches]`` (``models/<model>.toml``): each is a set of parameter values
applied through ``make_condition(..., values=...)``, i.e. to the treated *and* the untreated condition, so
before pre-equilibration. All numbers are computed with :data:`PAGE_OPTIONS` (tighter than the engine's
default; see there).

Only Model A (``mpnst``) is offered. Model B (``melanoma``) is not: it has no steady state (its cell
population grows), so neither the steady-state dose-response nor the matrix exists for it, it declares no
feedback switches, and its question (senescence and escape over 33 days) is not a signalling time course.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from ..engine import SolverOptions, steady_states, time_course
from ..errors import InputError
from ..model import CompiledModel, Condition, Switch, cell_lines_for, load_model, make_condition, switch_values
from ..readouts import LogisticFit, fit_logistic
from ..synergy import synergy_scores

__all__ = ["PAGE_MODELS", "PAGE_OPTIONS", "DoseResponsePanel", "MatrixPanel", "PageModel", "PageState", "Switch",
           "TeachPage", "TimeCoursePanel", "dose_of_slider", "model_switches"]

#: Tighter than the engine's default (rtol 1e-6). In one process the engine's result for a condition depends
#: on what ran before it at the last-bit level of the pre-equilibrated state, which CVODE at rtol 1e-6
#: amplifies to up to ~1e-6 relative (the research saw 1.3e-6 once in ~10 browser-test runs); at 1e-8/1e-12
#: the spread is ~1e-10. So what the page plots and a fresh Python process agree far inside the 1e-6 the
#: browser test checks. A time course costs ~6 ms instead of ~3.
PAGE_OPTIONS = SolverOptions(rtol=1e-8, atol=1e-12)
#: the leftmost stop of a dose slider means 0 nM (slider positions are log10 nM)
ZERO_STOP = 0.5


@dataclass(frozen=True)
class Node:
    """A feedback node plotted beside p-ERK and p-MEK: ``numerator / sum(denominator)`` of selected ids."""

    label: str
    unit: str
    numerator: str
    denominator: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageModel:
    """What the page shows for one model: its two drugs, dose grids, slider ranges and feedback nodes."""

    name: str
    label: str
    drug_a: str
    drug_b: str
    slider_a: tuple[float, float]  # log10 nM
    slider_b: tuple[float, float]
    default_a: float  # nM
    default_line: str
    dr_doses: tuple[float, ...]  # drug A, nM (0 first)
    matrix_a: tuple[float, ...]  # nM (0 first)
    matrix_b: tuple[float, ...]
    nodes: tuple[Node, ...]
    n_times: int = 121


PAGE_MODELS = MappingProxyType({
    "mpnst": PageModel(
        name="mpnst", label="Model A: NF1-null MPNST (mpnst)", drug_a="trametinib", drug_b="src_inhibitor_1",
        slider_a=(-2.0, 2.0), slider_b=(1.0, 4.0), default_a=3.0, default_line="S462",
        dr_doses=(0.0, *np.geomspace(0.01, 100.0, 9).round(12)),
        matrix_a=(0.0, 0.1, 0.3, 1.0, 3.0, 10.0), matrix_b=(0.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0),
        nodes=(Node("SOS, ERK-inhibited (SOSp)", "fraction of SOS", "SOSp", ("SOS", "SOSp")),
               Node("RAF, refractory (RAFi)", "fraction of RAF", "RAFi", ("RAF", "RAFa", "RAFi")),
               Node("DUSP", "normalised units (nu)", "DUSP")),
    ),
})


def dose_of_slider(position: float | None, lo: float) -> float:
    """Dose (nM, 3 significant digits) of a slider position (log10 nM); the stop left of ``lo`` is 0 nM."""
    if position is None or position <= lo - ZERO_STOP / 2:
        return 0.0
    return float(f"{10.0 ** position:.3g}")


def model_switches(model: CompiledModel) -> tuple[Switch, ...]:
    """The model's named switches (:attr:`CompiledModel.switches`, the ``[switches]`` of its metadata).

    Each switch's note (the comment after its entry in ``<model>.toml``) is shown on the page. A model without
    a metadata file or without switches has none.
    """
    return model.switches


@dataclass(frozen=True)
class PageState:
    """Every control of the page (hashable: the panels are memoised on it)."""

    model: str = "mpnst"
    cell_line: str = "S462"
    dose_a: float = 3.0  # nM of the model's drug A
    dose_b: float = 0.0  # nM of drug B
    hours: float = 4.0  # time course from 0 to this many hours after the drug
    off: frozenset[str] = frozenset()  # names of the switches turned off


@dataclass(frozen=True)
class TimeCoursePanel:
    """p-ERK, p-MEK and the feedback nodes after the drugs are added to the pre-equilibrated untreated cell."""

    hours: np.ndarray
    model_times: np.ndarray  # in the model's time unit (what the engine was given)
    series: Mapping[str, np.ndarray]  # "pERK", "pMEK" and each node label
    status: str
    message: str


@dataclass(frozen=True)
class DoseResponsePanel:
    """Steady-state p-ERK versus drug A (drug B held at its slider dose), with a 4-parameter logistic fit."""

    doses: np.ndarray
    perk: np.ndarray
    statuses: tuple[str, ...]
    fit: LogisticFit | None


@dataclass(frozen=True)
class MatrixPanel:
    """The 6 x 6 steady-state matrix of both drugs: p-ERK, fraction affected, Bliss excess and CI."""

    doses_a: np.ndarray
    doses_b: np.ndarray
    perk: np.ndarray  # steady-state p-ERK (observable units)
    fa: np.ndarray  # 1 - pERK/pERK(untreated, same line and switches)
    bliss: np.ndarray
    ci: np.ndarray
    statuses: tuple[str, ...]
    ci_at_50: float  # CI of the constant-ratio mixture at fa = 0.5 (NaN if undefined)
    notes: tuple[str, ...] = field(default=())  # why some wells have no score


class TeachPage:
    """The compute behind one page: the loaded model, its switches, a lock and the memoised panels."""

    def __init__(self, model_name: str = "mpnst", *, cache_size: int = 2048) -> None:
        if model_name not in PAGE_MODELS:
            raise InputError(f"the teaching page offers {', '.join(PAGE_MODELS)}, not {model_name!r}.")
        self.spec = PAGE_MODELS[model_name]
        self.model = load_model(model_name)
        self.switches = {s.name: s for s in model_switches(self.model)}
        self.cell_lines = cell_lines_for(self.model)
        # One re-entrant lock serialises every panel: the engine is not thread-safe, and two callbacks asking
        # for the same panel at once (the time-course callback's summary needs all three) then compute it once.
        self.lock = threading.RLock()
        self._time_course = lru_cache(maxsize=cache_size)(self._compute_time_course)
        self._dose_response = lru_cache(maxsize=cache_size)(self._compute_dose_response)
        self._matrix = lru_cache(maxsize=cache_size)(self._compute_matrix)

    # ------------------------------------------------------------------------------------------ inputs
    def values(self, state: PageState) -> dict[str, float]:
        """Parameter values of the switches turned off (applied before pre-equilibration)."""
        return switch_values(self.model, sorted(state.off))

    def condition(self, state: PageState, dose_a: float, dose_b: float) -> Condition:
        """The condition of ``state``'s line and switches at these doses (nM)."""
        return make_condition(self.model, state.cell_line, {self.spec.drug_a: dose_a, self.spec.drug_b: dose_b},
                                 values=self.values(state))

    def model_times(self, hours: float) -> np.ndarray:
        """Times (model units) of the time-course panel: 0 to ``hours``, ``n_times`` points."""
        if self.model.time_unit is None:  # the page's bundled models declare one (models/<name>.toml)
            raise InputError(f"model {self.model.name!r} declares no time_unit (s, min, h or d): the page shows hours.")
        per_hour = {"s": 3600.0, "min": 60.0, "h": 1.0, "d": 1.0 / 24.0}[self.model.time_unit]
        return np.linspace(0.0, hours * per_hour, self.spec.n_times)

    # ------------------------------------------------------------------------------------------ panels
    def time_course(self, state: PageState) -> TimeCoursePanel:
        """The time-course panel of ``state`` (memoised)."""
        with self.lock:
            return self._time_course(state)

    def dose_response(self, state: PageState) -> DoseResponsePanel:
        """The dose-response panel; depends on the line, drug B's dose and the switches only."""
        with self.lock:
            return self._dose_response(replace(state, dose_a=0.0, hours=0.0))

    def matrix(self, state: PageState) -> MatrixPanel:
        """The matrix panel; depends on the line and the switches only."""
        with self.lock:
            return self._matrix(replace(state, dose_a=0.0, dose_b=0.0, hours=0.0))

    def summary(self, state: PageState) -> dict:
        """The key numbers the "what changed" line compares (JSON-able)."""
        with self.lock:
            return self._summary(state)

    def _summary(self, state: PageState) -> dict:
        tc = self.time_course(state)
        perk = tc.series["pERK"]
        finite = perk[np.isfinite(perk)]
        low = float(finite.min()) if finite.size else math.nan
        fit = self.dose_response(state).fit
        mx = self.matrix(state)
        return {
            "model": state.model, "cell_line": state.cell_line, "dose_a": state.dose_a, "dose_b": state.dose_b,
            "hours": state.hours, "off": sorted(state.off),
            "perk_end": _json_float(perk[-1]), "perk_min": _json_float(low),
            "rebound": _json_float(perk[-1] / low) if low > 0 else None,
            "ec50_rel": _json_float(fit.ec50_rel) if fit is not None else None,
            "ic50_abs": (fit.ic50_abs_text if fit is not None and not math.isfinite(fit.ic50_abs)
                         else _json_float(fit.ic50_abs) if fit is not None else None),
            "bliss_max": _json_float(np.nanmax(mx.bliss)) if np.isfinite(mx.bliss).any() else None,
            "ci_min": _json_float(np.nanmin(mx.ci)) if np.isfinite(mx.ci).any() else None,
        }

    def _compute_time_course(self, state: PageState) -> TimeCoursePanel:
        ids = ["pERK", "pMEK"]
        for node in self.spec.nodes:
            ids += [i for i in (node.numerator, *node.denominator) if i not in ids]
        times = self.model_times(state.hours)
        condition = self.condition(state, state.dose_a, state.dose_b)
        traj = time_course(self.model, times, condition, select=ids, options=PAGE_OPTIONS, throw=False)
        series = {"pERK": np.asarray(traj["pERK"]), "pMEK": np.asarray(traj["pMEK"])}
        for node in self.spec.nodes:
            value = np.asarray(traj[node.numerator], dtype=float)
            if node.denominator:
                value = value / sum(np.asarray(traj[i], dtype=float) for i in node.denominator)
            series[node.label] = value
        hours = times / times[-1] * state.hours
        return TimeCoursePanel(hours, times, MappingProxyType(series), traj.status, traj.message)

    def _compute_dose_response(self, state: PageState) -> DoseResponsePanel:
        doses = np.asarray(self.spec.dr_doses)
        base = self.condition(state, 0.0, state.dose_b)
        conditions = [base.with_doses({self.spec.drug_a: d}) for d in doses]
        records = steady_states(self.model, conditions, select=["pERK"], options=PAGE_OPTIONS)
        perk = np.array([r["pERK"] if r.ok else np.nan for r in records])
        ok = np.isfinite(perk)
        # relative EC50 (the curve's midpoint) and absolute IC50 (p-ERK at 50 % of untreated), named apart as
        # everywhere in mekisim (readouts._logistic): they differ whenever the curve does not fall to 0
        fit = (fit_logistic(doses[ok], perk[ok], absolute_level=0.5 * float(perk[0])) if ok[0] and (ok[1:].sum() >= 5)
               else None)
        return DoseResponsePanel(doses, perk, tuple(r.status for r in records), fit)

    def _compute_matrix(self, state: PageState) -> MatrixPanel:
        a, b = np.asarray(self.spec.matrix_a), np.asarray(self.spec.matrix_b)
        base = self.condition(state, 0.0, 0.0)
        conditions = [base.with_doses({self.spec.drug_a: x, self.spec.drug_b: y}) for x in a for y in b]
        records = steady_states(self.model, conditions, select=["pERK"], options=PAGE_OPTIONS)
        perk = np.array([r["pERK"] if r.ok else np.nan for r in records]).reshape(a.size, b.size)
        fa = 1.0 - perk / perk[0, 0]
        notes = []
        if np.isfinite(fa).all():
            scores = synergy_scores(a, b, fa)
            bliss, ci = np.asarray(scores.bliss), np.asarray(scores.ci)
            ci_at_50 = float(scores.constant_ratio.ci[0])
            if scores.ci_undefined.any():
                notes.append(f"CI undefined in {int(scores.ci_undefined.sum())} wells (fa outside the median-effect "
                             "fit's range)")
            if scores.below_baseline.any():
                notes.append(f"{int(scores.below_baseline.sum())} wells above baseline (p-ERK rose): no CI there")
        else:
            bliss = ci = np.full(fa.shape, np.nan)
            ci_at_50 = math.nan
            bad = sorted({r.status for r in records if not r.ok})
            notes.append(f"{sum(not r.ok for r in records)} of {len(records)} wells without a steady state "
                         f"({', '.join(bad)}): no scores")
        return MatrixPanel(a, b, perk, fa, bliss, ci, tuple(r.status for r in records), ci_at_50, tuple(notes))


def _json_float(x: float) -> float | None:
    """A float for JSON (None for NaN/inf)."""
    x = float(x)
    return x if math.isfinite(x) else None
