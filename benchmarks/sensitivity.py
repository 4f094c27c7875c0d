"""Sensitivity throughput (issue 5): model evaluations per second for Sobol, N = 1024, on Model A, 1 and 2 workers.

Why: a Sobol analysis costs N(D + 2) model evaluations, so evaluations per second decide what N and how many
parameters are affordable. Design: Model A with the default ranges (every kinetic parameter log-uniform within
x/÷ 2 of its default; simulator.sensitivity_ranges.DEFAULT_RULE), Saltelli/Sobol' N = 1024 without second-order
indices. A *model evaluation* is one parameter vector -> the outputs of interest: 72 h viability and p-ERK
suppression of S462_R1 under trametinib 10 nM + SRC inhibitor 1 1 uM (fast readout mode: the treated and the
untreated steady state of that vector, 2 engine solves).

Measured through the public API, ``run_sensitivity(spec, out, workers=N)``, once per worker count:

* evaluation pass: the chunked ``run_chunks`` pass inside ``run_sensitivity`` (its ``ChunkRun.elapsed_s``;
  with 2 workers the spawn pool's start-up, about 1.5 s, is inside it);
* end to end: sampling, evaluation, the SALib analysis with bootstrap CIs, and every table written;
* the 1- and 2-worker indices are compared (they must be identical: same design, same seeds).

It writes its own section of ``benchmarks/RESULTS.md`` (between the ``sensitivity:begin``/``sensitivity:end``
markers; other sections are left alone) and records the machine load, because the 2 cores are shared.

    .venv/bin/python benchmarks/sensitivity.py            # full run (a few minutes), writes RESULTS.md
    .venv/bin/python benchmarks/sensitivity.py --quick    # smoke run (N = 8, < 30 s), prints only
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(ROOT))

import engine as _ENGINE  # noqa: E402  (benchmarks/engine.py: load recording, machine description)
from results_md import uncommitted, write_section  # noqa: E402  (benchmarks/ is sys.path[0] when run as a script)

from simulator import load_model  # noqa: E402
from simulator.sensitivity import (  # noqa: E402
    ReadoutAt,  # noqa: E402
    SensitivitySpec,
    default_ranges,  # noqa: E402
    run_sensitivity,
)

BEGIN, END = "<!-- sensitivity:begin -->", "<!-- sensitivity:end -->"

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
LINE, DOSES = "S462_R1", {"trametinib": 10.0, "src_inhibitor_1": 1000.0}
SIZES = {"full": 1024, "quick": 8}




def make_spec(n: int) -> SensitivitySpec:
    model = load_model("mpnst")
    space = default_ranges(model)
    outputs = (ReadoutAt("viability", LINE, DOSES), ReadoutAt("perk_suppression", LINE, DOSES))
    return SensitivitySpec(model, space, outputs, method="sobol", n=n, seed=1)


def timed(spec: SensitivitySpec, out: Path, workers: int) -> dict:
    import json

    t0 = time.perf_counter()
    result = run_sensitivity(spec, out, workers=workers, progress=False)
    total = time.perf_counter() - t0
    manifest = json.loads((out / "manifest.json").read_text())
    evaluation = manifest["timings_s"]["evaluation"]
    return {"result": result, "total": total, "evaluation": evaluation, "rows": result.rows,
            "failed": result.rows_failed, "rate": result.rows / evaluation, "rate_total": result.rows / total}


def run(n: int, folder: Path) -> dict:
    spec = make_spec(n)
    load = _ENGINE.Load()
    load.sample()
    pid = [os.getpid()]
    warm = make_spec(8)  # imports, model compile and SALib import outside the timed runs
    run_sensitivity(warm, folder / "warm", workers=1, progress=False)
    one = load.phase("1 worker", pid, lambda: timed(spec, folder / "w1", 1))
    two = load.phase("2 workers", pid, lambda: timed(spec, folder / "w2", 2))
    names = one["result"].columns["column"].tolist()[:2]  # output columns are named by their specs
    y1, y2 = (pd.read_parquet(folder / w / "evaluations.parquet")[names].to_numpy() for w in ("w1", "w2"))
    i1, i2 = (r["result"].indices["value"].to_numpy() for r in (one, two))
    same = {"y": float(abs(y1 - y2).max()), "index": float(abs(i1 - i2).max())}
    top = {}
    for key, frame in (("viability", names[0]), ("perk_suppression", names[1])):
        rank = one["result"].ranking
        top[key] = rank[(rank["column"] == frame) & (rank["rank"] <= 3)][["parameter", "value", "low", "high"]]
    return {"spec": spec, "one": one, "two": two, "same": same, "load": load.summary(), "top": top,
            "others_1w": load.others.get("1 worker", 0.0), "others_2w": load.others.get("2 workers", 0.0)}


def report(fig: dict, info: dict[str, str], command: str, date: str) -> str:
    spec, one, two = fig["spec"], fig["one"], fig["two"]
    d = len(spec.space.ranges)
    eff = two["rate"] / (2 * one["rate"])
    dirty = uncommitted()
    lines = [
        BEGIN,
        "## Sensitivity (issue 5)",
        "",
        f"Command: `{command}` — {date}, commit `{info['commit']}`"
        + (f" plus uncommitted changes in {dirty}." if dirty else "."),
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, {info['os']}; Python {info['python']}, "
        f"libroadrunner {info['roadrunner']}, numpy {info['numpy']}, pandas {pd.__version__}.",
        "",
        "| Figure | 1 worker | 2 workers |",
        "|---|---|---|",
        f"| Model evaluations (Sobol N = {spec.n}, D = {d}: N(D + 2)) | {one['rows']:,} | {two['rows']:,} |",
        f"| Evaluation pass (`run_chunks` inside `run_sensitivity`) | {one['evaluation']:.1f} s | "
        f"{two['evaluation']:.1f} s (pool start-up included) |",
        f"| **Model evaluations per second** | **{one['rate']:,.0f} /s** | **{two['rate']:,.0f} /s** "
        f"({two['rate'] / 2:,.0f} /s/core) |",
        f"| End to end (sampling, evaluation, SALib analysis + bootstrap, tables) | {one['total']:.1f} s → "
        f"{one['rate_total']:,.0f} /s | {two['total']:.1f} s → {two['rate_total']:,.0f} /s |",
        f"| Parallel efficiency, evaluation pass | — | {eff:.0%} |",
        f"| Failed or undefined evaluations | {one['failed']} | {two['failed']} |",
        "",
        f"- Design: Model A, default ranges ({d} parameters, each log-uniform on [p/2, 2p]), Saltelli/Sobol' "
        f"(`SALib.sample.sobol`, scrambled, seed 1), no second-order indices; outputs: 72 h viability and p-ERK "
        f"suppression of {LINE} under trametinib 10 nM + SRC inhibitor 1 1 µM (fast mode: per evaluation the "
        "treated and the untreated steady state, 2 engine solves, plus `make_condition` and the readout "
        "arithmetic). 1 worker runs in-process (`SerialExecutor`); 2 workers are a spawned `ProcessExecutor` "
        "started by `run_sensitivity` itself.",
        f"- 1 vs 2 workers: outputs differ by at most {fig['same']['y']:.1e} (percentage points / fraction), "
        f"indices by at most {fig['same']['index']:.1e} (same design and seeds; each process's solver lands on "
        "the root within its tolerance). Sobol ST, top 3 (1 worker): "
        + "; ".join(f"{k}: " + ", ".join(f"{r.parameter} {r.value:.2f} [{r.low:.2f}, {r.high:.2f}]"
                                         for r in t.itertuples()) for k, t in fig["top"].items()) + ".",
        f"- Load: {fig['load']}."
        + (" Other processes used more than 0.1 core during a timed phase: figures measured on a loaded machine are "
           "lower bounds of what an idle machine gives." if max(fig["others_1w"], fig["others_2w"]) > 0.1 else
           " The machine was otherwise idle during the timed phases.")
        + (f" Other processes used {fig['others_2w']:.2f} cores during the 2-worker phase, so the two workers had "
           f"about {max(0.0, 2 - fig['others_2w']):.1f} free cores between them: that efficiency is not a "
           "measurement of scaling." if fig["others_2w"] > 0.5 else ""),
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 8, prints only (< 30 s)")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=None,
                        help="write the section of benchmarks/RESULTS.md (default: yes, except with --quick)")
    args = parser.parse_args(argv)
    n = SIZES["quick" if args.quick else "full"]
    write = (not args.quick) if args.write is None else args.write
    command = ".venv/bin/python benchmarks/sensitivity.py" + (
        "".join(f" {a}" for a in sys.argv[1:]) if argv is None else "")
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mekisim-sensitivity-bench-") as tmp:
        fig = run(n, Path(tmp))
    section = report(fig, _ENGINE.machine(), command, date)
    print(section)
    print(f"total {time.perf_counter() - t0:.1f} s")
    if write:
        write_section(section, BEGIN, END, RESULTS)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":  # worker processes re-import this file; only the parent runs the benchmark
    raise SystemExit(main())
