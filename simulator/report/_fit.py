"""Figures and the report section of a fit: waterfall, best fit against the data, likelihood profiles."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..plots import save_figure
from ._html import _csv, _img, _manifest_block, _table


def draw_fit_figures(folder: str | Path, info: Mapping[str, Any]) -> list[Path]:
    """Waterfall, best fit vs data and profiles (PNG + SVG) in ``folder``, drawn from the stored fit tables.

    ``info`` is the manifest's ``"fit"`` entry (title, threshold, time unit, whether the data are
    representative). Returns the written paths; a figure whose table is missing is skipped.

    Parameters
    ----------
    folder
        A fit's output folder.
    info
        The manifest's ``"fit"`` entry.

    Returns
    -------
    list[Path]
        The figures written.
    """
    from ..plots import plot_fit_vs_data, plot_profiles, plot_waterfall

    folder = Path(folder)
    name = info.get("title") or Path(info.get("data") or info.get("problem") or folder.name).stem
    files: list[Path] = []
    starts = folder / "starts.csv"
    if starts.is_file():
        frame = _csv(starts)
        # with objective priors the starts are ranked by the minimised value, nlpost = nllh + nlprior
        column = "nlpost" if info.get("priors") and "nlpost" in frame else "nllh"
        nllh = pd.to_numeric(frame[column], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
        what = "nlpost (nllh + nlprior)" if column == "nlpost" else "nllh"
        fig = plot_waterfall(nllh, threshold=info["threshold"], quantity=column,
                             title=f"{name}: final {what} of {len(frame)} starts (seed in manifest)")
        files += save_figure(fig, folder / "waterfall.png")
    data = folder / "fit_vs_data.csv"
    if data.is_file():
        table = _csv(data)
        group = "simulationConditionId"
        # split a condition by its scale factor (gel/blot) when one condition's data come from several blots
        if "observableParameters" in table and table["observableParameters"].notna().any() and (
                table.groupby(["observableId", "simulationConditionId"])["observableParameters"].nunique() > 1).any():
            table["condition / scale"] = (table["simulationConditionId"].astype(str) + " / "
                                          + table["observableParameters"].fillna("").astype(str))
            group = "condition / scale"
        unit = info.get("time_unit")
        fig = plot_fit_vs_data(table, group=group, representative=bool(info.get("representative_data")),
                               fit_label="simulation at nominal values" if info.get("nominal") else "best fit",
                               time_label=f"time ({unit})" if unit else "time (model time units)",
                               title=f"{name}: {'simulation' if info.get('nominal') else 'best fit'} "
                                     f"(nllh {info['best_nllh']:.4g}) vs data")
        files += save_figure(fig, folder / "fit_vs_data.png")
    points, summary = folder / "profiles.csv", folder / "profile_summary.csv"
    if points.is_file() and summary.is_file():
        fig = plot_profiles(_csv(points), _csv(summary), threshold=info["threshold"],
                            quantity="nlpost" if info.get("priors") else "nllh",
                            title=f"{name}\n{'posterior' if info.get('priors') else 'likelihood'} profiles "
                                  "(others re-optimised at each point)")
        files += save_figure(fig, folder / "profiles.png")
    return files


def _fit_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    info = manifest["fit"]
    if not (folder / "waterfall.png").is_file():
        draw_fit_figures(folder, info)
    counts = manifest.get("counts", {})
    parts = [f"<h2>Fit: {html.escape(Path(info.get('data') or info.get('problem') or title).stem)} "
             f"({html.escape(title)})</h2>",
             f"<p>{counts.get('starts_ok', 0)} of {counts.get('starts', 0)} starts ok (seed {manifest.get('seed')}); "
             f"best nllh {info['best_nllh']:.6g}"
             + (f" (objective priors: nlprior {info['best_nlprior']:.6g}, nlpost {info['best_nlpost']:.6g}, the "
                "minimised value)" if info.get("priors") else "")
             + f"; {info['within_threshold']} start(s) within "
             f"{info['threshold']:.2f} (χ²₁(0.95)/2) of it form the ensemble; estimated: "
             f"{html.escape(', '.join(info['estimated']))}.</p>"]
    if info.get("representative_data"):
        parts.append("<p class='note'>The data are representative (directions and significance from the source "
                     "paper), not digitized measurements.</p>")
    for stem, label in (("waterfall", "Waterfall of the starts"), ("fit_vs_data", "Best fit vs data"),
                        ("profiles", "Likelihood profiles (95 % threshold)")):
        png = folder / f"{stem}.png"
        if png.is_file():
            parts.append(f"<h3>{label}</h3>" + _img(png, root, stem))
    for stem, label in (("parameters", "Fitted parameters"), ("profile_summary", "95 % profile intervals"),
                        ("ensemble", "Ensemble (mekisim screen --ensemble)")):
        csv = folder / f"{stem}.csv"
        if csv.is_file():
            parts.append(f"<h3>{label}</h3>" + _table(_csv(csv), 40, full=csv, root=root))
    starts = folder / "starts.csv"
    if starts.is_file():
        keep = ["start", "rank", "nllh", *(["nlprior", "nlpost", "delta_nlpost"] if info.get("priors") else
                                           ["delta_nllh"]), "status", "n_fev", "n_solves", "time_s", "cpu_s",
                "message"]
        frame = _csv(starts)
        parts.append("<h3>Starts (best first)</h3>"
                     + _table(frame[[c for c in keep if c in frame]], 20, full=starts, root=root))
    if info.get("profile_errors"):
        parts.append("<p class='note'>Profiles that failed: " + html.escape("; ".join(info["profile_errors"]))
                     + "</p>")
    parts.append(_manifest_block(manifest))
    return "".join(parts)
