"""The ``mekisim`` argument parser: one function per verb (:data:`VERBS`), options shared through parent parsers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

ADD_DRUG_HELP = ("add an occupancy inhibitor D^h/(D^h+IC50^h) of the rate laws of named reactions, to any model "
                 "(e.g. meki:J6,J7:10nM); repeatable")

READOUT_HELP = ("a readout of the model (Model A: perk_suppression, viability (default), apoptosis, g0g1, "
                "cleaved_parp; Model B: growth_d33 (default), senescent_d33, regrowth_d33), or any observable or "
                "species id (or "
                "species:ID), read as its steady-state level relative to untreated (fraction affected = 1 - "
                "value/untreated; an oscillating condition is read as its time-average over the last periods)")

#: --force of every verb that writes an output folder (simulator/files/_ownership.py)
_FORCE_HELP = ("replace the results already in --out (of this or another command): the files that run wrote there "
               "are deleted first; without it an --out folder holding results is refused")
_ADD_DRUG_METAVAR = "NAME:REACTION[,REACTION...]:IC50[:HILL]"
_MODEL_HELP = "bundled model name (mpnst, melanoma; see `mekisim models`) or a path to an .ant or SBML .xml file"
_OUT_DIR_HELP = "output folder for the tables (CSV + Parquet), figures and manifest.json (see README, Output tables)"
_MODE_HELP = ("fast: readouts from steady-state signalling with closed-form cell numbers (default); full: cell numbers "
              "integrated with the signalling over the assay time (72 h); docs/notes/readouts.md says when they differ")
_DOSE_PAIRS_HELP = "N log-spaced doses of drug {} plus 0, or D:D1,D2,... (the listed doses plus 0)"

# ------------------------------------------------------------------------------------- parent parsers


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def _model_options(*, help_model: str | None = None, add_drug_help: str = ADD_DRUG_HELP,
                   required: bool = True) -> argparse.ArgumentParser:
    """``--model`` and ``--add-drug``: every verb that loads a model."""
    parent = _parent()
    parent.add_argument("--model", required=required, metavar="M", help=help_model or _MODEL_HELP)
    parent.add_argument("--add-drug", action="append", default=[], metavar=_ADD_DRUG_METAVAR, help=add_drug_help)
    parent.add_argument("--metadata", type=Path, metavar="FILE.toml",
                        help="the model's metadata (observables, readouts, switches, pre-equilibration, cell_lines_of) "
                             "from FILE.toml instead of the model file's sibling .toml: a renamed copy of a bundled "
                             "model keeps its cell lines, drugs, readouts and switches (--metadata models/mpnst.toml)")
    return parent


def _values_options() -> argparse.ArgumentParser:
    """``--set`` and ``--switch-off``: parameter values of every simulated condition, before pre-equilibration."""
    parent = _parent()
    parent.add_argument("--set", action="append", default=[], dest="set_values", metavar="PARAM=VALUE[,P2=V2]",
                        help="set a parameter or initial value of the model (its own units) in every condition, "
                             "treated and untreated, so before pre-equilibration; it overrides the cell line's value; "
                             "repeatable or comma-separated (e.g. --set kfbS=0)")
    parent.add_argument("--switch-off", action="append", default=[], dest="switch_off", metavar="NAME[,NAME...]",
                        help="turn off named switches of the model's metadata ([switches]; Model A: sos_feedback, "
                             "raf_feedback, dusp_feedback, fak_src_bypass, pak_crosstalk, ...; mekisim models lists "
                             "them): their values are applied like --set; repeatable or comma-separated")
    return parent


def _where_options() -> argparse.ArgumentParser:
    """``--workers`` or ``--scheduler``: where the work of a parallel verb runs."""
    parent = _parent()
    where = parent.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    return parent


def _resumable_options() -> argparse.ArgumentParser:
    """``--resume`` or ``--force``, ``--no-progress`` and ``--out DIR``: the chunked verbs (screen, sensitivity)."""
    parent = _parent()
    again = parent.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue a killed run in the same --out folder")
    again.add_argument("--force", action="store_true", help=_FORCE_HELP)
    parent.add_argument("--no-progress", action="store_true", help="no progress bar")
    parent.add_argument("--out", required=True, type=Path, metavar="DIR", help=_OUT_DIR_HELP)
    return parent


def _folder_options() -> argparse.ArgumentParser:
    """``--out DIR`` and ``--force``: a verb that writes one output folder in one go."""
    parent = _parent()
    parent.add_argument("--out", required=True, type=Path, metavar="DIR", help=_OUT_DIR_HELP)
    parent.add_argument("--force", action="store_true", help=_FORCE_HELP)
    return parent


# ---------------------------------------------------------------------------------------------- verbs

def _models(sub) -> None:
    sub.add_parser("models", help="list bundled models, cell lines, drugs and observables")


def _simulate(sub) -> None:
    sim = sub.add_parser("simulate", help="steady state or time course of one condition",
                         parents=[_model_options(help_model="bundled model name (mpnst) or .ant/.xml path"),
                                  _values_options()])
    sim.add_argument("--cell-line", metavar="C", help="bundled cell line of the model (default: model defaults)")
    sim.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                     help="drug dose, e.g. trametinib=10nM (bare numbers are nM); repeatable or comma-separated")
    mode = sim.add_mutually_exclusive_group(required=True)
    mode.add_argument("--steady-state", action="store_true", help="steady state with the drug present")
    mode.add_argument("--time", metavar="T0:T1:N",
                      help="time course: N points from T0 to T1 (model units, or with a unit: 0:24h:50)")
    preeq = sim.add_mutually_exclusive_group()
    preeq.add_argument("--no-pre-equilibrate", action="store_true",
                       help="time course from the model's initial conditions instead of the untreated steady state")
    preeq.add_argument("--pre-equilibrate", action="store_true",
                       help="time course from the untreated steady state even without a dose or a declared "
                            "[pre_equilibration] protocol (default: pre-equilibrate when a drug is dosed or the "
                            "model declares one; otherwise start from the initial conditions)")
    sim.add_argument("--select", metavar="ID[,ID...]", help="ids to report (default: the model's observables)")
    sim.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE.csv or FILE.parquet")
    sim.add_argument("--force", action="store_true",
                     help="overwrite an existing --out file that mekisim simulate did not write")
    sim.add_argument("--plot", type=Path, metavar="FILE.png", help="write a figure (.png, .svg or .pdf)")


def _dose_response(sub) -> None:
    dr = sub.add_parser("dose-response", help="dose series of one drug in one cell line, with a logistic fit",
                        parents=[_model_options(), _values_options(), _folder_options()])
    dr.add_argument("--cell-line", metavar="C",
                    help="bundled cell line of the model (default: the model's own parameter values)")
    dr.add_argument("--drug", required=True, metavar="D",
                    help="the drug dosed (a catalogue drug or an --add-drug name)")
    dr.add_argument("--doses", required=True, metavar="LO:HI:N",
                    help="N log-spaced doses (nM or with units) plus 0, or D1,D2,... (the listed doses plus 0)")
    dr.add_argument("--readout", default=None, metavar="R", help=READOUT_HELP)
    dr.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                    help="a fixed background dose of another drug; repeatable or comma-separated")
    dr.add_argument("--mode", choices=("fast", "full"), default="fast", help=_MODE_HELP)
    dr.add_argument("--curve", choices=("free", "normalized"), default="free",
                    help="the logistic model: 'free' = 4PL with top and bottom free (default, the screen's "
                         "single-agent fits too); 'normalized' = top 100 and bottom 0 fixed (Prism's normalized "
                         "response, the source paper's model)")


def _screen(sub) -> None:
    scr = sub.add_parser("screen", help="dose matrix of two drugs x cell lines (x ensemble) with synergy scores",
                         parents=[_model_options(), _values_options(), _where_options(), _resumable_options()])
    scr.add_argument("--cell-lines", metavar="C1,C2,...",
                     help="bundled cell lines of the model (default: the model's own parameter values)")
    scr.add_argument("--drug-a", required=True, metavar="D:LO:HI:N", help=_DOSE_PAIRS_HELP.format("A"))
    scr.add_argument("--drug-b", required=True, metavar="D:LO:HI:N", help=_DOSE_PAIRS_HELP.format("B"))
    scr.add_argument("--readout", action="append", default=None, metavar="R",
                     help="readout(s) to compute (default: the model's inhibition readouts; Model A: "
                          "perk_suppression and viability); any observable or species id (or species:ID) is read "
                          "as its level relative to untreated; repeatable")
    scr.add_argument("--ensemble", type=Path, metavar="FILE", help="parameter vectors (CSV/TSV/Parquet), one per row")
    scr.add_argument("--ratio", metavar="A:B", help="dose ratio for the constant-ratio CI (default: IC50 ratio)")
    scr.add_argument("--target-suppression", type=float, default=None, metavar="F",
                     help="p-ERK suppression a combination must reach to be ranked (default 0.8; needs the "
                          "perk_suppression readout)")
    scr.add_argument("--mode", choices=("fast", "full"), default="fast", help=_MODE_HELP)
    scr.add_argument("--synergyfinder", action="store_true",
                     help="also write synergyfinder_<readout>_inhibition.csv per inhibition readout: SynergyFinder's "
                          "table format (PairIndex, Drug1, Drug2, Conc1, Conc2, Response, ConcUnit) with Response in "
                          "%% inhibition (tell SynergyFinder: data_type = \"inhibition\")")


def _sensitivity(sub) -> None:
    sens = sub.add_parser("sensitivity",
                          help="parameter sensitivity (Sobol, Morris, eFAST, local) of outputs of interest",
                          parents=[_model_options(), _values_options(), _where_options(), _resumable_options()])
    sens.add_argument("--method", required=True, choices=("sobol", "morris", "efast", "local"),
                      help="sobol: first/total (and second-order) indices; morris: elementary effects (mu*, sigma); "
                           "efast: first/total indices by Fourier amplitude; local: scaled derivatives d ln y/d ln p")
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
    _sensitivity_design(sens)


def _sensitivity_design(sens: argparse.ArgumentParser) -> None:
    """The parameter space and the method's settings of ``mekisim sensitivity``."""
    sens.add_argument("--ranges", type=Path, metavar="FILE",
                      help="parameter range overrides, TOML or TSV (param, low, high, dist)")
    sens.add_argument("--factor", type=float, metavar="F",
                      help="default ranges are log-uniform on [p/F, p*F] around each default (default 2)")
    sens.add_argument("--params", metavar="P1,P2,...", help="vary only these parameters")
    sens.add_argument("--exclude", metavar="P1,P2,...", help="hold these parameters at their defaults")
    sens.add_argument("--seed", type=int, default=0, metavar="S",
                      help="seed of the sample design (default 0): the same seed gives the same samples")
    sens.add_argument("--second-order", action="store_true", help="Sobol: also S2 (N(2D+2) runs)")
    sens.add_argument("--levels", type=int, default=None, metavar="L", help="Morris grid levels (even; default 4)")
    sens.add_argument("--replicates", type=int, default=None, metavar="R",
                      help="eFAST: independent designs; CIs from their spread (>= 2) instead of the bootstrap")
    sens.add_argument("--step", type=float, default=None, metavar="H", help="local: step in ln p (default 0.01)")
    sens.add_argument("--resamples", type=int, default=200, metavar="B", help="bootstrap draws per index")
    sens.add_argument("--drop-failed", action="store_true",
                      help="Sobol/Morris: drop whole blocks/trajectories with failed runs instead of refusing")


