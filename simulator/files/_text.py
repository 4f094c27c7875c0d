"""Read a user's text file (CSV, TSV, TOML, model) and say plainly what is wrong with its encoding or separator.

Why: spreadsheet programs save "CSV" as UTF-16 ("Unicode text"), in a legacy code page (Windows-1252), or with
';' as the separator (European locales, where ',' is the decimal mark). Each used to surface as "not a
recognised CSV file" or a codec traceback text; the user needs to hear which of these it is and how to save
the file instead.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import InputError

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_text(path: str | Path, what: str) -> str:
    """The text of ``path``: UTF-8 (with or without a byte-order mark) or UTF-16/32 with a byte-order mark.

    A file with a byte-order mark is unambiguous, so it is read whatever its Unicode encoding. Anything else
    must be UTF-8; a file that is not is refused with the position of the first bad byte and how to save it.

    Parameters
    ----------
    path
        The file.
    what
        What kind of file it is (named in messages).

    Returns
    -------
    str
        Its text.

    Raises
    ------
    InputError
        The file cannot be read, or is neither UTF-8 nor marked UTF-16/32 (``what`` names it, e.g.
        "blot data file").
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {str(path)!r} could not be read: {exc.strerror or exc}.") from exc
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(f"{what} {str(path)!r} starts with a {encoding.upper()} byte-order mark but is not "
                                 f"valid {encoding.upper()} (byte {exc.start}); save it again as UTF-8.") from None
    if b"\x00" in data[:4096]:
        raise InputError(f"{what} {str(path)!r} looks like UTF-16 text without a byte-order mark (it has zero bytes "
                         "between the characters); save it as UTF-8 (in Excel: 'CSV UTF-8').")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{what} {str(path)!r} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
                         "(a legacy encoding such as Windows-1252 or Latin-1); save it as UTF-8 (in Excel: "
                         "'CSV UTF-8').") from None


def check_separator(header: str, path: str | Path, what: str, expected: str = ",") -> None:
    """Refuse a header line that is split by another separator than ``expected`` (a comma or a tab).

    A ';'-separated file from a European-locale spreadsheet, or a tab-separated one where a CSV is expected,
    has a single "column" named after the whole header; naming the separator is what the user needs.

    Parameters
    ----------
    header
        The file's header line.
    path
        The file (named in the message).
    what
        What kind of file it is (named in the message).
    expected
        The separator the file must use.

    Raises
    ------
    InputError
        The header is split by another separator (``;``, a tab or a comma).
    """
    names = {",": "commas", "\t": "tabs", ";": "semicolons"}
    if expected in header:
        return
    for sep in (";", "\t", ","):
        if sep != expected and sep in header:
            hint = " (a European-locale spreadsheet export; save it with ',' as the separator and '.' as the decimal " \
                   "mark)" if sep == ";" else ""
            raise InputError(f"{what} {str(path)!r} separates its columns with {names[sep]}, not {names[expected]}"
                             f"{hint}: header {header.strip()[:80]!r}.")
