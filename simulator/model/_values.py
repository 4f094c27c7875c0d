"""Parameter values set by hand (``--set PARAM=VALUE``) and named switches (``--switch-off NAME``).

Both end up as ``values`` of :func:`simulator.model.make_condition`: applied on top of the cell line's values in
the treated *and* the untreated condition, so before pre-equilibration. Why one module: every verb that simulates
(simulate, dose-response, screen, sensitivity, export) and the Python API check names the same way, and an
unknown name is refused with the closest valid ones (a typo must not silently leave a feedback switched on).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence

from ..errors import InputError
from ._compiled import CompiledModel
from ._conditions import accepted_drugs

__all__ = ["check_values", "close_names", "parse_set_values", "parse_switch_names", "resolve_values",
           "switch_values"]


def close_names(key: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``valid`` close to ``key``: case slips first (``itot`` for ``Itot``), then difflib's."""
    ordered = sorted(valid)
    close = [s for s in ordered if s.lower() == key.lower()]
    close += [s for s in difflib.get_close_matches(key, ordered, n=n, cutoff=0.6) if s not in close]
    return close[:n]


def parse_set_values(items: Sequence[str], model: CompiledModel) -> dict[str, float]:
    """``PARAM=VALUE`` texts (repeatable, or comma lists ``P1=V1,P2=V2``) as id -> value, checked on ``model``.

    Parameters
    ----------
    items
        The ``--set`` arguments as given.
    model
        The model they are set on.

    Returns
    -------
    dict
        Id -> value, in the order given.

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

    Raises
    ------
    InputError
        Every problem at once, each unknown id with the closest valid names.
    """
    settable = set(model.parameters) | set(model.species_initial)
    drugs = set(accepted_drugs(model))
    problems = []
    for key, value in values.items():
        if key in drugs:
            problems.append(f"{key!r} is the dose of a drug: give it with --dose {key}=AMOUNT (then the untreated "
                            "pre-equilibration state is the same condition without it)")
        elif key not in settable:
            problems.append(unknown_id(key, model, settable - drugs))
        elif not _is_finite_number(value):
            problems.append(f"{key} = {value!r} is not a finite number")
    if problems:
        raise InputError(f"cannot set on model {model.name!r}: {'; '.join(problems)}.")


def _is_finite_number(value) -> bool:
    if isinstance(value, bool | str):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def unknown_id(key: str, model: CompiledModel, settable: Iterable[str]) -> str:
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
    close = close_names(key, ordered)
    if close:
        return f"{key!r} {why} (did you mean {' or '.join(close)}?)"
    return (f"{key!r} {why} (it has {len(ordered)} settable parameters and initial values: "
            f"{', '.join(ordered[:8])}{', ...' if len(ordered) > 8 else ''})")


def parse_switch_names(items: Sequence[str]) -> tuple[str, ...]:
    """``--switch-off`` arguments (repeatable, or comma lists ``A,B``) as names, in order, each once."""
    out: list[str] = []
    for name in (piece.strip() for text in items for piece in text.split(",")):
        if name and name not in out:
            out.append(name)
    return tuple(out)


def switch_values(model: CompiledModel, names: Iterable[str]) -> dict[str, float]:
    """The values that turn the named switches of ``model`` off (its metadata's ``[switches]``).

    Raises
    ------
    InputError
        An unknown switch (with the closest names, and every switch the model has), or two switches that set
        one id to different values.
    """
    switches = {s.name: s for s in model.switches}
    names = list(names)
    unknown = [n for n in names if n not in switches]
    if unknown:
        hints = []
        for name in unknown:
            close = close_names(name, switches)
            hints.append(f"{name!r}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        valid = (f"its switches: {', '.join(switches)}" if switches else
                 "it declares none (a model's metadata .toml lists them under [switches]; --set PARAM=VALUE sets "
                 "any parameter)")
        raise InputError(f"model {model.name!r} has no switch {', '.join(hints)}; {valid}.")
    out: dict[str, float] = {}
    setter: dict[str, str] = {}
    for name in names:
        for key, value in switches[name].values.items():
            if key in out and out[key] != value:
                raise InputError(f"switches {setter[key]} and {name} set {key} to {out[key]:g} and {value:g}; switch "
                                 "off only one of them.")
            out[key], setter[key] = float(value), name
    return out


def resolve_values(model: CompiledModel, values: Mapping[str, float] | None = None,
                   switch_off: Sequence[str] = ()) -> dict[str, float]:
    """The values of the switches turned off plus ``values``, checked on ``model`` (what a run applies).

    Parameters
    ----------
    model
        The model.
    values
        Id -> value (``--set``), checked by :func:`check_values`.
    switch_off
        Names of the model's switches to turn off (:func:`switch_values`).

    Returns
    -------
    dict
        Id -> value; a switch's values first, then ``values``.

    Raises
    ------
    InputError
        An unknown id or switch (with close names), or ``values`` giving an id a switch sets to another value.
    """
    values = dict(values or {})
    check_values(values, model)
    out = switch_values(model, switch_off)
    for key, value in values.items():
        if key in out and out[key] != float(value):
            owner = next(s.name for s in model.switches if s.name in switch_off and key in s.values)
            raise InputError(f"--set {key}={value:g} contradicts switch {owner} (which sets {key} = {out[key]:g}); "
                             "give one of them.")
        out[key] = float(value)
    return out
