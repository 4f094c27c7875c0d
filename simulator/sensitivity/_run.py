"""Run a sensitivity analysis: sample, evaluate in resumable chunks on any executor, analyse, write."""

from __future__ import annotations

import math
import tempfile
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import SolverOptions
from ..errors import InputError
from ..files import (
    Owner,
    begin_final_writes,
    claim_folder,
    fingerprint,
    job_inputs,
    read_parquet,
    write_manifest,
    write_table,
)
from ..parallel import ChunkRun, Executor, make_executor, read_parts, run_chunks
from ..readouts import LEVEL_CONVENTION, LEVEL_PREFIX
from ..status import Status
from ._evaluate import CI_FLAGGED, evaluate_rows
from ._methods import analyze, rank_parameters, sample_matrix
from ._outputs import column_table
from ._salib_files import SALIB_METHODS, write_salib_files
from ._spec import INDICES, MAIN_INDEX, NAN_POLICY, SensitivitySpec


@dataclass(frozen=True)
class SensitivityResult:
    """What a sensitivity run computed (and, given a folder, wrote there).

    Attributes
    ----------
    method
        The method.
    rows, rows_failed
        Model evaluations, and those that failed or were undefined after the retry.
    samples
        The design: ``row`` and one column per varied parameter (values, not the sampling space).
    evaluations
        ``row, status, message, retried`` and one column per output value, named by its spec
        (``viability@line=S462_R1,trametinib=10nM``; ``columns`` describes each).
    columns
        Output-column descriptors (``columns.csv``).
    indices
        Long table: ``column, parameter, parameter_2, index, value, conf, low, high, n_used, note``.
    ranking
        Per output column, parameters by the main index with ``resolved`` flags.
    unresolved
        One row per output column whose top parameters' intervals overlap (too wide to rank them).
    failures
        Failed/undefined rows with their parameter vectors and messages.
    warnings
        Human-readable warnings (refused outputs, CIs too wide to rank).
    elapsed_s, evaluations_per_s
        Wall-clock seconds of the whole run; rows evaluated per second of evaluation.
    out_dir
        The output folder, or None when the run kept nothing on disk.
    """

    method: str
    rows: int
    rows_failed: int
    samples: pd.DataFrame = field(repr=False)
    evaluations: pd.DataFrame = field(repr=False)
    columns: pd.DataFrame = field(repr=False)
    indices: pd.DataFrame = field(repr=False)
    ranking: pd.DataFrame = field(repr=False)
    unresolved: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(repr=False)
    warnings: tuple[str, ...]
    elapsed_s: float
    evaluations_per_s: float
    out_dir: Path | None = None


def _strict(options: SolverOptions) -> SolverOptions:
    return replace(options, rtol=options.rtol * 1e-2, atol=options.atol * 1e-2, max_steps=options.max_steps * 10)


def _evaluate_chunk(payload: dict) -> pd.DataFrame:
    """Worker: evaluate one block of rows; retry failed rows once with tighter integrator settings."""
    spec: SensitivitySpec = payload["spec"]
    rows = payload["values"]
    ids = spec.space.ids
    held = spec.applied_values
    y, status, message = evaluate_rows(spec.model, ids, rows, spec.outputs, options=spec.options, held=held)
    retried = np.zeros(len(rows), dtype=bool)
    redo = [i for i, s in enumerate(status) if s == Status.FAILED]
    if redo:
        y2, s2, m2 = evaluate_rows(spec.model, ids, rows[redo], spec.outputs, options=_strict(spec.options),
                                   held=held)
        for k, i in enumerate(redo):
            retried[i] = True
            y[i], status[i] = y2[k], s2[k]
            message[i] = (f"retried with tighter tolerances: {m2[k]}" if m2[k] else
                          f"ok after a retry with tighter tolerances (first attempt: {message[i]})")
    frame = pd.DataFrame(y, columns=[f"y{j:04d}" for j in range(y.shape[1])])
    frame.insert(0, "retried", retried)
    frame.insert(0, "message", message)
    frame.insert(0, "status", status)
    frame.insert(0, "row", np.arange(payload["start"], payload["start"] + len(rows)))
    return frame


def _chunk_rows(spec: SensitivitySpec) -> int:
    if spec.chunk_rows is not None:
        return spec.chunk_rows
    return int(min(256, max(8, math.ceil(spec.rows / 64))))


