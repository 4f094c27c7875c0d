"""Studies driven by a ``config.toml`` and the main job (`make demo` / `mekisim demo`).

A study config names a model (bundled, or a file beside the config, with ``add_drug = ["NAME:REACTION:IC50"]``
terms for any model), cell lines (optional for a model without them), readouts and a list of ``[[screen]]``
entries (two drug axes and a constant ratio); ``resistance = true`` adds the parental-vs-resistant analysis
(:func:`run_resistance`) and a ``[ci_convention]`` table one Chou-Talalay design under every convention a paper
leaves open (:func:`run_ci_convention`). :func:`run_study` runs everything into one folder and writes
``report.html``.
The main job is the study ``experiments/mpnst_combinations/config.toml``. Everything is simulated from the
model's assumed parameters (biology.md); nothing is measured data.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .engine import SolverOptions, Trajectory, steady_states, time_courses
from .errors import InputError, MekisimError
from .files import bundled_study, claim_folder, read_text, write_manifest, write_table, write_text
from .model import CompiledModel, DrugTerm, add_drug_terms, load_cell_lines, load_drugs, load_model, make_condition
from .parallel import make_executor
from .plots import plot_dose_response, plot_time_courses, save_figure
from .report import build_report
from .screen import EXACT_CI_METHOD, DrugAxis, ScreenSpec, ci_convention_table, run_screen
from .status import Status
from .synergy import CI_QUALITY

__all__ = ["ResistanceResult", "StudyResult", "check_study", "run_ci_convention", "run_demo", "run_resistance",
           "run_study"]

LINES = ("S462", "S462_R1")
DOSES_NM = np.concatenate([[0.0], np.logspace(-2, 3, 41)])  # trametinib, nM
TIME_COURSE_DOSE_NM = 3.0  # the dose of the design's adaptive-rebound check (biology.md 1.5)
TIMES_MIN = np.unique(np.concatenate([np.arange(0.0, 240.0, 1.0), np.arange(240.0, 1440.0 + 1, 10.0)]))
# every minute for the first 4 h (the nadir and rebound), then every 10 min to 24 h


@dataclass(frozen=True)
class ResistanceResult:
    """Where the resistance analysis wrote its outputs and the headline numbers it found."""

    out_dir: Path
    files: tuple[Path, ...]
    summary: dict


def _ic50(doses: np.ndarray, values: np.ndarray) -> float:
    """Dose (nM) at which a readout falls to half its untreated value, by log-linear interpolation."""
    half = 0.5 * values[0]
    positive = doses > 0
    d, v = np.log10(doses[positive]), values[positive]
    below = np.nonzero(v <= half)[0]
    if below.size == 0 or below[0] == 0:
        return float("nan")
    i = below[0]
    return float(10 ** np.interp(half, [v[i], v[i - 1]], [d[i], d[i - 1]]))


def run_resistance(out_dir: str | Path = "results/demo/resistance", *, command: Sequence[str] | None = None,
                   force: bool = False) -> ResistanceResult:
    """Parental S462 vs trametinib-resistant S462_R1: dose series and a 24 h time course into ``out_dir``.

    The folder is claimed first (:func:`simulator.files.claim_folder`; ``force`` replaces another run's
    files); ``command`` is recorded in the manifest.

    Parameters
    ----------
    out_dir
        Output folder.
    command
        The command line, recorded in the manifest.
    force
        Replace another run's files in ``out_dir``.

    Returns
    -------
    ResistanceResult
        The output folder, the files written and a summary.
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    model = load_model("mpnst")
    job = {"model": {"name": model.name, "sha256": model.sha256, "metadata_sha256": model.metadata_sha256},
           "cell_lines": list(LINES), "trametinib_nM": DOSES_NM.tolist(), "time_course_nM": TIME_COURSE_DOSE_NM}
    owner = claim_folder(out_dir, "resistance", job, command=command, force=force)
    options = SolverOptions()
    dose_frame, tc_frame, trajectories, t_steady = _resistance_runs(model, options, started)
    summary = _summarise(dose_frame, tc_frame)
    files: list[Path] = []
    for stem, frame in (("dose_response", dose_frame), ("time_course", tc_frame)):
        for suffix in (".csv", ".parquet"):
            files.append(write_table(frame, out_dir / f"{stem}{suffix}"))
    files += _resistance_figures(model, dose_frame, tc_frame, out_dir)
    files.append(write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n"))
    counts = {
        "steady_states_ok": int((dose_frame["status"] == Status.OK).sum()),
        "steady_states_not_ok": int((dose_frame["status"] != Status.OK).sum()),
        "time_courses_ok": sum(t.ok for t in trajectories),
        "time_courses_failed": sum(not t.ok for t in trajectories),
    }
    files.append(
        write_manifest(
            out_dir / "manifest.json",
            models={"mpnst": model}, owner=owner, job=job,
            timings={"steady_states": t_steady, "total": time.perf_counter() - started},
            counts=counts,
            files=[str(f.relative_to(out_dir)) for f in files],
            extra={"solver": vars(options) if hasattr(options, "__dict__") else str(options)},
        )
    )
    return ResistanceResult(out_dir=out_dir, files=tuple(files), summary=summary)


def _resistance_runs(model: CompiledModel, options: SolverOptions, started: float
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[Trajectory], float]:
    """The steady states of the trametinib series and the time courses of both lines, as tables.

    Also returns the seconds from ``started`` (a ``perf_counter`` value) until the steady states were done.
    """
    drugs, lines = load_drugs(), load_cell_lines()
    conditions = [
        make_condition(model, line, {"trametinib": dose}, catalog=drugs, lines=lines)
        for line in LINES
        for dose in DOSES_NM
    ]
    records = steady_states(model, conditions, options=options)
    dose_frame = pd.DataFrame(
        [
            {"cell_line": c.cell_line, "trametinib_nM": c.doses["trametinib"], "status": r.status,
             **r.as_dict(), "message": r.message}
            for c, r in zip(conditions, records, strict=True)
        ]
    )
    t_steady = time.perf_counter() - started
    tc_conditions = [
        make_condition(model, line, {"trametinib": TIME_COURSE_DOSE_NM}, catalog=drugs, lines=lines)
        for line in LINES
    ]
    trajectories = time_courses(model, TIMES_MIN, tc_conditions, options=options)
    tc_frame = pd.concat(
        [
            traj.to_frame().assign(cell_line=line, trametinib_nM=TIME_COURSE_DOSE_NM)
            for line, traj in zip(LINES, trajectories, strict=True)
        ],
        ignore_index=True,
    ).rename(columns={"time": "time_min"})
    return dose_frame, tc_frame, trajectories, t_steady


def _resistance_figures(model: CompiledModel, dose_frame: pd.DataFrame, tc_frame: pd.DataFrame,
                        out_dir: Path) -> list[Path]:
    """The p-ERK dose-response figure and the time-course figure (PNG and SVG each)."""
    obs = {o.id: o for o in model.observables}
    fig = plot_dose_response(
        {
            f"{line} ({'parental' if line == 'S462' else 'trametinib-resistant'})": (
                g["trametinib_nM"].to_numpy(), g["pERK"].to_numpy())
            for line, g in dose_frame.groupby("cell_line", sort=False)
        },
        drug_label="trametinib",
        observable=obs["pERK"],
        title="Model A (simulated): steady-state p-ERK vs trametinib",
    )
    files = save_figure(fig, out_dir / "dose_response_pERK.png")
    fig = plot_time_courses(
        {
            line: (g["time_min"].to_numpy(), {k: g[k].to_numpy() for k in obs})
            for line, g in tc_frame.groupby("cell_line", sort=False)
        },
        [obs[k] for k in ("pERK", "pMEK", "pAKT")],
        time_unit=model.time_unit,
        windows=(240.0, 1440.0),
        time_label="time after trametinib addition",
        title=f"Model A (simulated): {TIME_COURSE_DOSE_NM:g} nM trametinib added at t = 0 to the untreated\n"
        "steady state — adaptive p-ERK rebound (left: first 4 h; right: 24 h)",
    )
    return files + save_figure(fig, out_dir / "time_course.png")


def _summarise(dose_frame: pd.DataFrame, tc_frame: pd.DataFrame) -> dict:
    """Headline numbers: p-ERK IC50 shift, MAPK reactivation at 10 nM, the adaptive rebound."""
    out: dict = {"note": "simulated with Model A's assumed parameters (biology.md); not measured data"}
    for line, g in dose_frame.groupby("cell_line", sort=False):
        doses, perk = g["trametinib_nM"].to_numpy(), g["pERK"].to_numpy()
        ten = float(np.interp(1.0, np.log10(doses[1:]), perk[1:]))
        tc = tc_frame[tc_frame["cell_line"] == line]
        t, y = tc["time_min"].to_numpy(), tc["pERK"].to_numpy()
        nadir = int(np.argmin(y))
        out[line] = {
            "pERK_untreated": float(perk[0]),
            "pERK_IC50_nM": _ic50(doses, perk),
            "pERK_at_10nM": ten,
            "time_course_dose_nM": TIME_COURSE_DOSE_NM,
            "pERK_nadir": float(y[nadir]),
            "pERK_nadir_time_min": float(t[nadir]),
            "pERK_at_4h": float(np.interp(240.0, t, y)),
            "pERK_at_24h": float(y[-1]),
        }
    if {"S462", "S462_R1"} <= set(out):
        out["R1_over_P_pERK_at_10nM"] = out["S462_R1"]["pERK_at_10nM"] / out["S462"]["pERK_at_10nM"]
    return out


# ---------------------------------------------------------------------------------------------- studies


@dataclass(frozen=True)
class StudyResult:
    """What a study run wrote: the report, each part's folder and the headline numbers."""

    out_dir: Path
    report: Path
    parts: tuple[Path, ...]
    summary: dict


def _smoke_axis(text: str, points: int) -> str:
    """The axis with ``points`` doses: N replaced in ``DRUG:LO:HI:N``; every k-th dose of a ``DRUG:D1,...`` list."""
    parts = text.split(":")
    if len(parts) == 4:
        drug, lo, hi, _ = parts
        return f"{drug}:{lo}:{hi}:{points}"
    axis = DrugAxis.parse(text)
    listed = axis.doses[1:]
    keep = sorted({round(i) for i in np.linspace(0, len(listed) - 1, min(points, len(listed)))})
    return f"{axis.drug}:{','.join(repr(listed[i]) for i in keep)}"


def run_study(config: str | Path, out_dir: str | Path, *, smoke: bool = False, workers: int | None = None,
              progress: bool = False, force: bool = False, command: Sequence[str] | None = None) -> StudyResult:
    """Run every part of the study ``config`` (a TOML file) into ``out_dir`` and write ``report.html``.

    ``smoke`` shrinks the dose grids to ``[smoke] doses_per_axis`` and the cell lines to ``[smoke] cell_lines``
    (the tests run every study this way). The folder is claimed for the study first
    (:func:`simulator.files.claim_folder`): a folder holding another run, or an earlier study, is refused
    unless ``force``, which deletes the earlier study's parts first. Each part writes its own folder and
    manifest; ``out_dir/manifest.json`` lists the parts and their manifests and is written after them, then
    the report (rebuilt by ``mekisim report`` at any time). ``command`` is recorded in every manifest.

    Parameters
    ----------
    config
        The study's TOML file.
    out_dir
        Output folder.
    smoke
        Small grids and few cell lines.
    workers
        Local processes (``None``: all cores).
    progress
        Show progress bars.
    force
        Replace another run's files in ``out_dir``.
    command
        The command line, recorded in the manifests.

    Returns
    -------
    StudyResult
        The output folder, the report and each part's result.
    """
    started = time.perf_counter()
    config = Path(config)
    problems = check_study(config)  # everything is checked before anything runs: a typo costs no computing
    if problems:
        raise InputError(f"study config {str(config)!r}: " + "; ".join(problems))
    spec = _read_study(config)
    text = config.read_bytes()  # hashed into the study's job description
    out_dir = Path(out_dir)
    model = _study_model(spec, config)
    parts: list[Path] = []
    summary: dict = {"title": spec.get("title", config.parent.name)}
    screens = [_study_screen(entry, spec, model, config, smoke=smoke) for entry in spec.get("screen", [])]
    convention = _study_ci_convention(spec, model, smoke=smoke) if "ci_convention" in spec else None
    names = ((["resistance"] if spec.get("resistance") else []) + (["ci_convention"] if convention else [])
             + [name for name, _ in screens])
    job = {"config": str(config), "config_sha256": hashlib.sha256(text).hexdigest(), "smoke": smoke}
    # one executor serves every screen and the report's figures, so its pool starts once; opened first, so that a
    # bad --workers is refused before anything is simulated or written
    with make_executor(workers=workers) as executor:
        owner = claim_folder(out_dir, "study", job, command=command, force=force, owns=[f"{n}/" for n in names])
        timings: dict[str, float] = {}
        kinds: dict[str, str] = {}
        if spec.get("resistance"):
            t0 = time.perf_counter()
            summary["resistance"] = run_resistance(out_dir / "resistance", command=owner.command).summary
            parts.append(out_dir / "resistance")
            timings["resistance"], kinds["resistance"] = time.perf_counter() - t0, "resistance"
        if convention is not None:
            t0 = time.perf_counter()
            summary["ci_convention"] = run_ci_convention(model, convention, out_dir / "ci_convention",
                                                         command=owner.command)
            parts.append(out_dir / "ci_convention")
            timings["ci_convention"], kinds["ci_convention"] = time.perf_counter() - t0, "ci_convention"
        for name, screen in screens:
            t0 = time.perf_counter()
            folder = out_dir / name
            result = run_screen(screen, folder, executor=executor, progress=progress, command=owner.command)
            summary[name] = {"wells": result.n_wells, "failed_wells": result.failed_wells, **_ci_summary(folder)}
            parts.append(folder)
            timings[name], kinds[name] = time.perf_counter() - t0, "screen"
        write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=float) + "\n")
        _write_study_manifest(out_dir, owner, job, model, config, smoke, parts, kinds, timings, summary, started)
        report = build_report(out_dir, executor=executor)
    return StudyResult(out_dir=out_dir, report=report, parts=tuple(parts), summary=summary)


