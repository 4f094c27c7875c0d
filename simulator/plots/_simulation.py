"""Figures of simulations: time courses, steady states, dose-response series and their logistic fit."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..model import Observable
from ._common import _figure_of, _number, display_time, new_figure


def plot_time_courses(
    series: Mapping[str, tuple[np.ndarray, Mapping[str, np.ndarray]]],
    observables: Sequence[Observable],
    *,
    time_unit: str | None,
    title: str,
    ncols: int = 3,
    windows: Sequence[float] | None = None,
    time_label: str = "time",
) -> Figure:
    """Time courses, one line per labelled series ``label -> (time, {obs_id: values})``.

    Without ``windows``: one panel per observable on a grid of ``ncols`` columns. With ``windows`` (end
    times in model units): one row per observable and one column per window, so a fast transient (the
    first hours) and the late phase are both readable.

    Parameters
    ----------
    series
        Label -> (time, observable id -> values).
    observables
        The observables to draw (labels and units).
    time_unit
        The model's time unit (axis label), or ``None``.
    title
        Figure title.
    ncols
        Panels per row (without ``windows``).
    windows
        End times of the time windows, model units.
    time_label
        x-axis label before the unit.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    if windows:
        nrows, ncols = len(observables), len(windows)
        panels: list[tuple[Observable, float | None]] = [(obs, end) for obs in observables for end in windows]
    else:
        ncols = max(1, min(ncols, len(observables)))
        nrows = int(np.ceil(len(observables) / ncols))
        panels = [(obs, None) for obs in observables]
    fig = new_figure((4.2 * ncols, 3.0 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False,
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


def plot_steady_state(
    values: Mapping[str, float], observables: Sequence[Observable], *, title: str, ax: Axes | None = None
) -> Figure:
    """Bar chart of steady-state observables (NaN bars, e.g. an oscillating model, are left empty).

    Parameters
    ----------
    values
        Observable id -> steady-state value.
    observables
        The observables to draw (labels and units), in bar order.
    title
        Axes title.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    own = ax is None
    if ax is None:
        ax = new_figure((max(4.0, 0.9 * len(observables) + 1.5), 3.6)).subplots()
    labels = [o.label for o in observables]
    ax.bar(range(len(observables)), [values[o.id] for o in observables], color="#4477aa")
    if all(o.unit.startswith("relative") for o in observables):
        ax.axhline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xticks(range(len(observables)), labels, rotation=35, ha="right", fontsize=8)
    units = sorted({o.unit for o in observables})
    ax.set_ylabel(f"steady state ({units[0]})" if len(units) == 1 else "steady state (units per observable)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    if own:  # a caller composing panels lays out once
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_dose_response(
    series: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    drug_label: str,
    observable: Observable,
    title: str,
    reference: float | None = 1.0,
    ax: Axes | None = None,
) -> Figure:
    """Steady-state readout versus dose (log axis), one line per series ``label -> (doses_nM, values)``.

    Zero doses cannot sit on a log axis; they are drawn as a dotted horizontal line at their value.

    Parameters
    ----------
    series
        Label -> (doses in nM, values).
    drug_label
        The drug (x-axis label).
    observable
        The readout's label and unit (y axis).
    title
        Axes title.
    reference
        A dashed reference line ("parental untreated"); ``None`` for none.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    own = ax is None
    if ax is None:
        ax = new_figure((5.6, 4.0)).subplots()
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
    if own:  # a caller composing panels lays out once
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_dose_response_fit(result, ax: Axes | None = None) -> Figure:
    """A simulated dose series (points) with its logistic fit (line), the model named, EC50 and IC50 marked.

    The relative EC50 with its 95 % CI and the absolute IC50 (50 % of untreated; "> top dose" in the legend when
    the drug never gets there) are separate lines in the legend.

    ``result`` is a :class:`simulator.response.DoseResponse`; the curve is the fitted equation evaluated
    on a dense dose grid (the fit itself was done by :func:`simulator.readouts.fit_logistic`).

    Parameters
    ----------
    result
        The dose response.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    own = ax is None
    if ax is None:
        ax = new_figure((5.6, 4.0)).subplots()
    fit = result.fit
    doses, response = np.asarray(result.doses, float), np.asarray(result.response, float)
    positive = doses > 0
    ax.plot(doses[positive], response[positive], "o", ms=4, label="simulated")
    if np.any(~positive):
        ax.axhline(response[~positive][0], color="grey", ls=":", lw=1, label="untreated")
    if np.isfinite(fit.ic50):
        grid = np.geomspace(doses[positive].min(), doses[positive].max(), 200)
        curve = fit.bottom + (fit.top - fit.bottom) / (1 + (grid / fit.ic50) ** fit.hill)
        lo, hi = fit.ic50_ci95
        ax.plot(grid, curve, "-", lw=1.6, label=f"{fit.model}: Hill {fit.hill:.2g}, r² {fit.r2:.3f}")
        ax.axvline(fit.ic50, color="grey", lw=0.8, ls="--",
                   label=f"relative EC50 {_number(fit.ic50, 3)} nM (95% CI {_number(lo, 3)}–{_number(hi, 3)})")
    if fit.ic50_abs_text != "n/a":
        if np.isfinite(fit.ic50_abs):
            ax.axvline(fit.ic50_abs, color="black", lw=0.9, ls=":",
                       label=f"absolute IC50 (50 % of untreated) {_number(fit.ic50_abs, 3)} nM")
        else:
            ax.plot([], [], " ", label=f"absolute IC50 (50 % of untreated) {fit.ic50_abs_label()}")
    ax.set_xscale("log")
    ax.set_xlabel(f"{result.drug} (nM)")
    ax.set_ylabel("\n".join(textwrap.wrap(result.response_label, 42)))  # long labels would be cut off
    background = ", ".join(f"+ {d} {v:g} nM" for d, v in result.background.items() if v > 0)
    line = result.cell_line or "model defaults"
    ax.set_title(f"{result.model.name} (simulated): {line}, {result.drug} {background}".strip(),
                 fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    if own:  # a caller composing panels lays out once
        _figure_of(ax).tight_layout()
    return _figure_of(ax)
