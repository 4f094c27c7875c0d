"""A condition written into SBML: every value as a number in the file, the start state as initial values.

Why numbers in the file and not SED-ML changes: a changed total (``Itot`` of a cell line) feeds the species'
initial assignments, which tellurium does not re-run after a SED-ML model change or a ``setValue`` (the issue's
"p-ERK 14x too low"). Written into the SBML, any simulator evaluates them at load with the right totals.
Why the start state as initial values: "pre-equilibrate untreated, then add the drug at t = 0" needs no protocol
semantics at all when the model starts from the untreated steady state mekisim solved; every SBML tool runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..errors import InputError
from ..model import CompiledModel, checked_libsbml, sbml_to_antimony

__all__ = ["SbmlInfo", "bake", "check_exportable", "sbml_info", "to_antimony"]


@dataclass(frozen=True)
class SbmlInfo:
    """What a SED-ML document needs to know about an SBML file: its level, version, namespace and id kinds."""

    level: int
    version: int
    namespace: str
    kinds: Mapping[str, str]  # id -> "species" | "parameter" | "compartment"

    @property
    def language(self) -> str:
        """The SED-ML model language URN."""
        return f"urn:sedml:language:sbml.level-{self.level}.version-{self.version}"

    @property
    def format_uri(self) -> str:
        """The COMBINE archive format of the file."""
        return f"http://identifiers.org/combine.specifications/sbml.level-{self.level}.version-{self.version}"


def sbml_info(sbml: str) -> SbmlInfo:
    """Level, version, namespace and the kind of every species, parameter and compartment id."""
    libsbml = checked_libsbml("the SBML to export")
    doc = libsbml.readSBMLFromString(sbml)
    model = doc.getModel()
    kinds = {p.getId(): "parameter" for p in model.getListOfParameters()}
    kinds.update({c.getId(): "compartment" for c in model.getListOfCompartments()})
    kinds.update({s.getId(): "species" for s in model.getListOfSpecies()})
    return SbmlInfo(doc.getLevel(), doc.getVersion(), doc.getNamespaces().getURI(0) or doc.getURI(),
                    MappingProxyType(kinds))


def check_exportable(model: CompiledModel, *, bakes_state: bool) -> None:
    """Refuse a model whose start state the export cannot write into the SBML faithfully (with the reason).

    ``bakes_state``: the export writes mekisim's pre-equilibrated state in as the initial state (a time course
    from the untreated steady state): the floating species and the variables of rate rules (which mekisim's
    pre-equilibration carries into the treated run). Then refused:

    * events: whether an event has fired, and its trigger's value at t0, are state the SBML cannot start from;
    * an initial assignment of a parameter or compartment that reads a species: the export replaces the
      species' initial values by the steady state, which would change that parameter.

    Without a baked state (a steady state, or ``--no-pre-equilibrate``) the SBML is the model with its values
    changed, and every simulator runs it as mekisim does.
    """
    libsbml = checked_libsbml(f"model {model.name!r} for export")

    if not bakes_state:
        return
    doc = libsbml.readSBMLFromString(model.sbml)
    sbml = doc.getModel()
    problems = []
    if sbml.getNumEvents():
        events = [e.getId() or f"event {k}" for k, e in enumerate(sbml.getListOfEvents())]
        problems.append(f"it has events ({', '.join(events[:5])}), whose fired/armed state at the start of the treated "
                        "run cannot be written into an SBML file")
    baked = set(model.species) | set(model.rate_ruled)
    for ia in sbml.getListOfInitialAssignments():
        target = ia.getSymbol()
        if target in baked or not ia.isSetMath():
            continue
        read = sorted(_names(ia.getMath()) & baked)
        if read:
            problems.append(f"the initial assignment of {target} reads species {', '.join(read)}, whose initial "
                            "values the export replaces by the pre-equilibrated state")
    if problems:
        raise InputError(f"model {model.name!r} cannot be exported pre-equilibrated: {'; '.join(problems)}. Export it "
                         "with --no-pre-equilibrate (the run from the model's initial conditions) or as a steady "
                         "state (--steady-state).")


def _names(ast) -> set[str]:
    """Every symbol a formula reads."""
    import libsbml

    out, stack = set(), [ast]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node.getType() == libsbml.AST_NAME:
            out.add(node.getName())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return out


def bake(sbml: str, values: Mapping[str, float], *, state: Mapping[str, float] | None = None, model_id: str,
         name: str, notes: str) -> str:
    """SBML text with ``values`` written in and, with ``state``, the species starting from it.

    Parameters
    ----------
    sbml
        The model's SBML (with drug terms added, local parameters promoted: :attr:`CompiledModel.sbml`).
    values
        Parameter id -> value, or species id -> initial concentration (a settable species), applied in order.
    state
        Floating species id -> concentration, and rate-rule variable (species, parameter or compartment) -> value,
        at the start of the run (mekisim's pre-equilibrated state). Their initial assignments are removed so the
        numbers are used as given; the other initial assignments stay, and every simulator evaluates them at load
        with the written-in values.
    model_id, name, notes
        The SBML model's id and name, and a paragraph of notes saying what was written in.
    """
    libsbml = checked_libsbml(f"model {model_id!r} for export")

    doc = libsbml.readSBMLFromString(sbml)
    model = doc.getModel()
    for key, value in values.items():
        param = model.getParameter(key)
        if param is not None:
            _ok(param.setValue(float(value)), f"set parameter {key}")
            continue
        species = model.getSpecies(key)
        if species is None or model.getInitialAssignment(key) is not None:
            raise InputError(f"{key!r} is not a parameter or a settable species of the model; it cannot be written in.")
        _set_concentration(species, float(value))
    for key, value in (state or {}).items():
        species, param, compartment = model.getSpecies(key), model.getParameter(key), model.getCompartment(key)
        if species is None and param is None and compartment is None:
            raise InputError(f"the start state names {key!r}, which is not a species, parameter or compartment of "
                             "the model.")
        if model.getInitialAssignment(key) is not None and model.removeInitialAssignment(key) is None:
            raise RuntimeError(f"libsbml could not remove the initial assignment of {key}")
        if species is not None:
            _set_concentration(species, float(value))
        elif param is not None:  # a rate-rule variable
            _ok(param.setValue(float(value)), f"set the start value of {key}")
        else:
            _ok(compartment.setSize(float(value)), f"set the start size of {key}")
    _ok(model.setId(model_id), f"set the model id {model_id}")
    _ok(model.setName(name), "set the model name")
    paragraphs = "".join(f"<p>{_escape(p)}</p>" for p in notes.split("\n\n") if p.strip())
    _ok(model.appendNotes(f'<body xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</body>'), "write the notes")
    text = libsbml.writeSBMLToString(doc)
    check = libsbml.readSBMLFromString(text)
    errors = [check.getError(i).getMessage().strip() for i in range(check.getNumErrors())
              if check.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:  # a bug of the export, not of the user's input: keep the detail
        raise RuntimeError(f"the exported SBML is not valid: {'; '.join(errors[:3])}")
    return text


def _set_concentration(species, value: float) -> None:
    if species.isSetInitialAmount():
        species.unsetInitialAmount()
    _ok(species.setInitialConcentration(value), f"set the initial concentration of {species.getId()}")


def _ok(status, what: str) -> None:
    import libsbml

    if status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml could not {what}: {libsbml.OperationReturnValue_toString(status)}")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_antimony(sbml: str, header: str) -> str:
    """The SBML as Antimony text, with ``header`` as ``//`` comment lines first.

    The translation is :func:`simulator.model.sbml_to_antimony` (antimony keeps process-global state; the
    model stage serialises every antimony call).
    """
    text = sbml_to_antimony(sbml)
    comments = "".join(f"// {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + "\n" + text
