"""Prove that a refactoring changed no result: run a fixed set of mekisim jobs, then compare every table.

Two steps, run before and after a change (each from the checkout under test, with its own venv):

    .venv/bin/python benchmarks/compare_outputs.py run OUT_BEFORE [--full]
    ... change the code ...
    .venv/bin/python benchmarks/compare_outputs.py run OUT_AFTER [--full]
    .venv/bin/python benchmarks/compare_outputs.py compare OUT_BEFORE OUT_AFTER

``run`` drives the CLI (``python -m simulator.cli``) and the experiments' ``run.py`` in smoke mode, exactly as a
user would, into one folder per job (``--full`` adds the full ``mekisim demo``, ~1 min on 2 cores). It runs the
checkout the script lies in (``PYTHONPATH`` is set to it), so a pristine copy of an earlier commit
(``git archive COMMIT | tar -x -C DIR``) runs with the same venv. ``compare`` walks every table (``*.parquet``,
``*.csv``, ``*.json`` except manifests and owner records) of the first folder,
requires the same file in the second, and compares them column by column:

* the same columns in the same order, the same dtypes, the same number of rows;
* text, integer and boolean columns exactly;
* floating-point columns bit for bit (NaN equal to NaN), and where not, the largest difference relative to
  ``max(1, |value|)`` must stay below ``--tol`` (default 1e-12): the summation order of a vectorised reduction
  may legitimately move the last bits. Each table is reported as ``identical`` or with its largest difference.

Jobs whose numbers depend on which process solved what run on one worker: roadrunner's KINSOL carries state from
one solve to the next, and a pool hands chunks to whichever worker is free, so a run spread over 2 processes
differs between two runs of the same code (measured on a loaded machine: a sensitivity run ~1e-11, the full
demo's wells 1.3e-12 and its synergy fits 5e-10; near-ties in a ranking can swap). Only the Fiedler fit, whose
starts do not share a solver, keeps 2 workers.

``compare --renamed`` compares an output folder written before the self-describing tables (issue 19) with one
written after: the old columns are renamed as :data:`RENAMED` says (``dose_a`` -> ``dose_a_nM``, ``time`` ->
``time_<unit>``, sensitivity ``y0000`` -> the column's spec, read from the new ``columns`` table), and the new
descriptive columns (:data:`ADDED`: drug names, units, fraction affected, the simulate table's condition) are
dropped from the new table before the comparison; every other value must match as before.

Columns that measure wall-clock time (``time_s``, ``elapsed_s`` ...) are skipped: they differ between any two
runs. Exit code 0 when every table matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"
KHOLODENKO = SHARED / "biomodels" / "BIOMD0000000010.xml"
FIEDLER = SHARED / "petab" / "Fiedler_BMCSystBiol2016" / "Fiedler_BMCSystBiol2016.yaml"
BLOTS = ROOT / "experiments" / "fit_mpnst_blots" / "data" / "mpnst_blots_summary.csv"
#: columns that hold wall-clock times (never reproducible)
TIME_COLUMNS = {"time_s", "elapsed_s", "seconds", "median_time_per_start_s"}
#: JSON keys that hold wall-clock times or run identity
TIME_KEYS = {"created", "timings_s", "time_s", "elapsed_s", "started", "pid", "host", "git_revision"}

#: old column -> new column (issue 19: units and quantities in the column names)
RENAMED = {"dose_a": "dose_a_nM", "dose_b": "dose_b_nM"}
#: descriptive columns the self-describing tables added (values derived from the run's settings and readouts)
ADDED = {"drug_a", "drug_b", "unit", "fraction_affected", "model", "cell_line", "pre_equilibrated",
         "response_quantity"}
#: files the self-describing outputs added (SALib's files of a sensitivity run)
NEW_FILES = ("salib_", "synergyfinder_")

LINEAR_TOY = {
    "model.ant": "model linear\n  -> X; k\n  X = 0; k = 1\nend\n",
    "conditions.tsv": "conditionId\tconditionName\nc0\tonly\n",
    "observables.tsv": "observableId\tobservableFormula\tnoiseFormula\ny\tX + b\t0.2\n",
    "parameters.tsv": "parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
                      "k\tlin\t-5\t5\t1\t1\nb\tlin\t-5\t5\t0\t1\n",
    "measurements.tsv": "observableId\tsimulationConditionId\ttime\tmeasurement\n"
                        "y\tc0\t0.5\t0.61\ny\tc0\t1.0\t1.22\ny\tc0\t1.5\t1.41\ny\tc0\t2.0\t1.83\n"
                        "y\tc0\t3.0\t2.79\ny\tc0\t4.0\t3.42\n",
    "problem.yaml": "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n- condition_files: "
                    "[conditions.tsv]\n  measurement_files: [measurements.tsv]\n  observable_files: "
                    "[observables.tsv]\n  sbml_files: [model.xml]\n",
}


def _jobs(out: Path, full: bool) -> list[tuple[str, list[str]]]:
    """(name, argv after ``python``) of every job; the output goes to ``out/name``."""
    cli = ["-m", "simulator.cli"]
    k10 = ["--model", str(KHOLODENKO), "--add-drug", "meki:J6,J7:10nM"]
    jobs = [
        ("demo_smoke", [*cli, "demo", "--smoke", "--workers", "1", "--out", str(out / "demo_smoke")]),
        ("screen_mpnst", [*cli, "screen", "--model", "mpnst", "--cell-lines", "S462,S462_R1",
                          "--drug-a", "trametinib:0.1:100:5", "--drug-b", "src_inhibitor_1:30:10000:5",
                          "--ratio", "1:1000", "--workers", "1", "--no-progress", "--out", str(out / "screen_mpnst")]),
        ("screen_ensemble", [*cli, "screen", "--model", "mpnst", "--cell-lines", "S462_R1",
                             "--drug-a", "trametinib:0.3:30:4", "--drug-b", "gsk2256098:10:10000:4",
                             "--ensemble", str(out / "inputs" / "ensemble.csv"), "--workers", "1", "--no-progress",
                             "--out", str(out / "screen_ensemble")]),
        ("screen_kholodenko", [*cli, "screen", *k10, "--add-drug", "rafi:J2,J3:50nM", "--drug-a", "meki:1:1000:3",
                               "--drug-b", "rafi:1:1000:3", "--readout", "species:MAPK_PP", "--workers", "1",
                               "--no-progress", "--out", str(out / "screen_kholodenko")]),
        ("dose_response_mpnst", [*cli, "dose-response", "--model", "mpnst", "--cell-line", "S462_R1", "--drug",
                                 "trametinib", "--doses", "0.01:10000:9", "--out", str(out / "dose_response_mpnst")]),
        ("dose_response_full", [*cli, "dose-response", "--model", "mpnst", "--cell-line", "S462", "--drug",
                                "trametinib", "--doses", "0.1:1000:5", "--readout", "apoptosis", "--mode", "full",
                                "--out", str(out / "dose_response_full")]),
        ("dose_response_kholodenko", [*cli, "dose-response", *k10, "--drug", "meki", "--readout", "MAPK_PP",
                                      "--doses", "0.1:1000:5", "--out", str(out / "dose_response_kholodenko")]),
        ("sensitivity_morris", [*cli, "sensitivity", "--model", "mpnst", "--method", "morris", "--n", "4",
                                "--cell-line", "S462_R1", "--output", "viability@trametinib=10nM,src_inhibitor_1=1uM",
                                "--output", "ci@a=trametinib:0.1:30:6,b=src_inhibitor_1:100:30000:6,ratio=1:1000,"
                                "fa=0.3;0.5", "--output", "ic50_shift@a=trametinib:0.01:1000:9,from=S462,to=S462_R1",
                                "--workers", "1", "--no-progress", "--out", str(out / "sensitivity_morris")]),
        ("sensitivity_sobol", [*cli, "sensitivity", "--model", "mpnst", "--method", "sobol", "--n", "8",
                               "--params", "kE,ksL,kon,kF", "--cell-line", "S462", "--output",
                               "pERK@trametinib=10nM,t=0:4h:5", "--output",
                               "perk_suppression@a=trametinib:1:100:2,b=src_inhibitor_1:100:10000:2",
                               "--workers", "1", "--no-progress", "--out", str(out / "sensitivity_sobol")]),
        ("sensitivity_local", [*cli, "sensitivity", *k10, "--method", "local", "--params", "J0_V1,J1_V2",
                               "--output", "species:MAPK_PP@meki=300nM", "--workers", "1", "--no-progress",
                               "--out", str(out / "sensitivity_local")]),
        ("fit_linear_toy", [*cli, "fit", "--petab", str(out / "inputs" / "toy" / "problem.yaml"), "--starts", "3",
                            "--seed", "0", "--profile", "k", "--workers", "1", "--out", str(out / "fit_linear_toy")]),
        ("fit_fiedler", [*cli, "fit", "--petab", str(FIEDLER), "--starts", "2", "--max-nfev", "15", "--seed", "1",
                         "--workers", "2", "--out", str(out / "fit_fiedler")]),
        ("fit_blots", [*cli, "fit", "--data", str(BLOTS), "--model", "mpnst", "--estimate", "S462_R1:ksL",
                       "--starts", "2", "--max-nfev", "15", "--workers", "1", "--out", str(out / "fit_blots")]),
        ("simulate_ss", [*cli, "simulate", "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=10nM",
                         "--steady-state", "--out", str(out / "simulate_ss" / "ss.parquet")]),
        ("simulate_tc", [*cli, "simulate", "--model", "melanoma", "--cell-line", "SKMEL30", "--dose",
                         "trametinib=10nM,palbociclib=500nM", "--time", "0:33d:34",
                         "--out", str(out / "simulate_tc" / "tc.csv")]),
        ("simulate_kholodenko", [*cli, "simulate", *k10, "--dose", "meki=1nM", "--time", "0:3000:31",
                                 "--out", str(out / "simulate_kholodenko" / "tc.csv")]),
    ]
    for study in ("fit_line_ci", "melanoma_growth", "melanoma_senescence", "sensitivity_combination",
                  "fit_mpnst_blots", "melanoma_fit"):
        jobs.append((f"experiment_{study}", [str(ROOT / "experiments" / study / "run.py"), "--smoke", "--out",
                                             str(out / f"experiment_{study}")]))
    if full:
        jobs.append(("demo_full", [*cli, "demo", "--workers", "1", "--out", str(out / "demo_full")]))
    return jobs


def _inputs(out: Path) -> None:
    """The input files the jobs read: a linear-Gaussian PEtab problem and a 3-member screen ensemble."""
    toy = out / "inputs" / "toy"
    toy.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from simulator.model import antimony_to_sbml  # noqa: E402  (the checkout under test)

    for name, text in LINEAR_TOY.items():
        if name == "model.ant":
            (toy / "model.xml").write_text(antimony_to_sbml(text), encoding="utf-8")
        else:
            (toy / name).write_text(text, encoding="utf-8")
    (out / "inputs" / "ensemble.csv").write_text("member,ksL,Itot\n0,1.0,4.0\n1,1.5,3.0\n2,0.7,5.0\n",
                                                 encoding="utf-8")


def run(out: Path, full: bool, only: list[str]) -> int:
    """Run every job (or those named in ``only``) into ``out``; a job's exit code is recorded, not fatal."""
    out.mkdir(parents=True, exist_ok=True)
    _inputs(out)
    codes = {}
    # the checkout this script is in, whatever an editable install points at (workers inherit PYTHONPATH)
    env = {**os.environ, "MEKISIM_CACHE_DIR": str(out / "inputs" / "compiled"), "PYTHONPATH": str(ROOT)}
    for name, argv in _jobs(out, full):
        if only and name not in only:
            continue
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, env=env,
                              check=False)
        log = out / "logs" / f"{name}.txt"
        log.parent.mkdir(exist_ok=True)
        log.write_text(f"$ {' '.join(argv)}\nexit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n"
                       f"{proc.stderr}", encoding="utf-8")
        codes[name] = proc.returncode
        print(f"{name:<34} exit {proc.returncode}  {time.perf_counter() - started:6.1f} s", flush=True)
    (out / "logs" / "exit_codes.json").write_text(json.dumps(codes, indent=1) + "\n", encoding="utf-8")
    (out / "logs" / "checkout.txt").write_text(str(ROOT), encoding="utf-8")  # paths in tables start with it
    return 0


