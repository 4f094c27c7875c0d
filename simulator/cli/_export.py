"""``mekisim export``: a condition or a stored screen as standalone SBML/Antimony or a COMBINE archive.

The work is in :mod:`simulator.export`; this module parses, calls and prints.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..errors import InputError
from ..units import parse_time_span
from ._common import _load_with_drugs, _parameter_values, _parse_doses


def _export(args: argparse.Namespace) -> int:
    from ..engine import SolverOptions
    from ..export import export_condition, export_screen
    from ..model import resolve_values

    if args.screen is not None:
        asked = [opt for opt, value in (("--cell-line", args.cell_line), ("--dose", args.dose),
                                       ("--set", args.set_values), ("--switch-off", args.switch_off),
                                       ("--no-pre-equilibrate", args.no_pre_equilibrate),
                                       ("--rtol", args.rtol), ("--atol", args.atol)) if value]
        if asked:
            raise InputError(f"--screen exports the screen as it ran; {', '.join(asked)} would change it. Leave them "
                             "out, or export one condition with --model ... --time/--steady-state.")
        if args.format not in (None, "omex"):
            raise InputError(f"--screen is exported as a COMBINE archive (--format omex), not {args.format}.")
        if args.add_drug and not args.model:
            raise InputError("--add-drug with --screen needs --model M: together they give the screen's model when "
                             "its manifest cannot rebuild it (leave both out to rebuild it from the manifest).")
        model = _load_with_drugs(args.model, args.add_drug, args.metadata) if args.model else None
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
    model = _load_with_drugs(args.model, args.add_drug, args.metadata)
    given, switches = _parameter_values(args, model)
    values = resolve_values(model, given, switches)  # the switches' values are written into the model like --set's
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

