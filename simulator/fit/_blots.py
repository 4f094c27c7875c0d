"""Western-blot data: read and validate the two file shapes (lanes, summaries), every problem at once."""

from __future__ import annotations

import csv
import io
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..files import check_separator, read_text
from ..model import DEFAULTS_LABEL, CellLine, CompiledModel, Drug, load_cell_lines, load_drugs, load_model
from ..status import Issue
from ..units import parse_time

#: required columns of the lane-densitometry shape (``loading`` and ``<drug>_nM`` columns are optional)
LANE_COLUMNS = ("gel_id", "lane", "cell_line", "time", "target", "phospho", "total")


_LANE_OPTIONAL = ("loading",)


#: required columns of the ratio-summary shape (``blot_id`` and ``<drug>_nM`` columns are optional)
SUMMARY_COLUMNS = ("cell_line", "condition", "time", "observable", "mean", "sem", "n")


_SUMMARY_OPTIONAL = ("blot_id",)


_DOSE_SUFFIX = "_nM"


#: columns of :attr:`BlotData.table` (followed by one dose column per drug, named by the drug id, in nM)
TABLE_COLUMNS = ("cell_line", "condition", "time_h", "observable", "value", "sem", "n", "blot_id",
                 "replicate", "row")


_BASAL = "DMSO"  # condition label of lanes without drug


_TARGET_LABEL = re.compile(r"^\s*p-([A-Za-z0-9]+)\s*/\s*([A-Za-z0-9]+)\b")


class BlotDataError(InputError):
    """A blot data file with one or more problems; :attr:`problems` lists every one of them (:class:`Issue`)."""

    def __init__(self, path: str, problems: Sequence[Issue]) -> None:
        self.problems = tuple(problems)
        lines = "\n  ".join(f"{p.where}: {p.text}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in blot data file {path}:\n  {lines}")


