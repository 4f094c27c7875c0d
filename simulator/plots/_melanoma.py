"""Figures of Model B (NRAS-mutant melanoma): 33-day senescence/escape time courses and the B7 prediction.

Like every plot function here they draw what they are given and compute nothing; the tables written by
``experiments/melanoma_senescence/run.py`` hold the same numbers. Model B is a prototype built on an abstract
and a blog post, so every title says "prototype model, representative" (not data).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..model import Observable
from ._common import display_time, new_figure

#: Series = label -> (time in model units, {observable id: values}).
Series = Mapping[str, tuple[np.ndarray, Mapping[str, np.ndarray]]]


def _draw(ax, series: Series, obs: Observable, time_unit: str | None, *, log: bool = False, style: str = "-",
          suffix: str = "", colors: Mapping[str, str] | None = None, reference_first: bool = False) -> None:
    """One line per series on ``ax``.

    ``reference_first`` draws the first series black and dashed on top, so series that coincide with it (a
    variant without effect) stay visible.
    """
    for k, (label, (time, values)) in enumerate(series.items()):
        t, t_label = display_time(time, time_unit, "time after drug addition")
        kwargs: dict[str, Any] = {"color": colors[label]} if colors and label in colors else {"color": f"C{k}"}
        kwargs["ls"] = "--" if style == "--" else "-"
        if reference_first and k == 0:
            kwargs = {"color": "k", "ls": (0, (4, 3)), "zorder": 5}
        ax.plot(t, np.asarray(values[obs.id]), lw=1.8, label=f"{label}{suffix}", **kwargs)
    if log:
        _log_axis(ax)
    ax.set_xlabel(t_label, fontsize=8)
    ax.grid(alpha=0.3, which="both")


def _log_axis(ax) -> None:
    """Log y axis with plain-number tick labels (1, 3, 10 rather than 3x10^0)."""
    from matplotlib.ticker import FormatStrFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=6)


def plot_senescence_time_courses(series: Series, observables: Mapping[str, Observable], *, time_unit: str | None,
                                 title: str) -> Figure:
    """Four panels per line: cell number N (log), senescent fraction, ERK5 activity, STAT1 and EMT.

    ``observables`` maps the ids ``N``, ``senescent_fraction``, ``ERK5a``, ``STAT1`` and ``EMT`` to their
    labels and units (the model's metadata).

    Parameters
    ----------
    series
        Line -> time course.
    observables
        Labels and units of the five ids.
    time_unit
        The model's time unit (axis label), or ``None``.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    fig = new_figure((10.5, 7.0))
    axes = fig.subplots(2, 2)
    colors = {label: f"C{i}" for i, label in enumerate(series)}
    panels = (("N", axes[0, 0], True), ("senescent_fraction", axes[0, 1], False), ("ERK5a", axes[1, 0], False))
    for obs_id, ax, log in panels:
        obs = observables[obs_id]
        _draw(ax, series, obs, time_unit, log=log, colors=colors)
        ax.set_ylabel(f"{obs.label} ({obs.unit})", fontsize=8)
        ax.set_title(obs.label, fontsize=10)
    axes[0, 0].axhline(1.0, color="grey", ls=":", lw=0.8)
    axes[0, 1].axhline(0.5, color="grey", ls=":", lw=0.8)  # B1/B2 threshold
    ax = axes[1, 1]
    _draw(ax, series, observables["STAT1"], time_unit, suffix=": STAT1", colors=colors)
    _draw(ax, series, observables["EMT"], time_unit, style="--", suffix=": EMT", colors=colors)
    ax.set_ylabel(f"STAT1 ({observables['STAT1'].unit}), EMT ({observables['EMT'].unit})", fontsize=8)
    ax.set_title("IFN-gamma response (solid) and EMT (dashed)", fontsize=10)
    axes[0, 0].legend(fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_growth_curves(courses: Mapping[str, Series], observables: Mapping[str, Observable], *,
                       time_unit: str | None, title: str, colors: Mapping[str, str] | None = None) -> Figure:
    """Growth curves as a culture shows them: cells N (log) and the senescent fraction, one column per line.

    Each column draws every condition (e.g. DMSO, each drug alone, the combination).
    ``courses`` maps line -> series (condition label -> time course with ``N`` and ``senescent_fraction``);
    ``colors`` optionally maps condition labels to colours, so a condition has one colour in every column.

    Parameters
    ----------
    courses
        Line -> series (condition label -> time course).
    observables
        Labels and units of ``N`` and ``senescent_fraction``.
    time_unit
        The model's time unit (axis label), or ``None``.
    title
        Figure title.
    colors
        Condition label -> colour.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    fig = new_figure((4.4 * len(courses), 7.0))
    axes = fig.subplots(2, len(courses), squeeze=False)
    for col, (line, series) in enumerate(courses.items()):
        for row, (obs_id, log, guide) in enumerate((("N", True, 1.0), ("senescent_fraction", False, 0.5))):
            obs, ax = observables[obs_id], axes[row, col]
            _draw(ax, series, obs, time_unit, log=log, colors=colors)
            ax.axhline(guide, color="grey", ls=":", lw=0.8)
            ax.set_ylabel(f"{obs.label} ({obs.unit})", fontsize=8)
            ax.set_title(f"{line}: {obs.label}", fontsize=10)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_escape_prediction(
    courses: Mapping[str, Series],
    sweeps: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]],
    observables: Mapping[str, Observable],
    *,
    time_unit: str | None,
    sweep_day: float,
    title: str,
) -> Figure:
    """Prediction B7: time courses per line under the combination with and without a blocker, plus dose sweeps.

    Parameters
    ----------
    courses
        Line -> series (condition label -> time course with ``N`` and ``senescent_fraction``); the first
        series is the reference (the combination alone), drawn black and dashed.
    sweeps
        Blocker label -> line -> (blocker doses in nM, N on ``sweep_day``, senescent fraction on
        ``sweep_day``), each with the combination as background.
    observables
        Labels and units of ``N`` and ``senescent_fraction``.
    time_unit
        The model's time unit (axis label), or ``None``.
    sweep_day
        Day at which the sweeps were read (named in the sweep panels' labels).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    ncols = len(courses) + 1
    fig = new_figure((4.4 * ncols, 7.2))
    axes = fig.subplots(2, ncols, squeeze=False)
    n_obs, s_obs = observables["N"], observables["senescent_fraction"]
    for col, (line, series) in enumerate(courses.items()):
        for row, (obs, log) in enumerate(((n_obs, True), (s_obs, False))):
            ax = axes[row, col]
            _draw(ax, series, obs, time_unit, log=log, reference_first=True)
            ax.set_ylabel(f"{obs.label} ({obs.unit})", fontsize=8)
            ax.set_title(f"{line}: {obs.label}", fontsize=10)
        axes[0, col].axhline(3.0, color="grey", ls=":", lw=0.8)
        axes[1, col].axhline(0.5, color="grey", ls=":", lw=0.8)
    axes[0, 0].legend(fontsize=7)
    for row, (index, obs, log) in enumerate(((1, n_obs, True), (2, s_obs, False))):
        ax = axes[row, -1]
        for k, (blocker, per_line) in enumerate(sweeps.items()):
            for j, (line, data) in enumerate(per_line.items()):
                ax.plot(data[0], data[index], ("-o", "--s")[j % 2], color=f"C{k + 4}", ms=3, lw=1.4,
                        label=f"{blocker}, {line}")
        ax.set_xscale("log")
        if log:
            _log_axis(ax)
        ax.set_xlabel("blocker dose added to the combination (nM)", fontsize=8)
        ax.set_ylabel(f"{obs.label} on day {sweep_day:g} ({obs.unit})", fontsize=8)
        ax.set_title(f"day {sweep_day:g} versus blocker dose", fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0, -1].axhline(3.0, color="grey", ls=":", lw=0.8)
    axes[0, -1].legend(fontsize=6)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig

