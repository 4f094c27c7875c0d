"""One condition mekisim can simulate, exported as standalone SBML, Antimony, or a COMBINE archive with SED-ML.

The encoding (research in the issue's notes, measured with tellurium 2.2.13):

* every value of the condition (cell line, catalogue IC50/Hill, doses, ``--set`` values) is written into the SBML;
* a pre-equilibrated time course starts from mekisim's untreated steady state, written in as the species' initial
  concentrations and the rate-rule variables' values (their initial assignments removed); the drug acts from
  t = 0. The archive also carries the untreated model and a SED-ML steady-state task on it, so the executing tool
  re-derives that start state;
* the SED-ML carries the solver settings (CVODE rtol, atol, max steps), a report with time and every observable
  (labels with units) and one plot per observable unit; ``reference/mekisim.csv`` is mekisim's own table.

Other encodings of the protocol (repeated tasks, events, SED-ML model changes of totals) either do not run in
tellurium or give silently wrong numbers there; see the README section "Taking a condition to another tool".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..engine import SolverOptions, steady_state, time_course
from ..errors import InputError, SimulationError
from ..model import CompiledModel, Condition, accepted_drugs, check_values, make_condition
from ._omex import FORMATS, Entry, write_archive
from ._sbml import bake, check_exportable, sbml_info, to_antimony
from ._sedml import SedDocument

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPORT_FORMATS", "ExportResult", "export_condition", "format_for", "observable_label"]

#: export format -> file suffixes it is written to
EXPORT_FORMATS = {"sbml": (".xml", ".sbml"), "antimony": (".ant", ".txt"), "omex": (".omex",)}
#: written into every exported file, so a later export may overwrite it without --force
MARKER = "Written by mekisim export"
#: ids of the models in an archive; the file stems are the same (tellurium names models after file stems)
TREATED_ID, UNTREATED_ID = "condition", "condition_untreated"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and what mekisim computed for it.

    Attributes
    ----------
    path, format
        The file written and its format (``sbml``, ``antimony`` or ``omex``).
    condition
        The condition exported (cell line, doses, every value applied).
    pre_equilibrated
        The run starts from the untreated steady state mekisim solved (written in as the initial state).
    description
        What was exported, in words (the archive's description and the SBML notes).
    notes
        Anything the user must know (e.g. pre-equilibration skipped because the untreated model oscillates).
    reference
        mekisim's own table of the exported run (time and observables), as written to ``reference/mekisim.csv``.
    files
        The files inside the archive (``omex`` only).
    """

    path: Path
    format: str
    condition: Condition
    pre_equilibrated: bool
    description: str
    notes: tuple[str, ...] = ()
    reference: object = field(default=None, repr=False)
    files: tuple[str, ...] = ()


def format_for(path: str | Path, given: str | None) -> str:
    """The export format: ``given``, checked against the suffix of ``path``, or read from the suffix."""
    suffix = Path(path).suffix.lower()
    if given is None:
        for name, suffixes in EXPORT_FORMATS.items():
            if suffix in suffixes:
                return name
        raise InputError(f"--out {str(path)!r}: cannot tell the format from the suffix {suffix or '(none)'}; give "
                         f"--format sbml (.xml), antimony (.ant) or omex (.omex).")
    if given not in EXPORT_FORMATS:
        raise InputError(f"format {given!r} is not one of {', '.join(EXPORT_FORMATS)}.")
    if suffix not in EXPORT_FORMATS[given]:
        raise InputError(f"--out {str(path)!r}: a {given} export is written to a file ending in "
                         f"{' or '.join(EXPORT_FORMATS[given])}, not {suffix or '(no suffix)'}.")
    return given


def observable_label(model: CompiledModel, obs_id: str) -> str:
    """``id: label [unit]`` (SED-ML has no units: they travel in the labels)."""
    unit = model.observable(obs_id).unit
    return f"{_short(model, obs_id)} [{unit}]" if unit else _short(model, obs_id)


def _short(model: CompiledModel, obs_id: str) -> str:
    """``id: label`` without the unit (a plot's curve; the unit is on its axis)."""
    obs = model.observable(obs_id)
    return f"{obs.id}: {obs.label}" if obs.label and obs.label != obs.id else obs.id


