"""The fit stage's files: the tables of a fit and its profiles, its figures (drawn by a callable) and its manifest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..files import ModelRecord, Owner, begin_final_writes, write_manifest, write_table
from ._multistart import FitResult, fit_vs_data
from ._nominal import NominalResult, write_simulation_table
from ._objective import objective_for
from ._profile import Profile

#: draws a fit's figures into a folder from its stored tables: ``draw(folder, info) -> written paths``
#: (:func:`simulator.report.draw_fit_figures`; the fit stage itself never imports matplotlib)
FigureDrawer = Callable[[Path, Mapping[str, Any]], list[Path]]


def write_fit_tables(result: FitResult, out_dir: str | Path,
                     ensembles: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """Write ``starts``, ``parameters``, ``fit_vs_data`` (CSV + Parquet), ``simulation.tsv`` and ensembles.

    ``simulation.tsv`` is the PEtab simulation table of the best start. Returns the paths.

    ``ensemble.csv`` is written only when some estimated parameter is a model parameter (otherwise there is
    nothing a screen could apply); ``ensembles`` adds ``ensemble_<name>.csv`` per entry, with the column
    mapping of :meth:`FitResult.ensemble` (one file per cell line of a blot fit).

    Parameters
    ----------
    result
        The fit.
    out_dir
        Folder to write into (created if missing).
    ensembles
        Optional name -> column mapping, one ``ensemble_<name>.csv`` each.

    Returns
    -------
    list[Path]
        Every file written.
    """
    out_dir = Path(out_dir)
    files = []
    tables = {"starts": result.to_frame(), "parameters": result.parameter_table()}
    if result.best.ok:
        tables["fit_vs_data"] = fit_vs_data(result)
    for stem, frame in tables.items():
        for suffix in (".csv", ".parquet"):
            files.append(write_table(frame, out_dir / f"{stem}{suffix}"))
    if "fit_vs_data" in tables:  # what petab_visualize and other PEtab tools read
        files.append(write_simulation_table(tables["fit_vs_data"], out_dir / "simulation.tsv"))
    if result.model_parameter_ids and result.best.ok:
        files.append(write_table(result.ensemble(), out_dir / "ensemble.csv"))
    for name, columns in (ensembles or {}).items():
        if result.best.ok:
            files.append(write_table(result.ensemble(columns=columns), out_dir / f"ensemble_{name}.csv"))
    return files


def write_profiles(profiles: Sequence[Profile], out_dir: str | Path) -> list[Path]:
    """Write ``profiles`` (every point) and ``profile_summary`` (95 % intervals), CSV + Parquet.

    Parameters
    ----------
    profiles
        Profiles from :func:`profile_parameters`.
    out_dir
        Folder to write into (created if missing).

    Returns
    -------
    list[Path]
        Every file written.
    """
    out_dir = Path(out_dir)
    points = pd.concat([p.to_frame() for p in profiles], ignore_index=True) if profiles else pd.DataFrame()
    summary = pd.DataFrame([p.summary() for p in profiles])
    files = []
    for stem, frame in (("profiles", points), ("profile_summary", summary)):
        for suffix in (".csv", ".parquet"):
            files.append(write_table(frame, out_dir / f"{stem}{suffix}"))
    return files


def write_fit(
    result: FitResult,
    out_dir: str | Path,
    *,
    profiles: Sequence[Profile] = (),
    profile_errors: Sequence[str] = (),
    ensembles: Mapping[str, Mapping[str, str]] | None = None,
    info: Mapping[str, Any] | None = None,
    models: Mapping[str, ModelRecord] | None = None,
    owner: Owner | None = None,
    job: Any = None,
    timings: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
    draw: FigureDrawer | None = None,
) -> list[Path]:
    """Write a fit into ``out_dir``: its tables, its profiles, its figures and, last, its manifest.

    Parameters
    ----------
    result
        The fit (:func:`fit_petab`).
    out_dir
        The output folder (created; the caller claims it first, :func:`simulator.files.claim_folder`).
    profiles, profile_errors
        The profiles of :func:`profile_parameters`, and its message per profile that failed.
    ensembles
        Extra ensemble files ``ensemble_<name>.csv`` with a column mapping each (:func:`write_fit_tables`).
    info
        What the manifest's ``"fit"`` entry records beside the fit's own summary (the data file, whether the data
        are representative, the time unit, a title); the figures' labels read it too.
    models
        The models the manifest records (default: the PEtab problem's SBML model, as ``"petab"``).
    owner, job
        The folder's owner record and the job it ran (:func:`simulator.files.claim_folder`).
    timings
        Seconds per stage, for the manifest.
    extra
        More manifest entries (an experiment's config).
    draw
        Draws the figures from the written tables (:func:`simulator.report.draw_fit_figures`); none when None.

    Returns
    -------
    list of pathlib.Path
        Every file written, the manifest last.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    begin_final_writes(out_dir)  # from the first replaced table on, the folder is not the old complete result
    files = write_fit_tables(result, out_dir, {k: v for k, v in (ensembles or {}).items() if v})
    files += write_profiles(profiles, out_dir) if profiles else []
    entry = {**result.manifest_info(), **(info or {}), "profiles": [p.parameter for p in profiles],
             "profile_errors": list(profile_errors)}
    if draw is not None:
        files += draw(out_dir, entry)
    if models is None:
        models = {"petab": objective_for(result.source, result.settings.options).problem.model}
    files.append(write_manifest(
        out_dir / "manifest.json", models=models, seed=result.seed, owner=owner, job=job, timings=timings,
        counts={"starts": len(result.starts), "starts_ok": result.n_ok,
                "starts_failed": len(result.starts) - result.n_ok,
                "ensemble_members": len(result.within()), "profiles_failed": len(profile_errors)},
        files=sorted({f.name for f in files}), extra={"fit": entry, **(extra or {})}))
    return files


def write_nominal(result: NominalResult, out_dir: str | Path, *, info: Mapping[str, Any] | None = None,
                  models: Mapping[str, ModelRecord] | None = None, owner: Owner | None = None, job: Any = None,
                  timings: Mapping[str, float] | None = None, draw: FigureDrawer | None = None) -> list[Path]:
    """Write an evaluation at the nominal parameters (:func:`evaluate_nominal`) into ``out_dir``.

    ``nominal.json``, ``fit_vs_data`` (CSV + Parquet), the PEtab ``simulation.tsv``, the fit-vs-data figure
    (``draw``) and, last, the manifest.

    ``info`` as for :func:`write_fit` (time unit, representative data, title).
    """
    import json

    from ..files import atomic_path

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    begin_final_writes(out_dir)
    summary = result.summary()
    nominal = out_dir / "nominal.json"
    with atomic_path(nominal) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    files = [nominal]
    for suffix in (".csv", ".parquet"):
        files.append(write_table(result.table, out_dir / f"fit_vs_data{suffix}"))
    files.append(write_simulation_table(result.table, out_dir / "simulation.tsv"))
    entry = {"problem": str(result.source), "best_nllh": result.nllh, "nlprior": result.nlprior,
             "nlpost": result.nlpost, "nominal": True, **(info or {})}
    if draw is not None:
        files += draw(out_dir, entry)
    files.append(write_manifest(
        out_dir / "manifest.json", models=models, owner=owner, job=job, timings=timings,
        counts={"measurements": result.n_measurements, "failed_conditions": len(result.messages)},
        files=sorted({f.name for f in files}), extra={"nominal": summary, "fit": entry}))
    return files
