"""``mekisim teach serve``: the live teaching page (Dash + Plotly), served from this machine only.

Three callbacks, one per panel, each with only the inputs that panel depends on (the time slider redraws
the time course; the matrix waits for a switch or another cell line); the time-course callback also writes
the "what changed" line and the table of plotted numbers. The compute is memoised in :class:`TeachPage`.
Every JavaScript file, including plotly.js, is served by this server (``serve_locally=True``): the page makes
no request to another host. The server is werkzeug's threaded WSGI server bound by us, so ``--port 0``
picks a free port and prints it, and Ctrl-C or SIGTERM stops it cleanly (exit 0).
"""

from __future__ import annotations

import logging
import math
import signal
import socket
import sys
import threading
import time

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from ..errors import InputError, MekisimError
from ._compute import PAGE_MODELS, PageState, TeachPage, dose_of_slider
from ._figures import dose_response_figure, matrix_figure, nm, time_course_figure, what_changed

__all__ = ["build_app", "serve"]

HOURS = (math.log10(0.25), math.log10(48.0))  # time slider, log10 h
GRAPH_CONFIG: dcc.Graph.Config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def hours_of(position: float | None) -> float:
    """Hours (3 significant digits) of a time-slider position (log10 h)."""
    return float(f"{10.0 ** (math.log10(4.0) if position is None else position):.3g}")


def state_of(page: TeachPage, model, line, a, b, h, on) -> PageState:
    """The page's controls as a :class:`PageState` (ticked switches are on)."""
    spec = page.spec
    off = frozenset(set(page.switches) - set(on or ()))
    return PageState(model or spec.name, line or spec.default_line, dose_of_slider(a, spec.slider_a[0]),
                     dose_of_slider(b, spec.slider_b[0]), hours_of(h), off)


def _marks(lo: float, hi: float) -> dict:
    marks = {lo - 0.5: "0"}
    for k in range(math.ceil(lo), math.floor(hi) + 1):
        marks[k] = f"{10.0 ** k:g}"
    return marks


def _switch_option(page: TeachPage, name: str) -> dict:
    switch = page.switches[name]
    values = ", ".join(f"{k} = {v:g}" for k, v in switch.values.items())
    detail = f"  off: {values}" + (f" — {switch.note}" if switch.note else "")
    return {"label": html.Span([html.Span(f" {name}", style={"fontWeight": 600}),
                                html.Span(detail, style={"color": "#666", "fontSize": "11px"})]),
            "value": name}


def _layout(page: TeachPage) -> html.Div:
    spec = page.spec
    label = {"display": "block", "marginTop": "10px", "fontWeight": 600}
    models: list[dict[str, str | bool]] = [{"label": s.label, "value": s.name} for s in PAGE_MODELS.values()]
    models.append({"label": "Model B: melanoma (not here: no steady state, no feedback switches)",
                   "value": "melanoma", "disabled": True})
    return html.Div(style={"fontFamily": "DejaVu Sans, Arial, sans-serif", "margin": "8px 16px"}, children=[
        html.H3("mekisim teach: how feedback shapes the response to MEK inhibition", style={"margin": "4px 0"}),
        html.Div(f"{page.model.title}. Every number is simulated from assumed or hand-tuned parameters: "
                 "representative, not measured. The lessons: mekisim teach list.",
                 style={"color": "#555", "fontSize": "13px"}),
        html.Div(style={"display": "flex", "gap": "20px", "marginTop": "8px"}, children=[
            html.Div(style={"width": "310px", "flex": "none", "fontSize": "13px"}, children=[
                html.Label("Model", style=label),
                dcc.Dropdown(id="model", options=models, value=spec.name, clearable=False),
                html.Label("Cell line", style=label),
                dcc.Dropdown(id="line", options=list(page.cell_lines), value=spec.default_line, clearable=False),
                html.Label(id="dose-a-label", style=label),
                dcc.Slider(id="dose-a", min=spec.slider_a[0] - 0.5, max=spec.slider_a[1], step=0.05,
                           value=math.log10(spec.default_a), marks=_marks(*spec.slider_a), updatemode="mouseup",
                           allow_direct_input=False),
                html.Label(id="dose-b-label", style=label),
                dcc.Slider(id="dose-b", min=spec.slider_b[0] - 0.5, max=spec.slider_b[1], step=0.05,
                           value=spec.slider_b[0] - 0.5, marks=_marks(*spec.slider_b), updatemode="mouseup",
                           allow_direct_input=False),
                html.Label(id="hours-label", style=label),
                dcc.Slider(id="hours", min=HOURS[0], max=HOURS[1], step=0.01, value=math.log10(4.0),
                           marks={math.log10(h): f"{h:g}" for h in (0.25, 1, 4, 12, 48)}, updatemode="mouseup",
                           allow_direct_input=False),
                html.Label("Switches (ticked = on, as the model is written)", style=label),
                html.Div("Applied before pre-equilibration. *_feedback opens a loop at the parental operating "
                         "point; *_ko knocks the reaction out (lesson 1).",
                         style={"color": "#666", "fontSize": "11px"}),
                dcc.Checklist(id="switches", options=[_switch_option(page, n) for n in page.switches],
                              value=list(page.switches), labelStyle={"display": "block", "margin": "2px 0"}),
            ]),
            html.Div(style={"flex": "1", "minWidth": "760px"}, children=[
                html.Div(id="what-changed", style={"background": "#fff7d6", "padding": "6px 10px",
                                                   "borderRadius": "4px", "minHeight": "20px", "fontSize": "13px"}),
                dcc.Graph(id="tc-graph", style={"height": "370px"}, config=GRAPH_CONFIG),
                html.Div(style={"display": "flex"}, children=[
                    dcc.Graph(id="dr-graph", style={"height": "460px", "width": "36%"}, config=GRAPH_CONFIG),
                    dcc.Graph(id="mx-graph", style={"height": "460px", "width": "64%"}, config=GRAPH_CONFIG),
                ]),
                html.Details([html.Summary("The plotted numbers (tables)"), html.Div(id="tables")],
                             style={"fontSize": "12px", "marginTop": "6px"}),
            ]),
        ]),
        dcc.Store(id="prev-summary"),
    ])


