"""What to screen: dose axes, cell lines, readouts, an ensemble of parameter sets; and its size limits."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._frozen import reduce_frozen
from ..engine import SolverOptions
from ..errors import InputError
from ..files import check_separator, read_text
from ..model import DEFAULTS_LABEL, CompiledModel, accepted_drugs, cell_lines_for, load_drugs, resolve_values
from ..readouts import READOUTS, Readout, level_hint, readouts_for, unknown_readout_message
from ..units import MAX_DOSE_NM, parse_amount

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


#: well-level synergy scores (the rest of the synergy table is isobologram, constant-ratio and fit rows)
WELL_SCORES = ("bliss", "hsa", "loewe", "zip", "ci")


#: excess scores summarised per matrix as ``<score>_mean`` and ``<score>_msa`` rows (simulator.synergy.matrix_summaries)
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
    values
        Parameter values of every well, treated and untreated (so before pre-equilibration), over the cell
        line's (``--set``); stored as sorted (id, value) pairs. An ensemble may not vary them.
    switch_off
        Names of the model's switches (metadata ``[switches]``) turned off in every well (``--switch-off``).
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
    values: Mapping[str, float] | tuple[tuple[str, float], ...] = ()  # a mapping in; stored as sorted pairs
    switch_off: tuple[str, ...] = ()

    __reduce__ = reduce_frozen

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(sorted(dict(self.values).items())))
        object.__setattr__(self, "switch_off", tuple(self.switch_off))
        resolve_values(self.model, dict(self.values), self.switch_off)  # unknown ids or switches: close names
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
        model_values = {**self.model.species_initial, **self.model.parameters}
        held = self.applied_values
        for i, member in enumerate(self.ensemble):
            both = sorted(set(dict(member)) & set(held))
            if both:
                raise InputError(f"ensemble member {i} varies {', '.join(both)}, which --set/--switch-off hold at "
                                 f"{', '.join(f'{k} = {held[k]:g}' for k in both)}; leave them out of one of the two.")
            unknown = sorted(set(dict(member)) - settable)
            if unknown:
                raise InputError(f"ensemble member {i} sets {', '.join(unknown)}, which model {self.model.name!r} "
                                 "does not have as settable parameters.")
            # a negative value where the model's own is >= 0 (a rate constant, total or Km) only fails later, as a
            # Newton message per well; one whose default is negative (an offset) may stay negative
            negative = [(k, v) for k, v in member if not (v >= 0) and model_values[k] >= 0]
            if negative:
                k, v = negative[0]
                raise InputError(f"ensemble member {i} sets {k} = {v:g}, but {k} is >= 0 in model "
                                 f"{self.model.name!r} ({model_values[k]:g}): rate constants, totals and Michaelis "
                                 "constants cannot be negative; check that row of the ensemble.")

        if self.wells > MAX_SCREEN_WELLS:
            raise InputError(
                f"the screen has {self.wells:,} wells ({len(self.cell_lines)} line(s) x {self.members} member(s) x "
                f"{len(self.drug_a.doses)} x {len(self.drug_b.doses)} doses), more than the limit of "
                f"{MAX_SCREEN_WELLS:,}; its tables would need about {_table_bytes(self) / 1e9:.0f} GB of memory. "
                "Use fewer doses, lines or members, or split it into several screens."
            )

    @property
    def applied_values(self) -> dict[str, float]:
        """The values every well applies: the switches turned off, then :attr:`values`."""
        return resolve_values(self.model, dict(self.values), self.switch_off)

    @property
    def members(self) -> int:
        """Number of parameter sets (1 for the nominal parameters)."""
        return max(1, len(self.ensemble))

    @property
    def wells(self) -> int:
        """Wells in the whole screen (lines x members x dose pairs)."""
        return len(self.cell_lines) * self.members * len(self.drug_a.doses) * len(self.drug_b.doses)

    @property
    def mixture_points(self) -> int:
        """Points of each matrix's constant-ratio mixture series: drug A's doses > 0 (:func:`ratio_series`)."""
        return len(self.drug_a.doses) - 1


def _simulated_wells(spec: ScreenSpec) -> int:
    """Wells the run simulates: the matrices plus each matrix's constant-ratio mixture series."""
    return spec.wells + len(spec.cell_lines) * spec.members * spec.mixture_points


def _table_bytes(spec: ScreenSpec) -> int:
    """Memory the run's wells and synergy tables take (rows x :data:`MEMORY_PER_ROW`)."""
    matrices = len(spec.cell_lines) * spec.members * max(1, len(spec.readouts))
    per_matrix = (len(WELL_SCORES) + 2) * len(spec.drug_a.doses) * len(spec.drug_b.doses) + 3 * len(FA_LEVELS) + 17
    return (_simulated_wells(spec) * max(1, len(spec.readouts)) * MEMORY_PER_ROW["wells"]
            + matrices * per_matrix * MEMORY_PER_ROW["synergy"])


def load_ensemble(path: str | Path) -> tuple[dict[str, float], ...]:
    """Read a parameter ensemble: CSV, TSV or Parquet, one row per member, one column per parameter id.

    A column ``member`` (if present) is the member's label and is ignored here; every other column must
    hold finite numbers (linear scale).

    Parameters
    ----------
    path
        The ensemble file (e.g. a fit's ``ensemble.csv``).

    Returns
    -------
    tuple[dict[str, float], ...]
        One parameter-id -> value mapping per member, in file order.
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


def effect_of(readout: str | Readout, values: np.ndarray) -> np.ndarray:
    """Readout -> fraction affected (inhibition) for synergy scoring; values below 0 are kept (flagged later).

    ``readout`` is a :class:`~simulator.readouts.Readout` (any model's) or the id of a built-in one: p-ERK
    suppression already is 1 - pERK/pERK_untreated; viability (%) becomes 1 - viability/100.

    Parameters
    ----------
    readout
        A :class:`Readout` or a built-in readout id.
    values
        Readout values.

    Returns
    -------
    numpy.ndarray
        Fraction affected, same shape as ``values``.
    """
    if isinstance(readout, str):
        if readout not in READOUTS or READOUTS[readout].effect is None:
            raise InputError(f"readout {readout!r} has no fraction-affected form; synergy applies to "
                             f"{', '.join(k for k, r in READOUTS.items() if r.effect)} (and to model readouts "
                             "declared with an effect).")
        readout = READOUTS[readout]
    return readout.fraction_affected(values)


def _default_ratio(spec: ScreenSpec) -> float:
    """The IC50 ratio A:B (equipotent mixture), the CompuSyn convention for a constant ratio."""
    return _ic50_nM(spec, spec.drug_a.drug) / _ic50_nM(spec, spec.drug_b.drug)


def _ic50_nM(spec: ScreenSpec, drug: str) -> float:
    """A drug's IC50: the catalogue's, or the model's ``IC50_<drug>`` for a drug added with ``--add-drug``."""
    drugs = load_drugs()
    if drug in drugs:
        return drugs[drug].ic50_nM
    return float(spec.model.parameters[f"IC50_{drug}"])