# ------------------------------------------------------------------------------------------- comparing


def _tables(folder: Path) -> list[Path]:
    skip_dirs = {"inputs", "logs"}
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or rel.parts[0] in skip_dirs:
            continue
        if path.suffix in (".parquet", ".csv", ".tsv"):
            out.append(rel)
        elif path.suffix == ".json" and not path.name.endswith("manifest.json") and not path.name.startswith("."):
            out.append(rel)
    return out


def _read(path: Path):
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".tsv":
        return pd.read_csv(path, sep="\t")
    return pd.read_csv(path)


def _float_diff(a, b) -> tuple[bool, float]:
    """(bit-identical, largest |a - b| / max(1, |a|)) of two float arrays; NaN equals NaN."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    same_nan = np.isnan(a) == np.isnan(b)
    if not same_nan.all():
        return False, math.inf
    both = ~np.isnan(a)
    if np.array_equal(a[both].view(np.int64), b[both].view(np.int64)):
        return True, 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        inf_a, inf_b = np.isinf(a[both]), np.isinf(b[both])
        if not np.array_equal(inf_a, inf_b) or not np.array_equal(a[both][inf_a], b[both][inf_b]):
            return False, math.inf
        finite = ~inf_a
        rel = np.abs(a[both][finite] - b[both][finite]) / np.maximum(1.0, np.abs(a[both][finite]))
    return False, float(rel.max(initial=0.0))


def _renamed(a, b, names: dict[str, str]):
    """``a`` (old) with its columns renamed to ``b``'s (new) names, and ``b`` without the columns it added."""
    rename = {old: new for old, new in {**RENAMED, **names}.items() if old in a.columns and new in b.columns}
    if "time" in a.columns and "time" not in b.columns:
        new_time = [c for c in b.columns if c.startswith("time_")]
        if new_time:
            rename["time"] = new_time[0]
        elif "status" in b.columns and "message" in b.columns:  # a steady state's table has no time column now
            a = a.drop(columns="time")
    a = a.rename(columns=rename)
    if "column" in a.columns and names:  # a sensitivity table's column ids y0000... -> the columns' specs
        a = a.assign(column=a["column"].map(lambda c: names.get(c, c)))
    drop = [c for c in b.columns if c not in a.columns and (c in ADDED or c.startswith("dose_"))]
    return a, b.drop(columns=drop)