#: SensitivitySpec fields that only change the analysis of the evaluations: a resumed run may change them
_ANALYSIS_ONLY = ("resamples", "conf_level", "on_failure", "rank_top")


def _evaluation_job(spec: SensitivitySpec) -> dict:
    """What decides the model evaluations, for ``run_chunks(job=...)``: a resumed run must match it.

    The stored samples are checked separately; this also covers the model and metadata hashes, the outputs
    (their conditions, doses, times), the solver settings, the catalogue and the versions.
    """
    description = fingerprint(spec)
    for key in _ANALYSIS_ONLY:
        description.pop(key)
    # where the ranges were read from is provenance, not a setting: the same ranges from a moved file resume
    description["space"].pop("rule", None)
    for entry in description["space"]["ranges"]:
        entry.pop("source", None)
    return {"sensitivity": description, **job_inputs()}


def run_sensitivity(
    spec: SensitivitySpec,
    out_dir: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
    force: bool = False,
) -> SensitivityResult:
    """Sample, evaluate (chunked, resumable, on any executor), analyse and return a sensitivity run.

    Parameters
    ----------
    spec
        What to analyse.
    out_dir
        The output folder: ``samples`` (row and parameter values), ``ranges``, ``columns`` (output
        descriptors), ``evaluations`` (row, status, message, retried, one column per output value), ``indices``,
        ``ranking``, ``unresolved`` and ``failures`` (each Parquet + CSV), the chunk parts under
        ``evaluations/parts/`` and ``manifest.json`` (key ``"sensitivity"``, written last). ``None``: nothing is
        kept on disk (the chunk parts go to a temporary folder) and the tables are only returned.
    workers, scheduler
        Where the evaluations run, as :func:`~simulator.parallel.make_executor` takes them.
    executor
        An executor the caller made and closes instead.
    resume
        Continue a stopped run in ``out_dir`` (the same design and outputs) from its finished chunks.
    progress
        Show a progress bar on a terminal.
    command
        Recorded in the manifest.
    force
        Replace a result already in ``out_dir`` (its files are deleted first).

    Returns
    -------
    SensitivityResult
        The design, the evaluations, the indices with their intervals, the ranking, failures and warnings.

    Raises
    ------
    InputError
        Both ``executor`` and ``workers``/``scheduler``; ``resume`` or ``force`` without ``out_dir``; with
        ``resume``, stored samples that differ from this spec's design (a different run's folder); an output
        folder that belongs to another run.
    """
    if executor is not None and (workers is not None or scheduler is not None):
        raise InputError("pass either an executor or workers/scheduler to run_sensitivity, not both.")
    if out_dir is None and (resume or force):
        raise InputError("resume and force apply to an output folder: give out_dir, or leave them out.")
    started = time.perf_counter()
    job = _evaluation_job(spec)
    samples = sample_matrix(spec)
    values = spec.space.to_values(samples)
    sample_frame = pd.DataFrame(values, columns=list(spec.space.ids))
    sample_frame.insert(0, "row", np.arange(len(values)))
    with ExitStack() as stack:
        if out_dir is None:
            owner, parts = None, Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mekisim-sensitivity-")))
        else:
            out_dir = parts = Path(out_dir)
            owner = claim_folder(out_dir, "sensitivity", job, command=command, resume=resume, force=force)
            if resume:
                _check_stored_samples(out_dir / "samples.parquet", sample_frame)
        owned = make_executor(workers=workers, scheduler=scheduler) if executor is None else nullcontext(executor)
        pool = stack.enter_context(owned)
        run = _evaluate(spec, values, pool, parts, resume, progress, job)
        evaluations = _complete(read_parts(parts / "evaluations"), spec, run)
        n_workers = pool.workers
    evaluated = time.perf_counter() - started
    result = _analysis(spec, samples, sample_frame, evaluations, started, run, out_dir)
    if out_dir is not None:
        _write(result, spec, out_dir, owner, job, run, n_workers, started, evaluated, samples)
    return result


def _check_stored_samples(stored: Path, sample_frame: pd.DataFrame) -> None:
    """A resumed run must have the stored design; refuse a folder that holds another run's."""
    if not stored.is_file():
        return
    old = read_parquet(stored, remedy="Rerun with --force to start again, or choose another --out.")
    if list(old.columns) != list(sample_frame.columns) or old.shape != sample_frame.shape or not np.array_equal(
            old.to_numpy(dtype=float), sample_frame.to_numpy(dtype=float)):
        raise InputError(f"{stored} holds a different design (method, N, seed or ranges differ); resume only the "
                         "same run, or choose another output folder.")


