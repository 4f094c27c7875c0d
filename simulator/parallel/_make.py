"""The executor for ``--workers N`` / ``--scheduler ADDR``."""

from __future__ import annotations

from ..errors import InputError
from ._base import Executor, SerialExecutor, _check_workers, default_workers
from ._dask import DaskExecutor
from ._process import ProcessExecutor

#: most local worker processes per core: more only wait for a core, and each holds its own model and imports
MAX_WORKERS_PER_CORE = 4


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers N`` / ``--scheduler ADDR``.

    A scheduler address wins (:class:`DaskExecutor`); otherwise ``workers`` (default
    :func:`default_workers`) local processes computing: this one and ``workers - 1`` pool processes
    (:class:`ProcessExecutor` with ``use_main_process=True``), and 1 worker is this process alone
    (:class:`SerialExecutor`).

    Parameters
    ----------
    workers
        Number of local processes computing (``None``: :func:`default_workers`).
    scheduler
        Address of a running dask scheduler (``tcp://host:8786``); wins over ``workers``.

    Returns
    -------
    Executor
        A :class:`SerialExecutor`, :class:`ProcessExecutor` or :class:`DaskExecutor`.
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
