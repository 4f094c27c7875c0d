"""What a readout is: the built-in phenotype readouts, a model's declared ones and level readouts."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .._frozen import reduce_frozen
from ..errors import InputError
from ..model import CompiledModel
from ..status import Status

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


_HOURS = {"s": 3600.0, "min": 60.0, "h": 1.0, "d": 1.0 / 24.0}  # model time units per hour


#: effect form (:data:`simulator.model.EFFECT_FORMS`) -> values to fraction affected
_FRACTION_AFFECTED: Mapping[str, Callable[[np.ndarray], np.ndarray]] = MappingProxyType({
    "value": lambda values: values,
    "1-value": lambda values: 1.0 - values,
    "1-value/100": lambda values: 1.0 - values / 100.0,
})


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
        if self.effect not in _FRACTION_AFFECTED:
            raise InputError(f"readout {self.id!r} has no fraction-affected form (it is not an inhibition readout).")
        return _FRACTION_AFFECTED[self.effect](np.asarray(values, dtype=float))


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
        return self.status == Status.OK

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


def unknown_readout_message(model: CompiledModel, unknown: Sequence[str]) -> str:
    """"unknown readout(s) ...; valid: ..." naming the model's readouts and the level-readout form."""
    available = readouts_for(model)
    listed = f"{', '.join(available)}; or " if available else ""
    return (f"unknown readout(s) {', '.join(map(repr, unknown)) or '(none given)'} for model {model.name!r}; valid: "
            f"{listed}{level_hint(model)}.")


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
    return ReadoutRecord(MappingProxyType({k: values[k] for k in wanted}), bad.status if bad else Status.OK,
                         bad.message if bad else "")


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
    return ReadoutRecord(MappingProxyType({k: float(values[k]) for k in wanted}), Status.OK, message)


def _ratios(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den elementwise, NaN where the DMSO reference is 0 (as :func:`_ratio`)."""
    return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
