"""Large jobs as chunks with stable ids, each finished chunk written to disk at once (resumable)."""

from __future__ import annotations

import io
import json
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import InputError
from ..files import TMP_SUFFIX, damaged_error, differences, read_parquet, write_bytes
from ._base import Executor, WorkerLost, _describe

PARTS = "parts"


FAILED_FILE = "_failed.json"


#: file in ``parts/`` describing the job whose results the parts are (:func:`run_chunks` ``job=``)
JOB_FILE = "_job.json"


_CHUNK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=+-]{0,199}")


@dataclass(frozen=True)
class ChunkFailure:
    """A chunk whose function raised: its id, ``"ErrorType: message"`` and the worker's traceback."""

    chunk_id: str
    message: str
    traceback: str = field(default="", repr=False)


@dataclass(frozen=True)
class ChunkRun:
    """What one :func:`run_chunks` call did.

    Attributes
    ----------
    parts_dir
        The folder of part files, ``OUT/parts``.
    chunks_total
        Chunks in the job.
    chunks_done
        Chunks computed and written by this call.
    chunks_skipped
        Chunks whose part file already existed (``resume=True``).
    failures
        Chunks whose function raised, in the order they finished (also in ``parts/_failed.json``).
    rows_written
        Rows written by this call.
    elapsed_s
        Wall-clock seconds of this call, pool start-up included.
    compute_s
        Seconds spent inside the chunk function, summed over chunks (``elapsed_s * workers - compute_s``
        is the overhead: start-up, transfer, writing).
    """

    parts_dir: Path
    chunks_total: int
    chunks_done: int
    chunks_skipped: int
    failures: tuple[ChunkFailure, ...]
    rows_written: int
    elapsed_s: float
    compute_s: float

    @property
    def chunks_failed(self) -> int:
        """Number of failed chunks."""
        return len(self.failures)

    @property
    def complete(self) -> bool:
        """True when every chunk of the job has a part file."""
        return self.chunks_done + self.chunks_skipped == self.chunks_total

    def counts(self) -> dict[str, int]:
        """Counts for ``write_manifest(counts=...)``."""
        return {
            "chunks_total": self.chunks_total,
            "chunks_done": self.chunks_done,
            "chunks_skipped": self.chunks_skipped,
            "chunks_failed": self.chunks_failed,
            "rows_written": self.rows_written,
        }


class _Outcome(NamedTuple):
    parquet: bytes | None  # the chunk's table as the bytes of its part file
    rows: int
    error: str | None
    traceback: str
    seconds: float


def _run_chunk(fn: Callable[[Any], Any], payload: Any) -> _Outcome:
    """Run one chunk in the worker; an exception becomes a value so one bad chunk cannot stop the job.

    The table is encoded as Parquet here, in the worker: the main process then only writes bytes, instead of
    unpickling a DataFrame and encoding it while the workers wait for it (with 2 workers on 2 cores that main-
    process work took ~1 s of a 10 s screen), and the bytes travel smaller than the pickled frame.
    """
    import pandas as pd

    start = time.perf_counter()
    try:
        frame = fn(payload)
    except Exception as exc:
        return _Outcome(None, 0, _describe(exc), traceback.format_exc(), time.perf_counter() - start)
    seconds = time.perf_counter() - start
    if not isinstance(frame, pd.DataFrame):
        return _Outcome(None, 0, f"TypeError: the chunk function returned {type(frame).__name__}, not a "
                                 "pandas.DataFrame", "", seconds)
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except Exception as exc:
        return _Outcome(None, 0, f"the result could not be written as Parquet: {_describe(exc)}", "", seconds)
    return _Outcome(buffer.getvalue(), len(frame), None, "", seconds)


