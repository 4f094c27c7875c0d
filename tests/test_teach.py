"""mekisim teach: the lesson list, a lesson rendered as one self-contained HTML page, and the live page's compute.

The page's compute is checked against the public API called directly (the same numbers, from an independent
call), its figures against plotly's own validation, and its switches against ``models/mpnst.toml``. The
real-browser test of the live page is tests/test_teach_browser.py; the lesson page is loaded in headless
Chromium here (skipped without Chromium, failed under CI).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tomllib
from html.parser import HTMLParser

import numpy as np
import pytest

import simulator as ms
import simulator.teach as teach
from simulator.cli import main
from tests import _browser
from tests.conftest import ROOT

LESSON = 2  # the quickest notebook in smoke mode (~4 s)


# ------------------------------------------------------------------------------------------ teach list


def test_teach_list_prints_the_six_lessons(capsys):
    assert main(["teach", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    for number, (line, folder) in enumerate(zip(lines, sorted((ROOT / "experiments" / "lessons").glob("0*")),
                                                strict=True), 1):
        readme = (folder / "README.md").read_text(encoding="utf-8").splitlines()
        title = readme[0].split("—", 1)[1].strip()
        assert line.startswith(f"{number}  {title} — "), line
        assert line.endswith("?"), line  # the question
        assert "*" not in line and "`" not in line  # markdown stripped
    assert "Why does p-ERK come back within hours?" in lines[0]


def test_lessons_are_found_where_the_study_runner_finds_studies():
    from simulator.files import bundled_study  # the mechanism the lessons follow

    assert teach.lessons_dir().parent == bundled_study("mpnst_combinations").parent.parent
    assert [lesson.number for lesson in teach.lessons()] == [1, 2, 3, 4, 5, 6]
    assert all(lesson.notebook.is_file() for lesson in teach.lessons())


def test_teach_run_unknown_lesson_is_a_clear_error(tmp_path, capsys):
    assert main(["teach", "run", "9", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "there is no lesson 9; valid: 1, 2, 3, 4, 5, 6" in err and "Traceback" not in err
    assert main(["teach"]) == 2  # usage error: no action


def test_teach_run_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / f"lesson_{LESSON}.html").write_text("a page a teacher edited", encoding="utf-8")
    assert main(["teach", "run", str(LESSON), "--out", str(tmp_path), "--smoke"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / f"lesson_{LESSON}.html").read_text(encoding="utf-8") == "a page a teacher edited"


# ------------------------------------------------------------------------------ teach run: the lesson page


@pytest.fixture(scope="module")
def lesson_page(tmp_path_factory):
    """``mekisim teach run 2 --smoke`` into a fresh folder (kernel files under the same folder)."""
    out = tmp_path_factory.mktemp("lesson_page")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_RUNTIME_DIR", str(out / "jupyter_runtime"))
        mp.setenv("IPYTHONDIR", str(out / "ipython"))
        assert main(["teach", "run", str(LESSON), "--out", str(out / "site"), "--smoke"]) == 0
    return out / "site"


class _Resources(HTMLParser):
    """Every URL the page would load (src/href of loading elements, srcset, CSS url()/@import) and every link."""

    LOADING = {"script": "src", "img": "src", "iframe": "src", "embed": "src", "source": "src", "audio": "src",
               "video": "src", "track": "src", "input": "src", "object": "data", "link": "href"}

    def __init__(self):
        super().__init__()
        self.loads, self.links, self.details, self.images, self.summaries = [], [], [], 0, []
        self._in_style = self._in_summary = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADING and attrs.get(self.LOADING[tag]):
            self.loads.append(attrs[self.LOADING[tag]])
        if attrs.get("srcset"):
            self.loads.append(attrs["srcset"])
        if "style" in attrs:
            self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", attrs["style"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and (attrs.get("src") or "").startswith("data:image/png;base64,"):
            self.images += 1
        if tag == "details":
            self.details.append(attrs)
        self._in_style = tag == "style"
        self._in_summary = tag == "summary"

    def handle_endtag(self, tag):
        self._in_style = self._in_style and tag != "style"

    def handle_data(self, data):
        if self._in_style:
            self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.loads += re.findall(r"@import\s+['\"]([^'\"]+)", data)
        if self._in_summary and data.strip():
            self.summaries.append(data.strip())
            self._in_summary = False


def test_lesson_page_is_self_contained(lesson_page):
    import nbformat

    html = (lesson_page / f"lesson_{LESSON}.html").read_text(encoding="utf-8")
    parsed = _Resources()
    parsed.feed(html)
    external = [u for u in parsed.loads if not u.startswith("data:")]
    assert external == [], f"the page loads resources from outside the file: {external}"
    assert not re.search(r"<script[^>]+src=", html)  # no script file at all (CDN or local)
    # every figure of the executed notebook is embedded in the page
    nb = nbformat.read(lesson_page / f"lesson_{LESSON}.ipynb", as_version=4)
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert figures >= 2 and parsed.images == figures
    # the exercise answers are there, closed by default
    assert any(s.startswith("Answers") for s in parsed.summaries), parsed.summaries
    assert all("open" not in attrs for attrs in parsed.details)
    assert "all claims of lesson 2 hold" in html  # the self-check cell ran
    assert f"Lesson {LESSON} of 6" in html and "smoke mode" in html  # the banner says what the page is
    assert nb.metadata["mekisim"]["smoke"] is True and nb.metadata["mekisim"]["lesson"] == LESSON
    assert "Traceback" not in html and "Warning" not in html


def test_lesson_page_loads_in_chromium_with_no_request_and_no_error(lesson_page, tmp_path):
    sync_playwright, chromium = _browser.playwright_and_chromium()
    page_file = lesson_page / f"lesson_{LESSON}.html"
    with sync_playwright() as p:
        ctx = _browser.launch(p, chromium, tmp_path / "profile", viewport={"width": 1300, "height": 900})
        try:
            page = ctx.new_page()
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            seen = _browser.watch(page)
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            shown = page.evaluate("() => [...document.images].filter(i => i.complete && i.naturalWidth > 0).length")
            closed = page.evaluate("() => [...document.querySelectorAll('details')].every(d => !d.open)")
            page.screenshot(path=str(tmp_path / "lesson_page.png"), full_page=True)
        finally:
            ctx.close()
    assert [u for u in requests if not u.startswith("data:")] == [page_file.as_uri()]
    assert seen["failed"] == [] and seen["console"] == [] and seen["errors"] == []
    assert shown >= 2 and closed


# ---------------------------------------------------------------------------------- the live page's compute


def test_page_switches_are_the_models_switch_table(mpnst):
    declared = tomllib.loads((ROOT / "models" / "mpnst.toml").read_text(encoding="utf-8"))["switches"]
    switches = teach.model_switches(mpnst)
    assert {s.name: dict(s.values) for s in switches} == {k: {p: float(v) for p, v in d.items()}
                                                          for k, d in declared.items()}
    assert next(s for s in switches if s.name == "sos_feedback").note == "ERK -| SOS1 (R9)"
    assert teach.model_switches(ms.from_antimony_text("x = 1")) == ()  # no metadata file: no switches


@pytest.fixture(scope="module")
def page():
    return teach.TeachPage("mpnst")


def test_page_time_course_is_the_api_with_switches_before_pre_equilibration(page, mpnst):
    state = teach.PageState(cell_line="S462", dose_a=3.0, dose_b=100.0, hours=4.0,
                            off=frozenset({"sos_feedback", "dusp_feedback_ko"}))
    panel = page.time_course(state)
    times = np.linspace(0.0, 240.0, 121)
    cond = ms.make_condition(mpnst, "S462", {"trametinib": 3.0, "src_inhibitor_1": 100.0},
                             values={"open_S": 1.0, "VpD": 0.0})
    expected = ms.time_course(mpnst, times, cond, select=["pERK", "SOS", "SOSp"], options=teach.PAGE_OPTIONS)
    np.testing.assert_allclose(panel.model_times, times)
    np.testing.assert_allclose(panel.series["pERK"], expected["pERK"], rtol=1e-6)
    np.testing.assert_allclose(panel.series["SOS, ERK-inhibited (SOSp)"],
                               expected["SOSp"] / (expected["SOS"] + expected["SOSp"]), rtol=1e-6)
    # the knock-out moved the untreated state: applied before pre-equilibration, not at t = 0
    untreated_as_written = ms.steady_state(mpnst, ms.make_condition(mpnst, "S462"), select=["pERK"])["pERK"]
    assert panel.series["pERK"][0] > 1.5 * untreated_as_written


def test_page_dose_response_and_matrix_are_the_api(page, mpnst):
    state = teach.PageState(off=frozenset({"raf_feedback"}))
    dr = page.dose_response(state)
    base = ms.make_condition(mpnst, "S462", {"trametinib": 0.0, "src_inhibitor_1": 0.0}, values={"open_R": 1.0})
    records = ms.steady_states(mpnst, [base.with_doses({"trametinib": d}) for d in dr.doses], select=["pERK"],
                               options=teach.PAGE_OPTIONS)
    perk = np.array([r["pERK"] for r in records])
    np.testing.assert_allclose(dr.perk, perk, rtol=1e-6)
    fit = ms.fit_logistic(dr.doses, perk)
    assert dr.fit.status == "ok" and dr.fit.ic50 == pytest.approx(fit.ic50, rel=1e-4)
    assert dr.fit.ic50 < 1.0  # about 0.5 nM: p-ERK's steady-state IC50 sits below trametinib's 1 nM (MEK layer)
    # the absolute IC50 (50 % of untreated p-ERK) is a different number from the curve's midpoint; it sits
    # where the simulated points themselves cross half the untreated level (log-linear interpolation)
    half = 0.5 * perk[0]
    k = int(np.flatnonzero((perk[1:-1] - half) * (perk[2:] - half) <= 0)[0]) + 1
    t = (perk[k] - half) / (perk[k] - perk[k + 1])
    crossing = 10 ** (np.log10(dr.doses[k]) + t * (np.log10(dr.doses[k + 1]) - np.log10(dr.doses[k])))
    assert dr.fit.ic50_abs == pytest.approx(crossing, rel=0.1)
    from simulator.teach._figures import dose_response_figure  # (as the figure test below: no public name)

    title = dose_response_figure(page, state, dr)["layout"]["title"]["text"]
    assert f"absolute IC50 (50 % of untreated p-ERK) {dr.fit.ic50_abs:.3g} nM" in title
    assert f"relative EC50 (curve midpoint) {dr.fit.ic50:.3g} nM" in title

    mx = page.matrix(state)
    a, b = mx.doses_a, mx.doses_b
    wells = [base.with_doses({"trametinib": x, "src_inhibitor_1": y}) for x in a for y in b]
    grid = np.array([r["pERK"] for r in ms.steady_states(mpnst, wells, select=["pERK"],
                                                         options=teach.PAGE_OPTIONS)]).reshape(6, 6)
    scores = ms.synergy_scores(a, b, 1.0 - grid / grid[0, 0])
    np.testing.assert_allclose(mx.perk, grid, rtol=1e-6)
    np.testing.assert_allclose(mx.bliss, scores.bliss, rtol=1e-4, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(mx.ci, scores.ci, rtol=1e-4, equal_nan=True)
    assert np.isnan(mx.bliss[0]).all() and np.isnan(mx.bliss[:, 0]).all()  # single agents: no score
    assert np.nanmax(mx.bliss) > 0  # the combination is Bliss-synergistic (lesson 6)


def test_page_refuses_unknown_or_conflicting_switches(page):
    import dataclasses

    with pytest.raises(ms.InputError, match="no switch 'sos_feedbak' .did you mean sos_feedback.*its switches: "
                                            "sos_feedback"):
        page.values(teach.PageState(off=frozenset({"sos_feedbak"})))
    conflicting = teach.TeachPage.__new__(teach.TeachPage)
    conflicting.model = dataclasses.replace(page.model, switches=(teach.Switch("a", {"kfbS": 0.0}),
                                                                  teach.Switch("b", {"kfbS": 1.0})))
    with pytest.raises(ms.InputError, match="switches a and b set kfbS to 0 and 1"):
        conflicting.values(teach.PageState(off=frozenset({"a", "b"})))
    with pytest.raises(ms.InputError, match="offers mpnst"):
        teach.TeachPage("melanoma")


def test_dose_slider_positions():
    assert teach.dose_of_slider(None, -2.0) == 0.0
    assert teach.dose_of_slider(-2.5, -2.0) == 0.0  # the zero stop left of the range
    assert teach.dose_of_slider(-2.0, -2.0) == 0.01
    assert teach.dose_of_slider(np.log10(3.0) + 0.3, -2.0) == 5.99  # 3 significant digits


def test_figures_are_valid_plotly_with_units_and_the_plotted_numbers(page):
    import plotly.graph_objects as go

    from simulator.teach._figures import dose_response_figure, matrix_figure, time_course_figure

    state = teach.PageState(off=frozenset({"sos_feedback"}))
    figures = [time_course_figure(page, state), dose_response_figure(page, state), matrix_figure(page, state)]
    for fig in figures:
        go.Figure(fig)  # raises on any invalid property
        axes = [v for k, v in fig["layout"].items() if k.startswith(("xaxis", "yaxis"))]
        for axis in axes:  # units on every axis that shows values (the matrix's second y axis repeats the first)
            if axis.get("showticklabels", True):
                assert axis["title"]["text"], axis
        assert fig["layout"]["meta"]["off"] == ["sos_feedback"]
    tc = figures[0]
    perk = next(t for t in tc["data"] if t["name"] == "p-ERK")
    np.testing.assert_array_equal(perk["y"], page.time_course(state).series["pERK"])  # exactly what is computed
    assert "relative to S462 DMSO" in tc["layout"]["yaxis"]["title"]["text"]
    assert "IC50" in figures[1]["layout"]["title"]["text"]
    bliss = figures[2]["data"][0]
    assert bliss["colorscale"][-1][1] == "#b2182b" and figures[2]["data"][1]["colorscale"][0][1] == "#b2182b"


def test_what_changed_names_the_switch_and_its_effect(page):
    from simulator.teach._figures import what_changed

    before = page.summary(teach.PageState())
    after = page.summary(teach.PageState(off=frozenset({"sos_feedback"})))
    text = what_changed(page, before, after)
    assert text.startswith("sos_feedback switched OFF (open_S = 1): p-ERK at 4 h ")
    assert "rebound (end/minimum)" in text and "IC50" in text
    assert after["rebound"] < before["rebound"]  # the opened SOS loop carries part of the rebound (lesson 1)
    assert what_changed(page, after, before).startswith("sos_feedback switched back ON")
    assert what_changed(page, before, before) == "Nothing changed."


# -------------------------------------------------------------------------------------- teach serve (no browser)


def test_serve_on_a_busy_port_is_a_clear_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["teach", "serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err and "Traceback" not in err


def test_cli_help_and_teach_list_load_neither_dash_nor_the_engine():
    code = ("import sys; from simulator.cli import main; main(['teach', 'list']); "
            "print(sorted(m for m in ('dash', 'plotly', 'nbconvert', 'roadrunner') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"
    # and as `python -m simulator.cli` (the teach block must come before the __main__ guard)
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "teach", "list"], capture_output=True, text=True,
                         check=True).stdout
    assert len(out.splitlines()) == 6
