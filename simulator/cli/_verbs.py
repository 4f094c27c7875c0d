"""The verbs that run one model quickly: models, simulate, dose-response, report, validate, demo."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import time
from dataclasses import dataclass

import numpy as np

from ..engine import SteadyState, Trajectory, steady_state, time_course
from ..errors import InputError
from ..model import (
    CompiledModel,
    accepted_drugs,
    bundled_model_names,
    cell_lines_for,
    load_cell_lines,
    load_drugs,
    load_model,
    make_condition,
)
from ..status import Status
from ..units import parse_time_span, time_column_name
from ._common import _load_with_drugs, _note_defaults, _note_values, _parameter_values, _parse_doses, _values_record


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
        if model.switches:
            print("  switches (--switch-off NAME):")
            for switch in model.switches:
                values = ", ".join(f"{k} = {v:g}" for k, v in switch.values.items())
                print(f"    {switch.name:<20} {values}{f'  ({switch.note})' if switch.note else ''}")
    print("drugs:")
    for drug in drugs.values():
        print(f"  {drug.id:<16} {drug.name}; target {drug.target}; IC50 {drug.ic50_nM:g} nM, Hill {drug.hill:g}")
    return 0


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
    model = _load_with_drugs(args.model, args.add_drug, args.metadata)
    values, switches = _parameter_values(args, model)
    condition = make_condition(model, args.cell_line, _parse_doses(args.dose), values=values, switch_off=switches)
    select = [s.strip() for s in args.select.split(",") if s.strip()] if args.select is not None else None
    if select is not None and not select:
        raise InputError(f"--select {args.select!r} lists no id; give ID1,ID2,... or leave --select out (the "
                         f"model's observables: {', '.join(model.observable_ids)}).")
    if args.out:
        from ..files import claim_file

        claim_file(args.out, force=args.force)  # before computing: a refused --out costs nothing
    started = time.perf_counter()
    record: SteadyState | Trajectory
    preeq: _PreEquilibration | None = None
    if args.steady_state:
        record = steady_state(model, condition, select=select, throw=False)
    else:
        preeq = _pre_equilibrate(args, model, condition)
        t0, t1, n = parse_time_span(args.time, model_unit=model.time_unit)
        record = time_course(model, np.linspace(t0, t1, n), condition, select=select, throw=False,
                             pre_equilibrate=preeq.asked)
    status, message = record.status, record.message
    frame = simulation_table(record, model, condition)
    elapsed = time.perf_counter() - started
    _note_values("simulate", model, values, switches)
    if preeq is not None and isinstance(record, Trajectory) and record.pre_equilibrated:
        print(f"mekisim simulate: note: pre-equilibrated ({preeq.reason}): the time course starts from the untreated "
              f"steady state{_protocol_text(model)}; --no-pre-equilibrate starts from the initial conditions",
              file=sys.stderr)
    if args.out:
        simulate_entry = {"simulate": {"cell_line": args.cell_line, "doses": _parse_doses(args.dose),
                                       "values": _values_record(model, values, switches)}}
        _write_outputs(args, model, frame, status, elapsed,
                       {**simulate_entry, **_pre_equilibration_entry(preeq, record, model)})
    else:
        frame.to_csv(sys.stdout, index=False, float_format="%.8g")
    if args.plot:
        _plot(args, model, condition, record, switches, values)
    if status == Status.FAILED:
        print(f"mekisim simulate: error: the simulation failed: {message}", file=sys.stderr)
        return 1
    if status == Status.NOT_PRE_EQUILIBRATED:
        print(f"mekisim simulate: error: the time course is not pre-equilibrated: it {message}; its values are "
              "those of a run from the initial conditions; pass --no-pre-equilibrate to ask for that run "
              "(it starts at the drug's addition)", file=sys.stderr)
        return 1
    if status == Status.OSCILLATING and isinstance(record, SteadyState) and record.mean is not None:
        assert record.low is not None and record.high is not None  # (an oscillating steady state has all three)
        cycle = "; ".join(f"{i} {lo:.4g}-{hi:.4g}, mean {m:.4g}" for i, lo, hi, m in
                          list(zip(record.ids, record.low, record.high, record.mean, strict=True))[:6])
        message += (f"; range over the last cycle and time-average over the last {record.cycles}: {cycle}"
                    f"{'; ...' if len(record.ids) > 6 else ''}")
    if message:
        print(f"mekisim simulate: note: {message}", file=sys.stderr)
    return 0


@dataclass(frozen=True)
class _PreEquilibration:
    """Whether ``simulate --time`` pre-equilibrates, and why (said on stderr and in the manifest)."""

    asked: bool
    reason: str


def _pre_equilibrate(args: argparse.Namespace, model: CompiledModel, condition) -> _PreEquilibration:
    """Pre-equilibrate when asked, when a drug is dosed, or when the model declares a protocol; else not.

    Why: a modeller's own model without drugs is expected to start from its initial conditions (a decaying
    A -> B -> 0 chain must not print the zeros of its steady state); a dosed model follows the western-blot
    protocol (cells at their untreated steady state, drug added at t = 0); a model that declares a
    ``[pre_equilibration]`` protocol (Model B) always runs it.
    """
    if args.no_pre_equilibrate:
        return _PreEquilibration(False, "--no-pre-equilibrate")
    if args.pre_equilibrate:
        return _PreEquilibration(True, "--pre-equilibrate")
    dosed = sorted(d for d, v in condition.doses.items() if v > 0)
    if dosed:
        return _PreEquilibration(True, f"{', '.join(dosed)} dosed: the drug is added at t = 0")
    if model.pre_equilibration:
        return _PreEquilibration(True, "the model declares a [pre_equilibration] protocol")
    return _PreEquilibration(False, "no dose and no declared [pre_equilibration] protocol")


def _protocol_text(model: CompiledModel) -> str:
    settings = ", ".join(f"{k} = {v:g}" for k, v in model.pre_equilibration.items())
    return f" (reached with {settings})" if settings else ""


def _pre_equilibration_entry(preeq: _PreEquilibration | None, record, model: CompiledModel) -> dict:
    """The manifest's ``"pre_equilibration"`` entry of ``simulate``."""
    if preeq is None:
        return {"pre_equilibration": {"applies": False, "reason": "steady state"}}
    return {"pre_equilibration": {"asked": preeq.asked, "done": bool(record.pre_equilibrated),
                                  "reason": preeq.reason, "protocol": dict(model.pre_equilibration)}}