def _compare_frames(a, b, roots: tuple[str, str] = ("", ""),
                    names: dict[str, str] | None = None) -> tuple[str, float]:
    """('identical' | 'within' | problem text, largest relative difference).

    ``roots``: the checkouts the two folders were computed in; a path inside one (a ranges file's ``source``)
    reads the same as the path inside the other. ``names`` (``compare --renamed``): compare an old table with a
    new one (:func:`_renamed`).
    """
    import pandas as pd

    if names is not None:
        a, b = _renamed(a, b, names)
    if list(a.columns) != list(b.columns):
        return f"columns differ: {list(a.columns)} vs {list(b.columns)}", math.inf
    if len(a) != len(b):
        return f"rows differ: {len(a)} vs {len(b)}", math.inf
    worst, exact = 0.0, True
    for column in a.columns:
        if column in TIME_COLUMNS:
            continue
        x, y = a[column], b[column]
        if str(x.dtype) != str(y.dtype):
            return f"column {column!r}: dtype {x.dtype} vs {y.dtype}", math.inf
        if pd.api.types.is_float_dtype(x):
            same, diff = _float_diff(x.to_numpy(), y.to_numpy())
            exact &= same
            worst = max(worst, diff)
        elif not x.equals(y) and not (all(roots) and _same_paths(x, y, roots)):
            differ = (x.astype(str) != y.astype(str)).to_numpy()
            i = int(differ.argmax())
            return (f"column {column!r}: {int(differ.sum())} value(s) differ, first at row {i}: {x.iloc[i]!r} vs "
                    f"{y.iloc[i]!r}"), math.inf
    return ("identical" if exact else "within"), worst


