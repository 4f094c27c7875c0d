"""The report section of a sensitivity run: index bars with CIs, Morris plots, heatmaps, ranked tables."""

from __future__ import annotations

import html
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


def _sensitivity_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    """Bars with CIs, the Morris mu*-sigma plot, heatmaps over time / fa / dose grid, ranked tables."""
    from ..plots import (
        display_time,
        plot_index_bars,
        plot_index_heatmap,
        plot_indices_over_grid,
        plot_morris,
        plot_output_distribution,
        plot_overview,
    )

    info = manifest["sensitivity"]
    method, main = info["method"], info["main_index"]
    columns = _parquet(folder / "columns.parquet")
    indices = _parquet(folder / "indices.parquet")
    indices = indices[indices["parameter_2"] == ""]
    ranking = _parquet(folder / "ranking.parquet")
    failures = _parquet(folder / "failures.parquet")
    time_unit = (manifest.get("models", {}).get("model") or {}).get("time_unit")
    counts = manifest.get("counts", {})
    figures = folder / "figures"
    shown = [i for i in info["indices"] if not (method == "morris" and i == "mu")]
    if method == "local":
        shown = ["scaled"]
    parts = [
        f"<h2>Sensitivity ({html.escape(method)}): {html.escape(title)}</h2>",
        f"<p>{counts.get('parameters', len(info['parameters']))} parameters, {counts.get('rows', '?')} model runs "
        f"(N = {info['n']}), {counts.get('rows_failed', 0)} failed or undefined after a retry "
        f"({counts.get('rows_retried', 0)} retried); {_interval_text(info)}. Ranked by {html.escape(main)}.</p>",
        f"<p class='note'>Ranges: {html.escape(info['range_rule'])} (f = {info['range_factor']:g}; the table "
        f"<code>ranges.csv</code> gives each parameter's). Failed runs: {html.escape(info['nan_policy'])}</p>",
    ]
    overview: list[dict] = []
    if info.get("warnings"):
        parts.append("<ul class='note'>" + "".join(f"<li>{html.escape(w)}</li>" for w in info["warnings"]) + "</ul>")
    for number, (output, cols) in enumerate(columns.groupby("output", sort=False)):
        sub = indices[indices["column"].isin(cols["column"])]
        unit = str(cols["unit"].iloc[0])
        stem = f"output{number:02d}"
        parts.append(f"<h3>{html.escape(output)}</h3>")
        if len(cols) == 1:
            col = cols["column"].iloc[0]
            one = sub[sub["column"] == col]
            pivot_v = one.pivot(index="parameter", columns="index", values="value")
            pivot_c = one.pivot(index="parameter", columns="index", values="conf")
            key = pivot_v[main].abs() if method == "local" else pivot_v[main]
            order = key.sort_values(ascending=False, na_position="last").index[:25].tolist()
            if pivot_v[main].notna().any():
                fig = plot_index_bars(order, {i: pivot_v.loc[order, i].to_numpy() for i in shown},
                                     {i: pivot_c.loc[order, i].to_numpy() for i in shown}, ylabel=_INDEX_AXIS[method],
                                     title=f"{output} (simulated); {method}, {info['conf_level']:.0%} CI")
                png = save_figure(fig, figures / f"{stem}_bars.png")[0]
                parts.append(_img(png, root, f"{output}: {method} indices"))
                if method == "morris":
                    names = pivot_v.index.tolist()
                    fig = plot_morris(names, pivot_v["mu_star"].to_numpy(), pivot_v["sigma"].to_numpy(),
                                     mu_star_conf=pivot_c["mu_star"].to_numpy(), sigma_conf=pivot_c["sigma"].to_numpy(),
                                     unit=unit, title=f"{output} (simulated): Morris mu*-sigma")
                    png = save_figure(fig, figures / f"{stem}_morris.png")[0]
                    parts.append(_img(png, root, f"{output}: Morris mu*-sigma"))
            if method in ("sobol", "efast") and (folder / "evaluations.parquet").is_file():
                sample = _parquet(folder / "evaluations.parquet", columns=[col])[col].to_numpy(float)
                quantity = str(cols["quantity"].iloc[0])
                marks = _THRESHOLDS.get(quantity, ()) if quantity != "ic50_shift" or "(viability)" in unit else ()
                fig = plot_output_distribution(sample, xlabel=unit, log=quantity == "ic50_shift", thresholds=marks,
                                              title=f"{output} (simulated) over the {len(sample)} sampled "
                                                    "parameter sets")
                png = save_figure(fig, figures / f"{stem}_distribution.png")[0]
                parts.append(_img(png, root, f"{output}: distribution over the sample"))
                if pivot_v[main].notna().any():
                    overview.append({"label": output, "parameters": order[:12], "ylabel": _INDEX_AXIS[method],
                                     "values": {i: pivot_v.loc[order[:12], i].to_numpy() for i in shown},
                                     "conf": {i: pivot_c.loc[order[:12], i].to_numpy() for i in shown},
                                     "sample": sample, "xlabel": unit, "thresholds": marks,
                                     "log": quantity == "ic50_shift"})
            else:
                parts.append("<p><em>Not analysed (see the warnings and failures).</em></p>")
            ranked = ranking[ranking["column"] == col].drop(columns=["column"])
            parts.append(_table(ranked, 12, full=folder / "ranking.csv", root=root, what=f" (column {col})"))
        else:
            grid = cols["dose_a_nM"].notna().all() and cols["dose_b_nM"].notna().all() and cols["fa"].isna().all()
            values = sub[sub["index"] == main].pivot(index="parameter", columns="column", values="value")
            values = values[cols["column"].tolist()]
            strength = values.abs().max(axis=1) if method == "local" else values.max(axis=1)
            order = strength.sort_values(ascending=False, na_position="last").index.tolist()
            if not values.notna().any().any():
                parts.append("<p><em>Not analysed (see the warnings and failures).</em></p>")
            elif grid:
                doses_a = np.unique(cols["dose_a_nM"].to_numpy(float))
                doses_b = np.unique(cols["dose_b_nM"].to_numpy(float))
                mats = {}
                for p in order[:6]:
                    mat = pd.Series(values.loc[p].to_numpy(), index=pd.MultiIndex.from_arrays(
                        [cols["dose_a_nM"].to_numpy(float), cols["dose_b_nM"].to_numpy(float)]))
                    mats[p] = mat.unstack().reindex(index=doses_a, columns=doses_b).to_numpy()
                fig = plot_indices_over_grid(mats, doses_a, doses_b, drug_a=str(cols["drug_a"].iloc[0]),
                                             drug_b=str(cols["drug_b"].iloc[0]),
                                             index_label=_index_label(method, main, unit),
                                             title=f"{output} (simulated): {main} over the dose grid, top parameters")
                png = save_figure(fig, figures / f"{stem}_grid.png")[0]
                parts.append(_img(png, root, f"{output}: {main} over the dose grid"))
            else:
                over_time = cols["time"].notna().all()
                if over_time:
                    positions, xlabel = display_time(cols["time"].to_numpy(float), time_unit,
                                                     "time after drug addition")
                else:
                    positions, xlabel = cols["fa"].to_numpy(float), "fraction affected (fa)"
                shown_rows = order[:20]
                fig = plot_index_heatmap(values.loc[shown_rows].to_numpy(), shown_rows, positions, xlabel=xlabel,
                                        index_label=_index_label(method, main, unit),
                                        title=f"{output} (simulated): {main}, top parameters")
                png = save_figure(fig, figures / f"{stem}_heatmap.png")[0]
                parts.append(_img(png, root, f"{output}: {main} heatmap"))
            best = ranking[ranking["column"].isin(cols["column"]) & (ranking["rank"] <= 3)]
            top3 = best.merge(cols[["column", "time", "dose_a_nM", "dose_b_nM", "fa"]], on="column")
            parts.append("<p>Top 3 parameters per column:</p>"
                         + _table(top3, 30, full=_derived(top3, folder, f"{stem}_top3", 30), root=root))
    if len(overview) > 1:
        model_name = (manifest.get("models", {}).get("model") or {}).get("name", "model")
        fig = plot_overview(overview, title=f"{model_name} (simulated), {title}: {method} indices with "
                                            f"{info['conf_level']:.0%} CIs, and each output over the "
                                            f"{counts.get('rows', '?')} sampled parameter sets")
        png = save_figure(fig, figures / "overview.png")[0]
        parts.insert(4 if info.get("warnings") else 3, _img(png, root, "overview"))
    if len(failures):
        parts.append(f"<h3>Failed or undefined runs ({len(failures)})</h3>"
                     + _table(failures, 20, full=folder / "failures.csv", root=root))
    evaluations = folder / "evaluations.parquet"
    if method != "local" and evaluations.is_file():
        ycols = columns["column"].tolist()
        ev = _parquet(evaluations, columns=ycols)
        spread = pd.DataFrame({"column": ycols, "median": ev.median().to_numpy(), "q05": ev.quantile(0.05).to_numpy(),
                               "q95": ev.quantile(0.95).to_numpy()})
        spread = columns[["column", "output", "time", "dose_a_nM", "dose_b_nM", "fa"]].merge(spread, on="column")
        parts.append("<h3>Outputs over the sample (median and 5-95 % range)</h3>"
                     + _table(spread, 30, full=_derived(spread, folder, "outputs_over_sample", 30), root=root))
    parts.append(_manifest_block(manifest))
    return "".join(parts)