def run_chunks(
    fn: Callable[[Any], Any],
    chunks: Iterable[tuple[str | int, Any]],
    *,
    executor: Executor,
    out_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    total_rows: int | None = None,
    label: str = "",
    job: Mapping[str, Any] | None = None,
) -> ChunkRun:
    """Run ``fn(payload)`` for every chunk on ``executor``, writing each result to ``out_dir/parts``.

    Parameters
    ----------
    fn
        ``fn(payload) -> pandas.DataFrame``. Must be importable (a top-level function of a module) for
        the process and Dask executors. The frame's index is not stored: put identifying values in columns.
    chunks
        ``(chunk_id, payload)`` pairs. Ids are stable across runs (the same work has the same id), unique,
        and file-name safe: letters, digits and ``._=+-``, starting with a letter or digit. They are
        ordered naturally (digit runs as numbers: ``c2`` before ``c10``) by :func:`read_parts`.
    executor
        Where the chunks run (:func:`make_executor`).
    out_dir
        Output folder; part files go to ``out_dir/parts/<chunk_id>.parquet``.
    resume
        Skip chunks whose part file exists (failed chunks run again); without it an existing non-empty
        ``parts`` folder is an error, so nothing computed is overwritten.
    progress
        A progress bar on stderr (rows, rate, ETA) when stderr is a terminal; never in CI logs.
    total_rows, label
        Rows the whole job will produce, if known (the bar counts rows, not chunks); text before the bar.
    job
        A JSON-able description of everything that decides the chunks' results (model hashes, doses, settings),
        stored as ``parts/_job.json``: a resumed run reuses parts only under the same description (chunk ids
        alone do not identify a job: a screen with other doses has the same ids).

    Returns
    -------
    ChunkRun
        Counts, failures and timings. Failed chunks are listed in ``parts/_failed.json`` too.

    Raises
    ------
    InputError
        Invalid or duplicate chunk ids; an existing ``parts`` folder without ``resume``; with ``resume``, parts
        of chunk ids not in this job or (with ``job``) of another description or none (a different run).
    WorkerLost
        A worker process died; finished chunks are on disk, so a resumed run continues from them.
    """
    start = time.perf_counter()
    chunks = [(_chunk_id(cid), payload) for cid, payload in chunks]
    parts, existing = _prepare_parts(Path(out_dir) / PARTS, [cid for cid, _ in chunks], resume=resume, job=job)
    todo = [(cid, payload) for cid, payload in chunks if cid not in existing]
    skipped = len(chunks) - len(todo)
    bar = _progress_bar(progress, label, total_rows, len(chunks), skipped, parts, existing)
    tally = _Tally(parts, label, bar, counts_rows=total_rows is not None)
    try:
        results = executor.map_unordered(partial(_run_chunk, fn), [p for _, p in todo], return_exceptions=True)
        for index, outcome in results:
            tally.record(todo[index][0], outcome)
            del outcome  # the table is on disk: hold no result longer than it takes to write it
    except WorkerLost as exc:
        raise _worker_lost(exc, label, parts, todo, skipped + tally.done, len(chunks)) from exc
    finally:
        if bar is not None:
            bar.close()
    return ChunkRun(
        parts_dir=parts,
        chunks_total=len(chunks),
        chunks_done=tally.done,
        chunks_skipped=skipped,
        failures=tuple(tally.failures),
        rows_written=tally.rows,
        elapsed_s=time.perf_counter() - start,
        compute_s=tally.compute,
    )


def _prepare_parts(parts: Path, ids: list[str], *, resume: bool, job: Mapping[str, Any] | None
                   ) -> tuple[Path, set[str]]:
    """Check that ``parts`` may receive this job's chunks and make it ready; return it and the ids done before."""
    _check_unique(ids)
    existing = _part_ids(parts)
    if parts.is_dir() and any(parts.iterdir()) and not resume:
        raise InputError(
            f"{parts} already holds {len(existing)} part file(s) of an earlier run; pass --resume "
            "(resume=True) to continue it, or choose another output folder."
        )
    if job is not None:
        _check_job(parts, job, existing)
    if existing - set(ids):
        stray = sorted(existing - set(ids), key=_natural_key)
        raise InputError(
            f"{parts} holds parts of chunks that are not in this job ({', '.join(stray[:5])}"
            f"{', ...' if len(stray) > 5 else ''}): it belongs to a different run; choose another output folder."
        )
    parts.mkdir(parents=True, exist_ok=True)
    for stale in parts.glob(f".*{TMP_SUFFIX}"):  # half-written files of a killed run
        stale.unlink(missing_ok=True)
    if job is not None and not existing:  # before the first part: a part never exists without its job file
        _write_atomic(parts / JOB_FILE, _job_text(job).encode("utf-8"))
    (parts / FAILED_FILE).unlink(missing_ok=True)  # those chunks have no part file: they run again
    return parts, existing


