"""The files of a dose-response run: tables, the figure and the manifest."""

from __future__ import annotations

from pathlib import Path

from ..files import Owner, begin_final_writes, write_manifest, write_table
from ..plots import plot_dose_response_fit, save_figure
from ..readouts import LEVEL_CONVENTION, DoseResponse


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
