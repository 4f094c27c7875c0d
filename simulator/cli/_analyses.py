"""The verbs of the big analyses: screen, sensitivity, fit."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..model import CompiledModel, cell_lines_for
from ._common import _cell_lines, _load_with_drugs, _note_defaults, _note_values, _parameter_values, _parse_ratio

if TYPE_CHECKING:  # the verbs import their stage when run (a fast `mekisim --help`)
    from ..fit import Profile


def _screen(args: argparse.Namespace) -> int:
    from ..screen import DrugAxis, ScreenSpec, load_ensemble, run_screen

    model = _load_with_drugs(args.model, args.add_drug, args.metadata)
    values, switches = _parameter_values(args, model)
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
        values=values,
        switch_off=switches,
    )
    if args.target_suppression is not None and "perk_suppression" not in spec.readouts:
        raise InputError(f"--target-suppression {args.target_suppression:g} ranks combinations by p-ERK "
                         f"suppression, which this screen does not compute (readouts: {', '.join(spec.readouts)}); "
                         "add --readout perk_suppression or leave it out.")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    if not lines:
        _note_defaults(model)
    _note_values("screen", model, values, switches)
    _print_screen_estimate(spec, args.workers)
    result = run_screen(spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                        progress=not args.no_progress, force=args.force, command=args.invocation,
                        ensemble_file=args.ensemble, synergyfinder=args.synergyfinder)
    mixture = result.n_wells - spec.wells  # the constant-ratio series of every matrix (Chou-Talalay CI)
    print(f"{result.n_wells} wells ({spec.wells} in the dose matrices, {mixture} on the constant-ratio mixture "
          f"series): {result.n_wells - result.failed_wells} ok, {result.failed_wells} failed in "
          f"{result.elapsed_s:.1f} s; tables in {result.out_dir}/")
    for status, count in result.failure_summary.items():
        print(f"  {count} wells {status}; see the message column of wells.csv")
    if result.oscillating_wells:
        print(f"  {result.oscillating_wells} wells oscillate (no steady state): their level readouts are "
              "time-averages over the last periods; see the message column of wells.csv")
    return 1 if result.failed_wells else 0


def _print_screen_estimate(spec, workers: int | None) -> None:
    """Size, memory and a measured time estimate before a large screen starts (nothing for a small one)."""
    from ..parallel import default_workers
    from ..screen import LARGE_SCREEN_WELLS, estimate_screen

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


def _sensitivity(args: argparse.Namespace) -> int:
    from ..model import resolve_values
    from ..sensitivity import ObservableAt, SensitivitySpec, default_ranges, load_ranges, parse_output, run_sensitivity

    model = _load_with_drugs(args.model, args.add_drug, args.metadata)
    values, switches = _parameter_values(args, model)
    _check_method_options(args)
    if args.cell_line is not None and args.cell_line not in cell_lines_for(model):
        raise InputError(f"--cell-line {args.cell_line!r} is not a cell line of model {model.name!r}; valid: "
                         f"{', '.join(cell_lines_for(model)) or 'none (leave --cell-line out)'}.")
    only = [p.strip() for p in args.params.split(",") if p.strip()] if args.params else None
    exclude = [p.strip() for p in args.exclude.split(",") if p.strip()] if args.exclude else []
    # what --set/--switch-off hold is not varied (unless --params names it: then the spec refuses the clash)
    held = [p for p in resolve_values(model, values, switches) if p in model.parameters and p not in exclude
            and (only is None or p not in only)]
    exclude = [*exclude, *held]
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
                           on_failure="drop" if args.drop_failed else "refuse", values=values,
                           switch_off=switches, **given)
    _note_values("sensitivity", model, values, switches)
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


def _parse_estimate(items: Sequence[str], model: CompiledModel | None = None) -> dict[str, list[str]]:
    """``--estimate LINE:P1,P2``; for a model without cell lines ``P1,P2`` (its own values, ``model_defaults``)."""
    from ..model import DEFAULTS_LABEL

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

    from ..files import claim_folder, fingerprint, job_inputs

    source = args.data if args.data is not None else args.petab
    try:
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    except OSError:
        digest = None
    job = {"fit": {"source": str(source), "source_sha256": digest, "model": fingerprint(model),
                   "estimate": list(args.estimate), "starts": args.starts, "seed": args.seed,
                   "max_nfev": args.max_nfev, "profile": args.profile,
                   "max_time_per_start": args.max_time_per_start, "max_solves_per_start": args.max_solves_per_start,
                   "max_steps": args.max_steps, "gradient": args.gradient,
                   "optimizer": args.optimizer or "default"}, **job_inputs()}
    return claim_folder(args.out, "fit", job, command=args.invocation, force=args.force)


def _fit(args: argparse.Namespace) -> int:
    from ..fit import fit_petab, profile_parameters, write_fit
    from ..parallel import ProgressExecutor, make_executor
    from ..report import draw_fit_figures

    t0 = time.perf_counter()
    if args.starts < 0:
        raise InputError(f"--starts {args.starts} must be >= 0 (0: evaluate at the nominal parameters).")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} must be >= 1.")
    if args.starts == 0:
        return _fit_nominal(args, t0)
    yaml_path, model, objective, owner = _fit_problem(args)
    names = [p.strip() for p in (args.profile or "").split(",") if p.strip()]
    unknown = [p for p in names if p not in objective.ids]
    if unknown:
        raise InputError(f"--profile {', '.join(unknown)}: not estimated parameters of {str(yaml_path)!r}; "
                         f"estimated: {', '.join(objective.ids)}.")
    if owner is None:  # a PEtab problem: claimed once it is known to load, before any start runs
        owner = _claim_fit(args, objective.problem.model)
    profiles: tuple[Profile, ...] = ()
    errors: tuple[str, ...] = ()
    with make_executor(args.workers, args.scheduler) as executor:
        shown = not args.no_progress
        result = fit_petab(yaml_path, starts=args.starts, seed=args.seed,
                           executor=ProgressExecutor(executor, "fit starts", enabled=shown),
                           settings=_fit_settings(args))
        t_fit = time.perf_counter() - t0
        if names and result.best.ok:
            profiles, errors = profile_parameters(result, names,
                                                  executor=ProgressExecutor(executor, "profiles", enabled=shown))
    t_profiles = time.perf_counter() - t0 - t_fit
    # a blot fit's per-line parameters <param>_<line> become one screen ensemble per line (columns <param>)
    ensembles = {line: {f"{p}_{line}": p for p in params if f"{p}_{line}" in result.ids}
                 for line, params in _parse_estimate(args.estimate, model).items()}
    info = {"data": str(args.data) if args.data else None,
            "representative_data": bool(args.data) or args.representative,
            "time_unit": (model or objective.problem.model).time_unit}
    write_fit(result, args.out, profiles=profiles, profile_errors=errors, ensembles=ensembles, info=info,
              models={"model": model} if model is not None else {"petab": objective.problem.model}, owner=owner,
              job=owner.job, timings={"fit": t_fit, "profiles": t_profiles, "total": time.perf_counter() - t0},
              draw=draw_fit_figures)
    _print_fit(result, profiles, errors, t_fit, args.out)
    return 0 if result.n_ok and not errors else 1


def _fit_settings(args: argparse.Namespace):
    """FitSettings from the command line: evaluations, the per-start budget and CVODE's step cap."""
    from dataclasses import replace

    from ..fit import DEFAULT_OPTIONS, FitSettings

    if args.max_steps < 1:
        raise InputError(f"--max-steps {args.max_steps} must be >= 1.")
    return FitSettings(max_nfev=args.max_nfev, max_time_s=args.max_time_per_start,
                       max_solves=args.max_solves_per_start, gradient=args.gradient,
                       optimizer=args.optimizer or FitSettings.optimizer,
                       options=replace(DEFAULT_OPTIONS, max_steps=args.max_steps))