@dataclass(frozen=True, eq=False)
class BlotData:
    """Validated western-blot data as a tidy ratio table (one row per measurement).

    Attributes
    ----------
    source
        The file it was read from.
    shape
        ``"lanes"`` (lane densitometry, one row per lane and target) or ``"summary"`` (mean, sem, n).
    model
        Name of the model the file was validated against (observable ids refer to it).
    drugs
        Drug ids with a dose column in the file (their doses are table columns, nM).
    table
        Columns :data:`TABLE_COLUMNS` + ``drugs``. ``value`` is the normalised ratio of one lane
        (lanes) or the mean (summaries); ``sem`` is NaN for lanes; ``n`` is 1 for a lane;
        ``blot_id`` is the gel (lanes) or the optional ``blot_id`` column (summaries, else "");
        ``replicate`` is the lane id (lanes) or "" ; ``row`` the line number in the file. Treat it
        as read-only.
    notes
        The file's ``#`` comment lines (provenance; "representative, not digitized" where it applies).
    reference_line
        Lanes: the cell line whose undrugged lanes every gel was normalised to; ``None`` for summaries.
    """

    source: str
    shape: str
    model: str
    drugs: tuple[str, ...]
    table: pd.DataFrame = field(repr=False)
    notes: str = ""
    reference_line: str | None = None

    @property
    def observables(self) -> tuple[str, ...]:
        """Observable ids present, in first-seen order."""
        return tuple(dict.fromkeys(self.table["observable"]))

    @property
    def cell_lines(self) -> tuple[str, ...]:
        """Cell lines present, in first-seen order."""
        return tuple(dict.fromkeys(self.table["cell_line"]))

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table` (safe to modify)."""
        return self.table.copy()


def _shape_of(columns: Sequence[str]) -> str | None:
    cols = set(columns)
    if {"gel_id", "phospho", "total"} & cols or ("lane" in cols and "target" in cols):
        return "lanes"
    if {"mean", "sem", "observable"} & cols:
        return "summary"
    return None


def blot_shape(path: str | Path) -> str | None:
    """``"lanes"``, ``"summary"`` or ``None``: which blot shape the header of ``path`` has (no validation).

    Lets ``mekisim validate`` decide whether a CSV file is blot data before reading it.

    Parameters
    ----------
    path
        A CSV file.

    Returns
    -------
    str or None
        The shape, or None when the header is neither.
    """
    try:
        _, header, _ = _split_file(read_text(path, "blot data file"))
    except InputError:
        return None
    return _shape_of(header[1]) if header else None


def blot_file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a blot CSV at all (encoding, separator), in words; None if it can.

    Parameters
    ----------
    path
        A CSV file.

    Returns
    -------
    str or None
        The problem, or None.
    """
    try:
        _, header, _ = _split_file(read_text(path, "blot data file"))
        if header is not None:
            check_separator(",".join(header[1]), path, "blot data file")
    except InputError as exc:
        return str(exc)
    return None


def _split_file(text: str) -> tuple[list[str], tuple[int, list[str]] | None, list[tuple[int, list[str]]]]:
    """Comment lines, the header (line number, cells) and the data rows (line number, cells)."""
    notes, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            notes.append(stripped.lstrip("#").strip())
            continue
        cells = next(csv.reader(io.StringIO(line), skipinitialspace=True))
        rows.append((number, [c.strip() for c in cells]))
    if not rows:
        return notes, None, []
    return notes, rows[0], rows[1:]


def observable_for_target(model: CompiledModel) -> dict[str, str]:
    """Protein target (upper case) -> observable id, from labels ``p-<TARGET>/<TARGET> ...`` of the model.

    Why labels: the model's metadata (``models/<name>.toml``) is the one place that says which
    observable a phospho/total western measures, so a new model (Model B) needs no code change here.

    Parameters
    ----------
    model
        The model whose observables are searched.

    Returns
    -------
    dict
        Target -> observable id, for every observable labelled as a phospho/total ratio.
    """
    out = {}
    for obs in model.observables:
        match = _TARGET_LABEL.match(obs.label)
        if match and match.group(1).upper() == match.group(2).upper():
            out[match.group(1).upper()] = obs.id
    return out


def _parental_line(model: CompiledModel, lines: Mapping[str, CellLine]) -> str | None:
    """The model's reference line: ``reference_cell_line`` of its metadata, else its only override-free line."""
    meta = Path(model.source).with_suffix(".toml")
    if meta.is_file():
        try:
            ref = tomllib.loads(meta.read_text(encoding="utf-8")).get("reference_cell_line")
        except (OSError, tomllib.TOMLDecodeError):
            ref = None
        if isinstance(ref, str) and ref in lines:
            return ref
    plain = [k for k, v in lines.items() if v.model == model.name and not v.set and not v.scale]
    return plain[0] if len(plain) == 1 else None


def _accepted_drugs(model: CompiledModel | None, catalog: Mapping[str, Drug]) -> tuple[str, ...]:
    """Drug ids a dose column may name: catalogue drugs the model has a dose parameter for.

    Mirrors ``conditions.accepted_drugs`` (same layer, which import-linter keeps independent).
    """
    if model is None:
        return tuple(catalog)
    added = {p[len("IC50_"):] for p in model.parameters if p.startswith("IC50_")}
    return tuple(d for d in (*catalog, *sorted(added - set(catalog))) if d in model.parameters)


class _Collector:
    """Collects the problems (:class:`Issue`) of one file; the reader keeps going after each one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Issue] = []

    def add(self, row: int, column: str, what: str, valid: str) -> None:
        self.items.append(Issue(self.path, "error", what, row=row, column=column, valid=valid))

    def number(self, row: int, column: str, text: str, *, positive: bool = False) -> float | None:
        """Parse a finite number >= 0 (> 0 with ``positive``); record a problem and return None if not."""
        valid = "a number > 0" if positive else "a number >= 0"
        if text == "":
            self.add(row, column, "empty cell", valid)
            return None
        try:
            value = float(text)
        except ValueError:
            self.add(row, column, f"{text!r} is not a number", valid)
            return None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            why = "not finite" if not math.isfinite(value) else "negative" if value < 0 else "zero"
            self.add(row, column, f"{column} {text!r} is {why}", valid)
            return None
        return value


def read_blot_data(
    path: str | Path,
    model: CompiledModel | None = None,
    *,
    reference_line: str | None = None,
    catalog: Mapping[str, Drug] | None = None,
    lines: Mapping[str, CellLine] | None = None,
) -> BlotData:
    """Read a blot data file of either shape, validating everything, and return the tidy table.

    Parameters
    ----------
    path
        A CSV file (lane densitometry or ratio summaries; detected from the header).
    model
        The model the data are for. ``None``: the bundled model that the file's cell lines belong to
        (``CellLine.model`` in ``cell_lines.toml``).
    reference_line
        Lanes only: the cell line whose drug-free lanes normalise each gel; default the model's
        parental line (``reference_cell_line`` in the model metadata, else its line without overrides).
    catalog, lines
        Drug catalogue and cell lines; default to the bundled files.

    Returns
    -------
    BlotData

    Raises
    ------
    BlotDataError
        Listing every problem: missing, unknown or duplicated columns; empty, non-numeric or negative
        values; unknown cell lines, drugs, targets or observables (for the model); ``sem <= 0``;
        ``n`` not an integer >= 1; unparsable times; duplicated lanes or summary rows; a lane whose
        cell line, time or doses differ between targets; one condition label with two dose sets; a gel
        without its reference lane for a target.
    InputError
        The file cannot be read.
    """
    path = Path(path)
    name = str(path)
    text = read_text(path, "blot data file")
    catalog = load_drugs() if catalog is None else catalog
    lines = with_defaults_line(model, load_cell_lines() if lines is None else lines)
    problems = _Collector(name)
    notes, header_row, columns, body = _header(text, path, problems)
    shape = _shape_of(columns)
    if model is None:
        model = _infer_model(body, columns, lines, problems, header_row)
    accepted = _accepted_drugs(model, catalog)
    lineless = model is not None and _lines_of(model, lines) == (DEFAULTS_LABEL,)
    drug_cols = _check_header(shape, columns, accepted, problems, header_row, model, lineless=lineless)
    records = _parse_rows(shape, columns, body, drug_cols, model, lines, problems)
    if shape == "lanes":
        ref = _reference_line(reference_line, model, lines, problems, header_row)
        table = _normalise_lanes(records, ref, tuple(drug_cols.values()), problems) if ref else None
    else:
        ref = None
        table = _summary_table(records, tuple(drug_cols.values()), problems)
    if problems.items:
        raise BlotDataError(name, sorted(problems.items, key=lambda p: p.row))
    return BlotData(
        source=name,
        shape=shape,
        model=model.name,
        drugs=tuple(drug_cols.values()),
        table=table,
        notes="\n".join(notes),
        reference_line=ref,
    )


def _header(text: str, path: Path, problems: _Collector) -> tuple[list[str], int, list[str], list]:
    """``(comment lines, header row number, columns, data rows)``; a file without a usable header raises."""
    notes, header, body = _split_file(text)
    if header is None:
        problems.add(1, "*", "the file has no header row", _shape_help())
        raise BlotDataError(problems.path, problems.items)
    header_row, columns = header
    check_separator(",".join(columns), path, "blot data file")
    if _shape_of(columns) is None:
        problems.add(header_row, "*", f"the header ({', '.join(columns)}) is neither blot shape", _shape_help())
        raise BlotDataError(problems.path, problems.items)
    if not body:
        problems.add(header_row, "*", "the file has a header but no data rows", "one row per lane or summary")
    return notes, header_row, columns, body


def _reference_line(reference_line: str | None, model: CompiledModel | None, lines: Mapping[str, CellLine],
                    problems: _Collector, header_row: int) -> str | None:
    """The cell line whose drug-free lanes normalise each gel (a problem is recorded when there is none)."""
    ref = reference_line
    if ref is None and model is not None:
        ref = _parental_line(model, lines)
    if ref is None and model is not None:
        problems.add(header_row, "cell_line", "no reference line to normalise the gels to",
                     "pass reference_line=<a cell line> (the model metadata has no reference_cell_line)")
    elif model is not None and ref not in _lines_of(model, lines):
        problems.add(header_row, "cell_line", f"reference line {ref!r} is not a cell line of model "
                     f"{model.name!r}", ", ".join(_lines_of(model, lines)))
    return ref


def _shape_help() -> str:
    return (f"lane densitometry ({', '.join(LANE_COLUMNS)}[, loading][, <drug>_nM...]) or ratio summaries "
            f"({', '.join(SUMMARY_COLUMNS)}[, blot_id][, <drug>_nM...])")


def _lines_of(model: CompiledModel, lines: Mapping[str, CellLine]) -> tuple[str, ...]:
    return tuple(k for k, v in lines.items() if v.model == model.name)


def with_defaults_line(model: CompiledModel | None, lines: Mapping[str, CellLine]) -> Mapping[str, CellLine]:
    """``lines`` plus, for a model without bundled cell lines, the line ``model_defaults`` (its own values).

    Why: a user's model has no cell lines, yet blot rows, conditions and ``--estimate`` are per line; one line
    without overrides is exactly "the model as written". A blot file for such a model may leave out the
    ``cell_line`` column.

    Parameters
    ----------
    model
        The model (``None``: ``lines`` unchanged).
    lines
        Cell lines by name.

    Returns
    -------
    Mapping
        ``lines``, with ``model_defaults`` added when the model has no line of its own.
    """
    if model is None or _lines_of(model, lines):
        return lines
    return {**lines, DEFAULTS_LABEL: CellLine(DEFAULTS_LABEL, model.name, "the model's own parameter values")}


def _infer_model(
    body: list[tuple[int, list[str]]], columns: list[str], lines: Mapping[str, CellLine], problems: _Collector,
    header_row: int,
) -> CompiledModel | None:
    """The bundled model of the file's (known) cell lines; None (with a problem) when there is not one."""
    if "cell_line" not in columns:
        return None
    index = columns.index("cell_line")
    used = {cells[index] for _, cells in body if index < len(cells)}
    models = sorted({lines[c].model for c in used if c in lines})
    if len(models) > 1:
        problems.add(header_row, "cell_line", f"the cell lines belong to different models ({', '.join(models)})",
                     "cell lines of one model per file")
        return None
    return load_model(models[0]) if models else None


def _check_header(
    shape: str, columns: list[str], accepted: tuple[str, ...], problems: _Collector, row: int,
    model: CompiledModel | None, *, lineless: bool = False,
) -> dict[str, str]:
    """Check the column names; return dose column -> drug id for the valid dose columns.

    ``lineless``: the model has no cell lines, so ``cell_line`` is optional (rows are its own values).
    """
    required = LANE_COLUMNS if shape == "lanes" else SUMMARY_COLUMNS
    optional = _LANE_OPTIONAL if shape == "lanes" else _SUMMARY_OPTIONAL
    if lineless:
        required = tuple(c for c in required if c != "cell_line")
        optional = (*optional, "cell_line")
    valid_cols = f"{', '.join(required)}, optional {', '.join(optional)} and <drug>_nM dose columns"
    for col in required:
        if col not in columns:
            problems.add(row, col, f"required column {col!r} is missing", valid_cols)
    seen: set[str] = set()
    drug_cols = {}
    where = f"model {model.name!r}" if model is not None else "the drug catalogue"
    for col in columns:
        if col in seen:
            problems.add(row, col, f"column {col!r} appears twice", "each column once")
        seen.add(col)
        if col in required or col in optional:
            continue
        if col.endswith(_DOSE_SUFFIX):
            drug = col[: -len(_DOSE_SUFFIX)]
            if drug in accepted:
                drug_cols[col] = drug
            else:
                problems.add(row, col, f"unknown drug {drug!r} for {where}",
                             f"{', '.join(d + _DOSE_SUFFIX for d in accepted)}")
        else:
            problems.add(row, col or "(empty)", f"unknown column {col!r}", valid_cols)
    return drug_cols


@dataclass(frozen=True)
class _Record:
    """One parsed, valid-so-far data row (fields that failed to parse are None)."""

    row: int
    cells: Mapping[str, str]
    cell_line: str | None
    time_h: float | None
    doses: tuple[float | None, ...]
    observable: str | None
    numbers: Mapping[str, float | None]


def _parse_rows(
    shape: str,
    columns: list[str],
    body: list[tuple[int, list[str]]],
    drug_cols: Mapping[str, str],
    model: CompiledModel | None,
    lines: Mapping[str, CellLine],
    problems: _Collector,
) -> list[_Record]:
    valid_lines = _lines_of(model, lines) if model is not None else tuple(lines)
    targets = observable_for_target(model) if model is not None else {}
    obs_ids = model.observable_ids if model is not None else ()
    out = []
    for row, cells in body:
        if len(cells) != len(columns):
            problems.add(row, "*", f"{len(cells)} field(s) in a {len(columns)}-column file",
                         "one value per header column (quote values that contain commas)")
            continue
        get = dict(zip(columns, cells, strict=True))
        line = get.get("cell_line", DEFAULTS_LABEL if valid_lines == (DEFAULTS_LABEL,) else "")
        if "cell_line" in get and line not in valid_lines:
            scope = f" of model {model.name!r}" if model is not None else ""
            problems.add(row, "cell_line", f"unknown cell line {line!r}{scope}", ", ".join(valid_lines))
            line = None
        time_h = None
        if "time" in get:
            try:
                time_h = parse_time(get["time"], model_unit="h", what="time")
                if time_h < 0:
                    raise InputError("negative")
            except InputError:
                time_h = None
                problems.add(row, "time", f"{get['time']!r} is not a time >= 0",
                             "a number of hours, or a number with a unit s, min, h or d (e.g. 30min)")
        doses = tuple(problems.number(row, col, get[col]) for col in drug_cols)
        observable = _observable(shape, get, row, targets, obs_ids, model, problems)
        numbers: dict[str, float | None] = {}
        if shape == "lanes":
            numbers["phospho"] = problems.number(row, "phospho", get["phospho"]) if "phospho" in get else None
            numbers["total"] = problems.number(row, "total", get["total"], positive=True) if "total" in get else None
            if "loading" in get:
                problems.number(row, "loading", get["loading"], positive=True)
            for col in ("gel_id", "lane"):
                if col in get and not get[col]:
                    problems.add(row, col, "empty cell", "a gel/lane label")
        else:
            numbers["mean"] = problems.number(row, "mean", get["mean"]) if "mean" in get else None
            numbers["sem"] = problems.number(row, "sem", get["sem"], positive=True) if "sem" in get else None
            numbers["n"] = _count(row, get.get("n"), problems) if "n" in get else None
            if "condition" in get and not get["condition"]:
                problems.add(row, "condition", "empty cell", "a condition label (e.g. DMSO)")
        out.append(_Record(row, get, line, time_h, doses, observable, numbers))
    return out


def _observable(
    shape: str, get: Mapping[str, str], row: int, targets: Mapping[str, str], obs_ids: tuple[str, ...],
    model: CompiledModel | None, problems: _Collector,
) -> str | None:
    """Observable id of a row: from ``target`` (lanes) or ``observable`` (summaries: id or target)."""
    column = "target" if shape == "lanes" else "observable"
    if column not in get:
        return None
    text = get[column]
    if model is None:
        return text or None  # cannot be checked without a model (the cell-line problem says why)
    if text.upper() in targets:
        return targets[text.upper()]
    if shape == "summary" and text in obs_ids:
        return text
    valid = ", ".join(f"{t} ({o})" for t, o in targets.items())
    if shape == "summary":
        valid = f"an observable id of model {model.name!r} ({', '.join(obs_ids)}) or a target: {valid}"
    problems.add(row, column, f"unknown {column} {text!r} for model {model.name!r}", valid or "none")
    return None


def _count(row: int, text: str | None, problems: _Collector) -> int | None:
    try:
        value = float(text or "")
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 1 and value.is_integer()):
        problems.add(row, "n", f"{text!r} is not a whole number >= 1", "the number of replicates, e.g. 3")
        return None
    return int(value)


def _condition_label(drugs: tuple[str, ...], doses: tuple[float, ...]) -> str:
    parts = [f"{d}_{_fmt(x)}nM" for d, x in zip(drugs, doses, strict=True) if x > 0]
    return "+".join(parts) or _BASAL


def _fmt(x: float) -> str:
    return f"{x:g}"


def _normalise_lanes(
    records: list[_Record], ref: str, drugs: tuple[str, ...], problems: _Collector
) -> pd.DataFrame | None:
    """Per lane: (phospho/total) / mean reference ratio of the same gel and target."""
    lanes: dict[tuple[str, str], _Record] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for rec in records:
        gel, lane = rec.cells.get("gel_id", ""), rec.cells.get("lane", "")
        key = (gel, lane, rec.cells.get("target", "").upper())
        if key in seen:
            problems.add(rec.row, "lane", f"gel {gel!r} lane {lane!r} target {key[2]!r} already given on row "
                         f"{seen[key]}", "one row per gel, lane and target")
        else:
            seen[key] = rec.row
        first = lanes.setdefault((gel, lane), rec)
        for col in ("cell_line", "time", *(d + _DOSE_SUFFIX for d in drugs)):
            if first is not rec and first.cells.get(col) != rec.cells.get(col):
                problems.add(rec.row, col, f"lane {lane!r} of gel {gel!r} has {col} {rec.cells.get(col)!r} here "
                             f"but {first.cells.get(col)!r} on row {first.row}",
                             "the same lane content for every target")
    # reference lanes: every row of the reference line without drug, even one whose numbers are bad (that
    # row's own problem is reported), so a missing reference is reported in the same pass as row problems
    refs: dict[tuple[str, str], list[float | None]] = {}
    for rec in records:
        if rec.cell_line == ref and rec.observable and all(d == 0 for d in rec.doses):
            p, t = rec.numbers["phospho"], rec.numbers["total"]
            ratio = p / t if p is not None and t is not None else None
            refs.setdefault((rec.cells.get("gel_id", ""), rec.observable), []).append(ratio)
    reported = set()
    for rec in records:
        key = (rec.cells.get("gel_id", ""), rec.observable)
        ratios = refs.get(key)
        if rec.observable and key not in reported and (not ratios or all(r == 0 for r in ratios)):
            reported.add(key)
            what = (f"gel {key[0]!r} has no reference lane ({ref}, no drug) for target {rec.cells['target']!r}"
                    if not ratios else f"the reference lanes of gel {key[0]!r} have phospho = 0")
            problems.add(rec.row, "gel_id", what, f"each gel carries a {ref} lane without drug for every target")
    complete = [r for r in records if r.cell_line and r.time_h is not None and r.observable
                and None not in r.doses and None not in r.numbers.values()]
    if len(complete) < len(records) or reported:
        return None  # problems already recorded
    rows = []
    for rec in complete:
        ratios = refs[(rec.cells["gel_id"], rec.observable)]
        value = rec.numbers["phospho"] / rec.numbers["total"] / (sum(ratios) / len(ratios))
        doses = tuple(float(d) for d in rec.doses)
        rows.append({
            "cell_line": rec.cell_line, "condition": _condition_label(drugs, doses), "time_h": rec.time_h,
            "observable": rec.observable, "value": value, "sem": math.nan, "n": 1, "blot_id": rec.cells["gel_id"],
            "replicate": rec.cells["lane"], "row": rec.row, **dict(zip(drugs, doses, strict=True)),
        })
    return pd.DataFrame(rows, columns=[*TABLE_COLUMNS, *drugs])


def _summary_table(records: list[_Record], drugs: tuple[str, ...], problems: _Collector) -> pd.DataFrame | None:
    seen: dict[tuple, int] = {}
    doses_of: dict[tuple[str, str], tuple[int, tuple]] = {}
    for rec in records:
        key = (rec.cells.get("cell_line"), rec.cells.get("condition"), rec.time_h, rec.observable,
               rec.cells.get("blot_id", ""))
        if key in seen:
            problems.add(rec.row, "observable", f"duplicate of row {seen[key]} (same cell line, condition, time, "
                         "observable and blot)", "one summary per cell line, condition, time, observable and blot")
        else:
            seen[key] = rec.row
        cond = (rec.cells.get("cell_line", ""), rec.cells.get("condition", ""))
        first = doses_of.setdefault(cond, (rec.row, rec.doses))
        if first[1] != rec.doses and None not in rec.doses and None not in first[1]:
            problems.add(rec.row, "condition", f"condition {cond[1]!r} of {cond[0]} has other doses than on row "
                         f"{first[0]}", "one dose set per cell line and condition label")
    complete = [r for r in records if r.cell_line and r.time_h is not None and r.observable
                and None not in r.doses and None not in r.numbers.values()]
    if len(complete) < len(records):
        return None
    rows = [{
        "cell_line": rec.cell_line, "condition": rec.cells["condition"], "time_h": rec.time_h,
        "observable": rec.observable, "value": rec.numbers["mean"], "sem": rec.numbers["sem"],
        "n": rec.numbers["n"], "blot_id": rec.cells.get("blot_id", ""), "replicate": "", "row": rec.row,
        **dict(zip(drugs, (float(d) for d in rec.doses), strict=True)),
    } for rec in complete]
    return pd.DataFrame(rows, columns=[*TABLE_COLUMNS, *drugs])
