"""Where work runs: interchangeable executors (serial, process pool, Dask) and resumable on-disk chunks.

Parallelism is injected: a stage takes an ``executor``; :func:`make_executor` builds one from ``--workers`` or
``--scheduler``. :func:`run_chunks` writes each finished chunk to disk at once, so a killed run resumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "Executor": "_base",
    "SerialExecutor": "_base",
    "WorkerLost": "_base",
    "default_workers": "_base",
    "DEFAULT_START_METHOD": "_process",
    "ProcessExecutor": "_process",
    "ProgressExecutor": "_progress",
    "DaskExecutor": "_dask",
    "MAX_WORKERS_PER_CORE": "_make",
    "make_executor": "_make",
    "ChunkFailure": "_chunks",
    "ChunkRun": "_chunks",
    "iter_parts": "_chunks",
    "read_parts": "_chunks",
    "run_chunks": "_chunks",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._base import Executor as Executor
    from ._base import SerialExecutor as SerialExecutor
    from ._base import WorkerLost as WorkerLost
    from ._base import default_workers as default_workers
    from ._chunks import ChunkFailure as ChunkFailure
    from ._chunks import ChunkRun as ChunkRun
    from ._chunks import iter_parts as iter_parts
    from ._chunks import read_parts as read_parts
    from ._chunks import run_chunks as run_chunks
    from ._dask import DaskExecutor as DaskExecutor
    from ._make import MAX_WORKERS_PER_CORE as MAX_WORKERS_PER_CORE
    from ._make import make_executor as make_executor
    from ._process import DEFAULT_START_METHOD as DEFAULT_START_METHOD
    from ._process import ProcessExecutor as ProcessExecutor
    from ._progress import ProgressExecutor as ProgressExecutor
