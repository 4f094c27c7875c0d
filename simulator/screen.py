"""Drug-combination screens: dose matrices x cell lines x parameter ensembles -> readouts -> synergy.

A screen is two chunked passes through an injected executor (architecture.md, "Parallel and distributed
execution"):

1. **wells**: one chunk per run of up to 10 (cell line, ensemble member) dose matrices of one cell line
   (:func:`_well_chunks`); each well's readouts are computed by :func:`simulator.readouts.compute_readout_table`,
   one row per well x readout with its ``status``;
2. **synergy**: one chunk per run of matrices (members x readouts of one cell line); every standard score,
   as :func:`simulator.synergy.synergy_scores` gives it, vectorised across the matrices
   (:func:`simulator.synergy_many.synergy_batch`).

Both passes write each finished chunk to disk at once, so memory stays bounded and ``resume=True``
continues a killed run without losing or duplicating a row. A failed well is a status, never an
exception; the run reports how many failed and why.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from .catalog import load_cell_lines, load_drugs
from .conditions import DEFAULTS_LABEL, accepted_drugs, cell_lines_for, make_condition
from .engine import SolverOptions
from .errors import InputError
from .executor import Executor, _natural_key, make_executor, read_parts, run_chunks  # read_parts' chunk order
from .model import CompiledModel, reduce_frozen
from .ownership import Owner, begin_final_writes, claim_folder
from .readouts import (
    LEVEL_CONVENTION,
    READOUTS,
    Readout,
    compute_readout_table,
    level_hint,
    readouts_for,
    unknown_readout_message,
)
from .store import fingerprint, job_inputs, write_manifest, write_tables
from .synergy import SCORE_CONVENTIONS
from .synergy_many import constant_ratio_many, matrix_summaries, median_effect_fits, synergy_batch
from .textfiles import check_separator, read_text
from .units import MAX_DOSE_NM, parse_amount

__all__ = [
    "DrugAxis",
    "ScreenEstimate",
    "ScreenResult",
    "ScreenSpec",
    "effect_of",
    "estimate_screen",
    "load_ensemble",
    "rank_combinations",
    "run_screen",
]

#: a screen with this many wells or more gets a size and time estimate before it starts (``mekisim screen``)
LARGE_SCREEN_WELLS = 20_000
#: most matrix wells in one screen: 4 million wells with 2 readouts hold ~12 GB of tables (MEMORY_PER_ROW) and
#: take about 1 core-hour on Model A (0.3 ms per well); split a bigger design into several screens
MAX_SCREEN_WELLS = 4_000_000
#: peak memory of the main process per row of the wells and synergy tables. Measured: Model A, one line, two
#: readouts, 2 workers; the peak RSS grew by 260 MB from a 61 x 61 to a 301 x 301 matrix (174k more wells rows,
#: 1.2M more synergy rows): ~190 bytes per row (the tables as read back, scored, written as CSV and Parquet).
#: Worker processes add their own chunk's share, bounded by MAX_CHUNK_WELLS.
MEMORY_PER_ROW = {"wells": 190, "synergy": 190}
#: most doses on one axis, 0 included (a 2000 x 2000 matrix is 4 million wells: past MAX_SCREEN_WELLS anyway)
MAX_AXIS_DOSES = 2001
#: built-in readouts that are "fraction affected" (inhibition) after :func:`effect_of`, so synergy applies to
#: them (a model's declared readouts join them when declared with an ``effect``)
SYNERGY_READOUTS = tuple(k for k, r in READOUTS.items() if r.effect is not None)
#: fa levels of the constant-ratio CI table: the paper-style 0.5/0.75/0.9 plus a grid for the Fa-CI curve
FA_LEVELS = tuple(sorted({0.5, 0.75, 0.9, *np.round(np.linspace(0.05, 0.95, 19), 2).tolist()}))
#: points of the constant-ratio mixture series run with every matrix
RATIO_POINTS = 12
#: well-level synergy scores (the rest of the synergy table is isobologram, constant-ratio and fit rows)
WELL_SCORES = ("bliss", "hsa", "loewe", "zip", "ci")
#: excess scores summarised per matrix as ``<score>_mean`` and ``<score>_msa`` rows (synergy_many.matrix_summaries)
SUMMARISED_SCORES = ("bliss", "hsa", "loewe", "zip")


@dataclass(frozen=True)
class DrugAxis:
    """One axis of a dose matrix: the drug id and its doses in nM (the first is 0, the single-agent row)."""

    drug: str
    doses: tuple[float, ...]

    def __post_init__(self) -> None:
        doses = tuple(float(d) for d in self.doses)
        object.__setattr__(self, "doses", doses)
        if len(doses) < 2 or doses[0] != 0.0:
            raise InputError(f"doses of {self.drug!r} must start with 0 (the single-agent row) and have >= 2 values.")
        if any(not math.isfinite(d) or d < 0 for d in doses) or np.any(np.diff(doses) <= 0):
            raise InputError(f"doses of {self.drug!r} must be finite, >= 0 and strictly increasing: {doses}.")
        if len(doses) > MAX_AXIS_DOSES:
            raise InputError(f"{len(doses) - 1} doses of {self.drug!r} exceed the limit of {MAX_AXIS_DOSES - 1} per "
                             "axis; a dose axis of a few dozen log-spaced doses resolves any sigmoid curve.")
        high = [d for d in doses if d > MAX_DOSE_NM]
        if high:
            raise InputError(f"dose {high[0]:g} nM of {self.drug!r} is above {MAX_DOSE_NM:g} nM (1 M), more than any "
                             "drug dissolves to; check the unit (bare numbers are nM: 10uM is 10000).")

    @classmethod
    def parse(cls, text: str) -> DrugAxis:
        """Parse a dose axis: ``DRUG:LO:HI:N`` or ``DRUG:D1,D2,...``.

        ``DRUG:LO:HI:N``: 0 plus N log-spaced doses from LO to HI (units allowed: ``tram:0.1nM:100nM:9``).
        ``DRUG:D1,D2,...``: 0 plus the listed doses, e.g. a plate's half-log series ``tram:1,3,10,30,100``.
        """
        parts = text.split(":")
        if len(parts) == 2:
            return cls._listed(text, *parts)
        if len(parts) != 4:
            raise InputError(f"drug axis {text!r} is neither DRUG:LO:HI:N nor DRUG:D1,D2,...; valid examples: "
                             "trametinib:0.1:100:9 or trametinib:1,3,10,30,100 (nM unless a unit is given).")
        drug, lo, hi, n = parts
        lo_nm, hi_nm = parse_amount(lo, what=f"lowest dose of {drug}"), parse_amount(hi, what=f"highest dose of {drug}")
        try:
            count = int(n)
        except ValueError:
            raise InputError(f"number of doses {n!r} in {text!r} is not an integer >= 1.") from None
        if count < 1:
            raise InputError(f"drug axis {text!r} asks for {count} doses; N must be >= 1 (N = 1 uses LO only).")
        if lo_nm <= 0 or (count > 1 and hi_nm <= lo_nm):
            raise InputError(f"drug axis {text!r} needs 0 < LO < HI (the dose 0 is added; N = 1 uses LO only).")
        if count >= MAX_AXIS_DOSES:
            raise InputError(f"{count} doses in drug axis {text!r} exceed the limit of {MAX_AXIS_DOSES - 1} per axis; "
                             "a dose axis of a few dozen log-spaced doses resolves any sigmoid curve.")
        doses = np.geomspace(lo_nm, hi_nm, count) if count > 1 else np.array([lo_nm])
        return cls(drug=drug.strip(), doses=(0.0, *doses.tolist()))

    @classmethod
    def _listed(cls, text: str, drug: str, listed: str) -> DrugAxis:
        """``DRUG:D1,D2,...``: the listed doses in any order, 0 added when absent (the single-agent row)."""
        drug = drug.strip()
        items = [item for item in listed.split(",") if item.strip()]
        doses = [parse_amount(item.strip(), what=f"dose of {drug}") for item in items]
        if not doses:
            raise InputError(f"drug axis {text!r} lists no doses; valid example: trametinib:1,3,10,30,100 (nM).")
        repeated = sorted({d for d in doses if doses.count(d) > 1})
        if repeated:
            raise InputError(f"drug axis {text!r} lists the dose(s) {', '.join(f'{d:g}' for d in repeated)} nM more "
                             "than once; each dose is one row or column of the matrix.")
        return cls(drug=drug, doses=tuple(sorted({0.0, *doses})))


@dataclass(frozen=True)
class ScreenSpec:
    """What to screen.

    Attributes
    ----------
    model
        Compiled model (workers rebuild roadrunner from its SBML).
    cell_lines
        Bundled cell lines of the model; empty for the model's own parameter values (a model without cell
        lines), which tables then call ``"model_defaults"``.
    drug_a, drug_b
        The two dose axes.
    readouts
        Readout ids of the model (:func:`simulator.readouts.readouts_for`) or level readouts (an observable or
        species id, or ``species:X``: its level relative to untreated); empty means every readout of the model
        that has a fraction-affected form (Model A: p-ERK suppression and viability).
    ensemble
        Parameter vectors (mappings id -> value), one per member, stored as sorted (id, value) pairs; empty
        means the nominal parameters only.
    mode
        ``"fast"`` (signalling at steady state, closed-form growth) or ``"full"`` (cell numbers integrated).
    ratio
        Dose ratio A:B for the constant-ratio Chou-Talalay CI (default: the catalogue IC50 ratio).
    target_suppression
        p-ERK suppression a combination must reach to be ranked.
    options
        Solver settings.
    """

    model: CompiledModel
    cell_lines: tuple[str, ...]
    drug_a: DrugAxis
    drug_b: DrugAxis
    readouts: tuple[str, ...] = ()
    ensemble: tuple = ()
    mode: str = "fast"
    ratio: float | None = None
    target_suppression: float = 0.8
    options: SolverOptions = field(default_factory=SolverOptions)

    __reduce__ = reduce_frozen

    def __post_init__(self) -> None:
        object.__setattr__(self, "cell_lines", tuple(self.cell_lines) or (DEFAULTS_LABEL,))
        object.__setattr__(self, "readouts", tuple(self.readouts))
        # members as sorted (id, value) pairs: immutable, hashable and picklable (a tuple of read-only mappings
        # is not, and the spec travels to every worker process); dict(member) gives the mapping back
        object.__setattr__(self, "ensemble", tuple(tuple(sorted(dict(m).items())) for m in self.ensemble))
        valid_lines = cell_lines_for(self.model)
        unknown = [c for c in self.cell_lines if c not in valid_lines and c != DEFAULTS_LABEL]
        if unknown:
            valid = ", ".join(valid_lines) or "none (leave the cell lines out: the model runs with its own values)"
            raise InputError(f"cell line(s) {', '.join(map(repr, unknown))} are not cell lines of model "
                             f"{self.model.name!r}; valid: {valid}.")
        repeated = sorted({c for c in self.cell_lines if self.cell_lines.count(c) > 1})
        if repeated:
            raise InputError(f"cell line(s) {', '.join(map(repr, repeated))} are listed more than once; list each "
                             "cell line once.")
        accepted = accepted_drugs(self.model)
        for axis in (self.drug_a, self.drug_b):
            if axis.drug not in accepted:
                raise InputError(f"model {self.model.name!r} does not accept drug {axis.drug!r}; drugs it accepts: "
                                 f"{', '.join(accepted) or 'none'} (add one to any reaction with --add-drug "
                                 "NAME:REACTION:IC50).")
        if self.drug_a.drug == self.drug_b.drug:
            raise InputError("drug A and drug B are the same drug; a sham combination needs two different ids.")
        available = readouts_for(self.model, self.readouts)
        if not self.readouts:
            defaults = tuple(k for k, r in available.items() if r.effect is not None)
            if not defaults:
                raise InputError(f"model {self.model.name!r} declares no inhibition readout to screen; give one or "
                                 f"more with --readout R: {level_hint(self.model)}.")
            object.__setattr__(self, "readouts", defaults)
        bad = [r for r in self.readouts if r not in available]
        if bad:
            raise InputError(unknown_readout_message(self.model, bad))
        repeated = sorted({r for r in self.readouts if self.readouts.count(r) > 1})
        if repeated:
            raise InputError(f"readout(s) {', '.join(map(repr, repeated))} are given more than once; give each once.")
        if self.mode not in ("fast", "full"):
            raise InputError(f"mode {self.mode!r} is not 'fast' or 'full'.")
        if not 0 < self.target_suppression <= 1:
            raise InputError(f"target suppression {self.target_suppression!r} must be in (0, 1].")
        if self.ratio is not None and not (self.ratio > 0 and math.isfinite(self.ratio)):
            raise InputError(f"dose ratio {self.ratio!r} must be a finite number > 0 (dose A / dose B).")
        settable = set(self.model.parameters) | set(self.model.species_initial)
        defaults = {**self.model.species_initial, **self.model.parameters}
        for i, member in enumerate(self.ensemble):
            unknown = sorted(set(dict(member)) - settable)
            if unknown:
                raise InputError(f"ensemble member {i} sets {', '.join(unknown)}, which model {self.model.name!r} "
                                 "does not have as settable parameters.")
            # a negative value where the model's own is >= 0 (a rate constant, total or Km) only fails later, as a
            # Newton message per well; one whose default is negative (an offset) may stay negative
            negative = [(k, v) for k, v in member if not (v >= 0) and defaults[k] >= 0]
            if negative:
                k, v = negative[0]
                raise InputError(f"ensemble member {i} sets {k} = {v:g}, but {k} is >= 0 in model "
                                 f"{self.model.name!r} ({defaults[k]:g}): rate constants, totals and Michaelis "
                                 "constants cannot be negative; check that row of the ensemble.")

        if self.wells > MAX_SCREEN_WELLS:
            raise InputError(
                f"the screen has {self.wells:,} wells ({len(self.cell_lines)} line(s) x {self.members} member(s) x "
                f"{len(self.drug_a.doses)} x {len(self.drug_b.doses)} doses), more than the limit of "
                f"{MAX_SCREEN_WELLS:,}; its tables would need about {_table_bytes(self) / 1e9:.0f} GB of memory. "
                "Use fewer doses, lines or members, or split it into several screens."
            )

    @property
    def members(self) -> int:
        """Number of parameter sets (1 for the nominal parameters)."""
        return max(1, len(self.ensemble))

    @property
    def wells(self) -> int:
        """Wells in the whole screen (lines x members x dose pairs)."""
        return len(self.cell_lines) * self.members * len(self.drug_a.doses) * len(self.drug_b.doses)


@dataclass(frozen=True)
class ScreenResult:
    """Where a screen's tables are and what happened (the tables themselves are on disk).

    ``oscillating_wells``: wells read as a time-average because the model oscillates there (level readouts).
    """

    out_dir: Path
    wells: int
    failed_wells: int
    failure_summary: Mapping[str, int]
    files: tuple[Path, ...]
    elapsed_s: float
    oscillating_wells: int = 0


def _simulated_wells(spec: ScreenSpec) -> int:
    """Wells the run simulates: the matrices plus each matrix's constant-ratio mixture series."""
    return spec.wells + len(spec.cell_lines) * spec.members * RATIO_POINTS


