"""A progress bar around any executor: tasks done out of tasks submitted, for stages that map a short list.

Why a wrapper: the fit's starts and the profiles are one ``executor.map`` each; wrapping the executor gives
them a bar without the fitting code knowing about terminals (the chunked stages count rows in
:func:`~simulator.parallel.run_chunks` instead).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._base import _BaseExecutor


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class ProgressExecutor(_BaseExecutor):
    """``executor`` with a tqdm bar on stderr per map (``label``: n/N tasks, rate, ETA).

    Parameters
    ----------
    executor
        The executor that runs the tasks (not closed by this wrapper).
    label
        Text before the bar, e.g. ``"fit starts"``.
    enabled
        False: no bar at all. The bar is also left out when stderr is not a terminal (CI logs, pipes).
    """

    def __init__(self, executor, label: str, *, enabled: bool = True) -> None:
        self.inner = executor
        self.label = label
        self.enabled = enabled
        self.workers = getattr(executor, "workers", 1)

    def __repr__(self) -> str:
        return f"ProgressExecutor({self.inner!r}, {self.label!r})"

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, return_exceptions: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """The inner executor's results, counted on the bar as they arrive."""
        items = list(items)
        bar = None
        if self.enabled and _stderr_is_terminal():
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc=self.label, unit="task", file=sys.stderr, dynamic_ncols=True)
        try:
            for index, result in self.inner.map_unordered(fn, items, return_exceptions=return_exceptions):
                if bar is not None:
                    bar.update(1)
                yield index, result
        finally:
            if bar is not None:
                bar.close()

    def close(self) -> None:
        """Nothing: the inner executor belongs to the caller."""

    def __enter__(self) -> ProgressExecutor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
