"""The report section of a sensitivity run: index bars with CIs, Morris plots, heatmaps, ranked tables."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..plots import save_figure
from ._html import _derived, _img, _manifest_block, _parquet, _table


def _index_label(method: str, main: str, unit: str) -> str:
    """Colour-bar label of the main index, with its unit."""
    if method in ("sobol", "efast"):
        return f"{main} (share of output variance)"
    if method == "morris":
        return f"mu* ({unit} per Morris step)"
    return "|d ln y / d ln p|"


#: threshold lines on output distributions: CI 0.9 (Chou-Talalay synergy), a 3-fold IC50 shift (behaviour A1)
_THRESHOLDS = {"ci": ((0.9, "CI 0.9 (synergy below)"),), "ic50_shift": ((3.0, "3-fold shift (A1)"),)}


_INDEX_AXIS = {"sobol": "Sobol index (share of output variance)", "efast": "eFAST index (share of output variance)",
               "morris": "elementary effect (output units per Morris step)",
               "local": "scaled coefficient d ln y / d ln p"}


def _interval_text(info: dict) -> str:
    """How the run's error bars were computed (they differ by method)."""
    if info["method"] == "local":
        return (f"error bars: |Richardson - central difference at h/2| (h = {info['step']:g} in ln p), an upper "
                "estimate of the truncation error")
    if info["method"] == "efast" and info.get("replicates", 1) > 1:
        return f"intervals at {info['conf_level']:.0%}: Student-t over {info['replicates']} replicate designs"
    return f"intervals at {info['conf_level']:.0%} ({info['resamples']} bootstrap draws)"


@dataclass(frozen=True)
class _Run:
    """What every output's part of a sensitivity section needs: the run's folder, method and tables."""

    folder: Path
    root: Path
    info: dict
    ranking: pd.DataFrame
    time_unit: str | None

    @property
    def method(self) -> str:
        return self.info["method"]

    @property
    def main(self) -> str:
        return self.info["main_index"]

    @property
    def shown(self) -> list[str]:
        """The indices drawn as bars (Morris' signed mu is not; local has one coefficient)."""
        if self.method == "local":
            return ["scaled"]
        return [i for i in self.info["indices"] if not (self.method == "morris" and i == "mu")]

    def figure(self, fig, stem: str, alt: str) -> str:
        """Save ``fig`` as ``figures/<stem>.png`` (and SVG) and return its ``<img>`` element."""
        png = save_figure(fig, self.folder / "figures" / f"{stem}.png")[0]
        return _img(png, self.root, alt)


def _sensitivity_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    """Bars with CIs, the Morris mu*-sigma plot, heatmaps over time / fa / dose grid, ranked tables."""
    info = manifest["sensitivity"]
    indices = _parquet(folder / "indices.parquet")
    indices = indices[indices["parameter_2"] == ""]
    columns = _parquet(folder / "columns.parquet")
    failures = _parquet(folder / "failures.parquet")
    run = _Run(folder, root, info, _parquet(folder / "ranking.parquet"),
               (manifest.get("models", {}).get("model") or {}).get("time_unit"))
    counts = manifest.get("counts", {})
    parts = _header(info, counts, title)
    overview: list[dict] = []
    for number, (output, cols) in enumerate(columns.groupby("output", sort=False)):
        sub = indices[indices["column"].isin(cols["column"])]
        parts.append(f"<h3>{html.escape(output)}</h3>")
        if len(cols) == 1:
            parts += _one_column(run, output, cols, sub, f"output{number:02d}", overview)
        else:
            parts += _many_columns(run, output, cols, sub, f"output{number:02d}")
    if len(overview) > 1:
        from ..plots import plot_overview

        model_name = (manifest.get("models", {}).get("model") or {}).get("name", "model")
        fig = plot_overview(overview, title=f"{model_name} (simulated), {title}: {run.method} indices with "
                                            f"{info['conf_level']:.0%} CIs, and each output over the "
                                            f"{counts.get('rows', '?')} sampled parameter sets")
        parts.insert(4 if info.get("warnings") else 3, run.figure(fig, "overview", "overview"))
    if len(failures):
        parts.append(f"<h3>Failed or undefined runs ({len(failures)})</h3>"
                     + _table(failures, 20, full=folder / "failures.csv", root=root))
    if run.method != "local" and (folder / "evaluations.parquet").is_file():
        parts.append(_spread_over_sample(run, columns))
    parts.append(_manifest_block(manifest))
    return "".join(parts)