def _table_bytes(spec: ScreenSpec) -> int:
    """Memory the run's wells and synergy tables take (rows x :data:`MEMORY_PER_ROW`)."""
    matrices = len(spec.cell_lines) * spec.members * max(1, len(spec.readouts))
    per_matrix = (len(WELL_SCORES) + 2) * len(spec.drug_a.doses) * len(spec.drug_b.doses) + 3 * len(FA_LEVELS) + 17
    return (_simulated_wells(spec) * max(1, len(spec.readouts)) * MEMORY_PER_ROW["wells"]
            + matrices * per_matrix * MEMORY_PER_ROW["synergy"])


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
    """
    import time

    ratio = spec.ratio if spec.ratio is not None else _default_ratio(spec)
    line = spec.cell_lines[0]
    values = dict(spec.ensemble[0]) if spec.ensemble else {}
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


# --------------------------------------------------------------------------------------------- loading


def load_ensemble(path: str | Path) -> tuple[dict[str, float], ...]:
    """Read a parameter ensemble: CSV, TSV or Parquet, one row per member, one column per parameter id.

    A column ``member`` (if present) is the member's label and is ignored here; every other column must
    hold finite numbers (linear scale).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ensemble file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".tsv", ".txt"):
        raise InputError(f"ensemble file {str(path)!r} has suffix {suffix!r}; valid: .csv, .tsv, .parquet.")
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if suffix != ".csv" else ","
            text = read_text(path, "ensemble file")
            header = next((line for line in text.splitlines() if line.strip()), "")
            check_separator(header, path, "ensemble file", expected=sep)
            frame = pd.read_csv(io.StringIO(text), sep=sep)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"ensemble file {str(path)!r} could not be read as a table: {exc}") from exc
    frame = frame.drop(columns=[c for c in ("member", "nllh", "start") if c in frame.columns])
    problems = []
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if bad.size:
            problems.append(f"column {column!r}, row {int(bad[0]) + 2}")
    if problems or frame.empty:
        where = "; ".join(problems) or "every row (the file is empty)"
        raise InputError(f"ensemble file {str(path)!r}: non-numeric or missing values at {where}; "
                         "every cell must be a finite number.")
    return tuple({k: float(v) for k, v in row.items()} for row in frame.to_dict(orient="records"))


