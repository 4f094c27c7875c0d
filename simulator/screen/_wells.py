"""The wells pass: chunks of dose matrices, each well's readouts, one row per well and readout."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import DEFAULTS_LABEL, load_cell_lines, load_drugs, make_condition
from ..readouts import compute_readout_table
from ._spec import ScreenSpec, _default_ratio, _simulated_wells, _table_bytes


@dataclass(frozen=True)
class ScreenEstimate:
    """What a screen will take, before it runs (:func:`estimate_screen`).

    Attributes
    ----------
    simulated_wells
        Matrix wells plus the constant-ratio mixture series.
    chunks
        Wells chunks (each resumable on its own).
    memory_bytes
        Memory of the wells and synergy tables (:data:`MEMORY_PER_ROW`).
    seconds_per_well
        Measured: the readouts of ``sample_wells`` wells of the first matrix, computed here (one core).
    sample_wells
        Wells timed.
    """

    simulated_wells: int
    chunks: int
    memory_bytes: int
    seconds_per_well: float
    sample_wells: int


def estimate_screen(spec: ScreenSpec, sample: int = 4) -> ScreenEstimate:
    """Size, memory and time per well of a screen, timed on ``sample`` x ``sample`` wells of its first matrix.

    Why measured: a well costs 0.3 ms on Model A and a second or more on a model that oscillates, so no
    fixed figure fits every model. The wells form a grid spread over the matrix (a well's cost depends on
    both doses); the model is compiled (and its untreated reference solved) before the clock starts. It times
    the wells pass on one core; the synergy scoring comes on top.

    Parameters
    ----------
    spec
        The screen.
    sample
        Wells per side of the timed grid.

    Returns
    -------
    ScreenEstimate
        Simulated wells, chunks, memory and the measured time per well.
    """
    import time

    ratio = spec.ratio if spec.ratio is not None else _default_ratio(spec)
    line = spec.cell_lines[0]
    values = {**spec.applied_values, **(dict(spec.ensemble[0]) if spec.ensemble else {})}
    drug_a, drug_b = spec.drug_a.drug, spec.drug_b.drug
    base = make_condition(spec.model, None if line == DEFAULTS_LABEL else line, {drug_a: 0.0, drug_b: 0.0},
                          values=values)
    compute_readout_table(spec.model, [base], mode=spec.mode, readouts=spec.readouts, options=spec.options)
    rows, cols = (np.unique(np.linspace(0, len(axis.doses) - 1, sample).round().astype(int))
                  for axis in (spec.drug_a, spec.drug_b))
    wells = [base.with_doses({drug_a: spec.drug_a.doses[i], drug_b: spec.drug_b.doses[j]}) for i in rows for j in cols]
    started = time.perf_counter()
    compute_readout_table(spec.model, wells, mode=spec.mode, readouts=spec.readouts, options=spec.options)
    per_well = (time.perf_counter() - started) / len(wells)
    return ScreenEstimate(_simulated_wells(spec), len(_well_chunks(spec, ratio)), _table_bytes(spec), per_well,
                          len(wells))


#: most (cell line, member) matrices in one wells chunk: bounds a chunk's memory and the work a kill loses
MATRICES_PER_CHUNK = 10


#: most matrix wells in one wells chunk: a bigger matrix is split into blocks of rows (doses of drug A), so a
#: kill loses at most one block and ``--resume`` keeps the others (a 1000 x 1000 matrix was one chunk)
MAX_CHUNK_WELLS = 4096


#: wells chunks a screen is split into at least (when it has that many matrices): 4 per worker up to 16
MIN_WELL_CHUNKS = 64


#: columns of the wells table, in order
WELL_COLUMNS = ("cell_line", "member", "series", "dose_a_nM", "dose_b_nM", "readout", "value", "status", "message")


def _well_chunks(spec: ScreenSpec, ratio: float) -> list[tuple[str, dict]]:
    """The wells pass's chunks: runs of consecutive members of one cell line, ids ``LINE__mFIRST-LAST``.

    Why groups: a chunk has fixed costs (its Parquet part encoded, then written and fsynced by the main
    process, the spec pickled to the worker, one DataFrame) of a few ms, as much as a tenth of one matrix's
    wells; grouping up to :data:`MATRICES_PER_CHUNK` matrices amortises them. The group size depends on the
    screen alone, never on the worker count, so chunk ids stay the same when a run is resumed with other
    ``--workers``; it is small enough (matrices // :data:`MIN_WELL_CHUNKS`) that a screen of >= 64 matrices
    has >= 64 chunks, i.e. >= 4 per worker up to 16 workers, which keeps the last chunks from idling the other
    workers; under 128 matrices, each matrix is its own chunk. The catalogue is parsed here once and travels
    in the payload.
    """
    lines, members = len(spec.cell_lines), spec.members
    catalog = {"drugs": load_drugs(), "lines": load_cell_lines()}
    n_a, n_b = len(spec.drug_a.doses), len(spec.drug_b.doses)
    if n_a * n_b > MAX_CHUNK_WELLS:  # one matrix is too big for a chunk: blocks of rows, ids LINE__mM-M__rFIRST-LAST
        rows = max(1, MAX_CHUNK_WELLS // n_b)
        blocks = [b for b in np.array_split(np.arange(n_a), math.ceil(n_a / rows)) if b.size]
        return [
            (f"{line}__m{member:05d}-{member:05d}__r{int(b[0]):05d}-{int(b[-1]):05d}",
             {"spec": spec, "cell_line": line, "members": (member, member + 1), "rows": (int(b[0]), int(b[-1]) + 1),
              "ratio": ratio, **catalog})
            for line in spec.cell_lines
            for member in range(members)
            for b in blocks
        ]
    size = max(1, min(MATRICES_PER_CHUNK, (lines * members) // MIN_WELL_CHUNKS))
    groups = [g for g in np.array_split(np.arange(members), math.ceil(members / size)) if g.size]
    return [
        (f"{line}__m{int(g[0]):05d}-{int(g[-1]):05d}",
         {"spec": spec, "cell_line": line, "members": (int(g[0]), int(g[-1]) + 1), "ratio": ratio, **catalog})
        for line in spec.cell_lines
        for g in groups
    ]


def _chunk_matrices(chunk_id: str) -> int:
    """Number of matrices in a wells chunk, from its id (``LINE__mFIRST-LAST``, or ``...__rFIRST-LAST``)."""
    first, last = chunk_id.rsplit("__m", 1)[1].split("__r")[0].split("-")
    return int(last) - int(first) + 1


def _chunk_wells(spec: ScreenSpec, chunk_id: str) -> int:
    """Number of matrix wells in a wells chunk, from its id (a block of rows holds part of one matrix)."""
    n_b = len(spec.drug_b.doses)
    if "__r" in chunk_id.rsplit("__m", 1)[1]:
        first, last = chunk_id.rsplit("__r", 1)[1].split("-")
        return (int(last) - int(first) + 1) * n_b
    return _chunk_matrices(chunk_id) * len(spec.drug_a.doses) * n_b


def _well_chunk(payload: dict) -> pd.DataFrame:
    """Worker: all wells of a run of (cell line, member) matrices, one row per well x readout.

    Rows are ordered member, then well (matrix in row-major dose order, then the mixture series), then
    readout: the order one chunk per matrix gave. The table is built from numpy columns (per-row tuples cost
    as much as a tenth of the steady states), one DataFrame per chunk.
    """
    spec: ScreenSpec = payload["spec"]
    line = payload["cell_line"]
    members = range(*payload["members"])
    drugs, lines = payload["drugs"], payload["lines"]
    drug_a, drug_b = spec.drug_a.drug, spec.drug_b.drug
    rows = range(*payload.get("rows", (0, len(spec.drug_a.doses))))  # a block of rows of one big matrix
    pairs = [(spec.drug_a.doses[i], b) for i in rows for b in spec.drug_b.doses]
    matrix_wells = len(pairs)
    if rows.stop == len(spec.drug_a.doses):  # the mixture series goes with the matrix's last rows
        pairs += ratio_series(spec.drug_a.doses, payload["ratio"])
    conditions = []
    applied = spec.applied_values
    for member in members:
        values = {**applied, **(dict(spec.ensemble[member]) if spec.ensemble else {})}
        base = make_condition(spec.model, None if line == DEFAULTS_LABEL else line, {drug_a: 0.0, drug_b: 0.0},
                              values=values, catalog=drugs, lines=lines)
        conditions += [base.with_doses({drug_a: a, drug_b: b}) for a, b in pairs]
    # one call for the chunk: the readout arithmetic runs once over all its wells (~0.3-0.5 ms per matrix less
    # than a call per matrix), while the solves keep the per-matrix order (see readouts._fast)
    table = compute_readout_table(spec.model, conditions, mode=spec.mode, readouts=spec.readouts,
                                  options=spec.options)
    n_readouts, n_members = len(spec.readouts), len(members)
    per_member = len(pairs) * n_readouts
    n_rows = n_members * per_member
    doses = np.array(pairs, dtype=float)
    series = np.repeat(np.arange(len(pairs)) >= matrix_wells, n_readouts)  # code 0 matrix, 1 ratio
    readout_values = table.values  # columns in spec.readouts order
    return pd.DataFrame({
        "cell_line": _text_column([line], np.zeros(n_rows, dtype=np.intp)),
        "member": np.repeat(np.array(members, dtype=np.int64), per_member),
        "series": _text_column(["matrix", "ratio"], np.tile(series.astype(np.intp), n_members)),
        "dose_a_nM": np.tile(np.repeat(doses[:, 0], n_readouts), n_members),
        "dose_b_nM": np.tile(np.repeat(doses[:, 1], n_readouts), n_members),
        "readout": _text_column(spec.readouts, np.tile(np.arange(n_readouts), len(table.status))),
        "value": readout_values.reshape(-1),
        "status": _coded_text(table.status, n_readouts),
        "message": _coded_text(table.message, n_readouts),
    }, columns=list(WELL_COLUMNS))


def _text_column(distinct: Sequence[str] | np.ndarray, codes: np.ndarray) -> pd.Index:
    """A text column ``distinct[codes]``: what pandas makes of the Python strings, without converting each one.

    pandas turns a column of Python strings into its string dtype one object at a time (~2 ms per 50,000 rows,
    more than the rest of a chunk's table); taking from the few distinct strings gives the same column.
    """
    return pd.Index(np.array(list(distinct), dtype=object)).take(codes)


def _coded_text(texts: Sequence[str], repeat: int) -> pd.Index:
    """:func:`_text_column` of ``texts``, each repeated ``repeat`` times (per-well status or message)."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.intp, count=len(texts))
    return _text_column(list(index), np.repeat(codes, repeat))


def ratio_series(doses_a: tuple[float, ...], ratio: float) -> list[tuple[float, float]]:
    """Dose pairs of the constant-ratio mixture (dose A / dose B = ``ratio``) for the Chou-Talalay CI.

    CompuSyn's constant-ratio design: the mixture is diluted like drug A alone, so drug A's dose in the mixture
    runs over drug A's tested doses (> 0) and drug B's is ``dose A / ratio``. A study computing the same design
    (:func:`simulator.screen.ci_design`) therefore gets the same CI from the same wells. (Until issue 20 the series
    spanned drug A's range widened by a decade on each side, 12 points: on Model A that ran onto the viability
    floor and bent the median-effect line, r 0.93.)

    Parameters
    ----------
    doses_a
        Drug A's tested doses (nM).
    ratio
        Dose A / dose B of the mixture (> 0).

    Returns
    -------
    list[tuple[float, float]]
        ``(dose_a, dose_b)`` pairs, ascending.
    """
    return [(float(a), float(a / ratio)) for a in doses_a if a > 0]
