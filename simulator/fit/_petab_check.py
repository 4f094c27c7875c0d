"""Self-check of a PEtab problem: our nominal simulation against the simulated-data table the problem ships.

Why: a wrong objective with every status ok is the worst failure of a fitter (an initial assignment that was not
re-evaluated moved Bertozzi 2020's nllh from 158.9 to 1.8e11). Many problems of the PEtab benchmark collection
ship their authors' own simulation at the nominal parameters (``simulatedData_*.tsv``, ``simulations.tsv``); a
disagreement with it is a loud failure, not a number to trust.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import SolverOptions
from ..errors import InputError
from ._petab import PetabProblem
from ._petab_simulate import _aligned_simulation, simulate_petab

#: A row disagrees when |ours - theirs| > CHECK_RTOL * max(|theirs|, floor) (floor: 1e-6 of the table's largest
#: value); the 6 benchmark tables that can be joined agree to <= 2.5e-7 at rtol 1e-10 (notes/petab ANALYSIS.md)
CHECK_RTOL = 1e-4

_TABLE_PATTERNS = ("simulatedData*.tsv", "simulations*.tsv", "simulatedData*.csv")


@dataclass(frozen=True)
class SimulatedDataCheck:
    """Outcome of :func:`check_simulated_data`.

    Attributes
    ----------
    status
        ``"ok"`` (every row agrees), ``"failed"`` (some row disagrees or could not be simulated) or
        ``"not checked"`` (no table, or one that cannot be matched to the measurements).
    table
        The simulated-data file compared with, or None.
    n_rows
        Measurement rows compared.
    max_rel_diff
        Largest relative difference over the rows (NaN when not checked).
    worst
        The worst row in words (observable, condition, time, both values), or ``""``.
    message
        One sentence for a person.
    """

    status: str
    table: Path | None
    n_rows: int
    max_rel_diff: float
    worst: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def find_simulated_data(problem: PetabProblem) -> Path | None:
    """The simulated-data table shipped next to the problem's YAML (benchmark-collection names), or None."""
    folder = Path(problem.source).parent
    for pattern in _TABLE_PATTERNS:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None


def check_simulated_data(problem: PetabProblem, table: str | Path | None = None, *,
                         options: SolverOptions | None = None) -> SimulatedDataCheck:
    """Compare the nominal simulation with a shipped simulated-data table, row by row.

    Rows are matched on the key columns both tables share (observable, conditions, time, overrides), with
    observable ids cut at ``__`` (some tables flatten ``obs__scale__noise__condition`` into the id); when that
    fails, by row order, but only if condition, time and observable agree on every row. Otherwise the check
    says "not checked" and why (e.g. Fujita 2010's table uses the old condition ids).

    Parameters
    ----------
    problem
        From :func:`load_petab`.
    table
        The table to compare with; default :func:`find_simulated_data`.
    options
        Solver settings; default the fitter's (rtol 1e-10, atol 1e-12).
    """
    from ._objective import DEFAULT_OPTIONS

    path = Path(table) if table is not None else find_simulated_data(problem)
    if path is None:
        return SimulatedDataCheck("not checked", None, 0, math.nan, "",
                                  "the problem ships no simulated-data table (simulatedData_*.tsv, simulations.tsv)")
    try:
        theirs = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
    except (OSError, ValueError) as exc:
        return SimulatedDataCheck("not checked", path, 0, math.nan, "", f"{path.name} could not be read: {exc}")
    if "observableId" in theirs:
        theirs["observableId"] = theirs["observableId"].astype(str).str.split("__").str[0]
    expected = _match(problem, theirs)
    if isinstance(expected, str):
        return SimulatedDataCheck("not checked", path, 0, math.nan, "", f"{path.name} {expected}")
    ours = simulate_petab(problem, options=options or DEFAULT_OPTIONS, throw=False)
    mine = ours["simulation"].to_numpy(dtype=float)
    floor = 1e-6 * float(np.nanmax(np.abs(expected))) if np.isfinite(expected).any() else 1.0
    with np.errstate(invalid="ignore"):
        rel = np.abs(mine - expected) / np.maximum(np.abs(expected), max(floor, 1e-300))
    rel = np.where(np.isfinite(rel), rel, np.inf)
    k = int(np.argmax(rel))
    row = ours.iloc[k]
    worst = (f"row {k + 1} ({row['observableId']}, condition {row['simulationConditionId']}, time {row['time']}): "
             f"ours {mine[k]:.10g}, {path.name} {expected[k]:.10g}")
    worst_rel = float(rel[k])
    if worst_rel > CHECK_RTOL:
        bad = int(np.sum(rel > CHECK_RTOL))
        return SimulatedDataCheck("failed", path, mine.size, worst_rel, worst,
                                  f"{bad} of {mine.size} rows differ from {path.name} by more than {CHECK_RTOL:g} "
                                  f"relative; worst {worst}")
    return SimulatedDataCheck("ok", path, mine.size, worst_rel, worst,
                              f"{mine.size} of {mine.size} rows agree with {path.name} (max relative difference "
                              f"{worst_rel:.2g})")


def _match(problem: PetabProblem, theirs: pd.DataFrame) -> np.ndarray | str:
    """Their simulated value of every measurement row, or why the tables cannot be matched."""
    if "simulation" not in theirs:
        return "has no 'simulation' column"
    try:
        return _aligned_simulation(problem, theirs)
    except InputError:
        pass
    mdf = problem.petab.measurement_df.reset_index(drop=True)
    if len(theirs) != len(mdf):
        return (f"cannot be matched to the measurement table ({len(theirs)} rows against {len(mdf)}, and the key "
                "columns do not identify one simulated value per measurement)")
    for column in ("observableId", "simulationConditionId", "time"):
        if column not in theirs:
            return f"has no {column!r} column"
        a, b = mdf[column].astype(str).to_numpy(), theirs[column].astype(str).to_numpy()
        if column == "time":
            a, b = mdf[column].to_numpy(dtype=float), theirs[column].to_numpy(dtype=float)
        if not np.array_equal(a, b):
            return f"cannot be matched to the measurement table: its {column} column differs row by row"
    return theirs["simulation"].to_numpy(dtype=float)
