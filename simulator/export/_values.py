"""``--set PARAM=VALUE`` pairs: parsed, checked against the model, refused with close-name suggestions.

Why here and not in the CLI: the same check serves :func:`simulator.export.export_condition` called from Python,
and a later issue gives ``--set`` to every verb that simulates (the function only needs a model).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence

from ..errors import InputError
from ..model import CompiledModel, accepted_drugs

__all__ = ["check_values", "parse_set_values"]


def parse_set_values(items: Sequence[str], model: CompiledModel) -> dict[str, float]:
    """``PARAM=VALUE`` texts (repeatable, or comma lists ``P1=V1,P2=V2``) as id -> value, checked on ``model``.

    Raises
    ------
    InputError
        A piece that is not ``ID=NUMBER``, an id given twice, or an id :func:`check_values` refuses.
    """
    out: dict[str, float] = {}
    for item in (piece.strip() for text in items for piece in text.split(",")):
        if not item:
            continue
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise InputError(f"--set {item!r} is not PARAM=VALUE; valid example: --set Itot=3,kE=0.5.")
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"--set {item!r}: {text!r} is not a number; give a plain number in the parameter's own "
                             "units (e.g. --set Itot=3 or --set kE=2.5e-1).") from None
        if key in out:
            raise InputError(f"--set gives {key!r} twice; give each parameter once.")
        out[key] = value
    check_values(out, model)
    return out


def check_values(values: Mapping[str, float], model: CompiledModel) -> None:
    """Refuse ids ``model`` cannot set (with the closest valid names) and values that are not finite numbers.

    Settable: the parameters and species initial values the engine applies (:attr:`CompiledModel.parameters`,
    :attr:`CompiledModel.species_initial`). A drug's dose is refused here: it belongs to ``--dose``, so that the
    untreated (pre-equilibration) state is the same condition without it.
    """
    settable = set(model.parameters) | set(model.species_initial)
    drugs = set(accepted_drugs(model))
    problems = []
    for key, value in values.items():
        if key in drugs:
            problems.append(f"{key!r} is the dose of a drug: give it with --dose {key}=AMOUNT (then the untreated "
                            "pre-equilibration state is the same condition without it)")
        elif key not in settable:
            problems.append(_unknown(key, model, settable - drugs))
        elif isinstance(value, bool) or not math.isfinite(float(value)):
            problems.append(f"{key} = {value!r} is not a finite number")
    if problems:
        raise InputError(f"cannot set on model {model.name!r}: {'; '.join(problems)}.")


def _unknown(key: str, model: CompiledModel, settable: Iterable[str]) -> str:
    """Why ``key`` cannot be set, with up to three close valid names."""
    if key in model.assigned:
        why = "is computed by an assignment rule"
    elif key in model.species:
        why = "is a species whose initial value an initial assignment computes (set what it is computed from)"
    elif key in model.concentration_ids:
        why = "is a boundary or constant species"
    elif key in model.readable_ids() or key in model.reactions:
        why = "is not a settable value"
    else:
        why = "is not an id of the model"
    if why != "is not an id of the model":
        return f"{key!r} {why}"
    ordered = sorted(settable)
    close = [s for s in ordered if s.lower() == key.lower()]  # case slips first (itot for Itot)
    close += [s for s in difflib.get_close_matches(key, ordered, n=3, cutoff=0.6) if s not in close]
    if close:
        return f"{key!r} {why} (did you mean {' or '.join(close[:3])}?)"
    return (f"{key!r} {why} (it has {len(ordered)} settable parameters and initial values: "
            f"{', '.join(ordered[:8])}{', ...' if len(ordered) > 8 else ''})")
