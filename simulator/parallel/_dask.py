"""Tasks on a Dask distributed cluster (``--scheduler tcp://HOST:8786``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from ..errors import InputError
from ._base import _BaseExecutor

#: seconds without a single worker on the scheduler, while tasks wait, before a warning is printed
NO_WORKER_WARNING_S = 10.0


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
    no_worker_warning_s
        While a map waits, a warning goes to stderr once the scheduler has had no worker this long.

    The workers must be able to import ``fn``'s module and ``simulator`` (same versions as here). Tasks
    get random keys (``pure=False``): Dask does not hash the items, and two equal items still run twice.
    The client is closed on exit.
    """

    def __init__(self, address: str, *, timeout: float = 10.0, max_in_flight: int | None = None,
                 no_worker_warning_s: float = NO_WORKER_WARNING_S) -> None:
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
        self.no_worker_warning_s = no_worker_warning_s
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
        pending: dict[Hashable, tuple[int, Any]] = {}
        stream = as_completed(loop=client.loop)

        def fill() -> None:
            while len(pending) < window:
                nxt = next(source, None)
                if nxt is None:
                    return
                future = client.submit(fn, nxt[1], pure=False)
                pending[future.key] = (nxt[0], future)
                stream.add(future)

        done = threading.Event()
        watchdog = threading.Thread(target=self._warn_without_workers, args=(done,), daemon=True,
                                    name="mekisim-dask-no-workers")
        watchdog.start()
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
            done.set()
            if pending:
                client.cancel([f for _, f in pending.values()])

    def _warn_without_workers(self, done: threading.Event) -> None:
        """Warn on stderr (once per map) while the scheduler has had no worker for ``no_worker_warning_s``.

        Why: tasks submitted to a scheduler without workers wait forever without a word; a user who forgot
        `dask worker` (or whose workers died) should learn it within seconds, not find a stalled run later.
        """
        step = min(1.0, self.no_worker_warning_s / 4)
        waited = 0.0
        while not done.wait(step):
            try:
                threads = self._threads()
            except Exception:  # noqa: BLE001 - a closing client: nothing left to watch
                return
            waited = waited + step if threads == 0 else 0.0
            if waited >= self.no_worker_warning_s:
                sys.stderr.write(f"mekisim: warning: the Dask scheduler at {self.address} has had no workers for "
                                 f"{waited:.0f} s, so no task can run; start workers with `dask worker "
                                 f"{self.address}` (the run continues as soon as one connects; Ctrl-C stops it)\n")
                sys.stderr.flush()
                return

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