def _compare_json(a, b, where: str = "") -> tuple[str, float]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [k for k in a if k not in TIME_KEYS]
        if set(keys) != {k for k in b if k not in TIME_KEYS}:
            return f"{where}: keys differ", math.inf
        worst, status = 0.0, "identical"
        for key in keys:
            s, d = _compare_json(a[key], b[key], f"{where}.{key}")
            if s not in ("identical", "within"):
                return s, d
            worst, status = max(worst, d), status if s == "identical" else "within"
        return status, worst
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: lengths differ", math.inf
        return _compare_json(dict(enumerate(a)), dict(enumerate(b)), where)
    if isinstance(a, float) and isinstance(b, float):
        same, diff = _float_diff([a], [b])
        return ("identical" if same else "within"), diff
    return ("identical", 0.0) if a == b else (f"{where}: {a!r} vs {b!r}", math.inf)


def _same_paths(x, y, roots: tuple[str, str]) -> bool:
    """Whether two text columns are equal once each checkout's path reads ``<checkout>``."""
    return bool(x.astype(str).str.replace(roots[0], "<checkout>", regex=False)
                .equals(y.astype(str).str.replace(roots[1], "<checkout>", regex=False)))


def _sensitivity_names(first: Path, second: Path, rel: Path) -> dict[str, str]:
    """y0000... -> the new column spec, from the new run's ``columns`` table beside ``rel`` (in column order)."""
    new = second / rel.parent / "columns.csv"
    if not new.is_file():
        return {}
    return {f"y{k:04d}": name for k, name in enumerate(_read(new)["column"])}


