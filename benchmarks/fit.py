"""Fitting benchmark (issue 18 item 6): exact gradients vs central differences, side by side in one run.

Why: a fitter is only as good as the fraction of its starts that reach the best known optimum J* (Grein et al.
2026, ``shared/benchmarks/petab/REFERENCE.md``) and the time that costs. Per problem (Fiedler_BMCSystBiol2016,
Boehm_JProteomeRes2014, Fujita_SciSignal2010) this runs ``simulator.fit.fit_petab`` from the same N
Latin-hypercube starts (seeded) with each method and reports the fraction of starts within 0.1 and within 1.92
of J*, the median wall and CPU time per start (both measured inside the worker: ``StartResult.time_s`` and
``cpu_s``), the CPU-seconds per start that reaches J* + 1.92 (the summed CPU time of all starts / the solved starts;
the wall times grow with the machine's load, the CPU times hardly), and median evaluation counts. Methods:

* ``exact``: this tree, ``FitSettings(gradient="exact")``: forward sensitivities of the augmented model;
* ``fd``: this tree, ``gradient="fd"``: central differences on the same (vectorised) inner problem;
* ``baseline``: today's fitter before issue 18 (``--baseline-commit``), exported by ``git archive`` and run in a
  subprocess: central differences and per-row formula evaluation.

It writes its own section of ``benchmarks/RESULTS.md`` (between the ``fit:begin``/``fit:end`` markers).

    .venv/bin/python benchmarks/fit.py                      # 50 starts x 3 problems x 3 methods (hours)
    .venv/bin/python benchmarks/fit.py --problems Fiedler_BMCSystBiol2016 --starts 10
    .venv/bin/python benchmarks/fit.py --quick              # Boehm, 1 short start, exact only, prints only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.fit import OPTIMIZERS, THRESHOLD_95, FitResult, FitSettings, fit_petab  # noqa: E402
from simulator.parallel import ProcessExecutor, SerialExecutor  # noqa: E402

PETAB = ROOT.parent / "shared" / "benchmarks" / "petab"
PROBLEMS = ("Fiedler_BMCSystBiol2016", "Boehm_JProteomeRes2014", "Fujita_SciSignal2010")
#: best known optima (REFERENCE.md, Grein et al. 2026) and Fujita's nominal local optimum (AMICI)
J_STAR = {"Fiedler_BMCSystBiol2016": -58.58395532491055, "Boehm_JProteomeRes2014": 138.2219681969045,
          "Fujita_SciSignal2010": -66.58102322492203}
FUJITA_LOCAL = -53.08377736998929
HIT = 0.1
SEED = 0
import engine as engine_benchmark  # noqa: E402  (benchmarks/engine.py: machine description)
from results_md import write_section  # noqa: E402  (benchmarks/ is sys.path[0] when run as a script)

BEGIN, END = "<!-- fit:begin -->", "<!-- fit:end -->"

RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def yaml_of(name: str) -> Path:
    return PETAB / name / f"{name}.yaml"


def ours(name: str, starts: int, workers: int, max_nfev: int, gradient: str = "exact",
         optimizer: str = FitSettings().optimizer,
         max_time_s: float = FitSettings().max_time_s) -> tuple[FitResult, float]:
    executor = ProcessExecutor(workers) if workers > 1 else SerialExecutor()
    with executor:
        t0 = time.perf_counter()
        result = fit_petab(yaml_of(name), starts=starts, seed=SEED, executor=executor,
                           settings=FitSettings(max_nfev=max_nfev, gradient=gradient, optimizer=optimizer,
                                                max_time_s=max_time_s))
        return result, time.perf_counter() - t0


_BASELINE_SCRIPT = """
import json, resource, sys, time
from simulator.fit import FitSettings, fit_petab
from simulator.parallel import ProcessExecutor, SerialExecutor
yaml = sys.argv[1]
starts, seed, workers, max_nfev = (int(a) for a in sys.argv[2:6])
executor = ProcessExecutor(workers) if workers > 1 else SerialExecutor()
with executor:
    t0 = time.perf_counter()
    r = fit_petab(yaml, starts=starts, seed=seed, executor=executor, settings=FitSettings(max_nfev=max_nfev))
    wall = time.perf_counter() - t0
