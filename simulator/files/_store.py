"""Write result tables (CSV/Parquet) and the ``manifest.json`` that makes every output reproducible.

The manifest records what produced a directory's files: the command line, package and dependency
versions, the model's sha256 (SBML and metadata), the drug catalogue's and cell lines' sha256, the seed,
timings and counts of ok/failed records (architecture.md). It is written last, and its presence means
"this folder holds a complete result" (``_ownership.py``): every table and the manifest are written atomically
(a temporary file in the same folder, then a rename; ``_atomic.py``), so a run killed at any moment leaves each
file whole or absent, never cut short.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import InputError, ModelLoadError
from ._atomic import atomic_path, write_text
from ._ownership import Owner, record_owner
from ._resources import bundled_dir


@runtime_checkable
class ModelRecord(Protocol):
    """What a manifest records of a model (:class:`simulator.model.CompiledModel` has it): identity and hashes."""

    name: str
    source: str
    sha256: str
    metadata_sha256: str
    time_unit: str | None
    sbml: str

_DEPENDENCIES = ("mekisim", "libroadrunner", "antimony", "python-libsbml", "numpy", "scipy", "pandas",
                 "pyarrow", "matplotlib", "SALib", "petab", "tellurium")
TABLE_SUFFIXES = (".csv", ".parquet")


def dependency_versions() -> dict[str, str]:
    """Installed versions of mekisim and the libraries that decide its numbers.

    Returns
    -------
    dict
        Distribution name -> version (``"not installed"`` when absent).
    """
    out = {"python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_table(frame, path: str | Path) -> Path:
    """Write ``frame`` as CSV or Parquet, chosen by the suffix of ``path``, atomically; create parent folders.

    Parameters
    ----------
    frame
        A pandas DataFrame.
    path
        ``.csv`` or ``.parquet`` file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"output file {str(path)!r} has suffix {suffix!r}; valid: .csv or .parquet.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            _write_csv(frame, tmp)
        else:
            frame.to_parquet(tmp, index=False)
    return path


def _write_csv(frame, path: Path) -> None:
    """CSV through Arrow's writer (10x faster than pandas on screen tables); pandas for what Arrow cannot type.

    Missing values are written as empty fields, as pandas writes them; strings are quoted.
    """
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # e.g. mixed-type object columns
        frame.to_csv(path, index=False)
        return
    _write_arrow_csv(table, path)


