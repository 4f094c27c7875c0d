"""The page's figures as plain Plotly dicts, and its "what changed" sentence (no web framework here).

Why dicts: building a figure through ``plotly.graph_objects`` validates every property, 45-52 ms per figure
(measured), ten times the simulation behind it; Dash sends a dict as it is (< 1 ms). The tests check that
every dict is a valid figure with ``go.Figure(...)``. Colour scales are explicit lists: plotly.py and
plotly.js disagree on which end of a named scale such as "RdBu" is red. Red means synergy on both maps.
Every figure's ``layout.meta`` says which state it shows (the browser test and the benchmark wait on it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..readouts import LogisticFit
from ._compute import DoseResponsePanel, MatrixPanel, PageState, TeachPage, TimeCoursePanel

__all__ = ["dose_response_figure", "matrix_figure", "nm", "time_course_figure", "what_changed"]

#: Bliss excess: > 0 (synergy) red; log2 CI: < 0 (CI < 1, synergy) red
SYNERGY_HIGH = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [1.0, "#b2182b"]]
SYNERGY_LOW = [[0.0, "#b2182b"], [0.5, "#f7f7f7"], [1.0, "#2166ac"]]
COLOURS = {"pERK": "#d62728", "pMEK": "#1f77b4", 0: "#9467bd", 1: "#8c564b", 2: "#2ca02c"}
FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 12}


def nm(x: float) -> str:
    """A dose for people: ``0.1 nM``, ``300 nM``, ``3 µM``."""
    return f"{x:g} nM" if x < 1000 else f"{x / 1000:g} µM"


def _meta(state: PageState, **extra) -> dict:
    return {"model": state.model, "cell_line": state.cell_line, "dose_a": state.dose_a, "dose_b": state.dose_b,
            "hours": state.hours, "off": sorted(state.off), **extra}


def _domains(n: int, gap: float) -> list[list[float]]:
    width = (1.0 - gap * (n - 1)) / n
    return [[round(k * (width + gap), 6), round(k * (width + gap) + width, 6)] for k in range(n)]


def _title_annotation(text: str, domain: list[float]) -> dict:
    return {"text": f"<b>{text}</b>", "x": (domain[0] + domain[1]) / 2, "xref": "paper", "y": 1.0, "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 12}}


def _axis_name(kind: str, k: int) -> str:
    return kind if k == 1 else f"{kind}{k}"


def _switched_off(page: TeachPage, state: PageState) -> str:
    return ", ".join(sorted(state.off)) or "none"


def time_course_figure(page: TeachPage, state: PageState, panel: TimeCoursePanel | None = None) -> dict:
    """p-ERK, p-MEK and the feedback nodes over time (four panels side by side)."""
    panel = panel or page.time_course(state)
    spec, observables = page.spec, {o.id: o for o in page.model.observables}
    hours = panel.hours
    hover = "%{fullData.name}<br>t = %{x:.3g} h<br>%{y:.4g} "
    data = [
        {"type": "scatter", "mode": "lines", "x": hours, "y": panel.series["pERK"], "name": "p-ERK",
         "line": {"color": COLOURS["pERK"], "width": 2.5}, "xaxis": "x", "yaxis": "y",
         "hovertemplate": hover + f"{observables['pERK'].unit}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": hours, "y": panel.series["pMEK"], "name": "p-MEK",
         "line": {"color": COLOURS["pMEK"], "width": 2.5}, "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": hover + f"{observables['pMEK'].unit}<extra></extra>"},
    ]
    fraction_nodes = [n for n in spec.nodes if n.denominator]
    other_nodes = [n for n in spec.nodes if not n.denominator]
    for k, node in enumerate(spec.nodes):
        axis = "3" if node in fraction_nodes else "4"
        data.append({"type": "scatter", "mode": "lines", "x": hours, "y": panel.series[node.label],
                     "name": node.label, "line": {"color": COLOURS[k], "width": 2.5}, "xaxis": f"x{axis}",
                     "yaxis": f"y{axis}", "hovertemplate": hover + f"{node.unit}<extra></extra>"})
    domains = _domains(4, 0.075)
    titles = ["p-ERK (log scale)", "p-MEK", "feedback-inhibited pools", " and ".join(n.label for n in other_nodes)]
    y_titles = [observables["pERK"].unit, observables["pMEK"].unit,
                " / ".join(sorted({n.unit for n in fraction_nodes})), " / ".join(sorted({n.unit for n in other_nodes}))]
    layout: dict = {"annotations": [_title_annotation(t, d) for t, d in zip(titles, domains, strict=True)]}
    for k, (domain, y_title) in enumerate(zip(domains, y_titles, strict=True), 1):
        layout[f"xaxis{'' if k == 1 else k}"] = {"domain": domain, "anchor": _axis_name("y", k),
                                                 "title": {"text": "time after drug (h)"}, "zeroline": False}
        layout[f"yaxis{'' if k == 1 else k}"] = {"anchor": _axis_name("x", k), "title": {"text": y_title},
                                                 "rangemode": "tozero", "exponentformat": "power"}
    layout["yaxis"] = {**layout["yaxis"], "type": "log", "rangemode": "normal", "dtick": 1}
    layout["yaxis3"]["range"] = [0, 1]
    if panel.status != "ok":
        layout["annotations"].append({"text": f"solver: {panel.status}: {panel.message}", "showarrow": False,
                                      "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                                      "font": {"color": "#b00"}})
    layout.update(
        title={"text": f"Simulated {state.cell_line}: {spec.drug_a} {nm(state.dose_a)} + {spec.drug_b} "
                       f"{nm(state.dose_b)} added at t = 0 to the pre-equilibrated untreated cell · switched off: "
                       f"{_switched_off(page, state)}", "font": {"size": 13}, "x": 0.01},
        margin={"l": 60, "r": 10, "t": 70, "b": 80}, legend={"orientation": "h", "y": -0.3}, font=FONT,
        plot_bgcolor="white", uirevision="keep",
        meta=_meta(state, t_end=float(panel.model_times[-1]), n_times=int(panel.model_times.size),
                   time_unit=page.model.time_unit),
    )
    for name, axis in list(layout.items()):
        if name.startswith(("xaxis", "yaxis")):
            axis.update(showline=True, linecolor="#444", gridcolor="#e5e5e5", ticks="outside")
    return {"data": data, "layout": layout}


def dose_response_figure(page: TeachPage, state: PageState, panel: DoseResponsePanel | None = None) -> dict:
    """Steady-state p-ERK versus drug A: points, the logistic fit, its EC50 and IC50, and the current dose.

    Both numbers under their own names (readouts._logistic): the relative EC50 is the fitted curve's midpoint
    (dashed line), the absolute IC50 the dose at 50 % of untreated p-ERK ("> top dose" when never reached).
    """
    panel = panel or page.dose_response(state)
    spec = page.spec
    unit = {o.id: o for o in page.model.observables}["pERK"].unit
    pos = panel.doses > 0
    data = [{"type": "scatter", "mode": "markers", "x": panel.doses[pos], "y": panel.perk[pos],
             "name": "steady state (simulated)", "marker": {"color": "#636efa", "size": 8},
             "hovertemplate": f"{spec.drug_a} %{{x:.3g}} nM<br>p-ERK %{{y:.4g}} {unit}<extra></extra>"}]
    untreated = float(panel.perk[0])
    shapes = [{"type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": untreated, "y1": untreated, "yref": "y",
               "line": {"color": "grey", "dash": "dot", "width": 1}}]
    annotations = [{"text": f"no {spec.drug_a}: {untreated:.3g}", "x": 0.01, "xref": "paper", "y": untreated,
                    "yref": "y", "yanchor": "top", "xanchor": "left", "showarrow": False,
                    "font": {"size": 11, "color": "#555"}}]
    fit = panel.fit
    if fit is not None and fit.status == "ok" and np.isfinite([fit.ic50, fit.hill, fit.top, fit.bottom]).all():
        grid = np.geomspace(panel.doses[pos].min(), panel.doses[pos].max(), 120)
        curve = fit.bottom + (fit.top - fit.bottom) / (1 + (grid / fit.ic50) ** fit.hill)
        data.append({"type": "scatter", "mode": "lines", "x": grid, "y": curve, "hoverinfo": "skip",
                     "name": f"4-parameter logistic fit (Hill {fit.hill:.2g})", "line": {"color": "#ef553b"}})
        shapes.append({"type": "line", "x0": fit.ic50, "x1": fit.ic50, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": "#444", "dash": "dash", "width": 1.5}})
        annotations.append({"text": f"rel. EC50 {fit.ic50:.3g} nM", "x": math.log10(fit.ic50), "xref": "x",
                            "y": 0.02, "yref": "paper", "xanchor": "right", "yanchor": "bottom", "showarrow": False})
        ic50 = (f"absolute IC50 (50 % of untreated p-ERK) {_abs_text(fit)} · relative EC50 (curve midpoint) "
                f"{fit.ic50:.3g} nM [95 % CI {fit.ic50_ci95[0]:.3g}–{fit.ic50_ci95[1]:.3g}]")
    elif fit is not None:
        ic50 = (f"absolute IC50 (50 % of untreated p-ERK) {_abs_text(fit)} · relative EC50 {fit.status}"
                + (f": {fit.message}" if fit.message else ""))
    else:
        ic50 = "IC50/EC50 not fitted (doses without a steady state)"
    if state.dose_a > 0:
        shapes.append({"type": "line", "x0": state.dose_a, "x1": state.dose_a, "xref": "x", "y0": 0, "y1": 1,
                       "yref": "paper", "line": {"color": COLOURS["pERK"], "width": 1.5}})
        annotations.append({"text": f" now: {nm(state.dose_a)}", "x": math.log10(state.dose_a), "xref": "x",
                            "y": 0.8, "yref": "paper", "xanchor": "left", "yanchor": "top", "showarrow": False,
                            "font": {"size": 11, "color": COLOURS["pERK"]}})
    bad = [s for s in panel.statuses if s != "ok"]
    if bad:
        annotations.append({"text": f"{len(bad)} doses without a steady state ({', '.join(sorted(set(bad)))})",
                            "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                            "font": {"color": "#b00"}})
    axis_style = {"showline": True, "linecolor": "#444", "gridcolor": "#e5e5e5", "ticks": "outside"}
    layout = {
        "title": {"text": f"Steady-state p-ERK vs {spec.drug_a}, {state.cell_line}<br>with {spec.drug_b} "
                          f"{nm(state.dose_b)} · switched off: {_switched_off(page, state)}<br>{ic50}",
                  "font": {"size": 12}, "x": 0.01},
        "xaxis": {"type": "log", "title": {"text": f"{spec.drug_a} (nM, log scale)"}, "automargin": True,
                  **axis_style},
        "yaxis": {"title": {"text": f"steady-state p-ERK<br>({unit})"}, "rangemode": "tozero", "automargin": True,
                  **axis_style},
        "shapes": shapes, "annotations": annotations, "font": FONT, "plot_bgcolor": "white",
        "margin": {"l": 70, "r": 10, "t": 80, "b": 50}, "legend": {"orientation": "h", "y": -0.3},
        "uirevision": "keep", "meta": _meta(state),
    }
    return {"data": data, "layout": layout}


def _cells(z: np.ndarray, fmt: str) -> tuple[list, list]:
    """NaN -> None (an empty cell in JSON), and the text shown in each cell."""
    finite = np.isfinite(z)
    values = [[v if ok else None for v, ok in zip(row, frow, strict=True)]
              for row, frow in zip(z.tolist(), finite.tolist(), strict=True)]
    text = [[(fmt % v) if ok else "" for v, ok in zip(row, frow, strict=True)]
            for row, frow in zip(np.nan_to_num(z).tolist(), finite.tolist(), strict=True)]
    return values, text


def matrix_figure(page: TeachPage, state: PageState, panel: MatrixPanel | None = None) -> dict:
    """The 6 x 6 matrix coloured by Bliss excess and by CI (log2 colour), numbers in the cells and on hover."""
    panel = panel or page.matrix(state)
    spec = page.spec
    x = [nm(d) for d in panel.doses_b]
    y = [nm(d) for d in panel.doses_a]
    custom = np.dstack([panel.perk, panel.fa, panel.bliss, panel.ci]).tolist()
    hover = (f"{spec.drug_a} %{{y}} + {spec.drug_b} %{{x}}<br>steady-state p-ERK %{{customdata[0]:.4g}}<br>"
             "fraction affected %{customdata[1]:.3f}<br>Bliss excess %{customdata[2]:.3f}<br>"
             "CI %{customdata[3]:.3g}<extra></extra>")
    bliss, bliss_text = _cells(panel.bliss, "%.3f")
    ci_values, ci_text = _cells(panel.ci, "%.2f")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ci, _ = _cells(np.log2(panel.ci), "%.2f")
    finite_bliss = panel.bliss[np.isfinite(panel.bliss)]
    # a fixed floor: an excess of 0.02 stays pale instead of saturating the scale (it is a small effect)
    bound = max(0.1, float(np.abs(finite_bliss).max())) if finite_bliss.size else 0.1
    common = {"type": "heatmap", "x": x, "y": y, "customdata": custom, "hovertemplate": hover,
              "texttemplate": "%{text}", "textfont": {"size": 9}, "xgap": 1, "ygap": 1}
    domains = _domains(2, 0.17)
    data = [
        {**common, "z": bliss, "text": bliss_text, "colorscale": SYNERGY_HIGH, "zmin": -bound, "zmax": bound,
         "name": "Bliss excess", "xaxis": "x", "yaxis": "y",
         "colorbar": {"x": domains[0][1] + 0.01, "xanchor": "left", "len": 0.9, "thickness": 12,
                      "title": {"text": "Bliss<br>excess<br>(fa units)"}}},
        {**common, "z": log_ci, "text": ci_text, "colorscale": SYNERGY_LOW, "zmin": -3, "zmax": 3,
         "name": "CI", "xaxis": "x2", "yaxis": "y2",
         "colorbar": {"x": domains[1][1] + 0.01, "xanchor": "left", "len": 0.9, "thickness": 12,
                      "title": {"text": "CI<br>(log<br>colour)"},
                      "tickvals": [-3, -2, -1, 0, 1, 2, 3], "ticktext": ["0.125", "0.25", "0.5", "1", "2", "4", "8"]}},
    ]
    x_axis = {"title": {"text": f"{spec.drug_b} (nM)"}, "type": "category", "tickangle": 40}
    layout: dict[str, Any] = {
        "xaxis": {**x_axis, "domain": domains[0], "anchor": "y"},
        "xaxis2": {**x_axis, "domain": domains[1], "anchor": "y2"},
        "yaxis": {"title": {"text": f"{spec.drug_a} (nM)"}, "type": "category", "anchor": "x"},
        "yaxis2": {"type": "category", "anchor": "x2", "showticklabels": False},
        "annotations": [_title_annotation("Bliss excess (> 0: synergy)", domains[0]),
                        _title_annotation("Combination index (< 1: synergy)", domains[1])],
    }
    notes = list(panel.notes)
    if math.isfinite(panel.ci_at_50):
        ratio = panel.doses_a[1] / panel.doses_b[1]
        notes.append(f"constant-ratio mixture (1:{1 / ratio:g}) CI at fa = 0.5: {panel.ci_at_50:.2f}")
    notes.append("single-agent row and column: no combination, no score")
    layout["annotations"].append({"text": "<br>".join(notes), "x": 0.0, "y": -0.33, "xref": "paper", "yref": "paper",
                                  "xanchor": "left", "yanchor": "top", "align": "left", "showarrow": False,
                                  "font": {"size": 11, "color": "#444"}})
    layout.update(title={"text": f"6 × 6 steady-state matrix, {state.cell_line}: fraction affected fa = 1 − "
                                 f"p-ERK/untreated<br>switched off: {_switched_off(page, state)}",
                         "font": {"size": 12}, "x": 0.01},
                  margin={"l": 70, "r": 10, "t": 80, "b": 130}, font=FONT, plot_bgcolor="white", meta=_meta(state))
    return {"data": data, "layout": layout}


def what_changed(page: TeachPage, before: dict | None, after: dict) -> str:
    """One sentence: which control changed, and what that did to the key numbers."""
    if not before:
        return "Move a slider or flip a switch: this line will say what changed."
    spec = page.spec
    causes = []
    for name in sorted(set(after["off"]) - set(before["off"])):
        causes.append(f"{name} switched OFF ({_values_text(page, name)})")
    for name in sorted(set(before["off"]) - set(after["off"])):
        causes.append(f"{name} switched back ON")
    for key, drug in (("dose_a", spec.drug_a), ("dose_b", spec.drug_b)):
        if before[key] != after[key]:
            causes.append(f"{drug} {nm(before[key])} → {nm(after[key])}")
    if before["hours"] != after["hours"]:
        causes.append(f"time {before['hours']:g} h → {after['hours']:g} h")
    if before["cell_line"] != after["cell_line"]:
        causes.append(f"cell line {before['cell_line']} → {after['cell_line']}")
    if not causes:
        return "Nothing changed."
    at = f"at {after['hours']:g} h" if before["hours"] == after["hours"] else "at the end"
    effects = [f"p-ERK {at} {_num(before['perk_end'])} → {_num(after['perk_end'])}"]
    for key, label, fmt in (("rebound", "rebound (end/minimum)", "{:.3g}×"),
                            ("ic50_abs", f"absolute p-ERK IC50 of {spec.drug_a}", "{:.3g} nM"),
                            ("ec50_rel", f"relative p-ERK EC50 of {spec.drug_a}", "{:.3g} nM"),
                            ("bliss_max", "largest Bliss excess", "{:.3f}"), ("ci_min", "smallest CI", "{:.2f}")):
        old, new = before.get(key), after.get(key)
        text_old = "none" if old is None else fmt.replace("{:.3g}", old) if isinstance(old, str) else fmt.format(old)
        text_new = "none" if new is None else fmt.replace("{:.3g}", new) if isinstance(new, str) else fmt.format(new)
        if text_old != text_new:
            effects.append(f"{label} {text_old} → {text_new}")
    return "; ".join(causes) + ": " + ", ".join(effects) + "."


def _abs_text(fit: LogisticFit) -> str:
    """The absolute IC50 as the page shows it: "0.512 nM", or "> 100 (top dose) nM" when never reached."""
    return f"{fit.ic50_abs:.3g} nM" if math.isfinite(fit.ic50_abs) else f"{fit.ic50_abs_text} nM"


def _values_text(page: TeachPage, name: str) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in page.switches[name].values.items())


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:.3g}"
