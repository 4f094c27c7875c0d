"""Engine throughput on Model A (issue 2): steady states and time courses per second, 1 and 2 workers.

Why: the issue sets targets of >= 4,000 steady states/s/core, >= 1,000 time courses (0-24 h, 50 points)
/s/core and >= 40x a naive loop that loads the model for every condition. This script measures them
through the public API only (load_model, make_condition, steady_states, time_courses), compares with the
naive tellurium/roadrunner loop in the same run, and writes its own section of ``benchmarks/RESULTS.md``
(between the ``engine:begin``/``engine:end`` markers; other sections are left alone).

Every figure is the best of ``--repeats`` runs; the machine load is recorded because colleagues' tests may
share the 2 cores.

    .venv/bin/python benchmarks/engine.py            # full run (~1-2 min), writes RESULTS.md
    .venv/bin/python benchmarks/engine.py --quick    # smoke run (< 20 s), prints only
    .venv/bin/python benchmarks/engine.py --profile 2000   # cProfile of steady_states, prints only
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import cProfile
import datetime as dt
import multiprocessing as mp
import os
import platform
import pstats
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(ROOT))

from simulator import (  # noqa: E402
    load_cell_lines,
    load_drugs,
    load_model,
    make_condition,
    steady_states,
    time_courses,
)

MODEL = "mpnst"
LINES = ("S462", "S462_R1")
SRC_DOSES_NM = (0.0, 100.0, 1000.0, 10000.0)  # src_inhibitor_1 (cellular IC50 440 nM)
TIMES = np.linspace(0.0, 1440.0, 50)  # 0-24 h in model minutes
TARGET_SS, TARGET_TC, TARGET_SPEEDUP = 4000.0, 1000.0, 40.0
SIZES = {  # number of conditions per measurement
    "full": {"ss": 4000, "tc": 2000, "naive": 100, "naive_plain": 6, "chunks": 8},
    "quick": {"ss": 200, "tc": 100, "naive": 8, "naive_plain": 0, "chunks": 8},
}
from results_md import write_section  # noqa: E402  (benchmarks/ is sys.path[0] when run as a script)

BEGIN, END = "<!-- engine:begin -->", "<!-- engine:end -->"

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CONTENDED = 0.25  # cores used by other processes above which the run is flagged as contended
PROBE_S = 0.05  # sleep of a start-up probe task, so that idle workers share the probes

Spec = tuple[str, dict[str, float]]


def grid(n: int) -> list[Spec]:
    """``n`` conditions: 2 cell lines x a trametinib series (0.01 nM-1 uM, log) x SRC-inhibitor doses."""
    n_tram = max(1, n // (len(LINES) * len(SRC_DOSES_NM)))
    tram = np.logspace(-2, 3, n_tram)
    return [
        (line, {"trametinib": float(t), "src_inhibitor_1": s}) for line in LINES for s in SRC_DOSES_NM for t in tram
    ]


def build(model, specs: Sequence[Spec], drugs, lines) -> list:
    return [make_condition(model, line, doses, catalog=drugs, lines=lines) for line, doses in specs]


def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, list[float], object]:
    """(best seconds, all seconds, last result) of ``repeats`` calls of ``fn``."""
    runs, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return min(runs), runs, result


class Load:
    """Machine load: 1-minute load averages between phases, and the CPU other processes used per phase.

    "Others" = machine-wide busy CPU time (/proc/stat) minus this benchmark's processes (/proc/PID/stat),
    averaged over the phase's wall time, in cores. The load average includes this benchmark itself.
    ``own`` keeps the CPU seconds this benchmark's processes (``pids``, live and reaped children) used per phase:
    against the phase's wall time it tells how busy a pool kept the cores.
    """

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []
        self.others: dict[str, float] = {}
        self.own: dict[str, float] = {}

    def sample(self) -> None:
        self.samples.append(os.getloadavg())

    @staticmethod
    def _jiffies(pids: Sequence[int]) -> tuple[int, int]:
        """Machine-wide busy jiffies, and those of ``pids``, this process's live children and its reaped ones.

        A pool worker that exits during a phase (a pool shut down by ``run_screen`` or ``run_sensitivity``)
        disappears from /proc; its CPU time moves into its parent's cutime/cstime, so it is still counted as ours.
        A pool shut down without waiting (``ProcessExecutor.close``) may still be running when a phase ends: it is
        found as a live child.
        """
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7))  # user nice system irq softirq steal
        own = 0
        me = os.getpid()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                rest = (entry / "stat").read_text().rpartition(")")[2].split()
                if int(entry.name) in pids or int(rest[1]) == me:  # listed, or a child of this process
                    own += int(rest[11]) + int(rest[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        try:
            rest = Path(f"/proc/{os.getpid()}/stat").read_text().rpartition(")")[2].split()
            own += int(rest[13]) + int(rest[14])  # cutime, cstime: children joined so far
        except (OSError, IndexError, ValueError):
            pass
        return busy, own

    def phase(self, name: str, pids: Sequence[int], fn: Callable[[], object]) -> object:
        """Run ``fn`` and record the cores other processes used meanwhile."""
        try:
            b0, o0 = self._jiffies(pids)
        except OSError:
            return fn()
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
        b1, o1 = self._jiffies(pids)
        tick = os.sysconf("SC_CLK_TCK")
        self.others[name] = max(0.0, (b1 - b0) - (o1 - o0)) / tick / max(wall, 1e-9)
        self.own[name] = (o1 - o0) / tick
        self.sample()
        return result

    def summary(self) -> str:
        one = [s[0] for s in self.samples]
        first, last = self.samples[0], self.samples[-1]
        text = (
            f"1-min load average before the run {first[0]:.2f}/{first[1]:.2f}/{first[2]:.2f} (1/5/15 min), "
            f"{min(one):.2f}-{max(one):.2f} over {len(one)} samples during it (this benchmark adds 1 in-process, "
            f"2 with the pool), {last[0]:.2f}/{last[1]:.2f}/{last[2]:.2f} at the end"
        )
        if self.others:
            text += "; CPU used by other processes during the timed phases (cores): " + ", ".join(
                f"{k} {v:.2f}" for k, v in self.others.items()
            )
        return text


# ----------------------------------------------------------------------------------------------- workers

_WORKER: dict = {}


def _init_worker(ss_specs: list[Spec], tc_specs: list[Spec]) -> None:
    """Pool initializer: load the model and build the conditions once per worker process.

    Conditions are built once per worker from plain specs, so only chunk bounds cross the process boundary
    in the timed region. The first steady state / time course compiles the worker's RoadRunner.
    """
    model = load_model(MODEL)
    drugs, lines = load_drugs(), load_cell_lines()
    _WORKER.update(model=model, ss=build(model, ss_specs, drugs, lines), tc=build(model, tc_specs, drugs, lines))
    steady_states(model, _WORKER["ss"][:1])
    time_courses(model, TIMES, _WORKER["tc"][:1])


def _ready(_: int) -> int:
    time.sleep(PROBE_S)  # long enough that each worker takes one of the start-up probes
    return os.getpid()


def _ss_chunk(bounds: tuple[int, int]) -> list:
    return steady_states(_WORKER["model"], _WORKER["ss"][bounds[0] : bounds[1]])


def _tc_chunk(bounds: tuple[int, int]) -> list:
    return time_courses(_WORKER["model"], TIMES, _WORKER["tc"][bounds[0] : bounds[1]])


def chunks(n: int, k: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


# ------------------------------------------------------------------------------------------- naive loop


class _Moieties:
    """Compile with conserved-moiety analysis (roadrunner.Config, process-global) inside the block.

    Without it NLEQ2 on Model A presimulates for ~0.6 s per condition and lands on a root that breaks
    integrin conservation; a competent naive user would switch it on, so the baseline does too.
    """

    def __init__(self, on: bool) -> None:
        import roadrunner

        self.rr, self.on = roadrunner, on

    def __enter__(self) -> None:
        key = self.rr.Config.LOADSBMLOPTIONS_CONSERVED_MOIETIES
        self.old = self.rr.Config.getValue(key)
        self.rr.Config.setValue(key, self.on)

    def __exit__(self, *exc: object) -> None:
        self.rr.Config.setValue(self.rr.Config.LOADSBMLOPTIONS_CONSERVED_MOIETIES, self.old)


def naive_steady(loader: Callable[[], object], conditions: Sequence, ids: Sequence[str]) -> np.ndarray:
    """Load the model per condition, set the cell line and doses, steadyState(), read the observables."""
    out = np.full((len(conditions), len(ids)), np.nan)
    for i, cond in enumerate(conditions):
        r = loader()
        for key, value in cond.values.items():
            r[key] = value
        r.reset()  # re-evaluate initial assignments (totals) after the cell-line overrides
        try:
            r.steadyState()
        except RuntimeError:
            continue
        out[i] = [r[o] for o in ids]
    return out


def naive_course(loader: Callable[[], object], conditions: Sequence, ids: Sequence[str]) -> np.ndarray:
    """Load per condition, steadyState() untreated, add the dose, simulate 0..1440 with 50 points."""
    out = np.full((len(conditions), TIMES.size, len(ids)), np.nan)
    for i, cond in enumerate(conditions):
        r = loader()
        for key, value in cond.untreated.items():
            r[key] = value
        r.reset()
        try:
            r.steadyState()
            for drug, dose in cond.doses.items():
                r[drug] = dose
            r.timeCourseSelections = list(ids)
            out[i] = np.asarray(r.simulate(float(TIMES[0]), float(TIMES[-1]), TIMES.size))
        except RuntimeError:
            continue
    return out


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Max |a - b| relative to each observable's (last axis) largest |b|: tolerance-level noise near 0 is not
    inflated (CVODE's atol makes values ~1e-7 differ by a few % between integrators)."""
    if not np.isfinite(a).any():
        return float("nan")
    scale = np.maximum(np.abs(b).reshape(-1, b.shape[-1]).max(axis=0), 1e-12)
    return float(np.nanmax(np.abs(a - b) / scale))