def write_tables(frames: Mapping[str, object], out_dir: str | Path) -> list[Path]:
    """Write each frame as ``out_dir/<name>.parquet`` and ``.csv``; returns the paths in that order.

    Why not :func:`write_table` per file: each frame is converted to Arrow once for both files (pandas'
    ``to_parquet`` converts again), and the files are written on threads — Arrow's writers release the GIL —
    so the writes of a screen's tables overlap on the cores its pool has just left idle. The files are the
    same as :func:`write_table` writes.

    Parameters
    ----------
    frames
        Name -> pandas DataFrame.
    out_dir
        The folder (it exists).

    Returns
    -------
    list of pathlib.Path
        ``<name>.parquet`` and ``<name>.csv`` of each frame, in order.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def write(name: str, frame, suffix: str) -> Path:
        path = out_dir / f"{name}{suffix}"
        try:
            table = tables[name]
        except KeyError:  # Arrow cannot type the frame: pandas writes it
            return write_table(frame, path)
        with atomic_path(path) as tmp:
            if suffix == ".parquet":
                pq.write_table(table, tmp)
            else:
                _write_arrow_csv(table, tmp)
        return path

    tables = {}
    for name, frame in frames.items():
        try:
            tables[name] = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    jobs = [(name, frame, suffix) for name, frame in frames.items() for suffix in (".parquet", ".csv")]
    with ThreadPoolExecutor(max_workers=min(4, len(jobs)) or 1) as pool:
        return list(pool.map(lambda job: write(*job), jobs))


def _write_arrow_csv(table, path: Path) -> None:
    import pyarrow.csv as pa_csv

    pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))


#: the bundled catalogue files every drug dose and cell line comes from (simulator.model.load_drugs, load_cell_lines)
CATALOGUE_FILES = ("drugs.toml", "cell_lines.toml")


def catalogue_hashes() -> dict[str, str]:
    """sha256 of the bundled drug catalogue and cell lines, by file name.

    Why: their IC50s, Hill slopes and cell-line overrides decide every treated condition, and they are edited
    more often than the models, whose hash (the SBML's) does not cover them.

    Returns
    -------
    dict
        File name -> sha256 of its bytes.
    """
    try:
        folder = bundled_dir()
    except ModelLoadError:
        return {}
    out = {}
    for name in CATALOGUE_FILES:
        try:
            out[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        except OSError:
            out[name] = "not readable"
    return out


#: dependencies whose version decides a chunk's numbers (a resumed run must have the same ones)
_RESULT_VERSIONS = ("mekisim", "libroadrunner")


def job_inputs() -> dict:
    """What decides a chunked run's numbers beside its own settings, for ``run_chunks(job=...)``.

    The bundled catalogue files (:func:`catalogue_hashes`) and the versions of mekisim and libroadrunner: a
    resume after either changed would mix results of two different computations.

    Returns
    -------
    dict
        ``{"catalogue": {...}, "versions": {...}}``.
    """
    versions = dependency_versions()
    return {"catalogue_sha256": catalogue_hashes(), "versions": {k: versions[k] for k in _RESULT_VERSIONS}}


def fingerprint(obj: Any) -> Any:
    """A JSON-able description of ``obj`` for telling runs apart (e.g. a resumed run from another run's folder).

    Dataclasses field by field, mappings and sequences element by element, a :class:`CompiledModel` as its name
    and hashes (its SBML text is megabytes; the hashes identify it), non-finite floats and unknown objects as
    text. Equal settings give equal descriptions in any process.

    Parameters
    ----------
    obj
        Settings: a dataclass, mapping, sequence, number, text or model.

    Returns
    -------
    Any
        Nested dicts, lists, numbers and text (JSON-able).
    """
    if isinstance(obj, ModelRecord):
        return {"name": obj.name, "sha256": obj.sha256, "metadata_sha256": obj.metadata_sha256}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: fingerprint(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): fingerprint(v) for k, v in obj.items()}
    if isinstance(obj, set | frozenset):
        return sorted((fingerprint(v) for v in obj), key=repr)
    if isinstance(obj, list | tuple):
        return [fingerprint(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return fingerprint(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if obj is None or isinstance(obj, str | int | float):
        return obj
    return repr(obj)


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True,
            timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_manifest(
    path: str | Path,
    *,
    models: Mapping[str, ModelRecord] | None = None,
    command: list[str] | None = None,
    seed: int | None = None,
    timings: Mapping[str, float] | None = None,
    counts: Mapping[str, int] | None = None,
    files: list[str] | None = None,
    extra: Mapping | None = None,
    owner: Owner | None = None,
    job: Any = None,
) -> Path:
    """Write a manifest JSON file (``manifest.json`` in an output directory), atomically; return its path.

    Call it last: the manifest says the folder's result is complete. With ``owner`` (the record
    :func:`simulator.files.claim_folder` returned), the owner record is rewritten first with ``job`` (the
    settings whose results the folder now holds), and the manifest records the verb and the owner's command.
    ``command`` defaults to the owner's, else ``["python", *sys.argv]`` (an API call; the CLI records
    ``["mekisim", *argv]``).

    Parameters
    ----------
    path
        The manifest file.
    models
        Name -> model (or its record) whose hashes and metadata are recorded.
    command
        The command line; default the owner's, else ``["python", *sys.argv]``.
    seed
        The run's random seed, if any.
    timings
        Seconds per stage.
    counts
        Record counts (ok, failed, ...).
    files
        The files the run wrote, relative to the folder (report checks they exist).
    extra
        More JSON-able entries (the verb's settings).
    owner
        The folder's owner record (:func:`simulator.files.claim_folder`).
    job
        The settings whose results the folder holds (recorded in the owner record).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if command is None:
        command = list(owner.command) if owner is not None and owner.command else ["python", *sys.argv]
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **({"verb": owner.verb} if owner is not None else {}),
        "command": list(command),
        "git_revision": _git_revision(),
        "versions": dependency_versions(),
        "models": {
            key: {"name": m.name, "source": m.source, "sha256": m.sha256, "metadata_sha256": m.metadata_sha256,
                  "time_unit": m.time_unit}
            for key, m in (models or {}).items()
        },
        "catalogue_sha256": catalogue_hashes(),
        "seed": seed,
        "timings_s": dict(timings or {}),
        "counts": dict(counts or {}),
        "files": files or [],
        **dict(extra or {}),
    }
    if owner is not None:
        record_owner(path.parent, owner, job)
    write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return path
