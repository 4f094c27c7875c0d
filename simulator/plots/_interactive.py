"""Interactive figures for ``report.html`` (plotly): HTML fragments that need ``window.Plotly`` on the page.

Why plotly: its figures are JSON drawn by one JavaScript bundle, which the report embeds once
(:func:`plotly_javascript`), so a copied ``report.html`` works offline with no other file. The static PNG/SVG
figures (matplotlib) stay the figures of record; these let a reader hover a well for its doses and every score.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from ._common import _number

#: score id -> hover label (the scores' sign conventions are in the report's text and the manifest)
SCORE_LABELS = {"bliss": "Bliss excess", "hsa": "HSA excess", "loewe": "Loewe excess", "zip": "ZIP delta",
                "ci": "CI"}


def plotly_javascript() -> str:
    """The plotly.js bundle shipped with the plotly package (minified, ~4.7 MB): embedded once per report."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _fragment(fig, div_id: str) -> str:
    import plotly.io as pio

    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id,
                       config={"responsive": True, "displaylogo": False})


def interactive_screen_panel(
    values: ArrayLike,
    doses_a: ArrayLike,
    doses_b: ArrayLike,
    scores: Mapping[str, ArrayLike],
    *,
    drug_a: str,
    drug_b: str,
    readout_label: str,
    title: str,
    div_id: str,
) -> str:
    """A readout's heatmap over the dose matrix beside the single-agent curves, as an HTML fragment.

    Hovering a well shows both doses, the readout and every synergy score; the curves are each drug alone on a
    log dose axis.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    values = np.asarray(values, dtype=float)
    labels_a = [_number(d, 3) for d in np.asarray(doses_a, dtype=float)]
    labels_b = [_number(d, 3) for d in np.asarray(doses_b, dtype=float)]
    names = [s for s in SCORE_LABELS if s in scores]
    custom = np.stack([np.asarray(scores[s], dtype=float) for s in names], axis=-1) if names else None
    hover = (f"{drug_a}: %{{y}} nM<br>{drug_b}: %{{x}} nM<br>{readout_label}: %{{z:.4g}}"
             + "".join(f"<br>{SCORE_LABELS[s]}: %{{customdata[{k}]:.3g}}" for k, s in enumerate(names))
             + "<extra></extra>")
    fig = make_subplots(rows=1, cols=2, column_widths=[0.58, 0.42], horizontal_spacing=0.14,
                        subplot_titles=(f"{readout_label} over the dose matrix (hover a well)",
                                        "each drug alone"))
    fig.add_trace(go.Heatmap(z=values, x=labels_b, y=labels_a, customdata=custom, hovertemplate=hover,
                             colorscale="Viridis", texttemplate="%{z:.2g}", textfont={"size": 9},
                             colorbar={"title": {"text": readout_label, "side": "right"}, "x": 0.5, "len": 0.9}),
                  row=1, col=1)
    for dose_list, curve, drug in ((doses_a, values[:, 0], drug_a), (doses_b, values[0, :], drug_b)):
        doses = np.asarray(dose_list, dtype=float)
        positive = doses > 0
        fig.add_trace(go.Scatter(x=doses[positive], y=curve[positive], mode="lines+markers", name=f"{drug} alone",
                                 hovertemplate=f"{drug}: %{{x:.4g}} nM<br>{readout_label}: %{{y:.4g}}<extra></extra>"),
                      row=1, col=2)
    fig.update_xaxes(title_text=f"{drug_b} (nM)", type="category", row=1, col=1)
    fig.update_yaxes(title_text=f"{drug_a} (nM)", type="category", row=1, col=1)
    fig.update_xaxes(title_text="dose (nM, log scale)", type="log", row=1, col=2)
    fig.update_yaxes(title_text=readout_label, row=1, col=2)
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=460, margin={"t": 80, "l": 70, "r": 20},
                      legend={"x": 1.0, "xanchor": "right", "y": 1.0})
    return _fragment(fig, div_id)


def interactive_curves(
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    x_label: str,
    y_label: str,
    title: str,
    div_id: str,
    log_x: bool = False,
    shown: set[str] | None = None,
) -> str:
    """Line charts (name -> (x, y)) with hover values, as an HTML fragment: dose-response and time courses.

    With ``shown``, the other series start hidden (a click on their legend entry shows them). On a log x axis
    the x = 0 points (the untreated control) are left out.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, (x_values, y_values) in series.items():
        x, y = np.asarray(x_values, dtype=float), np.asarray(y_values, dtype=float)
        if log_x:
            x, y = x[x > 0], y[x > 0]
        fig.add_trace(go.Scatter(x=x.tolist(), y=y.tolist(), mode="lines+markers", name=name,
                                 visible=True if shown is None or name in shown else "legendonly",
                                 hovertemplate=f"{name}<br>{x_label}: %{{x:.4g}}<br>{y_label}: %{{y:.4g}}"
                                               "<extra></extra>"))
    fig.update_xaxes(title_text=x_label, type="log" if log_x else "linear")
    fig.update_yaxes(title_text=y_label)
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=380, margin={"t": 60})
    return _fragment(fig, div_id)
