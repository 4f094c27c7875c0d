"""Figures of a screen: matrix heatmaps, the normalised isobologram, the Fa-CI plot and the 3 x 3 panel."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _figure_of, _number, colormap, new_figure


def text_colour(rgba) -> str:
    """Black on light cells, white on dark ones (relative luminance < 0.45): annotations stay readable."""
    r, g, b = (float(c) for c in rgba[:3])
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def _dose_ticks(ax, doses_a, doses_b) -> None:
    ax.set_xticks(range(len(doses_b)), [_number(d, 3) for d in doses_b], rotation=60, fontsize=7)
    ax.set_yticks(range(len(doses_a)), [_number(d, 3) for d in doses_a], fontsize=7)


def plot_matrix_heatmap(
    matrix: np.ndarray,
    doses_a: Sequence[float] | np.ndarray,
    doses_b: Sequence[float] | np.ndarray,
    *,
    drug_a: str,
    drug_b: str,
    label: str,
    title: str,
    center: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A dose matrix (rows drug A, columns drug B, both in nM) as a heatmap with every well annotated.

    With ``center`` the colour map is diverging around it (synergy scores: 0 for excesses, 1 for CI), so
    synergy and antagonism read as opposite colours; NaN wells (undefined, e.g. single agents) are grey.

    Parameters
    ----------
    matrix
        Values, shape ``(len(doses_a), len(doses_b))``.
    doses_a, doses_b
        Doses of drug A (rows) and B (columns), nM.
    drug_a, drug_b
        Drug names (axis labels).
    label
        Colour-bar label (the quantity and its unit).
    title
        Axes title.
    center
        Centre of a diverging colour map; ``None`` for a sequential one.
    ax
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    from matplotlib.colors import TwoSlopeNorm

    matrix = np.asarray(matrix, dtype=float)
    own = ax is None
    if ax is None:
        ax = new_figure((1.0 + 0.55 * matrix.shape[1], 1.0 + 0.45 * matrix.shape[0])).subplots()
    ratio_scale = center is not None and label.lower().startswith("ci")
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.log2(matrix) if ratio_scale else matrix  # CI is a ratio: colour by log2 CI, centred at 0
    finite = colour[np.isfinite(colour)]
    if center is not None and finite.size:
        middle = 0.0 if ratio_scale else center
        span = max(float(np.max(np.abs(finite - middle))), 1e-12)
        norm = TwoSlopeNorm(vcenter=middle, vmin=middle - span, vmax=middle + span)
        cmap = "RdBu" if ratio_scale else "RdBu_r"  # synergy is red in every synergy heatmap
    else:
        norm, cmap = None, "viridis"
    cm = colormap(cmap).with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(colour), origin="lower", aspect="auto", cmap=cm, norm=norm)
    rgba = np.asarray(image.cmap(image.norm(np.ma.masked_invalid(colour))))  # an array in: (rows, cols, 4) RGBA
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            ax.text(j, i, _number(value, 2), ha="center", va="center", fontsize=6, color=text_colour(rgba[i, j]))
    _dose_ticks(ax, doses_a, doses_b)
    ax.set_xlabel(f"{drug_b} (nM)")
    ax.set_ylabel(f"{drug_a} (nM)")
    ax.set_title(title, fontsize=9)
    _figure_of(ax).colorbar(image, ax=ax, label=f"log2 {label}" if ratio_scale else label, shrink=0.85)
    if own:  # a caller composing panels lays out once
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_isobologram(
    x: np.ndarray, y: np.ndarray, fa: np.ndarray, *, drug_a: str, drug_b: str, title: str, ax: Axes | None = None
) -> Figure:
    """Normalised isobologram (Chou-Talalay): each well at (d_a/Dx_a, d_b/Dx_b) for its own effect fa.

    Points below the line x + y = 1 are synergistic (their CI = x + y < 1), above it antagonistic.

    Parameters
    ----------
    x, y
        Each well's dose of A and B divided by the single-agent dose of the same effect.
    fa
        Each well's fraction affected (the colour).
    drug_a, drug_b
        Drug names (axis labels).
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
        ax = new_figure((4.6, 4.2)).subplots()
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(fa)
    points = ax.scatter(x[ok], y[ok], c=fa[ok], cmap="viridis", vmin=0, vmax=1, s=22, edgecolor="k", lw=0.3)
    top = max(1.2, float(np.nanmax(np.concatenate([x[ok], y[ok]]), initial=1.0)) * 1.05)
    ax.plot([0, 1], [1, 0], "k--", lw=1, label="additivity (CI = 1)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"{drug_a}: d / Dx alone (same fa)")
    ax.set_ylabel(f"{drug_b}: d / Dx alone (same fa)")
    ax.set_title(title, fontsize=9)
    _figure_of(ax).colorbar(points, ax=ax, label="fraction affected (fa)")
    ax.legend(fontsize=7, loc="upper right")
    if own:  # a caller composing panels lays out once
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_fa_ci(
    fa_wells: np.ndarray,
    ci_wells: np.ndarray,
    *,
    fa_curve: np.ndarray | None = None,
    ci_curve: np.ndarray | None = None,
    curve_label: str = "",
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Fa-CI plot: combination index against fraction affected, wells as points, a constant ratio as a line.

    The shaded band 0.9-1.1 is additivity in the Chou-Talalay convention used by the source paper.

    Parameters
    ----------
    fa_wells, ci_wells
        Fraction affected and CI of each combination well.
    fa_curve, ci_curve
        The constant-ratio CI curve, if any.
    curve_label
        Legend entry of the curve (the ratio).
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
        ax = new_figure((5.0, 3.8)).subplots()
    ax.axhspan(0.9, 1.1, color="grey", alpha=0.15, label="additive (0.9-1.1)")
    ok = np.isfinite(fa_wells) & np.isfinite(ci_wells)
    ax.plot(fa_wells[ok], ci_wells[ok], "o", ms=3.5, alpha=0.7, label="wells")
    curve_ok = fa_curve is not None and ci_curve is not None and bool(np.isfinite(ci_curve).any())
    if curve_ok and fa_curve is not None and ci_curve is not None:  # (the None checks narrow the types)
        ax.plot(fa_curve, ci_curve, "-", lw=1.8, label=curve_label or "constant ratio")
    if not ok.any() and not curve_ok:  # say why the panel is empty rather than leave it blank
        ax.text(0.5, 0.5, "no CI: effects outside the median-effect window\n(0.02 < fa < 0.98) or unusable fits",
                transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.3")
    ax.set_xlim(0, 1)
    ax.set_yscale("log")
    ax.set_xlabel("fraction affected (fa)")
    ax.set_ylabel("combination index (CI; < 0.9 synergy)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    if own:  # a caller composing panels lays out once
        _figure_of(ax).tight_layout()
    return _figure_of(ax)


def plot_screen_panel(
    readout_matrix: np.ndarray,
    scores: Mapping[str, np.ndarray],
    doses_a: Sequence[float] | np.ndarray,
    doses_b: Sequence[float] | np.ndarray,
    *,
    drug_a: str,
    drug_b: str,
    readout_label: str,
    iso: tuple[np.ndarray, np.ndarray, np.ndarray],
    fa_ci: tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None],
    ratio_label: str,
    title: str,
    single_fits: tuple | None = None,
    single_response: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> Figure:
    """One screen matrix on one figure (3 x 3 panels).

    The readout, the five synergy scores, single-agent curves, the isobologram and the Fa-CI plot.
    ``single_fits`` optionally holds the dose-response fits (:class:`simulator.readouts.LogisticFit`, or None) of
    drug A alone and drug B alone (:func:`simulator.readouts.fit_dose_response`); each is drawn as a line through
    its points, with its model, absolute IC50 and relative EC50 in the legend.

    Parameters
    ----------
    readout_matrix
        The readout per well.
    scores
        Score name -> well matrix.
    doses_a, doses_b
        Doses of drug A (rows) and B (columns), nM.
    drug_a, drug_b
        Drug names.
    readout_label
        Readout name and unit.
    iso
        ``(x, y, fa)`` of :func:`plot_isobologram`.
    fa_ci
        ``(fa_wells, ci_wells, fa_curve, ci_curve)`` of :func:`plot_fa_ci`.
    ratio_label
        The constant ratio, for the Fa-CI legend.
    title
        Figure title.
    single_fits
        ``(fit_a, fit_b)`` or ``None``.
    single_response
        The responses the single-agent fits were fitted to (drug A's and drug B's edge, dose 0 first) and their
        axis label; without it the readout's own values are drawn.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown, not saved).
    """
    fig = new_figure((15, 12.5))
    axes = fig.subplots(3, 3)
    plot_matrix_heatmap(readout_matrix, doses_a, doses_b, drug_a=drug_a, drug_b=drug_b, label=readout_label,
                        title=readout_label, ax=axes[0, 0])
    names = {"bliss": "Bliss excess", "hsa": "HSA excess", "loewe": "Loewe excess", "zip": "ZIP delta",
             "ci": "CI (Chou-Talalay)"}
    for ax, (key, label) in zip(axes.ravel()[1:6], names.items(), strict=True):
        plot_matrix_heatmap(scores[key], doses_a, doses_b, drug_a=drug_a, drug_b=drug_b, label=label,
                            title=f"{label}; {'< 0.9' if key == 'ci' else '> 0'} = synergy",
                            center=1.0 if key == "ci" else 0.0, ax=ax)
    _single_agents(axes[2, 0], readout_matrix, doses_a, doses_b, drug_a, drug_b, readout_label, single_fits,
                   single_response)
    plot_isobologram(*iso, drug_a=drug_a, drug_b=drug_b, title="normalised isobologram (wells)", ax=axes[2, 1])
    fa_w, ci_w, fa_c, ci_c = fa_ci
    plot_fa_ci(fa_w, ci_w, fa_curve=fa_c, ci_curve=ci_c, curve_label=ratio_label, title="Fa-CI", ax=axes[2, 2])
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def _single_agents(ax: Axes, readout_matrix: np.ndarray, doses_a: Sequence[float] | np.ndarray,
                   doses_b: Sequence[float] | np.ndarray, drug_a: str, drug_b: str, readout_label: str,
                   single_fits: tuple | None,
                   single_response: tuple[np.ndarray, np.ndarray, str] | None = None) -> None:
    """The screen panel's single-agent curves: each drug's points and its dose-response fit (row 0, column 0)."""
    a_nm, b_nm = np.asarray(doses_a, float), np.asarray(doses_b, float)
    fits = single_fits or (None, None)
    edge_a, edge_b, single_label = (single_response if single_response is not None
                                    else (readout_matrix[:, 0], readout_matrix[0, :], readout_label))
    models = set()
    for drug, doses, values, marker, fit in ((drug_a, a_nm[1:], np.asarray(edge_a)[1:], "o", fits[0]),
                                             (drug_b, b_nm[1:], np.asarray(edge_b)[1:], "s", fits[1])):
        usable = fit is not None and np.isfinite([fit.top, fit.bottom, fit.ic50, fit.hill]).all()
        (points,) = ax.plot(doses, values, marker, ls="none" if usable else "-", ms=3.5,
                            label=f"{drug} alone (simulated)")
        if usable:
            models.add(fit.model)
            grid = np.geomspace(doses.min(), doses.max(), 200)
            absolute = "" if fit.ic50_abs_text == "n/a" else f"abs. IC50 {fit.ic50_abs_label()}, "
            ax.plot(grid, fit.bottom + (fit.top - fit.bottom) / (1 + (grid / fit.ic50) ** fit.hill), "-",
                    color=points.get_color(), lw=1.4,
                    label=f"fit: {absolute}rel. EC50 {_number(fit.ic50, 3)} nM, Hill {fit.hill:.2g}"
                          f"{'' if fit.status == 'ok' else f' ({fit.status})'}")
    ax.set_xscale("log")
    ax.set_xlabel("dose (nM)")
    ax.set_ylabel("\n".join(textwrap.wrap(single_label, 40)))
    ax.set_title("single agents" + (f" ({'; '.join(sorted(models))})" if models else ""), fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