def time_label(model: CompiledModel) -> str:
    """``time_<unit>`` (the tables' convention), or ``time`` when the model declares no unit."""
    return f"time_{model.time_unit}" if model.time_unit else "time"


def export_condition(
    model: CompiledModel,
    cell_line: str | None = None,
    doses: Mapping[str, float | str] | None = None,
    values: Mapping[str, float] | None = None,
    *,
    times: Sequence[float] | np.ndarray | None = None,
    pre_equilibrate: bool = True,
    options: SolverOptions | None = None,
    format: str | None = None,
    out: str | Path,
    force: bool = False,
) -> ExportResult:
    """Export one condition as a standalone SBML or Antimony model, or a COMBINE archive with SED-ML.

    Parameters
    ----------
    model
        The compiled model (with ``--add-drug`` terms already added).
    cell_line, doses, values
        As :func:`simulator.make_condition`: a bundled cell line, drug doses (nM or with units) and parameter or
        species values (``--set``), applied before pre-equilibration.
    times
        Equally spaced output times of a time course (model time units; the drug is added at ``times[0]``), or
        ``None`` for the steady state with the drug present.
    pre_equilibrate
        A time course starts from the untreated steady state (mekisim's protocol), written into the model as its
        initial state; ``False``: from the model's initial conditions.
    options
        Solver settings of mekisim's run and of the SED-ML simulation (CVODE rtol, atol, max steps).
    format
        ``"sbml"``, ``"antimony"`` or ``"omex"``; ``None``: from the suffix of ``out``.
    out
        The file to write (suffix ``.xml``/``.sbml``, ``.ant``/``.txt`` or ``.omex``).
    force
        Overwrite an existing file that mekisim export did not write.

    Raises
    ------
    InputError
        Unknown cell line, drug or id, a time grid that is not equally spaced, a model the export cannot carry
        faithfully (see :func:`simulator.export._sbml.check_exportable`), or an existing file in the way.
    SimulationError
        mekisim's own run of the condition failed, or a steady state was asked for where there is none.
    """
    format = format_for(out, format)
    out = Path(out)
    _check_target(out, force)
    options = options or SolverOptions()
    check_values(values or {}, model)
    condition = make_condition(model, cell_line, doses, values=values)
    grid = None if times is None else _uniform(times)
    check_exportable(model, bakes_state=grid is not None and pre_equilibrate)
    run = _run(model, condition, grid, pre_equilibrate, options)
    texts = _texts(model, condition, dict(values or {}), run, options, archive=format == "omex")
    if format == "sbml":
        _write_text(out, texts["treated"])
        files: tuple[str, ...] = ()
    elif format == "antimony":
        _write_text(out, texts["antimony"])
        files = ()
    else:
        entries = _entries(model, condition, run, texts, options)
        write_archive(out, entries, description=texts["description"], creator=f"mekisim {__version__}")
        files = tuple(e.location for e in entries)
    return ExportResult(path=out, format=format, condition=condition, pre_equilibrated=run.pre_equilibrated,
                        description=texts["description"], notes=run.notes, reference=run.reference, files=files)


# ------------------------------------------------------------------------------------------- mekisim's run


@dataclass(frozen=True)
class _Run:
    """mekisim's run of the condition: its table, start state and what the export must say about it."""

    times: np.ndarray | None
    reference: pd.DataFrame
    state: Mapping[str, float] | None  # the pre-equilibrated start state (None: initial conditions)
    pre_equilibrated: bool
    notes: tuple[str, ...]


def _uniform(times: Sequence[float] | np.ndarray) -> np.ndarray:
    grid = np.asarray(times, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)) or np.any(np.diff(grid) <= 0):
        raise InputError("times must be at least 2 finite, strictly increasing values.")
    step = (grid[-1] - grid[0]) / (grid.size - 1)
    if not np.allclose(np.diff(grid), step, rtol=1e-9, atol=0.0):
        raise InputError("a SED-ML uniform time course needs equally spaced times (T0:T1:N); the times given are not.")
    return grid


