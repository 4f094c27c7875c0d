"""Fitting benchmark (fitting issue, item 5): multistart fits of three PEtab benchmark problems from random starts.

Why: a fitter is only as good as the fraction of its starts that reach the best known optimum J* (Grein et al.
2026, ``shared/benchmarks/petab/REFERENCE.md``) and the time that costs. Per problem (Fiedler_BMCSystBiol2016,
Boehm_JProteomeRes2014, Fujita_SciSignal2010) this runs ``simulator.fit.fit_petab`` from N Latin-hypercube starts
(seeded) on a 2-worker process pool and reports:

* the fraction of starts whose final nllh is within 0.1 of J* (and within 1.92, Grein's "solved" criterion);
* the median time per start (measured inside the worker), the time to the first hit (the summed time of the
  starts in start order up to and including the first one within 0.1 of J*: the CPU time a serial run needs),
  and the median number of residual evaluations, Jacobians and ODE solves per start;
* for Fujita, how many starts reached the global optimum (-66.58) and how many stopped near the nominal local
  optimum (-53.08);
* the peer: pyPESTO (when installed) with its default optimiser (``pypesto.optimize.minimize`` defaults: scipy
  L-BFGS-B, maxfun 1000, gradients by scipy's finite differences, uniform start points) on its roadrunner
  objective (``PetabImporterRR``, roadrunner's default tolerances), the same number of starts, run serially in
  the same process; its end points are re-evaluated with our objective (rtol 1e-10) so both columns are on one
  scale.

It writes its own section of ``benchmarks/RESULTS.md`` (between the ``fit:begin``/``fit:end`` markers).

    .venv/bin/python benchmarks/fit.py                      # 50 starts per problem, writes RESULTS.md
    .venv/bin/python benchmarks/fit.py --starts 20          # fewer starts
    .venv/bin/python benchmarks/fit.py --quick              # Boehm, 1 short start, no peer, prints only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.fit import THRESHOLD_95, FitResult, FitSettings, fit_petab, objective_for, to_scaled  # noqa: E402
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


def ours(name: str, starts: int, workers: int, max_nfev: int) -> tuple[FitResult, float]:
    executor = ProcessExecutor(workers) if workers > 1 else SerialExecutor()
    with executor:
        t0 = time.perf_counter()
        result = fit_petab(yaml_of(name), starts=starts, seed=SEED, executor=executor,
                           settings=FitSettings(max_nfev=max_nfev))
        return result, time.perf_counter() - t0


def from_nominal(name: str, max_nfev: int) -> dict:
    """One fit started at the parameter table's nominal values (the published optimum, or Fujita's local one)."""
    objective = objective_for(yaml_of(name))
    x0 = to_scaled(np.array([objective.problem.nominal[i] for i in objective.ids]), objective.scales)
    start = fit_petab(yaml_of(name), x0=x0[None, :], settings=FitSettings(max_nfev=max_nfev)).best
    return {"nllh0": start.nllh0, "nllh": start.nllh, "time": start.time_s, "fev": start.n_fev}


def stats(nllh: np.ndarray, times: np.ndarray, j_star: float) -> dict:
    """Hit fraction, median time, time to first hit (start order)."""
    hits = nllh <= j_star + HIT
    first = int(np.argmax(hits)) if hits.any() else None
    return {"n": nllh.size, "hits": int(hits.sum()), "solved": int((nllh <= j_star + THRESHOLD_95).sum()),
            "best": float(np.nanmin(nllh)) if np.isfinite(nllh).any() else math.inf,
            "median_time": float(np.median(times)),
            "first_hit_time": float(times[: first + 1].sum()) if first is not None else None,
            "first_hit_start": first}


def our_stats(result: FitResult, name: str) -> dict:
    by_start = sorted(result.starts, key=lambda s: s.start)
    nllh = np.array([s.nllh if s.ok else math.inf for s in by_start])
    out = stats(nllh, np.array([s.time_s for s in by_start]), J_STAR[name])
    out.update(failed=sum(not s.ok for s in by_start), resampled=sum(s.resampled for s in by_start),
               fev=float(np.median([s.n_fev for s in by_start])), jev=float(np.median([s.n_jev for s in by_start])),
               solves=float(np.median([s.n_solves for s in by_start])),
               hit_starts=[s.start for s in by_start if s.ok and s.nllh <= J_STAR[name] + HIT],
               local=int(np.sum(np.abs(nllh - FUJITA_LOCAL) < HIT)))
    return out


def peer(name: str, starts: int) -> dict | None:
    """pyPESTO's default multistart on its roadrunner objective; None when pyPESTO is not installed."""
    try:
        import petab.v1 as petab
        import pypesto
        import pypesto.optimize as optimize
        from pypesto.objective.roadrunner import PetabImporterRR
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        petab_problem = petab.Problem.from_yaml(yaml_of(name))
        flattened = petab.lint.measurement_table_has_timepoint_specific_mappings(petab_problem.measurement_df)
        try:
            if flattened:  # Fiedler: per-gel scales; PetabImporterRR refuses them unflattened (AMICI flattens too)
                petab.flatten_timepoint_specific_output_overrides(petab_problem)
            problem = PetabImporterRR(petab_problem).create_problem()
            np.random.seed(SEED)
            t0 = time.perf_counter()
            result = optimize.minimize(problem, n_starts=starts, progress_bar=False)
            wall = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - the peer's failure is a result to report, not a crash
            return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}", "version": pypesto.__version__}
    objective = objective_for(yaml_of(name))
    names = [problem.x_names[i] for i in problem.x_free_indices]
    assert names == list(objective.ids), (names, objective.ids)
    runs = sorted(result.optimize_result.list, key=lambda r: int(r.id))
    ours_nllh = np.array([objective.nllh(np.asarray(r.x)[problem.x_free_indices]) if r.x is not None else math.inf
                          for r in runs])
    out = stats(ours_nllh, np.array([r.time for r in runs]), J_STAR[name])
    out.update(wall=wall, fev=float(np.median([r.n_fval for r in runs])), version=pypesto.__version__,
               flattened=bool(flattened),
               own_best=float(np.nanmin([r.fval for r in runs])),
               local=int(np.sum(np.abs(ours_nllh - FUJITA_LOCAL) < HIT)))
    return out


