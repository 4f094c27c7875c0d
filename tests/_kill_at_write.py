"""Run ``mekisim`` in child processes SIGKILLed at their k-th file write (for tests/test_output_folders.py).

Why a helper process: the test kills a real process (SIGKILL, no clean-up of any kind) at every write point of a
verb, tens of times per verb. Starting a fresh interpreter per kill costs ~2-5 s of imports; this process imports
mekisim once and forks a child per run (a fork of a process that has only imported modules, never of pytest).

Protocol: one JSON request per line on stdin, ``{"argv": [...], "kill_at": k or null}``; one JSON reply per line
on stdout, ``{"killed": bool, "code": int, "writes": n}``. In the child, every result file passes through
:func:`simulator.files._atomic.commit` (the rename of a finished temporary file onto its name); at the ``kill_at``-th
call the temporary file is cut to half its size (a write interrupted mid-way) and the child SIGKILLs itself
before the rename. ``writes`` counts the commits of a run that was not killed.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _child(argv: list[str], kill_at: int | None, count_fd: int) -> None:
    from simulator.cli import main
    from simulator.files import _atomic

    original = _atomic.commit
    calls = [0]

    def commit(tmp, path):
        calls[0] += 1
        if calls[0] == kill_at:
            size = os.path.getsize(tmp)
            with open(tmp, "r+b") as fh:
                fh.truncate(size // 2)
            os.kill(os.getpid(), signal.SIGKILL)
        original(tmp, path)

    _atomic.commit = commit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        code = main(argv)
    except BaseException:  # noqa: BLE001 - the parent reports it as code 99
        code = 99
    os.write(count_fd, f"{calls[0]}\n".encode())
    os._exit(code)


def main() -> None:
    import simulator
    import simulator.cli._analyses  # noqa: F401 - everything a verb needs, imported once before any fork
    import simulator.cli._verbs  # noqa: F401

    for name in simulator.__all__:  # the package loads its modules on first use: load them all now
        getattr(simulator, name)

    for line in sys.stdin:
        request = json.loads(line)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _child(request["argv"], request.get("kill_at"), write)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        with os.fdopen(read) as fh:
            text = fh.read().strip()
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        reply = {"killed": killed, "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
                 "writes": int(text) if text else None}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