def _write_study_manifest(out_dir: Path, owner, job: dict, model, config: Path, smoke: bool,
                          parts: list[Path], kinds: dict, timings: dict, summary: dict, started: float) -> Path:
    """``out_dir/manifest.json``: the study's config (path and sha256) and each part with its manifest's sha256."""
    listed = []
    for folder in parts:
        manifest = folder / "manifest.json"
        listed.append({"name": folder.name, "kind": kinds[folder.name], "folder": folder.name,
                       "manifest": f"{folder.name}/manifest.json",
                       "manifest_sha256": hashlib.sha256(manifest.read_bytes()).hexdigest()})
    screens = [v for k, v in summary.items() if kinds.get(k) == "screen"]
    return write_manifest(
        out_dir / "manifest.json", owner=owner, job=job, models={"model": model},
        timings={**timings, "total": time.perf_counter() - started},
        counts={"parts": len(parts), "wells": sum(s["wells"] for s in screens),
                "wells_failed": sum(s["failed_wells"] for s in screens)},
        files=["summary.json", *(p["manifest"] for p in listed)],
        extra={"study": {"title": summary.get("title"), "config": str(config), "config_sha256": job["config_sha256"],
                         "smoke": smoke, "parts": listed}},
    )


#: keys a study config may have, at the top, in a [[screen]] entry, in [ci_convention] and in [smoke]; any other
#: is a typo
STUDY_KEYS = ("title", "model", "add_drug", "cell_lines", "readouts", "target_suppression", "mode", "resistance",
              "ci_convention", "screen", "smoke")
