"""Result files written whole or not at all, and read back with a message that names a damaged file.

Every result file is written to a temporary file in the same folder, flushed and renamed onto its name
(``os.replace``); :func:`commit` is the one place a result file appears. Why: ``docs/notes/files.md``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InputError

#: suffix of the temporary files of :func:`atomic_path` (hidden: ``.NAME.PID.tmp``)
TMP_SUFFIX = ".tmp"


def commit(tmp: Path, path: Path) -> None:
    """Rename the finished temporary file ``tmp`` onto ``path`` (atomic: ``path`` is the old or the new file)."""
    os.replace(tmp, path)


def _temporary(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}{TMP_SUFFIX}"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; on success it becomes ``path``, on error it is removed.

    The caller writes the whole file to the yielded path (any writer: Arrow, pandas, matplotlib with an
    explicit ``format``); the file is flushed to disk (``fsync``) before the rename, so a crash of the machine
    cannot leave the new name with a half-written content either. The parent folder must exist. An
    ``OSError`` that names no file (Arrow's writers) or the temporary file is re-raised naming ``path``.

    Parameters
    ----------
    path
        The file to write.

    Yields
    ------
    pathlib.Path
        The temporary path to write to (``.NAME.PID.tmp`` in the same folder).
    """
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        _fsync(tmp)
        commit(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and (not exc.filename or os.fsdecode(exc.filename) == str(tmp)):
            raise _with_path(exc, path) from exc  # the user's file name, not the hidden temporary one
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _with_path(exc: OSError, path: Path) -> OSError:
    """``exc`` with ``path`` as its file name; its errno from the text when Arrow gave none ("[errno 28] ...")."""
    number = exc.errno
    if number is None:
        match = re.search(r"\[errno (\d+)\]", str(exc), flags=re.IGNORECASE)
        number = int(match.group(1)) if match else None
    if number is None:
        return OSError(f"{exc} ({path})")
    return OSError(number, os.strerror(number), str(path))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`); return ``path``.

    Parameters
    ----------
    path
        The file.
    data
        Its whole content.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``.

    Parameters
    ----------
    path
        The file.
    text
        Its whole content.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(folder: str | Path) -> None:
    """Remove the temporary files a killed run left in ``folder`` (never anything else).

    Parameters
    ----------
    folder
        The folder (not searched recursively).
    """
    folder = Path(folder)
    if folder.is_dir():
        for stale in folder.glob(f".*{TMP_SUFFIX}"):
            if stale.is_file():
                stale.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ reading


def damaged_error(path: Path, what: str, exc: BaseException, remedy: str = "") -> InputError:
    """The :class:`InputError` for a file that could not be read as ``what`` (Parquet, CSV, JSON): names it.

    Parameters
    ----------
    path
        The file.
    what
        What it should have been (``"Parquet"``, ``"CSV"``, ``"JSON"``).
    exc
        The reader's exception.
    remedy
        What to do about it (appended to the message).

    Returns
    -------
    InputError
        The error to raise.
    """
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path} is missing. {remedy}".strip())
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path} is a folder, not a {what} file. {remedy}".strip())
    if isinstance(exc, PermissionError):
        return InputError(f"{path} cannot be read (permission denied); change its permissions. {remedy}".strip())
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return InputError(f"{path} is not a readable {what} file ({reason}): it is damaged or was cut short (a run "
                      f"killed while writing it, or a full disk). {remedy}".strip())


def read_parquet(path: str | Path, columns: list[str] | None = None, *, remedy: str = ""):
    """``pandas.read_parquet(path, columns)``; a missing or damaged file is an :class:`InputError` naming it.

    Parameters
    ----------
    path
        The Parquet file.
    columns
        Read only these columns (default all).
    remedy
        What to do when it is damaged (appended to the message).

    Returns
    -------
    pandas.DataFrame
        Its table.
    """
    import pandas as pd
    import pyarrow as pa

    path = Path(path)
    try:
        return pd.read_parquet(path, columns=columns)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise damaged_error(path, "Parquet", exc, remedy) from exc


def read_csv(path: str | Path, *, remedy: str = ""):
    """``pandas.read_csv(path)``; a missing or damaged file is an :class:`InputError` naming it.

    Parameters
    ----------
    path
        The CSV file.
    remedy
        What to do when it is damaged (appended to the message).

    Returns
    -------
    pandas.DataFrame
        Its table.
    """
    import pandas as pd

    path = Path(path)
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:  # pandas' ParserError, EmptyDataError and UnicodeDecodeError are ValueErrors
        raise damaged_error(path, "CSV", exc, remedy) from exc


def read_json(path: str | Path, *, remedy: str = "") -> Any:
    """The JSON document in ``path``; a missing or damaged file is an :class:`InputError` naming it.

    Parameters
    ----------
    path
        The JSON file.
    remedy
        What to do when it is damaged (appended to the message).

    Returns
    -------
    Any
        The parsed document.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): it is "
                         f"damaged or was edited by hand. {remedy}".strip()) from exc
    except (OSError, ValueError) as exc:
        raise damaged_error(path, "JSON", exc, remedy) from exc
