"""``mekisim report DIR``: one HTML page from the stored results under DIR (tables, figures, manifests).

Every sub-folder holding a ``manifest.json`` becomes a section; its kind (screen, dose-response, ...)
comes from the manifest. Figures are drawn here from the stored tables (nothing is simulated), written
beside the tables under ``figures/`` (PNG + SVG) and linked from ``DIR/report.html``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .doseresponse import fit_logistic
from .errors import InputError
from .plots import plot_dose_response_fit, plot_screen_panel, save_figure
from .readouts import READOUTS
from .response import DoseResponse
from .screen import WELL_SCORES, effect_of
from .store import write_manifest, write_table

__all__ = ["build_report", "write_dose_response"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}table{border-collapse:collapse;font-size:.8em;
margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}img{max-width:100%}
.note{background:#f6f6f0;padding:.6em;border-left:4px solid #bb9;font-size:.9em}code{font-size:.9em}"""


def build_report(directory: str | Path) -> Path:
    """Write ``directory/report.html`` from every result folder below it; return its path."""
    directory = Path(directory)
    manifests = sorted(directory.rglob("manifest.json"))
    if not manifests:
        raise InputError(f"{str(directory)!r} holds no manifest.json; run a mekisim command with --out there first.")
    body = [f"<h1>mekisim report: {html.escape(directory.name)}</h1>",
            "<p class='note'>Everything here is simulated with the model's parameters (see each manifest for the "
            "model hash and versions). Source-paper data are representative (directions and significance), "
            "not digitized measurements.</p>"]
    for path in manifests:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        folder = path.parent
        rel = folder.relative_to(directory)
        title = str(rel) if str(rel) != "." else directory.name
        if "screen" in manifest:
            body.append(_screen_section(folder, directory, title, manifest))
        else:
            body.append(_generic_section(folder, directory, title, manifest))
    out = directory / "report.html"
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>mekisim report</title><style>{_CSS}"
                   f"</style></head><body>{''.join(body)}</body></html>\n", encoding="utf-8")
    return out


def _img(path: Path, root: Path, alt: str) -> str:
    return f"<p><img src='{html.escape(str(path.relative_to(root)))}' alt='{html.escape(alt)}'></p>"


def _table(frame: pd.DataFrame, max_rows: int = 40) -> str:
    if frame.empty:
        return "<p><em>(empty)</em></p>"
    return frame.head(max_rows).to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0)


def _manifest_block(manifest: dict) -> str:
    keep = {k: manifest.get(k) for k in ("created", "command", "git_revision", "counts", "timings_s", "models")}
    return f"<details><summary>manifest</summary><pre>{html.escape(json.dumps(keep, indent=1))}</pre></details>"


def _generic_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    parts = [f"<h2>{html.escape(title)}</h2>"]
    for png in sorted(folder.glob("*.png")):
        parts.append(_img(png, root, png.stem))
    for csv in sorted(folder.glob("*.csv")):
        parts.append(f"<h3>{html.escape(csv.stem)}</h3>" + _table(pd.read_csv(csv), 25))
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


def _screen_section(folder: Path, root: Path, title: str, manifest: dict) -> str:
    info = manifest["screen"]
    wells = pd.read_parquet(folder / "wells.parquet")
    synergy = pd.read_parquet(folder / "synergy.parquet")
    drug_a, drug_b = info["drug_a"], info["drug_b"]
    ratio = info.get("constant_ratio_a_to_b")
    labels = {r: f"{READOUTS[r].label} ({READOUTS[r].unit})" if hasattr(READOUTS[r], "label") else r
              for r in READOUTS}
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
            fa = effect_of(readout, values)
            curve = syn[syn["score"] == "ci_ratio"].sort_values("fa")
            fig = plot_screen_panel(
                values, scores, doses_a, doses_b, drug_a=drug_a, drug_b=drug_b, readout_label=labels[readout],
                iso=(iso_x.ravel(), iso_y.ravel(), fa.ravel()),
                fa_ci=(fa.ravel(), scores["ci"].ravel(), curve["fa"].to_numpy(), curve["value"].to_numpy()),
                ratio_label=f"constant ratio {ratio:.3g}:1",
                title=f"{title}: {line}, {drug_a} × {drug_b}, {labels[readout]} (simulated)",
                single_fits=(_single_fit(doses_a, values[:, 0]), _single_fit(doses_b, values[0, :])),
            )
            png = save_figure(fig, figures / f"{line}_{readout}.png")[0]
            parts.append(f"<h3>{html.escape(line)}: {html.escape(labels[readout])}</h3>" + _img(png, root, png.stem))
            at = curve[curve["fa"].round(3).isin([0.5, 0.75, 0.9])]
            for _, row in at.iterrows():
                ci_rows.append({"cell_line": line, "readout": readout, "fa": row["fa"], f"{drug_a}_nM": row["dose_a"],
                                f"{drug_b}_nM": row["dose_b"], "CI": row["value"], "status": row["flag"]})
    parts.append("<h3>Combination index along the constant ratio (Chou–Talalay)</h3>" + _table(pd.DataFrame(ci_rows)))
    ranking = folder / "ranking.csv"
    if ranking.is_file():
        parts.append(f"<h3>Combinations reaching {info['target_suppression']:.0%} p-ERK suppression, least total "
                     "normalised dose first (dose/IC50 summed)</h3>" + _table(pd.read_csv(ranking), 30))
    ensemble = folder / "synergy_ensemble.csv"
    if ensemble.is_file():
        parts.append("<h3>Ensemble: probability of synergy and spread</h3>" + _table(pd.read_csv(ensemble), 30))
    parts.append(_manifest_block(manifest))
    return "".join(parts)


def write_dose_response(result: DoseResponse, out_dir: str | Path) -> list[Path]:
    """Tables (CSV + Parquet), the figure (PNG + SVG) and the manifest of a dose–response run."""
    out_dir = Path(out_dir)
    files = []
    for stem, frame in (("dose_response", result.to_frame()), ("fit", result.fit_frame())):
        for suffix in (".csv", ".parquet"):
            files.append(write_table(frame, out_dir / f"{stem}{suffix}"))
    ax = plot_dose_response_fit(result)
    files += save_figure(ax.figure, out_dir / "dose_response.png")
    ok = sum(status == "ok" for status in result.statuses)
    files.append(write_manifest(
        out_dir / "manifest.json", models={"model": result.model},
        counts={"ok": ok, "failed": len(result.statuses) - ok},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"dose_response": {"cell_line": result.cell_line, "drug": result.drug,
                                 "readout": result.readout, "background_nM": dict(result.background)}},
    ))
    return files
