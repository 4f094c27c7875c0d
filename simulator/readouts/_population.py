"""The full readout mode: cell numbers integrated together with the signalling (a population layer)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..engine import time_courses
from ..errors import InputError
from ..model import CompiledModel, Condition, checked_libsbml, existing_ids, from_sbml_text, metadata_of
from ..status import Status
from ._readout import (
    DEFAULT_KCL_PER_HOUR,
    REQUIRED_IDS,
    SHORT_HOURS,
    VIABILITY_HOURS,
    ReadoutRecord,
    _constants,
    _key,
    _model_units_per_hour,
    _nan_record,
    _optional_ids,
    _ratio,
    _record,
    _require,
)

#: Ids of the population layer (prefixed so they cannot clash with a model's own N or A).
POP_N, POP_A, POP_ON, POP_RELAX, POP_COMPARTMENT = "pop_N", "pop_A", "pop_on", "pop_relax", "pop_volume"


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

    Parameters
    ----------
    model
        A model with the growth and death rates ``g`` and ``d`` and a time unit.

    Returns
    -------
    CompiledModel
        The extended model (the original is unchanged).
    """
    libsbml = checked_libsbml(f"model {model.name!r} (adding the population readouts)")
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
    _add_population_reactions(sbml)
    return from_sbml_text(libsbml.writeSBMLToString(doc), name=model.name, metadata=metadata_of(model))


def _add_population_reactions(sbml) -> None:
    """The growth, death, clearance and hold reactions of :func:`with_population_layer`, added to ``sbml``."""
    import libsbml

    vol = POP_COMPARTMENT
    reactions: tuple[tuple[str, str | None, str | None, str, bool], ...] = (
        ("pop_growth", None, POP_N, f"{vol}*{POP_ON}*g*{POP_N}", False),
        ("pop_death", POP_N, POP_A, f"{vol}*{POP_ON}*d*{POP_N}", False),
        ("pop_clearance", POP_A, None, f"{vol}*kcl*{POP_A}", False),
        ("pop_hold", None, POP_N, f"{vol}*(1 - {POP_ON})*{POP_RELAX}*(1 - {POP_N})", True),
    )
    for rid, reactant, product, law, reversible in reactions:
        rxn = sbml.createReaction()
        _check(rxn.setId(rid), f"create reaction {rid}")
        _check(rxn.setReversible(reversible), f"set the reversibility of {rid}")
        if sbml.getLevel() == 3 and sbml.getVersion() == 1:
            _check(rxn.setFast(False), f"set {rid} not fast")
        for species_id, make in ((reactant, rxn.createReactant), (product, rxn.createProduct)):
            if species_id is not None:
                ref = make()
                _check(ref.setSpecies(species_id), f"add {species_id} to {rid}")
                _check(ref.setStoichiometry(1.0), f"set the stoichiometry of {species_id} in {rid}")
                if sbml.getLevel() >= 3:
                    _check(ref.setConstant(True), f"make the stoichiometry of {species_id} in {rid} constant")
        kinetic = rxn.createKineticLaw()
        ast = libsbml.parseL3FormulaWithModel(law, sbml)
        if ast is None:
            raise InputError(f"could not build the rate law {law!r}: {libsbml.getLastParseL3Error().strip()}")
        _check(kinetic.setMath(ast), f"set the rate law of {rid}")


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
            out.append(_nan_record(wanted, Status.FAILED, f"{what}: {t.message}"))
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
