"""Latency of the live teaching page (``mekisim teach serve``) from a control change to the updated plots.

.venv/bin/python benchmarks/teach.py [--core 0] [--browser-core C] [--repeats 8] [--no-write]

The server runs as ``mekisim teach serve --port 0`` pinned to one core (taskset); the browser (Debian's
Chromium through Playwright) is pinned to the same core by default, so server compute and browser render
share one core, as on a student's laptop that runs both (``--browser-core 1`` gives it its own). For each
interaction the page records ``performance.now()``, fires the control's event (a key press on a slider thumb,
a click on a switch), then polls every animation frame until every graph that interaction changes shows the
new state in its ``layout.meta`` (Plotly has re-rendered it), plus one frame. So the figure covers the
network, Dash, the server's compute, JSON, and Plotly's render. "cold": a state the server has not computed
before; "warm": one it has (memoised: render only). The server's own time per callback comes from its
``/timing`` route. Target (issue 17): <= 0.5 s per interaction on one core. Not a timed test.
Writes the "Teaching page" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_md import ROOT, write_section  # noqa: E402  (benchmarks/ is sys.path[0] when run as a script)

BEGIN, END = "<!-- teach:begin -->", "<!-- teach:end -->"
TARGET_MS = 500.0
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: fire an event, then poll each frame until every listed graph's meta shows the expected state
JS_MEASURE = """async ([action, graphs, expected]) => {
  const t0 = performance.now();
  let want = expected;
  if (action.kind === 'click') document.querySelector(action.selector).click();
  else {
    const thumb = document.querySelector(action.selector);
    thumb.dispatchEvent(new KeyboardEvent('keydown', {key: action.key, bubbles: true, cancelable: true}));
    await new Promise(r => setTimeout(r, 0));
    const v = Number(thumb.getAttribute('aria-valuenow'));
    const value = (action.lo !== undefined && v <= action.lo - 0.25) ? 0 : Number((10 ** v).toPrecision(3));
    want = {[action.field]: value};
  }
  const ok = () => graphs.every(graph => {
    const gd = document.querySelector(`#${graph} .js-plotly-plot`);
    if (!gd || !gd.layout || !gd.layout.meta) return false;
    return Object.entries(want).every(([k, v]) => JSON.stringify(gd.layout.meta[k]) === JSON.stringify(v));
  });
  while (!ok()) {
    if (performance.now() - t0 > 30000)
      return {ms: -1, want, metas: graphs.map(g => document.querySelector(`#${g} .js-plotly-plot`).layout.meta)};
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(r));  // the frame that shows it
  return {ms: performance.now() - t0, want};
}"""
#: wait (from window.__t0, set just before Playwright fires the event) until every graph shows the state
JS_WAIT = """async ([graphs, want]) => {
  const ok = () => graphs.every(graph => {
    const gd = document.querySelector(`#${graph} .js-plotly-plot`);
    if (!gd || !gd.layout || !gd.layout.meta) return false;
    return Object.entries(want).every(([k, v]) => JSON.stringify(gd.layout.meta[k]) === JSON.stringify(v));
  });
  while (!ok()) {
    if (performance.now() - window.__t0 > 30000) return -1;
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(r));
  return performance.now() - window.__t0;
}"""
ALL = ["tc-graph", "dr-graph", "mx-graph"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--core", type=int, default=0, help="core of the server (and of the browser by default)")
    ap.add_argument("--browser-core", type=int, default=None, help="core of the browser (default: --core)")
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--no-write", action="store_true", help="print only; do not update RESULTS.md")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    browser_core = args.core if args.browser_core is None else args.browser_core
    load_before = os.getloadavg()
    os.sched_setaffinity(0, {browser_core})  # Playwright's driver and Chromium inherit it
    mekisim = Path(sys.executable).with_name("mekisim")
    t_start = time.perf_counter()
    proc = subprocess.Popen(["taskset", "-c", str(args.core), str(mekisim), "teach", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = re.search(r"http://\S+/", proc.stdout.readline()).group(0)
    start_s = time.perf_counter() - t_start
    results: dict[str, list[float]] = {}
    server: dict[str, list[float]] = {}
    load_samples = []

    def record(name, ms, callbacks):
        results.setdefault(name, []).append(ms)
        timing = json.loads(urllib.request.urlopen(url + "timing").read())
        # the callbacks of one change run concurrently (one thread each) and share the page's lock: the
        # longest of them is the server's wall time for the change
        server.setdefault(name, []).append(max(timing.get(cb, float("nan")) for cb in callbacks) * 1e3)
        load_samples.append(os.getloadavg()[0])

    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            ctx = p.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium", headless=True,
                                                       args=FLAGS, viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function("() => ['tc-graph','dr-graph','mx-graph'].every(g => {"
                                   " const gd = document.querySelector(`#${g} .js-plotly-plot`);"
                                   " return gd && gd.layout && gd.layout.meta; })", timeout=60000)
            first_load = time.perf_counter() - t0
            page.wait_for_timeout(3000)  # let the server's warm-up thread finish its first states

            def measure(name, action, graphs, expected, callbacks):
                out = page.evaluate(JS_MEASURE, [action, graphs, expected])
                if out["ms"] < 0:
                    raise RuntimeError(f"{name}: the page never showed {out['want']}: {out['metas']}")
                page.wait_for_timeout(250)  # let the other callbacks of this change finish before /timing
                record(name, out["ms"], callbacks)

            def key(slider, k, field, lo=None):
                return {"kind": "key", "selector": f"#{slider} [role=slider]", "key": k, "field": field,
                        **({} if lo is None else {"lo": lo})}

            n = args.repeats
            for _ in range(n):  # time: redraws the time course only
                measure("time slider, new time (cold)", key("hours", "ArrowRight", "hours"), ["tc-graph"], None,
                        ["time_course"])
            for i in range(n):
                measure("time slider, time seen before (warm)", key("hours", "ArrowLeft" if i % 2 == 0 else
                        "ArrowRight", "hours"), ["tc-graph"], None, ["time_course"])
            for _ in range(n):  # trametinib: time course + dose-response marker (its steady states do not change)
                measure("trametinib slider (new time course; dose-response cached)",
                        key("dose-a", "ArrowRight", "dose_a", -2.0), ["tc-graph", "dr-graph"], None,
                        ["time_course", "dose_response"])
            page.focus("#dose-b [role=slider]")  # leave the 0 nM stop of the SRC inhibitor first
            for _ in range(12):
                page.keyboard.press("ArrowRight")
            page.wait_for_timeout(1500)
            for _ in range(n):  # SRC inhibitor: time course + a new dose-response (10 steady states + 4PL fit)
                measure("src_inhibitor_1 slider (new time course + new dose-response)",
                        key("dose-b", "ArrowRight", "dose_b", 1.0), ["tc-graph", "dr-graph"], None,
                        ["time_course", "dose_response"])
            names = ["sos_feedback", "raf_feedback", "dusp_feedback", "fak_src_bypass"]
            off: set[str] = set()
            seen = {frozenset()}
            for i in range(2 * n):  # switches: all three panels
                name = names[i % len(names)]
                off ^= {name}
                label = ("switch flip, new combination (cold: all three panels computed)" if frozenset(off) not in seen
                         else "switch flip, combination seen before (warm)")
                seen.add(frozenset(off))
                measure(label, {"kind": "click", "selector": f"input[value={name}]"}, ALL, {"off": sorted(off)},
                        ["time_course", "dose_response", "matrix"])
            for line in ["S462_R1", "S462_R2", "ST8814", "S462TY", "S462_R3", "S462"]:  # all three panels
                page.click("#line")  # opens the list
                option = page.get_by_role("option", name=line, exact=True)
                option.wait_for()
                page.evaluate("() => { window.__t0 = performance.now(); }")
                option.click()  # the Playwright round trip (a few ms) is inside the figure
                out = page.evaluate(JS_WAIT, [ALL, {"cell_line": line}])
                if out < 0:
                    raise RuntimeError(f"the page never showed cell line {line}")
                page.wait_for_timeout(250)
                record("cell line (all three panels)", out, ["time_course", "dose_response", "matrix"])
            ctx.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    load_after = os.getloadavg()
    rows = []
    for name, values in results.items():
        med, worst = statistics.median(values), max(values)
        srv = statistics.median(server[name])
        status = "met" if med <= TARGET_MS else "**not met**"
        rows.append(f"| {name} | {len(values)} | {med:.0f} | {worst:.0f} | {srv:.0f} | ≤ {TARGET_MS:.0f} ms | "
                    f"{status} |")
    over = [f"{name} (max {max(v):.0f} ms)" for name, v in results.items() if max(v) > TARGET_MS]
    report = _section(args, browser_core, rows, first_load, start_s, load_before, load_after, load_samples, over)
    print(report)
    if not args.no_write:
        write_section(report, BEGIN, END)


def _machine() -> str:
    cpu, ram = "unknown", "unknown"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).strip()
        kib = int(re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
        ram = f"{kib / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    from importlib.metadata import version

    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {ram} RAM, Linux {platform.release()}; Python "
            f"{platform.python_version()}, dash {version('dash')}, playwright {version('playwright')}, {chromium}")


def _section(args, browser_core, rows, first_load, start_s, load_before, load_after, samples, over) -> str:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    option = f" --browser-core {browser_core}" if browser_core != args.core else ""
    cores = (f"server and browser on core {args.core}" if browser_core == args.core
             else f"server on core {args.core}, browser on core {browser_core}")
    return "\n".join([
        BEGIN,
        "## Teaching page (issue 17, item 3)",
        "",
        f"Command: `.venv/bin/python benchmarks/teach.py{option}` — {now}, commit `{commit}`; {cores} (taskset).",
        "",
        f"Machine: {_machine()}.",
        "",
        "Latency from a control change to the updated plots, measured in the page (event → every affected "
        "graph re-rendered with the new state, plus one frame): network + Dash + server compute + JSON + Plotly "
        "render. Server = the longest of the change's callbacks (they run concurrently and share one lock; compute + "
        "figure dicts), median. The rest is Dash and the browser: React, JSON, and Plotly re-rendering each graph.",
        "",
        "| Interaction | n | Median (ms) | Max (ms) | Server (ms) | Target | Status |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "- Status is judged on the median. Single interactions above 0.5 s: "
        + ("; ".join(over) + "." if over else "none."),
        f"- First page load to all three plots: {first_load:.2f} s (plotly.min.js is 4.8 MB, served locally); "
        f"`mekisim teach serve` start to the printed address: {start_s:.2f} s.",
        f"- Load average (1/5/15 min) before the run {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"1-min {min(samples):.2f}–{max(samples):.2f} during it, {load_after[0]:.2f}/{load_after[1]:.2f}/"
        f"{load_after[2]:.2f} after (this benchmark adds about 1).",
        "- The server's warm-up thread (each switch off alone at the default doses, every cell line) runs as a "
        "student would get it; the states measured here are mostly outside it (other doses, combinations).",
        END,
    ])


if __name__ == "__main__":
    main()
