"""A model's metadata (``<model>.toml``), checked against its SBML ids; every problem reported at once."""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ..errors import InputError, ModelLoadError
from ..files import read_text
from ..units import parse_time
from ._compiled import EFFECT_FORMS, READOUT_STATISTICS, CompiledModel, DeclaredReadout, Observable, Switch

_TIME_UNIT_SECONDS = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}


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
    if model.switches:
        out["switches"] = {s.name: {**s.values, **({"note": s.note} if s.note else {})} for s in model.switches}
    if model.cell_lines_of:
        out["cell_lines_of"] = model.cell_lines_of
    if observables:
        out["observables"] = {o.id: {"label": o.label, "unit": o.unit} for o in model.observables}
    return out


#: ``name = { ... }  # note`` in a [switches] table: the comment is the switch's note
_SWITCH_COMMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\{[^}\n]*\}\s*#\s*(.*?)\s*$", flags=re.M)


def read_metadata_file(path: str | Path) -> dict:
    """A model metadata TOML file as a dict.

    Raises
    ------
    ModelLoadError
        The file is missing, unreadable or not valid TOML (the message names the file).
    """
    return _read_metadata_text(Path(path))[0]


def _read_metadata_text(path: Path) -> tuple[dict, dict[str, str]]:
    """(metadata, switch notes) of a metadata file: each ``[switches]`` entry's trailing comment is its note.

    Why the comment: ``sos_feedback = { open_S = 1 }  # ERK -| SOS1 (R9)`` is how a modeller documents a switch,
    and the teaching page shows that text beside the switch. The notes stay out of the metadata (and so out of
    its hash, which covers what the TOML parser reads); an explicit ``note = "..."`` in the entry wins.
    """
    if not path.is_file():
        raise ModelLoadError(f"model metadata {str(path)!r} does not exist or is not a file.")
    try:
        text = read_text(path, "model metadata")
        data = tomllib.loads(text)
    except InputError as exc:
        raise ModelLoadError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelLoadError(f"model metadata {str(path)!r} is not valid TOML: {exc}.") from exc
    notes: dict[str, str] = {}
    start = re.search(r"^\s*\[switches\]\s*$", text, flags=re.M)
    if start is not None:
        section = re.split(r"^\s*\[", text[start.end():], maxsplit=1, flags=re.M)[0]
        notes = dict(_SWITCH_COMMENT.findall(section))
    return data, notes


def _read_metadata(path: Path) -> tuple[Mapping, Mapping[str, str]]:
    """(metadata, switch notes) of the model file's sibling ``.toml``; none: both empty."""
    meta_path = path.with_suffix(".toml")
    if not meta_path.is_file():
        return {}, {}
    return _read_metadata_text(meta_path)


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


def _switches(metadata: Mapping, settable: set[str], source: str,
              notes: Mapping[str, str] | None = None) -> tuple[Switch, ...]:
    """The ``[switches]`` table: name = { id = value, ... } (settable ids, finite numbers), checked all at once.

    ``notes``: name -> the comment after its entry in the file (an entry's own ``note = "..."`` wins).
    """
    declared = metadata.get("switches") or {}
    if not isinstance(declared, Mapping):
        raise ModelLoadError(f"switches in the metadata of {source} must be a table of name = {{ id = value }}, "
                             f"not {declared!r}.")
    problems, out = [], []
    for name, entry in declared.items():
        where = f"[switches] {name}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a table of ids and values, e.g. {name} = {{ kfbS = 0 }}")
            continue
        values = {k: v for k, v in entry.items() if k != "note"}
        if not values:
            problems.append(f"{where} sets no value")
        unknown = sorted(k for k in values if k not in settable)
        if unknown:
            problems.append(f"{where}: {', '.join(unknown)} not settable parameters or species of the model")
        bad = [k for k, v in values.items()
               if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)]
        if bad:
            problems.append(f"{where}: {', '.join(bad)} not finite numbers")
        if not (unknown or bad) and values:
            out.append(Switch(str(name), MappingProxyType({k: float(v) for k, v in values.items()}),
                              str(entry.get("note", (notes or {}).get(name, "")))))
    if problems:
        raise ModelLoadError(f"switches in the metadata of {source}: {'; '.join(problems)}.")
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