def _run(model: CompiledModel, condition: Condition, times: np.ndarray | None, pre_equilibrate: bool,
         options: SolverOptions) -> _Run:
    import pandas as pd

    obs = list(model.observable_ids)
    if times is None:
        record = steady_state(model, condition, select=obs, options=options, throw=False)
        if not record.ok:
            raise SimulationError(f"mekisim finds no steady state for this condition ({record.status}: "
                                  f"{record.message}); a steady state cannot be exported. Export a time course "
                                  "(--time T0:T1:N) instead.")
        frame = pd.DataFrame([record.values], columns=[observable_label(model, o) for o in obs])
        return _Run(None, frame, None, False, ())
    select = list(dict.fromkeys([*model.species, *model.rate_ruled, *obs]))
    traj = time_course(model, times, condition, pre_equilibrate=pre_equilibrate, select=select, options=options,
                       throw=False)
    if not traj.ok:
        raise SimulationError(f"mekisim's own run of this condition failed ({traj.message}); there is nothing to "
                              "reproduce elsewhere.")
    notes: tuple[str, ...] = ()
    if pre_equilibrate and not traj.pre_equilibrated:
        notes = (f"pre-equilibration skipped: {traj.message}",)
    state = None
    if traj.pre_equilibrated:
        state = {sid: float(traj[sid][0]) for sid in (*model.species, *model.rate_ruled)}
    frame = pd.DataFrame({time_label(model): traj.time, **{observable_label(model, o): traj[o] for o in obs}})
    return _Run(times, frame, state, traj.pre_equilibrated, notes)


# ------------------------------------------------------------------------------------------------ texts


def _doses_text(condition: Condition) -> str:
    given = [f"{d} {v:g} nM" for d, v in condition.doses.items() if v > 0]
    return " + ".join(given) if given else "no drug"


def _values_text(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:.10g}" for k, v in values.items())


def _texts(model: CompiledModel, condition: Condition, given: Mapping[str, float], run: _Run,
           options: SolverOptions, *, archive: bool) -> dict[str, str]:
    """The description (archive metadata, SBML notes, Antimony header) and the models' texts."""
    unit = model.time_unit or "model time units"
    line = condition.cell_line or "the model's own parameter values (no cell line)"
    rule_species = _rule_species(model) if archive else []  # no SED-ML check task for them (see _rule_species)
    drugs = set(accepted_drugs(model))
    written = {k: v for k, v in condition.values.items() if k not in drugs and k not in given}
    what = f"model {model.name} ({model.title})" if model.title and model.title != model.name else f"model {model.name}"
    parts = [f"{MARKER} {__version__}: {what}; cell line {line}; {_doses_text(condition)}"
             + (f" (every other drug of the model at 0 nM: {', '.join(sorted(drugs - set(condition.doses)))})"
                if drugs - set(condition.doses) else "") + "."]
    if given:
        parts.append(f"Values set by the user (--set; applied before pre-equilibration): {_values_text(given)}.")
    if written:
        parts.append(f"Also written into the model: the cell line's values and the drug catalogue's IC50 (nM) and "
                     f"Hill values: {_values_text(written)}.")
    if run.times is None:
        parts.append("Simulation: the steady state with the drug present, searched from the model's initial "
                     "conditions (as mekisim's steady_state does).")
    else:
        t = run.times
        parts.append(f"Simulation: time course {t[0]:g} to {t[-1]:g} {unit}, {t.size} points, CVODE rtol "
                     f"{options.rtol:g}, atol {options.atol:g}, at most {options.max_steps} steps per output interval.")
        if run.pre_equilibrated:
            settings = (f" with the model's pre-equilibration settings ({_values_text(model.pre_equilibration)})"
                        if model.pre_equilibration else "")
            parts.append(f"Pre-equilibrated: the run starts from the untreated steady state of this condition (every "
                         f"dose 0{settings}), solved by mekisim and written into this model as the species' initial "
                         "concentrations" + (f" and the start values of the rate-rule variables "
                                             f"({', '.join(model.rate_ruled)})" if model.rate_ruled else "")
                         + f" (their initial assignments removed); the drug acts from t = {t[0]:g} {unit}."
                         + (f" {UNTREATED_ID}.xml is the untreated model; its steady state, re-derived by the SED-ML "
                            "task 'pre_equilibration' (report 'pre_equilibration_check'), is that start state "
                            "(reference/start_state.csv)." if archive and not rule_species else "")
                         + (f" {UNTREATED_ID}.xml is the untreated model; the archive has no SED-ML task "
                            "re-deriving its steady state, because tellurium runs SED-ML steady states with moiety "
                            "analysis, which roadrunner refuses for species set by rate rules "
                            f"({', '.join(rule_species)}); "
                            "mekisim's start state is reference/start_state.csv." if rule_species
                            else ""))
        else:
            parts.append("Not pre-equilibrated: the run starts from the model's initial conditions (its initial "
                         "assignments evaluated with the values above).")
    parts += list(run.notes)
    description = "\n\n".join(parts)
    treated = bake(model.sbml, condition.values, state=run.state, model_id=TREATED_ID,
                   name=f"{model.name}: {line}, {_doses_text(condition)}", notes=description)
    texts = {"description": description, "treated": treated,
             "antimony": to_antimony(treated, description.replace("\n\n", "\n"))}
    if run.pre_equilibrated:
        texts["untreated"] = bake(model.sbml, {**condition.untreated, **model.pre_equilibration}, model_id=UNTREATED_ID,
                                  name=f"{model.name}: {line}, untreated (pre-equilibration)",
                                  notes=f"{MARKER} {__version__}: the untreated model of {TREATED_ID}.xml (every dose 0"
                                        + (f"; pre-equilibration settings {_values_text(model.pre_equilibration)}"
                                           if model.pre_equilibration else "")
                                        + "). Its steady state is the start state written into "
                                        f"{TREATED_ID}.xml.")
    return texts