SCREEN_KEYS = ("name", "drug_a", "drug_b", "ratio", "cell_lines", "readouts")
CI_CONVENTION_KEYS = ("cell_lines", "drug_a", "drug_b", "ratios", "fa", "readout")
SMOKE_KEYS = ("doses_per_axis", "cell_lines")


def _study_model(spec: dict, config: Path):
    """The study's model: bundled name or a path (relative to the config's folder), with its ``add_drug`` terms."""
    name = spec.get("model", "mpnst")
    if not isinstance(name, str):
        raise InputError(f"model = {name!r}; valid: a bundled model name or the path of an .ant/.xml file")
    local = config.parent / name
    model = load_model(local if Path(name).suffix and not Path(name).is_absolute() and local.is_file() else name)
    terms = spec.get("add_drug", [])
    if isinstance(terms, str) or not isinstance(terms, list):
        raise InputError(f"add_drug = {terms!r}; valid: a list of NAME:REACTION[,REACTION...]:IC50[:HILL] terms")
    return add_drug_terms(model, [DrugTerm.parse(text) for text in terms]) if terms else model


def _read_study(config: Path) -> dict:
    try:
        return tomllib.loads(read_text(config, "study config"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"study config {str(config)!r} is not valid TOML: {exc}.") from exc


def check_study(config: str | Path) -> list[str]:
    """Every problem :func:`run_study` would refuse ``config`` for, without running anything (``[]``: none).

    Checks the keys (a misspelt one would otherwise be ignored), the model, the resistance part (Model A
    only) and every ``[[screen]]`` entry as the study runs it, in full and in smoke mode: drug axes, cell
    lines, readouts, ratio, mode, target suppression, and that screen names are distinct folder names.
    ``mekisim validate`` reports them.

    Parameters
    ----------
    config
        The study's TOML file.

    Returns
    -------
    list[str]
        One message per problem, each naming the key or entry.
    """
    config = Path(config)
    try:
        spec = _read_study(config)
    except InputError as exc:
        return [str(exc)]
    problems = []

    def unknown(keys, valid, where: str) -> None:
        extra = sorted(set(keys) - set(valid))
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)}; valid: {', '.join(valid)}")

    unknown(spec, STUDY_KEYS, "top level")
    screens = spec.get("screen", [])
    if not isinstance(screens, list) or not all(isinstance(e, dict) for e in screens):
        problems.append("screen must be [[screen]] tables (name, drug_a, drug_b, ratio)")
        screens = []
    if not screens and not spec.get("resistance") and "ci_convention" not in spec:
        problems.append("nothing to run: no [[screen]] entry, no [ci_convention] and no resistance = true")
    smoke = spec.get("smoke", {})
    if not isinstance(smoke, dict):
        problems.append("[smoke] must be a table (doses_per_axis, cell_lines)")
        smoke = {}
    unknown(smoke, SMOKE_KEYS, "[smoke]")
    points = smoke.get("doses_per_axis", 3)
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        problems.append(f"[smoke] doses_per_axis = {points!r}; valid: a whole number >= 1")
    if "resistance" in spec and not isinstance(spec["resistance"], bool):
        problems.append(f"resistance = {spec['resistance']!r}; valid: true or false")
    if spec.get("resistance") and spec.get("model", "mpnst") != "mpnst":
        problems.append(f"resistance = true runs Model A's S462 vs S462_R1 analysis; the study's model is "
                        f"{spec.get('model')!r} (valid: model = \"mpnst\" or resistance = false)")
    try:
        model = _study_model(spec, config)
    except MekisimError as exc:
        return [*problems, f"model: {exc}"]
    if "ci_convention" in spec:
        entry = spec["ci_convention"]
        if not isinstance(entry, dict):
            problems.append("[ci_convention] must be a table (" + ", ".join(CI_CONVENTION_KEYS) + ")")
        else:
            unknown(entry, CI_CONVENTION_KEYS, "[ci_convention]")
            for is_smoke in (False, True):
                try:
                    _study_ci_convention(spec, model, smoke=is_smoke)
                except MekisimError as exc:
                    problems.append(str(exc) + (" (in smoke mode)" if is_smoke else ""))
                    break
    names = [str(e.get("name", "")) for e in screens]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"[[screen]] name {name!r} is used twice (each screen writes its own folder)")
    for k, entry in enumerate(screens):
        label = f"[[screen]] {entry.get('name', f'number {k + 1}')!r}"
        unknown(entry, SCREEN_KEYS, label)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+=-]*", str(entry.get("name", ""))):
            problems.append(f"{label}: name must be a folder name (letters, digits and ._+=-), not "
                            f"{entry.get('name')!r}")
            continue
        for is_smoke in (False, True):
            try:
                _study_screen(entry, spec, model, config, smoke=is_smoke)
            except MekisimError as exc:
                text = str(exc).removeprefix(f"study config {str(config)!r}, ")
                problems.append(text + (" (in smoke mode)" if is_smoke else ""))
                break
    return problems