@dataclass
class _Tally:
    """The chunks of one run as they arrive: each part written at once, each failure recorded at once."""

    parts: Path
    label: str
    bar: Any
    counts_rows: bool
    failures: list[ChunkFailure] = field(default_factory=list)
    rows: int = 0
    done: int = 0
    compute: float = 0.0

    def record(self, cid: str, outcome: _Outcome | BaseException) -> None:
        """Write one chunk's part (or record its failure in ``_failed.json``) and advance the bar."""
        failure = None
        if isinstance(outcome, BaseException):  # lost in transit (e.g. a Dask worker died 3 times)
            failure = ChunkFailure(cid, _describe(outcome))
        elif outcome.error is not None:
            failure = ChunkFailure(cid, outcome.error, outcome.traceback)
        else:
            self.compute += outcome.seconds
            _write_part(outcome.parquet, self.parts, cid)
        if failure is None:
            self.rows += outcome.rows
            self.done += 1
            if self.bar is not None:
                self.bar.update(outcome.rows if self.counts_rows else 1)
                if not self.counts_rows:
                    self.bar.set_postfix(rows=self.rows, refresh=False)
        else:
            self.failures.append(failure)
            _write_failed(self.parts, self.failures, self.label)
            if self.bar is not None:
                self.bar.set_postfix(failed=len(self.failures), refresh=False)


def _worker_lost(exc: WorkerLost, label: str, parts: Path, todo: list, finished: int, total: int) -> WorkerLost:
    """The death of a worker as the user needs it: which stage and chunk, what is kept, how to continue."""
    ids = [todo[i][0] for i in exc.indices if 0 <= i < len(todo)]
    stage = f"the {label} stage" if label else "a chunked run"
    if len(ids) == 1:
        which = f" while it computed chunk {ids[0]}"
    elif ids:
        shown = ", ".join(ids[:6]) + (", ..." if len(ids) > 6 else "")
        which = f" while chunks {shown} were being computed (one of them in the process that died)"
    else:
        which = ""
    lost = WorkerLost(
        f"a worker process died during {stage}{which}: killed, out of memory, or a crash in native code. "
        f"{finished} of {total} chunks are finished and kept in {parts}; rerun the same command with --resume "
        "(resume=True) to continue from them (with fewer --workers if memory ran out)."
    )
    lost.indices = exc.indices
    return lost


def _chunk_id(value) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(f"chunk id {value!r} must be a string or an integer.")
    text = str(value)
    if not _CHUNK_ID.fullmatch(text):
        raise InputError(
            f"chunk id {text!r} is not a valid file name; valid: 1-200 letters, digits and ._=+- starting with "
            "a letter or digit."
        )
    return text


def _check_unique(ids: list[str]) -> None:
    seen: dict[str, str] = {}
    for cid in ids:
        key = cid.lower()  # one file per id on case-insensitive file systems too
        if key in seen:
            raise InputError(f"chunk ids must be unique; {seen[key]!r} and {cid!r} name the same part file.")
        seen[key] = cid


def _natural_key(text: str) -> list:
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", text)]


def _part_files(parts: Path) -> list[Path]:
    if not parts.is_dir():
        return []
    files = [p for p in parts.glob("*.parquet") if _CHUNK_ID.fullmatch(p.stem)]
    return sorted(files, key=lambda p: _natural_key(p.stem))


def _part_ids(parts: Path) -> set[str]:
    return {p.stem for p in _part_files(parts)}