def compare(first: Path, second: Path, tol: float, renamed: bool = False) -> int:
    roots = tuple((folder / "logs" / "checkout.txt").read_text(encoding="utf-8").strip() if
                  (folder / "logs" / "checkout.txt").is_file() else "" for folder in (first, second))
    names = _tables(first)
    missing = sorted(set(map(str, names)) ^ set(map(str, _tables(second))))
    failures = 0
    counts = {"identical": 0, "within": 0}
    for rel in names:
        other = second / rel
        if not other.is_file():
            print(f"MISSING  {rel}")
            failures += 1
            continue
        if rel.suffix == ".json":
            status, diff = _compare_json(json.loads((first / rel).read_text()), json.loads(other.read_text()))
        else:
            mapping = _sensitivity_names(first, second, rel) if renamed else None
            status, diff = _compare_frames(_read(first / rel), _read(other), roots, mapping)
        if status == "within" and diff > tol:
            status = f"differs by {diff:.3g} (> {tol:g})"
        if status in counts:
            counts[status] += 1
            if status == "within":
                print(f"within   {rel}  (max relative difference {diff:.3g})")
        else:
            failures += 1
            print(f"DIFFERS  {rel}: {status}")
    for rel in missing:
        if renamed and Path(rel).name.startswith(NEW_FILES):
            print(f"new      {rel} (issue 19)")
            continue
        if not (first / rel).is_file():
            print(f"EXTRA    {rel} (only in {second})")
            failures += 1
    print(f"{len(names)} tables: {counts['identical']} bit-identical, {counts['within']} within {tol:g}, "
          f"{failures} differing or missing")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the jobs into a folder")
    r.add_argument("out", type=Path)
    r.add_argument("--full", action="store_true", help="also the full `mekisim demo`")
    r.add_argument("--only", action="append", default=[], help="run only this job (repeatable)")
    c = sub.add_parser("compare", help="compare every table of two folders")
    c.add_argument("first", type=Path)
    c.add_argument("second", type=Path)
    c.add_argument("--tol", type=float, default=1e-12, help="largest relative difference allowed (default 1e-12)")
    c.add_argument("--renamed", action="store_true",
                   help="FIRST was written before the self-describing tables (issue 19): map its column names")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.out, args.full, args.only)
    return compare(args.first, args.second, args.tol, args.renamed)


if __name__ == "__main__":
    raise SystemExit(main())