def _study_screen(entry: dict, spec: dict, model, config: Path, *, smoke: bool) -> tuple[str, ScreenSpec]:
    """The name and :class:`ScreenSpec` of one ``[[screen]]`` entry of a study config."""
    points = int(spec.get("smoke", {}).get("doses_per_axis", 3))
    smoke_lines = spec.get("smoke", {}).get("cell_lines")
    try:
        axes = [_smoke_axis(entry[k], points) if smoke else entry[k] for k in ("drug_a", "drug_b")]
        a, b = _study_ratio(entry.get("ratio", "1:1"))
        return entry["name"], ScreenSpec(
            model=model,
            cell_lines=tuple(smoke_lines if smoke and smoke_lines else entry.get("cell_lines",
                                                                                  spec.get("cell_lines", ()))),
            drug_a=DrugAxis.parse(axes[0]), drug_b=DrugAxis.parse(axes[1]),
            readouts=tuple(entry.get("readouts", spec.get("readouts", ("perk_suppression", "viability")))),
            ratio=a / b, mode=spec.get("mode", "fast"),
            target_suppression=float(spec.get("target_suppression", 0.8)),
        )
    except KeyError as exc:
        raise InputError(f"study config {str(config)!r}, screen {entry.get('name', '?')!r}: missing key "
                         f"{exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"study config {str(config)!r}, screen {entry.get('name', '?')!r}: {exc}") from exc


def _study_ratio(text) -> tuple[float, float]:
    """``ratio = "A:B"`` of a [[screen]] entry as two numbers > 0."""
    a, sep, b = str(text).partition(":")
    try:
        values = (float(a), float(b))
    except ValueError:
        values = (float("nan"), float("nan"))
    if not sep or not all(v > 0 and np.isfinite(v) for v in values):
        raise InputError(f"ratio = {text!r} is not A:B with two numbers > 0 (e.g. \"1:1000\")")
    return values


def _ci_summary(folder: Path) -> dict:
    """Constant-ratio CI at fa 0.5/0.75/0.9 per cell line and readout (nominal parameters), results only.

    ``ci_at_fa`` holds the CIs that are results; a flagged one (:data:`simulator.synergy.CI_QUALITY`) is kept out
    of it (None) and ``ci_flags`` says why, with the number it would have been (``ci_flagged_values``).
    """
    synergy = pd.read_parquet(folder / "synergy.parquet")
    rows = synergy[(synergy["score"] == "ci_ratio") & (synergy["member"] == 0)
                   & synergy["fa"].round(3).isin([0.5, 0.75, 0.9])]
    out: dict = {"ci_at_fa": {}, "ci_flags": {}, "ci_flagged_values": {}}
    for _, row in rows.iterrows():
        fa = f"{row['fa']:.2f}"
        usable = row["flag"] == "ok" and np.isfinite(row["value"])
        out["ci_at_fa"].setdefault(row["cell_line"], {}).setdefault(row["readout"], {})[fa] = (
            float(row["value"]) if usable else None)
        if not usable:
            out["ci_flags"].setdefault(row["cell_line"], {}).setdefault(row["readout"], {})[fa] = row["flag"]
            out["ci_flagged_values"].setdefault(row["cell_line"], {}).setdefault(row["readout"], {})[fa] = (
                float(row["value"]))
    return out


def _study_ci_convention(spec: dict, model, *, smoke: bool) -> dict:
    """The ``[ci_convention]`` entry of a study config, checked: lines, the two drug series, ratios, fa, readout."""
    entry = spec["ci_convention"]
    where = "[ci_convention]"
    if not isinstance(entry, dict):
        raise InputError(f"{where} must be a table ({', '.join(CI_CONVENTION_KEYS)})")
    missing = [k for k in ("drug_a", "drug_b", "ratios") if k not in entry]
    if missing:
        raise InputError(f"{where}: missing key(s) {', '.join(missing)} (e.g. drug_a = \"trametinib:0.1:10:9\", "
                         "ratios = [\"1:100\", \"1:1000\"])")
    points = int(spec.get("smoke", {}).get("doses_per_axis", 3))
    try:
        axes = [DrugAxis.parse(_smoke_axis(entry[k], points) if smoke else entry[k]) for k in ("drug_a", "drug_b")]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from exc
    ratios = entry["ratios"]
    if isinstance(ratios, str) or not isinstance(ratios, list) or not ratios:
        raise InputError(f"{where}: ratios = {ratios!r}; valid: a list of \"A:B\" texts, e.g. [\"1:100\", \"1:1000\"]")
    fa = entry.get("fa", [0.5, 0.75, 0.9])
    if (isinstance(fa, str) or not isinstance(fa, list) or not fa
            or not all(isinstance(f, int | float) and not isinstance(f, bool) and 0 < f < 1 for f in fa)):
        raise InputError(f"{where}: fa = {fa!r}; valid: a list of fractions strictly between 0 and 1")
    lines = list(entry.get("cell_lines", spec.get("cell_lines", ())))
    smoke_lines = spec.get("smoke", {}).get("cell_lines")
    if smoke and smoke_lines:
        lines = [line for line in lines if line in smoke_lines] or lines[:1]
    try:
        pairs = [tuple(_study_ratio(r)) for r in ratios]
    except InputError as exc:
        raise InputError(f"{where}: ratios: {exc}") from exc
    readout = entry.get("readout", "viability")
    mode = spec.get("mode", "fast")
    # the screen spec checks lines, drugs, readout and mode exactly as a screen of these drugs would
    ScreenSpec(model=model, cell_lines=tuple(lines), drug_a=axes[0], drug_b=axes[1], readouts=(readout,), mode=mode)
    return {"cell_lines": lines, "drug_a": axes[0], "drug_b": axes[1],
            "ratios": pairs, "fa": [float(f) for f in fa], "readout": readout,
            "mode": mode}


def run_ci_convention(model, convention: dict, out_dir: str | Path, *, command: Sequence[str] | None = None,
                      force: bool = False) -> dict:
    """The CI convention table of a study (``[ci_convention]``): one design, ratio x fa x median-effect vs exact.

    Writes ``ci_convention.csv``/``.parquet`` (:func:`simulator.screen.ci_convention_table`) and a manifest stating
    the design and both methods' conventions into ``out_dir`` (claimed first); returns the headline numbers per
    line, ratio, method and fa, with the flags of the median-effect CIs (a flagged CI is not a result).
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    a, b = convention["drug_a"], convention["drug_b"]
    lines = tuple(convention["cell_lines"]) or (None,)
    job = {"model": {"name": model.name, "sha256": model.sha256, "metadata_sha256": model.metadata_sha256},
           "cell_lines": [str(x) for x in lines], "drug_a": a.drug, "doses_a_nM": list(a.doses[1:]), "drug_b": b.drug,
           "doses_b_nM": list(b.doses[1:]), "ratios": [list(r) for r in convention["ratios"]], "fa": convention["fa"],
           "readout": convention["readout"], "mode": convention["mode"]}
    owner = claim_folder(out_dir, "ci-convention", job, command=command, force=force)
    table = ci_convention_table(model, lines, a.drug, a.doses[1:], b.drug, b.doses[1:], convention["ratios"],
                                fa_levels=convention["fa"], readout=convention["readout"], mode=convention["mode"])
    files = [write_table(table, out_dir / f"ci_convention{suffix}") for suffix in (".csv", ".parquet")]
    summary: dict = {}
    for _, row in table.iterrows():
        entry = summary.setdefault(row["cell_line"], {}).setdefault(row["ratio"], {}).setdefault(row["method"], {})
        entry[f"{row['fa']:.2f}"] = {"ci": None if not np.isfinite(row["ci"]) else float(row["ci"]),
                                     "usable": bool(row["usable"]), "flag": row["flag"] or row["message"]}
    files.append(write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n"))
    write_manifest(
        out_dir / "manifest.json", models={"model": model}, owner=owner, job=job,
        timings={"total": time.perf_counter() - started}, counts={"rows": len(table)},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"ci_convention": {**job, "median_effect": CI_QUALITY,
                                 "mixture_series": f"{a.drug} at its doses alone, {b.drug} = {a.drug} / ratio",
                                 "exact": EXACT_CI_METHOD}},
    )
    return summary


def run_demo(out_dir: str | Path = "results/demo", *, smoke: bool = False, workers: int | None = None,
             force: bool = False, command: Sequence[str] | None = None) -> StudyResult:
    """The main job: the study ``experiments/mpnst_combinations`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Output folder.
    smoke
        Small grids (seconds instead of a minute).
    workers
        Local processes (``None``: all cores).
    force
        Replace another run's files in ``out_dir``.
    command
        The command line, recorded in the manifests.

    Returns
    -------
    StudyResult
        The output folder, the report and each part's result.
    """
    return run_study(bundled_study("mpnst_combinations"), out_dir, smoke=smoke, workers=workers, force=force,
                     command=command)