def _fit_nominal(args: argparse.Namespace, t0: float) -> int:
    """``--starts 0``: the problem's likelihood at its nominal parameters (nominal.json, fit-vs-data, simulation.tsv).

    The problem is loaded directly, not through the fitter's objective: priors or a parameter table the optimizer
    refuses do not prevent evaluating the likelihood.
    """
    from ..fit import evaluate_nominal, load_petab, write_nominal
    from ..report import draw_fit_figures

    if args.profile:
        raise InputError("--profile needs a fit: use --starts N >= 1 with it.")
    if args.data is not None:  # converted as for a fit, without the fitter's objective (nothing need be estimated)
        from ..fit import blots_to_petab, read_blot_data

        if not args.model:
            raise InputError("--data needs --model M (the model the blots are compared with), e.g. --model mpnst.")
        model = _load_with_drugs(args.model, args.add_drug)
        estimate = _parse_estimate(args.estimate, model)
        data = read_blot_data(args.data, model)
        owner = _claim_fit(args, model)
        problem = load_petab(blots_to_petab(model, data, args.out / "petab", estimate=estimate or None))
    else:
        if args.model or args.estimate or args.add_drug:
            raise InputError("--model, --estimate and --add-drug belong to --data; a PEtab problem names its own "
                             "SBML model and its estimated parameters.")
        problem, model = load_petab(args.petab), None
        owner = _claim_fit(args, problem.model)
    result = evaluate_nominal(problem, options=_fit_settings(args).options)
    info = {"data": str(args.data) if args.data else None,
            "representative_data": bool(args.data) or args.representative,
            "time_unit": (model or problem.model).time_unit,
            "title": (f"{Path(args.data).stem} vs model {model.name} at its values" if model is not None else
                      f"{Path(problem.source).stem} at nominal parameters")}
    write_nominal(result, args.out, info=info,
                  models={"model": model} if model is not None else {"petab": problem.model}, owner=owner,
                  job=owner.job, timings={"total": time.perf_counter() - t0}, draw=draw_fit_figures)
    if result.ok:
        prior = (f"; objective priors not in nllh: nlprior {result.nlprior:.10g}, nlpost = nllh + nlprior "
                 f"{result.nlpost:.10g}" if result.priors else "")
        print(f"nominal nllh {result.nllh:.10g} (chi2 {result.chi2:.6g}, {result.n_measurements} measurements"
              f"{prior}); {time.perf_counter() - t0:.1f} s; tables in {args.out}/")
        return 0
    for message in result.messages:
        print(f"mekisim fit: error: {message}", file=sys.stderr)
    print(f"mekisim fit: error: {len(result.messages)} condition(s) failed at the nominal parameters; nllh is inf "
          f"(tables in {args.out}/)", file=sys.stderr)
    return 1


