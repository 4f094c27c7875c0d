"""Bad and unusual input to every verb and file type: exit code 1 (2 for argparse usage), no traceback, and a
message that names the offending value.

Each case runs ``simulator.cli.main(argv)`` in-process. To add one, append a :class:`Case` to :data:`CASES`:
``argv`` may use ``{tmp}`` (the test's folder), ``{k10}`` (Kholodenko 2000, BIOMD0000000010, a model without
cell lines, declared readouts or global parameters) and ``{name}`` for any file of ``files`` (name -> text or
bytes, written into ``{tmp}`` first); ``expect`` lists substrings that must all appear in the output (stdout
and stderr together, since ``validate`` reports on stdout). Cases refuse before simulating, except the few
that must simulate to find the problem, so the table runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from simulator.cli import main
from simulator.files import bundled_dir
from tests.conftest import BENCHMARKS

K10 = BENCHMARKS / "biomodels" / "BIOMD0000000010.xml"
STUDY = (bundled_dir().parent / "experiments" / "mpnst_combinations" / "config.toml").read_text(encoding="utf-8")
SUMMARY_BLOTS = ("cell_line,condition,time,observable,mean,sem,n\n"
                 "S462,DMSO,0,pERK,1,0.1,3\nS462_R1,DMSO,0,pERK,2.5,0.2,3\n")
DRUGS_OK = '[d]\nname = "D"\ntarget = "T"\nmechanism = "m"\nic50_nM = 1\nprovenance = "assumed"\n'
UNITLESS = "J1: -> X; k\nJ2: X -> ; kd*X\nX = 1\nk = 1\nkd = 0.1\n"
BLOWS_UP = "J1: -> X; k*X^2\nX = 1\nk = 1\n"

MPNST_SCREEN = ("screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1:10:2",
                "--drug-b", "src_inhibitor_1:100:1000:2", "--workers", "1", "--no-progress", "--out", "{tmp}/out")
K10_MEKI = ("--model", "{k10}", "--add-drug", "meki:J6,J7:10nM")
MORRIS = ("sensitivity", "--model", "mpnst", "--method", "morris", "--workers", "1", "--no-progress",
          "--out", "{tmp}/out")


@dataclass(frozen=True)
class Case:
    """One bad input: the command line, what the message must name, the exit code, files it needs."""

    id: str
    argv: tuple[str, ...]
    expect: tuple[str, ...]
    code: int = 1
    files: dict[str, str | bytes] = field(default_factory=dict)


def screen(*replace: str | None, files=None, expect=(), id="") -> Case:
    """The small Model A screen with options replaced, added or (value None) removed: ``--opt value`` pairs."""
    argv = list(MPNST_SCREEN)
    for option, value in zip(replace[::2], replace[1::2], strict=True):
        if option in argv:
            at = argv.index(option)
            argv[at:at + 2] = [] if value is None else [option, value]
        elif value is not None:
            argv[1:1] = [option, value]
    return Case(id, tuple(argv), tuple(expect), files=files or {})


CASES = [
    # ------------------------------------------------------------------------------------------- usage (exit 2)
    Case("models-unknown-option", ("models", "--colour"), ("--colour",), code=2),
    Case("unknown-verb", ("frobnicate",), ("frobnicate",), code=2),
    Case("simulate-without-mode", ("simulate", "--model", "mpnst"), ("--steady-state", "--time"), code=2),
    Case("dose-response-without-out", ("dose-response", "--model", "mpnst", "--drug", "trametinib", "--doses",
                                       "1:10:3"), ("--out",), code=2),
    Case("sensitivity-unknown-method", (*MORRIS[:4], "bogus"), ("bogus",), code=2),
    Case("fit-without-source", ("fit", "--out", "x"), ("--petab", "--data"), code=2),
    Case("demo-unknown-option", ("demo", "--fast"), ("--fast",), code=2),
    Case("screen-mode-unknown", screen("--mode", "fastest").argv, ("fastest",), code=2),
    # ------------------------------------------------------------------------------------------- models
    Case("model-unknown", ("simulate", "--model", "nosuchmodel", "--steady-state"), ("nosuchmodel", "mpnst")),
    Case("model-file-missing", ("simulate", "--model", "{tmp}/gone.xml", "--steady-state"), ("gone.xml",)),
    Case("model-suffix", ("simulate", "--model", "{tmp}/m.json", "--steady-state"), ("'.json'", ".xml"),
         files={"m.json": "{}"}),
    Case("antimony-syntax", ("simulate", "--model", "{bad.ant}", "--steady-state"), ("bad.ant", "could not be parsed"),
         files={"bad.ant": "J1: A -> B; k*A\nk = = 3\n"}),
    Case("sbml-invalid", ("simulate", "--model", "{bad.xml}", "--steady-state"), ("bad.xml", "not valid"),
         files={"bad.xml": "<sbml><model><listOfSpecies><species id='A'/></model></sbml>"}),
    Case("antimony-latin1", ("simulate", "--model", "{latin.ant}", "--steady-state"),
         ("latin.ant", "not UTF-8", "0xe9"), files={"latin.ant": b"// caf\xe9\nJ1: -> X; k\nX = 0\nk = 1\n"}),
    Case("metadata-invalid-toml", ("simulate", "--model", "{meta.ant}", "--steady-state"), ("meta.toml", "TOML"),
         files={"meta.ant": UNITLESS, "meta.toml": "time_unit = \n"}),
    Case("metadata-bad-time-unit", ("simulate", "--model", "{week.ant}", "--steady-state"), ("'weeks'", "s, min"),
         files={"week.ant": UNITLESS, "week.toml": 'time_unit = "weeks"\n'}),
    Case("metadata-readout-unknown-field", ("simulate", "--model", "{ro.ant}", "--steady-state"),
         ("[readouts.r]", "colour"),
         files={"ro.ant": UNITLESS, "ro.toml": 'time_unit = "h"\n[readouts.r]\nlabel = "R"\nunit = "u"\n'
                                               'observable = "X"\ntime = 24\ncolour = "red"\n'}),
    Case("metadata-observable-not-in-model", ("simulate", "--model", "{ob.ant}", "--steady-state"), ("'pJNK'",),
         files={"ob.ant": UNITLESS, "ob.toml": '[observables.pJNK]\nlabel = "p-JNK"\nunit = "a.u."\n'}),
    # ------------------------------------------------------------------------------------------- simulate
    Case("cell-line-unknown", ("simulate", "--model", "mpnst", "--cell-line", "HeLa", "--steady-state"),
         ("'HeLa'", "S462_R1")),
    Case("cell-line-on-user-model", ("simulate", "--model", "{k10}", "--cell-line", "S462", "--steady-state"),
         ("'S462'", "no bundled cell lines")),
    Case("drug-unknown", ("simulate", "--model", "mpnst", "--dose", "aspirin=1", "--steady-state"),
         ("'aspirin'", "trametinib", "--add-drug")),
    Case("dose-negative", ("simulate", "--model", "mpnst", "--dose", "trametinib=-5nM", "--steady-state"),
         ("'-5nM'", "negative")),
    Case("dose-dash-value", ("simulate", "--model", "mpnst", "--dose", "-5", "--steady-state"),
         ("'-5'", "DRUG=AMOUNT")),
    Case("dose-1e30", ("simulate", "--model", "mpnst", "--dose", "trametinib=1e30", "--steady-state"),
         ("'1e30'", "1 M")),
    Case("dose-unit", ("simulate", "--model", "mpnst", "--dose", "trametinib=5furlongs", "--steady-state"),
         ("'furlongs'", "uM")),
    Case("dose-twice", ("simulate", "--model", "mpnst", "--dose", "trametinib=1,trametinib=2", "--steady-state"),
         ("'trametinib'", "twice")),
    Case("time-span-form", ("simulate", "--model", "mpnst", "--time", "0:24h"), ("'0:24h'", "T0:T1:N")),
    Case("time-points-huge", ("simulate", "--model", "mpnst", "--time", "0:24h:100000000"),
         ("100,000,000", "GB")),
    Case("time-points-one", ("simulate", "--model", "mpnst", "--time", "0:24h:1"), ("'0:24h:1'", ">= 2")),
    Case("time-backwards", ("simulate", "--model", "mpnst", "--time", "10:5:3"), ("'10:5:3'", "T0 < T1")),
    Case("time-unit-undeclared", ("simulate", "--model", "{u.ant}", "--time", "0:24h:5"),
         ("'24h'", "does not declare its time unit"), files={"u.ant": UNITLESS}),
    Case("select-unknown", ("simulate", "--model", "mpnst", "--steady-state", "--select", "pJNK"),
         ("'pJNK'", "pERK")),
    Case("plot-suffix", ("simulate", "--model", "mpnst", "--steady-state", "--plot", "{tmp}/t.jpg"),
         ("t.jpg", ".png")),
    Case("out-suffix", ("simulate", "--model", "mpnst", "--steady-state", "--out", "{tmp}/table.xlsx"),
         (".xlsx", ".parquet")),
    Case("add-drug-form", ("simulate", "--model", "{k10}", "--add-drug", "meki:J6", "--steady-state"),
         ("'meki:J6'", "NAME:REACTION")),
    Case("add-drug-reaction", ("simulate", "--model", "{k10}", "--add-drug", "meki:J99:10", "--steady-state"),
         ("'J99'", "J6")),
    Case("add-drug-catalogue-name", ("simulate", "--model", "{k10}", "--add-drug", "trametinib:J6:10",
                                     "--steady-state"), ("'trametinib'", "catalogue")),
    Case("add-drug-ic50-zero", ("simulate", "--model", "{k10}", "--add-drug", "meki:J6:0", "--steady-state"),
         ("meki:J6:0", "> 0")),
    Case("add-drug-twice", ("simulate", "--model", "{k10}", "--add-drug", "meki:J6:10", "--add-drug", "meki:J7:10",
                            "--steady-state"), ("'meki'", "more than once", "meki:J6,J7:IC50")),
    Case("select-empty", ("simulate", "--model", "mpnst", "--steady-state", "--select", ","), ("--select ','",)),
    Case("add-drug-hill", ("simulate", "--model", "{k10}", "--add-drug", "meki:J6:10:steep", "--steady-state"),
         ("'steep'",)),
    Case("no-pre-equilibrate-with-steady-state", ("simulate", "--model", "mpnst", "--steady-state",
                                                  "--no-pre-equilibrate"), ("--no-pre-equilibrate", "--time")),
    Case("blow-up-time-course", ("simulate", "--model", "{blow.ant}", "--no-pre-equilibrate", "--time", "0:2:5"),
         ("X grows without bound near t = 1",), files={"blow.ant": BLOWS_UP}),
    Case("rate-not-a-number", ("simulate", "--model", "{nan.ant}", "--no-pre-equilibrate", "--time", "0:3:4"),
         ("rate of change of X is not a number", "t = 0"), files={"nan.ant": "J1: -> X; 1/(X-X)\nX = 0\n"}),
    Case("parameter-without-value", ("simulate", "--model", "{nok.ant}", "--steady-state"),
         ("'k' is missing a value",), files={"nok.ant": "J1: -> X; k\nX = 0\n"}),
    Case("blow-up-steady-state", ("simulate", "--model", "{blow.ant}", "--steady-state"),
         ("no steady state", "X grows without bound"), files={"blow.ant": BLOWS_UP}),
    # ------------------------------------------------------------------------------------------- dose-response
    Case("doses-negative-dash", ("dose-response", "--model", "mpnst", "--cell-line", "S462", "--drug", "trametinib",
                                 "--doses", "-1,-2", "--out", "{tmp}/o"), ("'-1'", "negative")),
    Case("doses-count-zero", ("dose-response", "--model", "mpnst", "--drug", "trametinib", "--doses", "1:10:0",
                              "--out", "{tmp}/o"), ("'trametinib:1:10:0'", "0 doses")),
    Case("doses-backwards", ("dose-response", "--model", "mpnst", "--drug", "trametinib", "--doses", "10:1:5",
                             "--out", "{tmp}/o"), ("10:1:5", "0 < LO < HI")),
    Case("doses-too-many", ("dose-response", "--model", "mpnst", "--drug", "trametinib", "--doses", "1:10:100000",
                            "--out", "{tmp}/o"), ("100000", "limit")),
    Case("doses-repeated", ("dose-response", "--model", "mpnst", "--drug", "trametinib", "--doses", "1,3,1",
                            "--out", "{tmp}/o"), ("'trametinib:1,3,1'", "more than once")),
    Case("doses-1e30", ("dose-response", "--model", "mpnst", "--drug", "trametinib", "--doses", "0.1:1e30:3",
                        "--out", "{tmp}/o"), ("'1e30'", "1 M")),
    Case("dose-response-readout-unknown", ("dose-response", *K10_MEKI, "--drug", "meki", "--readout", "FOO",
                                           "--doses", "1:10:3", "--out", "{tmp}/o"), ("'FOO'", "species:")),
    Case("dose-response-user-model-no-readout", ("dose-response", *K10_MEKI, "--drug", "meki", "--doses", "1:10:3",
                                                 "--out", "{tmp}/o"), ("no inhibition readout", "--readout")),
    Case("dose-response-drug-not-added", ("dose-response", "--model", "{k10}", "--drug", "meki", "--readout",
                                          "MAPK_PP", "--doses", "1:10:3", "--out", "{tmp}/o"),
         ("'meki'", "--add-drug")),
    Case("dose-response-level-full-mode", ("dose-response", *K10_MEKI, "--drug", "meki", "--readout", "MAPK_PP",
                                           "--mode", "full", "--doses", "1:10:3", "--out", "{tmp}/o"),
         ("MAPK_PP", "'full'")),
    Case("dose-response-species-unknown", ("dose-response", *K10_MEKI, "--drug", "meki", "--readout", "species:Z",
                                           "--doses", "1:10:3", "--out", "{tmp}/o"), ("'species:Z'",)),
    Case("dose-response-background-same-drug", ("dose-response", "--model", "mpnst", "--drug", "trametinib",
                                                "--dose", "trametinib=1", "--doses", "1:10:3", "--out", "{tmp}/o"),
         ("'trametinib'", "background")),
    Case("dose-response-cell-line-user-model", ("dose-response", *K10_MEKI, "--cell-line", "S462", "--drug", "meki",
                                                "--readout", "MAPK_PP", "--doses", "1:10:3", "--out", "{tmp}/o"),
         ("'S462'",)),
    # ------------------------------------------------------------------------------------------- screen
    screen("--cell-lines", "S462,S462", expect=("'S462'", "more than once"), id="screen-line-twice"),
    screen("--cell-lines", ",", expect=("','", "no cell line"), id="screen-lines-empty"),
    screen("--cell-lines", "HeLa", expect=("'HeLa'", "S462_R1"), id="screen-line-unknown"),
    screen("--drug-b", "trametinib:1:10:2", expect=("same drug",), id="screen-same-drug"),
    screen("--drug-a", "trametinib:1:10", expect=("'trametinib:1:10'", "DRUG:LO:HI:N"), id="screen-axis-form"),
    screen("--drug-a", "trametinib:-1,2", expect=("'-1'", "negative"), id="screen-axis-negative-dash"),
    screen("--drug-a", "trametinib:1:10:2000", "--drug-b", "src_inhibitor_1:1:10:2000",
           expect=("4,004,001 wells", "GB"), id="screen-too-many-wells"),
    screen("--ratio", "1:0", expect=("'1:0'", "A:B"), id="screen-ratio-zero"),
    screen("--target-suppression", "2", expect=("2.0", "(0, 1]"), id="screen-target"),
    screen("--workers", "0", expect=("--workers", "0"), id="screen-workers-zero"),
    screen("--workers", "100000", expect=("--workers 100000", "per core", "GB"), id="screen-workers-too-many"),
    screen("--readout", "viability", "--target-suppression", "0.5",
           expect=("--target-suppression 0.5", "perk_suppression"), id="screen-target-without-perk"),
    screen("--workers", None, "--scheduler", "nonsense", expect=("'nonsense'",), id="screen-scheduler"),
    screen("--readout", "FOO", expect=("'FOO'", "viability"), id="screen-readout-unknown"),
    Case("screen-readout-twice", (*screen("--readout", "viability").argv, "--readout", "viability"),
         ("'viability'", "more than once")),
    Case("screen-user-model-no-readout", ("screen", *K10_MEKI, "--add-drug", "rafi:J2:50", "--drug-a", "meki:1:10:2",
                                          "--drug-b", "rafi:1:10:2", "--out", "{tmp}/o"), ("no inhibition readout",)),
    Case("screen-user-model-cell-line", ("screen", *K10_MEKI, "--add-drug", "rafi:J2:50", "--cell-lines", "S462",
                                         "--drug-a", "meki:1:10:2", "--drug-b", "rafi:1:10:2", "--readout", "MAPK_PP",
                                         "--out", "{tmp}/o"), ("'S462'", "leave the cell lines out")),
    screen("--ensemble", "{tmp}/gone.csv", expect=("gone.csv", "does not exist"), id="ensemble-missing"),
    screen("--ensemble", "{ens.csv}", files={"ens.csv": "kdL\n5e-4\n-5e-4\n"}, expect=("kdL = -0.0005", "member 1"),
           id="ensemble-negative"),
    screen("--ensemble", "{ens.csv}", files={"ens.csv": "kdL\n5e-4\nabc\n"}, expect=("'kdL'", "row 3"),
           id="ensemble-not-a-number"),
    screen("--ensemble", "{ens.csv}", files={"ens.csv": "nope\n1\n"}, expect=("nope",), id="ensemble-unknown-param"),
    screen("--ensemble", "{ens.csv}", files={"ens.csv": "kdL;kE\n5e-4;4\n"}, expect=("ens.csv", "semicolons"),
           id="ensemble-semicolons"),
    screen("--ensemble", "{ens.xlsx}", files={"ens.xlsx": "x"}, expect=("'.xlsx'", ".parquet"),
           id="ensemble-suffix"),
    screen("--ensemble", "{ens.csv}", files={"ens.csv": b"\xff\xfek\x00d\x00L\x00\n\x00-\x001\x00\n\x00"},
           expect=("kdL = -1",), id="ensemble-utf16-read-then-checked"),
    # ------------------------------------------------------------------------------------------- sensitivity
    Case("sensitivity-factor-zero", (*MORRIS, "--factor", "0"), ("factor 0.0", "> 1")),
    Case("sensitivity-factor-one", (*MORRIS, "--factor", "1"), ("factor 1.0", "> 1")),
    Case("sensitivity-option-of-other-method", (*MORRIS, "--step", "0.1"), ("--step", "local")),
    Case("sensitivity-levels-with-sobol", (*MORRIS[:4], "sobol", *MORRIS[5:], "--levels", "6"), ("--levels",)),
    Case("sensitivity-sobol-n", (*MORRIS[:4], "sobol", *MORRIS[5:], "--n", "100"), ("100", "power of 2")),
    Case("sensitivity-seed-negative", (*MORRIS, "--seed", "-1"), ("seed -1",)),
    Case("sensitivity-output-untreated-constant", (*MORRIS, "--output", "viability@"),
         ("'viability'", "untreated", "viability@trametinib=10nM")),
    Case("sensitivity-output-unknown", (*MORRIS, "--output", "foo@"), ("'foo'", "species:ID")),
    Case("sensitivity-output-key", (*MORRIS, "--output", "viability@trametinib=10nM,zzz=1"), ("zzz",)),
    Case("sensitivity-output-times", (*MORRIS, "--output", "pERK@t=0:24h:0"), ("'0:24h:0'", ">= 2")),
    Case("sensitivity-output-line", (*MORRIS, "--output", "viability@line=HeLa,trametinib=1"), ("'HeLa'",)),
    Case("sensitivity-cell-line-unknown", (*MORRIS, "--cell-line", "HeLa"), ("--cell-line 'HeLa'", "S462_R1")),
    Case("sensitivity-params-unknown", (*MORRIS, "--params", "nope"), ("nope", "not settable")),
    Case("sensitivity-params-empty", (*MORRIS, "--params", ","), ("--params", "no parameter")),
    Case("sensitivity-exclude-unknown", (*MORRIS, "--exclude", "nope"), ("nope",)),
    Case("sensitivity-local-params-of-user-model", ("sensitivity", *K10_MEKI, "--method", "local", "--params", "V1",
                                                    "--output", "species:MAPK_PP@meki=100", "--out", "{tmp}/o"),
         ("V1", "J0_V1")),
    Case("ranges-missing", (*MORRIS, "--ranges", "{tmp}/gone.toml"), ("gone.toml",)),
    Case("ranges-toml-unknown-key", (*MORRIS, "--ranges", "{r.toml}"), ("r.toml", "bogus"),
         files={"r.toml": "bogus = 1\n"}),
    Case("ranges-toml-low-high", (*MORRIS, "--ranges", "{r.toml}"), ("kE",),
         files={"r.toml": "[parameters.kE]\nlow = 2\nhigh = 1\n"}),
    Case("ranges-toml-syntax", (*MORRIS, "--ranges", "{r.toml}"), ("r.toml", "TOML"), files={"r.toml": "[x\n"}),
    Case("ranges-tsv-commas", (*MORRIS, "--ranges", "{r.tsv}"), ("r.tsv", "commas"),
         files={"r.tsv": "param,low,high,dist\nkE,1,2,uniform\n"}),
    Case("ranges-tsv-header", (*MORRIS, "--ranges", "{r.tsv}"), ("r.tsv", "high"),
         files={"r.tsv": "param\tlow\nkE\t1\n"}),
    # ------------------------------------------------------------------------------------------- fit
    Case("fit-data-without-model", ("fit", "--data", "{b.csv}", "--out", "{tmp}/o"), ("--model",),
         files={"b.csv": SUMMARY_BLOTS}),
    Case("fit-petab-with-model", ("fit", "--petab", "{tmp}/p.yaml", "--model", "mpnst", "--out", "{tmp}/o"),
         ("--model", "PEtab")),
    Case("fit-petab-with-add-drug", ("fit", "--petab", "{tmp}/p.yaml", "--add-drug", "meki:J6:10",
                                     "--out", "{tmp}/o"), ("--add-drug", "SBML")),
    Case("fit-petab-missing", ("fit", "--petab", "{tmp}/gone.yaml", "--out", "{tmp}/o"), ("gone.yaml",)),
    Case("fit-petab-not-yaml", ("fit", "--petab", "{p.yaml}", "--out", "{tmp}/o"), ("p.yaml",),
         files={"p.yaml": "format_version: [1\n"}),
    Case("fit-starts-negative", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--starts", "-1",
                                 "--out", "{tmp}/o"), ("--starts -1",), files={"b.csv": SUMMARY_BLOTS}),
    Case("fit-estimate-form", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--estimate", "kE",
                               "--out", "{tmp}/o"), ("'kE'", "LINE:P1,P2"), files={"b.csv": SUMMARY_BLOTS}),
    Case("fit-estimate-unknown-parameter", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--estimate",
                                            "S462_R1:nope", "--out", "{tmp}/o"), ("'nope'",),
         files={"b.csv": SUMMARY_BLOTS}),
    Case("blots-semicolons", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"),
         ("b.csv", "semicolons"), files={"b.csv": SUMMARY_BLOTS.replace(",", ";")}),
    Case("blots-latin1", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"),
         ("b.csv", "not UTF-8", "0xe9"), files={"b.csv": SUMMARY_BLOTS.encode() + b"# caf\xe9\n"}),
    Case("blots-unknown-column", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"),
         ("'colour'",), files={"b.csv": SUMMARY_BLOTS.replace("n\n", "n,colour\n").replace(",3\n", ",3,red\n")}),
    Case("blots-negative-mean", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"),
         ("'-2.5'", "negative"), files={"b.csv": SUMMARY_BLOTS.replace("2.5", "-2.5")}),
    Case("blots-unknown-line", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"),
         ("'HeLa'",), files={"b.csv": SUMMARY_BLOTS.replace("S462_R1", "HeLa")}),
    Case("blots-lanes-missing-column", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"),
         ("'total'",), files={"b.csv": "gel_id,lane,cell_line,time,target,phospho\nG1,1,S462,0,ERK,5\n"}),
    Case("blots-empty", ("fit", "--data", "{b.csv}", "--model", "mpnst", "--out", "{tmp}/o"), ("b.csv", "header"),
         files={"b.csv": "# nothing\n"}),
    # ------------------------------------------------------------------------------------------- report
    Case("report-missing-folder", ("report", "{tmp}/gone"), ("gone", "does not exist")),
    Case("report-file-not-folder", ("report", "{k10}"), ("BIOMD0000000010", "is a file")),
    Case("report-workers-zero", ("report", "{tmp}", "--workers", "0"), ("--workers", "0")),
    # ------------------------------------------------------------------------------------------- validate
    Case("validate-missing", ("validate", "{tmp}/gone.ant"), ("gone.ant", "does not exist")),
    Case("validate-suffix", ("validate", "{x.json}"), ("x.json", ".json"), files={"x.json": "{}"}),
    Case("validate-toml-syntax", ("validate", "{x.toml}"), ("x.toml", "not valid TOML"), files={"x.toml": "a = \n"}),
    Case("validate-toml-unrecognised", ("validate", "{x.toml}"), ("x.toml", "not a recognised file", "study"),
         files={"x.toml": "colour = 1\n"}),
    Case("validate-drugs", ("validate", "{drugs.toml}"), ("[d]: ic50_nM = -1",),
         files={"drugs.toml": DRUGS_OK.replace("ic50_nM = 1", "ic50_nM = -1")}),
    Case("validate-cell-lines", ("validate", "{lines.toml}"), ("'zebrafish'",),
         files={"lines.toml": '[X]\nmodel = "zebrafish"\nprovenance = "p"\n'}),
    Case("validate-metadata-time-unit", ("validate", "{meta.toml}"), ("'weeks'",),
         files={"meta.toml": 'time_unit = "weeks"\n'}),
    Case("validate-metadata-observables-list", ("validate", "{meta.toml}"), ("observables", "['pERK']"),
         files={"meta.toml": 'time_unit = "h"\nobservables = ["pERK"]\n'}),
    Case("validate-study-ratio", ("validate", "{s.toml}"), ("trametinib_x_gsk2256098", "'1:ten'"),
         files={"s.toml": STUDY.replace('ratio = "1:10"', 'ratio = "1:ten"')}),
    Case("validate-study-unknown-key", ("validate", "{s.toml}"), ("target_supression", "target_suppression"),
         files={"s.toml": STUDY.replace("target_suppression", "target_supression")}),
    Case("validate-study-model", ("validate", "{s.toml}"), ("'zebrafish'",),
         files={"s.toml": STUDY.replace('model = "mpnst"', 'model = "zebrafish"')}),
    Case("validate-study-cell-line", ("validate", "{s.toml}"), ("'HeLa'",),
         files={"s.toml": STUDY.replace('"ST8814"', '"HeLa"')}),
    Case("validate-study-drug", ("validate", "{s.toml}"), ("'aspirin'",),
         files={"s.toml": STUDY.replace("gsk2256098:3", "aspirin:3")}),
    Case("validate-study-duplicate-name", ("validate", "{s.toml}"), ("'trametinib_x_src_inhibitor_1'", "twice"),
         files={"s.toml": STUDY.replace('"trametinib_x_gsk2256098"', '"trametinib_x_src_inhibitor_1"')}),
    Case("validate-blots-semicolons", ("validate", "{b.csv}"), ("b.csv", "semicolons"),
         files={"b.csv": SUMMARY_BLOTS.replace(",", ";")}),
    Case("validate-blots-utf16-no-bom", ("validate", "{b.csv}"), ("b.csv", "UTF-16"),
         files={"b.csv": SUMMARY_BLOTS.encode("utf-16-le")}),
    Case("validate-petab-broken", ("validate", "{p.yaml}"), ("p.yaml",), files={"p.yaml": "format_version: 1\n"}),
    # ------------------------------------------------------------------------------------------- demo
    Case("demo-workers-zero", ("demo", "--workers", "0", "--out", "{tmp}/d"), ("--workers", "0")),
]


def _fill(text: str, tmp_path, files) -> str:
    """``{tmp}``, ``{k10}`` and ``{<file name>}`` replaced (file names have dots, so not str.format)."""
    names = {"tmp": str(tmp_path), "k10": str(K10), **{name: str(tmp_path / name) for name in files}}
    for name, value in names.items():
        text = text.replace("{" + name + "}", value)
    return text


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_a_message_naming_it(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, content in case.files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    code = main([_fill(arg, tmp_path, case.files) for arg in case.argv])
    out, err = capsys.readouterr()
    text = out + err
    assert code == case.code, text
    assert "Traceback" not in text
    for part in case.expect:
        assert _fill(part, tmp_path, case.files) in text, f"{part!r} not in: {text}"


def test_the_table_is_big_and_covers_every_verb():
    assert len(CASES) >= 80 and len({c.id for c in CASES}) == len(CASES)
    verbs = {c.argv[0] for c in CASES}
    assert {"models", "simulate", "dose-response", "screen", "fit", "sensitivity", "report", "validate",
            "demo"} <= verbs