children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers, after they ended
print(json.dumps({"wall": wall, "pool_cpu": children.ru_utime + children.ru_stime,
      "starts": [{"start": s.start, "ok": s.ok, "nllh": s.nllh, "time_s": s.time_s,
      "cpu_s": getattr(s, "cpu_s", float("nan")), "n_fev": s.n_fev, "n_jev": s.n_jev, "n_solves": s.n_solves,
      "resampled": s.resampled} for s in r.starts]}))
"""


def baseline(name: str, starts: int, workers: int, max_nfev: int, commit: str) -> tuple[list[dict], float, float]:
    """Today's fitter (central differences, per-row formulas) at ``commit``, run from an exported tree.

    Why a subprocess on an exported tree: "today's central differences" means the code before the exact gradients
    and the vectorised inner problem, measured in the same run on the same machine as the new code. That fitter
    does not record CPU time per start, so the third value is the CPU time of its worker pool as
    ``RUSAGE_CHILDREN`` reports it (start-up included: an upper bound; serial runs: NaN). It read 0 in the issue-18
    run (the workers had not been reaped yet), which :func:`our_stats` reports as not measured.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mekisim-baseline-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "simulator"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = dict(os.environ, PYTHONPATH=tmp)
        out = subprocess.run([sys.executable, "-c", _BASELINE_SCRIPT, str(yaml_of(name)), str(starts), str(SEED),
                              str(workers), str(max_nfev)], cwd=tmp, env=env, check=True, capture_output=True,
                             text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["starts"], data["wall"], data["pool_cpu"] if workers > 1 else math.nan


def stats(nllh: np.ndarray, times: np.ndarray, j_star: float) -> dict:
    """Hit fraction, median time, time to first hit (start order)."""
    hits = nllh <= j_star + HIT
    first = int(np.argmax(hits)) if hits.any() else None
    return {"n": nllh.size, "hits": int(hits.sum()), "solved": int((nllh <= j_star + THRESHOLD_95).sum()),
            "best": float(np.nanmin(nllh)) if np.isfinite(nllh).any() else math.inf,
            "median_time": float(np.median(times)),
            "first_hit_time": float(times[: first + 1].sum()) if first is not None else None,
            "first_hit_start": first}


def our_stats(result: FitResult | list[dict], name: str, pool_cpu: float = math.nan) -> dict:
    """Figures of one method's run; ``pool_cpu``: the workers' total CPU time when the starts did not record theirs."""
    starts = result if isinstance(result, list) else [
        {"start": s.start, "ok": s.ok, "nllh": s.nllh, "time_s": s.time_s, "cpu_s": s.cpu_s, "n_fev": s.n_fev,
         "n_jev": s.n_jev, "n_solves": s.n_solves, "resampled": s.resampled, "status": str(s.status)}
        for s in result.starts]
    by_start = sorted(starts, key=lambda s: s["start"])
    nllh = np.array([s["nllh"] if s["ok"] else math.inf for s in by_start])
    times = np.array([s["time_s"] for s in by_start])
    out = stats(nllh, times, J_STAR[name])
    solved = int((nllh <= J_STAR[name] + THRESHOLD_95).sum())
    cpu = np.array([s.get("cpu_s", math.nan) for s in by_start], dtype=float)
    recorded = bool(np.isfinite(cpu).all())
    # a pool total of 0 means the workers had not been reaped when it was read (RUSAGE_CHILDREN counts waited-for
    # children only): not measured, never a 0-second figure
    total_cpu = float(cpu.sum()) if recorded else pool_cpu if pool_cpu > 0 else math.nan
    out.update(failed=sum(not s["ok"] for s in by_start),
               budget=sum(s.get("status") == "budget" for s in by_start),
               resampled=sum(s["resampled"] for s in by_start),
               fev=float(np.median([s["n_fev"] for s in by_start])),
               jev=float(np.median([s["n_jev"] for s in by_start])),
               solves=float(np.median([s["n_solves"] for s in by_start])),
               hit_starts=[s["start"] for s in by_start if s["ok"] and s["nllh"] <= J_STAR[name] + HIT],
               local=int(np.sum(np.abs(nllh - FUJITA_LOCAL) < HIT)),
               total_time=float(times.sum()),
               per_solved=float(times.sum() / solved) if solved else None,
               median_cpu=float(np.median(cpu)) if recorded else None, total_cpu=total_cpu, cpu_is_pool=not recorded,
               cpu_per_solved=total_cpu / solved if solved and math.isfinite(total_cpu) else None,
               nllh_by_start=[float(v) for v in nllh])
    return out


METHOD_LABEL = {"exact": "exact gradients (forward sensitivities) + vectorised inner problem",
                "fd": "central differences + vectorised inner problem",
                "baseline": "today's fitter (central differences, per-row formulas)"}


def _ratio(baseline: dict, new: dict) -> str:
    """'3.6× cheaper' or '2.4× more expensive' (median time per start)."""
    r = baseline["median_time"] / new["median_time"]
    return f"{r:.2f}× cheaper" if r >= 1 else f"{1 / r:.2f}× more expensive"


def _per_solved(o: dict) -> str:
    return f"{o['per_solved']:.1f} s" if o["per_solved"] is not None else "— (none solved)"


def _cpu(o: dict) -> tuple[str, str]:
    """(median CPU-s per start, CPU-s per solved start) cells; a pool total is marked (see :func:`baseline`)."""
    median = f"{o['median_cpu']:.2f} s" if o.get("median_cpu") is not None else "—"
    if o.get("cpu_per_solved") is None:
        per = "— (none solved)" if not o["solved"] else "—"
    else:
        per = f"{o['cpu_per_solved']:.1f} s" + (" (pool)" if o.get("cpu_is_pool") else "")
    return median, per


def report(rows: dict, info: dict, command: str, date: str, starts: dict, workers: int, total: float,
           max_nfev: dict, methods: Sequence[str], baseline_commit: str, load: tuple, optimizer: str = "trf") -> str:
    head = [BEGIN, "## Fitting (issue 18 item 6): exact gradients vs central differences, side by side", "",
            f"Command: `{command}` — {date}, commit `{info['commit']}`; baseline = `{baseline_commit}` exported with "
            "`git archive` and run in a subprocess in the same run. Load average at the start "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min): the 2 cores were shared with another "
            "helper's jobs, so the times carry that noise.", "",
            f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, {info['os']}; "
            f"Python {info['python']}, libroadrunner {info['roadrunner']}.", "",
            f"Latin-hypercube starts (seed {SEED}, the same points for every method), {workers}-worker process "
            f"pool, `FitSettings(optimizer={optimizer!r})` (the baseline: its own trf), defaults otherwise "
            "(ftol = xtol = gtol = 1e-10 for trf, CVODE rtol 1e-10 / atol 1e-12, hierarchical inner problem for "
            f"scales/offsets/sigmas). Hit = final nllh within {HIT} of J*; solved = within {THRESHOLD_95:.2f}. Wall "
            "and CPU time per start are measured inside the worker; \"per solved start\" = the summed time of all "
            "starts / the number of solved starts (the cost of one start that reaches J* + 1.92). The baseline does "
            "not record CPU per start: its CPU column is its worker pool's total (start-up included), marked "
            "(pool).", "",
            "| problem | J* | method | starts (max fevals) | best nllh | hits ≤ J*+0.1 | solved ≤ J*+1.92 | "
            "median wall / CPU per start | wall-s / CPU-s per solved start | median fevals / Jacobians / ODE solves "
            "| failed |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    table, notes = [], []
    for name, row in rows.items():
        for k, method in enumerate(methods):
            o = row[method]
            table.append(f"| {name if not k else ''} | {J_STAR[name]:.4f} | {METHOD_LABEL[method]} | "
                         f"{o['n']} ({max_nfev[name]}) | {o['best']:.4f} | {o['hits']}/{o['n']} | "
                         f"{o['solved']}/{o['n']} "
                         f"| {o['median_time']:.2f} s / {_cpu(o)[0]} | {_per_solved(o)} / {_cpu(o)[1]} "
                         f"| {o['fev']:.0f} / {o['jev']:.0f} / "
                         f"{o['solves']:.0f} | {o['failed']} |")
        if "baseline" in row and "exact" in row:
            b, e = row["baseline"], row["exact"]
            notes.append(f"- {name}: median start with exact gradients {_ratio(b, e)} than with today's central "
                         "differences"
                         + (f"; central differences on the new inner problem: {_ratio(b, row['fd'])}" if "fd" in row
                            else "")
                         + f". Hits: exact {e['hit_starts'] or 'none'}, baseline {b['hit_starts'] or 'none'}"
                         + (f", fd {row['fd']['hit_starts'] or 'none'}" if "fd" in row else "") + ".")
        if name.startswith("Fujita"):
            for method in methods:
                o = row[method]
                notes.append(f"- Fujita ({method}): {o['hits']} of {o['n']} starts reached −66.58 (±0.1) within "
                             f"{max_nfev[name]} residual evaluations per start; {o['local']} stopped near the "
                             f"nominal local optimum −53.08; best {o['best']:.4f}.")
    notes.append(f"- Total benchmark time {total / 60:.1f} min.")
    return "\n".join([*head, *table, "", *notes, END]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", default="50", help="starts per problem: N, or name=N,... (e.g. "
                        "Fiedler_BMCSystBiol2016=10,Boehm_JProteomeRes2014=6)")
    parser.add_argument("--workers", type=int, default=min(2, len(os.sched_getaffinity(0))))
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--methods", default="exact,fd,baseline",
                        help="exact, fd (this tree, gradient='exact'/'fd'), baseline (--baseline-commit)")
    parser.add_argument("--optimizer", default=FitSettings().optimizer, choices=OPTIMIZERS,
                        help="local optimiser of this tree's methods (FitSettings.optimizer)")
    parser.add_argument("--baseline-commit", default="da4bb9e", help="the fitter before exact gradients")
    parser.add_argument("--max-nfev", default=str(FitSettings().max_nfev),
                        help="residual evaluations per start: N, or name=N,...")
    parser.add_argument("--max-time-per-start", default=str(int(FitSettings().max_time_s)),
                        help="wall-time budget of one start of this tree's methods (s): N, or name=N,... (the "
                             "baseline has none: bound it with --max-nfev)")
    parser.add_argument("--quick", action="store_true", help="Boehm, 1 start of 30 evaluations, serial, exact only, "
                        "prints only")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--save", type=Path, help="also write the per-problem figures to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.starts, args.workers, args.problems = "1", 1, "Boehm_JProteomeRes2014"
        args.max_nfev, args.methods = "30", "exact"
    write = (not args.quick) if args.write is None else args.write
    names = args.problems.split(",")
    starts, max_nfev = _per_problem(args.starts, names), _per_problem(args.max_nfev, names)
    max_time = _per_problem(args.max_time_per_start, names)
    methods = args.methods.split(",")
    command = ".venv/bin/python benchmarks/fit.py" + "".join(f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load = os.getloadavg()
    t0 = time.perf_counter()
    rows: dict = {}
    for name in names:
        rows[name] = {}
        for method in methods:
            if method == "baseline":
                result, wall, pool_cpu = baseline(name, starts[name], args.workers, max_nfev[name],
                                                  args.baseline_commit)
                rows[name][method] = our_stats(result, name, pool_cpu) | {"wall": wall}
            else:
                fit, wall = ours(name, starts[name], args.workers, max_nfev[name], method, args.optimizer,
                                 max_time[name])
                rows[name][method] = our_stats(fit, name) | {"wall": wall}
            print(f"{name} [{method}]: {rows[name][method]}", flush=True)
            if args.save:
                args.save.write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    info = engine_benchmark.machine()
    section = report(rows, info, command, date, starts, args.workers, time.perf_counter() - t0, max_nfev, methods,
                     args.baseline_commit, load, args.optimizer)
    print(section)
    if write:
        write_section(section, BEGIN, END, RESULTS)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


def _per_problem(spec: str, names: Sequence[str]) -> dict[str, int]:
    """``"N"`` for every problem, or ``"name=N,..."`` (unnamed problems get the first value)."""
    if "=" not in spec:
        return dict.fromkeys(names, int(spec))
    given = dict(item.split("=") for item in spec.split(","))
    default = int(next(iter(given.values())))
    return {n: int(given.get(n, default)) for n in names}


if __name__ == "__main__":
    raise SystemExit(main())