def simulation_table(record, model: CompiledModel, condition):
    """``simulate``'s table: the condition in columns, the time in its unit, then the values.

    Columns: ``model, cell_line, dose_<drug>_nM..., [pre_equilibrated, time_<unit>,] status, <ids>..., message``
    (a steady state has no time column). The ids' labels and units are in the manifest (``columns``).
    """
    frame = record.to_frame()
    if hasattr(record, "time"):
        frame = frame.rename(columns={"time": time_column_name(model.time_unit)})
        frame.insert(0, "pre_equilibrated", bool(record.pre_equilibrated))
    else:
        frame = frame.drop(columns="time")
    described = {"model": model.name, "cell_line": condition.cell_line or "model_defaults",
                 **{f"dose_{drug}_nM": float(dose) for drug, dose in condition.doses.items()}}
    for position, (name, value) in enumerate(described.items()):
        frame.insert(position, name, value)
    return frame


def _column_info(model: CompiledModel, frame) -> dict:
    """Label and unit of every column of the simulate table (the manifest's ``columns``)."""
    observables = {o.id: o for o in model.observables}
    out: dict[str, dict[str, str | None]] = {}
    for column in frame.columns:
        if column in observables:
            out[column] = {"label": observables[column].label, "unit": observables[column].unit}
        elif column.startswith("dose_") and column.endswith("_nM"):
            out[column] = {"label": f"dose of {column[5:-3]}", "unit": "nM"}
        elif column.startswith("time_"):
            out[column] = {"label": "time (after drug addition when pre-equilibrated)", "unit": model.time_unit}
    return out


def _write_outputs(args, model, frame, status, elapsed, extra) -> None:
    from ..files import write_manifest, write_table

    manifest = args.out.with_name(args.out.stem + ".manifest.json")  # removed by claim_file before computing
    started = time.perf_counter()
    path = write_table(frame, args.out)
    write_manifest(  # last: the table is complete
        manifest,
        models={"model": model},
        command=args.invocation,
        timings={"simulation": elapsed, "write": time.perf_counter() - started},
        counts={"ok": int(status in (Status.OK, Status.OSCILLATING)), "failed": int(status == Status.FAILED)},
        files=[path.name],
        extra={**extra, "columns": _column_info(model, frame)},
    )