def _evaluate(spec: SensitivitySpec, values: np.ndarray, executor: Executor, parts: Path, resume: bool,
              progress: bool, job: dict) -> ChunkRun:
    """Every design row through :func:`_evaluate_chunk`, in chunks written under ``parts/evaluations``."""
    step = _chunk_rows(spec)
    chunks = [(f"r{start:08d}", {"spec": spec, "values": values[start:start + step], "start": start})
              for start in range(0, len(values), step)]
    return run_chunks(_evaluate_chunk, chunks, executor=executor, out_dir=parts / "evaluations", resume=resume,
                      progress=progress, total_rows=len(values), label=f"sensitivity ({spec.method})", job=job)


def _analysis(spec: SensitivitySpec, samples: np.ndarray, sample_frame: pd.DataFrame, evaluations: pd.DataFrame,
              started: float, run: ChunkRun, out_dir: Path | None) -> SensitivityResult:
    """Indices, ranking, failures and warnings of the completed evaluations."""
    ycols = [c for c in evaluations.columns if c.startswith("y")]
    indices, notes = analyze(spec, samples, evaluations[ycols].to_numpy(dtype=float))
    columns = column_table(spec.outputs, spec.model)
    # the chunk parts and the analysis number the output columns (y0000...); the tables name each by its spec
    names = dict(zip(ycols, columns["column"], strict=True))
    evaluations = evaluations.rename(columns=names)
    indices["column"] = indices["column"].map(names)
    notes = [f"{names.get(n.partition(': ')[0], n.partition(': ')[0])}: {n.partition(': ')[2]}" for n in notes]
    ranking, unresolved = rank_parameters(indices, spec.method, spec.rank_top)
    failures = _failures(evaluations, sample_frame, list(names.values()))
    messages = _warnings(notes, unresolved, columns, failures, spec)
    messages += _flagged_ci(evaluations)
    rate = run.rows_written / run.elapsed_s if run.elapsed_s > 0 and run.rows_written else float("nan")
    return SensitivityResult(method=spec.method, rows=len(sample_frame),
                             rows_failed=int((evaluations["status"] != Status.OK).sum()), samples=sample_frame,
                             evaluations=evaluations, columns=columns, indices=indices, ranking=ranking,
                             unresolved=unresolved, failures=failures, warnings=tuple(messages),
                             elapsed_s=time.perf_counter() - started, evaluations_per_s=rate, out_dir=out_dir)


def _write(result: SensitivityResult, spec: SensitivitySpec, out_dir: Path, owner: Owner | None, job: dict,
           run: ChunkRun, n_workers: int, started: float, evaluated: float, samples: np.ndarray) -> None:
    """The final tables, then the manifest (written last: the folder holds a complete result).

    The samples, ranges and columns are written with the results, not before the evaluations: a resume refused
    for other outputs must leave the complete folder as it was.
    """
    begin_final_writes(out_dir)
    files = []
    for name, frame in (("samples", result.samples), ("ranges", spec.space.to_frame()), ("columns", result.columns),
                        ("evaluations", result.evaluations), ("indices", result.indices), ("ranking", result.ranking),
                        ("unresolved", result.unresolved), ("failures", result.failures)):
        for suffix in (".parquet", ".csv"):
            files.append(write_table(frame, out_dir / f"{name}{suffix}"))
    ycols = result.columns["column"].tolist()
    if spec.method in SALIB_METHODS:
        files += write_salib_files(spec, samples, result.evaluations[ycols].to_numpy(dtype=float), ycols, out_dir)
    elapsed = time.perf_counter() - started
    files.append(write_manifest(
        out_dir / "manifest.json", models={"model": spec.model}, seed=spec.seed, owner=owner, job=job,
        timings={"total": elapsed, "evaluation": run.elapsed_s, "sampling_and_setup": evaluated - run.elapsed_s,
                 "analysis_and_tables": elapsed - evaluated},
        counts={"rows": result.rows, "rows_ok": result.rows - result.rows_failed, "rows_failed": result.rows_failed,
                "rows_retried": int(result.evaluations["retried"].sum()), "output_columns": len(ycols),
                "parameters": len(spec.space.ranges), **run.counts()},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"sensitivity": {
            "method": spec.method, "n": spec.n, "second_order": spec.second_order, "levels": spec.levels,
            "harmonics": spec.harmonics, "replicates": spec.replicates, "step": spec.step, "resamples": spec.resamples,
            "conf_level": spec.conf_level, "on_failure": spec.on_failure, "rank_top": spec.rank_top,
            "main_index": MAIN_INDEX[spec.method], "indices": list(INDICES[spec.method]),
            "parameters": list(spec.space.ids), "range_rule": spec.space.rule, "range_factor": spec.space.factor,
            "values": {"set": dict(spec.values), "switched_off": list(spec.switch_off),
                       "applied_values": spec.applied_values},
            "outputs": [o.label for o in spec.outputs], "nan_policy": NAN_POLICY, "warnings": list(result.warnings),
            "workers": n_workers, "evaluations_per_s": result.evaluations_per_s, "chunk_rows": _chunk_rows(spec),
            **({"readout_conventions": {"level": LEVEL_CONVENTION}}
               if any(str(getattr(o, "readout", "")).startswith(LEVEL_PREFIX) for o in spec.outputs) else {})}},
    ))


