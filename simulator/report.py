"""``mekisim report DIR``: one HTML page from the stored results under DIR (tables, figures, manifests).

Every sub-folder holding a ``manifest.json`` becomes a section; its kind (screen, dose-response, ...)
comes from the manifest. Figures are drawn here from the stored tables (nothing is simulated), written
beside the tables under ``figures/`` (PNG + SVG) and linked from ``DIR/report.html``.
"""

from __future__ import annotations

import html
import json
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from .doseresponse import fit_logistic
from .errors import InputError
from .executor import Executor, make_executor
from .files import read_csv, read_json, read_parquet, write_text
from .ownership import MANIFEST, RESUMABLE, Owner, begin_final_writes, read_owner, unfinished_runs
from .plots import plot_dose_response_fit, plot_screen_panel, save_figure
from .readouts import LEVEL_CONVENTION, READOUTS, Readout
from .response import DoseResponse
from .screen import SUMMARISED_SCORES, WELL_SCORES, effect_of
from .store import write_manifest, write_table

__all__ = ["build_report", "draw_fit_figures", "write_dose_response"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}table{border-collapse:collapse;font-size:.8em;
margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}img{max-width:100%}
.note{background:#f6f6f0;padding:.6em;border-left:4px solid #bb9;font-size:.9em}code{font-size:.9em}
.cut{font-size:.85em;color:#555;margin:.2em 0}h4{margin:.8em 0 .2em}"""


def build_report(directory: str | Path, *, workers: int | None = None, executor: Executor | None = None) -> Path:
    """Write ``directory/report.html`` from every result folder below it; return its path.

    The screen panels (one figure per cell line and readout, PNG + SVG) are most of a report's time, ~2-4 s
    each, so they are drawn in parallel: on ``executor`` if given (e.g. the one a study's screens ran on),
    else on ``make_executor(workers)`` (all cores by default). Everything else is drawn here, in order.

    Refused (an :class:`InputError` naming the folder and what to do) when a run below ``directory`` has not
    finished (its folder has an owner but no manifest: stopped, or still running), or when a manifest or a
    table it lists is missing or damaged: a report never shows part of a result as if it were all of it.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{str(directory)!r} is not a folder"
                         + (" (it does not exist)" if not directory.exists() else " (it is a file)")
                         + "; give the --out folder of a mekisim run (screen, dose-response, fit, sensitivity, demo).")
    unfinished = unfinished_runs(directory)
    if unfinished:
        raise InputError("no report: " + "; ".join(_unfinished_text(folder, owner) for folder, owner in unfinished)
                         + ".")
    manifests = sorted(directory.rglob(MANIFEST), key=lambda p: (p.parent != directory, p))  # a study's first
    if not manifests:
        raise InputError(f"{str(directory)!r} holds no manifest.json; run a mekisim command with --out there first.")
    body = [f"<h1>mekisim report: {html.escape(directory.name)}</h1>",
            "<p class='note'>Everything here is simulated with the model's parameters (see each manifest for the "
            "model hash and versions). Source-paper data are representative (directions and significance), "
            "not digitized measurements. Long tables are shown per cell line; wherever rows are left out, the "
            "table says how many and links the full table.</p>"]
    panels: list[dict] = []  # screen panels to draw, collected while the page is written
    for path in manifests:
        folder = path.parent
        manifest = read_json(path, remedy=_remedy(folder))
        if not isinstance(manifest, dict):
            raise InputError(f"{path} is not a mekisim manifest (a JSON object). {_remedy(folder)}")
        _check_listed_files(folder, manifest)
        rel = folder.relative_to(directory)
        title = str(rel) if str(rel) != "." else directory.name
        if "study" in manifest:
            body.append(_study_section(folder, directory, title, manifest))
        elif "screen" in manifest:
            body.append(_screen_section(folder, directory, title, manifest, panels))
        elif "sensitivity" in manifest:
            body.append(_sensitivity_section(folder, directory, title, manifest))
        elif "fit" in manifest:
            body.append(_fit_section(folder, directory, title, manifest))
        else:
            body.append(_generic_section(folder, directory, title, manifest))
    if panels:
        owned = make_executor(workers=workers) if executor is None else nullcontext(executor)
        with owned as pool:
            pool.map(_draw_panel, panels)
    out = directory / "report.html"
    write_text(out, f"<!doctype html><html><head><meta charset='utf-8'><title>mekisim report</title><style>{_CSS}"
                    f"</style></head><body>{''.join(body)}</body></html>\n")
    return out


def _unfinished_text(folder: Path, owner: Owner | None) -> str:
    """Why ``folder`` cannot be reported, and how to finish it."""
    what = owner.describe(command=False)[2:] if owner is not None else "run"
    resumable = owner is not None and owner.verb in RESUMABLE
    again = f"`{' '.join(owner.command)}`" if owner is not None and owner.command else "its command"
    how = (f"rerun {again} with --resume to finish it (or with --force to start again)" if resumable
           else f"rerun {again} with --force to compute it again")
    return (f"{str(folder)!r} holds an unfinished {what}: it has no manifest.json, so it was stopped before it "
            f"finished or is still running; {how}")


def _remedy(folder: Path) -> str:
    """What to do about a damaged or missing result file in ``folder``."""
    try:
        owner = read_owner(folder)
    except InputError:
        owner = None
    again = f"`{' '.join(owner.command)}`" if owner is not None and owner.command else "the command that wrote it"
    if owner is not None and owner.verb in RESUMABLE:
        return (f"Rerun {again} with --resume: the tables of {str(folder)!r} are rebuilt from its finished chunks "
                "(or with --force to compute everything again).")
    return f"Rerun {again} with --force to write {str(folder)!r} again."


def _check_listed_files(folder: Path, manifest: dict) -> None:
    """Every file the manifest lists must exist: a folder changed after its run is not reported as complete."""
    listed = manifest.get("files") or []
    missing = [name for name in listed if isinstance(name, str) and not (folder / name).exists()]
    if missing:
        raise InputError(f"{folder / MANIFEST} lists {len(missing)} file(s) that are missing ({', '.join(missing[:4])}"
                         f"{', ...' if len(missing) > 4 else ''}): the folder was changed after its run. "
                         f"{_remedy(folder)}")


def _parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    return read_parquet(path, columns=columns, remedy=_remedy(path.parent))


def _csv(path: Path) -> pd.DataFrame:
    return read_csv(path, remedy=_remedy(path.parent))


def _img(path: Path, root: Path, alt: str) -> str:
    return f"<p><img src='{html.escape(str(path.relative_to(root)))}' alt='{html.escape(alt)}'></p>"


def _link(path: Path, root: Path) -> str:
    rel = html.escape(str(path.relative_to(root)))
    return f"<a href='{rel}'>{rel}</a>"


def _table(frame: pd.DataFrame, max_rows: int = 40, *, full: Path | None = None, root: Path | None = None,
           what: str = "") -> str:
    """An HTML table of at most ``max_rows`` rows; a cut table says "showing N of M rows" and links ``full``.

    ``full`` is the file holding every row (the table itself, or the one it was selected from; ``what`` says
    which rows of it, e.g. " for S462"). Why: a table cut without a word hid every cell line but the first.
    """
    if frame.empty:
        return "<p><em>(empty)</em></p>"
    table = frame.head(max_rows).to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
    if len(frame) <= max_rows:
        return table
    link = f"; every row: {_link(full, root)}" if full is not None and root is not None else ""
    return f"<p class='cut'>showing {max_rows} of {len(frame)} rows{html.escape(what)}{link}</p>{table}"


def _per_line(frame: pd.DataFrame, max_rows: int, *, full: Path | None, root: Path,
              lines: list[str] | None = None) -> str:
    """One table per cell line (a heading each) when ``frame`` has several; each cut to ``max_rows``, with a note.

    Why: long tables sorted by cell line showed only the first line's rows.
    """
    if frame.empty or "cell_line" not in frame or frame["cell_line"].nunique() < 2:
        return _table(frame, max_rows, full=full, root=root)
    present = list(dict.fromkeys(frame["cell_line"].astype(str)))
    known = [line for line in (lines or []) if line in present]
    order = known + [line for line in present if line not in known]
    parts = []
    for line in order:
        sub = frame[frame["cell_line"].astype(str) == line]
        parts.append(f"<h4>{html.escape(line)}</h4>" + _table(sub, max_rows, full=full, root=root, what=f" for {line}"))
    return "".join(parts)


def _derived(frame: pd.DataFrame, folder: Path, name: str, max_rows: int) -> Path | None:
    """A table computed for the report, saved as ``folder/report_tables/name.csv`` when it will be cut."""
    if len(frame) <= max_rows:
        return None
    return write_table(frame, folder / "report_tables" / f"{name}.csv")


def _manifest_block(manifest: dict) -> str:
    keep = {k: manifest.get(k) for k in ("created", "command", "git_revision", "counts", "timings_s", "models")}
    return f"<details><summary>manifest</summary><pre>{html.escape(json.dumps(keep, indent=1))}</pre></details>"


def _study_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    """A study (``mekisim demo``): its config, its parts (each with its manifest) and the headline numbers."""
    info = manifest["study"]
    rows = [{"part": p["name"], "kind": p["kind"], "folder": p["folder"], "manifest": p["manifest"],
             "time (s)": round(float(manifest.get("timings_s", {}).get(p["name"], float("nan"))), 1)}
            for p in info.get("parts", [])]
    table = pd.DataFrame(rows)
    if not table.empty:
        table["manifest"] = [f"<a href='{html.escape(str((folder / m).relative_to(root)))}'>{html.escape(m)}</a>"
                             for m in table["manifest"]]
    parts = [f"<h2>Study: {html.escape(info.get('title') or title)}</h2>",
             f"<p>Config <code>{html.escape(str(info.get('config')))}</code> (sha256 "
             f"<code>{html.escape(str(info.get('config_sha256', ''))[:16])}…</code>)"
             f"{'; smoke run (small dose grids)' if info.get('smoke') else ''}; {len(rows)} part(s), each with "
             "its own manifest:</p>",
             table.to_html(index=False, escape=False, border=0, na_rep="") if not table.empty else "",
             _manifest_block(manifest)]
    return "".join(parts)


def _generic_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    parts = [f"<h2>{html.escape(title)}</h2>"]
    for png in sorted(folder.glob("*.png")):
        parts.append(_img(png, root, png.stem))
    for csv in sorted(folder.glob("*.csv")):
        parts.append(f"<h3>{html.escape(csv.stem)}</h3>" + _per_line(_csv(csv), 25, full=csv, root=root))
    parts.append(_manifest_block(manifest))
    return "".join(parts)


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


def _single_fit(doses: np.ndarray, values: np.ndarray):
    """4PL fit of one drug alone (a matrix edge), or None when the edge has missing wells or cannot be fitted."""
    finite = np.isfinite(values)
    if not finite.all():
        return None
    fit = fit_logistic(doses, values)
    return fit if fit.status != "failed" else None


def _draw_panel(job: dict) -> str:
    """Worker: draw one screen panel and save it as PNG + SVG (the figure never leaves this process)."""
    job = dict(job)
    path, values, doses_a, doses_b = job.pop("path"), job["readout_matrix"], job["doses_a"], job["doses_b"]
    fig = plot_screen_panel(**job, single_fits=(_single_fit(doses_a, values[:, 0]), _single_fit(doses_b, values[0, :])))
    return str(save_figure(fig, path)[0])


def _screen_section(folder: Path, root: Path, title: str, manifest: dict, panels: list[dict]) -> str:
    """The HTML of one screen; its figures are appended to ``panels`` to be drawn by :func:`build_report`."""
    info = manifest["screen"]
    wells = _parquet(folder / "wells.parquet")
    synergy = _parquet(folder / "synergy.parquet")
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
    ci_rows = []
    for line in info["cell_lines"]:
        for readout in info["readouts"]:
            sub = member0[(member0["cell_line"] == line) & (member0["readout"] == readout)]
            if sub.empty:
                continue
            values, doses_a, doses_b = _matrix(sub, "value", "dose_a_nM", "dose_b_nM")
            syn = syn0[(syn0["cell_line"] == line) & (syn0["readout"] == readout)]
            if syn.empty:
                continue
            scores = {s: _matrix(syn[syn["score"] == s], "value", "dose_a", "dose_b")[0] for s in WELL_SCORES}
            iso_x = _matrix(syn[syn["score"] == "iso_x"], "value", "dose_a", "dose_b")[0]
            iso_y = _matrix(syn[syn["score"] == "iso_y"], "value", "dose_a", "dose_b")[0]
            fa = effect_of(known[readout], values)
            curve = syn[syn["score"] == "ci_ratio"].sort_values("fa")
            png = figures / f"{line}_{readout.replace(':', '_')}.png"  # species:X: no ':' in a file name or URL
            panels.append({
                "path": png, "readout_matrix": values, "scores": scores, "doses_a": doses_a, "doses_b": doses_b,
                "drug_a": drug_a, "drug_b": drug_b, "readout_label": labels[readout],
                "iso": (iso_x.ravel(), iso_y.ravel(), fa.ravel()),
                "fa_ci": (fa.ravel(), scores["ci"].ravel(), curve["fa"].to_numpy(), curve["value"].to_numpy()),
                "ratio_label": f"constant ratio {ratio:.3g}:1",
                "title": f"{title}: {line}, {drug_a} × {drug_b}, {labels[readout]} (simulated)",
            })
            parts.append(f"<h3>{html.escape(line)}: {html.escape(labels[readout])}</h3>" + _img(png, root, png.stem))
            at = curve[curve["fa"].round(3).isin([0.5, 0.75, 0.9])]
            for _, row in at.iterrows():
                ci_rows.append({"cell_line": line, "readout": readout, "fa": row["fa"], f"{drug_a}_nM": row["dose_a"],
                                f"{drug_b}_nM": row["dose_b"], "CI": row["value"], "status": row["flag"]})
    lines = list(info["cell_lines"])
    ci_table = pd.DataFrame(ci_rows)
    parts.append("<h3>Combination index along the constant ratio (Chou–Talalay)</h3>"
                 + _per_line(ci_table, 40, full=_derived(ci_table, folder, "ci_at_fa", 40) or folder / "synergy.csv",
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


def write_dose_response(result: DoseResponse, out_dir: str | Path, *, owner: Owner | None = None, job=None,
                        timings: dict | None = None) -> list[Path]:
    """Tables (CSV + Parquet), the figure (PNG + SVG) and the manifest of a dose–response run.

    ``owner`` is the folder's owner record (:func:`simulator.ownership.claim_folder`, which the CLI calls before
    computing) and ``job`` the settings, recorded with the manifest; ``timings`` (seconds) join the time taken
    here to write.
    """
    import time

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    begin_final_writes(out_dir)
    files = []
    for stem, frame in (("dose_response", result.to_frame()), ("fit", result.fit_frame())):
        for suffix in (".csv", ".parquet"):
            files.append(write_table(frame, out_dir / f"{stem}{suffix}"))
    ax = plot_dose_response_fit(result)
    files += save_figure(ax.figure, out_dir / "dose_response.png")
    ok = sum(status == "ok" for status in result.statuses)
    timings = {**(timings or {}), "write": time.perf_counter() - started}
    timings["total"] = sum(timings.values())
    files.append(write_manifest(
        out_dir / "manifest.json", models={"model": result.model}, owner=owner, job=job, timings=timings,
        counts={"ok": ok, "failed": len(result.statuses) - ok},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"dose_response": {"cell_line": result.cell_line, "drug": result.drug, "readout": result.readout,
                                 "doses_nM": [float(d) for d in result.doses],
                                 "background_nM": dict(result.background),
                                 **({"readout_convention": LEVEL_CONVENTION}
                                    if result.readout_info is not None and result.readout_info.level else {})}},
    ))
    return files


# ------------------------------------------------------------------------------------------ sensitivity

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
    from .plots import display_time
    from .plots.sensitivity import (
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
                ax = plot_index_bars(order, {i: pivot_v.loc[order, i].to_numpy() for i in shown},
                                     {i: pivot_c.loc[order, i].to_numpy() for i in shown}, ylabel=_INDEX_AXIS[method],
                                     title=f"{output} (simulated); {method}, {info['conf_level']:.0%} CI")
                png = save_figure(ax.figure, figures / f"{stem}_bars.png")[0]
                parts.append(_img(png, root, f"{output}: {method} indices"))
                if method == "morris":
                    names = pivot_v.index.tolist()
                    ax = plot_morris(names, pivot_v["mu_star"].to_numpy(), pivot_v["sigma"].to_numpy(),
                                     mu_star_conf=pivot_c["mu_star"].to_numpy(), sigma_conf=pivot_c["sigma"].to_numpy(),
                                     unit=unit, title=f"{output} (simulated): Morris mu*-sigma")
                    png = save_figure(ax.figure, figures / f"{stem}_morris.png")[0]
                    parts.append(_img(png, root, f"{output}: Morris mu*-sigma"))
            if method in ("sobol", "efast") and (folder / "evaluations.parquet").is_file():
                sample = _parquet(folder / "evaluations.parquet", columns=[col])[col].to_numpy(float)
                quantity = str(cols["quantity"].iloc[0])
                marks = _THRESHOLDS.get(quantity, ()) if quantity != "ic50_shift" or "(viability)" in unit else ()
                ax = plot_output_distribution(sample, xlabel=unit, log=quantity == "ic50_shift", thresholds=marks,
                                              title=f"{output} (simulated) over the {len(sample)} sampled "
                                                    "parameter sets")
                png = save_figure(ax.figure, figures / f"{stem}_distribution.png")[0]
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
                ax = plot_index_heatmap(values.loc[shown_rows].to_numpy(), shown_rows, positions, xlabel=xlabel,
                                        index_label=_index_label(method, main, unit),
                                        title=f"{output} (simulated): {main}, top parameters")
                png = save_figure(ax.figure, figures / f"{stem}_heatmap.png")[0]
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


# ------------------------------------------------------------------------------------------------ fitting


def draw_fit_figures(folder: str | Path, info: dict) -> list[Path]:
    """Waterfall, best fit vs data and profiles (PNG + SVG) in ``folder``, drawn from the stored fit tables.

    ``info`` is the manifest's ``"fit"`` entry (title, threshold, time unit, whether the data are
    representative). Returns the written paths; a figure whose table is missing is skipped.
    """
    from .plots.fitting import plot_fit_vs_data, plot_profiles, plot_waterfall

    folder = Path(folder)
    name = info.get("title") or Path(info.get("data") or info.get("problem") or folder.name).stem
    files: list[Path] = []
    starts = folder / "starts.csv"
    if starts.is_file():
        frame = _csv(starts)
        nllh = pd.to_numeric(frame["nllh"], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
        fig = plot_waterfall(nllh, threshold=info["threshold"],
                             title=f"{name}: final nllh of {len(frame)} starts (seed in manifest)")
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
                               time_label=f"time ({unit})" if unit else "time (model time units)",
                               title=f"{name}: best fit (nllh {info['best_nllh']:.4g}) vs data")
        files += save_figure(fig, folder / "fit_vs_data.png")
    points, summary = folder / "profiles.csv", folder / "profile_summary.csv"
    if points.is_file() and summary.is_file():
        fig = plot_profiles(_csv(points), _csv(summary), threshold=info["threshold"],
                            title=f"{name}\nlikelihood profiles (others re-optimised at each point)")
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
             f"best nllh {info['best_nllh']:.6g}; {info['within_threshold']} start(s) within "
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
        keep = ["start", "rank", "nllh", "delta_nllh", "status", "n_fev", "n_solves", "time_s", "message"]
        frame = _csv(starts)
        parts.append("<h3>Starts (best first)</h3>"
                     + _table(frame[[c for c in keep if c in frame]], 20, full=starts, root=root))
    if info.get("profile_errors"):
        parts.append("<p class='note'>Profiles that failed: " + html.escape("; ".join(info["profile_errors"]))
                     + "</p>")
    parts.append(_manifest_block(manifest))
    return "".join(parts)