# ---------------------------------------------------------------------------------------------- wells


def effect_of(readout: str | Readout, values: np.ndarray) -> np.ndarray:
    """Readout -> fraction affected (inhibition) for synergy scoring; values below 0 are kept (flagged later).

    ``readout`` is a :class:`~simulator.readouts.Readout` (any model's) or the id of a built-in one: p-ERK
    suppression already is 1 - pERK/pERK_untreated; viability (%) becomes 1 - viability/100.
    """
    if isinstance(readout, str):
        if readout not in READOUTS or READOUTS[readout].effect is None:
            raise InputError(f"readout {readout!r} has no fraction-affected form; synergy applies to "
                             f"{', '.join(k for k, r in READOUTS.items() if r.effect)} (and to model readouts "
                             "declared with an effect).")
        readout = READOUTS[readout]
    return readout.fraction_affected(values)


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
    for member in members:
        values = dict(spec.ensemble[member]) if spec.ensemble else {}
        base = make_condition(spec.model, None if line == DEFAULTS_LABEL else line, {drug_a: 0.0, drug_b: 0.0},
                              values=values, catalog=drugs, lines=lines)
        conditions += [base.with_doses({drug_a: a, drug_b: b}) for a, b in pairs]
    # one call for the chunk: the readout arithmetic runs once over all its wells (~0.3-0.5 ms per matrix less
    # than a call per matrix), while the solves keep the per-matrix order (see readouts._fast)
    table = compute_readout_table(spec.model, conditions, mode=spec.mode, readouts=spec.readouts,
                                  options=spec.options)
    n_readouts, n_members = len(spec.readouts), len(members)
    per_member = len(pairs) * n_readouts
    rows = n_members * per_member
    doses = np.array(pairs, dtype=float)
    series = np.repeat(np.arange(len(pairs)) >= matrix_wells, n_readouts)  # code 0 matrix, 1 ratio
    values = table.values  # columns in spec.readouts order
    return pd.DataFrame({
        "cell_line": _text_column([line], np.zeros(rows, dtype=np.intp)),
        "member": np.repeat(np.array(members, dtype=np.int64), per_member),
        "series": _text_column(["matrix", "ratio"], np.tile(series.astype(np.intp), n_members)),
        "dose_a_nM": np.tile(np.repeat(doses[:, 0], n_readouts), n_members),
        "dose_b_nM": np.tile(np.repeat(doses[:, 1], n_readouts), n_members),
        "readout": _text_column(spec.readouts, np.tile(np.arange(n_readouts), len(table.status))),
        "value": values.reshape(-1),
        "status": _coded_text(table.status, n_readouts),
        "message": _coded_text(table.message, n_readouts),
    }, columns=list(WELL_COLUMNS))


