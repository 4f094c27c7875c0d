"""The Chou-Talalay constant-ratio design simulated on a model: median-effect CI and the exact Loewe CI.

A screen scores its mixture series with :func:`simulator.synergy.constant_ratio_ci_many`; :func:`ci_design` runs the
same design outside a dose matrix (drug A alone, drug B alone, the mixture diluted like drug A) and scores it with
the same function, so a study, an experiment and a screen with the same doses give the same CI. :func:`exact_ci`
answers the same question without the median-effect fits: it finds, on the model itself, the dose of each drug
alone and of the mixture that reaches each fa, which shows how much of a CI is the fit's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine import SolverOptions
from ..errors import InputError, SimulationError
from ..model import CompiledModel, load_cell_lines, load_drugs, make_condition
from ..readouts import compute_readouts, readouts_for, unknown_readout_message
from ..status import Status
from ..synergy import ConstantRatioCI, classify_ci, constant_ratio_ci

#: dose range (nM) searched by :func:`exact_ci`: a drug that has not reached an fa at the upper end never does
#: (1 mM: any drug's occupancy is complete long before)
EXACT_DOSE_RANGE_NM = (1e-4, 1e6)


#: the exact CI method in words (study manifests and the report)
EXACT_CI_METHOD = (
    "exact Loewe CI: d_A/Dx_A + d_B/Dx_B where each Dx and the mixture's total dose reaching fa are found on the "
    "model itself (the first dose on a 4-per-decade grid over "
    f"{EXACT_DOSE_RANGE_NM[0]:g}-{EXACT_DOSE_RANGE_NM[1]:g} nM at which fa is reached, then "
    "bisection in log dose to 1e-10 relative), no median-effect fit. A drug that alone never reaches fa in that "
    "range contributes 0 (Loewe's limit for a drug whose maximal effect is below fa); the CI is undefined when "
    "neither drug alone, or the mixture, reaches fa."
)


def _fraction_affected(model: CompiledModel, cell_line: str | None, drug_a: str, drug_b: str,
                       pairs: Sequence[tuple[float, float]], readout: str, mode: str,
                       values: Mapping[str, float] | None, options: SolverOptions | None) -> np.ndarray:
    """Fa of ``readout`` at each (dose A, dose B) pair (nM).

    A failed simulation raises :class:`~simulator.errors.SimulationError` naming the well: a CI from a design with
    a missing point would be a different design, and a root search cannot step over a hole.
    """
    available = readouts_for(model, (readout,))
    if readout not in available or available[readout].effect is None:
        raise InputError(unknown_readout_message(model, [readout]) if readout not in available else
                         f"readout {readout!r} has no fraction-affected form; a CI needs an inhibition readout.")
    drugs, lines = load_drugs(), load_cell_lines()
    conditions = [make_condition(model, cell_line, {drug_a: a, drug_b: b}, values=values, catalog=drugs, lines=lines)
                  for a, b in pairs]
    records = compute_readouts(model, conditions, mode=mode, readouts=(readout,), options=options)
    bad = [(p, r) for p, r in zip(pairs, records, strict=True) if r.status != Status.OK]
    if bad:
        (a, b), rec = bad[0]
        raise SimulationError(f"{len(bad)} of {len(pairs)} simulations of the CI design failed in "
                         f"{cell_line or 'model defaults'} (first: {drug_a} {a:g} nM + {drug_b} {b:g} nM: "
                         f"{rec.status}: {rec.message}).")
    return available[readout].fraction_affected(np.array([r.values[readout] for r in records], dtype=float))


def ci_design(model: CompiledModel, cell_line: str | None, drug_a: str, doses_a: Sequence[float], drug_b: str,
              doses_b: Sequence[float], ratio: float | tuple[float, float], *,
              fa_levels: Sequence[float] = (0.5, 0.75, 0.9), readout: str = "viability", mode: str = "fast",
              values: Mapping[str, float] | None = None, options: SolverOptions | None = None) -> ConstantRatioCI:
    """Simulate CompuSyn's constant-ratio design and score it (the CI a screen with these doses reports).

    Drug A alone at ``doses_a``, drug B alone at ``doses_b`` and the mixture with drug A at ``doses_a`` and drug B
    at ``doses_a / ratio`` (a screen's mixture series, :func:`simulator.screen.ratio_series`), then
    :func:`simulator.synergy.constant_ratio_ci`: median-effect fits, CI and DRI at ``fa_levels``, each CI's
    quality flags (:data:`simulator.synergy.CI_QUALITY`).

    Parameters
    ----------
    model
        The compiled model.
    cell_line
        A cell line of the model, or None for its own parameter values.
    drug_a, doses_a, drug_b, doses_b
        Each drug and its doses alone (nM, > 0).
    ratio
        Dose A / dose B of the mixture, or a pair ``(a, b)`` meaning ``a:b`` (e.g. ``(1, 1000)``).
    fa_levels
        fa levels of the table.
    readout, mode
        An inhibition readout (fa from its fraction-affected form) and the readout mode.
    values
        Parameter values applied on top of the cell line (e.g. a fitted line parameter).
    options
        Solver settings.

    Returns
    -------
    ConstantRatioCI
        The table, its three fits and flags.
    """
    a, b = (np.asarray(d, dtype=float).ravel() for d in (doses_a, doses_b))
    if a.size < 2 or b.size < 2 or np.any(a <= 0) or np.any(b <= 0) or not (np.isfinite(a).all() and
                                                                             np.isfinite(b).all()):
        raise InputError("a CI design needs >= 2 finite doses > 0 of each drug alone.")
    r = _ratio(ratio)
    pairs = [(x, 0.0) for x in a] + [(0.0, y) for y in b] + [(x, x / r) for x in a]
    fa = _fraction_affected(model, cell_line, drug_a, drug_b, pairs, readout, mode, values, options)
    return constant_ratio_ci(a, fa[:a.size], b, fa[a.size:a.size + b.size], fa[a.size + b.size:], r, fa_levels)


@dataclass(frozen=True)
class ExactCI:
    """The exact Loewe CI along one constant ratio at fa levels (:func:`exact_ci`).

    Attributes
    ----------
    ratio
        Dose A / dose B of the mixture.
    fa
        The fa levels.
    dose_a, dose_b
        Each drug's dose in the mixture that reaches fa (NaN where the mixture never does).
    dx_a, dx_b
        Each drug's dose alone reaching fa; inf where it never does within :data:`EXACT_DOSE_RANGE_NM`.
    ci
        ``dose_a/dx_a + dose_b/dx_b`` (an infinite Dx contributes 0); NaN where undefined.
    status
        Per level: ``"ok"`` or ``"undefined"``.
    message
        Per level: why it is undefined, or what was taken as 0; ``""`` otherwise.
    """

    ratio: float
    fa: np.ndarray
    dose_a: np.ndarray
    dose_b: np.ndarray
    dx_a: np.ndarray
    dx_b: np.ndarray
    ci: np.ndarray
    status: tuple[Status, ...]
    message: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per fa level: ratio, fa, doses, Dx, CI, verdict, status, message."""
        return pd.DataFrame({"ratio_a_to_b": self.ratio, "fa": self.fa, "dose_a": self.dose_a, "dose_b": self.dose_b,
                             "dx_a": self.dx_a, "dx_b": self.dx_b, "ci": self.ci, "verdict": classify_ci(self.ci),
                             "status": list(self.status), "message": list(self.message)})


def _ratio(ratio: float | tuple[float, float]) -> float:
    value = float(ratio[0]) / float(ratio[1]) if isinstance(ratio, tuple | list) else float(ratio)
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"dose ratio {ratio!r} must be > 0 (dose A / dose B, or a pair (a, b) meaning a:b).")
    return value


