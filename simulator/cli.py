"""The ``mekisim`` command line: thin parse -> call -> write wrappers over the public API.

Exit codes (architecture.md): 0 ok, 1 failed run or invalid input (a one-paragraph message naming what
is wrong and what would be valid), 2 usage error. A user error never prints a traceback unless
``--debug`` is given; an unexpected exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .catalog import load_cell_lines, load_drugs
from .conditions import accepted_drugs, cell_lines_for, make_condition
from .engine import steady_state, time_course
from .errors import InputError, MekisimError, describe_os_error
from .model import CompiledModel, bundled_model_names, load_model
from .ownership import cli_command
from .units import parse_time_span

__all__ = ["build_parser", "main"]


ADD_DRUG_HELP = ("add an occupancy inhibitor D^h/(D^h+IC50^h) of the rate laws of named reactions, to any model "
                 "(e.g. meki:J6,J7:10nM); repeatable")
READOUT_HELP = ("a readout of the model (Model A: perk_suppression, viability (default), apoptosis, g0g1, "
                "cleaved_parp; Model B: growth_d33 (default), senescent_d33, regrowth_d33), or any observable or "
                "species id (or "
                "species:ID), read as its steady-state level relative to untreated (fraction affected = 1 - "
                "value/untreated; an oscillating condition is read as its time-average over the last periods)")


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
                     help="drug dose, e.g. trametinib=10nM (bare numbers are nM); repeatable or comma-separated")
    sim.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                     help=ADD_DRUG_HELP)
    mode = sim.add_mutually_exclusive_group(required=True)
    mode.add_argument("--steady-state", action="store_true", help="steady state with the drug present")
    mode.add_argument("--time", metavar="T0:T1:N",
                      help="time course: N points from T0 to T1 (model units, or with a unit: 0:24h:50)")
    sim.add_argument("--no-pre-equilibrate", action="store_true",
                     help="time course from the model's initial conditions instead of the untreated steady state")
    sim.add_argument("--select", metavar="ID[,ID...]", help="ids to report (default: the model's observables)")
    sim.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE.csv or FILE.parquet")
    sim.add_argument("--force", action="store_true",
                     help="overwrite an existing --out file that mekisim simulate did not write")
    sim.add_argument("--plot", type=Path, metavar="FILE.png", help="write a figure (.png, .svg or .pdf)")

    dr = sub.add_parser("dose-response", help="dose series of one drug in one cell line, with a logistic fit")
    dr.add_argument("--model", required=True, metavar="M")
    dr.add_argument("--cell-line", metavar="C",
                    help="bundled cell line of the model (default: the model's own parameter values)")
    dr.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                    help=ADD_DRUG_HELP)
    dr.add_argument("--drug", required=True, metavar="D")
    dr.add_argument("--doses", required=True, metavar="LO:HI:N",
                    help="N log-spaced doses (nM or with units) plus 0, or D1,D2,... (the listed doses plus 0)")
    dr.add_argument("--readout", default=None, metavar="R", help=READOUT_HELP)
    dr.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                    help="a fixed background dose of another drug; repeatable or comma-separated")
    dr.add_argument("--mode", choices=("fast", "full"), default="fast")
    dr.add_argument("--out", required=True, type=Path, metavar="DIR")
    dr.add_argument("--force", action="store_true", help=_FORCE_HELP)

    scr = sub.add_parser("screen", help="dose matrix of two drugs x cell lines (x ensemble) with synergy scores")
    scr.add_argument("--model", required=True, metavar="M")
    scr.add_argument("--cell-lines", metavar="C1,C2,...",
                     help="bundled cell lines of the model (default: the model's own parameter values)")
    scr.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                     help=ADD_DRUG_HELP)
    scr.add_argument("--drug-a", required=True, metavar="D:LO:HI:N",
                     help="N log-spaced doses of drug A plus 0, or D:D1,D2,... (the listed doses plus 0)")
    scr.add_argument("--drug-b", required=True, metavar="D:LO:HI:N",
                     help="N log-spaced doses of drug B plus 0, or D:D1,D2,... (the listed doses plus 0)")
    scr.add_argument("--readout", action="append", default=None, metavar="R",
                     help="readout(s) to compute (default: the model's inhibition readouts; Model A: "
                          "perk_suppression and viability); any observable or species id (or species:ID) is read "
                          "as its level relative to untreated; repeatable")
    scr.add_argument("--ensemble", type=Path, metavar="FILE", help="parameter vectors (CSV/TSV/Parquet), one per row")
    scr.add_argument("--ratio", metavar="A:B", help="dose ratio for the constant-ratio CI (default: IC50 ratio)")
    scr.add_argument("--target-suppression", type=float, default=None, metavar="F",
                     help="p-ERK suppression a combination must reach to be ranked (default 0.8; needs the "
                          "perk_suppression readout)")
    scr.add_argument("--mode", choices=("fast", "full"), default="fast")
    where = scr.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    again = scr.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue a killed run in the same --out folder")
    again.add_argument("--force", action="store_true", help=_FORCE_HELP)
    scr.add_argument("--no-progress", action="store_true", help="no progress bar")
    scr.add_argument("--out", required=True, type=Path, metavar="DIR")

    sens = sub.add_parser("sensitivity",
                          help="parameter sensitivity (Sobol, Morris, eFAST, local) of outputs of interest")
    sens.add_argument("--model", required=True, metavar="M")
    sens.add_argument("--method", required=True, choices=("sobol", "morris", "efast", "local"))
    sens.add_argument("--n", type=int, default=None, metavar="N",
                      help="Sobol base samples (power of 2; default 256), Morris trajectories (20), eFAST samples "
                           "per curve (129); not used by local")
    sens.add_argument("--output", action="append", default=[], metavar="O",
                      help="output of interest, NAME[@KEY=VALUE,...]: a readout (viability@line=S462_R1,trametinib="
                           "10nM), an observable at times (pERK@trametinib=10nM,t=0:24h:13), a dose grid "
                           "(viability@a=trametinib:0.1:100:4,b=src_inhibitor_1:10:10000:4), "
                           "ci@a=...,b=...,ratio=1:1000,fa=0.5 or ic50_shift@a=trametinib:0.01:1000:21,to=S462_R1; "
                           "repeatable (default: every observable at steady state)")
    sens.add_argument("--cell-line", metavar="C", help="cell line of outputs that do not name one (line=C)")
    sens.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                      help=ADD_DRUG_HELP)
    sens.add_argument("--ranges", type=Path, metavar="FILE",
                      help="parameter range overrides, TOML or TSV (param, low, high, dist)")
    sens.add_argument("--factor", type=float, metavar="F",
                      help="default ranges are log-uniform on [p/F, p*F] around each default (default 2)")
    sens.add_argument("--params", metavar="P1,P2,...", help="vary only these parameters")
    sens.add_argument("--exclude", metavar="P1,P2,...", help="hold these parameters at their defaults")
    sens.add_argument("--seed", type=int, default=0, metavar="S")
    sens.add_argument("--second-order", action="store_true", help="Sobol: also S2 (N(2D+2) runs)")
    sens.add_argument("--levels", type=int, default=None, metavar="L", help="Morris grid levels (even; default 4)")
    sens.add_argument("--replicates", type=int, default=None, metavar="R",
                      help="eFAST: independent designs; CIs from their spread (>= 2) instead of the bootstrap")
    sens.add_argument("--step", type=float, default=None, metavar="H", help="local: step in ln p (default 0.01)")
    sens.add_argument("--resamples", type=int, default=200, metavar="B", help="bootstrap draws per index")
    sens.add_argument("--drop-failed", action="store_true",
                      help="Sobol/Morris: drop whole blocks/trajectories with failed runs instead of refusing")
    where = sens.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    again = sens.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue a killed run in the same --out folder")
    again.add_argument("--force", action="store_true", help=_FORCE_HELP)
    sens.add_argument("--no-progress", action="store_true", help="no progress bar")
    sens.add_argument("--out", required=True, type=Path, metavar="DIR")

    fit = sub.add_parser("fit", help="multistart fit of a PEtab problem or western-blot data, with profiles")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--petab", type=Path, metavar="PROBLEM.yaml", help="a PEtab v1 problem")
    source.add_argument("--data", type=Path, metavar="FILE.csv",
                        help="western-blot data (lane densitometry or ratio summaries); needs --model")
    fit.add_argument("--model", metavar="M", help="model of --data: bundled name or .ant/.xml path")
    fit.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                     help="with --data: " + ADD_DRUG_HELP + " (the blots' <NAME>_nM dose columns can then name it)")
    fit.add_argument("--estimate", action="append", default=[], metavar="LINE:P1,P2,...",
                     help="with --data: estimate these model parameters per cell line; repeatable")
    fit.add_argument("--starts", type=int, default=20, metavar="N", help="Latin-hypercube starts (default 20)")
    fit.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the starts (default 0)")
    fit.add_argument("--profile", metavar="P1,P2,...", help="profile likelihoods of these estimated parameters")
    fit.add_argument("--max-nfev", type=int, default=500, metavar="K", help="residual evaluations per start")
    fit.add_argument("--representative", action="store_true",
                     help="label the data as representative (derived from a paper's directions), not digitized, on "
                          "every plot (always on for --data built from the bundled representative blots)")
    where = fit.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    fit.add_argument("--out", required=True, type=Path, metavar="DIR")
    fit.add_argument("--force", action="store_true", help=_FORCE_HELP)

    rep = sub.add_parser("report", help="write DIR/report.html from the stored results under DIR")
    rep.add_argument("directory", type=Path, metavar="DIR")
    rep.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes drawing the figures (default: all cores)")

    val = sub.add_parser("validate", help="lint models, drug catalogues, cell lines and metadata; all issues at once")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")

    demo = sub.add_parser("demo", help="the main job: parental vs trametinib-resistant MPNST (see README)")
    demo.add_argument("--out", type=Path, default=Path("results/demo"), metavar="DIR")
    demo.add_argument("--smoke", action="store_true", help="small dose grids (seconds instead of a minute)")
    demo.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    demo.add_argument("--force", action="store_true", help=_FORCE_HELP)
    _add_export_parser(sub)
    return parser


#: --force of every verb that writes an output folder (ownership.py)
_FORCE_HELP = ("replace the results already in --out (of this or another command): the files that run wrote there "
               "are deleted first; without it an --out folder holding results is refused")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (so tests can call it in-process)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(_attach_dash_values(parser, argv))
    except SystemExit as exc:  # argparse: --help exits 0, usage errors exit 2
        return int(exc.code or 0)
    args.invocation = cli_command(argv)  # recorded in every manifest, however mekisim was started
    handlers = {"models": _models, "simulate": _simulate, "validate": _validate, "demo": _demo,
                "screen": _screen, "dose-response": _dose_response, "report": _report,
                "sensitivity": _sensitivity, "fit": _fit, "export": _export}
    previous = _catch_sigterm()
    try:
        return handlers[args.command](args)
    except MekisimError as exc:
        if args.debug:
            raise
        print(f"mekisim {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # unwritable or full disk, a file where a folder should be, ...: a sentence, no errno
        if args.debug:
            raise
        out = getattr(args, "out", None)
        print(f"mekisim {args.command}: error: {describe_os_error(exc, str(out) if out else None)}"
              f"{_resume_hint(args)}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminated) as exc:  # a message, not a traceback; what is on disk stays there
        if args.debug:
            raise
        resumable = getattr(args, "resume", None) is not None and getattr(args, "out", None)
        hint = (f"; the finished chunks are kept in {args.out}: run the same command with --resume to continue"
                if resumable else "")
        what = "terminated (SIGTERM)" if isinstance(exc, _Terminated) else "interrupted"
        print(f"mekisim {args.command}: {what}{hint}", file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _resume_hint(args: argparse.Namespace) -> str:
    """After a failure mid-run: where the finished chunks are and how to continue (screen, sensitivity)."""
    out = getattr(args, "out", None)
    if getattr(args, "resume", None) is None or not out:
        return ""
    if not any((Path(out) / sub / "parts").is_dir() for sub in ("wells", "synergy", "evaluations")):
        return ""
    return (f" The finished chunks are kept in {out}: once this is fixed, run the same command with --resume to "
            "continue.")


def _attach_dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--doses -1,-2`` as ``--doses=-1,-2``: a value that starts with '-' is given to its option.

    Why: argparse takes any token starting with '-' (other than a plain negative number) for an option, so
    ``--doses -1,-2`` failed with "expected one argument" instead of our message that doses must be >= 0.
    Only for options that take a value, and only when the next token is not itself an option of mekisim.
    """
    takes_value, options = set(), set()
    parsers = [parser]
    while parsers:
        current = parsers.pop()
        for action in current._actions:
            options.update(action.option_strings)
            if action.option_strings and action.nargs is None:
                takes_value.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        following = argv[i + 1] if i + 1 < len(argv) else None
        if (token in takes_value and following is not None and following.startswith("-") and following != "--"
                and following.split("=")[0] not in options):
            out.append(f"{token}={following}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out


class _Terminated(BaseException):
    """SIGTERM as an exception (not an ``Exception``: no chunk may record it as its own failure)."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated


def _catch_sigterm():
    """Turn SIGTERM (``kill``, a batch scheduler's time limit) into :class:`_Terminated` while a command runs.

    Why: by default SIGTERM ends the process at once, leaving its pool's worker processes behind; raised as
    an exception it unwinds through the executors' ``with`` blocks, which terminate their workers. Only when
    SIGTERM has its default action and this is the main thread (an embedding program's handler is kept);
    returns the handler to restore, or ``None``.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


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
    """``--dose`` values: ``DRUG=AMOUNT``, repeated or comma-separated (``trametinib=10nM,palbociclib=500nM``)."""
    doses: dict[str, str] = {}
    for item in (piece for value in items for piece in value.split(",") if piece.strip()):
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


#: figure formats ``--plot`` writes (matplotlib picks the format from the suffix)
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _simulate(args: argparse.Namespace) -> int:
    if args.plot is not None and args.plot.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"--plot {str(args.plot)!r}: a figure is written as {', '.join(PLOT_SUFFIXES)}; "
                         f"{args.plot.suffix or 'no suffix'} is not one of them (e.g. --plot "
                         f"{args.plot.with_suffix('.png').name}).")
    if args.steady_state and args.no_pre_equilibrate:
        raise InputError("--no-pre-equilibrate applies to --time (where a time course starts); a steady state does "
                         "not depend on where the search starts. Leave one of them out.")
    model = _load_with_drugs(args.model, args.add_drug)
    condition = make_condition(model, args.cell_line, _parse_doses(args.dose))
    select = [s.strip() for s in args.select.split(",") if s.strip()] if args.select is not None else None
    if select is not None and not select:
        raise InputError(f"--select {args.select!r} lists no id; give ID1,ID2,... or leave --select out (the "
                         f"model's observables: {', '.join(model.observable_ids)}).")
    if args.out:
        from .ownership import claim_file

        claim_file(args.out, force=args.force)  # before computing: a refused --out costs nothing
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
    if status == "oscillating" and getattr(record, "mean", None) is not None:
        cycle = "; ".join(f"{i} {lo:.4g}-{hi:.4g}, mean {m:.4g}" for i, lo, hi, m in
                          list(zip(record.ids, record.low, record.high, record.mean, strict=True))[:6])
        message += (f"; range over the last cycle and time-average over the last {record.cycles}: {cycle}"
                    f"{'; ...' if len(record.ids) > 6 else ''}")
    if message:
        print(f"mekisim simulate: note: {message}", file=sys.stderr)
    return 0


def _write_outputs(args, model, frame, status, elapsed) -> None:
    from .store import write_manifest, write_table

    manifest = args.out.with_name(args.out.stem + ".manifest.json")  # removed by claim_file before computing
    started = time.perf_counter()
    path = write_table(frame, args.out)
    write_manifest(  # last: the table is complete
        manifest,
        models={"model": model},
        command=args.invocation,
        timings={"simulation": elapsed, "write": time.perf_counter() - started},
        counts={"ok": int(status in ("ok", "oscillating")), "failed": int(status == "failed")},
        files=[path.name],
    )


def _condition_title(model, condition) -> str:
    doses = ", ".join(f"{d} {v:g} nM" for d, v in condition.doses.items() if v > 0) or "untreated"
    return f"{model.name} (simulated): {condition.cell_line or 'model defaults'}, {doses}"


def _plot(args, model, condition, record) -> None:
    from .model import Observable
    from .plots import plot_steady_state, plot_time_courses, save_figure_as

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
    save_figure_as(fig, args.plot)


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

    model = _load_with_drugs(args.model, args.add_drug)
    lines = _cell_lines(args.cell_lines, model)
    spec = ScreenSpec(
        model=model,
        cell_lines=lines,
        drug_a=DrugAxis.parse(args.drug_a),
        drug_b=DrugAxis.parse(args.drug_b),
        readouts=tuple(args.readout) if args.readout else (),
        ensemble=load_ensemble(args.ensemble) if args.ensemble else (),
        mode=args.mode,
        ratio=_parse_ratio(args.ratio),
        **({} if args.target_suppression is None else {"target_suppression": args.target_suppression}),
    )
    if args.target_suppression is not None and "perk_suppression" not in spec.readouts:
        raise InputError(f"--target-suppression {args.target_suppression:g} ranks combinations by p-ERK "
                         f"suppression, which this screen does not compute (readouts: {', '.join(spec.readouts)}); "
                         "add --readout perk_suppression or leave it out.")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    if not lines:
        _note_defaults(model)
    _print_screen_estimate(spec, args.workers)
    result = run_screen(spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                        progress=not args.no_progress, force=args.force, command=args.invocation,
                        ensemble_file=args.ensemble)
    mixture = result.wells - spec.wells  # the constant-ratio series of every matrix (Chou-Talalay CI)
    print(f"{result.wells} wells ({spec.wells} in the dose matrices, {mixture} on the constant-ratio mixture series): "
          f"{result.wells - result.failed_wells} ok, {result.failed_wells} failed in {result.elapsed_s:.1f} s; "
          f"tables in {result.out_dir}/")
    for status, count in result.failure_summary.items():
        print(f"  {count} wells {status}; see the message column of wells.csv")
    if result.oscillating_wells:
        print(f"  {result.oscillating_wells} wells oscillate (no steady state): their level readouts are "
              "time-averages over the last periods; see the message column of wells.csv")
    return 1 if result.failed_wells else 0


def _cell_lines(text: str | None, model: CompiledModel) -> tuple[str, ...]:
    """``--cell-lines C1,C2``: the listed lines; none for the model's own values (a note when it has lines)."""
    if text is None:
        return ()
    lines = tuple(c.strip() for c in text.split(",") if c.strip())
    if not lines:
        raise InputError(f"--cell-lines {text!r} lists no cell line; valid: "
                         f"{', '.join(cell_lines_for(model)) or 'none (leave --cell-lines out)'}.")
    return lines


def _note_defaults(model: CompiledModel) -> None:
    lines = cell_lines_for(model)
    if lines:
        print(f"mekisim: note: no cell line given: the model's own parameter values are used (model {model.name!r} "
              f"has cell lines {', '.join(lines)})", file=sys.stderr)


def _print_screen_estimate(spec, workers: int | None) -> None:
    """Size, memory and a measured time estimate before a large screen starts (nothing for a small one)."""
    from .executor import default_workers
    from .screen import LARGE_SCREEN_WELLS, estimate_screen

    if spec.wells < LARGE_SCREEN_WELLS:
        return
    n = workers or default_workers()
    estimate = estimate_screen(spec)
    seconds = estimate.seconds_per_well * estimate.simulated_wells / n
    print(f"screen: {estimate.simulated_wells:,} wells ({len(spec.cell_lines)} line(s) x {spec.members} member(s) x "
          f"{len(spec.drug_a.doses)} x {len(spec.drug_b.doses)} doses, plus the mixture series) in "
          f"{estimate.chunks:,} resumable chunks; tables ~{estimate.memory_bytes / 1e9:.2g} GB in memory; about "
          f"{_duration(seconds)} on {n} worker(s) for the wells ({estimate.seconds_per_well * 1e3:.2g} ms per well, "
          f"measured on {estimate.sample_wells} wells; the synergy scores come on top)", file=sys.stderr)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _dose_response(args: argparse.Namespace) -> int:
    from .ownership import claim_folder
    from .report import write_dose_response
    from .response import dose_response
    from .screen import DrugAxis
    from .store import fingerprint, job_inputs

    model = _load_with_drugs(args.model, args.add_drug)
    readout = args.readout or _default_dose_readout(model)
    axis = DrugAxis.parse(f"{args.drug}:{args.doses}")
    background = _parse_doses(args.dose)
    job = {"dose_response": fingerprint({"model": model, "cell_line": args.cell_line, "drug": args.drug,
                                         "doses_nM": axis.doses, "readout": readout, "background": background,
                                         "mode": args.mode}), **job_inputs()}
    owner = claim_folder(args.out, "dose-response", job, command=args.invocation, force=args.force)
    started = time.perf_counter()
    result = dose_response(model, args.cell_line, args.drug, axis.doses, readout=readout,
                           background=background, mode=args.mode)
    if args.cell_line is None:
        _note_defaults(model)
    files = write_dose_response(result, args.out, owner=owner, job=job,
                                timings={"simulation_and_fit": time.perf_counter() - started})
    fit = result.fit
    ci = fit.ic50_ci95
    print(f"{args.cell_line or 'model defaults'} {args.drug} {readout}: IC50 {fit.ic50:.4g} nM (95% CI "
          f"{ci[0]:.4g}-{ci[1]:.4g}), Hill {fit.hill:.3g}, fit {fit.status}; {len(files)} files in {args.out}/")
    if fit.status != "ok" and fit.message:
        print(f"mekisim dose-response: note: the logistic fit is {fit.status}: {fit.message}", file=sys.stderr)
    ok = [m for m, s in zip(result.messages, result.statuses, strict=True) if s == "ok"]
    reference = any("untreated reference oscillates" in m for m in ok)
    oscillating = sum("treated condition oscillates" in m for m in ok)
    if reference or oscillating:
        print("mekisim dose-response: note: "
              + ("the untreated reference oscillates (no steady state), so every value is relative to its "
                 "time-average over the last periods; " if reference else "")
              + f"{oscillating} of {len(result.statuses)} doses oscillate: their readout is the time-average over "
              "the last periods; see the message column of dose_response.csv", file=sys.stderr)
    failed = sum(status != "ok" for status in result.statuses)
    if failed:
        first = next(m for m, s in zip(result.messages, result.statuses, strict=True) if s != "ok")
        print(f"mekisim dose-response: error: {failed} of {len(result.statuses)} doses failed (first: {first}); see "
              "dose_response.csv", file=sys.stderr)
    return 1 if failed else 0


def _default_dose_readout(model: CompiledModel) -> str:
    """The model's "% of DMSO" growth readout (CCK-8 viability for Model A), else its first inhibition readout."""
    from .readouts import level_hint, readouts_for

    available = readouts_for(model)
    for form in ("1-value/100", "value", "1-value"):
        for key, readout in available.items():
            if readout.effect == form:
                return key
    listed = f"{', '.join(available)}, or " if available else ""
    raise InputError(f"model {model.name!r} declares no inhibition readout for a dose-response; give --readout R: "
                     f"{listed}{level_hint(model)}.")


def _sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import SensitivitySpec, run_sensitivity
    from .sensitivity_outputs import ObservableAt, parse_output
    from .sensitivity_ranges import default_ranges, load_ranges

    model = _load_with_drugs(args.model, args.add_drug)
    _check_method_options(args)
    if args.cell_line is not None and args.cell_line not in cell_lines_for(model):
        raise InputError(f"--cell-line {args.cell_line!r} is not a cell line of model {model.name!r}; valid: "
                         f"{', '.join(cell_lines_for(model)) or 'none (leave --cell-line out)'}.")
    only = [p.strip() for p in args.params.split(",") if p.strip()] if args.params else None
    exclude = [p.strip() for p in args.exclude.split(",") if p.strip()] if args.exclude else ()
    if args.params is not None and not only:
        raise InputError(f"--params {args.params!r} lists no parameter; give P1,P2,... or leave --params out.")
    if args.ranges:
        space = load_ranges(args.ranges, model, factor=args.factor, only=only, exclude=exclude)
    elif args.factor is not None:
        space = default_ranges(model, factor=args.factor, only=only, exclude=exclude)
    else:
        space = default_ranges(model, only=only, exclude=exclude)
    outputs = [parse_output(text, model, cell_line=args.cell_line) for text in args.output]
    if not outputs:
        outputs = [ObservableAt(obs, args.cell_line) for obs in model.observable_ids]
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    given = {k: getattr(args, k) for k in ("levels", "replicates", "step") if getattr(args, k) is not None}
    spec = SensitivitySpec(model=model, space=space, outputs=tuple(outputs), method=args.method, n=args.n,
                           seed=args.seed, second_order=args.second_order, resamples=args.resamples,
                           on_failure="drop" if args.drop_failed else "refuse", **given)
    result = run_sensitivity(spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                             progress=not args.no_progress, command=args.invocation, force=args.force)
    print(f"{result.method}: {len(space.ranges)} parameters, {len(outputs)} output(s), {result.rows} model runs "
          f"({result.rows_failed} failed or undefined) in {result.elapsed_s:.1f} s; tables in {result.out_dir}/")
    main = result.ranking[result.ranking["rank"] <= 3]
    labels = dict(zip(result.columns["column"], result.columns["output"], strict=True))
    for column, group in list(main.groupby("column", sort=True))[:10]:
        top = ", ".join(f"{r.parameter} {r.value:.3g} [{r.low:.3g}, {r.high:.3g}]" for r in group.itertuples())
        print(f"  {column} {labels.get(column, '')}: {top}")
    for message in result.warnings:
        print(f"mekisim sensitivity: warning: {message}", file=sys.stderr)
    return 1 if result.rows_failed and spec.on_failure == "refuse" else 0


#: sensitivity options that apply to one method only (given with another, they would be ignored silently)
_METHOD_OPTIONS = {"--n": ("sobol", "morris", "efast"), "--second-order": ("sobol",), "--levels": ("morris",),
                   "--replicates": ("efast",), "--step": ("local",), "--drop-failed": ("sobol", "morris")}


def _check_method_options(args: argparse.Namespace) -> None:
    given = {"--n": args.n is not None, "--second-order": args.second_order, "--levels": args.levels is not None,
             "--replicates": args.replicates is not None, "--step": args.step is not None,
             "--drop-failed": args.drop_failed}
    wrong = [f"{option} (applies to {', '.join(_METHOD_OPTIONS[option])})" for option, on in given.items()
             if on and args.method not in _METHOD_OPTIONS[option]]
    if wrong:
        raise InputError(f"--method {args.method} does not use {'; '.join(wrong)}; leave it out, or choose a "
                         "method that uses it.")


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    print(f"wrote {build_report(args.directory, workers=args.workers)}")
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

    result = run_demo(args.out, smoke=args.smoke, workers=args.workers, force=args.force, command=args.invocation)
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


def _parse_estimate(items: Sequence[str], model: CompiledModel | None = None) -> dict[str, list[str]]:
    """``--estimate LINE:P1,P2``; for a model without cell lines ``P1,P2`` (its own values, ``model_defaults``)."""
    from .catalog import DEFAULTS_LABEL

    lineless = model is not None and not cell_lines_for(model)
    out: dict[str, list[str]] = {}
    for item in items:
        line, sep, params = item.partition(":")
        if not sep and lineless:
            line, sep, params = DEFAULTS_LABEL, ":", item
        names = [p.strip() for p in params.split(",") if p.strip()]
        if not sep or not line.strip() or not names:
            raise InputError(f"--estimate {item!r} is not LINE:P1,P2,...; valid example: S462_R1:kLAMA4,Itot "
                             "(for a model without cell lines: P1,P2,...).")
        out.setdefault(line.strip(), []).extend(names)
    return out


def _claim_fit(args: argparse.Namespace, model: CompiledModel):
    """Claim the fit's --out folder; the job is the data or problem files (by sha256) and the fit's settings."""
    import hashlib

    from .ownership import claim_folder
    from .store import fingerprint, job_inputs

    source = args.data if args.data is not None else args.petab
    try:
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    except OSError:
        digest = None
    job = {"fit": {"source": str(source), "source_sha256": digest, "model": fingerprint(model),
                   "estimate": list(args.estimate), "starts": args.starts, "seed": args.seed,
                   "max_nfev": args.max_nfev, "profile": args.profile}, **job_inputs()}
    return claim_folder(args.out, "fit", job, command=args.invocation, force=args.force)


def _fit(args: argparse.Namespace) -> int:
    from .executor import make_executor
    from .fit import THRESHOLD_95, FitSettings, fit_petab, objective_for, write_fit_tables
    from .ownership import begin_final_writes
    from .profile import profile_parameters, write_profiles
    from .report import draw_fit_figures
    from .store import write_manifest

    t0 = time.perf_counter()
    if args.starts < 1:
        raise InputError(f"--starts {args.starts} must be >= 1.")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    models = {}
    if args.data is not None:
        if not args.model:
            raise InputError("--data needs --model M (the model the blots are fitted to), e.g. --model mpnst.")
        from .blots import blots_to_petab, read_blot_data

        model = _load_with_drugs(args.model, args.add_drug)
        models["model"] = model
        estimate = _parse_estimate(args.estimate, model)
        data = read_blot_data(args.data, model)
        owner = _claim_fit(args, model)
        yaml_path = blots_to_petab(model, data, args.out / "petab", estimate=estimate or None)
    else:
        if args.model or args.estimate or args.add_drug:
            raise InputError("--model, --estimate and --add-drug belong to --data; a PEtab problem names its own "
                             "SBML model (add a drug to it there: its conditions table sets the dose parameter) and "
                             "its estimated parameters.")
        yaml_path = args.petab
        owner = None
    objective = objective_for(yaml_path)
    names = [p.strip() for p in (args.profile or "").split(",") if p.strip()]
    unknown = [p for p in names if p not in objective.ids]
    if unknown:
        raise InputError(f"--profile {', '.join(unknown)}: not estimated parameters of {str(yaml_path)!r}; "
                         f"estimated: {', '.join(objective.ids)}.")
    if owner is None:  # a PEtab problem: claimed once it is known to load, before any start runs
        owner = _claim_fit(args, objective.problem.model)
    settings = FitSettings(max_nfev=args.max_nfev)
    profiles, errors = (), ()
    with make_executor(args.workers, args.scheduler) as executor:
        result = fit_petab(yaml_path, starts=args.starts, seed=args.seed, executor=executor, settings=settings)
        t_fit = time.perf_counter() - t0
        if names and result.best.ok:
            profiles, errors = profile_parameters(result, names, executor=executor)
    t_profiles = time.perf_counter() - t0 - t_fit
    # a blot fit's per-line parameters <param>_<line> become one screen ensemble per line (columns <param>)
    ensembles = {line: {f"{p}_{line}": p for p in params if f"{p}_{line}" in result.ids}
                 for line, params in _parse_estimate(args.estimate, models.get("model")).items()}
    begin_final_writes(args.out)
    files = (write_fit_tables(result, args.out, {k: v for k, v in ensembles.items() if v})
             + (write_profiles(profiles, args.out) if profiles else []))
    info = {**result.manifest_info(), "data": str(args.data) if args.data else None,
            "representative_data": bool(args.data) or args.representative, "profiles": [p.parameter for p in profiles],
            "profile_errors": list(errors),
            "time_unit": (models["model"] if models else objective.problem.model).time_unit}
    files += draw_fit_figures(args.out, info)
    write_manifest(args.out / "manifest.json", models=models or {"petab": objective.problem.model}, seed=args.seed,
                   owner=owner, job=owner.job,
                   timings={"fit": t_fit, "profiles": t_profiles, "total": time.perf_counter() - t0},
                   counts={"starts": len(result.starts), "starts_ok": result.n_ok,
                           "starts_failed": len(result.starts) - result.n_ok,
                           "ensemble_members": len(result.within()), "profiles_failed": len(errors)},
                   files=sorted({f.name for f in files}), extra={"fit": info})
    best = result.best
    print(f"{result.n_ok} of {len(result.starts)} starts ok; best nllh {best.nllh:.6g} (start {best.start}); "
          f"{len(result.within())} within {THRESHOLD_95:.2f} of it; {t_fit:.1f} s; tables in {args.out}/")
    for profile in profiles:
        print(f"  profile {profile.parameter}: 95% CI [{profile.ci_low:.4g}, {profile.ci_high:.4g}]"
              + ("" if profile.identifiable else " (open: not identifiable on at least one side)")
              + (f"; found a better optimum, nllh {profile.fit_nllh - profile.best_nllh:.3g} below the fit's "
                 "best (the interval is measured from it): the fit had not converged, rerun it with more starts"
                 if profile.improved else ""))
    for error in errors:
        print(f"mekisim fit: error: profile {error}", file=sys.stderr)
    if not result.n_ok:
        print(f"mekisim fit: error: every start failed; first message: {best.message}", file=sys.stderr)
    return 0 if result.n_ok and not errors else 1


# ------------------------------------------------------------------------------------ export (issue 19, item 1)
# Self-contained: the parser, its handler and their help texts; the work is in simulator.export.

_EXPORT_EXAMPLES = """examples:
  mekisim export --model mpnst --cell-line S462_R1 --dose trametinib=3nM --time 0:240:241 --out r1_tram.omex
  mekisim export --model mpnst --cell-line S462_R1 --set Itot=3,kE=0.5 --steady-state --out r1.xml
  mekisim export --screen results/screen --out screen.omex
run an archive: python -c "import tellurium as te; te.executeCombineArchive('r1_tram.omex')"
"""


def _add_export_parser(sub) -> None:
    """``mekisim export``: a condition (or a stored screen) as standalone SBML/Antimony or a COMBINE archive."""
    exp = sub.add_parser(
        "export", help="a condition or a screen as standalone SBML/Antimony or a COMBINE archive (SED-ML)",
        description="Write a condition mekisim can simulate as a standalone model (SBML or Antimony: cell line, "
                    "doses, drug terms and values written in; a pre-equilibrated time course starts from the "
                    "untreated steady state) or as a COMBINE archive (OMEX) with that model, a SED-ML description of "
                    "the simulation and its outputs, and mekisim's own result as a reference.",
        epilog=_EXPORT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("--model", metavar="M", help="bundled model name (mpnst, melanoma) or .ant/.xml path; with "
                     "--screen: the screen's model when it cannot be rebuilt from its manifest")
    exp.add_argument("--cell-line", metavar="C", help="bundled cell line of the model (default: model defaults)")
    exp.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                     help="drug dose, e.g. trametinib=10nM (bare numbers are nM); repeatable or comma-separated")
    exp.add_argument("--add-drug", action="append", default=[], metavar="NAME:REACTION[,REACTION...]:IC50[:HILL]",
                     help=ADD_DRUG_HELP)
    exp.add_argument("--set", action="append", default=[], dest="set_values", metavar="PARAM=VALUE[,P2=V2]",
                     help="set a parameter or initial value of the model (its own units), applied before "
                          "pre-equilibration; repeatable or comma-separated")
    what = exp.add_mutually_exclusive_group(required=True)
    what.add_argument("--steady-state", action="store_true", help="the steady state with the drug present")
    what.add_argument("--time", metavar="T0:T1:N",
                      help="time course: N equally spaced points from T0 to T1 (model units, or with a unit: 0:24h:50)")
    what.add_argument("--screen", type=Path, metavar="DIR",
                      help="the --out folder of mekisim screen: its dose matrices as one archive (SED-ML repeated "
                           "tasks over the wells; fast-mode screens)")
    exp.add_argument("--no-pre-equilibrate", action="store_true",
                     help="time course from the model's initial conditions instead of the untreated steady state")
    exp.add_argument("--rtol", type=float, metavar="R", help="CVODE relative tolerance of the run (default 1e-6)")
    exp.add_argument("--atol", type=float, metavar="A", help="CVODE absolute tolerance of the run (default 1e-9)")
    exp.add_argument("--format", choices=("sbml", "antimony", "omex"),
                     help="sbml (.xml), antimony (.ant) or omex (.omex, a COMBINE archive); default: from the "
                          "suffix of --out")
    exp.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write")
    exp.add_argument("--force", action="store_true",
                     help="overwrite an existing FILE that mekisim export did not write")


def _export(args: argparse.Namespace) -> int:
    from .engine import SolverOptions
    from .export import export_condition, export_screen, parse_set_values

    if args.screen is not None:
        given = [opt for opt, value in (("--cell-line", args.cell_line), ("--dose", args.dose),
                                        ("--set", args.set_values), ("--no-pre-equilibrate", args.no_pre_equilibrate),
                                        ("--rtol", args.rtol), ("--atol", args.atol)) if value]
        if given:
            raise InputError(f"--screen exports the screen as it ran; {', '.join(given)} would change it. Leave them "
                             "out, or export one condition with --model ... --time/--steady-state.")
        if args.format not in (None, "omex"):
            raise InputError(f"--screen is exported as a COMBINE archive (--format omex), not {args.format}.")
        if args.add_drug and not args.model:
            raise InputError("--add-drug with --screen needs --model M: together they give the screen's model when "
                             "its manifest cannot rebuild it (leave both out to rebuild it from the manifest).")
        model = _load_with_drugs(args.model, args.add_drug) if args.model else None
        screen = export_screen(args.screen, args.out, model=model, force=args.force)
        print(f"wrote {screen.path}: {screen.matrices} dose matrices x {screen.wells // screen.matrices} wells of the "
              f"screen in {args.screen} ({', '.join(screen.readouts)}); files: {', '.join(screen.files)}")
        for note in screen.notes:
            print(f"mekisim export: note: {note}", file=sys.stderr)
        print(f"run it: python -c \"import tellurium as te; te.executeCombineArchive('{screen.path}')\"")
        return 0
    if not args.model:
        raise InputError("--model M is required (a bundled model name or an .ant/.xml path), or --screen DIR.")
    if args.steady_state and args.no_pre_equilibrate:
        raise InputError("--no-pre-equilibrate applies to --time (where a time course starts); a steady state does "
                         "not depend on where the search starts. Leave one of them out.")
    model = _load_with_drugs(args.model, args.add_drug)
    values = parse_set_values(args.set_values, model)
    times = None
    if args.time is not None:
        t0, t1, n = parse_time_span(args.time, model_unit=model.time_unit)
        times = np.linspace(t0, t1, n)
    defaults = SolverOptions()
    options = SolverOptions(rtol=defaults.rtol if args.rtol is None else args.rtol,
                            atol=defaults.atol if args.atol is None else args.atol)
    result = export_condition(model, args.cell_line, _parse_doses(args.dose), values, times=times,
                              pre_equilibrate=not args.no_pre_equilibrate, options=options, format=args.format,
                              out=args.out, force=args.force)
    kind = {"sbml": "SBML model", "antimony": "Antimony model", "omex": "COMBINE archive"}[result.format]
    inside = f": {', '.join(result.files)}" if result.files else ""
    print(f"wrote {result.path} ({kind}{inside})")
    doses = ", ".join(f"{d} {v:g} nM" for d, v in result.condition.doses.items() if v > 0) or "no drug"
    unit = model.time_unit or "model time units"
    print(f"condition: {model.name}, {args.cell_line or 'model defaults'}, {doses}"
          + (f"; set {', '.join(f'{k}={v:g}' for k, v in values.items())}" if values else "")
          + ("; steady state" if times is None else f"; time course {times[0]:g}-{times[-1]:g} {unit}, {times.size} "
             f"points") + f"; CVODE rtol {options.rtol:g}, atol {options.atol:g}")
    if times is None:
        print("steady state with the doses present, searched from the model's initial conditions")
    elif result.pre_equilibrated:
        settings = "".join(f"; {k} = {v:g}" for k, v in model.pre_equilibration.items())
        print(f"pre-equilibrated: the run starts from the untreated steady state of "
              f"{args.cell_line or 'the model defaults'} (every dose 0{settings}), solved by mekisim and written into "
              f"the model as its initial state; the drug acts from t = {times[0]:g} {unit}")
    else:
        print("not pre-equilibrated: the run starts from the model's initial conditions")
    for note in result.notes:
        print(f"mekisim export: note: {note}", file=sys.stderr)
    if result.format == "omex":
        print(f"run it: python -c \"import tellurium as te; te.executeCombineArchive('{result.path}')\"")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