def _fit(sub) -> None:
    model = _model_options(required=False, help_model="model of --data: bundled name or .ant/.xml path",
                           add_drug_help="with --data: " + ADD_DRUG_HELP
                                         + " (the blots' <NAME>_nM dose columns can then name it)")
    fit = sub.add_parser("fit", help="multistart fit of a PEtab problem or western-blot data, with profiles",
                         parents=[model, _where_options(), _folder_options()])
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--petab", type=Path, metavar="PROBLEM.yaml", help="a PEtab v1 problem")
    source.add_argument("--data", type=Path, metavar="FILE.csv",
                        help="western-blot data (lane densitometry or ratio summaries); needs --model")
    fit.add_argument("--estimate", action="append", default=[], metavar="LINE:P1,P2,...",
                     help="with --data: estimate these model parameters per cell line; repeatable")
    fit.add_argument("--starts", type=int, default=20, metavar="N",
                     help="Latin-hypercube starts (default 20); 0: evaluate the likelihood at the nominal parameters "
                          "(nominal.json, fit-vs-data table and figure, PEtab simulation.tsv)")
    fit.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the starts (default 0)")
    fit.add_argument("--profile", metavar="P1,P2,...", help="profile likelihoods of these estimated parameters")
    fit.add_argument("--max-nfev", type=int, default=500, metavar="K", help="residual evaluations per start")
    fit.add_argument("--max-time-per-start", type=float, default=600.0, metavar="SECONDS",
                     help="wall-time budget of one start (default 600); a start that exceeds it ends with status "
                          "'budget' and its best point so far")
    fit.add_argument("--max-solves-per-start", type=int, default=50_000, metavar="N",
                     help="budget of ODE solves (every condition once) per start (default 50000)")
    fit.add_argument("--max-steps", type=int, default=20_000, metavar="N",
                     help="CVODE steps allowed per output interval of one solve (default 20000)")
    fit.add_argument("--no-progress", action="store_true", help="no progress bars (starts, profiles)")
    fit.add_argument("--gradient", choices=("exact", "fd"), default="exact",
                     help="derivatives of the ODE parameters: exact forward sensitivities (default; a model they do "
                          "not cover falls back to differences) or fd, central differences")
    fit.add_argument("--optimizer", choices=("trf", "fides", "fides-hybrid"), default=None,
                     help="local optimiser of each start: trf (scipy least squares) or fides (trust region on the "
                          "Gauss-Newton Hessian; fides-hybrid switches to BFGS late); default: FitSettings' "
                          "(benchmarks/RESULTS.md, 'Optimiser of a start')")
    fit.add_argument("--representative", action="store_true",
                     help="label the data as representative (derived from a paper's directions), not digitized, on "
                          "every plot (always on for --data built from the bundled representative blots)")


