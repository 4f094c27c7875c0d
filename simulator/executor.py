"""Where work runs: interchangeable executors, and large jobs run in resumable on-disk chunks.

Parallelism is injected, never hard-wired (architecture.md, "Parallel and distributed execution";
style.md section 2 item 10). A stage takes an ``executor`` (or ``executor.map`` as its ``map_fn``) and
three backends satisfy the same :class:`Executor` protocol:

* :class:`SerialExecutor`: in this process, lazily, in order. Tests, and ``--workers 1``.
* :class:`ProcessExecutor`: a local process pool (``--workers N``). Workers are started with
  ``"spawn"``, never ``"fork"``: a forked child inherits RoadRunner/LLVM state and any thread mid-use.
  ``"forkserver"`` (forks of a clean helper process) was measured no faster, because a worker's start-up
  is dominated by imports and the model compile, which every worker repeats; see :data:`DEFAULT_START_METHOD`.
  For ``--workers N`` it runs tasks in this process too, beside ``N - 1`` pool processes
  (``use_main_process=True``): N processes compute, and the first tasks start at once instead of after
  every worker's start-up.
* :class:`DaskExecutor`: a Dask distributed cluster (``--scheduler tcp://HOST:8786``).

:func:`make_executor` picks one from the CLI options. Every executor is a context manager that releases
its workers (or Dask client) on exit.

What crosses a process boundary is pickled: the function must be **importable**, that is defined at
the top level of a module the workers can import (not a lambda, a nested function, or a function typed
into ``python -c``), and items and results must pickle. Models (:class:`~simulator.model.CompiledModel`)
and conditions pickle; each worker process compiles a model once, keyed by its sha256 (engine.py), so a
RoadRunner handle never crosses a process boundary.

:func:`run_chunks` runs a job split into chunks with stable ids and writes each finished chunk's table to
``OUT/parts/<chunk_id>.parquet`` as soon as it arrives (atomically: a temporary file in the same folder,
then ``os.replace``), so memory stays bounded and a killed run continues with ``resume=True``
(``--resume``) without losing or duplicating a row: a part file exists completely or not at all, and one
chunk id is one file. A chunk whose function raises is recorded in ``OUT/parts/_failed.json`` and in the
returned :class:`ChunkRun`; the rest of the job continues, and the next resumed run retries it.
:func:`read_parts` (or :func:`iter_parts`, one part at a time) reads the result back in chunk-id order.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import json
import multiprocessing
import operator
import os
import pickle
import re
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

from .errors import InputError, MekisimError
from .files import TMP_SUFFIX, damaged_error, read_parquet, write_bytes

__all__ = [
    "DEFAULT_START_METHOD",
    "ChunkFailure",
    "ChunkRun",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "WorkerLost",
    "default_workers",
    "iter_parts",
    "make_executor",
    "read_parts",
    "run_chunks",
]

#: Start method of :class:`ProcessExecutor` workers. ``"spawn"``: a fresh interpreter, so no RoadRunner,
#: LLVM or thread state is inherited. ``"forkserver"`` is accepted too, but measured no faster: a 2-worker
#: pool on 2 cores returned its first Model A steady state after ~1.1 s either way (~0.6 s to start the
#: workers and import numpy/pandas/simulator, ~0.5 s to compile the model in each), also with numpy,
#: pandas, simulator and roadrunner preloaded into the fork server; and it does not exist on Windows.
DEFAULT_START_METHOD = "spawn"

PARTS = "parts"
FAILED_FILE = "_failed.json"
#: file in ``parts/`` describing the job whose results the parts are (:func:`run_chunks` ``job=``)
JOB_FILE = "_job.json"
#: seconds between a pool worker's checks that its parent process is alive
ORPHAN_POLL_S = 1.0
_CHUNK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=+-]{0,199}")


class WorkerLost(MekisimError, RuntimeError):
    """A worker process died (killed, out of memory, a crash in native code); the pool cannot continue.

    ``indices`` are the positions (in the mapped items) of the tasks that were running when it died (one of
    them was in the dead process), when known.
    """

    indices: tuple[int, ...] = ()


def _task_name(fn: Callable) -> str:
    """A task function as a user can read it: ``module.name`` (partials unwrapped), never its repr."""
    while isinstance(fn, partial):
        fn = fn.args[0] if fn.func is _run_chunk and fn.args else fn.func
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


# ------------------------------------------------------------------------------------------ executors


@runtime_checkable
class Executor(Protocol):
    """What a stage needs from an executor.

    ``map_unordered(fn, items)`` yields ``(index, fn(items[index]))`` as results arrive, in any order,
    keeping only a bounded number of items in flight (so ``items`` may be a long lazy iterable). With
    ``return_exceptions=True`` an exception raised for one item (by ``fn`` or, on Dask, a lost worker) is
    yielded as that item's result instead of ending the iteration. ``map(fn, items)`` is the ordered list
    (so ``executor.map`` can be passed as a ``map_fn``). ``workers`` is the number of tasks that run at once.
    """

    workers: int

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, return_exceptions: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` pairs as tasks finish."""
        ...

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``[fn(item) for item in items]``, computed on this executor."""
        ...

    def close(self) -> None:
        """Release the workers."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, exc_type, exc, tb) -> None: ...