# ---------------------------------------------------------------------------------------------- archive


def _entries(model: CompiledModel, condition: Condition, run: _Run, texts: dict[str, str],
             options: SolverOptions) -> list[Entry]:
    info = sbml_info(texts["treated"])
    sed = SedDocument(info, notes=texts["description"])
    title = f"{model.name} {condition.cell_line or '(model defaults)'}: {_doses_text(condition)}"
    sed.model(TREATED_ID, f"{TREATED_ID}.xml", info, title + (" (pre-equilibrated start state)"
                                                                if run.pre_equilibrated else ""))
    obs = list(model.observable_ids)
    labels = {o: observable_label(model, o) for o in obs}
    if run.times is None:
        sed.steady_state("steady_state", "steady state with the drug present")
        sed.task("task", TREATED_ID, "steady_state", title)
        for o in obs:
            sed.variable(f"ss_{o}", "task", TREATED_ID, o, labels[o])
        sed.report("steady_state_report", [(labels[o], f"ss_{o}") for o in obs], f"{title}: steady state")
    else:
        t = run.times
        unit = model.time_unit or "model time units"
        sed.uniform_time_course("time_course", t[0], t[-1], t.size - 1, rtol=options.rtol, atol=options.atol,
                                max_steps=options.max_steps, name=f"{t[0]:g} to {t[-1]:g} {unit}")
        sed.task("task", TREATED_ID, "time_course", title)
        sed.variable("tc_time", "task", TREATED_ID, "time", f"time ({unit})")
        for o in obs:
            sed.variable(f"tc_{o}", "task", TREATED_ID, o, labels[o])
        sed.report("time_course_report", [(time_label(model), "tc_time"), *((labels[o], f"tc_{o}") for o in obs)],
                   f"{title}: time course")
        by_unit: dict[str, list[str]] = {}
        for observable in model.observables:
            by_unit.setdefault(observable.unit, []).append(observable.id)
        x_label = (f"time after drug addition ({unit}), from the untreated steady state" if run.pre_equilibrated
                   else f"time ({unit}), from the initial conditions")
        for k, (obs_unit, ids) in enumerate(by_unit.items(), start=1):
            sed.plot(f"plot{k}", "tc_time", [(_short(model, o), f"tc_{o}") for o in ids],
                     name=f"{title} (simulated)", x_label=x_label, y_label=obs_unit or "value")
        if run.pre_equilibrated and not _rule_species(model):
            sed.model(UNTREATED_ID, f"{UNTREATED_ID}.xml", sbml_info(texts["untreated"]),
                      f"{model.name}: untreated (pre-equilibration)")
            sed.steady_state("untreated_steady_state", "untreated steady state (pre-equilibration)")
            sed.task("pre_equilibration", UNTREATED_ID, "untreated_steady_state",
                     "pre-equilibration: the untreated steady state (compare with the start state of "
                     f"{TREATED_ID}.xml)")
            for sid in run.state or {}:  # the floating species and the rate-rule variables
                sed.variable(f"pre_{sid}", "pre_equilibration", UNTREATED_ID, sid,
                             f"{sid} at the untreated steady state")
            sed.report("pre_equilibration_check", [(sid, f"pre_{sid}") for sid in run.state or {}],
                       "untreated steady state re-derived by the executing tool (reference/start_state.csv is "
                       "mekisim's)")
    entries = [
        Entry(f"{TREATED_ID}.xml", texts["treated"], info.format_uri,
              "the condition as a standalone SBML model: every value written in"
              + ("; the initial state is the pre-equilibrated untreated steady state" if run.pre_equilibrated else "")),
        Entry(f"{TREATED_ID}.ant", texts["antimony"], FORMATS["text"],
              f"Antimony text of {TREATED_ID}.xml, for reading"),
        Entry("simulation.sedml", sed.text(), FORMATS["sedml"],
              "SED-ML L1V4: the simulation, its solver settings, reports and plots", master=True),
        Entry("reference/mekisim.csv", run.reference.to_csv(index=False, float_format="%.17g"), FORMATS["csv"],
              "mekisim's own result of the same simulation (same grid, same solver settings), columns as the "
              "SED-ML report's labels"),
    ]
    if run.pre_equilibrated:
        assert run.state is not None  # _run records the start state whenever the run was pre-equilibrated
        entries.insert(1, Entry(f"{UNTREATED_ID}.xml", texts["untreated"], info.format_uri,
                                "the untreated model (every dose 0): its steady state is the start state"))
        state = "species,concentration\n" + "".join(f"{k},{v!r}\n" for k, v in (run.state or {}).items())
        entries.append(Entry("reference/start_state.csv", state, FORMATS["csv"],
                             "mekisim's pre-equilibrated start state (the initial concentrations of condition.xml, "
                             "and the start values of its rate-rule variables)"))
    return entries