def _report(sub) -> None:
    rep = sub.add_parser("report", help="write DIR/report.html from the stored results under DIR")
    rep.add_argument("directory", type=Path, metavar="DIR",
                     help="a folder written by mekisim (screen, sensitivity, fit, dose-response or demo)")
    rep.add_argument("--synergyfinder", action="store_true",
                     help="also write each screen's synergyfinder_<readout>_inhibition.csv (SynergyFinder's table "
                          "format, Response in %% inhibition) next to its tables")
    rep.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes drawing the figures (default: all cores)")


def _validate(sub) -> None:
    val = sub.add_parser("validate", help="lint models, drug catalogues, cell lines and metadata; all issues at once")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE",
                     help="models (.ant, .xml), drugs.toml, cell_lines.toml, model metadata (.toml), blot data "
                          "(.csv), PEtab problems (.yaml) or study configs")


def _demo(sub) -> None:
    demo = sub.add_parser("demo", help="the main job: parental vs trametinib-resistant MPNST (see README)")
    demo.add_argument("--out", type=Path, default=Path("results/demo"), metavar="DIR",
                      help="output folder of the demo's parts and report (default results/demo)")
    demo.add_argument("--smoke", action="store_true", help="small dose grids (seconds instead of a minute)")
    demo.add_argument("--workers", type=int, metavar="N", help="local processes (default: all cores)")
    demo.add_argument("--force", action="store_true", help=_FORCE_HELP)


