"""The report section of a study's CI convention table: one CI design under every convention a paper leaves open."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ._html import _manifest_block, _parquet, _table


def _cell(row: pd.Series) -> str:
    """One CI as the table shows it: the number, and why it is not a result when it is not."""
    if not np.isfinite(row["ci"]):
        return "undefined"
    text = f"{row['ci']:.3f}"
    return text if row["usable"] else f"{text} (flagged: {row['flag'] or row['message']})"


def _ci_convention_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    """The CI convention table (``ci_convention.parquet``): line x ratio x method rows, one column per fa."""
    info = manifest["ci_convention"]
    table = _parquet(folder / "ci_convention.parquet")
    table = table.assign(shown=[_cell(row) for _, row in table.iterrows()])
    wide = table.pivot_table(index=["cell_line", "ratio", "method"], columns="fa", values="shown", aggfunc="first",
                             sort=False)
    wide.columns = [f"CI at fa {fa:g}" for fa in wide.columns]
    median = table[table["method"] == "median-effect"].drop_duplicates(["cell_line", "ratio"])
    fits = median[["cell_line", "ratio", "r_a", "r_b", "r_mix", "n_mix", "mix_fa_min", "mix_fa_max"]].rename(
        columns={"r_a": f"r {info['drug_a']}", "r_b": f"r {info['drug_b']}", "r_mix": "r mixture",
                 "n_mix": "mixture points fitted", "mix_fa_min": "mixture fa min", "mix_fa_max": "mixture fa max"})
    a, b = html.escape(info["drug_a"]), html.escape(info["drug_b"])
    doses = (f"{a} alone at {len(info['doses_a_nM'])} doses {min(info['doses_a_nM']):g}-{max(info['doses_a_nM']):g} "
             f"nM, {b} alone at {len(info['doses_b_nM'])} doses {min(info['doses_b_nM']):g}-"
             f"{max(info['doses_b_nM']):g} nM, the mixture diluted like {a} alone ({b} = {a} x B/A)")
    return "".join([
        f"<h2>CI convention: {a} + {b} ({html.escape(title)})</h2>",
        "<p>The same simulated cells, the same Chou–Talalay question, under the choices a paper reporting one CI "
        "does not state: the dose ratio of the mixture, the fa level, and whether the CI comes from median-effect "
        f"fits (CompuSyn) or from the model's own curves (exact Loewe, no fit). Design: {doses}; readout "
        f"{html.escape(info['readout'])}. The numbers differ by how much the paper's reported values depend on "
        "those choices.</p>",
        _table(wide.reset_index(), 200),
        "<p>The median-effect fits behind each row (r of each drug alone and of the mixture; the fa range of "
        "the mixture's fitted points):</p>",
        _table(fits, 200),
        "<ul>"
        f"<li><b>median-effect</b>: {html.escape(info['median_effect'])}</li>"
        f"<li><b>exact Loewe</b>: {html.escape(info['exact'])}</li></ul>",
        _manifest_block(manifest),
    ])