def _tables(page: TeachPage, state: PageState) -> list:
    """The time course (every 10th plotted point) and the dose-response points as HTML tables."""
    tc, dr = page.time_course(state), page.dose_response(state)
    units = {o.id: o.unit for o in page.model.observables}
    names = ["pERK", "pMEK", *(n.label for n in page.spec.nodes)]
    heads = [f"p-ERK ({units['pERK']})", f"p-MEK ({units['pMEK']})",
             *(f"{n.label} ({n.unit})" for n in page.spec.nodes)]
    cell = {"padding": "1px 8px", "textAlign": "right"}
    rows = [html.Tr([html.Th("time (h)", style=cell), *(html.Th(h, style=cell) for h in heads)])]
    for i in range(0, tc.hours.size, 10):
        rows.append(html.Tr([html.Td(f"{tc.hours[i]:.4g}", style=cell),
                             *(html.Td(f"{tc.series[n][i]:.6g}", style=cell) for n in names)]))
    dr_rows = [html.Tr([html.Th(f"{page.spec.drug_a} (nM)", style=cell),
                        html.Th(f"steady-state p-ERK ({units['pERK']})", style=cell), html.Th("status", style=cell)])]
    for d, v, s in zip(dr.doses, dr.perk, dr.statuses, strict=True):
        dr_rows.append(html.Tr([html.Td(f"{d:.4g}", style=cell), html.Td(f"{v:.6g}", style=cell),
                                html.Td(s, style=cell)]))
    return [html.Table(rows, id="tc-table"), html.Br(), html.Table(dr_rows, id="dr-table")]