def _teach(sub) -> None:
    """``mekisim teach list | run N --out DIR [--smoke] [--force] | serve [--port P] [--host H]``."""
    teach = sub.add_parser("teach", help="the six lessons on pathway feedback: list, run as HTML, live page",
                           description="Lessons on pathway feedback (experiments/lessons) and a live teaching page.")
    verbs = teach.add_subparsers(dest="teach_command", required=True, metavar="ACTION",
                                 help="list the lessons, run one as HTML, or serve the live page")
    verbs.add_parser("list", help="the lessons, one line each: number, title, question")
    run = verbs.add_parser("run", help="execute lesson N; write DIR/lesson_N.html (self-contained) and its .ipynb")
    run.add_argument("number", type=int, metavar="N", help="lesson number (mekisim teach list)")
    run.add_argument("--out", type=Path, required=True, metavar="DIR")
    run.add_argument("--smoke", action="store_true", help="coarse grids: seconds instead of up to a minute")
    run.add_argument("--force", action="store_true", help="replace lesson_N.html/.ipynb already in DIR")
    serve = verbs.add_parser("serve", help="the live page: switches, doses, time; plots update at once")
    serve.add_argument("--port", type=int, default=8050, metavar="P", help="TCP port (default 8050; 0: any free port)")
    serve.add_argument("--host", default="127.0.0.1", metavar="H",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: a classroom)")


