"""HTML pieces of a report: tables that say when they are cut, images, links, and readers of stored files."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..files import RESUMABLE, read_csv, read_owner, read_parquet, write_table


def _remedy(folder: Path) -> str:
    """What to do about a damaged or missing result file in ``folder``."""
    try:
        owner = read_owner(folder)
    except InputError:
        owner = None
    again = f"`{' '.join(owner.command)}`" if owner is not None and owner.command else "the command that wrote it"
    if owner is not None and owner.verb in RESUMABLE:
        return (f"Rerun {again} with --resume: the tables of {str(folder)!r} are rebuilt from its finished chunks "
                "(or with --force to compute everything again).")
    return f"Rerun {again} with --force to write {str(folder)!r} again."


def _parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    return read_parquet(path, columns=columns, remedy=_remedy(path.parent))


def _csv(path: Path) -> pd.DataFrame:
    return read_csv(path, remedy=_remedy(path.parent))


def _img(path: Path, root: Path, alt: str) -> str:
    """The figure at ``path`` as an ``<img>`` with a relative ``src``, embedded when the page is written.

    ``_build._embed_images`` turns the ``src`` into a data URI; ``data-file`` keeps the file's name.
    """
    rel = html.escape(str(path.relative_to(root)))
    return f"<p><img src='{rel}' alt='{html.escape(alt)}' data-file='{rel}'></p>"


def _safe_id(folder: Path, root: Path, stem: str) -> str:
    """A unique, HTML-safe element id for an interactive figure (from its folder and a file stem)."""
    text = f"fig-{folder.relative_to(root)}-{stem}"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def _link(path: Path, root: Path) -> str:
    rel = html.escape(str(path.relative_to(root)))
    return f"<a href='{rel}'>{rel}</a>"


_FA = "fraction affected"
#: column -> unit shown in report table headers, for columns whose name does not carry it
HEADER_UNITS = {
    "fa": _FA, "fa_level": _FA, "fraction_affected": _FA, "CI": "1", "ci": "1", "dri_a": "1", "dri_b": "1",
    "normalised_dose": "sum of dose/IC50", "perk_suppression": "fraction of DMSO",
    "fraction_of_members_reaching_target": "fraction", "probability_of_synergy": "fraction", "members": "count",
    "nllh": "negative log-likelihood", "delta_nllh": "negative log-likelihood", "nlprior": "negative log-prior",
    "nlpost": "negative log-posterior", "delta_nlpost": "negative log-posterior", "n_fev": "count",
    "n_solves": "count", "rank": "", "start": "", "member": "", "n_used": "count",
    **{f"{score}_{kind}": _FA for score in ("bliss", "hsa", "loewe", "zip") for kind in ("mean", "msa")},
}
#: columns whose unit is the row's ``unit`` column (long tables that mix quantities)
_PER_ROW = ("value", "median", "q05", "q95", "conf", "low", "high", "nominal", "estimate")
#: name endings that already state a unit
_UNIT_SUFFIXES = ("_nM", "_uM", "_s", "_min", "_h", "_d", "_pct", "_fa", "_fraction", "_count")


def header_with_unit(column: str, has_unit_column: bool) -> str:
    """A table header with its unit: ``fa [fraction affected]``, ``value [see unit]``.

    Unchanged when the name states its unit (``dose_a_nM``, ``time_min``) or the column is text (cell_line ...).
    """
    if column.endswith(_UNIT_SUFFIXES):
        return column
    if column in HEADER_UNITS:
        unit = HEADER_UNITS[column]
        return f"{column} [{unit}]" if unit else column
    if has_unit_column and column in _PER_ROW:
        return f"{column} [see unit]"
    return column


def _table(frame: pd.DataFrame, max_rows: int = 40, *, full: Path | None = None, root: Path | None = None,
           what: str = "", units: dict[str, str] | None = None) -> str:
    """An HTML table of at most ``max_rows`` rows; a cut table says "showing N of M rows" and links ``full``.

    ``full`` is the file holding every row (the table itself, or the one it was selected from; ``what`` says
    which rows of it, e.g. " for S462"). Why: a table cut without a word hid every cell line but the first.
    """
    if frame.empty:
        return "<p><em>(empty)</em></p>"
    shown = frame.head(max_rows)
    units = units or {}
    shown = shown.rename(columns={c: f"{c} [{units[c]}]" if c in units else header_with_unit(str(c), "unit" in frame)
                                  for c in shown.columns})
    table = shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
    if len(frame) <= max_rows:
        return table
    link = f"; every row: {_link(full, root)}" if full is not None and root is not None else ""
    return f"<p class='cut'>showing {max_rows} of {len(frame)} rows{html.escape(what)}{link}</p>{table}"


def _per_line(frame: pd.DataFrame, max_rows: int, *, full: Path | None, root: Path,
              lines: list[str] | None = None, units: dict[str, str] | None = None) -> str:
    """One table per cell line (a heading each) when ``frame`` has several; each cut to ``max_rows``, with a note.

    Why: long tables sorted by cell line showed only the first line's rows.
    """
    if frame.empty or "cell_line" not in frame or frame["cell_line"].nunique() < 2:
        return _table(frame, max_rows, full=full, root=root, units=units)
    present = list(dict.fromkeys(frame["cell_line"].astype(str)))
    known = [line for line in (lines or []) if line in present]
    order = known + [line for line in present if line not in known]
    parts = []
    for line in order:
        sub = frame[frame["cell_line"].astype(str) == line]
        parts.append(f"<h4>{html.escape(line)}</h4>" + _table(sub, max_rows, full=full, root=root, what=f" for {line}",
                                                              units=units))
    return "".join(parts)


def _derived(frame: pd.DataFrame, folder: Path, name: str, max_rows: int) -> Path | None:
    """A table computed for the report, saved as ``folder/report_tables/name.csv`` when it will be cut."""
    if len(frame) <= max_rows:
        return None
    return write_table(frame, folder / "report_tables" / f"{name}.csv")


def _manifest_block(manifest: dict) -> str:
    keep = {k: manifest.get(k) for k in ("created", "command", "git_revision", "counts", "timings_s", "models")}
    return f"<details><summary>manifest</summary><pre>{html.escape(json.dumps(keep, indent=1))}</pre></details>"
