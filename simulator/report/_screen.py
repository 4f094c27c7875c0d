"""The report section of a screen: one panel per cell line and readout, CI tables, summaries, ranking."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..plots import interactive_screen_panel, plot_screen_panel, save_figure
from ..readouts import READOUTS, Readout, fit_dose_response, fit_row, percent_remaining
from ..screen import SUMMARISED_SCORES, WELL_SCORES, effect_of
from ..status import Status
from ..synergy import R_MIN
from ._html import _csv, _derived, _img, _manifest_block, _parquet, _per_line, _safe_id, _table


def _matrix(frame: pd.DataFrame, value: str, index: str, columns: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    grid = frame.pivot_table(index=index, columns=columns, values=value, aggfunc="first", dropna=False)
    grid = grid.sort_index().sort_index(axis=1)
    return grid.to_numpy(dtype=float), grid.index.to_numpy(dtype=float), grid.columns.to_numpy(dtype=float)


def _below_baseline(info: dict) -> str:
    below = info.get("wells_below_baseline") or {}
    if not below:
        return "<p>No well's readout rose above its untreated value.</p>"
    items = ", ".join(f"{html.escape(k)}: {v}" for k, v in below.items())
    return ("<p class='note'>Wells whose readout rose above the untreated value (feedback relief; negative "
            f"fraction affected, kept in Bliss/HSA, excluded from median-effect fits and CI): {items}.</p>")


def _single_fit(readout: Readout, doses: np.ndarray, values: np.ndarray) -> tuple:
    """(fit or None, response, label) of one drug alone (a matrix edge, dose 0 first).

    The fit is ``mekisim dose-response``'s (:func:`simulator.readouts.fit_dose_response`), so the two agree for the
    same data; None when the edge has missing wells or cannot be fitted.
    """
    if not np.isfinite(values).all():
        response, _, label = percent_remaining(readout, values)
        return None, response, label
    fit, response, label = fit_dose_response(readout, doses, values)
    return (fit if fit.status != Status.FAILED else None), response, label


def _draw_panel(job: dict) -> str:
    """Worker: draw one screen panel and save it as PNG + SVG (the figure never leaves this process)."""
    job = dict(job)
    path, readout = job.pop("path"), job.pop("readout")
    values, doses_a, doses_b = job["readout_matrix"], job["doses_a"], job["doses_b"]
    (fit_a, resp_a, label), (fit_b, resp_b, _) = (_single_fit(readout, doses_a, values[:, 0]),
                                                  _single_fit(readout, doses_b, values[0, :]))
    fig = plot_screen_panel(**job, single_fits=(fit_a, fit_b), single_response=(resp_a, resp_b, label))
    return str(save_figure(fig, path)[0])


def _fit_quality(syn: pd.DataFrame) -> dict[str, float]:
    """The r of the three median-effect fits of one matrix and the mixture's fitted fa range (synergy rows)."""
    value = syn.set_index("score")["value"]
    names = {"r A": "median_a_r", "r B": "median_b_r", "r mix": "median_mix_r", "mix fa min": "median_mix_fa_min",
             "mix fa max": "median_mix_fa_max"}
    return {label: float(value.get(name, np.nan)) for label, name in names.items()}