def _export(sub) -> None:
    """``mekisim export``: a condition (or a stored screen) as standalone SBML/Antimony or a COMBINE archive."""
    model = _model_options(required=False, help_model="bundled model name (mpnst, melanoma) or .ant/.xml path; with "
                                                      "--screen: the screen's model when it cannot be rebuilt from its "
                                                      "manifest")
    exp = sub.add_parser(
        "export", help="a condition or a screen as standalone SBML/Antimony or a COMBINE archive (SED-ML)",
        description="Write a condition mekisim can simulate as a standalone model (SBML or Antimony: cell line, "
                    "doses, drug terms and values written in; a pre-equilibrated time course starts from the "
                    "untreated steady state) or as a COMBINE archive (OMEX) with that model, a SED-ML description of "
                    "the simulation and its outputs, and mekisim's own result as a reference. Run an archive in "
                    "tellurium: python -c \"import tellurium as te; te.executeCombineArchive('r1_tram.omex')\"",
        parents=[model, _values_options()])
    exp.add_argument("--cell-line", metavar="C", help="bundled cell line of the model (default: model defaults)")
    exp.add_argument("--dose", action="append", default=[], metavar="DRUG=AMOUNT",
                     help="drug dose, e.g. trametinib=10nM (bare numbers are nM); repeatable or comma-separated")
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


