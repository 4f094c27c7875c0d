"""Phenotype readouts from the signalling model: p-ERK suppression, CCK-8 viability, apoptosis, G0/G1.

The readout layer of biology.md section 3. The signalling model supplies three ids, which any model used
here must define (Model A does, Model B will): ``pERK`` (p-ERK observable), ``g`` (proliferation rate) and
``d`` (apoptosis rate), both per model time unit. Cells then follow

    dN/dt = (g - d)*N,    dA/dt = d*N - kcl*A,    N(0) = 1, A(0) = 0

(N viable cells relative to seeding, A apoptotic cells not yet cleared). The model may also define
``kcl``, ``G1_0`` and ``G1_max``; otherwise the defaults of biology.md section 3 are used (``kcl`` =
ln2/12 h, converted with the model's ``time_unit``; ``G1_0`` = 0.45, ``G1_max`` = 0.85 [A]).

Readouts (:data:`READOUTS`), each relative to DMSO = the *same* condition with every dose 0
(``Condition.untreated``: same cell line, same parameter values):

* ``perk_suppression`` = 1 - pERK/pERK_DMSO
* ``viability`` (CCK-8, 72 h) = 100*N_drug(72 h)/N_DMSO(72 h); the OD is assumed proportional to viable
  cells after background subtraction, so there is no offset term
* ``apoptosis`` (Annexin-V+, 24 h) = A/(N + A)
* ``g0g1`` (24 h) = G1_0 + (G1_max - G1_0)*(1 - g/g_DMSO) (phenomenological; g_DMSO is the same line's)
* ``cleaved_parp`` (24 h) = d*N per hour, the apoptotic flux (proxy for a cleaved-PARP western band)

Two modes:

* ``"fast"``: signalling at steady state (one steady state per condition, plus one per distinct untreated
  condition), then g and d are held constant from t = 0 and the closed forms of :func:`closed_form_cells`
  apply. This assumes signalling equilibrates in much less than 24-72 h. Model A's MAPK adapts within
  ~4 h (p-ERK dips below 1 % within 15 min of a MEK inhibitor and rebounds), and the integrin/FAK/SRC
  tier within an hour; the laminin pool (LAMA4, t1/2 ~ 23 h) does not, so anything that changed the
  LAMA4 supply at t = 0 would break the assumption. No catalogue drug does (obtustatin blocks
  integrin engagement, which relaxes in minutes), so in Model A the gap is the adaptation transient.
* ``"full"``: the cell numbers are integrated together with the signalling. :func:`with_population_layer`
  appends species ``pop_N``/``pop_A`` and reactions to a copy of the SBML. A switch parameter ``pop_on`` is 0 in the
  untreated pre-equilibration (where ``pop_N`` is held at 1 and ``pop_A`` at 0, so that steady state
  exists) and 1 in the treated run, so the drug and growth start together at t = 0. p-ERK suppression is
  then read at 24 h after drug addition (the time of the other short readouts), not at steady state.

Fast vs full on Model A (measured; tests/test_readouts.py holds viability to 4 percentage points):
three MEK inhibitors, 10 pM - 10 uM, S462 and S462_R1: viability differs by at most 3.0 pp (TAK-733
56 nM in R1; trametinib: 2.35 pp at 10 nM in R1, 0.76 pp in S462), always lower in full mode because g
is lower during the first hours of adaptation; Annexin-V+ by at most 0.0013; p-ERK suppression and
G0/G1 (read at 24 h, after the adaptation) by < 1e-6. GSK2256098 or SRC inhibitor 1 at 10 uM in R1:
about 2 pp. The fast mode also cannot handle a model that oscillates (status ``"oscillating"``).

The population layer is built by editing SBML with ``libsbml`` directly (as :mod:`simulator.drugs` does)
and recompiled through :mod:`simulator.model`; this module never imports antimony or roadrunner.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .conditions import Condition
from .drugs import existing_ids
from .engine import FAILED, OK, OSCILLATING, SolverOptions, steady_states, time_courses
from .errors import InputError
from .model import CompiledModel, DeclaredReadout, from_sbml_text, metadata_of, reduce_frozen

__all__ = [
    "LEVEL_CONVENTION",
    "LEVEL_PREFIX",
    "MODES",
    "READOUTS",
    "REQUIRED_IDS",
    "Readout",
    "ReadoutRecord",
    "ReadoutTable",
    "closed_form_cells",
    "compute_readout_table",
    "compute_readouts",
    "level_readout",
    "readouts_for",
    "with_population_layer",
]

MODES = ("fast", "full")

#: Ids a model must define for readouts: the p-ERK observable and the proliferation and death rates.
REQUIRED_IDS = ("pERK", "g", "d")

#: Readout times (hours after drug addition).
VIABILITY_HOURS = 72.0
SHORT_HOURS = 24.0

#: Defaults for models that do not define these ids (biology.md section 3; G1 fractions [A]).
DEFAULT_KCL_PER_HOUR = math.log(2) / 12.0
DEFAULT_G1_0 = 0.45
DEFAULT_G1_MAX = 0.85

#: Ids of the population layer (prefixed so they cannot clash with a model's own N or A).
POP_N, POP_A, POP_ON, POP_RELAX, POP_COMPARTMENT = "pop_N", "pop_A", "pop_on", "pop_relax", "pop_volume"

_HOURS = {"s": 3600.0, "min": 60.0, "h": 1.0, "d": 1.0 / 24.0}  # model time units per hour


@dataclass(frozen=True)
class Readout:
    """A phenotype readout: its id (tables, CLI), a label and unit for plots, and what it means.

    ``effect`` says how a value becomes a fraction affected (synergy scores, dose-response), one of
    :data:`simulator.model.EFFECT_FORMS`, or ``None`` for readouts without one (apoptosis, G0/G1).
    ``level`` is set for a *level readout* (:func:`level_readout`): the model id whose steady-state level,
    relative to the untreated condition, is the value.
    """

    id: str
    label: str
    unit: str
    description: str
    effect: str | None = None
    level: str | None = None

    def fraction_affected(self, values: np.ndarray) -> np.ndarray:
        """Values -> fraction affected; values beyond the untreated one are kept (negative fa), never clipped."""
        values = np.asarray(values, dtype=float)
        if self.effect == "value":
            return values
        if self.effect == "1-value":
            return 1.0 - values
        if self.effect == "1-value/100":
            return 1.0 - values / 100.0
        raise InputError(f"readout {self.id!r} has no fraction-affected form (it is not an inhibition readout).")


READOUTS: Mapping[str, Readout] = MappingProxyType({r.id: r for r in (
    Readout("perk_suppression", "p-ERK suppression", "fraction of DMSO",
            "1 - pERK/pERK_DMSO (same line, every dose 0); steady state (fast) or 24 h after the drug (full)",
            effect="value"),
    Readout("viability", "Viability (CCK-8, 72 h)", "% of DMSO",
            "100*N_drug(72 h)/N_DMSO(72 h); OD proportional to viable cells, background subtracted",
            effect="1-value/100"),
    Readout("apoptosis", "Annexin-V+ fraction (24 h)", "fraction",
            "A/(N + A) at 24 h: apoptotic cells not yet cleared over all cells"),
    Readout("g0g1", "G0/G1 fraction (24 h)", "fraction",
            "G1_0 + (G1_max - G1_0)*(1 - g/g_DMSO) at 24 h (phenomenological; g_DMSO of the same line)"),
    Readout("cleaved_parp", "Cleaved-PARP proxy d*N (24 h)", "per h, cells relative to seeding",
            "apoptotic flux d*N at 24 h, the proxy for a cleaved-PARP western band"),
)})


@dataclass(frozen=True)
class ReadoutRecord:
    """Readouts of one condition: ``values`` maps readout id -> value (NaN unless ``status == "ok"``).

    ``status`` is ``"ok"``, ``"failed"`` (a solve or integration failed; ``message`` says which) or
    ``"oscillating"`` (fast mode only: the signalling has no steady state; use ``mode="full"``).
    """

    values: Mapping[str, float]
    status: str
    message: str = ""

    __reduce__ = reduce_frozen

    @property
    def ok(self) -> bool:
        """True when every readout was computed."""
        return self.status == OK

    def __getitem__(self, key: str) -> float:
        return self.values[key]


@dataclass(frozen=True)
class ReadoutTable:
    """Readouts of many conditions as columns, in the order the conditions were given.

    What a screen stores: building a :class:`ReadoutRecord` per well and reading it back cost ~8 us per well,
    as much as a twentieth of its steady state. :meth:`records` gives the records when they are wanted.

    Attributes
    ----------
    readouts
        Readout ids, the column order of ``values``.
    values
        Shape (conditions, readouts); a row is NaN unless its status is ``"ok"`` (read-only).
    status, message
        Per condition, as in :class:`ReadoutRecord`.
    """

    readouts: tuple[str, ...]
    values: np.ndarray
    status: tuple[str, ...]
    message: tuple[str, ...]

    __reduce__ = reduce_frozen

    def records(self) -> list[ReadoutRecord]:
        """One :class:`ReadoutRecord` per condition (a failed one holds NaN for every readout)."""
        return [ReadoutRecord(MappingProxyType(dict(zip(self.readouts, row, strict=True))), status, message)
                for row, status, message in zip(self.values.tolist(), self.status, self.message, strict=True)]

    @classmethod
    def from_records(cls, readouts: tuple[str, ...], records: Sequence[ReadoutRecord]) -> ReadoutTable:
        """The table of ``records`` (each holding every id of ``readouts``)."""
        values = np.array([[r.values[k] for k in readouts] for r in records], dtype=float).reshape(-1, len(readouts))
        values.flags.writeable = False
        return cls(readouts, values, tuple(r.status for r in records), tuple(r.message for r in records))


# ------------------------------------------------------------------------------------------ closed forms


def closed_form_cells(g, d, kcl, t):
    """Viable and apoptotic cells ``(N, A)`` at time ``t`` for constant rates (N(0) = 1, A(0) = 0).

    ``N = exp((g - d) t)`` and ``A = d (exp((g - d) t) - exp(-kcl t))/(g - d + kcl)``, written as
    ``A = d t exp(-kcl t) expm1(x)/x`` with ``x = (g - d + kcl) t``, which is exact and stays accurate
    as ``g - d + kcl -> 0`` (limit ``A = d t exp(-kcl t)``). All arguments broadcast; rates and time in
    the same (model) time unit.
    """
    g, d, kcl, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (g, d, kcl, t)))
    r = g - d
    x = (r + kcl) * t
    safe = np.where(x == 0.0, 1.0, x)
    phi1 = np.where(x == 0.0, 1.0, np.expm1(safe) / safe)
    n_cells = np.exp(r * t)
    a_cells = d * t * np.exp(-kcl * t) * phi1
    if n_cells.ndim == 0:
        return float(n_cells), float(a_cells)
    return n_cells, a_cells


# ------------------------------------------------------------------------------------------- the API


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
        :class:`~simulator.conditions.Condition` values (``make_condition``); each one's DMSO reference is
        its ``untreated`` mapping, solved once per distinct untreated condition within this call.
    mode
        ``"fast"`` (steady-state signalling, closed-form cell numbers) or ``"full"`` (cell numbers
        integrated with the signalling over 72 h). See the module docstring for when they differ.
    readouts
        Readout ids (:data:`READOUTS`); default all.
    options
        Solver settings passed to the engine.

    Raises
    ------
    InputError
        Unknown mode or readout id, a model missing a required id or a time unit, or a condition that is
        not a :class:`~simulator.conditions.Condition`.
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


def unknown_readout_message(model: CompiledModel, unknown: Sequence[str]) -> str:
    """"unknown readout(s) ...; valid: ..." naming the model's readouts and the level-readout form."""
    available = readouts_for(model)
    listed = f"{', '.join(available)}; or " if available else ""
    return (f"unknown readout(s) {', '.join(map(repr, unknown)) or '(none given)'} for model {model.name!r}; valid: "
            f"{listed}{level_hint(model)}.")


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


