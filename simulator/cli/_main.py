"""The ``mekisim`` command line: thin parse -> call -> write wrappers over the public API.

Exit codes (architecture.md): 0 ok, 1 failed run or invalid input (a one-paragraph message naming what
is wrong and what would be valid), 2 usage error. A user error never prints a traceback unless
``--debug`` is given; an unexpected exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import MekisimError, describe_os_error
from ..files import cli_command
from ._analyses import _fit, _screen, _sensitivity
from ._export import _export
from ._parser import _attach_dash_values, build_parser
from ._teach import _teach
from ._verbs import _demo, _dose_response, _models, _report, _simulate, _validate

#: verb -> the function that runs it (its parser is :data:`simulator.cli._parser.VERBS`' entry of that name)
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "models": _models, "simulate": _simulate, "dose-response": _dose_response, "screen": _screen,
    "sensitivity": _sensitivity, "fit": _fit, "report": _report, "validate": _validate, "demo": _demo,
    "teach": _teach, "export": _export,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (so tests and notebooks can call it in-process).

    Parameters
    ----------
    argv
        The arguments after ``mekisim`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 ok, 1 a failed run or invalid input (the message is on stderr), 2 a usage error, 130 interrupted,
        143 terminated.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(_attach_dash_values(parser, argv))
    except SystemExit as exc:  # argparse: --help exits 0, usage errors exit 2
        return int(exc.code or 0)
    args.invocation = cli_command(argv)  # recorded in every manifest, however mekisim was started
    previous = _catch_sigterm()
    try:
        return HANDLERS[args.command](args)
    except MekisimError as exc:
        if args.debug:
            raise
        print(f"mekisim {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # unwritable or full disk, a file where a folder should be, ...: a sentence, no errno
        if args.debug:
            raise
        out = getattr(args, "out", None)
        print(f"mekisim {args.command}: error: {describe_os_error(exc, str(out) if out else None)}"
              f"{_resume_hint(args)}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminated) as exc:  # a message, not a traceback; what is on disk stays there
        if args.debug:
            raise
        resumable = getattr(args, "resume", None) is not None and getattr(args, "out", None)
        hint = (f"; the finished chunks are kept in {args.out}: run the same command with --resume to continue"
                if resumable else "")
        what = "terminated (SIGTERM)" if isinstance(exc, _Terminated) else "interrupted"
        print(f"mekisim {args.command}: {what}{hint}", file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _resume_hint(args: argparse.Namespace) -> str:
    """After a failure mid-run: where the finished chunks are and how to continue (screen, sensitivity)."""
    out = getattr(args, "out", None)
    if getattr(args, "resume", None) is None or not out:
        return ""
    if not any((Path(out) / sub / "parts").is_dir() for sub in ("wells", "synergy", "evaluations")):
        return ""
    return (f" The finished chunks are kept in {out}: once this is fixed, run the same command with --resume to "
            "continue.")


class _Terminated(BaseException):
    """SIGTERM as an exception (not an ``Exception``: no chunk may record it as its own failure)."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated


def _catch_sigterm():
    """Turn SIGTERM (``kill``, a batch scheduler's time limit) into :class:`_Terminated` while a command runs.

    Why: by default SIGTERM ends the process at once, leaving its pool's worker processes behind; raised as
    an exception it unwinds through the executors' ``with`` blocks, which terminate their workers. Only when
    SIGTERM has its default action and this is the main thread (an embedding program's handler is kept);
    returns the handler to restore, or ``None``.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)
