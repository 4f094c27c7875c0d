"""Figures of a fit: waterfall of the starts, best fit against the data, likelihood profiles.

Like every plot function here these only draw the tables they are given (the stored ``starts``,
``fit_vs_data`` and ``profiles`` tables of ``mekisim fit``), so a report can redraw them without fitting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._common import colormap, new_figure


def plot_waterfall(nllh: Sequence[float], *, threshold: float, title: str, reference: float | None = None,
                   reference_label: str = "best known optimum", quantity: str = "nllh") -> Figure:
    """Final nllh of every start, sorted: the flat steps are optima reached by several starts.

    The y axis is ``nllh - base + 1`` on a log scale (``base``: the lower of the best value and ``reference``),
    so the best start sits at 1 and a gap of one nllh unit is readable next to a gap of thousands. Starts within
    ``threshold`` of the best (the ensemble) are filled; failed starts (``inf``) are drawn at the top as crosses.

    Parameters
    ----------
    nllh
        Final negative log-likelihood per start (``inf`` for a failed start).
    threshold
        Starts within this of the best form the ensemble.
    title
        Figure title.
    reference
        A known optimum (e.g. the PEtab benchmark's), drawn as a line.
    reference_label
        Legend entry of ``reference``.
    quantity
        What the values are, for the axis label: ``"nllh"``, or ``"nlpost"`` (nllh + nlprior) with objective priors.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    values = np.sort(np.asarray(nllh, dtype=float))
    finite = values[np.isfinite(values)]
    fig = new_figure((6.4, 4.0))
    ax = fig.subplots()
    if finite.size == 0:
        ax.text(0.5, 0.5, "no start reached a finite objective", ha="center", transform=ax.transAxes)
        ax.set_title(title, fontsize=10)
        return fig
    best = float(finite[0])
    base = min(best, reference) if reference is not None else best
    y = finite - base + 1.0
    rank = np.arange(1, finite.size + 1)
    inside = finite <= best + threshold
    ax.semilogy(rank, y, "-", color="0.6", lw=1, zorder=1)
    ax.scatter(rank[inside], y[inside], s=22, color="tab:blue", zorder=3,
               label=f"within {threshold:.2f} of the best ({int(inside.sum())})")
    ax.scatter(rank[~inside], y[~inside], s=22, facecolor="white", edgecolor="tab:blue", zorder=2,
               label=f"other starts ({int((~inside).sum())})")
    failed = values.size - finite.size
    if failed:
        top = float(y.max()) * 3.0
        ax.scatter(np.arange(finite.size + 1, values.size + 1), np.full(failed, top), marker="x", color="tab:red",
                   label=f"failed ({failed})")
    ax.axhline(best - base + 1.0 + threshold, color="tab:blue", ls=":", lw=1, label="best + threshold")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if reference is not None:
        ax.axhline(reference - base + 1.0, color="tab:green", ls="--", lw=1,
                   label=f"{reference_label} {reference:.4g}")
    ax.set_xlabel("start, sorted by final value (rank)")
    ax.set_ylabel(f"final {quantity} − ({base:.4g}) + 1 ({quantity} units, log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


#: more groups than this in a panel: no legend, a note instead
_MAX_LEGEND = 12


def plot_fit_vs_data(table: pd.DataFrame, *, title: str, time_label: str = "time (model units)",
                     group: str = "simulationConditionId", ncols: int = 3, representative: bool = False,
                     fit_label: str = "best fit") -> Figure:
    """Measured points and the best fit's simulated values, one panel per observable.

    ``table`` has ``observableId``, ``time``, ``measurement``, ``simulation`` (optionally ``sigma``) and the
    ``group`` column; each group (a condition, or a condition and gel) gets one colour: data as points, the fit
    as a line through the simulated values at the measured times. When every group has a single time point
    (basal steady states), each panel is categorical instead: one column per group, data +- sigma and the fit
    as a black bar. ``representative`` adds that the data are representative (derived
    from a paper's directions), not digitized measurements.

    Parameters
    ----------
    table
        The fit's ``fit_vs_data`` table.
    title
        Figure title (what was fitted).
    time_label
        x-axis label, with the time unit.
    group
        Column whose values get one colour each.
    ncols
        Panels per row.
    representative
        Say in the title that the data are representative, not digitized.
    fit_label
        Names the simulated values (e.g. "simulation at nominal parameters" when nothing was fitted).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    observables = list(dict.fromkeys(table["observableId"]))
    ncols = max(1, min(ncols, len(observables)))
    nrows = math.ceil(len(observables) / ncols)
    # one time point per group everywhere (e.g. basal steady states): a categorical panel, data +- sigma per group
    categorical = bool((table.groupby(["observableId", group])["time"].nunique() <= 1).all())
    width = 4.6 if categorical else 7.0  # time courses keep their legend beside the panel
    fig = new_figure((width * ncols, 3.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colours = colormap("tab10")
    for ax, obs in zip(axes.ravel(), observables, strict=False):
        sub = table[table["observableId"] == obs]
        many = sub[group].nunique() > _MAX_LEGEND  # Isensee 2018: 120 conditions; a legend would bury the panel
        scale = _transformation(sub)
        times = sub["time"].to_numpy(dtype=float)
        steady_x = None if categorical or np.isfinite(times).all() else _steady_position(times)
        for k, (label, part) in enumerate(sub.groupby(group, sort=False)):
            colour = colours(k % 10)
            if categorical:
                err = _sigma_band(part, scale) if "sigma" in part else None
                ax.errorbar(np.full(len(part), k), part["measurement"], yerr=err, fmt="o", ms=5, color=colour,
                            capsize=3, label=f"data ({_BAND[scale]})" if k == 0 else None)
                ax.plot([k - 0.3, k + 0.3], [part["simulation"].mean()] * 2, "-", lw=2.5, color="black",
                        label=fit_label if k == 0 else None)
                continue
            part = part.sort_values("time")
            x = part["time"].to_numpy(dtype=float)
            if steady_x is not None:
                x = np.where(np.isfinite(x), x, steady_x)  # time = inf: the steady state, at the right edge
            err = _sigma_band(part, scale) if "sigma" in part and part["sigma"].notna().all() else None
            ax.errorbar(x, part["measurement"], yerr=err, fmt="o", ms=4, color=colour, alpha=0.8, capsize=2,
                        label=None if many else f"{label} (data {_BAND[scale]})" if err is not None else str(label))
            finite = part[np.isfinite(part["time"].to_numpy(dtype=float))]
            fit = finite.groupby("time", sort=True)["simulation"].mean()
            ax.plot(fit.index, fit.to_numpy(), "-", lw=1.6, color=colour)
            if steady_x is not None and len(finite) < len(part):
                level = float(part.loc[~np.isfinite(part["time"].to_numpy(dtype=float)), "simulation"].mean())
                ax.plot([steady_x - 0.02 * steady_x, steady_x + 0.02 * steady_x], [level] * 2, "-", lw=2.5,
                        color=colour)
        if categorical:
            labels = list(dict.fromkeys(sub[group]))
            ax.set_xticks(range(len(labels)), [str(v) for v in labels], rotation=30, ha="right", fontsize=7)
            ax.set_xlabel(group)
        else:
            ax.set_xlabel(time_label)
            if steady_x is not None:
                _mark_steady_state(ax, times, steady_x)
        ax.set_title(obs + ("" if categorical else f"  (points: data; lines: {fit_label} at the measured times)"),
                     fontsize=9)
        log_axis = scale != "lin" and bool((sub["measurement"] > 0).all() and (sub["simulation"] > 0).all())
        if log_axis:  # the likelihood's scale: the sigma band is symmetric there
            ax.set_yscale("log")
            _label_log_axis(ax)
        ax.set_ylabel(f"{obs} (measurement units{', log axis' if log_axis else ''})")
        ax.grid(alpha=0.3)
        if many and not categorical:
            ax.text(1.01, 0.5, f"{sub[group].nunique()} groups ({group}),\none colour each\n"
                    f"(points: data {_BAND[scale]})", transform=ax.transAxes, fontsize=7, va="center")
        elif categorical:
            ax.legend(fontsize=6)
        else:
            ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    for ax in axes.ravel()[len(observables):]:
        ax.axis("off")
    suffix = "\nREPRESENTATIVE data (source paper's directions), not digitized" if representative else ""
    fig.suptitle(title + suffix, fontsize=11)
    # room for the title above the panels (it overlapped the first row's titles of a tall figure, Blasi 2016)
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.45 + 0.25 * representative) / (3.6 * nrows)))
    return fig


#: the legend's name of the error bars per observableTransformation (PEtab's sigma is on that scale)
_BAND = {"lin": "± sigma", "log": "×/÷ exp(sigma)", "log10": "×/÷ 10^sigma"}


def _transformation(sub: pd.DataFrame) -> str:
    """The panel's observableTransformation (``lin``, ``log``, ``log10``; ``lin`` when the table has none)."""
    if "observableTransformation" not in sub:
        return "lin"
    values = {str(v) for v in sub["observableTransformation"].dropna()}
    return values.pop() if len(values) == 1 and values <= {"lin", "log", "log10"} else "lin"


def _sigma_band(part: pd.DataFrame, scale: str) -> np.ndarray:
    """(2 x n) error-bar lengths below and above each measurement: ± sigma on the scale the likelihood uses.

    PEtab's sigma of a log- or log10-transformed observable is on that scale, so the band is multiplicative:
    ``exp(log y ± sigma)`` or ``10**(log10 y ± sigma)``; drawn linearly (``y ± sigma``) it was wrong, and
    below zero for sigma > y.
    """
    y = part["measurement"].to_numpy(dtype=float)
    sigma = part["sigma"].to_numpy(dtype=float)
    if scale == "lin":
        return np.vstack([sigma, sigma])
    factor = np.exp(sigma) if scale == "log" else 10.0 ** sigma
    return np.vstack([y - y / factor, y * factor - y])


def _label_log_axis(ax) -> None:
    """Plain-number labels on a log y axis, with enough of them: a panel within one decade had none at all."""
    low, high = ax.get_ylim()
    decades = math.log10(high / low) if low > 0 and high > low else 10.0
    mantissas = {1, 2, 3, 4, 5, 6, 7, 8, 9} if decades < 1 else {2, 5} if decades < 2 else set()

    def minor(value: float, _pos) -> str:
        mantissa = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
        return f"{value:g}" if mantissa in mantissas else ""

    ax.yaxis.set_major_formatter(lambda value, _pos: f"{value:g}")
    ax.yaxis.set_minor_formatter(minor)


def _steady_position(times: np.ndarray) -> float:
    """Where a panel draws its ``time = inf`` (steady-state) points: right of its last finite time."""
    finite = times[np.isfinite(times)]
    if not finite.size:
        return 1.0
    low, high = float(finite.min()), float(finite.max())
    return high + 0.15 * max(high - low, abs(high), 1.0)


def _mark_steady_state(ax, times: np.ndarray, steady_x: float) -> None:
    """A dashed separator before the steady-state points and a "steady state" tick label at them."""
    finite = times[np.isfinite(times)]
    high = float(finite.max()) if finite.size else 0.0
    ax.axvline(0.5 * (high + steady_x), color="0.5", ls="--", lw=0.8)
    ticks = [t for t in ax.get_xticks() if (finite.min() if finite.size else 0.0) <= t <= high] if finite.size else []
    ax.set_xticks([*ticks, steady_x], [*(f"{t:g}" for t in ticks), "steady\nstate\n(t = inf)"])


def plot_profiles(
    points: pd.DataFrame, summary: pd.DataFrame, *, threshold: float, title: str, ncols: int = 3,
    quantity: str = "nllh",
) -> Figure:
    """Likelihood profiles (delta nllh against the parameter), one panel per parameter.

    ``points`` has ``parameter``, ``value`` (linear), ``delta_nllh`` and ``scale``; ``summary`` has
    ``parameter``, ``estimate``, ``ci95_low``, ``ci95_high``. Log-scale parameters get a log x axis. The
    dashed line is the 95 % threshold; a side without a crossing (non-identifiable there) says so.

    Parameters
    ----------
    points
        Every profile point (``write_profiles``' ``profiles`` table).
    summary
        One row per parameter (``profile_summary``).
    threshold
        The 95 % delta-nllh threshold.
    title
        Figure title.
    ncols
        Panels per row.
    quantity
        What was profiled, for the axis label: ``"nllh"``, or ``"nlpost"`` with objective priors.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    names = list(dict.fromkeys(points["parameter"]))
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig = new_figure((4.4 * ncols, 3.3 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    info = summary.set_index("parameter")
    for ax, name in zip(axes.ravel(), names, strict=False):
        part = points[points["parameter"] == name].sort_values("value")
        ok = np.isfinite(part["delta_nllh"].to_numpy(dtype=float))
        ax.plot(part["value"][ok], part["delta_nllh"][ok], "o-", ms=3, lw=1.4, color="tab:blue")
        ax.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"95 % threshold ({threshold:.2f})")
        row = info.loc[name]
        ax.axvline(row["estimate"], color="0.4", lw=1, label="best fit")
        notes = []
        for side, key in (("lower", "ci95_low"), ("upper", "ci95_high")):
            if np.isfinite(row[key]):
                ax.axvline(row[key], color="tab:red", lw=0.8, ls=":")
            else:
                notes.append(f"no {side} bound")
        shown = part["delta_nllh"][ok].to_numpy(dtype=float)
        if shown.size:  # keep the threshold region readable; far points are clipped at 4x the threshold
            ax.set_ylim(min(-0.1 * threshold, float(shown.min()) - 0.1 * threshold),
                        max(1.5 * threshold, min(float(shown.max()), 4.0 * threshold)) * 1.05)
        if str(part["scale"].iloc[0]) != "lin":
            ax.set_xscale("log")
            # a profile spans less than a decade: label the minor ticks sparsely or they overlap
            from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

            lo, hi = ax.get_xlim()
            if hi < 10 * lo:  # under a decade: 4 labelled ticks, not matplotlib's overlapping minor labels
                ax.xaxis.set_major_locator(FixedLocator(np.geomspace(lo, hi, 6)[1:-1].tolist()))
                ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.3g}")
                ax.xaxis.set_minor_locator(NullLocator())
                ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"{name} (model units; fixed, others re-optimised)")
        ax.set_ylabel(f"Δ {quantity} ({quantity} units)")
        low = float(np.nanmin(part["delta_nllh"].to_numpy(dtype=float)))
        if low < -0.01:
            notes.append(f"found Δ = {low:.3g}: the fit was not at the optimum")
        ax.set_title(name + (f"\n({'; '.join(notes)})" if notes else ""), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