# ------------------------------------------------------------------------------------------------ machine


def machine() -> dict[str, str]:
    import roadrunner
    import tellurium

    cpu = "unknown"
    ram = "unknown"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).strip()
        kib = int(re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
        ram = f"{kib / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "roadrunner": roadrunner.__version__,
        "tellurium": tellurium.__version__,
        "numpy": np.__version__,
        "os": f"{platform.system()} {platform.release()}",
        "commit": commit,
    }


# ------------------------------------------------------------------------------------------------ running


def run(size: dict[str, int], repeats: int) -> dict:
    """All measurements; returns the figures for the report."""
    import roadrunner
    import tellurium as te

    load = Load()
    load.sample()
    fig: dict = {"size": size, "repeats": repeats}

    t0 = time.perf_counter()
    model = load_model(MODEL)
    fig["load_model_s"] = time.perf_counter() - t0
    drugs, lines = load_drugs(), load_cell_lines()
    ss_specs, tc_specs = grid(size["ss"]), grid(size["tc"])

    # condition construction (catalogue loaded once and passed)
    t_build, _, ss_conds = best_of(repeats, lambda: build(model, ss_specs, drugs, lines))
    fig["build_us"] = 1e6 * t_build / len(ss_conds)
    tc_conds = build(model, tc_specs, drugs, lines)
    t0 = time.perf_counter()
    steady_states(model, ss_conds[:1])  # compiles this process's RoadRunner
    fig["first_call_s"] = time.perf_counter() - t0
    time_courses(model, TIMES, tc_conds[:1])
    load.sample()

    # 1 worker, in-process
    me = [os.getpid()]
    t_ss1, runs, ss1 = load.phase("ss 1w", me, lambda: best_of(repeats, lambda: steady_states(model, ss_conds)))
    fig["ss1"] = (len(ss_conds) / t_ss1, runs, statuses(ss1), len(ss_conds))
    t_tc1, runs, tc1 = load.phase("tc 1w", me, lambda: best_of(repeats, lambda: time_courses(model, TIMES, tc_conds)))
    fig["tc1"] = (len(tc_conds) / t_tc1, runs, statuses(tc1), len(tc_conds))

    # 2 workers; spawn, so each worker compiles its own RoadRunner from the SBML (no inherited handles)
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(
        2, mp_context=mp.get_context("spawn"), initializer=_init_worker, initargs=(ss_specs, tc_specs)
    ) as pool:
        pids: set[int] = set()
        while len(pids) < 2:  # until both workers have run their initializer and answered
            pids |= set(pool.map(_ready, range(2)))
            if time.perf_counter() - t0 > 120:
                break
        fig["pool_start_s"] = time.perf_counter() - t0
        fig["pool_pids"] = len(pids)
        ss_chunks, tc_chunks = chunks(len(ss_conds), size["chunks"]), chunks(len(tc_conds), size["chunks"])

        def ss_pool() -> list:
            return [r for part in pool.map(_ss_chunk, ss_chunks) for r in part]

        def tc_pool() -> list:
            return [r for part in pool.map(_tc_chunk, tc_chunks) for r in part]

        ours = [os.getpid(), *pids]
        t_ss2, runs, ss2 = load.phase("ss 2w", ours, lambda: best_of(repeats, ss_pool))
        fig["ss2"] = (len(ss_conds) / t_ss2, runs, statuses(ss2), len(ss_conds))
        t_tc2, runs, tc2 = load.phase("tc 2w", ours, lambda: best_of(repeats, tc_pool))
        fig["tc2"] = (len(tc_conds) / t_tc2, runs, statuses(tc2), len(tc_conds))
    fig["ss_same"] = all(np.array_equal(a.values, b.values) for a, b in zip(ss1, ss2, strict=True))
    fig["tc_same"] = all(np.array_equal(a.values, b.values) for a, b in zip(tc1, tc2, strict=True))

    # naive loops on an evenly spread subset
    ids = model.observable_ids
    ss_sub = ss_conds[:: max(1, len(ss_conds) // size["naive"])][: size["naive"]]
    tc_sub = tc_conds[:: max(1, len(tc_conds) // size["naive"])][: size["naive"]]
    ours_ss = np.array([r.values for r in steady_states(model, ss_sub)])
    ours_tc = np.array([r.values for r in time_courses(model, TIMES, tc_sub)])
    antimony_text = (ROOT / "models" / f"{MODEL}.ant").read_text(encoding="utf-8")
    loaders = {
        "te.loada": lambda: te.loada(antimony_text),
        "RoadRunner(sbml)": lambda: roadrunner.RoadRunner(model.sbml),
    }
    fig["naive"] = {}
    with _Moieties(True):
        for name, loader in loaders.items():
            t_s, runs_s, vals_s = load.phase(
                f"naive {name} ss",
                me,
                lambda loader=loader: best_of(repeats, lambda: naive_steady(loader, ss_sub, ids)),
            )
            t_c, runs_c, vals_c = load.phase(
                f"naive {name} tc",
                me,
                lambda loader=loader: best_of(repeats, lambda: naive_course(loader, tc_sub, ids)),
            )
            fig["naive"][name] = {
                "ss_ms": 1e3 * t_s / len(ss_sub),
                "tc_ms": 1e3 * t_c / len(tc_sub),
                "ss_runs": runs_s,
                "tc_runs": runs_c,
                "ss_diff": max_rel_diff(vals_s, ours_ss),
                "tc_diff": max_rel_diff(vals_c, ours_tc),
                "ss_failed": int(np.isnan(vals_s).any(axis=1).sum()),
                "tc_failed": int(np.isnan(vals_c).any(axis=(1, 2)).sum()),
            }
    if size["naive_plain"]:
        plain = ss_sub[:: max(1, len(ss_sub) // size["naive_plain"])][: size["naive_plain"]]  # both lines
        with _Moieties(False):
            t_p, _, vals_p = best_of(1, lambda: naive_steady(lambda: te.loada(antimony_text), plain, ids))
        fig["naive_plain"] = {
            "ss_ms": 1e3 * t_p / len(plain),
            "n": len(plain),
            "ss_diff": max_rel_diff(vals_p, np.array([r.values for r in steady_states(model, plain)])),
        }
        load.sample()
    fig["naive_n"] = (len(ss_sub), len(tc_sub))
    fig["load"] = load.summary()
    fig["others"] = dict(load.others)
    return fig


def statuses(records: Sequence) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.status] = out.get(r.status, 0) + 1
    return out


# ------------------------------------------------------------------------------------------------ report


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _runs(runs: Sequence[float], unit: str = "s") -> str:
    return ", ".join(f"{x:.3g}" for x in runs) + f" {unit}"


def report(fig: dict, info: dict[str, str], command: str, date: str) -> str:
    ss1, ss2, tc1, tc2 = fig["ss1"][0], fig["ss2"][0], fig["tc1"][0], fig["tc2"][0]
    us_ss, us_tc = 1e3 / ss1, 1e3 / tc1  # ms per condition, 1 worker
    te_n, rr_n = fig["naive"]["te.loada"], fig["naive"]["RoadRunner(sbml)"]
    n_ss, n_tc = fig["ss1"][3], fig["tc1"][3]
    all_ok = all(fig[k][2] == {"ok": fig[k][3]} for k in ("ss1", "ss2", "tc1", "tc2"))
    rows = [
        (
            "Steady states/s, 1 worker (in-process)",
            f"{ss1:,.0f} /s ({us_ss:.3f} ms each)",
            _runs(fig["ss1"][1]),
            f"≥ {TARGET_SS:,.0f} /s/core",
            _met(ss1 >= TARGET_SS),
        ),
        (
            "Steady states/s, 2 workers (process pool)",
            f"{ss2:,.0f} /s = {ss2 / 2:,.0f} /s/core",
            _runs(fig["ss2"][1]),
            f"≥ {TARGET_SS:,.0f} /s/core",
            _met(ss2 / 2 >= TARGET_SS),
        ),
        ("Parallel efficiency, steady states", f"{ss2 / (2 * ss1):.0%}", "", "—", "—"),
        (
            "Time courses/s, 1 worker (in-process)",
            f"{tc1:,.0f} /s ({us_tc:.3f} ms each)",
            _runs(fig["tc1"][1]),
            f"≥ {TARGET_TC:,.0f} /s/core",
            _met(tc1 >= TARGET_TC),
        ),
        (
            "Time courses/s, 2 workers (process pool)",
            f"{tc2:,.0f} /s = {tc2 / 2:,.0f} /s/core",
            _runs(fig["tc2"][1]),
            f"≥ {TARGET_TC:,.0f} /s/core",
            _met(tc2 / 2 >= TARGET_TC),
        ),
        ("Parallel efficiency, time courses", f"{tc2 / (2 * tc1):.0%}", "", "—", "—"),
    ]
    for name, naive in (("te.loada", te_n), ("RoadRunner(sbml)", rr_n)):
        sp_ss, sp_tc = naive["ss_ms"] / us_ss, naive["tc_ms"] / us_tc
        rows += [
            (f"Naive loop `{name}` per steady state", f"{naive['ss_ms']:.2f} ms", _runs(naive["ss_runs"]), "—", "—"),
            (
                f"Speed-up over naive `{name}`, steady states",
                f"{sp_ss:,.0f}×",
                "",
                f"≥ {TARGET_SPEEDUP:.0f}×",
                _met(sp_ss >= TARGET_SPEEDUP),
            ),
            (f"Naive loop `{name}` per time course", f"{naive['tc_ms']:.2f} ms", _runs(naive["tc_runs"]), "—", "—"),
            (
                f"Speed-up over naive `{name}`, time courses",
                f"{sp_tc:,.0f}×",
                "",
                f"≥ {TARGET_SPEEDUP:.0f}×",
                _met(sp_tc >= TARGET_SPEEDUP),
            ),
        ]
    rows += [
        ("`make_condition` per condition (catalogue passed)", f"{fig['build_us']:.1f} µs", "", "—", "—"),
        ("`load_model('mpnst')` (Antimony → SBML → CompiledModel)", f"{fig['load_model_s']:.3f} s", "", "—", "—"),
        ("First `steady_states` call (compiles the RoadRunner)", f"{fig['first_call_s']:.3f} s", "", "—", "—"),
        (
            "Pool start-up, 2 spawned workers (load + compile + build conditions)",
            f"{fig['pool_start_s']:.2f} s",
            "",
            "not timed",
            "—",
        ),
    ]
    table = [
        "| Figure | Measured (best of {}) | Runs | Target | Status |".format(fig["repeats"]),
        "|---|---|---|---|---|",
    ]
    table += ["| " + " | ".join(r) + " |" for r in rows]

    notes = [
        f"- Conditions: cell lines {' and '.join(LINES)} × trametinib 0.01 nM–1 µM (log-spaced) × "
        f"src_inhibitor_1 {', '.join(f'{d:g}' for d in SRC_DOSES_NM)} nM; {n_ss:,} steady states, {n_tc:,} time "
        f"courses (0–1440 min, 50 points; `time_courses` pre-equilibrates each of the {len(LINES)} untreated "
        "cell lines once per call, then adds the drug). Conditions are built once with `make_condition` and "
        "their construction is not in the timed region.",
        f"- Statuses: all `ok` = {'yes' if all_ok else 'NO'} "
        f"(1 worker: {fig['ss1'][2]} / {fig['tc1'][2]}; 2 workers: {fig['ss2'][2]} / {fig['tc2'][2]}); "
        f"2-worker results bit-identical to 1-worker: steady states {fig['ss_same']}, time courses {fig['tc_same']}.",
        f"- 2 workers: `ProcessPoolExecutor(2)` (spawn; {fig['pool_pids']} distinct worker processes); the "
        "initializer loads the model, builds the conditions once from plain specs (only chunk bounds are sent "
        f"in the timed region) and compiles the RoadRunner; the work is mapped as {fig['size']['chunks']} "
        "chunks calling `steady_states`/`time_courses`, "
        "records pickled back. Pool start-up is excluded from the timed region.",
        f"- Naive loops on {fig['naive_n'][0]} / {fig['naive_n'][1]} evenly spread conditions: per condition load "
        "the model (`te.loada(antimony)` or `roadrunner.RoadRunner(sbml)`, compiled with conserved-moiety "
        "analysis), set the cell-line values and doses, `reset()`, `steadyState()`; time courses: steady state "
        "untreated, add the dose, `simulate(0, 1440, 50)`. Max difference from our results (relative to each "
        "observable's largest value): "
        f"`te.loada` {te_n['ss_diff']:.1e} (steady states) / {te_n['tc_diff']:.1e} (time courses), "
        f"`RoadRunner(sbml)` {rr_n['ss_diff']:.1e} / {rr_n['tc_diff']:.1e}; failed naive solves: "
        f"{te_n['ss_failed'] + rr_n['ss_failed']} / {te_n['tc_failed'] + rr_n['tc_failed']}. "
        "Speed-up = naive ms per condition / our ms per condition (1 worker, both excluding condition construction).",
    ]
    if "naive_plain" in fig:
        p = fig["naive_plain"]
        notes.append(
            f"- Without conserved-moiety analysis the naive `te.loada` loop takes {p['ss_ms']:.0f} ms per steady "
            f"state (NLEQ2 falls back to presimulation) and deviates by up to {p['ss_diff']:.1%} from ours "
            f"(a root that violates the integrin total in S462_R1; biology, not tolerance) — measured on {p['n']} "
            "conditions of both lines, once."
        )
    notes.append(f"- Load: {fig['load']}.")
    busiest = max(fig["others"].values(), default=0.0)
    if busiest > CONTENDED:
        notes.insert(
            0,
            f"- **Contended run**: other processes used up to {busiest:.2f} of {info['nproc']} cores during the "
            "timed phases, so the figures (the 2-worker ones most) understate an idle machine; rerun when idle.",
        )
    head = [
        BEGIN,
        "## Engine (issue 2)",
        "",
        f"Command: `{command}` — {date}, commit `{info['commit']}`.",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, {info['os']}; Python {info['python']}, "
        f"libroadrunner {info['roadrunner']}, tellurium {info['tellurium']}, numpy {info['numpy']}.",
        "",
    ]
    return "\n".join([*head, *table, "", *notes, END]) + "\n"


def profile(n: int) -> None:
    """Print a cProfile of ``steady_states`` on ``n`` conditions (warm RoadRunner)."""
    model = load_model(MODEL)
    conds = build(model, grid(n), load_drugs(), load_cell_lines())
    steady_states(model, conds[:1])
    prof = cProfile.Profile()
    prof.enable()
    records = steady_states(model, conds)
    prof.disable()
    print(f"{len(records)} steady states, statuses {statuses(records)}")
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke run (< 20 s)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure, best kept (default 3; quick 2)")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the section of benchmarks/RESULTS.md (default: yes, except with --quick)",
    )
    parser.add_argument("--profile", type=int, metavar="N", help="only profile steady_states on N conditions")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    size = SIZES["quick" if args.quick else "full"]
    repeats = args.repeats or (2 if args.quick else 3)
    write = (not args.quick) if args.write is None else args.write
    command = ".venv/bin/python benchmarks/engine.py" + ("".join(f" {a}" for a in sys.argv[1:]) if argv is None else "")
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t0 = time.perf_counter()
    fig = run(size, repeats)
    section = report(fig, machine(), command, date)
    print(section)
    print(f"total {time.perf_counter() - t0:.1f} s")
    if write:
        write_section(section, BEGIN, END, RESULTS)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
