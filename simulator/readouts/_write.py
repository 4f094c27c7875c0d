"""The dose-response stage's files: the tables, the figure (drawn by a callable) and the manifest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..files import Owner, begin_final_writes, write_manifest, write_table
from ..model import switch_values
from ..status import Status
from ._dose_response import DoseResponse
from ._readout import LEVEL_CONVENTION

#: draws a dose-response's figure into a folder: ``draw(result, folder) -> written paths``
#: (:func:`simulator.report.draw_dose_response`; the readouts stage itself never imports matplotlib)
DoseResponseDrawer = Callable[[DoseResponse, Path], list[Path]]


def write_dose_response(result: DoseResponse, out_dir: str | Path, *, owner: Owner | None = None, job: Any = None,
                        timings: Mapping[str, float] | None = None,
                        draw: DoseResponseDrawer | None = None) -> list[Path]:
    """Write a dose-response run: tables (CSV + Parquet), its figure and, last, its manifest.

    Parameters
    ----------
    result
        The dose series and its fit (:func:`dose_response`).
    out_dir
        The output folder (created; the CLI claims it first, :func:`simulator.files.claim_folder`).
    owner, job
        The folder's owner record and the settings, recorded with the manifest.
    timings
        Seconds per stage; the time taken here to write joins them.
    draw
        Draws the figure (:func:`simulator.report.draw_dose_response`, PNG + SVG); none when None.

    Returns
    -------
    list of pathlib.Path
        Every file written, the manifest last.
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
    if draw is not None:
        files += draw(result, out_dir)
    ok = sum(status == Status.OK for status in result.statuses)
    timings = {**(timings or {}), "write": time.perf_counter() - started}
    timings["total"] = sum(timings.values())
    files.append(write_manifest(
        out_dir / "manifest.json", models={"model": result.model}, owner=owner, job=job, timings=timings,
        counts={"ok": ok, "failed": len(result.statuses) - ok},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"dose_response": {"cell_line": result.cell_line, "drug": result.drug, "readout": result.readout,
                                 "doses_nM": [float(d) for d in result.doses],
                                 "background_nM": dict(result.background),
                                 "values": {"set": dict(result.parameter_values),
                                            "switched_off": list(result.switched_off),
                                            "applied_values": {**switch_values(result.model, result.switched_off),
                                                               **result.parameter_values}},
                                 **({"readout_convention": LEVEL_CONVENTION}
                                    if result.readout_info is not None and result.readout_info.level else {})}},
    ))
    return files
