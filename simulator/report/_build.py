"""``mekisim report DIR``: one HTML page from the stored results under DIR."""

from __future__ import annotations

import html
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..files import MANIFEST, RESUMABLE, Owner, read_json, unfinished_runs, write_text
from ..parallel import Executor, make_executor
from ._ci import _ci_convention_section
from ._fit import _fit_section
from ._html import _csv, _img, _manifest_block, _per_line, _remedy
from ._screen import _draw_panel, _screen_section
from ._sensitivity import _sensitivity_section

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
        kind = next((key for key in _SECTIONS if key in manifest), None)
        if kind == "screen":  # its figures are drawn afterwards, in parallel
            body.append(_screen_section(folder, directory, title, manifest, panels))
        else:
            body.append(_SECTIONS.get(kind, _generic_section)(folder, directory, title, manifest))
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
    for csv in sorted(folder.glob("*.csv")):
        parts.append(f"<h3>{html.escape(csv.stem)}</h3>" + _per_line(_csv(csv), 25, full=csv, root=root))
    parts.append(_manifest_block(manifest))
    return "".join(parts)


#: the key of a result's manifest -> the function that writes its section, in order of precedence (a study's
#: manifest also lists its screens); a manifest with none of these keys gets the generic section. A new kind of
#: result adds its section function here.
_SECTIONS = {"study": _study_section, "screen": _screen_section, "sensitivity": _sensitivity_section,
             "fit": _fit_section, "ci_convention": _ci_convention_section}