def _rule_species(model: CompiledModel) -> list[str]:
    """Species set by rate rules, for which the archive leaves out its pre-equilibration check task.

    Why: tellurium runs a SED-ML steady-state task with moiety analysis, which roadrunner refuses for them
    ("Cannot perform moiety conversion when floating species are defined by rules"), and the failed task fails
    the whole archive. The time course from the start state written in still runs; reference/start_state.csv
    has that state.
    """
    if not model.rate_ruled:
        return []
    kinds = sbml_info(model.sbml).kinds
    return [r for r in model.rate_ruled if kinds.get(r) == "species"]


# ------------------------------------------------------------------------------------------------ files


def _check_target(out: Path, force: bool) -> None:
    """Refuse a folder, a missing parent, or an existing file mekisim export did not write (unless ``force``)."""
    if out.is_dir():
        raise InputError(f"--out {str(out)!r} is a folder; give a file name (e.g. {out / 'condition.omex'}).")
    if not out.parent.is_dir():
        raise InputError(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist; create it first.")
    if out.exists() and not force and not _written_by_export(out):
        raise InputError(f"--out {str(out)!r} exists and was not written by mekisim export; pass --force to overwrite "
                         "it, or choose another file name.")


def _written_by_export(path: Path) -> bool:
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return any(MARKER in archive.read(name).decode("utf-8", "replace")
                           for name in archive.namelist() if name.endswith(".rdf"))
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile):
        return False


def _write_text(path: Path, text: str) -> None:
    import os

    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