def _header(info: dict, counts: dict, title: str) -> list[str]:
    """The section's title, what was run and how, and the run's warnings."""
    method, main = info["method"], info["main_index"]
    parts = [
        f"<h2>Sensitivity ({html.escape(method)}): {html.escape(title)}</h2>",
        f"<p>{counts.get('parameters', len(info['parameters']))} parameters, {counts.get('rows', '?')} model runs "
        f"(N = {info['n']}), {counts.get('rows_failed', 0)} failed or undefined after a retry "
        f"({counts.get('rows_retried', 0)} retried); {_interval_text(info)}. Ranked by {html.escape(main)}.</p>",
        f"<p class='note'>Ranges: {html.escape(info['range_rule'])} (f = {info['range_factor']:g}; the table "
        f"<code>ranges.csv</code> gives each parameter's). Failed runs: {html.escape(info['nan_policy'])}</p>",
    ]
    if info.get("warnings"):
        parts.append("<ul class='note'>" + "".join(f"<li>{html.escape(w)}</li>" for w in info["warnings"]) + "</ul>")
    return parts


def _one_column(run: _Run, output: str, cols: pd.DataFrame, sub: pd.DataFrame, stem: str,
                overview: list[dict]) -> list[str]:
    """An output with one value per run: index bars (and Morris' plot), its distribution, the ranking."""
    from ..plots import plot_index_bars, plot_morris, plot_output_distribution

    method, main, shown, unit = run.method, run.main, run.shown, str(cols["unit"].iloc[0])
    col = cols["column"].iloc[0]
    one = sub[sub["column"] == col]
    pivot_v = one.pivot(index="parameter", columns="index", values="value")
    pivot_c = one.pivot(index="parameter", columns="index", values="conf")
    key = pivot_v[main].abs() if method == "local" else pivot_v[main]
    order = key.sort_values(ascending=False, na_position="last").index[:25].tolist()
    parts = []
    if pivot_v[main].notna().any():
        fig = plot_index_bars(order, {i: pivot_v.loc[order, i].to_numpy() for i in shown},
                              {i: pivot_c.loc[order, i].to_numpy() for i in shown}, ylabel=_INDEX_AXIS[method],
                              title=f"{output} (simulated); {method}, {run.info['conf_level']:.0%} CI")
        parts.append(run.figure(fig, f"{stem}_bars", f"{output}: {method} indices"))
        if method == "morris":
            fig = plot_morris(pivot_v.index.tolist(), pivot_v["mu_star"].to_numpy(), pivot_v["sigma"].to_numpy(),
                              mu_star_conf=pivot_c["mu_star"].to_numpy(), sigma_conf=pivot_c["sigma"].to_numpy(),
                              unit=unit, title=f"{output} (simulated): Morris mu*-sigma")
            parts.append(run.figure(fig, f"{stem}_morris", f"{output}: Morris mu*-sigma"))
    if method in ("sobol", "efast") and (run.folder / "evaluations.parquet").is_file():
        sample = _parquet(run.folder / "evaluations.parquet", columns=[col])[col].to_numpy(float)
        quantity = str(cols["quantity"].iloc[0])
        marks = _THRESHOLDS.get(quantity, ()) if quantity != "ic50_shift" or "(viability)" in unit else ()
        fig = plot_output_distribution(sample, xlabel=unit, log=quantity == "ic50_shift", thresholds=marks,
                                       title=f"{output} (simulated) over the {len(sample)} sampled parameter sets")
        parts.append(run.figure(fig, f"{stem}_distribution", f"{output}: distribution over the sample"))
        if pivot_v[main].notna().any():
            overview.append({"label": output, "parameters": order[:12], "ylabel": _INDEX_AXIS[method],
                             "values": {i: pivot_v.loc[order[:12], i].to_numpy() for i in shown},
                             "conf": {i: pivot_c.loc[order[:12], i].to_numpy() for i in shown},
                             "sample": sample, "xlabel": unit, "thresholds": marks,
                             "log": quantity == "ic50_shift"})
    else:
        parts.append("<p><em>Not analysed (see the warnings and failures).</em></p>")
    ranked = run.ranking[run.ranking["column"] == col].drop(columns=["column"])
    parts.append(_table(ranked, 12, full=run.folder / "ranking.csv", root=run.root, what=f" (column {col})"))
    return parts


