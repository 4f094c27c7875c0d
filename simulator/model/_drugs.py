"""Add a drug to named reactions of any SBML or Antimony model, without editing the model file.

The drug's occupancy ``f = D^h/(D^h + IC50^h)`` scales the targeted rate laws by ``(1 - f)`` (non-competitive
inhibition); the new ids ``NAME``, ``IC50_NAME``, ``h_NAME`` make the model accept the drug like a bundled one.
Why: ``docs/notes/model.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..units import parse_amount
from ._catalog import load_drugs
from ._compiled import CompiledModel
from ._libsbml import checked_libsbml
from ._load import from_sbml_text
from ._metadata import metadata_of

#: The command-line form of a :class:`DrugTerm`, quoted in every parse error.
DRUG_TERM_FORM = "NAME:REACTION[,REACTION...]:IC50[:HILL] (e.g. meki:J6,J7:10nM or meki:J6:1uM:2)"


def _is_sid(text: str) -> bool:
    import libsbml

    return bool(text) and libsbml.SyntaxChecker.isValidSBMLSId(text)


@dataclass(frozen=True)
class DrugTerm:
    """One drug inhibiting one or more reactions by fractional occupancy.

    Attributes
    ----------
    name
        Drug id (an SBML SId); it becomes the dose parameter, in nM.
    reactions
        Ids of the reactions whose rate laws are multiplied by ``(1 - f_name)``.
    ic50
        Dose (nM) at half occupancy; finite and > 0.
    hill
        Hill coefficient of the occupancy curve; finite and > 0.
    """

    name: str
    reactions: tuple[str, ...]
    ic50: float
    hill: float = 1.0

    def __post_init__(self) -> None:
        # A list is accepted and frozen into a tuple, so the term stays hashable and immutable.
        if isinstance(self.reactions, str) or not isinstance(self.reactions, Sequence):
            raise InputError(
                f"reactions of drug term {self.name!r} must be a sequence of reaction ids, "
                f"not {self.reactions!r}."
            )
        object.__setattr__(self, "reactions", tuple(self.reactions))
        if not isinstance(self.name, str) or not _is_sid(self.name):
            raise InputError(
                f"drug name {self.name!r} is not a valid SBML id; valid: a letter or '_' followed by "
                "letters, digits or '_' (e.g. meki)."
            )
        if not self.reactions:
            raise InputError(f"drug term {self.name!r} names no reaction; give at least one reaction id.")
        bad = [r for r in self.reactions if not isinstance(r, str) or not _is_sid(r)]
        if bad:
            raise InputError(
                f"drug term {self.name!r} has reaction ids that are not valid SBML ids: "
                f"{', '.join(map(repr, bad))}."
            )
        duplicates = sorted({r for r in self.reactions if self.reactions.count(r) > 1})
        if duplicates:
            raise InputError(
                f"drug term {self.name!r} names reaction(s) {', '.join(duplicates)} more than once; "
                "name each reaction once (it would otherwise be inhibited twice)."
            )
        for attr, what in (("ic50", "IC50 (nM)"), ("hill", "Hill coefficient")):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise InputError(f"{what} of drug term {self.name!r} is {value!r}; it must be a finite number > 0.")
            object.__setattr__(self, attr, float(value))

    @classmethod
    def parse(cls, text: str) -> DrugTerm:
        """Parse the command-line form ``NAME:REACTION[,REACTION...]:IC50[:HILL]``.

        The IC50 may carry a concentration unit (``10nM``, ``1uM``; a bare number is nM) and is converted
        to nM here, because doses are nM everywhere inside mekisim. HILL defaults to 1.

        Raises
        ------
        InputError
            When the text does not have that form or a part is invalid; the message quotes the text and
            the valid form.
        """
        parts = [p.strip() for p in str(text).split(":")]
        if len(parts) not in (3, 4) or not all(parts):
            raise InputError(f"drug term {text!r} is not of the form {DRUG_TERM_FORM}.")
        name, reactions_text, ic50_text = parts[:3]
        reactions = tuple(r.strip() for r in reactions_text.split(","))
        if not all(reactions):
            raise InputError(
                f"drug term {text!r} has an empty reaction id in {reactions_text!r}; valid form: {DRUG_TERM_FORM}."
            )
        ic50 = parse_amount(ic50_text, what=f"IC50 in drug term {text!r}")
        hill = 1.0
        if len(parts) == 4:
            try:
                hill = float(parts[3])
            except ValueError:
                raise InputError(
                    f"Hill coefficient {parts[3]!r} in drug term {text!r} is not a number; "
                    f"valid form: {DRUG_TERM_FORM}."
                ) from None
        try:
            return cls(name, reactions, ic50, hill)
        except InputError as exc:
            raise InputError(f"drug term {text!r}: {exc} Valid form: {DRUG_TERM_FORM}.") from None


def add_drug_terms(model: CompiledModel, terms: Sequence[DrugTerm]) -> CompiledModel:
    """Return a copy of ``model`` in which each term's drug inhibits its reactions.

    For each term this adds the constant global parameters ``NAME`` (dose, 0), ``IC50_NAME`` and
    ``h_NAME``, a parameter ``f_NAME`` with the occupancy assignment rule, and multiplies the kinetic law
    of every named reaction by ``(1 - f_NAME)``. At dose 0 the factor is exactly 1, so the untreated
    model is the original one. The model's name, title, time unit, pre-equilibration settings and declared
    observables are kept, so cell lines (matched by name) and outputs work as before.

    Parameters
    ----------
    model
        The compiled model to extend; it is not changed.
    terms
        The drug terms, applied in order (a later term may target a reaction an earlier one targets; the
        factors then multiply, as for two independent inhibitors).

    Returns
    -------
    CompiledModel
        A new model compiled from the edited SBML.

    Raises
    ------
    InputError
        An unknown reaction (the message lists the model's reactions), a reaction without a kinetic law,
        or a new id that already exists in the model (drug ids must be new, else a model parameter would
        silently become a dose).

        A name that is a catalogue drug id (``models/drugs.toml``): conditions set a catalogue drug's IC50
        and Hill coefficient from the catalogue on every simulation, which would silently replace the
        IC50 given here.
    """
    libsbml = checked_libsbml(f"model {model.name!r} (adding drug terms)")

    terms = tuple(terms)
    if not terms:
        return model
    for term in terms:
        if not isinstance(term, DrugTerm):
            raise InputError(f"add_drug_terms expects DrugTerm values, not {term!r}; use DrugTerm.parse(text).")
    names = [term.name for term in terms]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"drug {repeated[0]!r} is added more than once; give one term per drug with all its "
                         f"reactions, e.g. {repeated[0]}:" + ",".join(r for t in terms if t.name == repeated[0]
                                                                       for r in t.reactions) + ":IC50.")
    catalogue = load_drugs()
    for term in terms:
        if term.name in catalogue:
            raise InputError(
                f"drug term name {term.name!r} is a catalogue drug (IC50 {catalogue[term.name].ic50_nM:g} nM in "
                f"drugs.toml), whose IC50 would replace the {term.ic50:g} nM given here; choose another "
                f"name, e.g. {term.name}_custom."
            )
    doc = libsbml.readSBMLFromString(model.sbml)
    sbml = doc.getModel()
    if sbml is None:
        raise InputError(f"model {model.name!r} has no SBML <model> to add drug terms to.")
    reaction_ids = [sbml.getReaction(i).getId() for i in range(sbml.getNumReactions())]
    for term in terms:
        _add_term(sbml, term, model.name, reaction_ids)
    new_sbml = libsbml.writeSBMLToString(doc)
    # Every declaration carries over. Observables are declared only when the original ones are not the
    # loader's default (one per floating species), so the default rule stays the loader's.
    extended = from_sbml_text(new_sbml, name=model.name, metadata=metadata_of(model, observables=False))
    if extended.observables == model.observables:
        return extended
    return from_sbml_text(new_sbml, name=model.name, metadata=metadata_of(model))


def existing_ids(sbml) -> set[str]:
    """Every SId in the model, local kinetic-law parameters included.

    Local parameters count because one named ``f_NAME`` would shadow the global occupancy inside that
    rate law, and one named ``NAME`` would make the dose ambiguous to a reader.

    Parameters
    ----------
    sbml
        A ``libsbml.Model``.

    Returns
    -------
    set[str]
        The model's own id and the id of every element that sets one.
    """
    ids = {sbml.getId()} if sbml.isSetId() else set()
    elements = sbml.getListOfAllElements()
    for i in range(elements.getSize()):
        element = elements.get(i)
        if element.isSetId():
            ids.add(element.getId())
    return ids


def _add_term(sbml, term: DrugTerm, model_name: str, reaction_ids: list[str]) -> None:
    import libsbml

    unknown = [r for r in term.reactions if r not in reaction_ids]
    if unknown:
        raise InputError(
            f"drug term {term.name!r} names reaction(s) {', '.join(map(repr, unknown))} that model "
            f"{model_name!r} does not have; valid reaction ids: {', '.join(reaction_ids) or 'none'}."
        )
    dose, ic50, hill, occupancy = term.name, f"IC50_{term.name}", f"h_{term.name}", f"f_{term.name}"
    taken = sorted(existing_ids(sbml) & {dose, ic50, hill, occupancy})
    if taken:
        raise InputError(
            f"drug term {term.name!r} would add id(s) {', '.join(taken)} that model {model_name!r} already "
            f"has; choose a drug name whose ids {dose}, {ic50}, {hill} and {occupancy} are all new."
        )
    for reaction_id in term.reactions:
        if not sbml.getReaction(reaction_id).isSetKineticLaw():
            raise InputError(
                f"reaction {reaction_id!r} of model {model_name!r} has no kinetic law for drug "
                f"{term.name!r} to scale; choose reactions with a rate law."
            )

    for pid, value, constant in ((dose, 0.0, True), (ic50, term.ic50, True), (hill, term.hill, True),
                                 (occupancy, 0.0, False)):
        param = sbml.createParameter()
        _check(param.setId(pid), f"create parameter {pid}")
        _check(param.setValue(value), f"set the value of {pid}")
        _check(param.setConstant(constant), f"set {pid} constant={constant}")
    rule = sbml.createAssignmentRule()
    _check(rule.setVariable(occupancy), f"create the assignment rule of {occupancy}")
    # parse with the model so the new ids resolve to its parameters even if they read like constants
    formula = f"{dose}^{hill}/({dose}^{hill} + {ic50}^{hill})"
    _check(rule.setMath(_parse(formula, sbml)), f"set the occupancy formula of {occupancy}")

    for reaction_id in term.reactions:
        law = sbml.getReaction(reaction_id).getKineticLaw()
        scaled = libsbml.ASTNode(libsbml.AST_TIMES)
        _check(scaled.addChild(law.getMath().deepCopy()), f"scale the rate law of {reaction_id}")
        _check(scaled.addChild(_parse(f"1 - {occupancy}", sbml)), f"scale the rate law of {reaction_id}")
        _check(law.setMath(scaled), f"set the scaled rate law of {reaction_id}")


def _parse(formula: str, sbml):
    import libsbml

    ast = libsbml.parseL3FormulaWithModel(formula, sbml)
    if ast is None:
        raise InputError(f"could not build the formula {formula!r}: {libsbml.getLastParseL3Error().strip()}")
    return ast


def _check(status: int, what: str) -> None:
    import libsbml

    if status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise InputError(f"libsbml could not {what}: {libsbml.OperationReturnValue_toString(status)}.")
