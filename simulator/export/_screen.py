"""A stored screen (``mekisim screen --out DIR``) as one COMBINE archive: a SED-ML repeated task per dose matrix.

Each (cell line, ensemble member) matrix gets its own SBML file, the untreated condition with every value written
in (cell-line totals feed initial assignments, which tellurium does not re-run after a ``setValue``), and a
repeated task over its dose wells: ``resetModel`` true, the two doses set from lock-step vector ranges, a
steady-state subtask. The doses feed no initial assignment (checked), so every well starts exactly where mekisim's
``steady_states`` starts, from the model's initial conditions. The fast mode's readouts are data generators over
the wells task and a DMSO steady-state task; the closed-form cell numbers (``exp`` of the net growth rate) are
assignment rules added to each exported model, because tellurium evaluates data-generator math with Python's
``math`` module, whose ``exp`` fails on a repeated task's arrays.

Not exported: the constant-ratio mixture wells (the CI's series), full-mode readouts (cell numbers integrated over
72 h) and time-course readouts a model declares (Model B's); such screens are refused with the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import InputError
from ..model import DEFAULTS_LABEL, CompiledModel, load_model, make_condition
from ..readouts import readouts_for
from ..screen import load_ensemble
from ._condition import MARKER, _check_target, format_for
from ._omex import FORMATS, Entry, write_archive
from ._sbml import bake, sbml_info
from ._sedml import SedDocument

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ScreenExportResult", "export_screen"]

#: most (cell line, member) matrices one archive holds: each is an SBML file of its own (~100 kB for Model A)
MAX_MATRICES = 100
#: ids of the closed-form cell numbers added to each exported model as assignment rules
N24, N72, A24 = "mekisim_N24", "mekisim_N72", "mekisim_A24"


@dataclass(frozen=True)
class ScreenExportResult:
    """What :func:`export_screen` wrote: the archive, its matrices and wells, and the screen's own values."""

    path: Path
    matrices: int
    wells: int
    readouts: tuple[str, ...]
    description: str
    notes: tuple[str, ...] = ()
    reference: pd.DataFrame = field(default=None, repr=False)  # the screen's wells, one row per well
    files: tuple[str, ...] = ()


