"""Run a screen: the wells and synergy passes through an executor, the ranking, the tables and manifest."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import Owner, begin_final_writes, claim_folder, fingerprint, job_inputs, write_manifest, write_tables
from ..parallel import ChunkRun, Executor, make_executor, read_parts, run_chunks
from ..readouts import LEVEL_CONVENTION, readouts_for
from ..status import Status
from ..synergy import SCORE_CONVENTIONS
from ._scoring import SYNERGY_COLUMNS, _synergy_chunk, _synergy_chunks
from ._spec import SUMMARISED_SCORES, WELL_SCORES, ScreenSpec, _default_ratio, _ic50_nM, _simulated_wells
from ._tables import describe_synergy, describe_wells, score_unit, write_synergyfinder
from ._wells import WELL_COLUMNS, _chunk_wells, _well_chunk, _well_chunks


@dataclass(frozen=True)
class ScreenResult:
    """What a screen computed: its tables, counts of what failed, and where they were written (if anywhere).

    Attributes
    ----------
    wells
        One row per well and readout (:data:`WELL_COLUMNS`): the dose matrices and each matrix's
        constant-ratio mixture series, with each well's ``status`` and ``message``.
    synergy
        One row per score (:data:`SYNERGY_COLUMNS`): well scores, isobologram coordinates, the constant-ratio
        CI table, the median-effect fits and the per-matrix summaries.
    ranking
        Combinations reaching the target p-ERK suppression, least total normalised dose first
        (:func:`rank_combinations`).
    synergy_ensemble
        With an ensemble: the spread of every score over the members and the probability of synergy; else None.
    n_wells, failed_wells
        Wells simulated (the mixture series included) and those that failed (a chunk that raised counts all its
        wells).
    failure_summary
        Failed wells per status.
    oscillating_wells
        Wells read as a time-average because the model oscillates there (level readouts).
    elapsed_s
        Wall-clock seconds.
    out_dir, files
        The folder and the files written there, or None and () when the screen ran without a folder.
    """

    wells: pd.DataFrame = field(repr=False)
    synergy: pd.DataFrame = field(repr=False)
    ranking: pd.DataFrame = field(repr=False)
    synergy_ensemble: pd.DataFrame | None = field(repr=False)
    n_wells: int
    failed_wells: int
    failure_summary: Mapping[str, int]
    oscillating_wells: int
    elapsed_s: float
    out_dir: Path | None = None
    files: tuple[Path, ...] = ()


def run_screen(
    spec: ScreenSpec,
    out_dir: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: bool = True,
    force: bool = False,
    command: Sequence[str] | None = None,
    ensemble_file: str | Path | None = None,
    synergyfinder: bool = False,
) -> ScreenResult:
    """Run a screen: every well's readouts, then every synergy score; return the tables (and write them).

    Parameters
    ----------
    spec
        What to screen.
    out_dir
        The output folder: ``wells``, ``synergy``, ``ranking`` (and with an ensemble ``synergy_ensemble``)
        tables as Parquet + CSV, the chunk parts under ``wells/parts`` and ``synergy/parts`` and
        ``manifest.json`` (written last). ``None``: nothing is kept on disk (the chunk parts go to a temporary
        folder, removed at the end) and the tables are only returned.
    workers, scheduler
        Where it runs, as :func:`~simulator.parallel.make_executor` takes them (a pool started and shut down
        here).
    executor
        An executor the caller made and closes instead (one pool for several screens: its start-up is paid once).
    resume
        Continue a stopped run of the same screen in ``out_dir`` from its finished chunks.
    progress
        Show progress bars on a terminal.
    force
        Replace a result already in ``out_dir`` (its files are deleted first).
    command
        Recorded in the manifest (the CLI passes ``["mekisim", *argv]``).
    ensemble_file
        The file ``spec.ensemble`` was read from, recorded with its sha256.
    synergyfinder
        Also write ``synergyfinder_<readout>_inhibition.csv`` per inhibition readout into ``out_dir``
        (:func:`~simulator.screen.synergyfinder_table`).

    Returns
    -------
    ScreenResult
        The tables, the counts and where they were written.

    Raises
    ------
    InputError
        Both ``executor`` and ``workers``/``scheduler``; ``resume`` or ``force`` without ``out_dir``; an
        ``out_dir`` that belongs to another run (:func:`simulator.files.claim_folder`).
    """
    import time

    if executor is not None and (workers is not None or scheduler is not None):
        raise InputError("pass either an executor or workers/scheduler to run_screen, not both.")
    if out_dir is None and (resume or force):
        raise InputError("resume and force apply to an output folder: give out_dir, or leave them out.")
    started = time.perf_counter()
    ratio = spec.ratio if spec.ratio is not None else _default_ratio(spec)
    job = _screen_job(spec, ratio)
    source = _ensemble_source(spec, ensemble_file, job)
    with ExitStack() as stack:
        if out_dir is None:
            owner, parts = None, Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mekisim-screen-")))
        else:
            out_dir = parts = Path(out_dir)
            owner = claim_folder(out_dir, "screen", job, command=command, resume=resume, force=force)
        owned = make_executor(workers=workers, scheduler=scheduler) if executor is None else nullcontext(executor)
        pool = stack.enter_context(owned)
        wells, synergy, runs = _passes(spec, parts, ratio, job, pool, resume, progress)
    return _finish(spec, out_dir, wells, synergy, ratio, started, runs, owner, job, source, synergyfinder)


def _passes(spec: ScreenSpec, parts: Path, ratio: float, job: dict, executor: Executor, resume: bool,
            progress: bool) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, ChunkRun]]:
    """The wells pass, then the synergy pass on its table; their chunk parts go under ``parts``."""
    well_run = run_chunks(_well_chunk, _well_chunks(spec, ratio), executor=executor, out_dir=parts / "wells",
                          resume=resume, progress=progress, total_rows=_simulated_wells(spec) * len(spec.readouts),
                          label="wells", job={"pass": "wells", **job})
    wells = read_parts(parts / "wells") if well_run.chunks_done + well_run.chunks_skipped else pd.DataFrame(
        columns=list(WELL_COLUMNS))
    synergy_run = run_chunks(_synergy_chunk, _synergy_chunks(spec, wells, ratio), executor=executor,
                             out_dir=parts / "synergy", resume=resume, progress=progress, label="synergy",
                             job={"pass": "synergy", **job})
    # every synergy chunk can fail (no matrix of the screen could be scored): no parts, an empty table
    scored = synergy_run.chunks_done + synergy_run.chunks_skipped
    synergy = read_parts(parts / "synergy") if scored else pd.DataFrame(columns=list(SYNERGY_COLUMNS))
    return wells, synergy, {"wells": well_run, "synergy": synergy_run}


def _ensemble_source(spec: ScreenSpec, path: str | Path | None, job: dict) -> dict:
    """Provenance of the ensemble: members, the sha256 of the values screened and of the file they came from.

    Why both: the file's hash identifies the file a user can find again; the values' hash (also in the resume
    check) identifies what was screened, whatever the file's format.
    """
    out: dict = {"members": len(spec.ensemble), "values_sha256": job["ensemble_sha256"] if spec.ensemble else None}
    if path is not None:
        path = Path(path)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise InputError(f"ensemble file {str(path)!r} could not be read: {exc.strerror or exc}.") from exc
        out.update(file=str(path), file_sha256=digest)
    return out


def _screen_job(spec: ScreenSpec, ratio: float) -> dict:
    """What decides a screen's wells and scores, for ``run_chunks(job=...)``: a resume must match it.

    The spec without ``target_suppression`` (it only ranks, in ``_finish``: a resumed run may re-rank), the
    ensemble as a hash (it can be thousands of vectors), the constant ratio, the catalogue files and the
    mekisim and libroadrunner versions.
    """
    description = fingerprint(spec)
    description.pop("target_suppression")
    members = json.dumps(description.pop("ensemble"), separators=(",", ":"))
    return {"screen": description, "ensemble_sha256": hashlib.sha256(members.encode("utf-8")).hexdigest(),
            "constant_ratio_a_to_b": ratio, **job_inputs()}


def rank_combinations(wells: pd.DataFrame, spec: ScreenSpec) -> pd.DataFrame:
    """Combinations that reach the target p-ERK suppression, least total normalised dose first.

    Normalised dose = dose_a/IC50_a + dose_b/IC50_b with catalogue IC50s (1 = one IC50-equivalent). With an
    ensemble, a well counts as reaching the target when the median over members does, and the fraction of
    members that reach it is reported.

    Parameters
    ----------
    wells
        The screen's wells table (:attr:`ScreenResult.wells`).
    spec
        The screen's spec (target suppression, drugs, ensemble).

    Returns
    -------
    pandas.DataFrame
        One row per qualifying well, least normalised dose first.
    """
    sub = wells[(wells["series"] == "matrix") & (wells["readout"] == "perk_suppression")
                & (wells["status"] == Status.OK)]
    if sub.empty:
        return pd.DataFrame(columns=["cell_line", "dose_a_nM", "dose_b_nM", "normalised_dose", "perk_suppression",
                                     "fraction_of_members_reaching_target"])
    keys = ["cell_line", "dose_a_nM", "dose_b_nM"]
    reached = (sub["value"] >= spec.target_suppression).astype(float)  # one vectorised mean, no lambda per well
    table = pd.DataFrame({
        "perk_suppression": sub.groupby(keys)["value"].median(),
        "fraction_of_members_reaching_target": reached.groupby([sub[k] for k in keys]).mean(),
    }).reset_index()
    table["normalised_dose"] = (table["dose_a_nM"] / _ic50_nM(spec, spec.drug_a.drug)
                                + table["dose_b_nM"] / _ic50_nM(spec, spec.drug_b.drug))
    hit = table[table["perk_suppression"] >= spec.target_suppression]
    return hit.sort_values(["cell_line", "normalised_dose"]).reset_index(drop=True)


def _finish(spec: ScreenSpec, out_dir: Path | None, wells: pd.DataFrame, synergy: pd.DataFrame, ratio: float,
            started: float, runs: Mapping[str, ChunkRun], owner: Owner | None, job: dict,
            ensemble: dict, synergyfinder: bool = False) -> ScreenResult:
    """Counts, the ranking and the ensemble spread; with a folder, the tables and the manifest (written last)."""
    import time

    computed = time.perf_counter()
    available = readouts_for(spec.model, spec.readouts)
    wells = describe_wells(wells, spec.drug_a.drug, spec.drug_b.drug, available)
    synergy = describe_synergy(synergy, spec.drug_a.drug, spec.drug_b.drug)
    per_well = wells.drop_duplicates(["cell_line", "member", "series", "dose_a_nM", "dose_b_nM"])
    failed = per_well[per_well["status"] != Status.OK]
    summary = failed.groupby("status").size().to_dict() if not failed.empty else {}
    # a chunk that raised has no rows at all: count its wells as failed, with the chunk's error
    missing = sum(_chunk_wells(spec, f.chunk_id) for f in runs["wells"].failures)
    if missing:
        summary["chunk failed (no rows)"] = missing
    tables = {"wells": wells, "synergy": synergy, "ranking": rank_combinations(wells, spec)}
    files: list[Path] = []
    with ThreadPoolExecutor(max_workers=1) as background:
        if out_dir is not None:
            begin_final_writes(out_dir)  # from here on the folder is not the old complete result: no manifest yet
            # The big tables are written on a thread (Arrow's writers release the GIL) while this thread computes
            # the ensemble spread (pandas): the two overlap instead of running one after the other (~0.2 s).
            written = background.submit(write_tables, tables, out_dir)
        spread = _ensemble_summary(synergy) if spec.ensemble and not synergy.empty else None
        if out_dir is not None:
            files += written.result()
    if out_dir is not None:
        files += write_tables({"synergy_ensemble": spread}, out_dir) if spread is not None else []
        if synergyfinder:
            files += write_synergyfinder(wells, available, out_dir)
    elapsed = time.perf_counter() - started
    counts = {"wells": int(len(per_well)) + missing, "wells_ok": int(len(per_well) - len(failed)),
              "wells_failed": int(len(failed)) + missing}
    if out_dir is not None:
        timings = {"wells": runs["wells"].elapsed_s, "synergy": runs["synergy"].elapsed_s,
                   "tables": time.perf_counter() - computed, "screen": elapsed}
        files.append(write_manifest(
            out_dir / "manifest.json", models={"model": spec.model}, timings=timings, owner=owner, job=job,
            counts={**counts, **{f"{stage}_{k}": v for stage, run in runs.items() for k, v in run.counts().items()}},
            files=[str(f.relative_to(out_dir)) for f in files],
            extra={"screen": _manifest_entry(spec, ratio, ensemble, summary, runs, synergy),
                   "score_conventions": SCORE_CONVENTIONS},
        ))
    oscillates = per_well["message"].astype(str).str.contains("treated condition oscillates", regex=False)
    oscillating = per_well[(per_well["status"] == Status.OK) & oscillates]
    return ScreenResult(wells=wells, synergy=synergy, ranking=tables["ranking"], synergy_ensemble=spread,
                        n_wells=counts["wells"], failed_wells=counts["wells_failed"],
                        failure_summary=MappingProxyType(summary), oscillating_wells=int(len(oscillating)),
                        elapsed_s=elapsed, out_dir=out_dir, files=tuple(files))


def _manifest_entry(spec: ScreenSpec, ratio: float, ensemble: dict, summary: dict, runs: Mapping[str, ChunkRun],
                    synergy: pd.DataFrame) -> dict:
    """The manifest's ``"screen"`` entry: the design, the readouts' conventions and what failed or stood out."""
    # a readout that rises above its untreated value (feedback relief) has a negative fraction affected: kept,
    # flagged per score row, and counted here so the run reports it
    below = synergy[(synergy["score"] == "bliss") & synergy["flag"].astype(str).str.contains("below_baseline")]
    below_counts = below.groupby(["cell_line", "readout"]).size().to_dict() if not below.empty else {}
    available = readouts_for(spec.model, spec.readouts)
    return {
        "cell_lines": list(spec.cell_lines), "drug_a": spec.drug_a.drug, "doses_a_nM": list(spec.drug_a.doses),
        "drug_b": spec.drug_b.drug, "doses_b_nM": list(spec.drug_b.doses), "readouts": list(spec.readouts),
        "mode": spec.mode, "ensemble_members": len(spec.ensemble), "ensemble": ensemble,
        "values": {"set": dict(spec.values), "switched_off": list(spec.switch_off),
                   "applied_values": spec.applied_values},
        "constant_ratio_a_to_b": ratio,
        "mixture_series": (f"constant ratio {spec.drug_a.drug}:{spec.drug_b.drug} = {ratio:.6g}:1, {spec.drug_a.drug} "
                           f"at its {spec.mixture_points} doses > 0 (the mixture diluted like {spec.drug_a.drug} "
                           "alone, CompuSyn's design)"),
        "target_suppression": spec.target_suppression, "failures": summary,
        "readout_info": {k: {"label": r.label, "unit": r.unit, "description": r.description, "effect": r.effect}
                         for k, r in available.items() if k in spec.readouts},
        **({"readout_conventions": {"level": LEVEL_CONVENTION}}
           if any(available[r].level for r in spec.readouts) else {}),
        "chunk_failures": {f"{stage}:{f.chunk_id}": f.message for stage, run in runs.items() for f in run.failures},
        "wells_below_baseline": {f"{line}/{readout}": int(n) for (line, readout), n in below_counts.items()},
    }


#: columns of the ensemble summary (``synergy_ensemble``), in order
ENSEMBLE_COLUMNS = ("cell_line", "readout", "score", "dose_a_nM", "dose_b_nM", "median", "q05", "q95", "unit",
                    "members", "probability_of_synergy", "fa")


def _ensemble_summary(synergy: pd.DataFrame) -> pd.DataFrame:
    """Spread of every score over ensemble members, and the probability of synergy.

    Well scores are grouped per well (dose pair); the constant-ratio CI per fa level (the mixture's doses
    at a given fa differ between members); the per-matrix summaries (``bliss_mean``...) per matrix. Synergy
    means CI < 0.9 for CI scores and excess > 0 otherwise. A flagged CI (a well's or the constant ratio's:
    :data:`simulator.synergy.CI_QUALITY`) is a number to look at, not a result, so it is left out here.
    """
    parts = []
    value = synergy["value"].to_numpy(dtype=float)
    score = synergy["score"]
    is_ci, is_ratio = (score == "ci").to_numpy(), (score == "ci_ratio").to_numpy()
    flagged_ci = np.zeros(len(synergy), dtype=bool)
    some = is_ci | is_ratio  # only these rows' flags are compared (a screen has millions of rows)
    flags = synergy["flag"].to_numpy()[some]
    flagged_ci[some] = np.where(is_ci[some], flags != "", flags != "ok")
    summaries = tuple(f"{name}_{kind}" for name in SUMMARISED_SCORES for kind in ("mean", "msa"))
    for scores, keys in ((WELL_SCORES, ["dose_a_nM", "dose_b_nM"]), (("ci_ratio",), ["fa"]), (summaries, [])):
        # only the grouped columns are taken: copying the flag strings of every row was most of the time
        keep = score.isin(scores).to_numpy() & ~np.isnan(value) & ~flagged_ci
        if not keep.any():
            continue
        sub = synergy.loc[keep, ["cell_line", "readout", "score", *keys, "value"]]
        ci = sub["score"].isin([s for s in scores if s.startswith("ci")]).to_numpy()
        sub = sub.assign(synergistic=np.where(ci, sub["value"] < 0.9, sub["value"] > 0))
        grouped = sub.groupby(["cell_line", "readout", "score", *keys])
        quantiles = grouped["value"].quantile([0.05, 0.95]).unstack()  # vectorised; a lambda per group was slow
        out = pd.DataFrame({"median": grouped["value"].median(), "q05": quantiles[0.05], "q95": quantiles[0.95],
                            "members": grouped["value"].count()})
        out["probability_of_synergy"] = grouped["synergistic"].mean()
        out = out.reset_index()
        out.insert(out.columns.get_loc("members"), "unit", out["score"].map(score_unit))
        parts.append(out)
    if not parts:
        return pd.DataFrame()
    # the same columns whichever groups had rows (a screen whose every constant-ratio CI is flagged has no fa rows)
    return pd.concat(parts, ignore_index=True).reindex(columns=list(ENSEMBLE_COLUMNS))