def _text_column(distinct: Sequence[str], codes: np.ndarray) -> pd.Index:
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


def ratio_series(doses_a: tuple[float, ...], ratio: float, points: int = RATIO_POINTS) -> list[tuple[float, float]]:
    """Dose pairs of the constant-ratio mixture (dose A / dose B = ``ratio``) for the Chou-Talalay CI.

    CompuSyn-style designs run the mixture as its own dilution series; it spans drug A's tested range
    widened by a decade on each side, so the mixture's median-effect fit covers fa 0.5-0.9.
    """
    positive = [d for d in doses_a if d > 0]
    grid = np.geomspace(min(positive) / 10, max(positive) * 10, points)
    return [(float(a), float(a / ratio)) for a in grid]


#: most matrices (member x readout) one synergy chunk scores together: bounds its memory and payload
SYNERGY_MATRICES_PER_CHUNK = 100
#: synergy chunks a screen is split into at least (when it has that many matrices): 4 per worker up to 4
MIN_SYNERGY_CHUNKS = 16
#: columns of the synergy table, in order
SYNERGY_COLUMNS = ("cell_line", "member", "readout", "dose_a", "dose_b", "fa", "score", "value", "flag")


def _synergy_chunks(spec: ScreenSpec, wells: pd.DataFrame, ratio: float) -> list[tuple[str, dict]]:
    """The synergy pass's chunks: runs of consecutive members of one cell line, every synergy readout.

    Why groups: scoring is vectorised across matrices (:func:`simulator.synergy_many.synergy_batch`), and a
    chunk has fixed costs (a Parquet part encoded and written, the payload pickled, one DataFrame);
    one matrix per chunk spent ~47 ms per matrix x readout. A chunk holds every synergy readout of its
    members, so its rows come out in the order one chunk per matrix x readout gave (member, then readout in
    chunk-id order) and the table is unchanged. The run of members depends on the screen alone (never on the
    worker count, so ids survive a resume with other ``--workers``): at most
    :data:`SYNERGY_MATRICES_PER_CHUNK` matrices, and small enough that a screen of >= 16 x (readouts)
    matrices has >= :data:`MIN_SYNERGY_CHUNKS` chunks (>= 4 per worker up to 4 workers, so the last chunks
    do not idle the others); e.g. 6 lines x 100 members x 2 readouts: 18 chunks of 68 matrices. Fewer, larger
    chunks pay: the batched ZIP fits cost per round of the slowest slice, so the synergy pass of that screen
    took 4.8 s in 36 chunks, 3.8 s in 18 and 3.3 s in 12 (1 worker).

    A matrix that cannot be scored (a failed well: NaN readout) keeps a chunk of its own with the id
    ``LINE__mMEMBER__READOUT``, so it fails alone, with its own message, as before, and does not take the
    other matrices of its run with it.
    """
    available = readouts_for(spec.model, spec.readouts)
    scored = sorted((r for r in pd.unique(wells["readout"]) if available[r].effect is not None), key=_natural_key)
    if wells.empty or not scored:
        return []
    frame = wells.loc[wells["readout"].isin(scored), ["cell_line", "member", "series", "dose_a_nM", "dose_b_nM",
                                                      "readout", "value"]]
    readout = frame["readout"].to_numpy()
    value = frame["value"].to_numpy(dtype=float)
    effect = np.full(value.shape, np.nan)
    for name in scored:
        sel = readout == name
        effect[sel] = effect_of(available[name], value[sel])
    finite_well = (frame["series"].to_numpy() == "matrix") & np.isfinite(effect)
    keys = [frame["cell_line"], frame["member"], frame["readout"]]
    wells_per_matrix = len(spec.drug_a.doses) * len(spec.drug_b.doses)
    scorable = (pd.Series(finite_well, index=frame.index).groupby(keys, sort=False).transform("sum")
                == wells_per_matrix).to_numpy()

    per_chunk = min(SYNERGY_MATRICES_PER_CHUNK, len(spec.cell_lines) * spec.members * len(scored) // MIN_SYNERGY_CHUNKS)
    size = max(1, per_chunk // len(scored))
    groups = [g for g in np.array_split(np.arange(spec.members), math.ceil(spec.members / size)) if g.size]
    group_of = np.zeros(spec.members, dtype=np.int64)
    for i, g in enumerate(groups):
        group_of[g] = i
    infos = tuple((name, available[name]) for name in scored)
    chunks = []
    good = frame[scorable]
    for (line, group), part in good.groupby([good["cell_line"], group_of[good["member"].to_numpy()]], sort=False):
        first, last = int(groups[group][0]), int(groups[group][-1])
        chunks.append((f"{line}__m{first:05d}-{last:05d}", {"wells": part, "cell_line": line, "readouts": infos,
                                                            "ratio": ratio}))
    bad = frame[~scorable]
    for (line, member, name), part in bad.groupby(["cell_line", "member", "readout"], sort=False):
        chunks.append((f"{line}__m{member:05d}__{name}", {"wells": part, "cell_line": line,
                                                         "readouts": ((name, available[name]),), "ratio": ratio}))
    return chunks


def _well_score_flags(name: str) -> np.ndarray:
    """Flag text of a well score for code ``single + 2·below_baseline + 4·undefined`` (the per-matrix wording)."""
    flags = []
    for code in range(8):
        base = ";".join(f for f, on in (("single_agent", code & 1), ("below_baseline", code & 2)) if on)
        undefined = f"{name}_undefined" if code & 4 else ""
        flags.append(";".join(f for f in (base, undefined) if f))
    return np.array(flags, dtype=object)


def _score_matrices(which: np.ndarray, k: int, series: np.ndarray, dose_a: np.ndarray, dose_b: np.ndarray,
                    fa_all: np.ndarray, ratio: float) -> dict[str, np.ndarray | pd.Index]:
    """Every synergy row of K matrices (well ``i`` belongs to matrix ``which[i]``), one entry per column.

    The numeric columns have shape (K, rows). The text columns ``score`` and ``flag`` come flat (K·rows, matrix
    after matrix) as a pandas ``Index`` taken from integer codes into their few distinct strings: pandas converts
    a column of Python strings to its string dtype one object at a time, which cost more than all the arithmetic
    here (~2 ms per 50,000-row column); ``take`` on the dozen distinct strings gives the same column.
    """
    matrix = series == "matrix"
    doses_a, rows = np.unique(dose_a[matrix], return_inverse=True)
    doses_b, cols = np.unique(dose_b[matrix], return_inverse=True)
    n, m = doses_a.size, doses_b.size
    if matrix.sum() != k * n * m:
        raise InputError(f"the chunk's matrices do not share one complete dose grid ({int(matrix.sum())} matrix "
                         f"wells for {k} matrices of {n} x {m} doses).")
    effect = np.full((k, n, m), np.nan)
    effect[which[matrix], rows, cols] = fa_all[matrix]
    batch = synergy_batch(doses_a, doses_b, effect, ratio=ratio, fa_levels=FA_LEVELS)

    # the mixture series of each matrix in dose order (a stable sort, as one matrix at a time did)
    mix = ~matrix
    counts = np.bincount(which[mix], minlength=k)
    if np.any(counts != counts[0]):
        raise InputError(f"the chunk's matrices have mixture series of different lengths "
                         f"({sorted(set(counts.tolist()))}).")
    order = np.lexsort((dose_a[mix], which[mix]))
    shape = (k, int(counts[0]))
    mix_a, mix_b = dose_a[mix][order].reshape(shape), dose_b[mix][order].reshape(shape)
    fit_mix = median_effect_fits(mix_a + mix_b, fa_all[mix][order].reshape(shape))
    cr = constant_ratio_many(batch.median_a, batch.median_b, fit_mix, ratio, FA_LEVELS)

    def per_matrix_text(texts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(codes (K, 1), distinct texts) of one text per matrix."""
        distinct, codes = np.unique(np.array(texts, dtype=object), return_inverse=True)
        return codes.reshape(k, 1), distinct

    wells = n * m
    grid_a = np.broadcast_to(np.repeat(doses_a, m), (k, wells))
    grid_b = np.broadcast_to(np.tile(doses_b, n), (k, wells))
    fa = effect.reshape(k, wells)
    single = np.broadcast_to(~((doses_a[:, None] > 0) & (doses_b[None, :] > 0)), (k, n, m))
    base_code = single.astype(np.int64) + 2 * batch.below_baseline
    undefined = {"ci": batch.ci_undefined, "loewe": batch.loewe_undefined, "zip": batch.zip_undefined}
    no_flag = np.array([""], dtype=object)
    # (dose_a, dose_b, fa, score name, value, flag codes, flag texts); arrays (k, rows) or broadcastable to it
    blocks: list[tuple] = []
    for name in WELL_SCORES:
        code = base_code + 4 * undefined[name] if name in undefined else base_code
        blocks.append((grid_a, grid_b, fa, name, getattr(batch, name).reshape(k, wells), code.reshape(k, wells),
                       _well_score_flags(name)))
    with np.errstate(divide="ignore", invalid="ignore"):
        iso_x = doses_a[None, :, None] / batch.median_a.dose_for(effect)
        iso_y = doses_b[None, None, :] / batch.median_b.dose_for(effect)
    combo = ~single & ~batch.ci_undefined
    for name, iso in (("iso_x", iso_x), ("iso_y", iso_y)):
        blocks.append((grid_a, grid_b, fa, name, np.where(combo, iso, np.nan).reshape(k, wells), 0, no_flag))
    status = per_matrix_text(cr.status)
    levels = np.broadcast_to(cr.fa, cr.ci.shape)
    for name, values in (("ci_ratio", cr.ci), ("dri_a", cr.dri_a), ("dri_b", cr.dri_b)):
        blocks.append((cr.dose_a, cr.dose_b, levels, name, values, *status))
    for which_fit, fits in (("a", batch.median_a), ("b", batch.median_b), ("mix", fit_mix)):
        fit_status = per_matrix_text(fits.status)
        for key in ("m", "Dm", "r"):
            blocks.append((np.nan, np.nan, np.nan, f"median_{which_fit}_{key}", getattr(fits, key)[:, None],
                           *fit_status))
    for name in SUMMARISED_SCORES:  # one number per matrix and score: mean and most synergistic area
        mean, msa = matrix_summaries(getattr(batch, name))
        blocks.append((np.nan, np.nan, np.nan, f"{name}_mean", mean[:, None], 0, no_flag))
        blocks.append((np.nan, np.nan, np.nan, f"{name}_msa", msa[:, None], 0, no_flag))

    sizes = [np.shape(block[4])[1] for block in blocks]
    columns: dict[str, np.ndarray | pd.Index] = {}
    for index, key in enumerate(("dose_a", "dose_b", "fa")):
        columns[key] = np.concatenate([np.broadcast_to(np.asarray(block[index], dtype=float), (k, size))
                                       for block, size in zip(blocks, sizes, strict=True)], axis=1)
    score_codes = np.repeat(np.arange(len(blocks)), sizes)
    columns["score"] = pd.Index(np.array([block[3] for block in blocks], dtype=object)).take(np.tile(score_codes, k))
    columns["value"] = np.concatenate([np.broadcast_to(np.asarray(block[4], dtype=float), (k, size))
                                       for block, size in zip(blocks, sizes, strict=True)], axis=1)
    flag_index: dict[str, int] = {}  # every distinct flag text of the chunk -> its code
    flag_codes = []
    for block, size in zip(blocks, sizes, strict=True):
        lookup = np.array([flag_index.setdefault(text, len(flag_index)) for text in block[6]], dtype=np.int64)
        flag_codes.append(np.broadcast_to(lookup[block[5]], (k, size)))
    columns["flag"] = pd.Index(np.array(list(flag_index), dtype=object)).take(
        np.concatenate(flag_codes, axis=1).reshape(-1))
    return columns


def _synergy_chunk(payload: dict) -> pd.DataFrame:
    """Worker: every synergy score of a group of matrices (one cell line; members x readouts), one long table.

    Per matrix (cell line x member x readout), rows (column ``score``) are: the well scores ``bliss, hsa,
    loewe, zip, ci`` (with the well's observed ``fa``); the normalised-isobologram coordinates
    ``iso_x = d_a/Dx_a(fa)``, ``iso_y = d_b/Dx_b(fa)``; the constant-ratio table ``ci_ratio, dri_a, dri_b``
    at :data:`FA_LEVELS`, from the mixture series (``dose_a``/``dose_b`` are the mixture's doses there); and
    the median-effect fits ``median_{a,b,mix}_{m,Dm,r}`` (doses NaN; the mixture's dose is the total
    d_A + d_B); and one summary per excess score, ``{bliss,hsa,loewe,zip}_{mean,msa}`` (doses NaN; see
    :func:`simulator.synergy_many.matrix_summaries`). Matrices come member by member, readouts in the order
    of ``payload["readouts"]``.

    All the chunk's matrices (every member and readout: one dose grid) are scored in one
    :func:`simulator.synergy_many.synergy_batch` call and the table is built from (matrices x rows) numpy
    columns, text columns from codes (see :func:`_score_matrices`); no per-matrix pandas.
    """
    wells: pd.DataFrame = payload["wells"]
    readout_all = wells["readout"].to_numpy()
    value = wells["value"].to_numpy(dtype=float)
    fa = np.full(value.shape, np.nan)
    rank = np.full(value.shape, -1, dtype=np.int64)
    for index, (name, info) in enumerate(payload["readouts"]):
        sel = readout_all == name
        fa[sel], rank[sel] = effect_of(info, value[sel]), index
    keep = rank >= 0
    member_all = wells["member"].to_numpy(dtype=np.int64)[keep]
    names = np.array([name for name, _ in payload["readouts"]], dtype=object)
    # one matrix per (member, readout), numbered in output order: member, then readout as listed
    keys, which = np.unique(member_all * names.size + rank[keep], return_inverse=True)
    if not keys.size:
        return pd.DataFrame({key: [] for key in SYNERGY_COLUMNS})
    columns = _score_matrices(which, keys.size, wells["series"].to_numpy()[keep],
                              wells["dose_a_nM"].to_numpy(dtype=float)[keep],
                              wells["dose_b_nM"].to_numpy(dtype=float)[keep], fa[keep], payload["ratio"])
    per_matrix = columns["value"].shape[1]
    rows = keys.size * per_matrix
    return pd.DataFrame({
        "cell_line": _text_column([payload["cell_line"]], np.zeros(rows, dtype=np.intp)),
        "member": np.repeat(keys // names.size, per_matrix),
        "readout": _text_column(names, np.repeat(keys % names.size, per_matrix)),
        **{key: column.reshape(-1) if isinstance(column, np.ndarray) else column for key, column in columns.items()},
    }, columns=list(SYNERGY_COLUMNS))


def run_screen(
    spec: ScreenSpec,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: bool = True,
    force: bool = False,
    command: Sequence[str] | None = None,
    ensemble_file: str | Path | None = None,
) -> ScreenResult:
    """Run a screen into ``out_dir``: ``wells`` and ``synergy`` tables (Parquet + CSV) and a ranking.

    Where it runs: ``workers``/``scheduler`` as :func:`~simulator.executor.make_executor` takes them (a pool
    started and shut down here), or an ``executor`` the caller made and closes (e.g. one pool for several
    screens; its start-up is then paid once).

    The folder is claimed first (:func:`simulator.ownership.claim_folder`): a folder written by another run
    is refused unless ``resume`` (the same screen, continued from its chunks) or ``force`` (its files deleted
    first). ``command`` is recorded in the manifest (the CLI passes ``["mekisim", *argv]``);
    ``ensemble_file``, the file ``spec.ensemble`` was read from, is recorded with its sha256.
    """
    import time

    if executor is not None and (workers is not None or scheduler is not None):
        raise InputError("pass either an executor or workers/scheduler to run_screen, not both.")
    out_dir = Path(out_dir)
    started = time.perf_counter()
    ratio = spec.ratio if spec.ratio is not None else _default_ratio(spec)
    chunks = _well_chunks(spec, ratio)
    job = _screen_job(spec, ratio)
    owner = claim_folder(out_dir, "screen", job, command=command, resume=resume, force=force)
    source = _ensemble_source(spec, ensemble_file, job)
    owned = make_executor(workers=workers, scheduler=scheduler) if executor is None else nullcontext(executor)
    with owned as executor:
        well_run = run_chunks(_well_chunk, chunks, executor=executor, out_dir=out_dir / "wells", resume=resume,
                              progress=progress, total_rows=spec.wells * len(spec.readouts), label="wells",
                              job={"pass": "wells", **job})
        wells = read_parts(out_dir / "wells") if well_run.chunks_done + well_run.chunks_skipped else pd.DataFrame(
            columns=list(WELL_COLUMNS))
        synergy_chunks = _synergy_chunks(spec, wells, ratio)
        synergy_run = run_chunks(_synergy_chunk, synergy_chunks, executor=executor, out_dir=out_dir / "synergy",
                                 resume=resume, progress=progress, label="synergy", job={"pass": "synergy", **job})
    # every synergy chunk can fail (no matrix of the screen could be scored): no parts, an empty table
    scored = synergy_run.chunks_done + synergy_run.chunks_skipped
    synergy = read_parts(out_dir / "synergy") if scored else pd.DataFrame(columns=list(SYNERGY_COLUMNS))
    runs = {"wells": well_run, "synergy": synergy_run}
    return _finish(spec, out_dir, wells, synergy, ratio, started, runs, owner, job, source)


def _ensemble_source(spec: ScreenSpec, path: str | Path | None, job: dict) -> dict:
    """Provenance of the ensemble: members, the sha256 of the values screened and of the file they came from.

    Why both: the file's hash identifies the file a user can find again; the values' hash (also in the resume
    check) identifies what was screened, whatever the file's format.
    """
    out: dict = {"members": len(spec.ensemble), "values_sha256": job["ensemble_sha256"] if spec.ensemble else None}
    if path is not None:
        path = Path(path)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise InputError(f"ensemble file {str(path)!r} could not be read: {exc.strerror or exc}.") from exc
        out.update(file=str(path), file_sha256=digest)
    return out


def _screen_job(spec: ScreenSpec, ratio: float) -> dict:
    """What decides a screen's wells and scores, for ``run_chunks(job=...)``: a resume must match it.

    The spec without ``target_suppression`` (it only ranks, in ``_finish``: a resumed run may re-rank), the
    ensemble as a hash (it can be thousands of vectors), the constant ratio, the catalogue files and the
    mekisim and libroadrunner versions.
    """
    description = fingerprint(spec)
    description.pop("target_suppression")
    members = json.dumps(description.pop("ensemble"), separators=(",", ":"))
    return {"screen": description, "ensemble_sha256": hashlib.sha256(members.encode("utf-8")).hexdigest(),
            "constant_ratio_a_to_b": ratio, **job_inputs()}


def _default_ratio(spec: ScreenSpec) -> float:
    """The IC50 ratio A:B (equipotent mixture), the CompuSyn convention for a constant ratio."""
    return _ic50_nM(spec, spec.drug_a.drug) / _ic50_nM(spec, spec.drug_b.drug)


def _ic50_nM(spec: ScreenSpec, drug: str) -> float:
    """A drug's IC50: the catalogue's, or the model's ``IC50_<drug>`` for a drug added with ``--add-drug``."""
    drugs = load_drugs()
    if drug in drugs:
        return drugs[drug].ic50_nM
    return float(spec.model.parameters[f"IC50_{drug}"])


def rank_combinations(wells: pd.DataFrame, spec: ScreenSpec) -> pd.DataFrame:
    """Combinations that reach the target p-ERK suppression, least total normalised dose first.

    Normalised dose = dose_a/IC50_a + dose_b/IC50_b with catalogue IC50s (1 = one IC50-equivalent). With an
    ensemble, a well counts as reaching the target when the median over members does, and the fraction of
    members that reach it is reported.
    """
    sub = wells[(wells["series"] == "matrix") & (wells["readout"] == "perk_suppression") & (wells["status"] == "ok")]
    if sub.empty:
        return pd.DataFrame(columns=["cell_line", "dose_a_nM", "dose_b_nM", "normalised_dose", "perk_suppression",
                                     "fraction_of_members_reaching_target"])
    keys = ["cell_line", "dose_a_nM", "dose_b_nM"]
    reached = (sub["value"] >= spec.target_suppression).astype(float)  # one vectorised mean, no lambda per well
    table = pd.DataFrame({
        "perk_suppression": sub.groupby(keys)["value"].median(),
        "fraction_of_members_reaching_target": reached.groupby([sub[k] for k in keys]).mean(),
    }).reset_index()
    table["normalised_dose"] = (table["dose_a_nM"] / _ic50_nM(spec, spec.drug_a.drug)
                                + table["dose_b_nM"] / _ic50_nM(spec, spec.drug_b.drug))
    hit = table[table["perk_suppression"] >= spec.target_suppression]
    return hit.sort_values(["cell_line", "normalised_dose"]).reset_index(drop=True)


def _finish(spec: ScreenSpec, out_dir: Path, wells: pd.DataFrame, synergy: pd.DataFrame, ratio: float,
            started: float, runs: Mapping, owner: Owner, job: dict, ensemble: dict) -> ScreenResult:
    import time

    computed = time.perf_counter()
    files: list[Path] = []
    per_well = wells.drop_duplicates(["cell_line", "member", "series", "dose_a_nM", "dose_b_nM"])
    failed = per_well[per_well["status"] != "ok"]
    summary = failed.groupby("status").size().to_dict() if not failed.empty else {}
    # a chunk that raised has no rows at all: count its wells as failed, with the chunk's error
    chunk_failures = {f"{stage}:{f.chunk_id}": f.message for stage, run in runs.items() for f in run.failures}
    missing = sum(_chunk_wells(spec, f.chunk_id) for f in runs["wells"].failures)
    if missing:
        summary["chunk failed (no rows)"] = missing
    tables = {"wells": wells, "synergy": synergy, "ranking": rank_combinations(wells, spec)}
    begin_final_writes(out_dir)  # from here on the folder is not the old complete result: no manifest until done
    # The big tables are written on threads (Arrow's writers release the GIL) while this thread computes the
    # ensemble spread (pandas): the two overlap instead of running one after the other (~0.2 s of a screen).
    with ThreadPoolExecutor(max_workers=1) as background:
        written = background.submit(write_tables, tables, out_dir)
        # a readout that rises above its untreated value (feedback relief) has a negative fraction affected:
        # kept, flagged per score row, and counted here so the run reports it
        below = synergy[(synergy["score"] == "bliss") & synergy["flag"].astype(str).str.contains("below_baseline")]
        below_counts = below.groupby(["cell_line", "readout"]).size().to_dict() if not below.empty else {}
        spread = {"synergy_ensemble": _ensemble_summary(synergy)} if spec.ensemble and not synergy.empty else {}
        files += written.result()
    files += write_tables(spread, out_dir) if spread else []
    elapsed = time.perf_counter() - started
    timings = {"wells": runs["wells"].elapsed_s, "synergy": runs["synergy"].elapsed_s,
               "tables": time.perf_counter() - computed, "screen": elapsed}
    files.append(write_manifest(
        out_dir / "manifest.json", models={"model": spec.model}, timings=timings, owner=owner, job=job,
        counts={"wells": int(len(per_well)) + missing, "wells_ok": int(len(per_well) - len(failed)),
                "wells_failed": int(len(failed)) + missing,
                **{f"{stage}_{k}": v for stage, run in runs.items() for k, v in run.counts().items()}},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"screen": {
            "cell_lines": list(spec.cell_lines), "drug_a": spec.drug_a.drug, "doses_a_nM": list(spec.drug_a.doses),
            "drug_b": spec.drug_b.drug, "doses_b_nM": list(spec.drug_b.doses), "readouts": list(spec.readouts),
            "mode": spec.mode, "ensemble_members": len(spec.ensemble), "ensemble": ensemble,
            "constant_ratio_a_to_b": ratio,
            "target_suppression": spec.target_suppression, "failures": summary,
            "readout_info": {k: {"label": r.label, "unit": r.unit, "description": r.description, "effect": r.effect}
                             for k, r in readouts_for(spec.model, spec.readouts).items() if k in spec.readouts},
            **({"readout_conventions": {"level": LEVEL_CONVENTION}}
               if any(readouts_for(spec.model, spec.readouts)[r].level for r in spec.readouts) else {}),
            "chunk_failures": chunk_failures,
            "wells_below_baseline": {f"{line}/{readout}": int(n) for (line, readout), n in below_counts.items()}},
            "score_conventions": SCORE_CONVENTIONS},
    ))
    oscillates = per_well["message"].astype(str).str.contains("treated condition oscillates", regex=False)
    oscillating = per_well[(per_well["status"] == "ok") & oscillates]
    return ScreenResult(out_dir=out_dir, wells=int(len(per_well)) + missing, failed_wells=int(len(failed)) + missing,
                        failure_summary=MappingProxyType(summary), files=tuple(files), elapsed_s=elapsed,
                        oscillating_wells=int(len(oscillating)))


def _ensemble_summary(synergy: pd.DataFrame) -> pd.DataFrame:
    """Spread of every score over ensemble members, and the probability of synergy.

    Well scores are grouped per well (dose pair); the constant-ratio CI per fa level (the mixture's doses
    at a given fa differ between members); the per-matrix summaries (``bliss_mean``...) per matrix. Synergy
    means CI < 0.9 for CI scores and excess > 0 otherwise.
    """
    parts = []
    value = synergy["value"].to_numpy(dtype=float)
    summaries = tuple(f"{name}_{kind}" for name in SUMMARISED_SCORES for kind in ("mean", "msa"))
    for scores, keys in ((WELL_SCORES, ["dose_a", "dose_b"]), (("ci_ratio",), ["fa"]), (summaries, [])):
        # only the grouped columns are taken: copying the flag strings of every row was most of the time
        keep = synergy["score"].isin(scores).to_numpy() & ~np.isnan(value)
        if not keep.any():
            continue
        sub = synergy.loc[keep, ["cell_line", "readout", "score", *keys, "value"]]
        ci = sub["score"].isin([s for s in scores if s.startswith("ci")]).to_numpy()
        sub = sub.assign(synergistic=np.where(ci, sub["value"] < 0.9, sub["value"] > 0))
        grouped = sub.groupby(["cell_line", "readout", "score", *keys])
        quantiles = grouped["value"].quantile([0.05, 0.95]).unstack()  # vectorised; a lambda per group was slow
        out = pd.DataFrame({"median": grouped["value"].median(), "q05": quantiles[0.05], "q95": quantiles[0.95],
                            "members": grouped["value"].count()})
        out["probability_of_synergy"] = grouped["synergistic"].mean()
        parts.append(out.reset_index())
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