def readouts_for(model: CompiledModel, levels: Sequence[str] = ()) -> Mapping[str, Readout]:
    """Every readout ``model`` supports, by id, plus the level readouts named in ``levels``.

    The built-in ones when the model defines ``pERK``, ``g``, ``d`` and a time unit, plus the ones its metadata
    declares (``[readouts.<id>]``; they take precedence on a shared id). Any observable or species is a readout
    too (:func:`level_readout`), so there are too many to list: ``levels`` names the ones wanted (ids that are
    neither are left out, so a caller's "unknown readout" check still catches them).
    """
    out: dict[str, Readout] = {}
    readable = set(model.readable_ids())
    if all(i in readable for i in REQUIRED_IDS) and model.time_unit in _HOURS:
        out.update(READOUTS)
    for r in model.readouts:
        out[r.id] = Readout(r.id, r.label, r.unit, r.description or f"{r.observable} at t = {r.time:g} "
                            f"{model.time_unit or 'model time units'} after drug addition", effect=r.effect)
    for text in levels:
        if text not in out:
            level = level_readout(model, text)
            if level is not None:
                out[text] = level
    return MappingProxyType(out)


#: prefix of a level readout that names a species explicitly (``species:X``), even one whose id is a readout's
LEVEL_PREFIX = "species:"
#: how a level readout turns into a fraction affected (stated in manifests and the README)
LEVEL_CONVENTION = (
    "level readout X (an observable or species id, or species:X): value = X/X_untreated, X at steady state with "
    "the drug present and X_untreated the same condition with every dose 0; fraction affected = 1 - value. A "
    "condition that oscillates (no steady state) is read as the time-average of X over the last whole periods "
    "of its limit cycle (what a bulk assay of unsynchronised cells measures), and its message says so."
)


