"""The ``mekisim`` command line: thin parse -> call -> write wrappers over the public API.

Exit codes (architecture.md): 0 ok, 1 failed run or invalid input (a one-paragraph message naming what
is wrong and what would be valid), 2 usage error. A user error never prints a traceback unless
``--debug`` is given; an unexpected exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .catalog import load_cell_lines, load_drugs
from .conditions import accepted_drugs, cell_lines_for, make_condition
from .engine import steady_state, time_course
from .errors import InputError, MekisimError
from .model import CompiledModel, bundled_model_names, load_model
from .units import parse_time_span

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="mekisim",
        description="Mechanistic signalling-pathway ODE simulation of kinase-inhibitor resistance and combinations.",
    )
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("models", help="list bundled models, cell lines, drugs and observables")

    sim = sub.add_parser("simulate", help="steady state or time course of one condition")
    sim.add_argument("--model", required=True, metavar="M", help="bundled model name (mpnst) or .ant/.xml path")
    sim.add_argument("--cell-line", metavar="C", help="bundled cell line of the model (default: model defaults)")
    sim.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                     help="drug dose, e.g. trametinib=10nM (bare numbers are nM); repeatable")
    sim.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                     help="add an occupancy inhibitor D^h/(D^h+IC50^h) to reactions of any model; repeatable")
    mode = sim.add_mutually_exclusive_group(required=True)
    mode.add_argument("--steady-state", action="store_true", help="steady state with the drug present")
    mode.add_argument("--time", metavar="T0:T1:N",
                      help="time course: N points from T0 to T1 (model units, or with a unit: 0:24h:50)")
    sim.add_argument("--no-pre-equilibrate", action="store_true",
                     help="time course from the model's initial conditions instead of the untreated steady state")
    sim.add_argument("--select", metavar="ID[,ID...]", help="ids to report (default: the model's observables)")
    sim.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE.csv or FILE.parquet")
    sim.add_argument("--plot", type=Path, metavar="FILE.png", help="write a figure")

    dr = sub.add_parser("dose-response", help="dose series of one drug in one cell line, with a logistic fit")
    dr.add_argument("--model", required=True, metavar="M")
    dr.add_argument("--cell-line", required=True, metavar="C")
    dr.add_argument("--drug", required=True, metavar="D")
    dr.add_argument("--doses", required=True, metavar="LO:HI:N", help="N log-spaced doses (nM or with units) plus 0")
    dr.add_argument("--readout", default="viability", metavar="R",
                    help="perk_suppression, viability (default), apoptosis or g0g1")
    dr.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                    help="a fixed background dose of another drug; repeatable")
    dr.add_argument("--mode", choices=("fast", "full"), default="fast")
    dr.add_argument("--out", required=True, type=Path, metavar="DIR")

    scr = sub.add_parser("screen", help="dose matrix of two drugs x cell lines (x ensemble) with synergy scores")
    scr.add_argument("--model", required=True, metavar="M")
    scr.add_argument("--cell-lines", required=True, metavar="C1,C2,...")
    scr.add_argument("--drug-a", required=True, metavar="D:LO:HI:N", help="N log-spaced doses of drug A plus 0")
    scr.add_argument("--drug-b", required=True, metavar="D:LO:HI:N", help="N log-spaced doses of drug B plus 0")
    scr.add_argument("--readout", action="append", default=None, metavar="R",
                     help="readout(s) to compute (default: perk_suppression and viability); repeatable")
    scr.add_argument("--ensemble", type=Path, metavar="FILE", help="parameter vectors (CSV/TSV/Parquet), one per row")
    scr.add_argument("--ratio", metavar="A:B", help="dose ratio for the constant-ratio CI (default: IC50 ratio)")
    scr.add_argument("--target-suppression", type=float, default=0.8, metavar="F")
    scr.add_argument("--mode", choices=("fast", "full"), default="fast")
    where = scr.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    scr.add_argument("--resume", action="store_true", help="continue a killed run in the same --out folder")
    scr.add_argument("--no-progress", action="store_true", help="no progress bar")
    scr.add_argument("--out", required=True, type=Path, metavar="DIR")

    rep = sub.add_parser("report", help="write DIR/report.html from the stored results under DIR")
    rep.add_argument("directory", type=Path, metavar="DIR")

    val = sub.add_parser("validate", help="lint models, drug catalogues, cell lines and metadata; all issues at once")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")

    demo = sub.add_parser("demo", help="the main job: parental vs trametinib-resistant MPNST (see README)")
    demo.add_argument("--out", type=Path, default=Path("results/demo"), metavar="DIR")
    demo.add_argument("--smoke", action="store_true", help="small dose grids (seconds instead of a minute)")
    demo.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (so tests can call it in-process)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, usage errors exit 2
        return int(exc.code or 0)
    handlers = {"models": _models, "simulate": _simulate, "validate": _validate, "demo": _demo,
                "screen": _screen, "dose-response": _dose_response, "report": _report}
    try:
        return handlers[args.command](args)
    except (MekisimError, OSError) as exc:
        if args.debug:
            raise
        print(f"mekisim {args.command}: error: {exc}", file=sys.stderr)
        return 1


# ------------------------------------------------------------------------------------------- commands


def _models(args: argparse.Namespace) -> int:
    drugs, lines = load_drugs(), load_cell_lines()
    for name in bundled_model_names():
        model = load_model(name)
        print(f"{name}: {model.title}")
        print(f"  time unit: {model.time_unit}")
        print(f"  cell lines: {', '.join(cell_lines_for(model, lines)) or '-'}")
        print(f"  drugs (nM): {', '.join(accepted_drugs(model, drugs)) or '-'}")
        print("  observables:")
        for obs in model.observables:
            print(f"    {obs.id:<12} {obs.label} [{obs.unit}]")
    print("drugs:")
    for drug in drugs.values():
        print(f"  {drug.id:<16} {drug.name}; target {drug.target}; IC50 {drug.ic50_nM:g} nM, Hill {drug.hill:g}")
    return 0


def _parse_doses(items: Sequence[str]) -> dict[str, str]:
    doses: dict[str, str] = {}
    for item in items:
        drug, sep, amount = item.partition("=")
        if not sep or not drug.strip() or not amount.strip():
            raise InputError(f"--dose {item!r} is not DRUG=AMOUNT; valid example: --dose trametinib=10nM.")
        if drug.strip() in doses:
            raise InputError(f"--dose gives {drug.strip()!r} twice; give each drug once.")
        doses[drug.strip()] = amount.strip()
    return doses


def _load_with_drugs(spec: str, add_drug: Sequence[str]) -> CompiledModel:
    model = load_model(spec)
    if add_drug:
        from .drugs import DrugTerm, add_drug_terms

        model = add_drug_terms(model, [DrugTerm.parse(text) for text in add_drug])
    return model


def _simulate(args: argparse.Namespace) -> int:
    model = _load_with_drugs(args.model, args.add_drug)
    condition = make_condition(model, args.cell_line, _parse_doses(args.dose))
    select = [s.strip() for s in args.select.split(",") if s.strip()] if args.select else None
    started = time.perf_counter()
    if args.steady_state:
        record = steady_state(model, condition, select=select, throw=False)
        frame, status, message = record.to_frame(), record.status, record.message
    else:
        t0, t1, n = parse_time_span(args.time, model_unit=model.time_unit)
        record = time_course(model, np.linspace(t0, t1, n), condition, select=select, throw=False,
                             pre_equilibrate=not args.no_pre_equilibrate)
        frame, status, message = record.to_frame(), record.status, record.message
    elapsed = time.perf_counter() - started
    if args.out:
        _write_outputs(args, model, frame, status, elapsed)
    else:
        frame.to_csv(sys.stdout, index=False, float_format="%.8g")
    if args.plot:
        _plot(args, model, condition, record)
    if status == "failed":
        print(f"mekisim simulate: error: the simulation failed: {message}", file=sys.stderr)
        return 1
    if message:
        print(f"mekisim simulate: note: {message}", file=sys.stderr)
    return 0


def _write_outputs(args, model, frame, status, elapsed) -> None:
    from .store import write_manifest, write_table

    path = write_table(frame, args.out)
    write_manifest(
        path.with_name(path.stem + ".manifest.json"),
        models={"model": model},
        command=["mekisim", *sys.argv[1:]] if sys.argv[0].endswith("mekisim") else None,
        timings={"simulation": elapsed},
        counts={"ok": int(status in ("ok", "oscillating")), "failed": int(status == "failed")},
        files=[path.name],
    )


def _condition_title(model, condition) -> str:
    doses = ", ".join(f"{d} {v:g} nM" for d, v in condition.doses.items() if v > 0) or "untreated"
    return f"{model.name} (simulated): {condition.cell_line or 'model defaults'}, {doses}"


def _plot(args, model, condition, record) -> None:
    from .model import Observable
    from .plots import plot_steady_state, plot_time_courses, save_figure

    known = {o.id: o for o in model.observables}
    unit = model.observables[0].unit if model.observables and model.observables[0].id in model.species else ""
    observables = [known.get(i, Observable(i, i, unit)) for i in record.ids]
    title = _condition_title(model, condition)
    if args.steady_state:
        ax = plot_steady_state(record.as_dict(), observables, title=f"{title}: steady state ({record.status})")
        fig = ax.figure
    else:
        treated = any(v > 0 for v in condition.doses.values()) and not args.no_pre_equilibrate
        fig = plot_time_courses({"": (record.time, {i: record[i] for i in record.ids})}, observables,
                                time_unit=model.time_unit, title=title,
                                time_label="time after drug addition" if treated else "time")
    save_figure(fig, args.plot, svg=False)


def _parse_ratio(text: str | None) -> float | None:
    if text is None:
        return None
    a, sep, b = text.partition(":")
    try:
        ratio = float(a) / float(b)
    except (ValueError, ZeroDivisionError):
        ratio = float("nan")
    if not sep or not ratio > 0 or ratio == float("inf"):
        raise InputError(f"--ratio {text!r} is not A:B with two numbers > 0; valid example: 1:100.")
    return ratio


def _screen(args: argparse.Namespace) -> int:
    from .screen import DrugAxis, ScreenSpec, load_ensemble, run_screen

    model = load_model(args.model)
    spec = ScreenSpec(
        model=model,
        cell_lines=tuple(c.strip() for c in args.cell_lines.split(",") if c.strip()),
        drug_a=DrugAxis.parse(args.drug_a),
        drug_b=DrugAxis.parse(args.drug_b),
        readouts=tuple(args.readout) if args.readout else ("perk_suppression", "viability"),
        ensemble=load_ensemble(args.ensemble) if args.ensemble else (),
        mode=args.mode,
        ratio=_parse_ratio(args.ratio),
        target_suppression=args.target_suppression,
    )
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    result = run_screen(spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                        progress=not args.no_progress)
    print(f"{result.wells} wells ({result.wells - result.failed_wells} ok, {result.failed_wells} failed) in "
          f"{result.elapsed_s:.1f} s; tables in {result.out_dir}/")
    for status, count in result.failure_summary.items():
        print(f"  {count} wells {status}; see the message column of wells.csv")
    return 1 if result.failed_wells else 0


def _dose_response(args: argparse.Namespace) -> int:
    from .report import write_dose_response
    from .response import dose_response
    from .screen import DrugAxis

    model = load_model(args.model)
    axis = DrugAxis.parse(f"{args.drug}:{args.doses}")
    result = dose_response(model, args.cell_line, args.drug, axis.doses, readout=args.readout,
                           background=_parse_doses(args.dose), mode=args.mode)
    files = write_dose_response(result, args.out)
    fit = result.fit
    ci = fit.ic50_ci95
    print(f"{args.cell_line} {args.drug} {args.readout}: IC50 {fit.ic50:.4g} nM (95% CI {ci[0]:.4g}-{ci[1]:.4g}), "
          f"Hill {fit.hill:.3g}, fit {fit.status}; {len(files)} files in {args.out}/")
    failed = sum(status != "ok" for status in result.statuses)
    if failed:
        print(f"mekisim dose-response: error: {failed} of {len(result.statuses)} doses failed; see dose_response.csv",
              file=sys.stderr)
    return 1 if failed else 0


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    print(f"wrote {build_report(args.directory)}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .validate import validate_files

    issues = validate_files(args.files)
    for issue in issues:
        print(issue)
    errors = sum(i.level == "error" for i in issues)
    warnings = len(issues) - errors
    print(f"{len(args.files)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    result = run_demo(args.out, smoke=args.smoke, workers=args.workers)
    s = result.summary
    print(f"{s['title']}\nreport: {result.report}")
    if "resistance" in s:
        r = s["resistance"]
        for line in ("S462", "S462_R1"):
            x = r[line]
            print(f"  {line:<8} p-ERK IC50 {x['pERK_IC50_nM']:.3g} nM; at 10 nM trametinib {x['pERK_at_10nM']:.3g}; "
                  f"3 nM time course: nadir {x['pERK_nadir']:.3g}, {x['pERK_at_4h']:.3g} at 4 h")
        print(f"  MAPK reactivation under 10 nM trametinib: R1/P p-ERK = {r['R1_over_P_pERK_at_10nM']:.1f}x")
    for name, part in s.items():
        if isinstance(part, dict) and "ci_at_fa" in part:
            print(f"  {name}: {part['wells']} wells, {part['failed_wells']} failed; CI (72 h viability) at fa 0.5:")
            for line, readouts in part["ci_at_fa"].items():
                ci = readouts.get("viability", {}).get("0.50", float("nan"))
                print(f"    {line:<8} {ci:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