def _doses_reaching(fa_of, directions: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Total dose along each direction (shares of A and B) at which fa first reaches each level.

    ``fa_of(pairs)`` simulates (dose A, dose B) pairs. A 4-per-decade grid over :data:`EXACT_DOSE_RANGE_NM` finds
    the first grid dose at or above each level; bisection in log dose narrows that interval to 1e-10 relative.
    inf where fa stays below the level up to the top of the range, NaN where it is already reached at the bottom.
    """
    lo, hi = np.log10(EXACT_DOSE_RANGE_NM)
    grid = np.logspace(lo, hi, int(round((hi - lo) * 4)) + 1)
    pairs = [(d * sa, d * sb) for sa, sb in directions for d in grid]
    fa = fa_of(pairs).reshape(len(directions), grid.size)
    out = np.full((len(directions), levels.size), np.inf)
    low, high = [], []
    index = []
    for i in range(len(directions)):
        for j, level in enumerate(levels):
            above = np.flatnonzero(fa[i] >= level)
            if not above.size:
                continue
            if above[0] == 0:
                out[i, j] = np.nan
                continue
            index.append((i, j))
            low.append(np.log(grid[above[0] - 1]))
            high.append(np.log(grid[above[0]]))
    low_a, high_a = np.array(low), np.array(high)
    while index and np.max(high_a - low_a) > 1e-10:
        middle = 0.5 * (low_a + high_a)
        shares = np.array([directions[i] for i, _ in index])
        values = fa_of([(math.exp(x) * sa, math.exp(x) * sb) for x, (sa, sb) in zip(middle, shares, strict=True)])
        reached = values >= levels[[j for _, j in index]]
        high_a, low_a = np.where(reached, middle, high_a), np.where(reached, low_a, middle)
    for (i, j), x in zip(index, high_a, strict=True):
        out[i, j] = math.exp(x)
    return out


def exact_ci(model: CompiledModel, cell_line: str | None, drug_a: str, drug_b: str,
             ratio: float | tuple[float, float], *, fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
             readout: str = "viability", mode: str = "fast", values: Mapping[str, float] | None = None,
             options: SolverOptions | None = None) -> ExactCI:
    """The Loewe combination index along a constant ratio from the model's own curves, without median-effect fits.

    Method and conventions: :data:`EXACT_CI_METHOD`. Why: the median-effect CI depends on how well a straight
    line describes each drug's log-odds (a weak partner, a viability floor); the exact CI does not, so the two
    side by side show how much of a reported CI is the fit's.

    Parameters
    ----------
    model, cell_line, drug_a, drug_b, ratio, fa_levels, readout, mode, values, options
        As in :func:`ci_design` (no dose series: the doses are found).

    Returns
    -------
    ExactCI
        Doses, Dx, CI and a status and message per level.
    """
    r = _ratio(ratio)
    levels = np.asarray(fa_levels, dtype=float).ravel()
    if not levels.size or np.any((levels <= 0) | (levels >= 1)):
        raise InputError(f"fa levels {list(fa_levels)} must lie strictly between 0 and 1.")

    def fa_of(pairs):
        return _fraction_affected(model, cell_line, drug_a, drug_b, pairs, readout, mode, values, options)

    share_a = r / (1.0 + r)
    directions = np.array([[1.0, 0.0], [0.0, 1.0], [share_a, 1.0 - share_a]])
    dx_a, dx_b, total = _doses_reaching(fa_of, directions, levels)
    dose_a, dose_b = total * share_a, total * (1.0 - share_a)
    ci = np.full(levels.size, np.nan)
    status, message = [], []
    top = f"{EXACT_DOSE_RANGE_NM[1]:g} nM"
    for k, level in enumerate(levels):
        alone = {drug_a: dx_a[k], drug_b: dx_b[k]}
        below = [name for name, dx in (*alone.items(), ("the mixture", total[k])) if np.isnan(dx)]
        never = [name for name, dx in alone.items() if np.isinf(dx)]
        if below:
            why = f"fa {level:g} is reached by {' and '.join(below)} below {EXACT_DOSE_RANGE_NM[0]:g} nM"
        elif np.isinf(total[k]):
            why = f"the mixture never reaches fa {level:g} up to {top}"
        elif len(never) == 2:
            why = (f"neither drug alone reaches fa {level:g} up to {top}: Loewe's CI is undefined beyond both "
                   "single agents")
        else:
            why = ""
        if why:
            status.append(Status.UNDEFINED)
            message.append(why)
            continue
        ci[k] = sum(dose / dx for dose, dx in ((dose_a[k], dx_a[k]), (dose_b[k], dx_b[k])) if np.isfinite(dx))
        status.append(Status.OK)
        message.append(f"{never[0]} alone never reaches fa {level:g} up to {top}: its term is 0" if never else "")
    with np.errstate(invalid="ignore"):
        dose_a = np.where(np.isfinite(total), dose_a, np.nan)
        dose_b = np.where(np.isfinite(total), dose_b, np.nan)
    return ExactCI(r, levels, dose_a, dose_b, dx_a, dx_b, ci, tuple(status), tuple(message))


#: columns of the CI convention table (:func:`ci_convention_table`), in order
CI_CONVENTION_COLUMNS = ("cell_line", "ratio", "ratio_a_to_b", "fa", "method", "ci", "verdict", "dose_a_nM",
                         "dose_b_nM", "dx_a_nM", "dx_b_nM", "dri_a", "r_a", "r_b", "r_mix", "n_mix", "mix_fa_min",
                         "mix_fa_max", "flag", "usable", "status", "message")


def ci_convention_table(model: CompiledModel, cell_lines: Sequence[str | None], drug_a: str,
                        doses_a: Sequence[float], drug_b: str, doses_b: Sequence[float],
                        ratios: Sequence[tuple[float, float]], *, fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
                        readout: str = "viability", mode: str = "fast",
                        options: SolverOptions | None = None) -> pd.DataFrame:
    """One CI design under the conventions a paper leaves open: ratio x fa x median-effect vs exact Loewe.

    Why: a reported CI (CompuSyn) is one number, but the same cells give different numbers at another dose
    ratio, another fa, or without the median-effect fits; the table puts them side by side for each line.

    Parameters
    ----------
    model, cell_lines
        The model and the lines (None: the model's own values).
    drug_a, doses_a, drug_b, doses_b
        The design's single-drug series (nM); the mixture is diluted like drug A (:func:`ci_design`).
    ratios
        Pairs ``(a, b)`` meaning a:b, e.g. ``[(1, 100), (1, 1000)]``.
    fa_levels, readout, mode, options
        As in :func:`ci_design`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CI_CONVENTION_COLUMNS`, one row per line, ratio, fa and method (``median-effect``: the
        CompuSyn CI with its fits' r and quality flags; ``exact Loewe``: :func:`exact_ci`). ``usable`` is False
        for a flagged or undefined CI.
    """
    rows = []
    for line in cell_lines:
        for a, b in ratios:
            label = f"{a:g}:{b:g}"
            med = ci_design(model, line, drug_a, doses_a, drug_b, doses_b, (a, b), fa_levels=fa_levels,
                            readout=readout, mode=mode, options=options)
            frame = med.to_frame()
            for _, row in frame.iterrows():
                rows.append({"cell_line": line, "ratio": label, "ratio_a_to_b": med.ratio, "fa": row["fa"],
                             "method": "median-effect", "ci": row["ci"], "verdict": row["verdict"],
                             "dose_a_nM": row["dose_a"], "dose_b_nM": row["dose_b"], "dx_a_nM": row["dx_a"],
                             "dx_b_nM": row["dx_b"], "dri_a": row["dri_a"], "r_a": row["r_a"], "r_b": row["r_b"],
                             "r_mix": row["r_mix"], "n_mix": row["n_mix"], "mix_fa_min": row["mix_fa_min"],
                             "mix_fa_max": row["mix_fa_max"], "flag": row["flag"], "usable": bool(row["usable"]),
                             "status": str(row["status"]), "message": row["message"]})
            exact = exact_ci(model, line, drug_a, drug_b, (a, b), fa_levels=fa_levels, readout=readout, mode=mode,
                             options=options)
            for k, level in enumerate(exact.fa):
                rows.append({"cell_line": line, "ratio": label, "ratio_a_to_b": exact.ratio, "fa": level,
                             "method": "exact Loewe", "ci": exact.ci[k], "verdict": classify_ci(exact.ci[k:k + 1])[0],
                             "dose_a_nM": exact.dose_a[k], "dose_b_nM": exact.dose_b[k], "dx_a_nM": exact.dx_a[k],
                             "dx_b_nM": exact.dx_b[k], "dri_a": exact.dx_a[k] / exact.dose_a[k],
                             "r_a": math.nan, "r_b": math.nan, "r_mix": math.nan, "n_mix": 0, "mix_fa_min": math.nan,
                             "mix_fa_max": math.nan, "flag": "", "usable": bool(np.isfinite(exact.ci[k])),
                             "status": str(exact.status[k]), "message": exact.message[k]})
    table = pd.DataFrame(rows, columns=list(CI_CONVENTION_COLUMNS))
    table["cell_line"] = table["cell_line"].fillna("model_defaults")
    return table