def _complete(evaluations: pd.DataFrame, spec: SensitivitySpec, run) -> pd.DataFrame:
    """Every design row once, in order; rows of a chunk that raised are failed rows with the chunk's error."""
    n_cols = sum(len(o.columns(spec.model)) for o in spec.outputs)
    ycols = [f"y{j:04d}" for j in range(n_cols)]
    full = pd.DataFrame({"row": np.arange(spec.rows)})
    if evaluations.empty:
        evaluations = pd.DataFrame(columns=["row", "status", "message", "retried", *ycols])
    out = full.merge(evaluations, on="row", how="left")
    missing = out["status"].isna()
    if missing.any():
        why = "; ".join(f"chunk {f.chunk_id}: {f.message}" for f in run.failures) or "chunk not computed"
        out.loc[missing, "status"] = Status.FAILED
        out.loc[missing, "message"] = f"no result ({why})"
        out.loc[missing, "retried"] = False
    out["retried"] = out["retried"].astype(bool)
    out[ycols] = out[ycols].astype(float)
    return out


def _failures(evaluations: pd.DataFrame, samples: pd.DataFrame, ycols: list[str]) -> pd.DataFrame:
    finite = np.isfinite(evaluations[ycols].to_numpy(float)).all(axis=1)
    bad = evaluations[(evaluations["status"] != Status.OK) | ~finite]
    table = bad[["row", "status", "message", "retried"]].merge(samples, on="row", how="left")
    return table.reset_index(drop=True)


def _flagged_ci(evaluations: pd.DataFrame) -> list[str]:
    """One warning when median-effect CIs of some rows carry quality flags (their values are still analysed)."""
    flagged = evaluations["message"].fillna("").astype(str).str.contains(CI_FLAGGED, regex=False)
    if not flagged.any():
        return []
    example = evaluations.loc[flagged, "message"].iloc[0]
    return [f"{int(flagged.sum())} of {len(evaluations)} rows have a flagged median-effect CI (values kept and "
            f"analysed; a flagged CI is not a result on its own), e.g. {example[len(CI_FLAGGED):].strip()[:200]}"]


def _warnings(notes: list[str], unresolved: pd.DataFrame, columns: pd.DataFrame, failures: pd.DataFrame,
              spec: SensitivitySpec) -> list[str]:
    out = []
    label = dict(zip(columns["column"], columns["output"], strict=True))
    if len(failures):
        out.append(f"{len(failures)} of {spec.rows} model runs failed or were undefined after a retry; see "
                   "failures.csv (every row with its parameter vector and message).")
    refused: dict[str, int] = {}
    for note in notes:
        column, _, text = note.partition(": ")
        if text.startswith("refused"):
            refused[label.get(column, column)] = refused.get(label.get(column, column), 0) + 1
    for output, count in refused.items():
        out.append(f"{output}: {count} column(s) not analysed (failed or undefined runs; on_failure="
                   f"{spec.on_failure!r}).")
    if len(unresolved):
        per_output: dict[str, list[str]] = {}
        for _, row in unresolved.iterrows():
            per_output.setdefault(label.get(row["column"], row["column"]), []).append(row["pairs"])
        for output, pairs in per_output.items():
            out.append(f"{output}: confidence intervals too wide to rank the top {spec.rank_top} parameters in "
                       f"{len(pairs)} column(s) (e.g. {pairs[0]}); increase N.")
    return out
