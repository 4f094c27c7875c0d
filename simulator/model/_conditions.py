"""Turn a cell line and drug doses into the parameter values of one simulation condition.

A model *accepts* a drug when it has a settable parameter whose id is the drug id (its dose in nM). For
catalogue drugs, the model's ``IC50_<id>`` and ``h_<id>`` parameters, when present, are set from the
catalogue, so ``models/drugs.toml`` is the one place those numbers live.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from .._frozen import reduce_frozen
from ..errors import InputError
from ..units import parse_amount
from ._catalog import CellLine, Drug, load_cell_lines, load_drugs
from ._compiled import CompiledModel


@dataclass(frozen=True)
class Condition:
    """One simulation condition: which cell line, which doses (nM), and the values they set.

    ``values`` maps parameter (or species) ids to numbers and is exactly what the engine applies on top
    of the model defaults; ``untreated`` is the same with every dose at 0 (for pre-equilibration).
    """

    cell_line: str | None
    doses: Mapping[str, float]
    values: Mapping[str, float] = field(repr=False)
    untreated: Mapping[str, float] = field(repr=False)

    __reduce__ = reduce_frozen

    def with_doses(self, doses: Mapping[str, float]) -> Condition:
        """The same cell line and values with other doses of drugs this condition already doses.

        Why: a dose matrix is one validated condition with thousands of dose pairs; validating the cell
        line, catalogue and values again for each well cost a sixth of a screen's wells pass.

        Raises
        ------
        InputError
            A drug this condition was not made with (pass it, at 0, to :func:`make_condition`), or a
            dose that is not a finite number >= 0.
        """
        new = dict(self.doses)
        for drug_id, amount in doses.items():
            if drug_id not in self.doses:
                raise InputError(
                    f"with_doses: drug {drug_id!r} is not dosed in this condition; valid: "
                    f"{', '.join(self.doses) or 'none'} (make the condition with it at dose 0 first)."
                )
            value = float(amount)
            if not (value >= 0 and math.isfinite(value)):
                raise InputError(f"dose of {drug_id} is {amount!r}; it must be a finite number >= 0 (nM).")
            new[drug_id] = value
        values = dict(self.values)
        values.update(new)
        return Condition(self.cell_line, MappingProxyType(new), MappingProxyType(values), self.untreated)


def accepted_drugs(model: CompiledModel, catalog: Mapping[str, Drug] | None = None) -> tuple[str, ...]:
    """Drug ids the model has a dose parameter for: catalogue drugs plus drugs added with ``add_drug_terms``."""
    catalog = load_drugs() if catalog is None else catalog
    added = {p[len("IC50_"):] for p in model.parameters if p.startswith("IC50_")}
    return tuple(d for d in (*catalog, *sorted(added - set(catalog))) if d in model.parameters)


def cell_lines_for(model: CompiledModel, lines: Mapping[str, CellLine] | None = None) -> tuple[str, ...]:
    """Ids of the bundled cell lines that belong to this model.

    Matched by model name, or by the metadata's ``cell_lines_of`` (a renamed copy of a bundled model keeps them).
    """
    lines = load_cell_lines() if lines is None else lines
    owner = model.cell_lines_of or model.name
    return tuple(k for k, v in lines.items() if v.model == owner)


def make_condition(
    model: CompiledModel,
    cell_line: str | None = None,
    doses: Mapping[str, float | str] | None = None,
    *,
    values: Mapping[str, float] | None = None,
    switch_off: Sequence[str] = (),
    catalog: Mapping[str, Drug] | None = None,
    lines: Mapping[str, CellLine] | None = None,
) -> Condition:
    """Validate a cell line and doses for ``model`` and return the :class:`Condition`.

    Parameters
    ----------
    model
        The compiled model.
    cell_line
        A bundled cell line of this model, or ``None`` for the model defaults.
    doses
        Drug id -> amount (a number in nM or a string with a unit, ``"1uM"``).
    values
        Extra parameter/species values applied last, to the treated and the untreated condition, so before
        pre-equilibration (``--set``; a fitted parameter vector).
    switch_off
        Names of the model's switches (metadata ``[switches]``) to turn off: their values are applied like
        ``values`` (:func:`simulator.model.switch_values`; ``values`` may not contradict them).
    catalog, lines
        Drug catalogue and cell lines; default to the bundled files.

    Raises
    ------
    InputError
        Unknown cell line, drug or id, or a negative/non-numeric dose; the message lists what is valid.
    """
    catalog = load_drugs() if catalog is None else catalog
    out: dict[str, float] = {}
    if cell_line is not None:
        lines = load_cell_lines() if lines is None else lines
        valid = cell_lines_for(model, lines)
        if cell_line not in valid:
            raise InputError(
                f"unknown cell line {cell_line!r} for model {model.name!r}; valid: "
                f"{', '.join(valid) or 'none (this model has no bundled cell lines)'}."
            )
        out.update(lines[cell_line].values(model.parameters))

    accepted = accepted_drugs(model, catalog)
    for drug_id in accepted:
        if drug_id in catalog:
            for prefix, value in (("IC50_", catalog[drug_id].ic50_nM), ("h_", catalog[drug_id].hill)):
                if prefix + drug_id in model.parameters:
                    out[prefix + drug_id] = value
    untreated = dict(out)
    for drug_id in accepted:
        untreated[drug_id] = 0.0

    parsed: dict[str, float] = {}
    for drug_id, amount in (doses or {}).items():
        if drug_id not in accepted:
            raise InputError(
                f"model {model.name!r} does not accept drug {drug_id!r}; drugs it accepts: "
                f"{', '.join(accepted) or 'none'} (add one to any reaction with --add-drug NAME:REACTION:IC50)."
            )
        parsed[drug_id] = parse_amount(amount, what=f"dose of {drug_id}")
    out.update({d: parsed.get(d, 0.0) for d in accepted})

    if switch_off:
        from ._values import switch_values

        switched = switch_values(model, switch_off)
        clash = sorted(k for k, v in (values or {}).items() if k in switched and float(v) != switched[k])
        if clash:
            raise InputError(f"values give {', '.join(clash)} other values than the switches turned off "
                             f"({', '.join(switch_off)}) set; give one of them.")
        values = {**switched, **(values or {})}
    settable = set(model.parameters) | set(model.species_initial)
    for key, value in (values or {}).items():
        if key not in settable:
            from ._values import unknown_id

            raise InputError(f"cannot set on model {model.name!r} (not a settable parameter or species): "
                             f"{unknown_id(key, model, settable)}.")
        if not math.isfinite(float(value)):
            raise InputError(f"value of {key!r} is {value!r}; it must be a finite number.")
        out[key] = float(value)
        if key not in accepted:
            untreated[key] = float(value)
    return Condition(
        cell_line=cell_line,
        doses=MappingProxyType(parsed),
        values=MappingProxyType(out),
        untreated=MappingProxyType(untreated),
    )