def level_readout(model: CompiledModel, text: str) -> Readout | None:
    """The level readout ``text`` names on ``model`` (``MAPK_PP``, ``pERK`` or ``species:MAPK_PP``), or None.

    Why: a user's own model declares no phenotype readouts, yet a dose-response or a screen needs one; the
    level of any observable or species, relative to untreated, is what a western blot normalised to DMSO
    shows. A bare id must be an observable, a species or an assignment-rule target (a constant parameter does
    not respond to a drug); ``species:X`` must be a species.
    """
    if text.startswith(LEVEL_PREFIX):
        sid = text[len(LEVEL_PREFIX):]
        if sid not in model.concentration_ids or sid not in set(model.readable_ids()):
            return None
    else:
        sid = text
        if sid not in {*model.observable_ids, *model.species, *model.assigned}:
            return None
    return Readout(text, f"{sid} level", "fraction of untreated",
                   f"{sid}/{sid}_untreated at steady state with the drug present (same line, every dose 0); "
                   "an oscillating condition is read as the time-average over the last whole periods",
                   effect="1-value", level=sid)


def level_hint(model: CompiledModel) -> str:
    """What to write for a level readout of ``model``, for error messages (two example ids)."""
    example = (model.observable_ids or model.species or ("X",))[0]
    return (f"any observable or species id of model {model.name!r}, read as its level relative to untreated "
            f"(e.g. {example} or {LEVEL_PREFIX}{example})")