def build_app(page: TeachPage | None = None) -> Dash:
    """The Dash app of the page (``page``: the compute; a new :class:`TeachPage` of Model A by default)."""
    page = page or TeachPage()
    # dash documents update_title=None (keep the tab's title while a callback runs) but annotates it as str
    app = Dash(__name__, title="mekisim teach", serve_locally=True, update_title=None)  # type: ignore[arg-type]
    app.layout = _layout(page)
    timing: dict[str, float] = {}  # callback -> seconds of its last run (the benchmark reads /timing)

    def timed(name, fn):
        started = time.perf_counter()
        try:
            return fn()
        finally:
            timing[name] = time.perf_counter() - started

    spec = page.spec

    @app.callback(Output("dose-a-label", "children"), Output("dose-b-label", "children"),
                  Output("hours-label", "children"), Input("dose-a", "value"), Input("dose-b", "value"),
                  Input("hours", "value"))
    def labels(a, b, h):
        return (f"{spec.drug_a}: {nm(dose_of_slider(a, spec.slider_a[0]))}",
                f"{spec.drug_b}: {nm(dose_of_slider(b, spec.slider_b[0]))}", f"time: 0 to {hours_of(h):g} h")

    @app.callback(Output("tc-graph", "figure"), Output("tables", "children"), Output("what-changed", "children"),
                  Output("prev-summary", "data"), Input("model", "value"), Input("line", "value"),
                  Input("dose-a", "value"), Input("dose-b", "value"), Input("hours", "value"),
                  Input("switches", "value"), State("prev-summary", "data"))
    def time_course_cb(model, line, a, b, h, on, previous):
        def work():
            try:
                state = state_of(page, model, line, a, b, h, on)
                now = page.summary(state)
            except MekisimError as exc:  # e.g. two switches setting one parameter differently: say so
                return no_update, no_update, f"Not computed: {exc}", no_update
            return time_course_figure(page, state), _tables(page, state), what_changed(page, previous, now), now
        return timed("time_course", work)

    @app.callback(Output("dr-graph", "figure"), Input("model", "value"), Input("line", "value"),
                  Input("dose-a", "value"), Input("dose-b", "value"), Input("switches", "value"))
    def dose_response_cb(model, line, a, b, on):
        def work():
            try:
                return dose_response_figure(page, state_of(page, model, line, a, b, None, on))
            except MekisimError:
                raise PreventUpdate from None
        return timed("dose_response", work)

    @app.callback(Output("mx-graph", "figure"), Input("model", "value"), Input("line", "value"),
                  Input("switches", "value"))
    def matrix_cb(model, line, on):
        def work():
            try:
                return matrix_figure(page, state_of(page, model, line, None, None, None, on))
            except MekisimError:
                raise PreventUpdate from None
        return timed("matrix", work)

    @app.server.route("/timing")
    def timing_route():  # benchmark hook: server seconds of each callback's last run
        return {k: round(v, 6) for k, v in timing.items()}

    return app


def _warm(page: TeachPage, stop: threading.Event) -> None:
    """Precompute, in the background, the states a student reaches first (all three panels, default doses).

    Every cell line as written, and each switch turned off alone in the default line. A switch flip
    recomputes all three panels (~50 ms of server time on an idle core, more under load); cached, it costs
    only the render. Each panel holds the page's lock by itself, so a student's request waits at most one
    panel.
    """
    spec = page.spec
    states = [PageState(spec.name, spec.default_line, spec.default_a, 0.0, 4.0)]
    states += [PageState(spec.name, spec.default_line, spec.default_a, 0.0, 4.0, frozenset({n})) for n in page.switches]
    states += [PageState(spec.name, line, spec.default_a, 0.0, 4.0) for line in page.cell_lines]
    for state in states:
        if stop.is_set():
            return
        try:
            page.time_course(state)
            page.dose_response(state)
            page.matrix(state)
        except MekisimError:
            continue


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port), or an InputError that says what to do instead."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise InputError(f"--host {host!r} is not an address of this machine ({exc.strerror}); use 127.0.0.1.") \
            from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port, or --port 0 for "
                         "any free port.") from None
    return sock


def serve(host: str = "127.0.0.1", port: int = 8050, *, warm: bool = True, out=None) -> int:
    """Serve the page until Ctrl-C or SIGTERM; print its address first. Returns 0 after a clean stop.

    ``host`` 127.0.0.1 (the default) serves this machine only; ``0.0.0.0`` serves a classroom network (the
    page has no login). ``warm`` precomputes common states in a background thread.
    """
    from werkzeug.serving import make_server

    out = out or sys.stdout
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    sock = _bind(host, port)  # first: a busy port is refused before anything is loaded
    try:
        page = TeachPage()
        app = build_app(page)
        page.time_course(PageState())  # load and compile the model before the first student arrives
        server = make_server(host, sock.getsockname()[1], app.server, threaded=True, fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate of the socket
    bound = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    stop = threading.Event()
    if warm:
        threading.Thread(target=_warm, args=(page, stop), name="teach-warm-up", daemon=True).start()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill PID` stops it like Ctrl-C
    print(f"mekisim teach: serving on http://{shown}:{bound}/  (Ctrl-C to stop)", file=out, flush=True)
    try:
        server.serve_forever()  # returns on KeyboardInterrupt (Ctrl-C, or SIGTERM above) and closes the socket
    finally:
        stop.set()
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        print("mekisim teach: stopped", file=out, flush=True)
    return 0