def export_screen(directory: str | Path, out: str | Path, *, model: CompiledModel | None = None,
                  force: bool = False) -> ScreenExportResult:
    """Export the dose matrices of the screen stored in ``directory`` as one COMBINE archive at ``out``.

    Parameters
    ----------
    directory
        A complete screen folder (``manifest.json``, ``wells.parquet``).
    out
        The archive to write (``.omex``).
    model
        The screen's model; by default rebuilt from the manifest (its source file or bundled name, and the
        ``--add-drug`` terms of its command line). Either way it must have the manifest's SBML and metadata hashes.
    force
        Overwrite an existing file that mekisim export did not write.

    Raises
    ------
    InputError
        Not a complete screen folder; a model, drug catalogue or ensemble that is not the one screened; a screen
        whose readouts the export cannot express (full mode, model-declared readouts); too many matrices.
    """
    format_for(out, "omex")
    out, directory = Path(out), Path(directory)
    _check_target(out, force)
    manifest = _manifest(directory)
    screen = manifest["screen"]
    model = _model(manifest, model)
    _check_catalogue(manifest, directory)
    readouts = _readouts(model, screen)
    members = _members(screen, directory)
    lines = [None if c == DEFAULTS_LABEL else c for c in screen["cell_lines"]]
    held = {k: float(v) for k, v in ((screen.get("values") or {}).get("applied_values") or {}).items()}  # --set
    matrices = [(line, m, {**held, **values}) for line in lines for m, values in enumerate(members)]
    if not matrices:
        raise InputError(f"the screen in {str(directory)!r} records no cell lines (manifest 'cell_lines'); there is "
                         "no dose matrix to export.")
    if len(matrices) > MAX_MATRICES:
        raise InputError(f"the screen in {str(directory)!r} has {len(matrices)} (cell line, member) matrices; an "
                         f"archive holds at most {MAX_MATRICES} (one SBML model each). Export a smaller screen.")
    drug_a, drug_b = screen["drug_a"], screen["drug_b"]
    _check_doses_settable(model, (drug_a, drug_b))
    pairs = [(a, b) for a in screen["doses_a_nM"] for b in screen["doses_b_nM"]]
    reference = _reference(directory, screen, readouts)
    hours = _model_units_per_hour(model)
    needs_layer = any(r in ("viability", "apoptosis", "cleaved_parp") for r in readouts)

    description = _description(directory, model, screen, len(matrices), len(pairs), needs_layer)
    sed = None
    entries: list[Entry] = []
    columns_of: list[list[tuple[str, str]]] = []
    for k, (line, member, values) in enumerate(matrices):
        base = make_condition(model, line, {drug_a: 0.0, drug_b: 0.0}, values=values)
        sbml = _with_cell_numbers(model, hours) if needs_layer else model.sbml
        mid = f"matrix{k}"
        title = f"{line or 'model defaults'}" + (f", ensemble member {member}" if len(members) > 1 else "")
        text = bake(sbml, base.untreated, model_id=mid, name=f"{model.name}: {title}, untreated",
                    notes=f"{MARKER} {__version__}: matrix {k} of the screen ({title}); every dose 0, set per well by "
                          "the SED-ML repeated task.\n\n" + description)
        info = sbml_info(text)
        if sed is None:
            sed = SedDocument(info, notes=description)
            sed.steady_state("steady_state", "steady state with the drug present (from the initial conditions)")
        sed.model(mid, f"{mid}.xml", info, f"{model.name}: {title}")
        sed.task(f"{mid}_well", mid, "steady_state", f"{title}: one well")
        sed.task(f"{mid}_dmso", mid, "steady_state", f"{title}: DMSO (every dose 0), the readouts' reference")
        sed.repeated_task(f"{mid}_wells", {f"{mid}_a": [a for a, _ in pairs], f"{mid}_b": [b for _, b in pairs]},
                          {drug_a: f"{mid}_a", drug_b: f"{mid}_b"}, mid, f"{mid}_well",
                          f"{title}: {drug_a} x {drug_b}, {len(pairs)} wells")
        wells, dmso = f"{mid}_wells", f"{mid}_dmso"
        sed.variable(f"{mid}_dose_a", wells, mid, drug_a, f"{drug_a} (nM)")
        sed.variable(f"{mid}_dose_b", wells, mid, drug_b, f"{drug_b} (nM)")
        columns = [(f"dose_{drug_a}_nM", f"{mid}_dose_a"), (f"dose_{drug_b}_nM", f"{mid}_dose_b")]
        for rid, readout in readouts.items():
            math, variables = _readout_math(model, rid, readout, hours)
            dgid = f"{mid}_{_sid(rid)}"
            sed.formula(dgid, math, {v: ((wells if task == "well" else dmso), mid, target)
                                     for v, (task, target) in variables.items()},
                        f"{rid}: {readout.label} [{readout.unit}]")
            columns.append((f"{rid}: {readout.label} [{readout.unit}]", dgid))
        sed.report(f"{mid}_report", columns, f"{model.name}: {title}: {drug_a} x {drug_b}, fast-mode readouts")
        columns_of.append(columns)
        entries.append(Entry(f"{mid}.xml", text, info.format_uri,
                             f"matrix {k}: {title}, untreated, every value written in"
                             + ("; closed-form cell numbers added as assignment rules" if needs_layer else "")))
    if sed is None:
        raise RuntimeError("the screen has no dose matrix to export")
    entries += [
        Entry("screen.sedml", sed.text(), FORMATS["sedml"],
              "SED-ML L1V4: one repeated task over the dose wells per matrix, fast-mode readouts", master=True),
        Entry("reference/wells.csv", reference.to_csv(index=False, float_format="%.17g"), FORMATS["csv"],
              "the screen's own values of the exported wells (from its wells table), one row per well"),
    ]
    write_archive(out, entries, description=description, creator=f"mekisim {__version__}")
    notes = _notes(reference)
    return ScreenExportResult(path=out, matrices=len(matrices), wells=len(matrices) * len(pairs),
                              readouts=tuple(readouts), description=description, notes=notes, reference=reference,
                              files=tuple(e.location for e in entries))


# ---------------------------------------------------------------------------------------- what was screened


def _manifest(directory: Path) -> dict:
    path = directory / "manifest.json"
    if not path.is_file():
        raise InputError(f"--screen {str(directory)!r} holds no manifest.json: it is not the --out folder of a "
                         "finished mekisim screen (an unfinished one is completed by mekisim screen ... --resume).")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{str(path)!r} could not be read as JSON: {exc}.") from exc
    if manifest.get("verb") != "screen" or "screen" not in manifest:
        raise InputError(f"{str(path)!r} is the manifest of mekisim {manifest.get('verb', 'an unknown command')}, not "
                         "of a screen; give the --out folder of mekisim screen.")
    return manifest


