"""Self-describing screen tables: drug names, doses in nM and units in columns; the SynergyFinder table.

Why here, after the passes: the chunk parts keep their compact columns (so ``--resume`` of a run started by an
earlier mekisim still matches its parts); the tables a user reads, and the returned frames, name what they hold:
``drug_a``/``drug_b``, ``dose_a_nM``/``dose_b_nM``, each value's ``unit`` and, for the wells, its
``fraction_affected`` (the 0-1 effect every synergy score uses).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..readouts import Readout

#: synergy score -> unit of its ``value`` (the ``score`` column names the quantity)
_FA = "fraction affected"
SCORE_UNITS: dict[str, str] = {
    "bliss": _FA, "hsa": _FA, "loewe": _FA, "zip": _FA, "ci": "1", "iso_x": "1", "iso_y": "1",
    "ci_ratio": "1", "dri_a": "1", "dri_b": "1",
}

#: columns of the SynergyFinder "Table" input format (SynergyFinder docs), then the optional cell line
SYNERGYFINDER_COLUMNS = ("PairIndex", "Drug1", "Drug2", "Conc1", "Conc2", "Response", "ConcUnit", "cell_line_name")


def score_unit(score: str) -> str:
    """The unit of a synergy score's value.

    Excess scores and their summaries are in fraction affected, CI and dose-reduction indices dimensionless
    ("1"), the median-effect ``Dm`` in nM, the slope ``m`` and the fit's ``r`` "1".
    """
    if score in SCORE_UNITS:
        return SCORE_UNITS[score]
    if score.startswith("median_"):
        return "nM" if score.endswith("_Dm") else "1"
    if score.endswith(("_mean", "_msa")):
        return _FA
    return ""


def describe_wells(wells: pd.DataFrame, drug_a: str, drug_b: str, readouts: Mapping[str, Readout]) -> pd.DataFrame:
    """The wells table with ``drug_a``, ``drug_b`` after ``series``, ``unit``, ``fraction_affected`` after ``value``.

    ``fraction_affected`` is NaN for a readout without an effect form. Idempotent.
    """
    if "unit" in wells.columns:
        return wells
    out = wells.copy()
    at = out.columns.get_loc("series") + 1
    out.insert(at, "drug_a", drug_a)
    out.insert(at + 1, "drug_b", drug_b)
    readout = out["readout"].astype(str)
    at = out.columns.get_loc("value") + 1
    out.insert(at, "unit", readout.map(lambda r: readouts[r].unit if r in readouts else ""))
    fa = np.full(len(out), np.nan)
    for key in readout.unique():
        rows = (readout == key).to_numpy()
        if key in readouts and readouts[key].effect is not None:
            fa[rows] = readouts[key].fraction_affected(out.loc[rows, "value"].to_numpy(dtype=float))
    out.insert(at + 1, "fraction_affected", fa)
    return out


def describe_synergy(synergy: pd.DataFrame, drug_a: str, drug_b: str) -> pd.DataFrame:
    """The synergy table with drug names, doses in nM (``dose_a_nM``/``dose_b_nM``) and each value's ``unit``.

    ``drug_a``, ``drug_b`` follow ``readout``; ``unit`` follows ``value``. Idempotent.
    """
    if "unit" in synergy.columns:
        return synergy
    out = synergy.rename(columns={"dose_a": "dose_a_nM", "dose_b": "dose_b_nM"})
    at = out.columns.get_loc("readout") + 1
    out.insert(at, "drug_a", drug_a)
    out.insert(at + 1, "drug_b", drug_b)
    units = {s: score_unit(s) for s in out["score"].astype(str).unique()}
    out.insert(out.columns.get_loc("value") + 1, "unit", out["score"].astype(str).map(units))
    return out


def synergyfinder_table(wells: pd.DataFrame, readout: str) -> pd.DataFrame:
    """SynergyFinder's "Table" input for one readout of a described wells table (:func:`describe_wells`).

    One block (``PairIndex``) per cell line and ensemble member, the dose matrix only (the constant-ratio
    mixture wells are off the grid), ``Response`` = % inhibition = 100 x fraction affected, ``ConcUnit`` nM.
    SynergyFinder accepts % inhibition or % viability and must be told which: in R
    ``ReshapeData(data, data_type = "inhibition")``, on the web the response type "% inhibition". A block with a
    failed well is left out (SynergyFinder needs full matrices); the caller reports how many.
    """
    w = wells[(wells["readout"] == readout) & (wells["series"] == "matrix")]
    blocks = []
    for (_, _), block in w.groupby(["cell_line", "member"], sort=False):
        if (block["status"] != "ok").any() or block["fraction_affected"].isna().any():
            continue
        blocks.append(block)
    if not blocks:
        return pd.DataFrame(columns=list(SYNERGYFINDER_COLUMNS))
    rows = []
    for index, block in enumerate(blocks, start=1):
        rows.append(pd.DataFrame({
            "PairIndex": index, "Drug1": block["drug_a"].to_numpy(), "Drug2": block["drug_b"].to_numpy(),
            "Conc1": block["dose_a_nM"].to_numpy(), "Conc2": block["dose_b_nM"].to_numpy(),
            "Response": 100.0 * block["fraction_affected"].to_numpy(dtype=float), "ConcUnit": "nM",
            "cell_line_name": block["cell_line"].to_numpy(),
        }))
    return pd.concat(rows, ignore_index=True)


def synergyfinder_readouts(readouts: Mapping[str, Readout], present: set[str]) -> list[str]:
    """Readouts of a screen that have an effect form (a % inhibition), in screen order."""
    return [key for key, r in readouts.items() if key in present and r.effect is not None]


def write_synergyfinder(wells: pd.DataFrame, readouts: Mapping[str, Readout], out_dir) -> list:
    """Write ``out_dir/synergyfinder_<readout>_inhibition.csv`` for every inhibition readout of the wells.

    ``wells`` is a described wells table; returns the paths written (none when no readout has a full matrix).
    """
    from pathlib import Path

    from ..files import write_table

    paths = []
    for readout in synergyfinder_readouts(readouts, set(wells["readout"].astype(str))):
        table = synergyfinder_table(wells, readout)
        if not table.empty:
            paths.append(write_table(table, Path(out_dir) / f"synergyfinder_{readout}_inhibition.csv"))
    return paths