def _merge(wanted: tuple[str, ...], records: Sequence[ReadoutRecord]) -> ReadoutRecord:
    """One record from the built-in and the declared readouts of one condition (the first failure wins)."""
    values = {}
    for record in records:
        values.update(record.values)
    bad = next((r for r in records if not r.ok), None)
    return ReadoutRecord(MappingProxyType({k: values[k] for k in wanted}), bad.status if bad else OK,
                         bad.message if bad else "")


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
            out.append(ReadoutRecord(MappingProxyType(values), OK))
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
        if state.status == OSCILLATING and state.mean is not None:
            return state.mean
        return None

    out = []
    for c in conditions:
        treated, untreated = states[_key(c.values)], states[_key(c.untreated)]
        bad = [(what, s) for what, s in (("untreated reference", untreated), ("treated condition", treated))
               if level(s) is None]
        if bad:
            what, s = bad[0]
            out.append(_nan_record(names, s.status if s.status != OK else FAILED, f"{what}: {s.message}"))
            continue
        x, x0 = level(treated), level(untreated)
        zero = [r.level for r in wanted if x0[column[r.level]] == 0]
        if zero:
            out.append(_nan_record(names, FAILED, f"the untreated level of {', '.join(zero)} is 0, so the level "
                                                  "relative to untreated is undefined"))
            continue
        pairs = (("untreated reference", untreated),) if treated is untreated else (
            ("untreated reference", untreated), ("treated condition", treated))
        notes = [f"{what} oscillates (period {s.period:.4g} {model.time_unit or 'model time units'}): "
                 f"time-average over its last {s.cycles} periods" for what, s in pairs if s.status == OSCILLATING]
        values = {r.id: float(x[column[r.level]] / x0[column[r.level]]) for r in wanted}
        out.append(ReadoutRecord(MappingProxyType(values), OK, "; ".join(notes)))
    return out