def _condition_title(model, condition, switches=(), values=None) -> str:
    doses = ", ".join(f"{d} {v:g} nM" for d, v in condition.doses.items() if v > 0) or "untreated"
    changed = [f"switched off: {', '.join(switches)}"] if switches else []
    changed += [f"set {', '.join(f'{k} = {v:g}' for k, v in values.items())}"] if values else []
    # on lines of their own (wrapped): a one-panel figure is narrow
    extra = "".join("\n" + textwrap.fill(line, 60) for line in changed)
    return f"{model.name} (simulated): {condition.cell_line or 'model defaults'}, {doses}{extra}"


def _plot(args, model, condition, record, switches=(), values=None) -> None:
    from ..model import Observable
    from ..plots import plot_steady_state, plot_time_courses, save_figure_as

    known = {o.id: o for o in model.observables}
    unit = model.observables[0].unit if model.observables and model.observables[0].id in model.species else ""
    observables = [known.get(i, Observable(i, i, unit)) for i in record.ids]
    title = _condition_title(model, condition, switches, values)
    if args.steady_state:
        fig = plot_steady_state(record.as_dict(), observables, title=f"{title}: steady state ({record.status})")
    else:
        treated = any(v > 0 for v in condition.doses.values()) and record.pre_equilibrated
        fig = plot_time_courses({"": (record.time, {i: record[i] for i in record.ids})}, observables,
                                time_unit=model.time_unit, title=title,
                                time_label="time after drug addition" if treated else "time")
    save_figure_as(fig, args.plot)


def _dose_response(args: argparse.Namespace) -> int:
    from ..files import claim_folder, fingerprint, job_inputs
    from ..readouts import dose_response, write_dose_response
    from ..report import draw_dose_response
    from ..screen import DrugAxis

    model = _load_with_drugs(args.model, args.add_drug, args.metadata)
    values, switches = _parameter_values(args, model)
    readout = args.readout or _default_dose_readout(model)
    axis = DrugAxis.parse(f"{args.drug}:{args.doses}")
    background = _parse_doses(args.dose)
    job = {"dose_response": fingerprint({"model": model, "cell_line": args.cell_line, "drug": args.drug,
                                         "doses_nM": axis.doses, "readout": readout, "background": background,
                                         "mode": args.mode, "values": values, "switch_off": switches,
                                         "curve": args.curve}),
           **job_inputs()}
    owner = claim_folder(args.out, "dose-response", job, command=args.invocation, force=args.force)
    started = time.perf_counter()
    result = dose_response(model, args.cell_line, args.drug, axis.doses, readout=readout,
                           background=background, values=values, switch_off=switches, mode=args.mode,
                           curve=args.curve)
    _note_values("dose-response", model, values, switches)
    if args.cell_line is None:
        _note_defaults(model)
    files = write_dose_response(result, args.out, owner=owner, job=job, draw=draw_dose_response,
                                timings={"simulation_and_fit": time.perf_counter() - started})
    fit = result.fit
    ci = fit.ic50_ci95
    absolute = (f"absolute IC50 (50 % of untreated) {fit.ic50_abs_label()}; " if fit.ic50_abs_text != "n/a"
                else "")
    print(f"{args.cell_line or 'model defaults'} {args.drug} {readout}: {absolute}relative EC50 (half-way "
          f"between top {fit.top:.3g} and bottom {fit.bottom:.3g}) {fit.ec50_rel:.4g} nM (95% CI {ci[0]:.4g}-"
          f"{ci[1]:.4g}), Hill {fit.hill:.3g}; model {fit.model}; fit {fit.status}; {len(files)} files in "
          f"{args.out}/")
    if fit.status != Status.OK and fit.message:
        print(f"mekisim dose-response: note: the logistic fit is {fit.status}: {fit.message}", file=sys.stderr)
    ok = [m for m, s in zip(result.messages, result.statuses, strict=True) if s == Status.OK]
    reference = any("untreated reference oscillates" in m for m in ok)
    oscillating = sum("treated condition oscillates" in m for m in ok)
    if reference or oscillating:
        print("mekisim dose-response: note: "
              + ("the untreated reference oscillates (no steady state), so every value is relative to its "
                 "time-average over the last periods; " if reference else "")
              + f"{oscillating} of {len(result.statuses)} doses oscillate: their readout is the time-average over "
              "the last periods; see the message column of dose_response.csv", file=sys.stderr)
    failed = sum(status != Status.OK for status in result.statuses)
    if failed:
        first = next(m for m, s in zip(result.messages, result.statuses, strict=True) if s != Status.OK)
        print(f"mekisim dose-response: error: {failed} of {len(result.statuses)} doses failed (first: {first}); see "
              "dose_response.csv", file=sys.stderr)
    return 1 if failed else 0


