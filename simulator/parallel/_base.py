"""The executor protocol every backend satisfies, and the in-process backend."""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Protocol, runtime_checkable

from ..errors import InputError, MekisimError


class WorkerLost(MekisimError, RuntimeError):
    """A worker process died (killed, out of memory, a crash in native code); the pool cannot continue.

    ``indices`` are the positions (in the mapped items) of the tasks that were running when it died (one of
    them was in the dead process), when known.
    """

    indices: tuple[int, ...] = ()


def _task_name(fn: Callable) -> str:
    """A task function as a user can read it: ``module.name`` (partials unwrapped), never its repr."""
    while isinstance(fn, partial):
        # run_chunks sends partial(_run_chunk, fn): the user's function is its first argument
        wrapper = getattr(fn.func, "__name__", "") == "_run_chunk"
        fn = fn.args[0] if wrapper and fn.args else fn.func
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


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


def default_workers() -> int:
    """Cores this process may use (its CPU affinity where the OS reports one, else ``os.cpu_count()``).

    Returns
    -------
    int
        At least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


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


def _call(fn: Callable[[Any], Any], item: Any, return_exceptions: bool) -> Any:
    """``fn(item)`` in this process; with ``return_exceptions`` an exception is the result."""
    try:
        return fn(item)
    except Exception as exc:
        if not return_exceptions:
            raise
        return exc


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