def _require(model: CompiledModel) -> None:
    readable = set(model.readable_ids())
    missing = [i for i in REQUIRED_IDS if i not in readable]
    if missing:
        raise InputError(
            f"model {model.name!r} lacks {', '.join(map(repr, missing))} needed for readouts: define the p-ERK "
            "observable 'pERK' and the proliferation and apoptosis rates 'g' and 'd' (per model time unit), "
            "as in biology.md section 3 (models/mpnst.ant shows the pattern)."
        )


def _model_units_per_hour(model: CompiledModel) -> float:
    if model.time_unit not in _HOURS:
        raise InputError(
            f"model {model.name!r} declares no time unit, so 24 h and 72 h cannot be placed on its time axis; "
            "declare one (SBML timeUnits, or time_unit = \"min\" in the model's .toml metadata)."
        )
    return _HOURS[model.time_unit]


def _key(values: Mapping[str, float]) -> tuple:
    return tuple(sorted(values.items()))


def _optional_ids(model: CompiledModel) -> tuple[str, ...]:
    readable = set(model.readable_ids())
    return tuple(i for i in ("kcl", "G1_0", "G1_max") if i in readable)


def _constants(values: Mapping[str, float], hours: float) -> tuple[float, float, float]:
    """(kcl per model time unit, G1_0, G1_max) from the selected values or the defaults."""
    kcl = values.get("kcl", DEFAULT_KCL_PER_HOUR / hours)
    return kcl, values.get("G1_0", DEFAULT_G1_0), values.get("G1_max", DEFAULT_G1_MAX)


def _nan_record(wanted: tuple[str, ...], status: str, message: str) -> ReadoutRecord:
    return ReadoutRecord(MappingProxyType(dict.fromkeys(wanted, math.nan)), status, message)


def _ratio(num: float, den: float) -> float:
    """num/den, NaN when the DMSO reference is 0 (e.g. a model whose untreated g is 0)."""
    return num / den if den != 0 else math.nan


def _record(wanted: tuple[str, ...], values: Mapping[str, float], message: str = "") -> ReadoutRecord:
    return ReadoutRecord(MappingProxyType({k: float(values[k]) for k in wanted}), OK, message)


# ----------------------------------------------------------------------------------------- fast mode


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
    good = [ref.status == OK and ss.status == OK for ref, ss in pairs]
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
    status, message = [OK] * len(pairs), [""] * len(pairs)
    for k, ((ref, ss), ok) in enumerate(zip(pairs, good, strict=True)):
        if ok:
            continue
        what, s = next((w, s) for w, s in (("untreated (DMSO) reference", ref), ("treated condition", ss))
                       if not s.ok)
        hint = "; the fast mode needs a steady state: use mode='full'" if s.status == OSCILLATING else ""
        status[k], message[k] = s.status, f"{what}: {s.message}{hint}"
    return ReadoutTable(wanted, out, tuple(status), tuple(message))