#: verb -> the function that adds its parser, in the order ``mekisim --help`` lists them
VERBS: dict[str, Callable[..., None]] = {
    "models": _models, "simulate": _simulate, "dose-response": _dose_response, "screen": _screen,
    "sensitivity": _sensitivity, "fit": _fit, "report": _report, "validate": _validate, "demo": _demo,
    "teach": _teach, "export": _export,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``mekisim`` argument parser (exposed for documentation and tests).

    Returns
    -------
    argparse.ArgumentParser
        One sub-parser per verb of :data:`VERBS`; options that several verbs share come from parent parsers.
    """
    parser = argparse.ArgumentParser(
        prog="mekisim",
        description="Mechanistic signalling-pathway ODE simulation of kinase-inhibitor resistance and combinations.",
    )
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    parser.add_argument("--version", action="version", version=_version_text(),
                        help="print mekisim's version (and libroadrunner's) and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in VERBS.values():
        add(sub)
    for verb, verb_parser in sub.choices.items():  # examples at the end of every verb's --help
        verb_parser.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[verb])
        verb_parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _version_text() -> str:
    """``mekisim X.Y.Z (libroadrunner A.B.C, Python D.E.F)``, without importing roadrunner."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        roadrunner = version("libroadrunner")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        roadrunner = "not installed"
    return f"mekisim {__version__} (libroadrunner {roadrunner}, Python {platform.python_version()})"


#: verb -> two or three example command lines, shown at the end of ``mekisim VERB --help``
EXAMPLES: dict[str, tuple[str, ...]] = {
    "models": ("mekisim models",),
    "simulate": (
        "mekisim simulate --model mpnst --cell-line S462_R1 --dose trametinib=10nM --steady-state",
        "mekisim simulate --model mpnst --dose trametinib=3nM --time 0:24h:97 --out tc.csv --plot tc.png",
        "mekisim simulate --model my_model.xml --time 0:30:61      # from the initial conditions",
    ),
    "dose-response": (
        "mekisim dose-response --model mpnst --cell-line S462_R1 --drug trametinib --doses 0.01:10000:25 --out dr/",
        "mekisim dose-response --model mpnst --drug trametinib --doses 1,3,10,30,100 --readout perk_suppression "
        "--out dr2/",
    ),
    "screen": (
        "mekisim screen --model mpnst --cell-lines S462,S462_R1 --drug-a trametinib:0.1:100:9 \\\n"
        "      --drug-b src_inhibitor_1:30:10000:9 --ratio 1:1000 --out screen/",
        "mekisim screen --model mpnst --drug-a trametinib:1,3,10 --drug-b src_inhibitor_1:100,300,1000 "
        "--synergyfinder --out plate/",
        "mekisim screen ... --out screen/ --resume                # continue a killed run",
    ),
    "sensitivity": (
        "mekisim sensitivity --model mpnst --method morris --output viability@line=S462_R1,trametinib=10nM "
        "--out morris/",
        "mekisim sensitivity --model melanoma --method morris --n 8 --cell-line SKMEL30 \\\n"
        "      --output \"regrowth_d33@trametinib=10nM,palbociclib=500nM\" --out sens_escape/",
    ),
    "fit": (
        "mekisim fit --petab problem.yaml --starts 50 --profile k1,k2 --out fit/",
        "mekisim fit --model mpnst --data experiments/fit_mpnst_blots/data/mpnst_blots_summary.csv \\\n"
        "      --estimate S462_R1:ksL,Itot --profile ksL_S462_R1,Itot_S462_R1 --out fit_blots/",
    ),
    "report": (
        "mekisim report screen/                  # writes screen/report.html (one self-contained file)",
        "mekisim report results/demo --synergyfinder",
    ),
    "validate": (
        "mekisim validate models/mpnst.ant models/drugs.toml models/cell_lines.toml",
        "mekisim validate my_model.xml problem.yaml",
    ),
    "teach": (
        "mekisim teach list",
        "mekisim teach run 1 --out lessons/ --smoke     # lesson_1.html and lesson_1.ipynb",
        "mekisim teach serve --port 8050                 # the live page on http://127.0.0.1:8050",
    ),
    "export": (
        "mekisim export --model mpnst --cell-line S462_R1 --dose trametinib=3nM --time 0:240:241 --out r1_tram.omex",
        "mekisim export --model mpnst --cell-line S462_R1 --set Itot=3,kE=0.5 --steady-state --out r1.xml",
        "mekisim export --screen results/screen --out screen.omex",
    ),
    "demo": (
        "mekisim demo --out results/demo",
        "mekisim demo --smoke --out /tmp/demo     # small grids, seconds",
    ),
}


def _attach_dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--doses -1,-2`` as ``--doses=-1,-2``: a value that starts with '-' is given to its option.

    Why: argparse takes any token starting with '-' (other than a plain negative number) for an option, so
    ``--doses -1,-2`` failed with "expected one argument" instead of our message that doses must be >= 0.
    Only for options that take a value, and only when the next token is not itself an option of mekisim.
    """
    takes_value: set[str] = set()
    options: set[str] = set()
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