def _fit_problem(args: argparse.Namespace):
    """(PEtab YAML path, the model of blot data or None, the problem's objective, the owner or None).

    Blot data are converted to a PEtab problem in ``--out/petab`` (the folder is claimed first); a PEtab problem is
    claimed by the caller once it is known to load.
    """
    from ..fit import blots_to_petab, objective_for, read_blot_data

    if args.data is not None:
        if not args.model:
            raise InputError("--data needs --model M (the model the blots are fitted to), e.g. --model mpnst.")
        model = _load_with_drugs(args.model, args.add_drug, args.metadata)
        estimate = _parse_estimate(args.estimate, model)
        data = read_blot_data(args.data, model)
        owner = _claim_fit(args, model)
        yaml_path = blots_to_petab(model, data, args.out / "petab", estimate=estimate or None)
        return yaml_path, model, objective_for(yaml_path), owner
    if args.model or args.estimate or args.add_drug or args.metadata:
        raise InputError("--model, --metadata, --estimate and --add-drug belong to --data; a PEtab problem names its "
                         "own SBML model (add a drug to it there: its conditions table sets the dose parameter) and "
                         "its estimated parameters.")
    return args.petab, None, objective_for(args.petab), None


def _print_fit(result, profiles, errors, t_fit: float, out) -> None:
    from ..fit import THRESHOLD_95

    best = result.best
    prior = f" (nlprior {best.nlprior:.6g}, nlpost {best.nlpost:.6g}, the minimised value)" if result.priors else ""
    print(f"{result.n_ok} of {len(result.starts)} starts ok; best nllh {best.nllh:.6g}{prior} (start {best.start}); "
          f"{len(result.within())} within {THRESHOLD_95:.2f} of it; {t_fit:.1f} s; tables in {out}/")
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