def _option_values(command: Sequence[str], option: str) -> list[str]:
    """Every value of ``option`` in a recorded command line (``--opt VALUE`` or ``--opt=VALUE``)."""
    out = []
    for k, token in enumerate(command):
        if token == option and k + 1 < len(command):
            out.append(command[k + 1])
        elif token.startswith(option + "="):
            out.append(token[len(option) + 1:])
    return out


def _model(manifest: dict, given: CompiledModel | None) -> CompiledModel:
    """The screen's model: ``given`` or rebuilt from the manifest; its hashes must be the recorded ones."""
    recorded = manifest["models"]["model"]
    want = (recorded["sha256"], recorded.get("metadata_sha256", ""))
    if given is not None:
        if (given.sha256, given.metadata_sha256) != want:
            raise InputError(f"the model given is not the screen's model {recorded['name']!r} (its SBML or metadata "
                             "hash differs from the manifest's): give the --model and --add-drug the screen had.")
        return given
    from ..model import DrugTerm, add_drug_terms  # rebuilding a model from its --add-drug terms

    command = manifest.get("command") or []
    added = _option_values(command, "--add-drug")
    candidates = dict.fromkeys(c for c in (recorded.get("source"), *_option_values(command, "--model"),
                                           recorded["name"]) if c and not c.startswith("<"))
    tried = []
    for spec in candidates:
        try:
            model = load_model(Path(spec) if Path(spec).is_file() else spec)
            if added:
                model = add_drug_terms(model, [DrugTerm.parse(text) for text in added])
        except InputError as exc:
            tried.append(f"{spec}: {exc}")
            continue
        if (model.sha256, model.metadata_sha256) == want:
            return model
        tried.append(f"{spec}: a different SBML or metadata (the file changed since the screen ran?)")
    raise InputError(f"the screen's model {recorded['name']!r} could not be rebuilt as it was screened ("
                     f"{'; '.join(tried) or 'no model file recorded'}). Give it with --model M (and the --add-drug "
                     "terms the screen had).")


def _check_catalogue(manifest: dict, directory: Path) -> None:
    from ..files import catalogue_hashes  # the sha256 of the bundled drugs.toml and cell_lines.toml

    recorded, now = manifest.get("catalogue_sha256") or {}, catalogue_hashes()
    changed = sorted(k for k in recorded if now.get(k) != recorded[k])
    if changed:
        raise InputError(f"the bundled {' and '.join(changed)} changed since the screen in {str(directory)!r} ran (its "
                         "sha256 differs from the manifest's), so its wells cannot be rebuilt as screened; rerun the "
                         "screen, then export it.")


def _readouts(model: CompiledModel, screen: Mapping) -> dict:
    if screen.get("mode") != "fast":
        raise InputError(f"the screen ran in mode {screen.get('mode')!r}; the export carries fast-mode screens "
                         "(steady-state signalling, closed-form cell numbers). Full-mode readouts integrate cell "
                         "numbers over 72 h per well and are not exported yet: export single wells with mekisim "
                         "export --model ... --time ... instead.")
    wanted = list(screen["readouts"])
    available = readouts_for(model, wanted)
    declared = {r.id for r in model.readouts}
    refused = [r for r in wanted if r in declared or r not in available]
    if refused:
        raise InputError(f"readout(s) {', '.join(refused)} are time-course readouts the model declares (read from a "
                         "pre-equilibrated run at a fixed time); the screen export carries the steady-state readouts "
                         "only. Export single wells with mekisim export --model ... --time ... instead.")
    return {r: available[r] for r in wanted}


def _members(screen: Mapping, directory: Path) -> list[dict]:
    """The ensemble's members (``[{}]`` without one), read from the recorded file after checking its sha256."""
    ensemble = screen.get("ensemble") or {}
    count = int(ensemble.get("members") or screen.get("ensemble_members") or 0)
    if not count:
        return [{}]
    path = ensemble.get("file")
    if not path or not Path(path).is_file():
        raise InputError(f"the screen in {str(directory)!r} ran an ensemble of {count} members from "
                         f"{path or 'a file not recorded'}, which is not there now; the export needs its values.")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != ensemble.get("file_sha256"):
        raise InputError(f"the ensemble file {path!r} changed since the screen ran (its sha256 differs from the "
                         "manifest's); the export needs the values screened.")
    members = [dict(m) for m in load_ensemble(path)]
    if len(members) != count:
        raise InputError(f"the ensemble file {path!r} has {len(members)} members, the screen ran {count}.")
    return members