def _many_columns(run: _Run, output: str, cols: pd.DataFrame, sub: pd.DataFrame, stem: str) -> list[str]:
    """An output over a dose grid, times or fa levels: the main index as a heatmap, the top 3 per column."""
    method, main = run.method, run.main
    values = sub[sub["index"] == main].pivot(index="parameter", columns="column", values="value")
    values = values[cols["column"].tolist()]
    strength = values.abs().max(axis=1) if method == "local" else values.max(axis=1)
    order = strength.sort_values(ascending=False, na_position="last").index.tolist()
    if not values.notna().any().any():
        parts = ["<p><em>Not analysed (see the warnings and failures).</em></p>"]
    elif cols["dose_a_nM"].notna().all() and cols["dose_b_nM"].notna().all() and cols["fa"].isna().all():
        parts = [_grid_figure(run, output, cols, values, order, stem)]
    else:
        parts = [_heatmap_figure(run, output, cols, values, order, stem)]
    best = run.ranking[run.ranking["column"].isin(cols["column"]) & (run.ranking["rank"] <= 3)]
    top3 = best.merge(cols[["column", "time", "dose_a_nM", "dose_b_nM", "fa"]], on="column")
    parts.append("<p>Top 3 parameters per column:</p>"
                 + _table(top3, 30, full=_derived(top3, run.folder, f"{stem}_top3", 30), root=run.root))
    return parts


def _grid_figure(run: _Run, output: str, cols: pd.DataFrame, values: pd.DataFrame, order: list[str],
                 stem: str) -> str:
    """The main index of the top 6 parameters over a dose grid."""
    from ..plots import plot_indices_over_grid

    unit = str(cols["unit"].iloc[0])
    doses_a = np.unique(cols["dose_a_nM"].to_numpy(float))
    doses_b = np.unique(cols["dose_b_nM"].to_numpy(float))
    mats = {}
    for p in order[:6]:
        mat = pd.Series(values.loc[p].to_numpy(), index=pd.MultiIndex.from_arrays(
            [cols["dose_a_nM"].to_numpy(float), cols["dose_b_nM"].to_numpy(float)]))
        mats[p] = mat.unstack().reindex(index=doses_a, columns=doses_b).to_numpy()
    fig = plot_indices_over_grid(mats, doses_a, doses_b, drug_a=str(cols["drug_a"].iloc[0]),
                                 drug_b=str(cols["drug_b"].iloc[0]),
                                 index_label=_index_label(run.method, run.main, unit),
                                 title=f"{output} (simulated): {run.main} over the dose grid, top parameters")
    return run.figure(fig, f"{stem}_grid", f"{output}: {run.main} over the dose grid")


def _heatmap_figure(run: _Run, output: str, cols: pd.DataFrame, values: pd.DataFrame, order: list[str],
                    stem: str) -> str:
    """The main index of the top 20 parameters over time or fa levels."""
    from ..plots import display_time, plot_index_heatmap

    unit = str(cols["unit"].iloc[0])
    if cols["time"].notna().all():
        positions, xlabel = display_time(cols["time"].to_numpy(float), run.time_unit, "time after drug addition")
    else:
        positions, xlabel = cols["fa"].to_numpy(float), "fraction affected (fa)"
    shown_rows = order[:20]
    fig = plot_index_heatmap(values.loc[shown_rows].to_numpy(), shown_rows, positions, xlabel=xlabel,
                             index_label=_index_label(run.method, run.main, unit),
                             title=f"{output} (simulated): {run.main}, top parameters")
    return run.figure(fig, f"{stem}_heatmap", f"{output}: {run.main} heatmap")


def _spread_over_sample(run: _Run, columns: pd.DataFrame) -> str:
    """Median and 5-95 % range of every output column over the sampled parameter sets."""
    ycols = columns["column"].tolist()
    ev = _parquet(run.folder / "evaluations.parquet", columns=ycols)
    spread = pd.DataFrame({"column": ycols, "median": ev.median().to_numpy(), "q05": ev.quantile(0.05).to_numpy(),
                           "q95": ev.quantile(0.95).to_numpy()})
    spread = columns[["column", "output", "time", "dose_a_nM", "dose_b_nM", "fa"]].merge(spread, on="column")
    return ("<h3>Outputs over the sample (median and 5-95 % range)</h3>"
            + _table(spread, 30, full=_derived(spread, run.folder, "outputs_over_sample", 30), root=run.root))
