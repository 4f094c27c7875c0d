"""Exception hierarchy.

Every error a user can cause is a :class:`MekisimError`; the CLI turns those into a one-paragraph
message and exit code 1, and anything else is a bug that keeps its traceback. Subclasses also derive
from the builtin type a Python caller would expect (``ValueError`` for bad input, ``RuntimeError`` for a
failed simulation), so ``except ValueError`` works as usual.
"""

from __future__ import annotations

__all__ = [
    "MekisimError",
    "InputError",
    "ModelLoadError",
    "SimulationError",
    "describe_os_error",
]


class MekisimError(Exception):
    """Base class of every error mekisim raises on purpose."""


class InputError(MekisimError, ValueError):
    """Invalid user input: an unknown name, an out-of-range value, a malformed specification."""


class ModelLoadError(InputError):
    """A model file or text could not be read, parsed or compiled."""


class SimulationError(MekisimError, RuntimeError):
    """The integrator or steady-state solver failed (raised only with ``throw=True``)."""


def describe_os_error(exc: OSError, path: str | None = None) -> str:
    """An operating-system error as a sentence that names the path and says what to do.

    Why: ``[Errno 20] Not a directory: 'exs/wells/parts'`` tells a user neither which part of the path is
    wrong nor how to fix it. The meaning of the errno is kept (permission, a file where a folder is needed,
    a full disk, ...); ``path`` names the place when the error itself does not (Arrow's writers).

    Parameters
    ----------
    exc
        The error.
    path
        The file or folder the operation was on, when ``exc`` does not name one.

    Returns
    -------
    str
        One sentence, without the errno.
    """
    import errno
    import os
    import re
    from pathlib import Path

    number = exc.errno
    if number is None:  # Arrow: "[errno 28] No space left on device" inside the text
        match = re.search(r"\[errno (\d+)\]", str(exc), flags=re.IGNORECASE)
        number = int(match.group(1)) if match else None
    where = exc.filename if exc.filename is not None else path
    where = os.fsdecode(where) if where is not None else None
    shown = repr(where) if where is not None else "the output"
    if number == errno.ENOTDIR and where is not None:
        blocker = next((p for p in (*reversed(Path(where).parents), Path(where))
                        if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return (f"cannot use {shown}: {str(blocker)!r} is a file, not a folder. Rename or remove that file, or "
                    "choose another path (e.g. another --out folder).")
        return f"cannot use {shown}: a part of this path is a file, not a folder; choose another path."
    if number == errno.EEXIST:
        return (f"cannot create the folder {shown}: a file of that name exists. Rename or remove it, or choose "
                "another path (e.g. another --out folder).")
    if number in (errno.EACCES, errno.EPERM):
        return (f"permission denied for {shown}: this user may not read or write there. Choose a folder you can "
                "write to (e.g. another --out), or change the permissions.")
    if number in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return (f"no space left on the disk holding {shown} (disk full or quota exceeded). Free some space, or "
                "write to another disk (another --out).")
    if number == errno.EROFS:
        return f"{shown} is on a read-only file system; choose a writable folder (another --out)."
    if number == errno.ENOENT:
        return f"{shown} does not exist; check the path."
    if number == errno.EISDIR:
        return f"{shown} is a folder where a file is needed; give a file name."
    if number == errno.ENAMETOOLONG:
        return f"the path {shown} is too long for the file system; choose a shorter path."
    if number in (errno.EMFILE, errno.ENFILE):
        return "too many files are open at once (the system's limit); close other programs or raise `ulimit -n`."
    if number == errno.EIO:
        return f"input/output error at {shown}: the disk or network file system failed; check it and try again."
    reason = os.strerror(number) if number is not None else (exc.strerror or str(exc))
    return f"{reason} ({shown})." if where is not None else f"{reason}."