def _check_doses_settable(model: CompiledModel, drugs: Sequence[str]) -> None:
    """A dose set by ``setValue`` must feed no initial assignment (tellurium would not re-run it)."""
    import libsbml

    from ._sbml import _names

    sbml = libsbml.readSBMLFromString(model.sbml).getModel()
    feeds = sorted({ia.getSymbol() for ia in sbml.getListOfInitialAssignments()
                    if ia.isSetMath() and _names(ia.getMath()) & set(drugs)})
    if feeds:
        raise InputError(f"the doses of {' and '.join(drugs)} feed the initial assignments of {', '.join(feeds)}; a "
                         "SED-ML repeated task sets doses after those are evaluated, so the wells cannot be exported "
                         "faithfully.")


def _model_units_per_hour(model: CompiledModel) -> float:
    from ..units import parse_time  # the one place time units are converted

    return parse_time("1h", model_unit=model.time_unit, what="one hour")


# ------------------------------------------------------------------------------------------- readout math


def _with_cell_numbers(model: CompiledModel, hours: float) -> str:
    """The model's SBML with the fast mode's closed-form cell numbers as assignment rules (N(t) = exp((g - d) t)).

    ``mekisim_N24``/``mekisim_N72``: viable cells at 24 h and 72 h; ``mekisim_A24``: apoptotic cells at 24 h,
    ``d t exp(-kcl t) phi1(x)`` with ``x = (g - d + kcl) t`` and ``phi1(x) = expm1(x)/x`` (its Taylor series near
    0), as :func:`simulator.readouts.closed_form_cells`. They read ``g`` and ``d`` and change nothing else.
    """
    import libsbml

    from ..readouts._readout import DEFAULT_KCL_PER_HOUR, SHORT_HOURS, VIABILITY_HOURS  # internal constants

    doc = libsbml.readSBMLFromString(model.sbml)
    sbml = doc.getModel()
    taken = [i for i in (N24, N72, A24) if sbml.getElementBySId(i) is not None]
    if taken:
        raise InputError(f"model {model.name!r} already has id(s) {', '.join(taken)}, which the screen export adds.")
    kcl = "kcl" if "kcl" in model.readable_ids() else repr(DEFAULT_KCL_PER_HOUR / hours)
    t24, t72 = repr(SHORT_HOURS * hours), repr(VIABILITY_HOURS * hours)
    x = f"((g - d + {kcl})*{t24})"
    phi1 = f"piecewise(1 + {x}/2 + {x}^2/6 + {x}^3/24, abs({x}) < 1e-4, (exp({x}) - 1)/{x})"
    for pid, formula in ((N24, f"exp((g - d)*{t24})"), (N72, f"exp((g - d)*{t72})"),
                         (A24, f"d*{t24}*exp(-{kcl}*{t24})*{phi1}")):
        param = sbml.createParameter()
        for status in (param.setId(pid), param.setConstant(False), param.setValue(0.0)):
            if status != libsbml.LIBSBML_OPERATION_SUCCESS:
                raise RuntimeError(f"libsbml could not add parameter {pid}")
        rule = sbml.createAssignmentRule()
        ast = libsbml.parseL3FormulaWithModel(formula, sbml)
        if ast is None or rule.setVariable(pid) != libsbml.LIBSBML_OPERATION_SUCCESS or rule.setMath(ast) != 0:
            raise RuntimeError(f"libsbml could not add the rule of {pid}: {libsbml.getLastParseL3Error()}")
    return libsbml.writeSBMLToString(doc)


def _readout_math(model: CompiledModel, rid: str, readout, hours: float) -> tuple[str, dict[str, tuple[str, str]]]:
    """(SED-ML math, variables: id -> ("well" | "dmso", model id)) of a fast-mode readout, as readouts._fast."""
    from ..readouts._readout import DEFAULT_G1_0, DEFAULT_G1_MAX  # internal constants of the readouts

    if readout.level is not None:
        return "x/x0", {"x": ("well", readout.level), "x0": ("dmso", readout.level)}
    readable = set(model.readable_ids())
    if rid == "perk_suppression":
        return "1 - p/p0", {"p": ("well", "pERK"), "p0": ("dmso", "pERK")}
    if rid == "viability":
        return "100*n/n0", {"n": ("well", N72), "n0": ("dmso", N72)}
    if rid == "apoptosis":
        return "a/(n + a)", {"a": ("well", A24), "n": ("well", N24)}
    if rid == "cleaved_parp":
        return f"dd*n*{hours!r}", {"dd": ("well", "d"), "n": ("well", N24)}
    if rid == "g0g1":
        variables = {"g": ("well", "g"), "g0": ("dmso", "g")}
        lo = hi = None
        if "G1_0" in readable:
            variables["lo"], lo = ("well", "G1_0"), "lo"
        if "G1_max" in readable:
            variables["hi"], hi = ("well", "G1_max"), "hi"
        lo, hi = lo or repr(DEFAULT_G1_0), hi or repr(DEFAULT_G1_MAX)
        return f"{lo} + ({hi} - {lo})*(1 - g/g0)", variables
    raise InputError(f"readout {rid!r} has no steady-state form the export knows.")


