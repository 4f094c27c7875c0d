"""Lint models, drug catalogues, cell-line files, model metadata, blot data, PEtab problems and study configs.

Like PEtab's linter (style.md, item 8): checks return :class:`Issue` values instead of raising at the
first problem, so a user fixes a file in one pass. ``mekisim validate`` prints them and exits 1 on errors.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from .errors import InputError, MekisimError
from .files import read_text
from .model import bundled_model_names, load_model
from .status import Issue, Level

__all__ = ["validate_files"]

_MODEL_SUFFIXES = (".ant", ".xml", ".sbml")
_DRUG_FIELDS = ("name", "target", "mechanism", "ic50_nM", "provenance")


def validate_files(paths: Iterable[str | Path]) -> list[Issue]:
    """Validate each file by kind (model, drugs, cell lines, metadata, blot data, PEtab yaml); return all issues.

    Parameters
    ----------
    paths
        Files to check; the kind is chosen by suffix (``.ant/.xml/.sbml``, ``.toml``, ``.csv``, ``.yaml``).

    Returns
    -------
    list[Issue]
        Every issue found, in file order (empty when all files are valid).
    """
    issues: list[Issue] = []
    for raw in paths:
        path = Path(raw)
        validator = _VALIDATORS.get(path.suffix.lower())
        if not path.is_file():
            issues.append(Issue(str(path), "error", "file does not exist or is not a file."))
        elif validator is not None:
            issues += validator(path)
        else:
            issues.append(Issue(str(path), "error", f"cannot validate a {path.suffix or 'suffix-less'} file; valid "
                                "kinds: models (.ant, .xml, .sbml), drug catalogues, cell lines, model metadata "
                                "and study configs (.toml), western-blot data (.csv) and PEtab problems (.yaml)."))
    return issues


def _validate_model(path: Path) -> list[Issue]:
    name = str(path)
    try:
        model = load_model(path)
    except MekisimError as exc:
        return [Issue(name, "error", str(exc))]
    issues = []
    for pid, value in model.parameters.items():
        if not math.isfinite(value):
            issues.append(Issue(name, "error", f"parameter {pid!r} has no finite value ({value!r})."))
        elif value < 0:  # a warning: an offset or a log-scale value may be negative, a rate constant may not
            issues.append(Issue(name, "warning", f"parameter {pid!r} is negative ({value!r}); rate constants, "
                                "totals and Michaelis constants must be >= 0 (a negative one makes steady states "
                                "fail or concentrations go negative): check it is meant."))
    for sid, value in model.species_initial.items():
        if not math.isfinite(value) or value < 0:
            issues.append(Issue(name, "error", f"species {sid!r} has initial value {value!r}; it must be >= 0."))
    if model.time_unit is None:
        issues.append(Issue(name, "warning", "the model declares no time unit; times with units (24h) cannot be "
                            "converted (declare one in SBML or a sibling .toml: time_unit = \"min\")."))
    return issues


def _validate_toml(path: Path) -> list[Issue]:
    name = str(path)
    try:
        data = tomllib.loads(read_text(path, "TOML file"))
    except InputError as exc:
        return [Issue(name, "error", str(exc))]
    except tomllib.TOMLDecodeError as exc:
        return [Issue(name, "error", f"not valid TOML: {exc}.")]
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if "screen" in data or "resistance" in data:
        from .study import check_study  # here: demo draws figures, and matplotlib costs ~0.5 s to import

        return [Issue(name, "error", problem) for problem in check_study(path)]
    if "model" not in data and (isinstance(data.get("observables"), dict) or "time_unit" in data):
        return _validate_metadata(path, data)
    if tables and len(tables) == len(data) and all("ic50_nM" in v or "target" in v for v in tables.values()):
        return _validate_drugs(name, tables)
    if tables and len(tables) == len(data) and all("model" in v for v in tables.values()):
        return _validate_cell_lines(name, tables)
    if isinstance(data.get("model"), str) or isinstance(data.get("problem"), str):
        return _validate_experiment(path, data)
    return [Issue(name, "error", "not a recognised file: expected a study config ([[screen]] entries or "
                  "resistance = true, as experiments/mpnst_combinations/config.toml), an experiment config (model = "
                  "..., read by the experiment's run.py), a drug catalogue (tables with ic50_nM), cell lines (tables "
                  "with model), or model metadata (observables/time_unit).")]


def _validate_experiment(path: Path, data: dict) -> list[Issue]:
    """An experiment's own config (``experiments/<name>/config.toml``, read by its ``run.py``).

    Its layout is the experiment's, so only what it shares with every experiment is checked: the model loads
    and the files it names (``data``, ``problem``, ``ranges``) exist beside it; a warning says so.
    """
    name = str(path)
    issues = []
    if isinstance(data.get("model"), str):
        try:
            load_model(data["model"] if not data["model"].endswith((".ant", ".xml", ".sbml"))
                       else path.parent / data["model"])
        except MekisimError as exc:
            issues.append(Issue(name, "error", f"model = {data['model']!r}: {exc}"))
    for key in ("data", "problem", "ranges"):
        if isinstance(data.get(key), str) and not (path.parent / data[key]).is_file():
            issues.append(Issue(name, "error", f"{key} = {data[key]!r}: no such file next to the config "
                                f"({path.parent / data[key]})."))
    issues.append(Issue(name, "warning", "an experiment's own config (read by its run.py), not a study config: only "
                        "the model and the files it names were checked."))
    return issues


def _validate_drugs(name: str, tables: dict) -> list[Issue]:
    issues = []
    for drug_id, entry in tables.items():
        where = f"[{drug_id}]"
        if not drug_id.isidentifier():
            issues.append(Issue(name, "error", f"{where}: drug id must be an identifier (letters, digits, _)."))
        for key in _DRUG_FIELDS:
            if key not in entry:
                issues.append(Issue(name, "error", f"{where}: missing field {key!r}."))
        for key in ("ic50_nM", "hill"):
            if key in entry and not (isinstance(entry[key], int | float) and entry[key] > 0
                                     and math.isfinite(entry[key])):
                issues.append(Issue(name, "error", f"{where}: {key} = {entry[key]!r}; valid: a number > 0."))
        if "provenance" in entry and not str(entry["provenance"]).strip():
            issues.append(Issue(name, "error", f"{where}: empty provenance; every number needs its source."))
    return issues


def _validate_cell_lines(name: str, tables: dict) -> list[Issue]:
    issues, models = [], {}
    known = bundled_model_names()
    for line_id, entry in tables.items():
        where = f"[{line_id}]"
        model_name = entry.get("model")
        if model_name not in known:
            issues.append(Issue(name, "error", f"{where}: model {model_name!r} is not bundled; valid: "
                                f"{', '.join(known)}."))
            continue
        if model_name not in models:
            models[model_name] = load_model(model_name)
        settable = models[model_name].parameters
        for kind in ("set", "scale"):
            overrides = entry.get(kind, {})
            if not isinstance(overrides, dict):
                issues.append(Issue(name, "error", f"{where}: {kind} must be a table of parameter = number."))
                continue
            for pid, value in overrides.items():
                if pid not in settable:
                    issues.append(Issue(name, "error", f"{where}: {kind}.{pid}: model {model_name!r} has no "
                                        "settable parameter of that id."))
                elif not (isinstance(value, int | float) and math.isfinite(value)) or (kind == "scale" and value <= 0):
                    issues.append(Issue(name, "error", f"{where}: {kind}.{pid} = {value!r}; valid: a finite number"
                                        f"{' > 0' if kind == 'scale' else ''}."))
        if not str(entry.get("provenance", "")).strip():
            issues.append(Issue(name, "error", f"{where}: missing provenance; every number needs its source."))
    return issues


def _validate_metadata(path: Path, data: dict) -> list[Issue]:
    name = str(path)
    issues = []
    unit = data.get("time_unit")
    if unit is not None and unit not in ("s", "min", "h", "d"):
        issues.append(Issue(name, "error", f"time_unit = {unit!r}; valid: s, min, h, d."))
    observables = data.get("observables", {})
    if not isinstance(observables, dict):
        issues.append(Issue(name, "error", f"observables = {observables!r}; valid: tables [observables.<id>] with "
                            "label and unit."))
        observables = {}
    for obs_id, spec in observables.items():
        if not isinstance(spec, dict) or "label" not in spec or "unit" not in spec:
            issues.append(Issue(name, "error", f"[observables.{obs_id}]: needs label and unit."))
    siblings = [path.with_suffix(s) for s in _MODEL_SUFFIXES if path.with_suffix(s).is_file()]
    if siblings:
        issues += [i for i in _validate_model(siblings[0]) if i.level == "error"]
    return issues


def _validate_blots(path: Path) -> list[Issue]:
    """Western-blot data (either shape :func:`simulator.fit.read_blot_data` reads), one issue per problem."""
    from .fit import BlotDataError, blot_file_problem, blot_shape, read_blot_data

    name = str(path)
    problem = blot_file_problem(path)
    if problem is not None:
        return [Issue(name, "error", problem)]
    if blot_shape(path) is None:
        return [Issue(name, "error", "not a recognised CSV file: expected western-blot lane densitometry (gel_id, "
                      "lane, cell_line, time, target, phospho, total, ...) or ratio summaries (cell_line, condition, "
                      "time, observable, mean, sem, n, ...).")]
    try:
        read_blot_data(path)
    except BlotDataError as exc:
        return list(exc.problems)
    except MekisimError as exc:
        return [Issue(name, "error", str(exc))]
    return []


def _validate_petab(path: Path) -> list[Issue]:
    """A PEtab v1 problem (``mekisim fit --petab``): lint, load, self-check.

    petab's own linter, every error it reports; then whether the engine can simulate it (a construct it cannot
    honour is named), and the self-check of the nominal simulation against the simulated-data table the problem
    ships (:func:`simulator.fit.check_simulated_data`).
    """
    from .fit import check_simulated_data, lint_petab, load_petab

    issues = [replace(issue, message=f"PEtab: {issue.message}") for issue in lint_petab(path)]
    if issues:
        return issues
    try:
        problem = load_petab(path)
    except MekisimError as exc:
        return [Issue(str(path), "error", str(exc))]
    check = check_simulated_data(problem)
    # no table is normal for a user's own problem (a note); a table that cannot be matched deserves a look
    levels: dict[str, Level] = {"ok": "note", "failed": "error"}
    level = levels.get(check.status, "warning" if check.table else "note")
    return [Issue(str(path), level, f"self-check of the nominal simulation: {check.status}: {check.message}.")]


#: file suffix -> its checker; a new kind of input file adds its checker here
_VALIDATORS: dict[str, Callable[[Path], list[Issue]]] = {
    **dict.fromkeys(_MODEL_SUFFIXES, _validate_model),
    ".toml": _validate_toml,
    ".csv": _validate_blots,
    ".yaml": _validate_petab,
    ".yml": _validate_petab,
}
