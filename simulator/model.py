"""Load Antimony or SBML into an immutable :class:`CompiledModel`.

This is the only module that imports ``antimony``; ``libsbml`` is imported here to read models and in
``drugs.py`` to edit kinetic laws. Antimony keeps process-global state
(``clearPreviousLoads``), so loads are serialised with a lock; never load models from several threads
without it. Paths and texts have separate functions (no guessing whether a string is a file name).

A model file may have a sibling ``<stem>.toml`` with metadata: ``title``, ``time_unit``, an
``[observables.<id>]`` table per observable (``label``, ``unit``) and an optional ``[pre_equilibration]``
table of ``id = value`` settings applied only while the engine pre-equilibrates the untreated state (a
model whose cell population grows has no steady state; Model B switches its population off there).
Without metadata every floating species is an observable, named by its SBML id (in concentration units,
as roadrunner reports them).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

from .errors import InputError, ModelLoadError
from .textfiles import read_text
from .units import parse_time

__all__ = [
    "CompiledModel",
    "DeclaredReadout",
    "Observable",
    "antimony_to_sbml",
    "bundled_dir",
    "bundled_model_names",
    "from_antimony_text",
    "from_sbml_text",
    "metadata_of",
    "load_antimony",
    "load_model",
    "load_sbml",
    "write_sbml",
]

_ANTIMONY_LOCK = threading.Lock()
_TIME_UNIT_SECONDS = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}


def _rebuild_frozen(cls, state: dict):
    """Unpickle a frozen dataclass whose read-only mappings were pickled as dicts."""
    return cls(**{k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in state.items()})


def reduce_frozen(obj):
    """``__reduce__`` for frozen dataclasses holding ``MappingProxyType`` fields (which do not pickle).

    Results and conditions cross process boundaries (process pools, Dask), so they must pickle.
    """
    state = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        state[f.name] = dict(value) if isinstance(value, MappingProxyType) else value
    return (_rebuild_frozen, (type(obj), state))


@dataclass(frozen=True)
class Observable:
    """A named model output: an SBML id plus the label and unit a table or plot shows."""

    id: str
    label: str
    unit: str


#: How a declared readout turns its value into a fraction affected for synergy scores (None: it has none).
EFFECT_FORMS = ("value", "1-value", "1-value/100")
#: What a declared readout reads from its time course: the value at ``time``, or that value over the
#: minimum between drug addition and ``time`` (regrowth after a nadir).
READOUT_STATISTICS = ("value", "over_min")


@dataclass(frozen=True)
class DeclaredReadout:
    """A phenotype readout a model declares in its metadata (``[readouts.<id>]`` of ``<model>.toml``).

    Why: the readouts of :mod:`simulator.readouts` built for Model A (CCK-8 at 72 h from ``g`` and ``d``) do
    not fit every model; Model B's senescent fraction at day 33 is read from its own population species.
    A declared readout is read from a pre-equilibrated time course with the drug added at t = 0.

    Attributes
    ----------
    id, label, unit, description
        Identity and what a table or plot shows.
    observable
        The model id read (species, parameter or assignment-rule target).
    time
        Time after drug addition, in model time units.
    statistic
        One of :data:`READOUT_STATISTICS`.
    percent_of_untreated
        Report ``100 * value / value_untreated`` (same line, every dose 0), like CCK-8 viability.
    effect
        One of :data:`EFFECT_FORMS` (fraction affected for synergy and dose-response), or ``None``.
    """

    id: str
    label: str
    unit: str
    description: str
    observable: str
    time: float
    statistic: str = "value"
    percent_of_untreated: bool = False
    effect: str | None = None


@dataclass(frozen=True)
class CompiledModel:
    """An SBML model with the ids mekisim needs, identified by the sha256 of its SBML text.

    Attributes
    ----------
    name
        Bundled name or file stem.
    sbml
        SBML text (what the engine compiles; workers rebuild from it).
    sha256
        Hash of ``sbml``; the engine's cache key.
    source
        Where it came from (a path, or ``"<text>"``).
    species
        Floating species ids (values are concentrations).
    parameters
        Default values of every settable global parameter (not an assignment-rule, rate-rule or
        initial-assignment target).
    species_initial
        Default initial concentrations of species without an initial assignment (settable).
    assigned
        Ids computed by assignment rules (readable, not settable).
    concentration_ids
        Every SBML species id (floating, boundary or rule-defined): reported as concentrations.
    reactions
        Reaction ids.
    observables
        Declared observables; defaults to one per floating species.
    time_unit
        ``"s"``, ``"min"``, ``"h"``, ``"d"`` or ``None`` when undeclared.
    title
        Human-readable description.
    pre_equilibration
        Settable id -> value applied on top of the untreated condition only while a time course is
        pre-equilibrated (never to the treated run); empty for most models.
    readouts
        Phenotype readouts the model declares in its metadata (:class:`DeclaredReadout`); empty for most.
    fixed_parameters
        Parameter id -> why analyses hold it at its default (metadata ``[fixed_parameters]``: switches,
        initial conditions, numerical constants); sensitivity ranges leave them out by default.
    no_steady_state
        Why the model has no steady state (metadata ``no_steady_state``, e.g. a growing cell population), or
        ``""``. The engine then refuses steady-state requests at once with this reason instead of searching.
    metadata_sha256
        Hash of the metadata in effect (readouts, observables, fixed parameters... canonical JSON, keys
        sorted), ``""`` when the model has none. :attr:`sha256` covers the SBML only, and the metadata changes
        results too (a readout's time or statistic), so manifests record both.
    """

    name: str
    sbml: str = field(repr=False)
    sha256: str
    source: str
    species: tuple[str, ...]
    parameters: Mapping[str, float] = field(repr=False)
    species_initial: Mapping[str, float] = field(repr=False)
    assigned: tuple[str, ...] = field(repr=False)
    concentration_ids: frozenset[str] = field(repr=False)
    reactions: tuple[str, ...] = field(repr=False)
    observables: tuple[Observable, ...]
    time_unit: str | None
    title: str = ""
    pre_equilibration: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    readouts: tuple[DeclaredReadout, ...] = ()
    no_steady_state: str = ""
    fixed_parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    metadata_sha256: str = ""

    __reduce__ = reduce_frozen

    @property
    def observable_ids(self) -> tuple[str, ...]:
        """Ids of the declared observables, in declaration order."""
        return tuple(o.id for o in self.observables)

    def observable(self, obs_id: str) -> Observable:
        """Return the observable ``obs_id``; raise :class:`InputError` naming the valid ones."""
        for obs in self.observables:
            if obs.id == obs_id:
                return obs
        raise InputError(
            f"model {self.name!r} has no observable {obs_id!r}; valid observables: "
            f"{', '.join(self.observable_ids)}."
        )

    def readable_ids(self) -> tuple[str, ...]:
        """Every id whose value a simulation can report (species, parameters, assignment targets)."""
        return (*self.species, *self.parameters, *self.assigned)


# --------------------------------------------------------------------------------------------- loading


def bundled_dir() -> Path:
    """Directory of the bundled models: ``models/`` of a source checkout, or the copy inside a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_bundled_models", here.parent / "models"):
        if (candidate / "drugs.toml").is_file():
            return candidate
    raise ModelLoadError(f"bundled models not found next to {here}; the installation is incomplete.")


def bundled_model_names() -> tuple[str, ...]:
    """Names of the bundled models (``mpnst``, ...), i.e. the ``*.ant`` files in :func:`bundled_dir`."""
    return tuple(sorted(p.stem for p in bundled_dir().glob("*.ant")))


def load_model(spec: str | Path) -> CompiledModel:
    """Load a bundled model by name (``"mpnst"``) or a model file by path (``.ant``, ``.xml``, ``.sbml``).

    A :class:`~pathlib.Path` is always a path; a string is a bundled name unless it has a model suffix or
    a path separator.
    """
    if isinstance(spec, str) and not _looks_like_path(spec):
        names = bundled_model_names()
        if spec not in names:
            raise InputError(
                f"unknown model {spec!r}; bundled models: {', '.join(names)}, "
                "or give a path to an Antimony (.ant) or SBML (.xml, .sbml) file."
            )
        return load_antimony(bundled_dir() / f"{spec}.ant")
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in (".ant", ".txt", ".antimony"):
        return load_antimony(path)
    if suffix in (".xml", ".sbml"):
        return load_sbml(path)
    raise InputError(f"model file {str(path)!r} has suffix {suffix!r}; valid: .ant (Antimony) or .xml/.sbml (SBML).")


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or Path(spec).suffix.lower() in (".ant", ".xml", ".sbml", ".txt")


def _read(path: Path) -> str:
    if not path.is_file():
        raise ModelLoadError(f"model file {str(path)!r} does not exist or is not a file.")
    try:
        return read_text(path, "model file")
    except InputError as exc:
        raise ModelLoadError(str(exc)) from None


def load_antimony(path: str | Path) -> CompiledModel:
    """Load an Antimony file (and its sibling ``.toml`` metadata, if any)."""
    path = Path(path)
    sbml = antimony_to_sbml(_read(path), source=str(path))
    return _compile(sbml, name=path.stem, source=str(path), metadata=_read_metadata(path))


def load_sbml(path: str | Path) -> CompiledModel:
    """Load an SBML file (and its sibling ``.toml`` metadata, if any)."""
    path = Path(path)
    return _compile(_read(path), name=path.stem, source=str(path), metadata=_read_metadata(path))


def from_antimony_text(text: str, *, name: str = "model", metadata: Mapping | None = None) -> CompiledModel:
    """Compile Antimony source text."""
    sbml = antimony_to_sbml(text, source="<antimony text>")
    return _compile(sbml, name=name, source="<antimony text>", metadata=metadata or {})


def metadata_of(model: CompiledModel, *, observables: bool = True) -> dict:
    """The metadata that rebuilds ``model``'s declarations on edited SBML (the ``<model>.toml`` content).

    Why: code that edits a model's SBML (drug terms, the readouts' population layer) recompiles it with
    :func:`from_sbml_text`; every declaration (title, time unit, observables, pre-equilibration settings,
    readouts) must carry over, or a derived model silently loses one.
    """
    out: dict = {"title": model.title}
    if model.time_unit:
        out["time_unit"] = model.time_unit
    if model.pre_equilibration:
        out["pre_equilibration"] = dict(model.pre_equilibration)
    if model.no_steady_state:
        out["no_steady_state"] = model.no_steady_state
    if model.fixed_parameters:
        out["fixed_parameters"] = dict(model.fixed_parameters)
    if model.readouts:
        out["readouts"] = {
            r.id: {"label": r.label, "unit": r.unit, "description": r.description, "observable": r.observable,
                   "time": repr(r.time), "statistic": r.statistic, "percent_of_untreated": r.percent_of_untreated,
                   **({"effect": r.effect} if r.effect is not None else {})}
            for r in model.readouts
        }
    if observables:
        out["observables"] = {o.id: {"label": o.label, "unit": o.unit} for o in model.observables}
    return out


def from_sbml_text(text: str, *, name: str = "model", metadata: Mapping | None = None) -> CompiledModel:
    """Compile SBML text."""
    return _compile(text, name=name, source="<sbml text>", metadata=metadata or {})


def antimony_to_sbml(text: str, *, source: str = "<antimony text>") -> str:
    """Translate Antimony to SBML text; raise :class:`ModelLoadError` with antimony's message and line."""
    import antimony

    with _ANTIMONY_LOCK:
        antimony.clearPreviousLoads()
        status = antimony.loadAntimonyString(text)
        if status < 0:
            message = (antimony.getLastError() or "unknown antimony error").strip()
            raise ModelLoadError(f"Antimony in {source} could not be parsed: {message}")
        module = antimony.getMainModuleName()
        sbml = antimony.getSBMLString(module)
    if not sbml:
        raise ModelLoadError(f"Antimony in {source} produced no SBML model.")
    return sbml


def _read_metadata(path: Path) -> Mapping:
    meta_path = path.with_suffix(".toml")
    if not meta_path.is_file():
        return {}
    try:
        return tomllib.loads(read_text(meta_path, "model metadata"))
    except InputError as exc:
        raise ModelLoadError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelLoadError(f"model metadata {str(meta_path)!r} is not valid TOML: {exc}.") from exc


# ------------------------------------------------------------------------------------------- compiling


def _compile(sbml: str, *, name: str, source: str, metadata: Mapping) -> CompiledModel:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    model = doc.getModel()
    if errors or model is None:
        detail = "; ".join(f"line {e.getLine()}: {e.getMessage().strip()}" for e in errors[:3])
        raise ModelLoadError(f"SBML in {source} is not valid: {detail or 'no <model> element'}.")
    if _has_local_parameters(model):
        sbml, doc = _promote_local_parameters(doc, source)
        model = doc.getModel()

    assigned, rate_ruled = set(), set()
    for i in range(model.getNumRules()):
        rule = model.getRule(i)
        if rule.isAssignment():
            assigned.add(rule.getVariable())
        elif rule.isRate():
            rate_ruled.add(rule.getVariable())
    initial_assigned = {
        model.getInitialAssignment(i).getSymbol() for i in range(model.getNumInitialAssignments())
    }
    sizes = {c.getId(): (c.getSize() if c.isSetSize() else 1.0) for c in model.getListOfCompartments()}

    species, species_initial = [], {}
    for sp in model.getListOfSpecies():
        sid = sp.getId()
        if sp.getBoundaryCondition() or sp.getConstant() or sid in assigned:
            continue
        species.append(sid)
        if sid in initial_assigned:
            continue
        if sp.isSetInitialConcentration():
            species_initial[sid] = sp.getInitialConcentration()
        elif sp.isSetInitialAmount():
            size = sizes.get(sp.getCompartment(), 1.0)
            species_initial[sid] = sp.getInitialAmount() / size if size else math.nan
    parameters = {
        p.getId(): p.getValue()
        for p in model.getListOfParameters()
        if p.getId() not in assigned | rate_ruled | initial_assigned
    }
    rule_params = tuple(
        p.getId() for p in model.getListOfParameters() if p.getId() in assigned
    ) + tuple(s.getId() for s in model.getListOfSpecies() if s.getId() in assigned)
    reactions = tuple(r.getId() for r in model.getListOfReactions())

    observables = _observables(metadata, species, set(rule_params) | set(species) | set(parameters), source)
    time_unit = metadata.get("time_unit") or _sbml_time_unit(model)
    if time_unit is not None and time_unit not in _TIME_UNIT_SECONDS.values():
        raise ModelLoadError(f"time_unit {time_unit!r} in the metadata of {source} is not one of s, min, h, d.")
    return CompiledModel(
        name=name,
        sbml=sbml,
        sha256=hashlib.sha256(sbml.encode("utf-8")).hexdigest(),
        source=source,
        species=tuple(species),
        parameters=MappingProxyType(parameters),
        species_initial=MappingProxyType(species_initial),
        assigned=rule_params,
        concentration_ids=frozenset(sp.getId() for sp in model.getListOfSpecies()),
        reactions=reactions,
        observables=observables,
        time_unit=time_unit,
        title=str(metadata.get("title", model.getName() or name)),
        pre_equilibration=_pre_equilibration(metadata, set(parameters) | set(species_initial), source),
        readouts=_declared_readouts(metadata, set(rule_params) | set(species) | set(parameters), time_unit, source),
        no_steady_state=str(metadata.get("no_steady_state", "")),
        fixed_parameters=_fixed_parameters(metadata, set(parameters), source),
        metadata_sha256=_metadata_sha256(metadata),
    )


def _has_local_parameters(model) -> bool:
    return any(r.isSetKineticLaw() and r.getKineticLaw().getNumParameters() for r in model.getListOfReactions())


def _promote_local_parameters(doc, source: str):
    """(SBML text, document) with every kinetic-law parameter made global as ``<reaction>_<id>`` (libsbml).

    Why: most published SBML models (BioModels) keep their rate constants local to each reaction, where no
    simulator can set them, so a user's model had nothing to vary in a sensitivity analysis, an ensemble or a
    fit (BIOMD0000000010: no global parameter at all). Promoted, ``J0_V1`` is settable like any parameter; the
    equations, and hence every simulation, are unchanged.
    """
    import libsbml

    props = libsbml.ConversionProperties()
    props.addOption("promoteLocalParameters", True)
    if doc.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelLoadError(f"SBML in {source}: its reactions' local parameters could not be made global "
                             "(libsbml's promoteLocalParameters conversion failed).")
    text = libsbml.writeSBMLToString(doc)
    return text, libsbml.readSBMLFromString(text)


def _metadata_sha256(metadata: Mapping) -> str:
    """sha256 of ``metadata`` as canonical JSON (keys sorted): the content, whether it came from a file or text."""
    if not metadata:
        return ""
    text = json.dumps(metadata, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fixed_parameters(metadata: Mapping, settable: set[str], source: str) -> MappingProxyType:
    """The ``[fixed_parameters]`` table: parameter id = "why it is held fixed"."""
    declared = metadata.get("fixed_parameters") or {}
    if not isinstance(declared, Mapping):
        raise ModelLoadError(f"fixed_parameters in the metadata of {source} must be a table of id = \"reason\".")
    unknown = sorted(k for k in declared if k not in settable)
    if unknown:
        raise ModelLoadError(f"[fixed_parameters] in the metadata of {source}: {', '.join(unknown)} are not settable "
                             "parameters of the model.")
    return MappingProxyType({str(k): str(v) for k, v in declared.items()})


def _declared_readouts(metadata: Mapping, known: set[str], time_unit: str | None,
                       source: str) -> tuple[DeclaredReadout, ...]:
    """The ``[readouts.<id>]`` tables, every problem reported at once."""
    declared = metadata.get("readouts") or {}
    if not isinstance(declared, Mapping):
        raise ModelLoadError(f"readouts in the metadata of {source} must be tables [readouts.<id>], not {declared!r}.")
    problems, out = [], []
    for rid, entry in declared.items():
        where = f"[readouts.{rid}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a table")
            continue
        missing = [k for k in ("label", "unit", "observable", "time") if k not in entry]
        if missing:
            problems.append(f"{where} lacks {', '.join(missing)}")
            continue
        unknown = sorted(set(entry) - {"label", "unit", "description", "observable", "time", "statistic",
                                       "percent_of_untreated", "effect"})
        if unknown:
            problems.append(f"{where} has unknown field(s) {', '.join(unknown)}")
        if entry["observable"] not in known:
            problems.append(f"{where} observable {entry['observable']!r} is not an id of the model")
        statistic, effect = entry.get("statistic", "value"), entry.get("effect")
        if statistic not in READOUT_STATISTICS:
            problems.append(f"{where} statistic {statistic!r}; valid: {', '.join(READOUT_STATISTICS)}")
        if effect is not None and effect not in EFFECT_FORMS:
            problems.append(f"{where} effect {effect!r}; valid: {', '.join(EFFECT_FORMS)} or leave it out")
        try:
            time = parse_time(str(entry["time"]), model_unit=time_unit, what=f"{where} time")
        except InputError as exc:
            problems.append(str(exc).rstrip("."))
            continue
        if not (time > 0 and math.isfinite(time)):
            problems.append(f"{where} time must be > 0 after drug addition")
            continue
        out.append(DeclaredReadout(
            id=str(rid), label=str(entry["label"]), unit=str(entry["unit"]),
            description=str(entry.get("description", "")), observable=str(entry["observable"]), time=float(time),
            statistic=str(statistic), percent_of_untreated=bool(entry.get("percent_of_untreated", False)),
            effect=None if effect is None else str(effect),
        ))
    if problems:
        raise ModelLoadError(f"readouts in the metadata of {source}: {'; '.join(problems)}.")
    return tuple(out)


def _pre_equilibration(metadata: Mapping, settable: set[str], source: str) -> MappingProxyType:
    """The ``[pre_equilibration]`` table: settable ids with finite numbers, checked all at once."""
    declared = metadata.get("pre_equilibration") or {}
    if not isinstance(declared, Mapping):
        raise ModelLoadError(
            f"pre_equilibration in the metadata of {source} must be a table of id = number, not {declared!r}."
        )
    problems, out = [], {}
    for key, value in declared.items():
        if key not in settable:
            problems.append(f"{key!r} is not a settable parameter or species of the model")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(f"{key!r} = {value!r} is not a finite number")
        else:
            out[key] = float(value)
    if problems:
        raise ModelLoadError(f"[pre_equilibration] in the metadata of {source}: {'; '.join(problems)}.")
    return MappingProxyType(out)


def _observables(metadata: Mapping, species: list[str], known: set[str], source: str) -> tuple[Observable, ...]:
    declared = metadata.get("observables")
    if not declared:
        return tuple(Observable(s, s, "concentration, model units") for s in species)
    out = []
    for obs_id, spec in declared.items():
        if obs_id not in known:
            raise ModelLoadError(
                f"observable {obs_id!r} declared in the metadata of {source} is not an id of the model."
            )
        out.append(Observable(obs_id, str(spec.get("label", obs_id)), str(spec.get("unit", ""))))
    return tuple(out)


def _sbml_time_unit(model) -> str | None:
    """Time unit of an SBML model in seconds-multiples, or None when undeclared or unusual."""
    import libsbml

    unit_id = model.getTimeUnits() if model.isSetTimeUnits() else ""
    if not unit_id:
        # SBML Level 2 default time unit is the second (unless a unitDefinition "time" redefines it)
        unit_id = "time" if model.getLevel() == 2 else ""
        if unit_id and model.getUnitDefinition("time") is None:
            return "s"
    if not unit_id:
        return None
    if unit_id == "second":
        return "s"
    udef = model.getUnitDefinition(unit_id)
    if udef is None or udef.getNumUnits() != 1:
        return None
    unit = udef.getUnit(0)
    if unit.getKind() != libsbml.UNIT_KIND_SECOND or unit.getExponent() != 1:
        return None
    seconds = unit.getMultiplier() * 10.0 ** unit.getScale()
    return _TIME_UNIT_SECONDS.get(round(seconds, 9))


def write_sbml(path: str | Path) -> Path:
    """Write the SBML generated from the Antimony file ``path`` beside it (``.xml``); used by ``make sbml``."""
    path = Path(path)
    out = path.with_suffix(".xml")
    out.write_text(antimony_to_sbml(_read(path), source=str(path)), encoding="utf-8")
    return out
