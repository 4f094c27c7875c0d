"""Figures of a sensitivity run: index bars with CIs, the Morris mu*-sigma plot, index heatmaps over time and dose.

Like every plot function of :mod:`simulator.plots`, these draw what they are given (arrays read from the
stored ``indices`` table) and compute nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _figure_of, colormap, new_figure

_COLOURS = {"S1": "#4c72b0", "ST": "#dd8452", "mu_star": "#55a868", "mu": "#8172b3", "sigma": "#c44e52",
            "scaled": "#4c72b0", "unscaled": "#937860"}
_NAMES = {"S1": "first order S1", "ST": "total order ST", "mu_star": "mu* (mean |EE|)", "mu": "mu (mean EE)",
          "sigma": "sigma (sd EE)", "scaled": "scaled d ln y / d ln p", "unscaled": "unscaled"}


def _wrap(text: str, width: int = 70) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _chars(ax) -> int:
    """Characters of a 9-pt title that fit the axes' width."""
    return max(35, int(ax.get_position().width * _figure_of(ax).get_figwidth() * 13))


def plot_index_bars(
    parameters: Sequence[str],
    values: Mapping[str, np.ndarray],
    conf: Mapping[str, np.ndarray],
    *,
    ylabel: str,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Grouped bars, one group per parameter (in the order given), one bar per index, with CI error bars.

    ``values[index]`` and ``conf[index]`` are arrays aligned with ``parameters``; a bar's error bar is
    ``value +- conf`` (the interval stored with the index).

    Parameters
    ----------
    parameters
        Parameter ids, in bar order.
    values, conf
        Index name -> values and interval half-widths, aligned with ``parameters``.
    ylabel
        y-axis label.
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
        ax = new_figure((max(4.5, 0.5 * len(parameters) * max(1, len(values)) + 1.5), 3.8)).subplots()
    width = 0.8 / max(1, len(values))
    x = np.arange(len(parameters))
    for k, (index, vals) in enumerate(values.items()):
        ax.bar(x + (k - (len(values) - 1) / 2) * width, vals, width, yerr=conf[index], capsize=2,
               color=_COLOURS.get(index), label=_NAMES.get(index, index), error_kw={"lw": 0.8})
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(x, parameters, rotation=60, ha="right", fontsize=7)
    ax.set_xlabel("parameter")
    ax.set_ylabel(ylabel)
    ax.set_title(_wrap(title, _chars(ax)), fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    if own:
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_morris(
    parameters: Sequence[str],
    mu_star: np.ndarray,
    sigma: np.ndarray,
    *,
    mu_star_conf: np.ndarray | None = None,
    sigma_conf: np.ndarray | None = None,
    unit: str,
    title: str,
    label_top: int = 8,
    ax: Axes | None = None,
) -> Figure:
    """The Morris mu*-sigma plane, with CI error bars and the sigma/mu* = 0.1, 0.5, 1 guide lines.

    Far right: influential; high sigma relative to mu*: non-linear or interacting (Garcia Sanchez et al.
    2014 read sigma/mu* < 0.1 as linear, 0.1-0.5 monotonic, 0.5-1 almost monotonic, > 1 non-monotonic or
    interacting). The ``label_top`` parameters with the largest mu* are named.

    Parameters
    ----------
    parameters
        Parameter ids.
    mu_star, sigma
        Morris mu* and sigma per parameter.
    mu_star_conf, sigma_conf
        Interval half-widths (error bars), if known.
    unit
        Unit of the output (axis labels).
    title
        Axes title.
    label_top
        How many parameters to name.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    own = ax is None
    if ax is None:
        ax = new_figure((5.6, 4.6)).subplots()
    mu_star, sigma = np.asarray(mu_star, float), np.asarray(sigma, float)
    ok = np.isfinite(mu_star) & np.isfinite(sigma)
    ax.errorbar(mu_star[ok], sigma[ok], xerr=None if mu_star_conf is None else np.asarray(mu_star_conf)[ok],
                yerr=None if sigma_conf is None else np.asarray(sigma_conf)[ok], fmt="o", ms=4, lw=0.7, capsize=2,
                color="#4c72b0", ecolor="#999999")
    reach_x = mu_star + (0 if mu_star_conf is None else np.asarray(mu_star_conf, float))
    reach_y = sigma + (0 if sigma_conf is None else np.asarray(sigma_conf, float))
    top = max(float(np.nanmax(reach_x[ok], initial=0.0)), float(np.nanmax(reach_y[ok], initial=0.0)), 1e-12) * 1.05
    for ratio, style in ((0.1, ":"), (0.5, "--"), (1.0, "-")):
        ax.plot([0, top], [0, ratio * top], style, color="grey", lw=0.8, label=f"sigma/mu* = {ratio:g}")
    order = np.argsort(-np.where(ok, mu_star, -np.inf))[:label_top]
    for i in order:
        if ok[i]:
            ax.annotate(parameters[i], (mu_star[i], sigma[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"mu*, mean |elementary effect|\n({unit} per Morris step)", fontsize=8)
    ax.set_ylabel(f"sigma, sd of elementary effects\n({unit} per Morris step)", fontsize=8)
    ax.set_title(_wrap(title, _chars(ax)), fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    if own:
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_index_heatmap(
    matrix: np.ndarray,
    parameters: Sequence[str],
    positions: Sequence[float] | np.ndarray,
    *,
    xlabel: str,
    index_label: str,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """An index resolved over one axis (time after drug addition, fa, ...): parameters x positions.

    ``matrix[i, j]`` is the index of ``parameters[i]`` at ``positions[j]``; cells are annotated when few.

    Parameters
    ----------
    matrix
        Index values, shape ``(len(parameters), len(positions))``.
    parameters
        Parameter ids (rows).
    positions
        Where each column was evaluated.
    xlabel
        x-axis label, with its unit.
    index_label
        Colour-bar label (the index).
    title
        Axes title.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    matrix = np.asarray(matrix, dtype=float)
    own = ax is None
    if ax is None:
        ax = new_figure((1.8 + 0.5 * max(4, len(positions)), 1.2 + 0.28 * len(parameters))).subplots()
    finite = matrix[np.isfinite(matrix)]
    vmax = max(float(finite.max(initial=0.0)), 1e-12)
    vmin = min(0.0, float(finite.min(initial=0.0)))
    cmap = colormap("magma_r").with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(matrix), aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    if matrix.size <= 400:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if value > 0.6 * vmax else "black")
    ax.set_yticks(range(len(parameters)), parameters, fontsize=7)
    ax.set_xticks(range(len(positions)), [f"{p:.3g}" for p in positions], rotation=60, fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameter")
    ax.set_title(_wrap(title, _chars(ax)), fontsize=9)
    _figure_of(ax).colorbar(image, ax=ax, label=index_label, shrink=0.85)
    if own:
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_indices_over_grid(
    matrices: Mapping[str, np.ndarray],
    doses_a: Sequence[float] | np.ndarray,
    doses_b: Sequence[float] | np.ndarray,
    *,
    drug_a: str,
    drug_b: str,
    index_label: str,
    title: str,
    ncols: int = 3,
) -> Figure:
    """One dose-grid heatmap per parameter (rows drug A, columns drug B, nM): where in the grid it matters.

    All panels share one colour scale (one colour bar), so parameters can be compared by colour; every
    well is annotated with its value.

    Parameters
    ----------
    matrices
        Parameter id -> index per well, shape ``(len(doses_a), len(doses_b))``.
    doses_a, doses_b
        Doses of drug A (rows) and B (columns), nM.
    drug_a, drug_b
        Drug names.
    index_label
        Colour-bar label (the index).
    title
        Figure title.
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    n = len(matrices)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = new_figure((4.2 * ncols + 1.2, 3.7 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    stacked = np.concatenate([np.asarray(m, float).ravel() for m in matrices.values()]) if n else np.array([])
    finite = stacked[np.isfinite(stacked)]
    vmin, vmax = min(0.0, float(finite.min(initial=0.0))), max(float(finite.max(initial=0.0)), 1e-12)
    cmap = colormap("magma_r").with_extremes(bad="#dddddd")
    image = None
    for ax, (name, matrix) in zip(axes.ravel(), matrices.items(), strict=False):
        matrix = np.asarray(matrix, dtype=float)
        image = ax.imshow(np.ma.masked_invalid(matrix), origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=6,
                        color="white" if value > 0.6 * vmax else "black")
        ax.set_xticks(range(len(doses_b)), [f"{d:.3g}" for d in doses_b], rotation=60, fontsize=7)
        ax.set_yticks(range(len(doses_a)), [f"{d:.3g}" for d in doses_a], fontsize=7)
        ax.set_xlabel(f"{drug_b} (nM)")
        ax.set_ylabel(f"{drug_a} (nM)")
        ax.set_title(name, fontsize=9)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(_wrap(title, 100), fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    if image is not None:
        cax = fig.add_axes((0.92, 0.15, 0.015, 0.7))
        fig.colorbar(image, cax=cax, label=index_label)
    return fig


def plot_output_distribution(
    values: np.ndarray,
    *,
    xlabel: str,
    title: str,
    thresholds: Sequence[tuple[float, str]] = (),
    log: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of one output over the sampled parameter sets, with labelled threshold lines.

    The share of finite values on each side of every threshold is written in the legend, so robustness
    ("in what fraction of plausible parameter sets does the behaviour hold") can be read off the figure.

    Parameters
    ----------
    values
        The output per sampled parameter set (non-finite values are left out and counted).
    xlabel
        x-axis label, with its unit.
    title
        Axes title.
    thresholds
        ``(value, label)`` lines to draw.
    log
        Log-scale x axis.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    own = ax is None
    if ax is None:
        ax = new_figure((5.4, 3.6)).subplots()
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if log:
        finite = finite[finite > 0]
        bins: int | list[float] = (np.geomspace(finite.min(), finite.max(), 40).tolist()
                                   if finite.size and finite.min() < finite.max() else 20)
        ax.set_xscale("log")
    else:
        bins = 40
    ax.hist(finite, bins=bins, color="#4c72b0", alpha=0.8)
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    for value, label in thresholds:
        below = float(np.mean(finite < value)) if finite.size else float("nan")
        ax.axvline(value, color="#c44e52", ls="--", lw=1.2,
                   label=f"{label}: {below:.0%} below, {1 - below:.0%} at or above")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameter sets (count)")
    ax.set_title(_wrap(title, _chars(ax)), fontsize=9)
    if thresholds:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if own:
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_overview(panels: Sequence[Mapping], *, title: str) -> Figure:
    """One row per output: its indices as bars with CIs (left) and its distribution over the sample (right).

    Each panel mapping holds ``label`` (the output), ``parameters``, ``values`` and ``conf`` (index name ->
    array, as :func:`plot_index_bars`), ``ylabel``, ``sample`` (the output over the sampled parameter sets),
    ``xlabel``, ``thresholds`` and ``log`` (as :func:`plot_output_distribution`).

    Parameters
    ----------
    panels
        One mapping per output (keys above).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    n = len(panels)
    fig = new_figure((13.5, 3.6 * n))
    axes = fig.subplots(n, 2, squeeze=False,
                             gridspec_kw={"width_ratios": (1.7, 1.0)})
    for row, panel in zip(axes, panels, strict=True):
        plot_index_bars(panel["parameters"], panel["values"], panel["conf"], ylabel=panel["ylabel"],
                        title=panel["label"], ax=row[0])
        plot_output_distribution(panel["sample"], xlabel=panel["xlabel"], thresholds=panel.get("thresholds", ()),
                                 log=panel.get("log", False), title=f"{panel['label']}: over the sample", ax=row[1])
    fig.suptitle(_wrap(title, 130), fontsize=11)
    fig.tight_layout()
    return fig
