"""A local pool of worker processes (spawned), optionally with this process computing too."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import operator
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

from ..errors import InputError
from ._base import (
    SerialExecutor,
    WorkerLost,
    _BaseExecutor,
    _call,
    _check_workers,
    _require_importable,
    _task_name,
    default_workers,
)

#: Start method of :class:`ProcessExecutor` workers. ``"spawn"``: a fresh interpreter, so no RoadRunner,
#: LLVM or thread state is inherited. ``"forkserver"`` is accepted too, but measured no faster: a 2-worker
#: pool on 2 cores returned its first Model A steady state after ~1.1 s either way (~0.6 s to start the
#: workers and import numpy/pandas/simulator, ~0.5 s to compile the model in each), also with numpy,
#: pandas, simulator and roadrunner preloaded into the fork server; and it does not exist on Windows.
DEFAULT_START_METHOD = "spawn"


#: seconds between a pool worker's checks that its parent process is alive
ORPHAN_POLL_S = 1.0


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
                try:
                    pending[pool.submit(fn, nxt[1])] = nxt[0]
                except BrokenProcessPool as exc:  # a worker died before any finished future said so
                    lost = self._lost(fn)
                    lost.indices = tuple(sorted({nxt[0], *pending.values()}))
                    raise lost from exc

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
            raise self._lost(fn) from exc
        except Exception as exc:
            if not return_exceptions:
                raise
            return exc

    def _lost(self, fn: Callable) -> WorkerLost:
        """Discard the broken pool; the :class:`WorkerLost` to raise (a later call starts a new pool)."""
        self._discard(terminate=True)
        return WorkerLost(
            f"a worker process died (killed, out of memory, a crash in native code, or {_task_name(fn)} "
            "could not be imported in the worker) while tasks were running; the pool was shut down."
        )

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
        shared = _Feed(self, fn, items)
        feeder = threading.Thread(target=shared.feed, name="mekisim-feeder", daemon=True)
        feeder.start()
        try:
            while True:
                ready = shared.collect()
                for position, (index, future) in enumerate(ready):
                    # what else was out in the pool (if it broke, one of these was in the dead process)
                    out = (index, *(i for i, _ in ready[position + 1:]), *shared.out_in_pool())
                    yield index, self._indexed_result(future, fn, return_exceptions, out)
                step = shared.next_for_main()
                if step is _ALL_DONE:
                    return
                if step is _LOOK_AGAIN:
                    continue
                error, (index, item) = step
                if isinstance(error, BrokenProcessPool):
                    self._discard(terminate=True)
                    raise WorkerLost(f"a worker process died while tasks of {_task_name(fn)} were being sent to the "
                                     "pool; the pool was shut down.") from error
                if error is not None:
                    raise error
                result = _call(fn, item, return_exceptions)
                shared.finished_in_main()
                yield index, result
        finally:
            shared.stop_and_cancel(feeder)

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


_ALL_DONE, _LOOK_AGAIN = object(), object()


class _Feed:
    """What the feeder thread and the calling thread share in :meth:`ProcessExecutor._map_with_main`.

    Every attribute but ``pool``, ``fn`` and the settings is read and written under ``cond``. Items are taken
    from ``items`` by whichever side is free; finished pool tasks wait in ``arrived`` for the calling thread.
    """

    def __init__(self, executor: ProcessExecutor, fn: Callable[[Any], Any], items: Iterable[Any]) -> None:
        self.pool = executor._get_pool()
        self.fn = fn
        self.processes, self.limit, self.workers = executor.pool_processes, executor.max_in_flight, executor.workers
        self.total = operator.length_hint(items, 0)  # 0 for a lazy iterable: then nothing is queued
        self.source = enumerate(items)
        self.cond = threading.Condition()
        self.taken = self.outstanding = self.running = 0
        self.exhausted = self.stop = False
        self.error: BaseException | None = None
        self.arrived: deque[tuple[int, cf.Future]] = deque()
        self.submitted: dict[cf.Future, int] = {}  # not yet arrived (-> item index): cancelled if the caller stops

    def take(self) -> tuple[int, Any] | None:
        """The next ``(index, item)``, or None when there are no more (caller holds ``cond``)."""
        if self.exhausted:
            return None
        nxt = next(self.source, None)
        if nxt is None:
            self.exhausted = True
            return None
        self.taken += 1
        self.outstanding += 1
        return nxt

    def done(self, future: cf.Future, index: int) -> None:
        """A pool task finished (runs on the pool's manager thread)."""
        with self.cond:
            self.running -= 1
            self.submitted.pop(future, None)
            self.arrived.append((index, future))
            self.cond.notify_all()

    def wake(self, _: cf.Future) -> None:
        with self.cond:
            self.cond.notify_all()

    def feed(self) -> None:
        """The feeder thread: keep each pool process busy (one task running, one queued while many remain)."""
        try:
            # the pool gets items only once a process has started and imported fn's module (the probe),
            # so a short job that this process finishes alone never waits for the pool's start-up
            probe = self.pool.submit(_ready, self.fn)
            probe.add_done_callback(self.wake)
            with self.cond:
                while not self.stop and not probe.done():
                    self.cond.wait()
            if self.stop:
                return
            probe.result()
            with self.cond:
                while not self.stop:
                    queued = self.processes if self.total - self.taken > 2 * self.workers else 0
                    if self.running < self.processes + queued and self.outstanding < self.limit:
                        nxt = self.take()
                        if nxt is not None:
                            future = self.pool.submit(self.fn, nxt[1])
                            self.running += 1
                            self.submitted[future] = nxt[0]
                            future.add_done_callback(partial(self.done, index=nxt[0]))
                            continue
                        if self.running == 0:
                            return
                    self.cond.wait()
        except BaseException as exc:  # the items' iterator raised, or the pool broke
            with self.cond:
                self.error = exc
                self.cond.notify_all()

    def collect(self) -> list[tuple[int, cf.Future]]:
        """The pool tasks that finished since the last call."""
        with self.cond:
            ready = list(self.arrived)
            self.arrived.clear()
            self.outstanding -= len(ready)
            if ready:
                self.cond.notify_all()
        return ready

    def out_in_pool(self) -> list[int]:
        """Indices of the items the pool holds (finished but not collected, or submitted)."""
        with self.cond:
            return [i for i, _ in self.arrived] + list(self.submitted.values())

    def next_for_main(self):
        """``(error, (index, item))`` for the calling thread to compute, or :data:`_ALL_DONE`/:data:`_LOOK_AGAIN`."""
        with self.cond:
            error = self.error
            nxt = None if error is not None else self.take()
            if error is None and nxt is None:
                if not self.arrived and self.running == 0:  # all done (the pool may still be starting)
                    return _ALL_DONE
                if not self.arrived:
                    self.cond.wait()
                return _LOOK_AGAIN
            return error, (nxt if nxt is not None else (-1, None))

    def finished_in_main(self) -> None:
        with self.cond:
            self.outstanding -= 1
            self.cond.notify_all()

    def stop_and_cancel(self, feeder: threading.Thread) -> None:
        """Stop the feeder, wait for it, and cancel what the pool has not started."""
        with self.cond:
            self.stop = True
            self.cond.notify_all()
        feeder.join()
        with self.cond:
            for future in list(self.submitted):  # a cancelled future's callback removes it
                future.cancel()


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


def _ready(fn: Callable) -> None:
    """Pool probe: returns once a worker process is up and has imported ``fn``'s module (to unpickle it)."""
