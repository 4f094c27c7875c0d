"""Figures; the only module that imports matplotlib.

Plot functions draw data they are given and compute nothing (no simulation, no fitting): a figure can
always be redrawn from the stored table. Every axis names its quantity and unit, and every title says
what was simulated (model, cell line, drug and dose).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .model import Observable

__all__ = ["display_time", "plot_dose_response", "plot_steady_state", "plot_time_courses", "save_figure"]

_TIME_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_TIME_WORDS = {"s": "s", "min": "min", "h": "h", "d": "days"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: figures are files
    import matplotlib.pyplot as plt

    return plt


def display_time(time: np.ndarray, unit: str | None, label: str = "time") -> tuple[np.ndarray, str]:
    """Convert model time to a readable unit for an axis: minutes become hours beyond 4 h, and so on."""
    time = np.asarray(time, dtype=float)
    if unit is None:
        return time, f"{label} (model units)"
    seconds = time * _TIME_SECONDS[unit]
    span = float(seconds.max(initial=0.0) - seconds.min(initial=0.0))
    target = unit
    for candidate, limit in (("d", 4 * 86400.0), ("h", 4 * 3600.0), ("min", 240.0)):
        if span >= limit and _TIME_SECONDS[candidate] > _TIME_SECONDS[unit]:
            target = candidate
            break
    return seconds / _TIME_SECONDS[target], f"{label} ({_TIME_WORDS[target]})"


def plot_time_courses(
    series: Mapping[str, tuple[np.ndarray, Mapping[str, np.ndarray]]],
    observables: Sequence[Observable],
    *,
    time_unit: str | None,
    title: str,
    ncols: int = 3,
    windows: Sequence[float] | None = None,
    time_label: str = "time",
):
    """Time courses, one line per labelled series ``label -> (time, {obs_id: values})``.

    Without ``windows``: one panel per observable on a grid of ``ncols`` columns. With ``windows`` (end
    times in model units): one row per observable and one column per window, so a fast transient (the
    first hours) and the late phase are both readable.
    """
    plt = _pyplot()
    if windows:
        nrows, ncols = len(observables), len(windows)
        panels = [(obs, end) for obs in observables for end in windows]
    else:
        ncols = max(1, min(ncols, len(observables)))
        nrows = int(np.ceil(len(observables) / ncols))
        panels = [(obs, None) for obs in observables]
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False,
                             sharex="col" if windows else True)
    flat = axes.ravel()
    for ax, (obs, end) in zip(flat, panels, strict=False):
        for label, (time, values) in series.items():
            keep = time <= end if end is not None else np.ones(time.shape, bool)
            t, t_label = display_time(time[keep], time_unit, time_label)
            ax.plot(t, np.asarray(values[obs.id])[keep], label=label or None, lw=1.8)
        ax.set_title(obs.label, fontsize=10)
        ax.set_ylabel(f"{obs.label}\n({obs.unit})" if obs.unit else obs.label, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in flat[: len(panels)]:
        if ax.get_subplotspec().is_last_row() or not windows:
            ax.set_xlabel(t_label, fontsize=8)
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    if any(series):
        flat[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_steady_state(values: Mapping[str, float], observables: Sequence[Observable], *, title: str, ax=None):
    """Bar chart of steady-state observables (NaN bars, e.g. an oscillating model, are left empty)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(observables) + 1.5), 3.6))
    labels = [o.label for o in observables]
    ax.bar(range(len(observables)), [values[o.id] for o in observables], color="#4477aa")
    if all(o.unit.startswith("relative") for o in observables):
        ax.axhline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xticks(range(len(observables)), labels, rotation=35, ha="right", fontsize=8)
    units = sorted({o.unit for o in observables})
    ax.set_ylabel(f"steady state ({units[0]})" if len(units) == 1 else "steady state (units per observable)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.figure.tight_layout()
    return ax


def plot_dose_response(
    series: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    drug_label: str,
    observable: Observable,
    title: str,
    reference: float | None = 1.0,
    ax=None,
):
    """Steady-state readout versus dose (log axis), one line per series ``label -> (doses_nM, values)``.

    Zero doses cannot sit on a log axis; they are drawn as a dotted horizontal line at their value.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 4.0))
    for label, (doses, values) in series.items():
        doses, values = np.asarray(doses, float), np.asarray(values, float)
        positive = doses > 0
        (line,) = ax.plot(doses[positive], values[positive], marker="o", ms=3, lw=1.6, label=label)
        if np.any(~positive):
            ax.axhline(values[~positive][0], color=line.get_color(), ls=":", lw=1)
    if reference is not None:
        ax.axhline(reference, color="grey", lw=0.8, ls="--", label="parental untreated")
    ax.set_xscale("log")
    ax.set_xlabel(f"{drug_label} (nM)")
    ax.set_ylabel(f"{observable.label} ({observable.unit})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def save_figure(fig, path: str | Path, *, svg: bool = True) -> list[Path]:
    """Save a figure as PNG (and SVG beside it) and close it; return the written paths."""
    plt = _pyplot()
    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    written = [path]
    if svg:
        fig.savefig(path.with_suffix(".svg"))
        written.append(path.with_suffix(".svg"))
    plt.close(fig)
    return written
