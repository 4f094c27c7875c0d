"""Helpers shared by the verbs: doses, models with added drugs, cell lines, notes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..model import CompiledModel, cell_lines_for, load_model


def _parse_doses(items: Sequence[str]) -> dict[str, str]:
    """``--dose`` values: ``DRUG=AMOUNT``, repeated or comma-separated (``trametinib=10nM,palbociclib=500nM``)."""
    doses: dict[str, str] = {}
    for item in (piece for value in items for piece in value.split(",") if piece.strip()):
        drug, sep, amount = item.partition("=")
        if not sep or not drug.strip() or not amount.strip():
            raise InputError(f"--dose {item!r} is not DRUG=AMOUNT; valid example: --dose trametinib=10nM.")
        if drug.strip() in doses:
            raise InputError(f"--dose gives {drug.strip()!r} twice; give each drug once.")
        doses[drug.strip()] = amount.strip()
    return doses


def _load_with_drugs(spec: str, add_drug: Sequence[str], metadata: Path | None = None) -> CompiledModel:
    model = load_model(spec, metadata=metadata)
    if add_drug:
        from ..model import DrugTerm, add_drug_terms

        model = add_drug_terms(model, [DrugTerm.parse(text) for text in add_drug])
    return model


def _parse_ratio(text: str | None) -> float | None:
    if text is None:
        return None
    a, sep, b = text.partition(":")
    try:
        ratio = float(a) / float(b)
    except (ValueError, ZeroDivisionError):
        ratio = float("nan")
    if not sep or not ratio > 0 or ratio == float("inf"):
        raise InputError(f"--ratio {text!r} is not A:B with two numbers > 0; valid example: 1:100.")
    return ratio


def _cell_lines(text: str | None, model: CompiledModel) -> tuple[str, ...]:
    """``--cell-lines C1,C2``: the listed lines; none for the model's own values (a note when it has lines)."""
    if text is None:
        return ()
    lines = tuple(c.strip() for c in text.split(",") if c.strip())
    if not lines:
        raise InputError(f"--cell-lines {text!r} lists no cell line; valid: "
                         f"{', '.join(cell_lines_for(model)) or 'none (leave --cell-lines out)'}.")
    return lines


def _note_defaults(model: CompiledModel) -> None:
    lines = cell_lines_for(model)
    if lines:
        print(f"mekisim: note: no cell line given: the model's own parameter values are used (model {model.name!r} "
              f"has cell lines {', '.join(lines)})", file=sys.stderr)


def _parameter_values(args, model: CompiledModel) -> tuple[dict[str, float], tuple[str, ...]]:
    """``--set`` values and ``--switch-off`` names of a verb, checked on ``model`` (unknown names: close ones)."""
    from ..model import parse_set_values, parse_switch_names, resolve_values

    values = parse_set_values(args.set_values, model)
    switches = parse_switch_names(args.switch_off)
    resolve_values(model, values, switches)  # unknown switches, and --set contradicting a switch, refused now
    return values, switches


def _values_record(model: CompiledModel, values: dict[str, float], switches: Sequence[str]) -> dict:
    """What a manifest records of ``--set``/``--switch-off``: as given, and the values they applied."""
    from ..model import resolve_values

    return {"set": dict(values), "switched_off": list(switches),
            "applied_values": resolve_values(model, values, switches)}


def _note_values(verb: str, model: CompiledModel, values: dict[str, float], switches: Sequence[str]) -> None:
    """One stderr line saying which values a run applies (a switched-off feedback must not go unnoticed)."""
    if not values and not switches:
        return
    named = {s.name: s for s in model.switches}
    parts = [f"{name} off ({', '.join(f'{k} = {v:g}' for k, v in named[name].values.items())})" for name in switches]
    parts += [f"{k} = {v:g}" for k, v in values.items()]
    print(f"mekisim {verb}: note: in every condition, treated and untreated (so before any pre-equilibration): "
          f"{'; '.join(parts)}", file=sys.stderr)