def _ratios(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den elementwise, NaN where the DMSO reference is 0 (as :func:`_ratio`)."""
    return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


# ----------------------------------------------------------------------------------------- full mode


def with_population_layer(model: CompiledModel) -> CompiledModel:
    """Return a copy of ``model`` with the cell numbers as species (the full mode's model).

    Adds a compartment ``pop_volume`` (size 1), species ``pop_N`` (1) and ``pop_A`` (0), a switch
    parameter ``pop_on`` (default 0), ``pop_relax`` (1 per model time unit) and, if the model has none,
    ``kcl`` (ln2/12 h); and the reactions

    * ``pop_growth``: -> pop_N at ``pop_on*g*pop_N``
    * ``pop_death``: pop_N -> pop_A at ``pop_on*d*pop_N``
    * ``pop_clearance``: pop_A -> at ``kcl*pop_A``
    * ``pop_hold``: -> pop_N at ``(1 - pop_on)*pop_relax*(1 - pop_N)`` (holds N at 1 while switched off,
      so the untreated model with ``pop_on = 0`` has a stable, non-singular steady state)

    With ``pop_on = 0`` the signalling is exactly the original model's.
    """
    import libsbml

    _require(model)
    hours = _model_units_per_hour(model)
    doc = libsbml.readSBMLFromString(model.sbml)
    sbml = doc.getModel()
    new_ids = {POP_N, POP_A, POP_ON, POP_RELAX, POP_COMPARTMENT, "pop_growth", "pop_death", "pop_clearance",
               "pop_hold"}
    existing = existing_ids(sbml)
    taken = sorted(existing & new_ids)
    if taken:
        raise InputError(
            f"model {model.name!r} already has id(s) {', '.join(taken)} that the population layer of the full "
            "readout mode adds; rename them, or use mode='fast'."
        )
    comp = sbml.createCompartment()
    _check(comp.setId(POP_COMPARTMENT), "create the population compartment")
    _check(comp.setSize(1.0), "set the population compartment size")
    _check(comp.setConstant(True), "make the population compartment constant")
    _check(comp.setSpatialDimensions(3), "set the population compartment dimensions")
    for sid, init in ((POP_N, 1.0), (POP_A, 0.0)):
        sp = sbml.createSpecies()
        _check(sp.setId(sid), f"create species {sid}")
        _check(sp.setCompartment(POP_COMPARTMENT), f"place {sid}")
        _check(sp.setInitialConcentration(init), f"set the initial value of {sid}")
        _check(sp.setHasOnlySubstanceUnits(False), f"set the units of {sid}")
        _check(sp.setBoundaryCondition(False), f"set the boundary condition of {sid}")
        _check(sp.setConstant(False), f"make {sid} variable")
    params = [(POP_ON, 0.0), (POP_RELAX, 1.0)]
    if "kcl" not in existing:
        params.append(("kcl", DEFAULT_KCL_PER_HOUR / hours))
    for pid, value in params:
        p = sbml.createParameter()
        _check(p.setId(pid), f"create parameter {pid}")
        _check(p.setValue(value), f"set the value of {pid}")
        _check(p.setConstant(True), f"make {pid} constant")
    vol = POP_COMPARTMENT
    for rid, reactant, product, law, reversible in (
        ("pop_growth", None, POP_N, f"{vol}*{POP_ON}*g*{POP_N}", False),
        ("pop_death", POP_N, POP_A, f"{vol}*{POP_ON}*d*{POP_N}", False),
        ("pop_clearance", POP_A, None, f"{vol}*kcl*{POP_A}", False),
        ("pop_hold", None, POP_N, f"{vol}*(1 - {POP_ON})*{POP_RELAX}*(1 - {POP_N})", True),
    ):
        rxn = sbml.createReaction()
        _check(rxn.setId(rid), f"create reaction {rid}")
        _check(rxn.setReversible(reversible), f"set the reversibility of {rid}")
        if sbml.getLevel() == 3 and sbml.getVersion() == 1:
            _check(rxn.setFast(False), f"set {rid} not fast")
        for sid, make in ((reactant, rxn.createReactant), (product, rxn.createProduct)):
            if sid is not None:
                ref = make()
                _check(ref.setSpecies(sid), f"add {sid} to {rid}")
                _check(ref.setStoichiometry(1.0), f"set the stoichiometry of {sid} in {rid}")
                if sbml.getLevel() >= 3:
                    _check(ref.setConstant(True), f"make the stoichiometry of {sid} in {rid} constant")
        kinetic = rxn.createKineticLaw()
        ast = libsbml.parseL3FormulaWithModel(law, sbml)
        if ast is None:
            raise InputError(f"could not build the rate law {law!r}: {libsbml.getLastParseL3Error().strip()}")
        _check(kinetic.setMath(ast), f"set the rate law of {rid}")
    return from_sbml_text(libsbml.writeSBMLToString(doc), name=model.name, metadata=metadata_of(model))


def _check(status: int, what: str) -> None:
    import libsbml

    if status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise InputError(f"libsbml could not {what}: {libsbml.OperationReturnValue_toString(status)}.")


def _switched(c: Condition, values: Mapping[str, float], doses: Mapping[str, float]) -> Condition:
    """``values`` with the population switched on, pre-equilibrated from ``c.untreated`` with it off."""
    return Condition(
        cell_line=c.cell_line,
        doses=MappingProxyType(dict(doses)),
        values=MappingProxyType({**values, POP_ON: 1.0}),
        untreated=MappingProxyType({**c.untreated, POP_ON: 0.0}),
    )


def _full(model, conditions, wanted, hours, options) -> list[ReadoutRecord]:
    extended = with_population_layer(model)
    select = (POP_N, POP_A, *REQUIRED_IDS, *_optional_ids(extended))
    runs: dict[tuple, Condition] = {}  # one DMSO run per distinct untreated condition, one per treatment
    for c in conditions:
        runs.setdefault(("dmso", _key(c.untreated)), _switched(c, c.untreated, {}))
        if _key(c.values) != _key(c.untreated):
            runs.setdefault(("drug", _key(c.values), _key(c.untreated)), _switched(c, c.values, c.doses))
    times = np.array([0.0, SHORT_HOURS, VIABILITY_HOURS]) * hours
    trajs = dict(zip(runs, time_courses(extended, times, list(runs.values()), select=select, options=options),
                     strict=True))

    out = []
    for c in conditions:
        ref = trajs[("dmso", _key(c.untreated))]
        traj = ref if _key(c.values) == _key(c.untreated) else trajs[("drug", _key(c.values), _key(c.untreated))]
        bad = [(what, t) for what, t in (("DMSO run", ref), ("treated run", traj)) if not t.ok]
        if bad:
            what, t = bad[0]
            out.append(_nan_record(wanted, FAILED, f"{what}: {t.message}"))
            continue
        at24 = {k: float(traj[k][1]) for k in traj.ids}
        ref24 = {k: float(ref[k][1]) for k in ref.ids}
        _, g1_0, g1_max = _constants(at24, hours)
        n24, a24 = at24[POP_N], at24[POP_A]
        notes = "; ".join(sorted({t.message for t in (ref, traj) if t.message}))
        out.append(_record(wanted, {
            "perk_suppression": 1.0 - _ratio(at24["pERK"], ref24["pERK"]),
            "viability": 100.0 * _ratio(float(traj[POP_N][2]), float(ref[POP_N][2])),
            "apoptosis": _ratio(a24, n24 + a24),
            "g0g1": g1_0 + (g1_max - g1_0) * (1.0 - _ratio(at24["g"], ref24["g"])),
            "cleaved_parp": at24["d"] * n24 * hours,
        }, notes))
    return out
