"""``mekisim report DIR``: one HTML page from the stored results under DIR."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..files import MANIFEST, RESUMABLE, Owner, read_json, unfinished_runs, write_text
from ..parallel import Executor, make_executor
from ..plots import plotly_javascript
from ._ci import _ci_convention_section
from ._fit import _fit_section
from ._html import _csv, _img, _link, _manifest_block, _parquet, _per_line, _remedy, _safe_id
from ._screen import _draw_panel, _screen_section
from ._sensitivity import _sensitivity_section

_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}table{border-collapse:collapse;font-size:.8em;
margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}img{max-width:100%}
.note{background:#f6f6f0;padding:.6em;border-left:4px solid #bb9;font-size:.9em}code{font-size:.9em}
.cut{font-size:.85em;color:#555;margin:.2em 0}h4{margin:.8em 0 .2em}
.toc{background:#f7f7fa;border:1px solid #dde;padding:.4em 1em;font-size:.9em}.toc h2{border:0;margin:.3em 0}
.toc ul{margin:.2em 0;padding-left:1.3em}.tables{font-size:.85em;color:#444}th{background:#f3f3f3}"""



def build_report(directory: str | Path, *, workers: int | None = None, executor: Executor | None = None,
                 synergyfinder: bool = False) -> Path:
    """Write ``directory/report.html`` from every result folder below it; return its path.

    The screen panels (one figure per cell line and readout, PNG + SVG) are most of a report's time, ~2-4 s
    each, so they are drawn in parallel: on ``executor`` if given (e.g. the one a study's screens ran on),
    else on ``make_executor(workers)`` (all cores by default). Everything else is drawn here, in order.

    The page is one self-contained file: every figure is embedded (PNG as a data URI), the interactive figures'
    plotly.js is embedded once, so a copied ``report.html`` works anywhere, offline; only the links to the full
    tables (CSV/Parquet) point at the files next to it. With ``synergyfinder`` each screen also gets its
    ``synergyfinder_<readout>_inhibition.csv`` (:func:`simulator.screen.write_synergyfinder`).

    Refused (an :class:`InputError` naming the folder and what to do) when a run below ``directory`` has not
    finished (its folder has an owner but no manifest: stopped, or still running), or when a manifest or a
    table it lists is missing or damaged: a report never shows part of a result as if it were all of it.

    Parameters
    ----------
    directory
        A folder holding result folders (a study's output, or one run's).
    workers
        Processes for the screen panels when no ``executor`` is given (``None``: all cores).
    executor
        Runs the screen panels.

    Returns
    -------
    Path
        ``directory/report.html``.
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
        kind = next((key for key in _SECTIONS if key in manifest), None)
        if kind == "screen":  # its figures are drawn afterwards, in parallel
            if synergyfinder:
                _write_synergyfinder(folder, manifest)
            body.append(_screen_section(folder, directory, title, manifest, panels))
        else:
            body.append((_generic_section if kind is None else _SECTIONS[kind])(folder, directory, title, manifest))
        body.append(_table_links(folder, directory))
    if panels:
        owned = make_executor(workers=workers) if executor is None else nullcontext(executor)
        with owned as pool:
            pool.map(_draw_panel, panels)
    out = directory / "report.html"
    page = _embed_images(_with_contents("".join(body)), directory)
    script = f"<script>{plotly_javascript()}</script>" if "Plotly.newPlot" in page else ""
    write_text(out, f"<!doctype html><html><head><meta charset='utf-8'><title>mekisim report: "
                    f"{html.escape(directory.name)}</title><style>{_CSS}</style>{script}</head><body>{page}"
                    "</body></html>\n")
    return out


def _write_synergyfinder(folder: Path, manifest: dict) -> list[Path]:
    """SynergyFinder tables of a screen folder, from its wells table (old screens' tables are described first)."""
    from ..readouts import READOUTS, Readout
    from ..screen import describe_wells, write_synergyfinder

    info = manifest["screen"]
    readouts = {**READOUTS, **{k: Readout(k, v["label"], v["unit"], v.get("description", ""), v.get("effect"))
                               for k, v in info.get("readout_info", {}).items()}}
    wells = describe_wells(_parquet(folder / "wells.parquet"), info["drug_a"], info["drug_b"], readouts)
    return write_synergyfinder(wells, {k: readouts[k] for k in info["readouts"] if k in readouts}, folder)


def _table_links(folder: Path, root: Path) -> str:
    """Links to every full table of a result folder (CSV and Parquet), so a cut table is never the end."""
    tables = sorted(p for p in folder.iterdir() if p.suffix in (".csv", ".parquet") and p.is_file())
    extra = sorted((folder / "report_tables").glob("*.csv")) if (folder / "report_tables").is_dir() else []
    if not tables and not extra:
        return ""
    links = " · ".join(_link(p, root) for p in [*tables, *extra])
    return (f"<p class='tables'>Full tables of <code>{html.escape(str(folder.relative_to(root)) or '.')}</code> "
            f"(relative to this page's folder): {links}</p>")


_HEADING = re.compile(r"<h([23])>(.*?)</h\1>", re.S)


def _with_contents(body: str) -> str:
    """Give every h2/h3 an id and put a table of contents (nested by level) after the page's first block."""
    entries: list[tuple[int, str, str]] = []

    def anchor(match: re.Match) -> str:
        level, text = int(match.group(1)), match.group(2)
        ident = f"s{len(entries) + 1}"
        entries.append((level, ident, re.sub(r"<[^>]+>", "", text)))
        return f"<h{level} id='{ident}'>{text}</h{level}>"

    body = _HEADING.sub(anchor, body)
    if not entries:
        return body
    items, open_sub = [], False
    for level, ident, text in entries:
        if level == 3 and not open_sub:
            items.append("<ul>")
            open_sub = True
        elif level == 2 and open_sub:
            items.append("</ul>")
            open_sub = False
        items.append(f"<li><a href='#{ident}'>{text}</a></li>")
    if open_sub:
        items.append("</ul>")
    toc = f"<nav class='toc'><h2>Contents</h2><ul>{''.join(items)}</ul></nav>"
    first = body.find("<h2")
    return body[:first] + toc + body[first:] if first >= 0 else body + toc


_IMG_SRC = re.compile(r"<img src='([^':]+?\.(?:png|svg))'([^>]*)>")


def _embed_images(page: str, root: Path) -> str:
    """Each ``<img src='relative.png'>`` as a data URI: the page carries its figures (copy it anywhere).

    A line under each links the PNG and, when drawn, the SVG file (links that work next to the results folder).
    """
    def embed(match: re.Match) -> str:
        rel = html.unescape(match.group(1))
        path = root / rel
        kind = "svg+xml" if path.suffix == ".svg" else "png"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        files = [f"<a href='{html.escape(rel)}'>{path.suffix[1:].upper()}</a>"]
        svg = path.with_suffix(".svg")
        if path.suffix == ".png" and svg.is_file():
            files.append(f"<a href='{html.escape(str(svg.relative_to(root)))}'>SVG</a>")
        return (f"<img src='data:image/{kind};base64,{data}'{match.group(2)}><br><span class='tables'>figure "
                f"file: {' · '.join(files)}</span>")

    return _IMG_SRC.sub(embed, page)


def _unfinished_text(folder: Path, owner: Owner | None) -> str:
    """Why ``folder`` cannot be reported, and how to finish it."""
    what = owner.describe(command=False)[2:] if owner is not None else "run"
    resumable = owner is not None and owner.verb in RESUMABLE
    again = f"`{' '.join(owner.command)}`" if owner is not None and owner.command else "its command"
    how = (f"rerun {again} with --resume to finish it (or with --force to start again)" if resumable
           else f"rerun {again} with --force to compute it again")
    return (f"{str(folder)!r} holds an unfinished {what}: it has no manifest.json, so it was stopped before it "
            f"finished or is still running; {how}")


def _check_listed_files(folder: Path, manifest: dict) -> None:
    """Every file the manifest lists must exist: a folder changed after its run is not reported as complete."""
    listed = manifest.get("files") or []
    missing = [name for name in listed if isinstance(name, str) and not (folder / name).exists()]
    if missing:
        raise InputError(f"{folder / MANIFEST} lists {len(missing)} file(s) that are missing ({', '.join(missing[:4])}"
                         f"{', ...' if len(missing) > 4 else ''}): the folder was changed after its run. "
                         f"{_remedy(folder)}")


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
    units = _observable_units(manifest)
    for csv in sorted(folder.glob("*.csv")):
        frame = _csv(csv)
        curves = _interactive_table(frame, f"{title}: {csv.stem} (simulated)", _safe_id(folder, root, csv.stem))
        parts.append(f"<h3>{html.escape(csv.stem)}</h3>" + curves
                     + _per_line(frame, 25, full=csv, root=root, units=units))
    parts.append(_manifest_block(manifest))
    return "".join(parts)


def _observable_units(manifest: dict) -> dict[str, str]:
    """Observable id -> unit of the models a manifest names (from their metadata), for table headers.

    Empty when the model file is no longer where the run found it (the headers then show the ids alone).
    """
    from ..model import load_model

    units: dict[str, str] = {}
    for entry in (manifest.get("models") or {}).values():
        source = (entry or {}).get("source")
        try:
            model = load_model(source) if source and Path(source).is_file() else None
        except Exception:  # noqa: BLE001 - a model that no longer loads only costs the units in the headers
            model = None
        if model is not None:
            units.update({o.id: o.unit for o in model.observables if o.unit})
    return units


#: columns never drawn as a curve (identifiers, counts, doses that are the x axis of another table)
_NOT_CURVES = {"member", "row", "n", "rank", "start"}


def _interactive_table(frame: pd.DataFrame, title: str, div_id: str) -> str:
    """Interactive curves of a table with a time (``time_<unit>``) or dose (``*_nM``) axis ("" for any other).

    One curve per cell line and value column; the first value column is shown, the others are a legend click
    away.
    """
    from ..plots import interactive_curves

    axes = [c for c in frame.columns if c.startswith("time_")] or [
        c for c in frame.columns if str(c).endswith("_nM") and frame[c].nunique() > 2]
    if not axes or frame.empty:
        return ""
    x = axes[0]
    values = [c for c in frame.columns if c != x and c not in _NOT_CURVES and not str(c).endswith("_nM")
              and pd.api.types.is_numeric_dtype(frame[c]) and frame[c].notna().any()]
    if not values:
        return ""
    groups = frame.groupby("cell_line", sort=False) if "cell_line" in frame else [("", frame)]
    series, shown = {}, set()
    for line, part in groups:
        part = part.sort_values(x)
        for k, column in enumerate(values):
            name = f"{line} {column}".strip()
            series[name] = (part[x].to_numpy(dtype=float), part[column].to_numpy(dtype=float))
            if k == 0:
                shown.add(name)
    dose = x.endswith("_nM")
    return interactive_curves(series, x_label=x, y_label="value (units: table headers)",
                              title=title, div_id=div_id, log_x=dose and bool((frame[x] > 0).any()), shown=shown)


#: the key of a result's manifest -> the function that writes its section, in order of precedence (a study's
#: manifest also lists its screens); a manifest with none of these keys gets the generic section. A new kind of
#: result adds its section function here.
_SECTIONS: dict[str, Callable[..., str]] = {
    "study": _study_section, "screen": _screen_section, "sensitivity": _sensitivity_section, "fit": _fit_section,
    "ci_convention": _ci_convention_section,
}