class _BaseExecutor:
    workers: int = 1

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, return_exceptions: bool = False
    ) -> Iterator[tuple[int, Any]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``[fn(item) for item in items]`` in item order; the first exception is raised."""
        items = list(items)
        out: list[Any] = [None] * len(items)
        for index, result in self.map_unordered(fn, items):
            out[index] = result
        return out

    def close(self) -> None:
        """Release the workers (nothing to release here)."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()


class SerialExecutor(_BaseExecutor):
    """Run every task in this process, one after the other, in order (tests and ``--workers 1``)."""

    workers = 1

    def __repr__(self) -> str:
        return "SerialExecutor()"

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, return_exceptions: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(item))`` in item order, computing each when asked for."""
        for index, item in enumerate(items):
            yield index, _call(fn, item, return_exceptions)


class ProcessExecutor(_BaseExecutor):
    """A local pool of worker processes (``concurrent.futures.ProcessPoolExecutor``).

    Parameters
    ----------
    workers
        Tasks that run at once, i.e. worker processes (this process included with ``use_main_process``);
        default :func:`default_workers` (the cores this process may use).
    start_method
        ``"spawn"`` (default, :data:`DEFAULT_START_METHOD`) or ``"forkserver"``. ``"fork"`` is refused:
        a forked child would inherit RoadRunner/LLVM state mid-use.
    max_in_flight
        Tasks submitted but not yet collected; default ``2 * workers``, enough to keep every worker busy
        while bounding the memory held by pending items and unread results.
    use_main_process
        Run tasks in this process too: ``workers`` counts it, so ``workers - 1`` processes are started
        (:func:`make_executor` does this). Why: on N cores, N pool processes leave this one idle while each
        of them repeats the same start-up (imports and model load, ~0.6-0.9 s, measured in
        ``benchmarks/RESULTS.md``); with this process working from the first task, the 2-worker benchmark
        screen ended 0.3-0.8 s sooner (medians of interleaved runs, ~11-14 s each). The price: a crash in
        native code during a task that runs here ends the whole job instead of being reported as
        :class:`WorkerLost`; either way the finished chunks of :func:`run_chunks` are on disk and ``--resume``
        continues. ``False`` keeps every task in a worker.

    The pool starts on first use (0.6-1.2 s on 2 cores: imports, then each worker loads the compiled model
    from the compile cache in ~10 ms, or compiles it in ~0.3 s without the cache) and is reused
    by later calls, so a stage that maps several times pays it once. On exit after an exception (e.g.
    Ctrl-C) the workers are terminated instead of finishing their current task. Workers ignore Ctrl-C (this
    process handles it; the CLI also turns SIGTERM into an exception, so that this happens) and exit by
    themselves within :data:`ORPHAN_POLL_S` if this process is killed outright.
    """

    def __init__(
        self, workers: int | None = None, *, start_method: str | None = None, max_in_flight: int | None = None,
        use_main_process: bool = False,
    ) -> None:
        self.workers = _check_workers(default_workers() if workers is None else workers)
        method = start_method or DEFAULT_START_METHOD
        valid = [m for m in ("spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
        if method not in valid:
            raise InputError(f"process start method {method!r} is not supported here; valid: {', '.join(valid)}.")
        self.start_method = method
        self.max_in_flight = _check_workers(max_in_flight or 2 * self.workers, what="max_in_flight")
        self.use_main_process = bool(use_main_process)
        self._pool: cf.ProcessPoolExecutor | None = None

    def __repr__(self) -> str:
        main = ", use_main_process=True" if self.use_main_process else ""
        return f"ProcessExecutor(workers={self.workers}, start_method={self.start_method!r}{main})"

    @property
    def pool_processes(self) -> int:
        """Worker processes started: ``workers``, or one fewer when this process takes tasks too."""
        return self.workers - 1 if self.use_main_process else self.workers

    def _get_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            # a spawned worker's parent is this process; a forkserver's workers are the fork server's children
            parent = os.getpid() if self.start_method == "spawn" else None
            self._pool = cf.ProcessPoolExecutor(self.pool_processes, initializer=_init_worker, initargs=(parent,),
                                                mp_context=multiprocessing.get_context(self.start_method))
        return self._pool

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, return_exceptions: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(item))`` as worker processes finish them.

        Raises
        ------
        InputError
            ``fn`` cannot be sent to a worker process (a lambda, a nested function, ``python -c`` code).
        WorkerLost
            A worker process died; the pool is discarded (a later call starts a new one).
        """
        _require_importable(fn)
        if self.use_main_process:
            if self.pool_processes == 0:
                yield from SerialExecutor().map_unordered(fn, items, return_exceptions=return_exceptions)
            else:
                yield from self._map_with_main(fn, items, return_exceptions)
            return
        pool = self._get_pool()
        source = enumerate(items)
        pending: dict[cf.Future, int] = {}

        def fill() -> None:
            while len(pending) < self.max_in_flight:
                nxt = next(source, None)
                if nxt is None:
                    return
                pending[pool.submit(fn, nxt[1])] = nxt[0]

        try:
            fill()
            while pending:
                finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    yield index, self._indexed_result(future, fn, return_exceptions, (index, *pending.values()))
                    fill()
        finally:
            for future in pending:
                future.cancel()

    def _result(self, future: cf.Future, fn: Callable, return_exceptions: bool) -> Any:
        """A pool task's result; a dead worker discards the pool and is :class:`WorkerLost`."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._discard(terminate=True)
            raise WorkerLost(
                f"a worker process died (killed, out of memory, a crash in native code, or {_task_name(fn)} "
                "could not be imported in the worker) while tasks were running; the pool was shut down."
            ) from exc
        except Exception as exc:
            if not return_exceptions:
                raise
            return exc

    def _indexed_result(self, future: cf.Future, fn: Callable, return_exceptions: bool,
                        indices: tuple[int, ...]) -> Any:
        """:meth:`_result`; a :class:`WorkerLost` learns which tasks were running (``indices``)."""
        try:
            return self._result(future, fn, return_exceptions)
        except WorkerLost as exc:
            exc.indices = tuple(sorted(set(indices)))
            raise

    def _map_with_main(self, fn: Callable[[Any], Any], items: Iterable[Any],
                       return_exceptions: bool) -> Iterator[tuple[int, Any]]:
        """``map_unordered`` with this process as one of the workers (``use_main_process=True``).

        Why: with N workers on N cores, a pool of N processes leaves this process idle while each worker
        imports numpy/pandas/scipy/simulator and loads the model (~0.6-0.9 s, the same work in every
        worker, which one process in-line does not pay). Here N - 1 processes start while this one works
        on the first items at once. A *feeder* thread keeps the pool supplied while this thread computes:
        each pool process has one task running and, while many items remain, one queued, so it never waits
        for this thread to finish an item. Near the end nothing is queued, so this process is not left idle
        while a pool process works through a backlog. Finished pool results wait for this thread (at most
        ``max_in_flight`` items are taken and not yet yielded). Items are taken from ``items`` under a lock,
        by whichever side is free.
        """
        pool = self._get_pool()
        processes, limit = self.pool_processes, self.max_in_flight
        total = operator.length_hint(items, 0)  # 0 for a lazy iterable: then nothing is queued
        source = enumerate(items)
        cond = threading.Condition()
        state = {"taken": 0, "outstanding": 0, "running": 0, "exhausted": False, "stop": False, "error": None}
        arrived: deque[tuple[int, cf.Future]] = deque()
        submitted: dict[cf.Future, int] = {}  # not yet arrived (-> item index): cancelled if the caller stops early

        def take() -> tuple[int, Any] | None:  # caller holds cond
            if state["exhausted"]:
                return None
            nxt = next(source, None)
            if nxt is None:
                state["exhausted"] = True
                return None
            state["taken"] += 1
            state["outstanding"] += 1
            return nxt

        def done(future: cf.Future, index: int) -> None:  # runs on the pool's manager thread
            with cond:
                state["running"] -= 1
                submitted.pop(future, None)
                arrived.append((index, future))
                cond.notify_all()

        def wake(_: cf.Future) -> None:
            with cond:
                cond.notify_all()

        def feed() -> None:
            try:
                # the pool gets items only once a process has started and imported fn's module (the probe),
                # so a short job that this process finishes alone never waits for the pool's start-up
                probe = pool.submit(_ready, fn)
                probe.add_done_callback(wake)
                with cond:
                    while not state["stop"] and not probe.done():
                        cond.wait()
                if state["stop"]:
                    return
                probe.result()
                with cond:
                    while not state["stop"]:
                        queued = processes if total - state["taken"] > 2 * self.workers else 0
                        if state["running"] < processes + queued and state["outstanding"] < limit:
                            nxt = take()
                            if nxt is not None:
                                future = pool.submit(fn, nxt[1])
                                state["running"] += 1
                                submitted[future] = nxt[0]
                                future.add_done_callback(partial(done, index=nxt[0]))
                                continue
                            if state["running"] == 0:
                                return
                        cond.wait()
            except BaseException as exc:  # the items' iterator raised, or the pool broke
                with cond:
                    state["error"] = exc
                    cond.notify_all()

        feeder = threading.Thread(target=feed, name="mekisim-feeder", daemon=True)
        feeder.start()
        try:
            while True:
                with cond:
                    ready = list(arrived)
                    arrived.clear()
                    state["outstanding"] -= len(ready)
                    if ready:
                        cond.notify_all()
                for position, (index, future) in enumerate(ready):
                    with cond:  # what else was out in the pool (if it broke, one of these was in the dead process)
                        running = [i for i, _ in arrived] + list(submitted.values())
                    yield index, self._indexed_result(future, fn, return_exceptions,
                                                      (index, *(i for i, _ in ready[position + 1:]), *running))
                with cond:
                    error = state["error"]
                    nxt = None if error is not None else take()
                    if error is None and nxt is None:
                        if not arrived and state["running"] == 0:  # all done (the pool may still be starting)
                            return
                        if not arrived:
                            cond.wait()
                        continue
                if isinstance(error, BrokenProcessPool):
                    self._discard(terminate=True)
                    raise WorkerLost(f"a worker process died while tasks of {_task_name(fn)} were being sent to the "
                                     "pool; the pool was shut down.") from error
                if error is not None:
                    raise error
                index, item = nxt
                result = _call(fn, item, return_exceptions)
                with cond:
                    state["outstanding"] -= 1
                    cond.notify_all()
                yield index, result
        finally:
            with cond:
                state["stop"] = True
                cond.notify_all()
            feeder.join()
            with cond:
                for future in list(submitted):  # a cancelled future's callback removes it
                    future.cancel()

    def _discard(self, *, terminate: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if terminate:
            # ProcessPoolExecutor has no public terminate before Python 3.14; without it, shutdown waits
            # for every running task to finish.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                if process.is_alive():
                    process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            # the idle workers exit on their own (~0.3 s for 2 workers to tear down numpy, pandas and LLVM):
            # not waited for, so that time overlaps what the caller does next (a screen writes its tables);
            # the interpreter still joins them at exit
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Shut the pool down; running tasks finish, and the idle workers exit in the background."""
        self._discard(terminate=False)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._discard(terminate=exc_type is not None)


