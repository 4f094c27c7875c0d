"""The live teaching page in a real browser: ``mekisim teach serve --port 0`` driven by Playwright in headless Chromium.

The test starts the server in a subprocess (it prints the address it bound), loads the page, switches the
SOS feedback off, moves the trametinib slider with the keyboard, reads the plotted p-ERK values back from the
Plotly graph and compares them with the Python API called here, in this process, to 1e-6 relative. Both sides
use ``simulator.teach.PAGE_OPTIONS`` (rtol 1e-8, atol 1e-12): at the engine's default tolerance the result for
a condition depends on the history of the process at the 1e-6 level (see PAGE_OPTIONS), which would make a
1e-6 comparison between two processes flaky. It also checks that no request leaves 127.0.0.1, that the
browser logs no error, saves a screenshot under the test's tmp folder, and stops the server with SIGINT
(Ctrl-C), which must exit 0. Skipped without Chromium or Playwright (the message names the install command);
with ``CI`` set it fails instead (tests/_browser.py). It prints one line (even under -q) so a CI log shows it ran.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

import simulator as ms
import simulator.teach as teach
from tests import _browser
from tests.conftest import ROOT

#: Plotly (>= 6) ships numpy arrays as {dtype, bdata: base64}; this decodes either form to a plain array
JS_TRACE = """([graph, name]) => {
  const gd = document.querySelector(`#${graph} .js-plotly-plot`);
  const tr = gd.data.find(t => t.name === name);
  const arr = (v) => {
    if (Array.isArray(v)) return v;
    const bytes = Uint8Array.from(atob(v.bdata), c => c.charCodeAt(0));
    const kinds = {f8: Float64Array, f4: Float32Array, i4: Int32Array, i2: Int16Array, i1: Int8Array,
                   u4: Uint32Array, u2: Uint16Array, u1: Uint8Array};
    return Array.from(new kinds[v.dtype](bytes.buffer));
  };
  return {x: arr(tr.x), y: arr(tr.y), meta: gd.layout.meta};
}"""


def _mekisim() -> list[str]:
    script = Path(sys.executable).with_name("mekisim")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "import sys; from simulator.cli import main; "
                                                   "sys.exit(main())"]


@pytest.fixture
def server():
    """``mekisim teach serve --port 0``: its address and process; stopped with SIGINT if the test did not."""
    proc = subprocess.Popen([*_mekisim(), "teach", "serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not match:
        proc.kill()
        pytest.fail(f"the server did not print its address: {line!r}{proc.stdout.read()}")
    try:
        yield match.group(0), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        proc.stdout.close()


def _wait_meta(page, graph: str, predicate: str, timeout_ms: float = 30_000) -> None:
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('#{graph} .js-plotly-plot');"
        f" if (!gd || !gd.layout || !gd.layout.meta) return false; const m = gd.layout.meta; return {predicate}; }}",
        timeout=timeout_ms)


def test_switch_sos_off_move_trametinib_and_read_the_plotted_values(server, tmp_path, capsys):
    sync_playwright, chromium = _browser.playwright_and_chromium()
    url, proc = server
    started = time.perf_counter()
    with sync_playwright() as p:
        ctx = _browser.launch(p, chromium, tmp_path / "profile", viewport={"width": 1400, "height": 1000})
        try:
            page = ctx.new_page()
            seen = _browser.watch(page)
            page.goto(url)
            for graph in ("tc-graph", "dr-graph", "mx-graph"):
                _wait_meta(page, graph, "m.off.length === 0")

            # 1. switch the SOS feedback off (ticked = on): all three panels follow, the line says what changed
            page.locator("input[value=sos_feedback]").uncheck()
            for graph in ("tc-graph", "dr-graph", "mx-graph"):
                _wait_meta(page, graph, "m.off.length === 1 && m.off[0] === 'sos_feedback'")
            page.wait_for_function("() => document.querySelector('#what-changed').innerText.includes('switched OFF')")
            assert page.inner_text("#what-changed").startswith("sos_feedback switched OFF (open_S = 1): p-ERK at 4 h")

            # 2. move the trametinib slider 6 steps (0.05 log10 nM each) to the right with the keyboard
            before = page.evaluate("() => document.querySelector('#tc-graph .js-plotly-plot').layout.meta.dose_a")
            thumb = page.locator("#dose-a [role=slider]")
            thumb.focus()
            for _ in range(6):
                thumb.press("ArrowRight")
            position = float(thumb.get_attribute("aria-valuenow"))  # where the slider ended
            dose = teach.dose_of_slider(position, teach.PAGE_MODELS["mpnst"].slider_a[0])
            assert dose > before
            _wait_meta(page, "tc-graph", f"m.dose_a === {dose} && m.off.length === 1")
            _wait_meta(page, "dr-graph", f"m.dose_a === {dose}")
            page.wait_for_function(f"() => document.querySelector('#dose-a-label').innerText.endsWith('{dose:g} nM')")
            page.wait_for_function("() => document.querySelector('#what-changed').innerText.includes('trametinib')")
            plotted = page.evaluate(JS_TRACE, ["tc-graph", "p-ERK"])
            table = page.evaluate("() => document.querySelector('#tc-table').textContent")
            page.screenshot(path=str(tmp_path / "teach_page.png"), full_page=True)
        finally:
            ctx.close()
    browser_s = time.perf_counter() - started

    # the plotted p-ERK is the Python API's, with the switch's values from models/mpnst.toml
    meta = plotted["meta"]
    assert meta["cell_line"] == "S462" and meta["dose_b"] == 0 and meta["off"] == ["sos_feedback"]
    assert meta["time_unit"] == "min"
    times = np.linspace(0.0, meta["t_end"], meta["n_times"])
    np.testing.assert_allclose(np.asarray(plotted["x"]) * 60.0, times, rtol=1e-12, atol=1e-12)
    switch = tomllib.loads((ROOT / "models" / "mpnst.toml").read_text(encoding="utf-8"))["switches"]["sos_feedback"]
    model = ms.load_model("mpnst")
    cond = ms.make_condition(model, "S462", {"trametinib": dose, "src_inhibitor_1": 0.0}, values=switch)
    expected = ms.time_course(model, times, cond, select=["pERK"], options=teach.PAGE_OPTIONS)["pERK"]
    y = np.asarray(plotted["y"])
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=0)
    worst = float(np.max(np.abs(y - expected) / expected))
    # the switch acted: the feedback-on curve is different, and so is the table the page shows
    on = ms.time_course(model, times, ms.make_condition(model, "S462", {"trametinib": dose}), select=["pERK"],
                        options=teach.PAGE_OPTIONS)["pERK"]
    assert np.max(np.abs(on - expected) / expected) > 0.05
    assert f"{expected[-1]:.6g}" in table

    assert seen["outside"] == [], f"the page fetched from outside this machine: {seen['outside']}"
    assert seen["failed"] == [] and seen["console"] == [] and seen["errors"] == [], seen
    assert (tmp_path / "teach_page.png").stat().st_size > 50_000

    # 3. Ctrl-C stops the server cleanly
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0
    assert "mekisim teach: stopped" in proc.stdout.read()
    with capsys.disabled():  # shown even under -q: the CI log says the browser test ran, and where
        version = shutil.which(chromium) or chromium
        print(f"\n[teach browser test] ran in {version}: plotted p-ERK (121 points, {dose:g} nM trametinib, "
              f"sos_feedback off) matches the API to {worst:.1e} relative; browser part {browser_s:.1f} s; "
              f"screenshot {tmp_path / 'teach_page.png'}")
