"""The `mekisim` CLI in-process: happy paths, outputs, and every kind of bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pandas as pd
import pytest
from _report_html import parse_tables

import simulator as ms
from simulator.cli import main
from simulator.files import bundled_dir
from tests.conftest import BENCHMARKS

KHOLODENKO = BENCHMARKS / "biomodels" / "BIOMD0000000010.xml"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_lists_everything(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    for word in ("mpnst", "S462_R1", "ST8814", "trametinib", "src_inhibitor_1", "pERK", "relative to S462 DMSO"):
        assert word in out


def test_simulate_steady_state_table(capsys, tmp_path):
    out_file = tmp_path / "ss.csv"
    code, _, err = run(capsys, "simulate", "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=10nM",
                       "--steady-state", "--out", str(out_file), "--plot", str(tmp_path / "ss.png"))
    assert code == 0, err
    frame = pd.read_csv(out_file)
    # self-describing: the condition in columns; a steady state has no time column
    assert list(frame.columns[:4]) == ["model", "cell_line", "dose_trametinib_nM", "status"]
    assert (frame["cell_line"].iloc[0], frame["dose_trametinib_nM"].iloc[0]) == ("S462_R1", 10.0)
    assert {"pERK", "pMEK", "pFAK", "pSRC", "pAKT"} <= set(frame.columns)
    assert frame["status"].iloc[0] == "ok"
    model = ms.load_model("mpnst")  # the CLI prints what the library computes
    library = ms.steady_state(model, ms.make_condition(model, "S462_R1", {"trametinib": 10.0}))
    assert frame["pERK"].iloc[0] == pytest.approx(library["pERK"], rel=1e-9)
    manifest = json.loads((tmp_path / "ss.manifest.json").read_text())
    assert manifest["models"]["model"]["sha256"] and manifest["versions"]["libroadrunner"]
    assert manifest["models"]["model"]["metadata_sha256"] == model.metadata_sha256 != ""
    # the catalogue the doses and the cell line came from, hashed from the files themselves
    assert manifest["catalogue_sha256"] == {name: hashlib.sha256((bundled_dir() / name).read_bytes()).hexdigest()
                                            for name in ("drugs.toml", "cell_lines.toml")}
    assert (tmp_path / "ss.png").stat().st_size > 10_000


def test_doses_repeated_or_comma_separated_are_the_same_condition(capsys, tmp_path):
    args = ["simulate", "--model", "melanoma", "--cell-line", "SKMEL30", "--time", "0:2d:3"]
    assert run(capsys, *args, "--dose", "trametinib=10nM", "--dose", "palbociclib=0.5uM",
               "--out", str(tmp_path / "a.csv"))[0] == 0
    assert run(capsys, *args, "--dose", "trametinib=10nM,palbociclib=0.5uM", "--out", str(tmp_path / "b.csv"))[0] == 0
    assert run(capsys, *args, "--dose", "trametinib=10nM", "--out", str(tmp_path / "c.csv"))[0] == 0
    both, listed, alone = (pd.read_csv(tmp_path / f"{k}.csv") for k in "abc")
    pd.testing.assert_frame_equal(both, listed)
    assert not both.equals(alone)  # palbociclib was applied, not dropped
    code, _, err = run(capsys, *args, "--dose", "trametinib=10nM,trametinib=1nM")
    assert code == 1 and "twice" in err


def test_simulate_time_course_parquet_and_plot(capsys, tmp_path):
    out_file = tmp_path / "tc.parquet"
    code, _, err = run(capsys, "simulate", "--model", "mpnst", "--dose", "selumetinib=0.1uM", "--time", "0:24h:25",
                       "--out", str(out_file), "--plot", str(tmp_path / "tc.png"))
    assert code == 0, err
    frame = pd.read_parquet(out_file)
    assert len(frame) == 25 and frame["time_min"].iloc[-1] == pytest.approx(1440.0)
    assert frame["pre_equilibrated"].all()  # dosed: the drug is added to the untreated steady state
    assert (frame["status"] == "ok").all()
    assert (tmp_path / "tc.png").stat().st_size > 10_000


def test_simulate_to_stdout(capsys):
    code, out, _ = run(capsys, "simulate", "--model", "mpnst", "--steady-state")
    assert code == 0
    header, row = out.strip().splitlines()
    assert header.startswith("model,cell_line,status,pERK")
    assert row.startswith("mpnst,model_defaults,ok,1")


def test_external_sbml_columns_are_species_and_oscillation_is_reported(capsys):
    code, out, err = run(capsys, "simulate", "--model", str(KHOLODENKO), "--steady-state")
    assert code == 0, err
    header, row = out.strip().splitlines()
    assert "MAPK_PP" in header.split(",") and "MKKK" in header.split(",")
    assert ",oscillating," in row and "period" in row
    assert "range over the last cycle and time-average" in err and "MKK_PP 0.5467-116.6, mean 40.1" in err


def test_add_drug_on_any_model(capsys):
    code, out, err = run(capsys, "simulate", "--model", str(KHOLODENKO), "--add-drug", "meki:J6,J7:10nM",
                         "--dose", "meki=1uM", "--steady-state", "--select", "MAPK,MAPK_P,MAPK_PP")
    assert code == 0, err
    frame = pd.read_csv(__import__("io").StringIO(out))
    assert frame["status"].iloc[0] == "ok"
    total = frame[["MAPK", "MAPK_P", "MAPK_PP"]].iloc[0].sum()
    assert frame["MAPK_PP"].iloc[0] < 0.05 * total


def test_validate_bundled_files_ok(capsys):
    from simulator.files import bundled_dir

    code, out, _ = run(capsys, "validate", *(str(bundled_dir() / f) for f in ("mpnst.ant", "drugs.toml",
                                                                               "cell_lines.toml", "mpnst.toml")))
    assert code == 0 and "0 error(s)" in out


def test_validate_reports_every_issue_at_once(capsys, tmp_path):
    bad_drugs = tmp_path / "drugs.toml"
    bad_drugs.write_text('[a]\nname="A"\ntarget="T"\nmechanism="m"\nic50_nM=-1\nprovenance="x"\n'
                         '[b]\nname="B"\ntarget="T"\nmechanism="m"\nic50_nM=1\n')
    bad_lines = tmp_path / "cell_lines.toml"
    bad_lines.write_text('[X]\nmodel="mpnst"\nscale={nope=2}\nprovenance="p"\n[Y]\nmodel="zebrafish"\n')
    bad_model = tmp_path / "broken.ant"
    bad_model.write_text("J1: A -> B; k*A\nk = \n")
    negative = tmp_path / "negative.ant"
    negative.write_text("J1: A -> B; k*A\nk = -0.1\nA = 1\nB = 0\n")
    code, out, _ = run(capsys, "validate", str(bad_drugs), str(bad_lines), str(bad_model), str(tmp_path / "gone.ant"),
                       str(negative))
    assert code == 1
    for text in ("[a]: ic50_nM = -1", "[b]: missing field 'provenance'", "scale.nope", "'zebrafish' is not bundled",
                 "broken.ant: error", "gone.ant: error: file does not exist",
                 "negative.ant: warning: parameter 'k' is negative (-0.1)"):
        assert text in out, text


BAD_INPUTS = [
    (["simulate", "--model", "nosuchmodel", "--steady-state"], "unknown model 'nosuchmodel'", "mpnst"),
    (["simulate", "--model", "mpnst", "--cell-line", "HeLa", "--steady-state"], "unknown cell line 'HeLa'", "S462_R1"),
    (["simulate", "--model", "mpnst", "--dose", "aspirin=1", "--steady-state"], "does not accept drug 'aspirin'",
     "trametinib"),
    (["simulate", "--model", "mpnst", "--dose", "trametinib=-5nM", "--steady-state"], "negative", "number >= 0"),
    (["simulate", "--model", "mpnst", "--dose", "trametinib=lots", "--steady-state"], "not a number", "nM"),
    (["simulate", "--model", "mpnst", "--dose", "trametinib=5 furlongs", "--steady-state"], "unknown unit", "uM"),
    (["simulate", "--model", "mpnst", "--dose", "trametinib", "--steady-state"], "DRUG=AMOUNT", "trametinib=10nM"),
    (["simulate", "--model", "mpnst", "--steady-state", "--select", "pJNK"], "no id 'pJNK'", "pERK"),
    (["simulate", "--model", "mpnst", "--time", "0:24parsecs:10"], "unknown unit", "min, h"),
    (["simulate", "--model", str(KHOLODENKO), "--add-drug", "meki:J99:10", "--steady-state"], "J99", "J6"),
    (["simulate", "--model", "mpnst", "--steady-state", "--out", "table.xlsx"], ".xlsx", ".parquet"),
]


@pytest.mark.parametrize("argv,problem,valid", BAD_INPUTS, ids=[b[1] for b in BAD_INPUTS])
def test_bad_input_exit_1_with_message(capsys, tmp_path, monkeypatch, argv, problem, valid):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert problem in err and valid in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_malformed_antimony_and_sbml(capsys, tmp_path):
    ant = tmp_path / "bad.ant"
    ant.write_text("J1: A -> B; k*A\nk = = 3\n")
    code, _, err = run(capsys, "simulate", "--model", str(ant), "--steady-state")
    assert code == 1 and "bad.ant" in err and "could not be parsed" in err and "Traceback" not in err
    xml = tmp_path / "bad.xml"
    xml.write_text("<sbml><model><listOfSpecies><species id='A'/></model></sbml>")
    code, _, err = run(capsys, "simulate", "--model", str(xml), "--steady-state")
    assert code == 1 and "bad.xml" in err and "not valid" in err and "Traceback" not in err


def test_debug_shows_traceback(capsys):
    with pytest.raises(Exception, match="unknown model"):
        main(["--debug", "simulate", "--model", "nosuchmodel", "--steady-state"])


def test_usage_errors_exit_2(capsys):
    assert main(["simulate", "--model", "mpnst"]) == 2  # neither --steady-state nor --time
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0


def test_demo_smoke_writes_report_tables_figures_manifests(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--smoke", "--workers", "1", "--out", str(tmp_path))
    assert code == 0 and "report:" in out
    resistance = tmp_path / "resistance"
    for name in ("dose_response.csv", "dose_response.parquet", "time_course.csv", "time_course.parquet",
                 "dose_response_pERK.png", "time_course.png", "time_course.svg", "summary.json", "manifest.json"):
        assert (resistance / name).is_file(), name
    summary = json.loads((resistance / "summary.json").read_text())
    assert summary["S462_R1"]["pERK_IC50_nM"] > summary["S462"]["pERK_IC50_nM"]
    assert summary["R1_over_P_pERK_at_10nM"] > 2
    for screen in ("trametinib_x_src_inhibitor_1", "trametinib_x_gsk2256098"):
        manifest = json.loads((tmp_path / screen / "manifest.json").read_text())
        assert manifest["counts"]["wells_failed"] == 0
        assert (tmp_path / screen / "figures" / "S462_R1_viability.png").is_file()
        assert not (tmp_path / screen / "figures" / "ST8814_viability.png").exists()  # smoke: 2 lines
    page = (tmp_path / "report.html").read_text()
    assert "trametinib_x_gsk2256098" in page and "resistance/time_course.png" in page
    # the study's own manifest lists its parts and their manifests; every manifest records the same command
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["command"] == ["mekisim", "demo", "--smoke", "--workers", "1", "--out", str(tmp_path)]
    parts = manifest["study"]["parts"]
    assert [p["name"] for p in parts] == ["resistance", "ci_convention", "trametinib_x_src_inhibitor_1",
                                          "trametinib_x_gsk2256098"]
    for part in parts:
        assert part["manifest_sha256"] == hashlib.sha256((tmp_path / part["manifest"]).read_bytes()).hexdigest()
        assert json.loads((tmp_path / part["manifest"]).read_text())["command"] == manifest["command"]
    assert manifest["counts"]["parts"] == 4 and {"resistance", "total"} <= set(manifest["timings_s"])
    # the CI convention table: the paper's lines (smoke: S462) x 2 ratios x 2 methods, one column per fa; a
    # flagged CI says so in the table, in the summary and on the terminal
    convention = [t for t in parse_tables(page) if t.get("h2", "").startswith("CI convention")]
    assert convention and convention[0]["rows"][0][:4] == ["cell_line", "ratio", "method", "CI at fa 0.5"]
    assert {(r[1], r[2]) for r in convention[0]["rows"][1:]} == {
        (ratio, method) for ratio in ("1:100", "1:1000") for method in ("median-effect", "exact Loewe")}
    assert "CI convention" in out and "1:1000 exact Loewe" in out
    study = json.loads((tmp_path / "summary.json").read_text())
    for screen in ("trametinib_x_src_inhibitor_1", "trametinib_x_gsk2256098"):
        for line, readouts in study[screen]["ci_at_fa"].items():
            for readout, levels in readouts.items():
                for fa, ci in levels.items():  # a CI is a result or it is flagged, never both, never silent
                    flag = study[screen]["ci_flags"].get(line, {}).get(readout, {}).get(fa)
                    assert (ci is None) == (flag is not None), (screen, line, readout, fa)
    # the report shows every cell line's ranking (it used to cut the table to the first line's rows)
    tables = parse_tables(page)
    for screen in ("trametinib_x_src_inhibitor_1", "trametinib_x_gsk2256098"):
        ranked = set(pd.read_csv(tmp_path / screen / "ranking.csv")["cell_line"])
        shown = {t.get("h4") for t in tables
                 if screen in t.get("h2", "") and t.get("h3", "").startswith("Combinations reaching")}
        assert ranked == shown == {"S462", "S462_R1"}
    # the folder is the study's: a second demo is refused without --force
    code, _, err = run(capsys, "demo", "--smoke", "--workers", "1", "--out", str(tmp_path))
    assert code == 1 and "already holds a complete study" in err and "--force" in err and "Traceback" not in err


def test_study_config_is_checked_before_anything_runs(tmp_path):
    """A bad last screen entry is reported at once, naming the entry, before the resistance part or the first
    screen has computed anything."""
    from simulator import bundled_study, run_study
    from simulator.errors import InputError

    config = bundled_study("mpnst_combinations").read_text(encoding="utf-8")
    bad = config.replace('ratio = "1:10"', 'ratio = "1:ten"')
    assert bad != config
    path = tmp_path / "config.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError, match="trametinib_x_gsk2256098"):
        run_study(path, tmp_path / "out", smoke=True, workers=1)
    assert not (tmp_path / "out").exists()


def test_smoke_mode_shrinks_a_range_or_a_list_of_doses():
    from simulator.study import _smoke_axis

    assert _smoke_axis("trametinib:0.1:100:9", 3) == "trametinib:0.1:100:3"
    assert _smoke_axis("trametinib:1,3,10,30,100", 3) == "trametinib:1.0,10.0,100.0"
    assert _smoke_axis("trametinib:1,3", 3) == "trametinib:1.0,3.0"


def test_dose_response_command(capsys, tmp_path):
    code, out, err = run(capsys, "dose-response", "--model", "mpnst", "--cell-line", "S462_R1", "--drug", "trametinib",
                         "--doses", "0.01:10000:25", "--out", str(tmp_path))
    assert code == 0, err
    fit = pd.read_csv(tmp_path / "fit.csv").iloc[0]
    assert fit["status"] == "ok" and fit["ec50_rel_ci95_low_nM"] < fit["ec50_rel_nM"] < fit["ec50_rel_ci95_high_nM"]
    assert fit["model"] == "4PL, top and bottom free"
    # R1 viability IC50: A1 asks >= 3x the parental 1.53 nM (tests/test_readouts.py measures 11.1 nM with the
    # paper's normalised model); the free 4PL follows R1's ~15 % plateau, so its relative EC50 (half-way between
    # the plateaus) lies below the absolute IC50 (50 % of untreated)
    assert 3 * 1.53 < fit["ic50_abs_nM"] < 40 and fit["ec50_rel_nM"] < fit["ic50_abs_nM"]
    assert 10 < fit["bottom"] < 20 and float(fit["ic50_abs"]) == float(f"{fit['ic50_abs_nM']:.4g}")
    assert "absolute IC50 (50 % of untreated)" in out and "relative EC50" in out and "model 4PL" in out
    assert (tmp_path / "dose_response.png").stat().st_size > 20_000
    table = pd.read_csv(tmp_path / "dose_response.csv")
    assert len(table) == 26 and table["value"].iloc[0] == pytest.approx(100.0)


def test_a_drug_that_never_reaches_half_of_untreated_has_no_absolute_ic50(capsys, tmp_path):
    # SRC inhibitor 1 alone leaves S462 above 94 % of DMSO: a relative EC50 exists, an absolute IC50 does not
    code, out, err = run(capsys, "dose-response", "--model", "mpnst", "--cell-line", "S462", "--drug",
                         "src_inhibitor_1", "--doses", "10:10000:10", "--out", str(tmp_path))
    assert code == 0, err
    fit = pd.read_csv(tmp_path / "fit.csv", keep_default_na=False).iloc[0]
    assert fit["ic50_abs_nM"] == "" and fit["ic50_abs"] == "> 10000 (top dose)"
    assert float(fit["ec50_rel_nM"]) < 10000 and float(fit["bottom"]) > 50
    assert "absolute IC50 (50 % of untreated) > 10000 nM (top dose)" in out


def test_screen_reports_readouts_rising_above_baseline(capsys, tmp_path, monkeypatch):
    """A readout above its untreated value (negative fraction affected) is kept, flagged and counted.

    No catalogue drug raises p-ERK in Model A, so the test shifts one combination well's suppression below 0
    (a serial run computes readouts in this process, where the patch applies).
    """
    import simulator.screen._wells as wells_module

    real = wells_module.compute_readout_table

    def with_relief(model, conditions, **kwargs):
        table = real(model, conditions, **kwargs)
        values = table.values.copy()
        column = table.readouts.index("perk_suppression")
        for row, cond in enumerate(conditions):
            if cond.doses.get("trametinib") == pytest.approx(0.1) and cond.doses.get("obtustatin") == pytest.approx(1):
                values[row, column] = -0.2
        return dataclasses.replace(table, values=values)

    monkeypatch.setattr(wells_module, "compute_readout_table", with_relief)
    code, _, err = run(capsys, "screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:0.1:10:3",
                       "--drug-b", "obtustatin:1:100:3", "--readout", "perk_suppression", "--workers", "1",
                       "--no-progress", "--out", str(tmp_path))
    assert code == 0, err
    wells = pd.read_parquet(tmp_path / "wells.parquet")
    assert (wells["value"] == -0.2).sum() == 1  # kept, not clipped
    synergy = pd.read_parquet(tmp_path / "synergy.parquet")
    flagged = synergy[(synergy["score"] == "bliss") & synergy["flag"].str.contains("below_baseline")]
    assert len(flagged) == 1 and flagged["dose_a_nM"].iloc[0] == pytest.approx(0.1)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["screen"]["wells_below_baseline"] == {"S462/perk_suppression": 1}
    assert "rose above the untreated value" in (main(["report", str(tmp_path)]) == 0
                                                and (tmp_path / "report.html").read_text())


def test_ctrl_c_is_a_message_with_the_resume_hint_not_a_traceback(capsys, tmp_path, monkeypatch):
    import simulator.cli._main as cli
    import simulator.screen as screen

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(screen, "run_screen", interrupted)
    argv = ["screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1:10:2",
            "--drug-b", "src_inhibitor_1:100:1000:2", "--out", str(tmp_path)]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "mekisim screen: interrupted" in err and "--resume" in err and str(tmp_path) in err
    assert "Traceback" not in err
    monkeypatch.setitem(cli.HANDLERS, "models", interrupted)
    assert main(["models"]) == 130
    assert capsys.readouterr().err.strip() == "mekisim models: interrupted"
    with pytest.raises(KeyboardInterrupt):
        main(["--debug", "models"])


def test_demo_refuses_bad_workers_before_simulating_or_writing_anything(capsys, tmp_path):
    # it used to run the resistance part (and the CI convention table) first: a folder of parts, then the refusal
    code, _, err = run(capsys, "demo", "--workers", "0", "--out", str(tmp_path / "d"))
    assert code == 1 and "--workers must be a whole number >= 1" in err and not (tmp_path / "d").exists()