class DaskExecutor(_BaseExecutor):
    """Tasks on a Dask distributed cluster (``--scheduler tcp://HOST:8786``).

    Parameters
    ----------
    address
        The scheduler's address, ``tcp://HOST:PORT``.
    timeout
        Seconds to wait for the connection.
    max_in_flight
        Tasks submitted but not yet collected; default four times the worker threads connected when a
        map starts (at least 8), to hide the scheduler round trip (~3-6 ms per task on 2 local cores).

    The workers must be able to import ``fn``'s module and ``simulator`` (same versions as here). Tasks
    get random keys (``pure=False``): Dask does not hash the items, and two equal items still run twice.
    The client is closed on exit.
    """

    def __init__(self, address: str, *, timeout: float = 10.0, max_in_flight: int | None = None) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise InputError("--scheduler needs Dask distributed: pip install 'dask[distributed]'.") from exc
        self.address = address
        _check_address(address)
        try:
            self._client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"could not connect to the Dask scheduler at {address!r} within {timeout:g} s ({exc}). Valid: "
                "the address a running `dask scheduler` prints, tcp://HOST:8786, with workers started by "
                "`dask worker tcp://HOST:8786`."
            ) from exc
        self.max_in_flight = max_in_flight
        self.workers = max(1, self._threads())

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"

    def _threads(self) -> int:
        return int(sum(self._client.nthreads().values()))

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, return_exceptions: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(item))`` as the cluster finishes them (a lost worker's task is retried by Dask)."""
        from distributed import as_completed

        client = self._client
        window = self.max_in_flight or max(8, 4 * self._threads())
        source = enumerate(items)
        pending: dict[str, tuple[int, Any]] = {}
        stream = as_completed(loop=client.loop)

        def fill() -> None:
            while len(pending) < window:
                nxt = next(source, None)
                if nxt is None:
                    return
                future = client.submit(fn, nxt[1], pure=False)
                pending[future.key] = (nxt[0], future)
                stream.add(future)

        try:
            fill()
            for future in stream:
                index, _ = pending.pop(future.key)
                try:
                    result = future.result()
                except Exception as exc:
                    if not return_exceptions:
                        raise
                    result = exc
                future.release()  # free the result on the cluster now, not when the generator ends
                yield index, result
                fill()
        finally:
            if pending:
                client.cancel([f for _, f in pending.values()])

    def close(self) -> None:
        """Close the Dask client (the cluster keeps running)."""
        self._client.close()


def _check_address(address: str) -> None:
    """Refuse a malformed scheduler address before a ``Client`` exists.

    Why: ``Client("nonsense")`` fails, but the half-built client then blocks for 20 s when it is garbage
    collected and prints a traceback; a typo deserves an immediate message.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise InputError(f"scheduler address {address!r} is not valid ({exc}); valid: the address a running "
                         "`dask scheduler` prints, e.g. tcp://HOST:8786.") from None


#: most local worker processes per core: more only wait for a core, and each holds its own model and imports
MAX_WORKERS_PER_CORE = 4


def default_workers() -> int:
    """Cores this process may use (its CPU affinity where the OS reports one, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers N`` / ``--scheduler ADDR``.

    A scheduler address wins (:class:`DaskExecutor`); otherwise ``workers`` (default
    :func:`default_workers`) local processes computing: this one and ``workers - 1`` pool processes
    (:class:`ProcessExecutor` with ``use_main_process=True``), and 1 worker is this process alone
    (:class:`SerialExecutor`).
    """
    if scheduler:
        return DaskExecutor(scheduler)
    workers = _check_workers(default_workers() if workers is None else workers)
    cores = default_workers()
    if workers > MAX_WORKERS_PER_CORE * cores:
        raise InputError(f"--workers {workers} is more than {MAX_WORKERS_PER_CORE} per core ({cores} core(s) here): "
                         f"each worker is a process of ~0.2 GB (~{workers * 0.2:.0f} GB for {workers}) that would "
                         f"only wait for a core; use --workers {cores}, or a Dask cluster (--scheduler) for more.")
    return SerialExecutor() if workers == 1 else ProcessExecutor(workers, use_main_process=True)


def _check_workers(value, what: str = "--workers") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{what} must be a whole number >= 1, not {value!r}.")
    return value


def _require_importable(fn: Callable) -> None:
    """Refuse early what a worker process could not unpickle (it would otherwise die on it)."""
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise InputError(
            f"{fn!r} cannot be sent to worker processes ({exc}); pass a function defined at the top level of "
            "an importable module, not a lambda or a nested function."
        ) from exc
    main = sys.modules.get("__main__")
    inner = [fn, *(getattr(fn, "args", ()) if isinstance(fn, partial) else ())]
    for obj in [getattr(fn, "func", None), *inner]:
        if callable(obj) and getattr(obj, "__module__", None) == "__main__" and not getattr(main, "__file__", None):
            raise InputError(
                f"{obj!r} is defined in interactive or `python -c` code, which worker processes cannot import; "
                "define it in a module (a .py file) instead."
            )


# ------------------------------------------------------------------------------------------ chunked runs


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


def _init_worker(parent: int | None) -> None:
    """Pool initializer: ignore Ctrl-C, and exit when the parent process is gone.

    Ctrl-C reaches the whole process group; the main process handles it and then terminates the workers, so
    they do not each print a traceback. A parent killed outright (SIGKILL, the out-of-memory killer) cannot
    shut its pool down, and its workers would wait for tasks forever; a watcher thread ends them instead.
    ``parent`` is the pid the worker's parent must have (``None``: its parent now, the fork server, which
    exits with the main process): a worker still starting when the main process was killed exits at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid() if parent is None else parent
    threading.Thread(target=_exit_with_parent, args=(parent,), name="mekisim-parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is adopted by another process
        time.sleep(ORPHAN_POLL_S)
    os._exit(1)


def _call(fn: Callable[[Any], Any], item: Any, return_exceptions: bool) -> Any:
    """``fn(item)`` in this process; with ``return_exceptions`` an exception is the result."""
    try:
        return fn(item)
    except Exception as exc:
        if not return_exceptions:
            raise
        return exc


def _ready(fn: Callable) -> None:
    """Pool probe: returns once a worker process is up and has imported ``fn``'s module (to unpickle it)."""


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
        Skip chunks whose part file exists and run the others (including chunks that failed before).
        Without it, an existing non-empty ``parts`` folder is an error, so nothing computed is overwritten.
    progress
        Show a progress bar on stderr (rows, rate, ETA) when stderr is a terminal; never in CI logs.
    total_rows
        Rows the whole job will produce, if known: the bar then counts rows (with an ETA) instead of chunks.
    label
        Text in front of the progress bar.
    job
        A JSON-able description of everything that decides the chunks' results (model hashes, doses, settings).
        It is stored as ``parts/_job.json``; a resumed run reuses existing parts only when its description is
        the same. Why: chunk ids alone do not identify a job (a screen with other doses has the same ids), and
        resuming would keep the old results under the new settings.

    Returns
    -------
    ChunkRun
        Counts, failures and timings. Failed chunks are listed in ``parts/_failed.json`` too.

    Raises
    ------
    InputError
        Invalid or duplicate chunk ids; an existing ``parts`` folder without ``resume``; with ``resume``,
        part files of chunk ids that are not in this job, or (with ``job``) parts written for another
        description or without one (the folder holds a different run).
    WorkerLost
        A worker process died; finished chunks are on disk, so a resumed run continues from them.
    """
    start = time.perf_counter()
    chunks = [(_chunk_id(cid), payload) for cid, payload in chunks]
    ids = [cid for cid, _ in chunks]
    _check_unique(ids)
    parts = Path(out_dir) / PARTS
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

    todo = [(cid, payload) for cid, payload in chunks if cid not in existing]
    skipped = len(chunks) - len(todo)
    bar = _progress_bar(progress, label, total_rows, len(chunks), skipped, parts, existing)
    failures: list[ChunkFailure] = []
    rows = done = 0
    compute = 0.0
    try:
        results = executor.map_unordered(partial(_run_chunk, fn), [p for _, p in todo], return_exceptions=True)
        for index, outcome in results:
            cid = todo[index][0]
            failure = None
            if isinstance(outcome, BaseException):  # lost in transit (e.g. a Dask worker died 3 times)
                failure = ChunkFailure(cid, _describe(outcome))
            elif outcome.error is not None:
                failure = ChunkFailure(cid, outcome.error, outcome.traceback)
            else:
                compute += outcome.seconds
                _write_part(outcome.parquet, parts, cid)
            if failure is None:
                n = outcome.rows
                rows += n
                done += 1
                if bar is not None:
                    bar.update(n if total_rows is not None else 1)
                    if total_rows is None:
                        bar.set_postfix(rows=rows, refresh=False)
            else:
                failures.append(failure)
                _write_failed(parts, failures, label)
                if bar is not None:
                    bar.set_postfix(failed=len(failures), refresh=False)
            del outcome  # the table is on disk: hold no result longer than it takes to write it
    except WorkerLost as exc:
        raise _worker_lost(exc, label, parts, todo, skipped + done, len(chunks)) from exc
    finally:
        if bar is not None:
            bar.close()
    return ChunkRun(
        parts_dir=parts,
        chunks_total=len(chunks),
        chunks_done=done,
        chunks_skipped=skipped,
        failures=tuple(failures),
        rows_written=rows,
        elapsed_s=time.perf_counter() - start,
        compute_s=compute,
    )


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
    """Write ``data`` atomically (files.py): flushed to disk before the name appears, all of it or nothing."""
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
    changed = _differences(stored, json.loads(_job_text(job)))
    raise InputError(
        f"{parts} holds parts of a run with other settings ({'; '.join(changed[:4])}"
        f"{'; ...' if len(changed) > 4 else ''}); --resume only continues the same run: rerun with the earlier "
        "settings, pass --force instead of --resume to replace that run, or choose another output folder."
    )


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Where two job descriptions differ, as ``key: was X, now Y`` (values shortened)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _differences(old.get(key, "(absent)"), new.get(key, "(absent)"), f"{where}.{key}" if where else key)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for k, (a, b) in enumerate(zip(old, new, strict=True)) for d in _differences(a, b, f"{where}[{k}]")]
    if json.dumps(old) == json.dumps(new):
        return []

    def short(value: Any) -> str:
        text = json.dumps(value)
        return text if len(text) <= 60 else text[:57] + "..."

    return [f"{where or 'job'}: was {short(old)}, now {short(new)}"]


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