def _sid(text: str) -> str:
    return re.sub(r"\W", "_", text)


# ------------------------------------------------------------------------------------------ reference table


def _reference(directory: Path, screen: Mapping, readouts: Mapping) -> pd.DataFrame:
    """The screen's matrix wells, one row per (cell line, member, dose pair), a column per readout."""
    import pandas as pd

    path = directory / "wells.parquet"
    if not path.is_file():
        raise InputError(f"the screen in {str(directory)!r} has no wells.parquet; the folder is incomplete.")
    wells = pd.read_parquet(path)
    wells = wells[(wells["series"] == "matrix") & wells["readout"].isin(list(readouts))]
    keys = ["cell_line", "member", "dose_a_nM", "dose_b_nM"]
    values = wells.set_index([*keys, "readout"])["value"].unstack("readout")
    first = wells.groupby(keys)[["status", "message"]].agg(_worst)
    table = values.join(first).reset_index()
    order = {c: k for k, c in enumerate(screen["cell_lines"])}
    table = table.assign(_line=table["cell_line"].map(order)).sort_values(["_line", "member", "dose_a_nM",
                                                                          "dose_b_nM"], kind="stable")
    dose_a, dose_b = f"dose_{screen['drug_a']}_nM", f"dose_{screen['drug_b']}_nM"
    table = table.rename(columns={"dose_a_nM": dose_a, "dose_b_nM": dose_b}).reset_index(drop=True)
    table.columns.name = None
    return table[["cell_line", "member", dose_a, dose_b, *readouts, "status", "message"]]


def _worst(series):
    """The first status or message that is not ok/empty of a well's readout rows, else the first."""
    bad = [v for v in series if isinstance(v, str) and v and v != "ok"]
    return bad[0] if bad else series.iloc[0]


def _notes(reference) -> tuple[str, ...]:
    failed = int((reference["status"] != "ok").sum())
    oscillating = int(reference["message"].astype(str).str.contains("oscillat").sum())
    notes = []
    if failed:
        notes.append(f"{failed} well(s) failed in the screen; their readouts are NaN in reference/wells.csv")
    if oscillating:
        notes.append(f"{oscillating} well(s) oscillate: the screen read them as time-averages over the limit cycle, "
                     "which a SED-ML steady-state task does not compute")
    return tuple(notes)


def _description(directory: Path, model: CompiledModel, screen: Mapping, matrices: int, wells: int,
                 cell_numbers: bool) -> str:
    doses = (f"{screen['drug_a']} {', '.join(f'{d:g}' for d in screen['doses_a_nM'])} nM x {screen['drug_b']} "
             f"{', '.join(f'{d:g}' for d in screen['doses_b_nM'])} nM")
    parts = [
        f"{MARKER} {__version__}: the screen stored in {directory} (model {model.name}; cell lines "
        f"{', '.join(screen['cell_lines'])}; {matrices} (cell line, ensemble member) matrices of {wells} wells: "
        f"{doses}; readouts {', '.join(screen['readouts'])}, fast mode).",
        "Each matrix is an SBML model with its cell line's (and ensemble member's) values written in and every dose "
        "0, and one SED-ML repeated task over its dose wells (resetModel true: each well starts from the model as "
        "written, its doses set from lock-step vector ranges; the doses feed no initial assignment), whose subtask is "
        "the steady state with the drug present, searched from the initial conditions as mekisim's fast mode does. "
        "A DMSO steady-state task per matrix is the readouts' reference.",
        "Readouts: data generators over the wells and DMSO tasks with the formulas of mekisim's fast mode (e.g. "
        "p-ERK suppression = 1 - pERK/pERK_DMSO)."
        + (f" The closed-form cell numbers are assignment rules added to each model ({N24}, {N72} = exp((g - d) t) at "
           f"24 h and 72 h, {A24} the apoptotic cells at 24 h), so viability = 100*{N72}/{N72}_DMSO."
           if cell_numbers else ""),
        "Not exported: the constant-ratio mixture wells of the combination index. reference/wells.csv holds the "
        "screen's own values of the exported wells.",
    ]
    return "\n\n".join(parts)