def _default_dose_readout(model: CompiledModel) -> str:
    """The model's "% of DMSO" growth readout (CCK-8 viability for Model A), else its first inhibition readout."""
    from ..readouts import level_hint, readouts_for

    available = readouts_for(model)
    for form in ("1-value/100", "value", "1-value"):
        for key, readout in available.items():
            if readout.effect == form:
                return key
    listed = f"{', '.join(available)}, or " if available else ""
    raise InputError(f"model {model.name!r} declares no inhibition readout for a dose-response; give --readout R: "
                     f"{listed}{level_hint(model)}.")


def _report(args: argparse.Namespace) -> int:
    from ..report import build_report

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    print(f"wrote {build_report(args.directory, workers=args.workers, synergyfinder=args.synergyfinder)}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..validate import validate_files

    issues = validate_files(args.files)
    for issue in issues:
        print(issue)
    errors = sum(i.level == "error" for i in issues)
    warnings = sum(i.level == "warning" for i in issues)
    print(f"{len(args.files)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _demo(args: argparse.Namespace) -> int:
    from ..study import run_demo

    result = run_demo(args.out, smoke=args.smoke, workers=args.workers, force=args.force, command=args.invocation)
    s = result.summary
    print(f"{s['title']}\nreport: {result.report}")
    if "resistance" in s:
        r = s["resistance"]
        for line in ("S462", "S462_R1"):
            x = r[line]
            ic50 = x["pERK_IC50_nM"]  # absolute: p-ERK at 50 % of untreated, interpolated between tested doses
            ic50_text = f"{ic50:.3g} nM" if ic50 is not None and math.isfinite(ic50) else "> top dose"
            print(f"  {line:<8} p-ERK absolute IC50 {ic50_text}; at 10 nM trametinib {x['pERK_at_10nM']:.3g}; "
                  f"3 nM time course: nadir {x['pERK_nadir']:.3g}, {x['pERK_at_4h']:.3g} at 4 h")
        print(f"  MAPK reactivation under 10 nM trametinib: R1/P p-ERK = {r['R1_over_P_pERK_at_10nM']:.1f}x")
    for name, part in s.items():
        if isinstance(part, dict) and "ci_at_fa" in part:
            print(f"  {name}: {part['wells']} wells, {part['failed_wells']} failed; CI (72 h viability) at fa 0.5:")
            for line, readouts in part["ci_at_fa"].items():
                ci = readouts.get("viability", {}).get("0.50", float("nan"))
                if ci is None:  # a flagged CI is not a result: its number, and why
                    value = part["ci_flagged_values"][line]["viability"]["0.50"]
                    flag = part["ci_flags"][line]["viability"]["0.50"]
                    print(f"    {line:<8} not a result ({value:.2f}, flagged: {flag})")
                else:
                    print(f"    {line:<8} {ci:.2f}")
    convention = s.get("ci_convention")
    if convention:
        print("  CI convention (ci_convention/ci_convention.csv; the report's \"CI convention\" table), fa 0.5:")
        for line, ratios in convention.items():
            cells = []
            for ratio, methods in ratios.items():
                for method, levels in methods.items():
                    at = levels.get("0.50", {})
                    value = "undefined" if at.get("ci") is None else f"{at['ci']:.3f}"
                    cells.append(f"{ratio} {method} {value}{'' if at.get('usable') else ' (flagged)'}")
            print(f"    {line:<8} " + "; ".join(cells))
    return 0
