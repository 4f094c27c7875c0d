"""Load Antimony or SBML into an immutable :class:`CompiledModel`."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ..errors import InputError, ModelLoadError
from ..files import bundled_dir, read_text
from ._compiled import CompiledModel
from ._libsbml import checked_libsbml
from ._metadata import (
    _TIME_UNIT_SECONDS,
    _declared_readouts,
    _fixed_parameters,
    _metadata_sha256,
    _observables,
    _pre_equilibration,
    _read_metadata,
    _read_metadata_text,
    _sbml_time_unit,
    _switches,
)

_ANTIMONY_LOCK = threading.Lock()


def bundled_model_names() -> tuple[str, ...]:
    """Names of the bundled models (``mpnst``, ...), i.e. the ``*.ant`` files in :func:`bundled_dir`.

    Returns
    -------
    tuple[str, ...]
        Sorted model names, each usable with :func:`load_model`.
    """
    return tuple(sorted(p.stem for p in bundled_dir().glob("*.ant")))


def load_model(spec: str | Path, *, metadata: str | Path | None = None) -> CompiledModel:
    """Load a bundled model by name (``"mpnst"``) or a model file by path (``.ant``, ``.xml``, ``.sbml``).

    A :class:`~pathlib.Path` is always a path; a string is a bundled name unless it has a model suffix or
    a path separator.

    Parameters
    ----------
    spec
        A bundled model name or the path of an Antimony or SBML file.
    metadata
        A metadata TOML file to use instead of the model's sibling ``<model>.toml`` (``--metadata``): a renamed
        copy of a bundled model keeps its observables, readouts, switches and, through the file's
        ``cell_lines_of``, its cell lines.

    Returns
    -------
    CompiledModel
        The compiled model with its metadata.
    """
    if isinstance(spec, str) and not _looks_like_path(spec):
        names = bundled_model_names()
        if spec not in names:
            raise InputError(
                f"unknown model {spec!r}; bundled models: {', '.join(names)}, "
                "or give a path to an Antimony (.ant) or SBML (.xml, .sbml) file."
            )
        return load_antimony(bundled_dir() / f"{spec}.ant", metadata=metadata)
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in (".ant", ".txt", ".antimony"):
        return load_antimony(path, metadata=metadata)
    if suffix in (".xml", ".sbml"):
        return load_sbml(path, metadata=metadata)
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


def load_antimony(path: str | Path, *, metadata: str | Path | None = None) -> CompiledModel:
    """Load an Antimony file and its sibling ``.toml`` metadata, if any (or the ``metadata`` file given).

    Parameters
    ----------
    path
        An ``.ant`` file.
    metadata
        A metadata TOML file to use instead of the sibling one.

    Returns
    -------
    CompiledModel
        The compiled model, named after the file stem.
    """
    path = Path(path)
    sbml = antimony_to_sbml(_read(path), source=str(path))
    return _compile(sbml, name=path.stem, source=str(path), **_metadata_for(path, metadata))


def load_sbml(path: str | Path, *, metadata: str | Path | None = None) -> CompiledModel:
    """Load an SBML file and its sibling ``.toml`` metadata, if any (or the ``metadata`` file given).

    Parameters
    ----------
    path
        An SBML file (``.xml`` or ``.sbml``).
    metadata
        A metadata TOML file to use instead of the sibling one.

    Returns
    -------
    CompiledModel
        The compiled model, named after the file stem.
    """
    path = Path(path)
    return _compile(_read(path), name=path.stem, source=str(path), **_metadata_for(path, metadata))


def _metadata_for(path: Path, metadata: str | Path | None) -> dict:
    """``metadata`` and switch ``notes`` of :func:`_compile`: from the file given, else the sibling ``.toml``."""
    meta, notes = _read_metadata(path) if metadata is None else _read_metadata_text(Path(metadata))
    return {"metadata": meta, "notes": notes}


def from_antimony_text(text: str, *, name: str = "model", metadata: Mapping | None = None) -> CompiledModel:
    """Compile Antimony source text.

    Parameters
    ----------
    text
        Antimony source.
    name
        Name of the compiled model (used in messages, tables and the cache key).
    metadata
        The model's ``<model>.toml`` content (observables, time unit, readouts ...); ``None`` for none.

    Returns
    -------
    CompiledModel
        The model compiled by roadrunner (from the compiled-model cache when the text was seen before).
    """
    sbml = antimony_to_sbml(text, source="<antimony text>")
    return _compile(sbml, name=name, source="<antimony text>", metadata=metadata or {})


def from_sbml_text(text: str, *, name: str = "model", metadata: Mapping | None = None) -> CompiledModel:
    """Compile SBML text.

    Parameters
    ----------
    text
        SBML text.
    name
        Name of the compiled model (used in messages, tables and the cache key).
    metadata
        The model's ``<model>.toml`` content (observables, time unit, readouts ...); ``None`` for none.

    Returns
    -------
    CompiledModel
        The model compiled by roadrunner (from the compiled-model cache when the text was seen before).
    """
    return _compile(text, name=name, source="<sbml text>", metadata=metadata or {})


def antimony_to_sbml(text: str, *, source: str = "<antimony text>") -> str:
    """Translate Antimony to SBML text; raise :class:`ModelLoadError` with antimony's message and line.

    Parameters
    ----------
    text
        Antimony source.
    source
        Where the text came from (a path), named in the error message.

    Returns
    -------
    str
        SBML (level 3) text.
    """
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


def sbml_to_antimony(sbml: str) -> str:
    """Translate SBML text to Antimony text (for :mod:`simulator.export`).

    Why here: antimony keeps process-global state, so every antimony call of mekisim holds the one lock of this
    module (and antimony is imported by :mod:`simulator.model` only).

    Raises
    ------
    ModelLoadError
        Antimony could not read the SBML.
    """
    import antimony

    with _ANTIMONY_LOCK:
        antimony.clearPreviousLoads()
        if antimony.loadSBMLString(sbml) < 0:
            raise ModelLoadError(f"antimony could not read the SBML: {antimony.getLastError()}")
        return antimony.getAntimonyString(antimony.getMainModuleName())


def _compile(sbml: str, *, name: str, source: str, metadata: Mapping,
             notes: Mapping[str, str] | None = None) -> CompiledModel:
    libsbml = checked_libsbml(source)
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

    _refuse_unsupported(model, source)
    species, species_initial = [], {}
    for sp in model.getListOfSpecies():
        sid = sp.getId()
        if sp.getBoundaryCondition() or sp.getConstant() or sid in assigned or sid in rate_ruled:
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
    ordered_rate_ruled = tuple(dict.fromkeys(
        rule.getVariable() for rule in model.getListOfRules() if rule.isRate()))
    derived = tuple(dict.fromkeys(
        [*ordered_rate_ruled,
         *(i for i in (model.getInitialAssignment(k).getSymbol() for k in range(model.getNumInitialAssignments()))
           if model.getSpecies(i) is None),
         *(c.getId() for c in model.getListOfCompartments()),
         *(sp.getId() for sp in model.getListOfSpecies() if sp.getId() not in species and sp.getId() not in assigned)]
    ))
    events = tuple(e.getId() or f"event {k + 1}" for k, e in enumerate(model.getListOfEvents()))
    breakpoints = _time_breakpoints(model)

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
        concentration_ids=frozenset(sp.getId() for sp in model.getListOfSpecies() if not sp.getHasOnlySubstanceUnits()),
        reactions=reactions,
        observables=observables,
        time_unit=time_unit,
        title=str(metadata.get("title", model.getName() or name)),
        pre_equilibration=_pre_equilibration(metadata, set(parameters) | set(species_initial), source),
        readouts=_declared_readouts(metadata, set(rule_params) | set(species) | set(parameters), time_unit, source),
        no_steady_state=str(metadata.get("no_steady_state", "")),
        fixed_parameters=_fixed_parameters(metadata, set(parameters), source),
        metadata_sha256=_metadata_sha256(metadata),
        switches=_switches(metadata, set(parameters) | set(species_initial), source, notes),
        cell_lines_of=str(metadata.get("cell_lines_of", "")),
        rate_ruled=ordered_rate_ruled,
        derived=tuple(d for d in derived if d not in parameters),
        events=events,
        breakpoints=breakpoints,
    )


def _refuse_unsupported(model, source: str) -> None:
    """Raise :class:`ModelLoadError` naming every construct the engine would simulate wrongly or not at all.

    Why here, at load: libroadrunner simulates ``fast`` reactions as ordinary ones (a silently wrong answer; SBML
    asks for them to be at quasi-equilibrium) and stops with compiler jargon on delays and algebraic rules. A
    user's model is refused once, with every such construct named, before anything runs.
    """
    problems = []
    fast = [r.getId() for r in model.getListOfReactions() if r.isSetFast() and r.getFast()]
    if fast:
        problems.append(f"fast reaction(s) {', '.join(fast)} (SBML's quasi-equilibrium assumption; libroadrunner "
                        "would simulate them as ordinary reactions): make them ordinary reactions or solve the "
                        "equilibrium into assignment rules")
    algebraic = sum(1 for rule in model.getListOfRules() if rule.isAlgebraic())
    if algebraic:
        problems.append(f"{algebraic} algebraic rule(s) (libroadrunner has no DAE solver): rewrite each as an "
                        "assignment rule")
    delayed = sorted({_math_owner(node_owner) for node_owner in _delay_owners(model)})
    if delayed:
        problems.append(f"delay() in {', '.join(delayed)} (delay differential equations are not supported)")
    if problems:
        raise ModelLoadError(f"SBML in {source} uses what the engine cannot simulate: " + "; ".join(problems) + ".")


def _delay_owners(model):
    """(kind, id) of every rule, kinetic law, initial assignment or event whose math uses the delay csymbol."""
    import libsbml

    def uses_delay(node) -> bool:
        stack = [node]
        while stack:
            current = stack.pop()
            if current is None:
                continue
            if current.getType() == libsbml.AST_FUNCTION_DELAY:
                return True
            stack.extend(current.getChild(i) for i in range(current.getNumChildren()))
        return False

    for rule in model.getListOfRules():
        if rule.isSetMath() and uses_delay(rule.getMath()):
            yield ("rule for", rule.getVariable())
    for reaction in model.getListOfReactions():
        law = reaction.getKineticLaw()
        if law is not None and law.isSetMath() and uses_delay(law.getMath()):
            yield ("reaction", reaction.getId())
    for assignment in model.getListOfInitialAssignments():
        if assignment.isSetMath() and uses_delay(assignment.getMath()):
            yield ("initial assignment of", assignment.getSymbol())
    for event in model.getListOfEvents():
        for k in range(event.getNumEventAssignments()):
            item = event.getEventAssignment(k)
            if item.isSetMath() and uses_delay(item.getMath()):
                yield ("event", event.getId())
        trigger = event.getTrigger()
        if trigger is not None and trigger.isSetMath() and uses_delay(trigger.getMath()):
            yield ("event", event.getId())


def _math_owner(owner: tuple[str, str]) -> str:
    return f"{owner[0]} {owner[1]}"


def _time_breakpoints(model) -> tuple[str, ...]:
    """Expressions (sympy syntax, over parameter and compartment ids) of the times where a rule or rate law jumps.

    Why: ``piecewise(0, time < Fsk_time, 1)``-style inputs switch at a time CVODE does not know of; integrated
    across, the step made Isensee 2018's conditions fail (CV_TOO_MUCH_WORK) and shifts a solution by up to the
    error the step controller accepts. The engine restarts the integrator at each of these times. A relation
    between time and constants that is linear in time gives ``t* = -g(0)/g'`` for ``g = lhs - rhs``; relations
    that read species, are not linear in time, or sit inside function definitions are left to the integrator
    (as before).
    """
    import libsbml

    maths = [rule.getMath() for rule in model.getListOfRules() if rule.isSetMath()]
    maths += [r.getKineticLaw().getMath() for r in model.getListOfReactions()
              if r.getKineticLaw() is not None and r.getKineticLaw().isSetMath()]
    relations = []
    for math_ in maths:
        stack = [math_]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            if node.isRelational() and node.getNumChildren() == 2 and _reads_time(node, libsbml):
                relations.append((libsbml.formulaToL3String(node.getChild(0)),
                                  libsbml.formulaToL3String(node.getChild(1))))
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    if not relations:
        return ()
    import sympy

    ruled = {rule.getVariable() for rule in model.getListOfRules() if not rule.isAlgebraic()}
    constants = ({p.getId() for p in model.getListOfParameters()}
                 | {c.getId() for c in model.getListOfCompartments()}) - ruled
    time = sympy.Symbol("time")
    out = []
    for lhs, rhs in relations:
        try:
            g = sympy.expand(sympy.sympify(lhs.replace("^", "**"), locals={"time": time})
                             - sympy.sympify(rhs.replace("^", "**"), locals={"time": time}))
        except (sympy.SympifyError, TypeError, ValueError):
            continue
        slope = sympy.diff(g, time)
        if slope == 0 or slope.has(time) or not {str(x) for x in g.free_symbols} - {"time"} <= constants:
            continue
        out.append(str(sympy.simplify(-g.subs(time, 0) / slope)))
    return tuple(dict.fromkeys(out))


def _reads_time(node, libsbml) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if current.getType() == libsbml.AST_NAME_TIME:
            return True
        stack.extend(current.getChild(i) for i in range(current.getNumChildren()))
    return False


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


def write_sbml(path: str | Path) -> Path:
    """Write the SBML generated from the Antimony file ``path`` beside it (``.xml``); used by ``make sbml``.

    Parameters
    ----------
    path
        An ``.ant`` file.

    Returns
    -------
    Path
        The ``.xml`` file written.
    """
    path = Path(path)
    out = path.with_suffix(".xml")
    out.write_text(antimony_to_sbml(_read(path), source=str(path)), encoding="utf-8")
    return out