def _t(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def report(rows: dict, info: dict, command: str, date: str, starts: int, workers: int, total: float,
           max_nfev: int) -> str:
    head = [BEGIN, "## Fitting (fitting issue, item 5)", "",
            f"Command: `{command}` — {date}, commit `{info['commit']}` (working tree with the fitting modules; "
            "not yet committed when measured).", "",
            f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, {info['os']}; "
            f"Python {info['python']}, "
            f"libroadrunner {info['roadrunner']}. Shared with other agents' jobs during the run.", "",
            f"{starts} Latin-hypercube starts per problem (seed {SEED}) over the log10 bounds of the parameter table, "
            f"{workers}-worker process pool; `FitSettings()` defaults: scipy `least_squares` (trf, x_scale='jac', "
            f"ftol = xtol = gtol = 1e-10, max {max_nfev} residual evaluations per start), CVODE rtol 1e-10 / "
            "atol 1e-12, hierarchical: the formula-only parameters (scales, sigmas) are optimised in an inner "
            "problem at every point (variable projection), so the outer optimiser sees only the ODE parameters "
            "(Fiedler 12 of 22, Boehm 6 of 9, Fujita 16 of 19), whose Jacobian columns are central differences. "
            f"Hit = final nllh within {HIT} of J*; solved = within {THRESHOLD_95:.2f} (Grein's criterion). "
            "fevals/Jacobians count outer evaluations; ODE solves count every solve.", "",
            "| problem | J* | tool | best nllh | hits (≤ J*+0.1) | solved (≤ J*+1.92) | median time/start | "
            "time to first hit (start #) | median fevals / Jacobians / ODE solves per start | failed starts |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    table = []
    notes = []
    for name, row in rows.items():
        o, p = row["ours"], row["peer"]
        first = f"{_t(o['first_hit_time'])} (#{o['first_hit_start']})" if o["first_hit_start"] is not None else "no hit"
        table.append(f"| {name} | {J_STAR[name]:.4f} | mekisim | {o['best']:.4f} | {o['hits']}/{o['n']} "
                     f"({o['hits'] / o['n']:.0%}) | {o['solved']}/{o['n']} | {o['median_time']:.2f} s | {first} | "
                     f"{o['fev']:.0f} / {o['jev']:.0f} / {o['solves']:.0f} | {o['failed']} "
                     f"({o['resampled']} start points redrawn) |")
        if p is not None and "error" in p:
            table.append(f"| | | pyPESTO {p['version']} (default) | failed: {p['error']} | | | | | | |")
            p = None
        if p is not None:
            pfirst = (f"{_t(p['first_hit_time'])} (#{p['first_hit_start']})" if p["first_hit_start"] is not None
                      else "no hit")
            table.append(f"| | | pyPESTO {p['version']} (default) | {p['best']:.4f} | {p['hits']}/{p['n']} "
                         f"({p['hits'] / p['n']:.0%}) | {p['solved']}/{p['n']} | {p['median_time']:.2f} s | {pfirst} | "
                         f"{p['fev']:.0f} fevals (FD gradients inside) | — |")
        n = row["nominal"]
        notes.append(f"- {name}: started at the nominal θ of the parameter table, the fitter went from nllh "
                     f"{n['nllh0']:.4f} to {n['nllh']:.4f} ({n['fev']} fevals, {n['time']:.1f} s).")
        notes.append(f"- {name}: wall time mekisim {row['wall']:.0f} s ({workers} workers)"
                     + (f", pyPESTO {p['wall']:.0f} s (serial); pyPESTO's own best value {p['own_best']:.4f} "
                        "(roadrunner default tolerances)" if p else "")
                     + f"; starts within 0.1 of J*: {o['hit_starts'] or 'none'}.")
        if name.startswith("Fujita"):
            notes.append(f"- Fujita: mekisim starts that reached the global optimum −66.58: {o['hits']}; that stopped "
                         f"near the nominal local optimum −53.08 (±0.1): {o['local']}; best {o['best']:.4f}."
                         + (f" pyPESTO: {p['hits']} at −66.58, {p['local']} near −53.08." if p else ""))
    if all(r["peer"] is None for r in rows.values()):
        notes.append("- pyPESTO is not installed in this environment, so there is no peer column.")
    notes.append("- Jacobians: central differences only for the parameters that change an ODE solution; scale, "
                 "offset and noise parameters are differentiated on the cached solution (no solve). roadrunner's "
                 "forward sensitivities were measured and not adopted (slower on Boehm, no pre-equilibration or "
                 "initial-assignment sensitivities; see the docstring of `simulator/fit.py`).")
    notes.append("- pyPESTO column: `PetabImporterRR` + `pypesto.optimize.minimize` defaults, start points from "
                 "pyPESTO's own sampler after `np.random.seed(0)`; its end points re-evaluated with our objective. "
                 "pyPESTO is a benchmark-only dependency (not in pyproject's runtime dependencies).")
    notes.append(f"- Total benchmark time {total / 60:.1f} min.")
    return "\n".join([*head, *table, "", *notes, END]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--workers", type=int, default=min(2, len(os.sched_getaffinity(0))))
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--no-peer", action="store_true", help="skip pyPESTO")
    parser.add_argument("--max-nfev", type=int, default=FitSettings().max_nfev, help="residual evaluations per start")
    parser.add_argument("--quick", action="store_true", help="Boehm, 1 start of 30 evaluations, serial, no peer, "
                        "prints only")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--save", type=Path, help="also write the per-problem figures to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.starts, args.workers, args.problems, args.no_peer, args.max_nfev = 1, 1, "Boehm_JProteomeRes2014", True, 30
    write = (not args.quick) if args.write is None else args.write
    command = ".venv/bin/python benchmarks/fit.py" + "".join(f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t0 = time.perf_counter()
    rows = {}
    for name in args.problems.split(","):
        result, wall = ours(name, args.starts, args.workers, args.max_nfev)
        rows[name] = {"ours": our_stats(result, name), "wall": wall, "peer": None,
                      "nominal": from_nominal(name, args.max_nfev)}
        print(f"{name}: {rows[name]['ours']}", flush=True)
        if not args.no_peer:
            rows[name]["peer"] = peer(name, args.starts)
            print(f"  pyPESTO: {rows[name]['peer']}", flush=True)
        if args.save:
            args.save.write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    info = engine_benchmark.machine()
    section = report(rows, info, command, date, args.starts, args.workers, time.perf_counter() - t0, args.max_nfev)
    print(section)
    if write:
        write_section(section, BEGIN, END, RESULTS)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
