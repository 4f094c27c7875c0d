"""Blot data as a PEtab v1 problem (tables, SBML, YAML) written with the ``petab`` library and linted."""

from __future__ import annotations

import logging
import math
import re
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..model import CellLine, CompiledModel, load_cell_lines
from ..status import Issue
from ..units import TIME_UNITS
from ._blots import BlotData, _lines_of, with_defaults_line

_PETAB_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_SCALE_BOUNDS = (0.1, 10.0)  # a blot's scale factor: within 10x of the model's normalisation [A]


_SIGMA_NOMINAL, _SIGMA_BOUNDS = 0.2, (1e-3, 10.0)  # noise SD of one normalised lane ratio [A]


_ESTIMATE_RANGE = 100.0  # estimated line parameters: nominal/100 .. nominal*100 (brief)


def _pid(*parts: str) -> str:
    """A PEtab identifier from free text (``[A-Za-z_][A-Za-z0-9_]*``)."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(p for p in parts if p))
    return text if _PETAB_ID.match(text) else f"x_{text}"


def blots_to_petab(
    model: CompiledModel,
    data: BlotData,
    out_dir: str | Path | None = None,
    *,
    estimate: Mapping[str, Sequence[str]] | None = None,
    estimate_scales: bool | None = None,
    lines: Mapping[str, CellLine] | None = None,
) -> Path:
    """Write ``data`` as a PEtab v1 problem for ``model`` and return the YAML path (linted with petab).

    The conventions (conditions per line and doses, pre-equilibration on the untreated line, observables with a
    per-blot scale factor, the noise model) and why: ``docs/notes/fit.md``, "PEtab problems from blots".

    Parameters
    ----------
    model
        The model the data are fitted to (its SBML is written beside the tables as ``model.xml``).
    data
        From :func:`read_blot_data`.
    out_dir
        Output folder (created); ``None``: a new temporary folder (``mekisim-petab-*`` in the system's temporary
        folder, kept: the fit's workers and :func:`fit_vs_data` read the problem from it). It holds ``model.xml``,
        ``conditions.tsv``, ``measurements.tsv``,
        ``observables.tsv``, ``parameters.tsv``, ``visualization.tsv`` (one plot per observable, one line per
        blot and condition, for ``petab_visualize`` and other PEtab tools), ``problem.yaml`` and a ``README.md``
        with the data notes.
    estimate
        Cell line -> model parameter ids to estimate for that line. Each becomes the PEtab parameter
        ``<param>_<line>`` (log10 scale, bounds nominal/100 .. nominal*100, nominal = the line's value),
        referenced in that line's condition rows. Every other model parameter is fixed: listed in the
        parameter table with ``estimate = 0`` at its value (so a user can free it by flipping a flag).
    estimate_scales
        Whether the per-blot scale factors are estimated. Default: yes for lanes, no for summaries.
    lines
        Cell lines; default the bundled file.

    Returns
    -------
    pathlib.Path
        The problem's ``problem.yaml``.

    Raises
    ------
    InputError
        The data do not fit the model (unknown observable, cell line or drug), ``estimate`` names an
        unknown line or parameter, a parameter to estimate is not > 0, times need a time unit the model
        does not declare, or petab's linter reports an error (a bug: the message carries petab's).
    """
    lines = with_defaults_line(model, load_cell_lines() if lines is None else lines)
    _check_against_model(model, data, lines)
    estimate = _check_estimate(model, data, lines, estimate or {})
    if estimate_scales is None:
        estimate_scales = data.shape == "lanes"
    line_values = {line: lines[line].values(model.parameters) for line in data.cell_lines}
    param_cols = sorted({p for v in line_values.values() for p in v} | {p for ps in estimate.values() for p in ps})
    conditions, measurements = _condition_and_measurement_rows(model, data, estimate, line_values, param_cols)
    tables = {
        "conditions": conditions,
        "measurements": measurements,
        "observables": _observable_rows(model, data),
        "parameters": _parameter_rows(model, data, measurements, estimate, line_values, param_cols, estimate_scales),
        "visualization": _visualization_rows(model, data, conditions, measurements),
    }
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="mekisim-petab-"))
    yaml_path = _write_problem(out, model, tables)
    (out / "README.md").write_text(_readme(model, data, estimate, estimate_scales), encoding="utf-8")
    errors = lint_petab(yaml_path)
    if errors:
        raise InputError(f"the PEtab problem written to {str(yaml_path)!r} fails petab's linter: "
                         + " | ".join(issue.message for issue in errors))
    return yaml_path


def _condition_and_measurement_rows(
    model: CompiledModel, data: BlotData, estimate: Mapping[str, Sequence[str]],
    line_values: Mapping[str, Mapping[str, float]], param_cols: list[str],
) -> tuple[list[dict], list[dict]]:
    """The condition rows (one per cell line and doses) and one measurement row per data row."""
    to_model_time = _time_factor(model, data.table["time_h"])
    conditions: list[dict] = []
    cond_ids: dict[tuple[str, tuple[float, ...]], str] = {}

    def condition_row(line: str, doses: tuple[float, ...], label: str) -> str:
        key = (line, doses)
        if key not in cond_ids:
            cid = _pid(f"{line}__{label if any(doses) else 'untreated'}")
            while cid in cond_ids.values():
                cid += "_"
            cond_ids[key] = cid
            row = {"conditionId": cid, "conditionName": f"{line} {label if any(doses) else 'untreated'}"}
            for p in param_cols:
                row[p] = (f"{p}_{_pid(line)}" if p in estimate.get(line, ())
                          else line_values[line].get(p, model.parameters[p]))
            row.update(dict(zip(data.drugs, doses, strict=True)))
            conditions.append(row)
        return cond_ids[key]

    zero = tuple(0.0 for _ in data.drugs)
    measurements = []
    for rec in data.table.itertuples(index=False):
        rec = rec._asdict()
        doses = tuple(float(rec[d]) for d in data.drugs)
        preeq = condition_row(rec["cell_line"], zero, "untreated")
        sim = condition_row(rec["cell_line"], doses, rec["condition"])
        obs = rec["observable"]
        blot = _pid(rec["blot_id"]) if rec["blot_id"] else ""
        row = {
            "observableId": f"obs_{obs}",
            "preequilibrationConditionId": preeq,
            "simulationConditionId": sim,
            "measurement": float(rec["value"]),
            "time": float(rec["time_h"]) * to_model_time,
            "observableParameters": _pid("scale", blot, obs),
            "noiseParameters": float(rec["sem"]) if data.shape == "summary" else math.nan,
            # one dataset per blot, observable and condition: a line of the visualization table's plots
            "datasetId": _pid(blot or "summary", obs, sim),
        }
        if data.shape != "summary":
            row["replicateId"] = _pid(blot, "lane", str(rec["replicate"])) if rec["replicate"] else math.nan
        measurements.append(row)
    return conditions, measurements


def _visualization_rows(model: CompiledModel, data: BlotData, conditions: list[dict],
                        measurements: list[dict]) -> list[dict]:
    """PEtab visualization table: one plot per observable, one line per dataset (blot, observable, condition).

    Data as given (summaries: mean +- the SEM of ``noiseParameters``, ``provided``) or as mean and SD of the
    lanes; the simulation as a line over time, or a bar per condition when the observable has one time point.
    """
    labels = {o.id: o.label for o in model.observables}
    names = {c["conditionId"]: c["conditionName"] for c in conditions}
    unit = model.time_unit or "model time units"
    times: dict[str, set[float]] = {}
    for m in measurements:
        times.setdefault(m["observableId"], set()).add(m["time"])
    rows, seen = [], set()
    for m in measurements:
        if m["datasetId"] in seen:
            continue
        seen.add(m["datasetId"])
        obs = m["observableId"].removeprefix("obs_")
        tail = f"_{_pid(obs, m['simulationConditionId'])}"  # datasetId = <blot or 'summary'>_<observable>_<condition>
        blot = m["datasetId"][: -len(tail)] if m["datasetId"].endswith(tail) else ""
        rows.append({
            "plotId": _pid("plot", obs), "plotName": labels.get(obs, obs),
            # one time point (basal levels): a bar per condition; otherwise a line over time
            "plotTypeSimulation": "BarPlot" if len(times[m["observableId"]]) == 1 else "LinePlot",
            "plotTypeData": "provided" if data.shape == "summary" else "MeanAndSD",
            "datasetId": m["datasetId"], "xValues": "time",
            "xLabel": "condition" if len(times[m["observableId"]]) == 1 else f"time ({unit})",
            "yValues": m["observableId"], "yLabel": f"{labels.get(obs, obs)} (blot units)",
            "legendEntry": names[m["simulationConditionId"]] + (f" ({blot})" if blot and blot != "summary" else ""),
        })
    return rows


def _observable_rows(model: CompiledModel, data: BlotData) -> list[dict]:
    """One PEtab observable per measured model observable, scaled by its blot's factor."""
    labels = {o.id: o.label for o in model.observables}
    return [{
        "observableId": f"obs_{obs}",
        "observableName": labels[obs],
        "observableFormula": f"observableParameter1_obs_{obs} * {obs}",
        "observableTransformation": "lin",
        "noiseFormula": f"noiseParameter1_obs_{obs}" if data.shape == "summary" else f"sigma_{obs}",
        "noiseDistribution": "normal",
    } for obs in data.observables]


def _write_problem(out: Path, model: CompiledModel, tables: Mapping[str, list[dict]]) -> Path:
    """Write the SBML, the four tables and ``problem.yaml`` into ``out`` (created); return the YAML path."""
    import petab.v1 as petab  # here, not at module level: importing petab costs ~2 s (simulator/__init__.py)

    out.mkdir(parents=True, exist_ok=True)
    (out / "model.xml").write_text(model.sbml, encoding="utf-8")
    with warnings.catch_warnings():
        # petab 0.8 calls pandas APIs deprecated in pandas 3; harmless (see simulator.fit.load_petab)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"petab(\.|$)")
        petab.write_condition_df(pd.DataFrame(tables["conditions"]).set_index("conditionId"), out / "conditions.tsv")
        petab.write_measurement_df(pd.DataFrame(tables["measurements"]), out / "measurements.tsv")
        petab.write_observable_df(pd.DataFrame(tables["observables"]).set_index("observableId"),
                                  out / "observables.tsv")
        petab.write_parameter_df(pd.DataFrame(tables["parameters"]).set_index("parameterId"), out / "parameters.tsv")
        visualization = None
        if tables.get("visualization"):
            visualization = out / "visualization.tsv"
            petab.write_visualization_df(pd.DataFrame(tables["visualization"]), visualization)
        yaml_path = out / "problem.yaml"
        petab.yaml.create_problem_yaml(
            sbml_files=out / "model.xml", condition_files=out / "conditions.tsv",
            measurement_files=out / "measurements.tsv", parameter_file=out / "parameters.tsv",
            observable_files=out / "observables.tsv", yaml_file=yaml_path, visualization_files=visualization,
        )
    return yaml_path


def lint_petab(yaml_path: str | Path) -> list[Issue]:
    """Run ``petab.v1.lint_problem`` on a problem and return every error it reports (empty = valid).

    A problem petab cannot load gives one issue saying why. petab reports through the ``petab``
    logger; its records are captured here (and not printed), so a caller gets the messages as values.

    Parameters
    ----------
    yaml_path
        The problem's YAML file.

    Returns
    -------
    list of Issue
        One ``"error"`` per message of petab's linter, each for ``yaml_path``.
    """
    import petab.v1 as petab

    messages: list[str] = []

    class _Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR and record.getMessage() != "Not OK":  # "Not OK": the summary line
                messages.append(record.getMessage())

    logger = logging.getLogger("petab")
    handler, propagate = _Capture(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"petab(\.|$)")
            problem = petab.Problem.from_yaml(yaml_path)
            failed = petab.lint_problem(problem)
    except Exception as exc:  # petab raises yaml, jsonschema, pandas and OS errors: all mean a bad problem file
        messages = [f"could not be loaded by petab: {type(exc).__name__}: {exc}"]
        failed = True
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    if failed and not messages:
        messages.append("petab.v1.lint_problem reported errors without a message")
    return [Issue(str(yaml_path), "error", message) for message in messages]


def _check_against_model(model: CompiledModel, data: BlotData, lines: Mapping[str, CellLine]) -> None:
    problems = []
    unknown_obs = [o for o in data.observables if o not in model.observable_ids]
    if unknown_obs:
        problems.append(f"observables {unknown_obs} (valid: {', '.join(model.observable_ids)})")
    valid_lines = _lines_of(model, lines)
    unknown_lines = [c for c in data.cell_lines if c not in valid_lines]
    if unknown_lines:
        problems.append(f"cell lines {unknown_lines} (valid: {', '.join(valid_lines)})")
    unknown_drugs = [d for d in data.drugs if d not in model.parameters]
    if unknown_drugs:
        problems.append(f"drugs {unknown_drugs} (no dose parameter of that id)")
    if problems:
        raise InputError(f"blot data {data.source!r} do not fit model {model.name!r}: unknown "
                         + "; ".join(problems) + ".")


def _check_estimate(
    model: CompiledModel, data: BlotData, lines: Mapping[str, CellLine], estimate: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    out = {}
    for line, params in estimate.items():
        if line not in data.cell_lines:
            raise InputError(f"estimate names cell line {line!r}, which has no data in {data.source!r}; "
                             f"valid: {', '.join(data.cell_lines)}.")
        params = tuple(dict.fromkeys([params] if isinstance(params, str) else params))
        values = lines[line].values(model.parameters)
        for p in params:
            if p not in model.parameters or p in data.drugs:
                raise InputError(f"estimate[{line!r}] names {p!r}, which is not a settable parameter of model "
                                 f"{model.name!r} (drug doses are set by the data).")
            nominal = values.get(p, model.parameters[p])
            if not (math.isfinite(nominal) and nominal > 0):
                raise InputError(f"estimate[{line!r}]: {p} = {nominal!r} in {line}; an estimated parameter is "
                                 "on log10 scale and needs a value > 0.")
        out[line] = params
    return out


def _time_factor(model: CompiledModel, times_h: pd.Series) -> float:
    """Multiply hours by this to get model time."""
    if model.time_unit is None:
        if (times_h != 0).any():
            raise InputError(f"model {model.name!r} declares no time unit, so blot times in hours cannot be "
                             "converted; declare time_unit in its metadata.")
        return 1.0
    return TIME_UNITS["h"] / TIME_UNITS[model.time_unit]


def _parameter_rows(
    model: CompiledModel,
    data: BlotData,
    measurements: list[dict],
    estimate: Mapping[str, tuple[str, ...]],
    line_values: Mapping[str, Mapping[str, float]],
    param_cols: list[str],
    estimate_scales: bool,
) -> list[dict]:
    def row(pid: str, nominal: float, est: bool, *, scale: str, bounds: tuple[float, float], name: str) -> dict:
        return {"parameterId": pid, "parameterName": name, "parameterScale": scale, "lowerBound": bounds[0],
                "upperBound": bounds[1], "nominalValue": nominal, "estimate": int(est)}

    rows = [row(pid, 1.0, estimate_scales, scale="log10", bounds=_SCALE_BOUNDS, name="blot scale factor")
            for pid in dict.fromkeys(m["observableParameters"] for m in measurements)]
    if data.shape == "lanes":
        rows += [row(f"sigma_{obs}", _SIGMA_NOMINAL, True, scale="log10", bounds=_SIGMA_BOUNDS,
                     name=f"noise SD of {obs} lanes") for obs in data.observables]
    for line, params in estimate.items():
        for p in params:
            nominal = line_values[line].get(p, model.parameters[p])
            rows.append(row(f"{p}_{_pid(line)}", nominal, True, scale="log10",
                            bounds=(nominal / _ESTIMATE_RANGE, nominal * _ESTIMATE_RANGE), name=f"{p} in {line}"))
    fixed = [p for p in model.parameters if p not in set(param_cols) | set(data.drugs)]
    for p in fixed:
        value = model.parameters[p]
        positive = math.isfinite(value) and value > 0
        rows.append(row(p, value, False, scale="log10" if positive else "lin",
                        bounds=(value / _ESTIMATE_RANGE, value * _ESTIMATE_RANGE) if positive else (0.0, 1.0),
                        name=f"{p} (model default, fixed)"))
    return rows


def _readme(model: CompiledModel, data: BlotData, estimate: Mapping[str, tuple[str, ...]], scales: bool) -> str:
    est = "; ".join(f"{line}: {', '.join(ps)}" for line, ps in estimate.items()) or "none"
    notes = "\n".join(f"> {line}" for line in data.notes.splitlines()) or "> (the data file has no notes)"
    return (
        f"# PEtab problem from blot data\n\nWritten by `simulator.fit.blots_to_petab` from `{data.source}` "
        f"({data.shape} shape) for model `{model.name}` (sha256 {model.sha256[:12]}).\n\nNotes of the data file:\n\n"
        f"{notes}\n\nEstimated line parameters: {est}. Blot scale factors estimated: {'yes' if scales else 'no'}. "
        "Every measurement is pre-equilibrated on its line's untreated condition; drug-free rows are that "
        "steady state. See the docstring of `blots_to_petab` for the conventions.\n"
    )