def _write_part(data: bytes, parts: Path, cid: str) -> None:
    """Write a part file's bytes atomically; a disk error is fatal.

    A table Parquet cannot store has failed its chunk already, in :func:`_run_chunk`.
    """
    _write_atomic(parts / f"{cid}.parquet", data)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (simulator.files): flushed to disk before the name appears, all of it or nothing."""
    write_bytes(path, data)


def _job_text(job: Mapping[str, Any]) -> str:
    """Canonical JSON of a job description (keys sorted; NaN kept as the token NaN, so equal texts compare equal)."""
    return json.dumps(job, sort_keys=True, indent=1, default=str) + "\n"


def _check_job(parts: Path, job: Mapping[str, Any], existing: set[str]) -> None:
    """Refuse to resume parts that were computed for another job description (or for none)."""
    if not existing:
        return
    path = parts / JOB_FILE
    try:
        stored_text = path.read_text(encoding="utf-8")
        stored = json.loads(stored_text)
    except FileNotFoundError:
        raise InputError(
            f"{parts} holds {len(existing)} part file(s) but no {JOB_FILE} saying which settings produced them "
            "(an older mekisim, or files copied by hand), so they cannot be resumed safely; choose another output "
            "folder."
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} could not be read ({exc}); choose another output folder.") from exc
    if stored_text == _job_text(job):
        return
    changed = differences(stored, json.loads(_job_text(job)))
    raise InputError(
        f"{parts} holds parts of a run with other settings ({'; '.join(changed[:4])}"
        f"{'; ...' if len(changed) > 4 else ''}); --resume only continues the same run: rerun with the earlier "
        "settings, pass --force instead of --resume to replace that run, or choose another output folder."
    )


def _write_failed(parts: Path, failures: list[ChunkFailure], label: str) -> None:
    doc = {
        "label": label,
        "failed": [{"chunk_id": f.chunk_id, "message": f.message, "traceback": f.traceback} for f in failures],
    }
    write_bytes(parts / FAILED_FILE, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))


def _progress_bar(progress: bool, label: str, total_rows: int | None, n_chunks: int, skipped: int,
                  parts: Path, existing: set[str]):
    """A tqdm bar on stderr, or None when progress is off or stderr is not a terminal (CI logs)."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not progress or not (isatty and isatty()):
        return None
    from tqdm.auto import tqdm

    if total_rows is None:
        return tqdm(total=n_chunks, initial=skipped, unit="chunk", desc=label or None, file=sys.stderr,
                    dynamic_ncols=True, smoothing=0.1)
    import pyarrow as pa
    import pyarrow.parquet as pq

    done_rows = 0
    for cid in existing:
        path = parts / f"{cid}.parquet"
        try:
            done_rows += pq.read_metadata(path).num_rows
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise damaged_error(path, "Parquet", exc, _PART_REMEDY) from exc
    return tqdm(total=total_rows, initial=done_rows, unit="row", desc=label or None,
                file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


#: what to do about a damaged part file (it is written atomically, so only a disk fault or a hand edit damages one)
_PART_REMEDY = "Delete it and rerun the same command with --resume: that chunk is computed again."


def _written_parts(out_dir: str | Path) -> list[Path]:
    """The part files of ``out_dir/parts`` in chunk-id order; the folder must exist."""
    parts = Path(out_dir) / PARTS
    if not parts.is_dir():
        raise InputError(f"{parts} does not exist; it is written by a chunked run (run_chunks).")
    return _part_files(parts)


def iter_parts(out_dir: str | Path, columns: list[str] | None = None) -> Iterator[tuple[str, Any]]:
    """Yield ``(chunk_id, frame)`` for every part file in chunk-id order, one at a time (bounded memory)."""
    for path in _written_parts(out_dir):
        yield path.stem, read_parquet(path, columns=columns, remedy=_PART_REMEDY)


def read_parts(out_dir: str | Path, columns: list[str] | None = None):
    """All part files of ``out_dir/parts`` as one ``pandas.DataFrame``, in chunk-id order (deterministic).

    The parts are joined as Arrow tables and converted to pandas once: half the time of a frame per part
    and ``pandas.concat`` (a screen reads tens of parts of ~10^4 string-heavy rows). Parts whose schemas
    Arrow cannot unify (a column typed differently in two parts) are joined by pandas, as before.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for path in _written_parts(out_dir):
        try:
            tables.append(pq.read_table(path, columns=columns))
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise damaged_error(path, "Parquet", exc, _PART_REMEDY) from exc
    if not tables:
        return pd.DataFrame(columns=columns)
    nonempty = [t for t in tables if t.num_rows] or tables[:1]
    try:
        joined = pa.concat_tables(nonempty, promote_options="default")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.concat([t.to_pandas() for t in nonempty], ignore_index=True)
    return joined.to_pandas().reset_index(drop=True)