def _screen_section(folder: Path, root: Path, title: str, manifest: dict, panels: list[dict]) -> str:
    """The HTML of one screen; its figures are appended to ``panels`` to be drawn by :func:`build_report`."""
    info = manifest["screen"]
    wells = _parquet(folder / "wells.parquet")
    # screens written before the self-describing tables called the synergy doses dose_a/dose_b
    synergy = _parquet(folder / "synergy.parquet").rename(columns={"dose_a": "dose_a_nM", "dose_b": "dose_b_nM"})
    drug_a, drug_b = info["drug_a"], info["drug_b"]
    ratio = info.get("constant_ratio_a_to_b")
    # the readouts as the screen's model defined them (manifest); built-in ones for screens written before that
    info_readouts = {k: Readout(k, v["label"], v["unit"], v.get("description", ""), v.get("effect"))
                     for k, v in info.get("readout_info", {}).items()}
    known = {**READOUTS, **info_readouts}
    labels = {r: f"{known[r].label} ({known[r].unit})" for r in known}
    parts = [f"<h2>Screen: {html.escape(drug_a)} × {html.escape(drug_b)} ({html.escape(title)})</h2>",
             f"<p>Cell lines {', '.join(info['cell_lines'])}; readouts {', '.join(info['readouts'])}; mode "
             f"{info['mode']}; ensemble members {info['ensemble_members'] or 'nominal parameters only'}; "
             f"constant ratio {drug_a}:{drug_b} = {ratio:.3g}:1 for the Fa–CI table. Failed wells: "
             f"{manifest['counts'].get('wells_failed', 0)} of {manifest['counts'].get('wells', 0)}.</p>",
             _below_baseline(info),
             "<ul>" + "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                              for k, v in manifest.get("score_conventions", {}).items()) + "</ul>"]
    figures = folder / "figures"
    member0 = wells[(wells["member"] == 0) & (wells["series"] == "matrix")]
    syn0 = synergy[synergy["member"] == 0]
    ci_rows, single_rows = [], []
    for line in info["cell_lines"]:
        for readout in info["readouts"]:
            sub = member0[(member0["cell_line"] == line) & (member0["readout"] == readout)]
            if sub.empty:
                continue
            values, doses_a, doses_b = _matrix(sub, "value", "dose_a_nM", "dose_b_nM")
            syn = syn0[(syn0["cell_line"] == line) & (syn0["readout"] == readout)]
            if syn.empty:
                continue
            scores = {s: _matrix(syn[syn["score"] == s], "value", "dose_a_nM", "dose_b_nM")[0] for s in WELL_SCORES}
            iso_x = _matrix(syn[syn["score"] == "iso_x"], "value", "dose_a_nM", "dose_b_nM")[0]
            iso_y = _matrix(syn[syn["score"] == "iso_y"], "value", "dose_a_nM", "dose_b_nM")[0]
            fa = effect_of(known[readout], values)
            curve = syn[syn["score"] == "ci_ratio"].sort_values("fa")
            fits = _fit_quality(syn)
            png = figures / f"{line}_{readout.replace(':', '_')}.png"  # species:X: no ':' in a file name or URL
            for drug, doses, edge in ((drug_a, doses_a, values[:, 0]), (drug_b, doses_b, values[0, :])):
                if np.isfinite(edge).all():  # a failed fit is a row too: its status says why
                    fit = fit_dose_response(known[readout], doses, edge)[0]
                    single_rows.append(fit_row(fit, cell_line=line, readout=readout, drug=drug))
            panels.append({
                "path": png, "readout": known[readout], "readout_matrix": values, "scores": scores,
                "doses_a": doses_a, "doses_b": doses_b,
                "drug_a": drug_a, "drug_b": drug_b, "readout_label": labels[readout],
                "iso": (iso_x.ravel(), iso_y.ravel(), fa.ravel()),
                "fa_ci": (fa.ravel(), scores["ci"].ravel(), curve["fa"].to_numpy(), curve["value"].to_numpy()),
                "ratio_label": f"constant ratio {ratio:.3g}:1\n(median-effect r: A {fits['r A']:.3f}, "
                               f"B {fits['r B']:.3f}, mix {fits['r mix']:.3f})",
                "title": f"{title}: {line}, {drug_a} × {drug_b}, {labels[readout]} (simulated)",
            })
            parts.append(f"<h3>{html.escape(line)}: {html.escape(labels[readout])}</h3>"
                         + interactive_screen_panel(values, doses_a, doses_b, scores, drug_a=drug_a, drug_b=drug_b,
                                                    readout_label=labels[readout],
                                                    div_id=_safe_id(folder, root, png.stem),
                                                    title=f"{line}: {drug_a} × {drug_b} (simulated, member 0)")
                         + _img(png, root, png.stem))
            at = curve[curve["fa"].round(3).isin([0.5, 0.75, 0.9])]
            for _, row in at.iterrows():
                ci_rows.append({"cell_line": line, "readout": readout, "fa": row["fa"],
                                f"{drug_a}_nM": row["dose_a_nM"], f"{drug_b}_nM": row["dose_b_nM"], "CI": row["value"],
                                **fits, "result": "yes" if row["flag"] == "ok" and np.isfinite(row["value"]) else "no",
                                "flag": row["flag"]})
    lines = list(info["cell_lines"])
    ci_table = pd.DataFrame(ci_rows)
    parts.append("<h3>Combination index along the constant ratio (Chou–Talalay)</h3><p>Each CI with the "
                 "median-effect fits it rests on: r of drug A alone, drug B alone and the mixture, and the fa range "
                 f"of the mixture's fitted points. A CI with a flag is shown but is not a result (r &lt; {R_MIN}, "
                 "fewer than 3 points, fa outside the mixture's fitted range or beyond both single agents): it is "
                 "left out of summaries and rankings.</p>"
                 + _per_line(ci_table, 40, full=_derived(ci_table, folder, "ci_at_fa", 40) or folder / "synergy.csv",
                             root=root, lines=lines))
    single = pd.DataFrame(single_rows)
    parts.append("<h3>Single agents: dose-response fits of the matrix edges (nominal parameters)</h3><p>The fit of "
                 "<code>mekisim dose-response</code> (the same model and numbers for the same doses): absolute IC50 "
                 "= the dose giving 50 % of untreated (&gt; top dose when the drug never gets there); relative EC50 "
                 "= half-way between the fitted top and bottom. The model is named in each row.</p>"
                 + _per_line(single, 40, full=_derived(single, folder, "single_agent_fits", 40) or folder / "wells.csv",
                             root=root, lines=lines))
    parts.append(_summary_scores(synergy, bool(info.get("ensemble_members")), folder, root))
    ranking = folder / "ranking.csv"
    if ranking.is_file():
        parts.append(f"<h3>Combinations reaching {info['target_suppression']:.0%} p-ERK suppression, least total "
                     "normalised dose first (dose/IC50 summed), per cell line</h3>"
                     + _per_line(_csv(ranking), 25, full=ranking, root=root, lines=lines))
    ensemble = folder / "synergy_ensemble.csv"
    if ensemble.is_file():
        parts.append("<h3>Ensemble: probability of synergy and spread</h3>"
                     + _per_line(_csv(ensemble), 30, full=ensemble, root=root, lines=lines))
    parts.append(_manifest_block(manifest))
    return "".join(parts)


def _summary_scores(synergy: pd.DataFrame, ensemble: bool, folder: Path, root: Path) -> str:
    """One row per cell line and readout: the per-matrix summaries (``<score>_mean``, ``<score>_msa``)."""
    names = [f"{s}_{k}" for s in SUMMARISED_SCORES for k in ("mean", "msa")]
    rows = synergy[synergy["score"].isin(names)]
    if rows.empty:  # a screen written before the summaries existed
        return ""
    table = rows.pivot_table(index=["cell_line", "readout"], columns="score", values="value", aggfunc="median",
                             dropna=False).reindex(columns=names).reset_index().rename_axis(columns=None)
    how = "median over the ensemble members" if ensemble else "nominal parameters"
    return (f"<h3>Summary synergy scores per matrix ({how})</h3><p>mean: the excess averaged over the "
            "combination wells where it is defined; msa: the most synergistic area, the best mean over 3 × 3 "
            "blocks of adjacent combination wells. &gt; 0 synergy for every score here.</p>"
            + _table(table, 200, full=_derived(table, folder, "summary_scores", 200), root=root))
