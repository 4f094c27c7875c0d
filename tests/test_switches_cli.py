"""Parameter switches everywhere (issue 17 item 1): ``--set``, ``--switch-off`` and ``--metadata`` on simulate,
dose-response, screen, sensitivity and export, and ``values=``/``switch_off=`` in the Python API.

What is checked against known truth: a user's A -> B chain with ``--set`` follows its analytic solution; the
pre-equilibrated start of a run with ``--set`` is the steady state of the same values (so they were applied before
pre-equilibration); the CLI's numbers equal the API's; the issue's command shows no p-ERK rebound (4 h value over
the minimum), while the model as written rebounds.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import simulator as ms
from simulator.cli import main
from tests.conftest import ROOT

FEEDBACKS = "sos_feedback,raf_feedback,dusp_feedback"
ISSUE_COMMAND = ["simulate", "--model", "mpnst", "--cell-line", "S462", "--dose", "trametinib=3nM",
                 "--time", "0:4h:49"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def mpnst():
    return ms.load_model("mpnst")


def rebound(frame: pd.DataFrame) -> float:
    """p-ERK at the last time (4 h) over its minimum after the drug."""
    perk = frame["pERK"].to_numpy()
    return float(perk[-1] / perk.min())


# ------------------------------------------------------------------------------------------------ the issue's claim

def test_issue_command_shows_no_rebound_and_the_model_as_written_does(capsys, tmp_path):
    code, _, err = run(capsys, *ISSUE_COMMAND, "--switch-off", FEEDBACKS, "--out", tmp_path / "off.csv")
    assert code == 0, err
    assert "sos_feedback off (open_S = 1)" in err  # the run says what it switched off
    off = pd.read_csv(tmp_path / "off.csv")
    assert len(off) == 49 and off["time_min"].iloc[-1] == pytest.approx(240.0)
    assert rebound(off) < 1.2  # measured 1.0000003: no rebound
    code, _, err = run(capsys, *ISSUE_COMMAND, "--out", tmp_path / "on.csv")
    assert code == 0, err
    assert rebound(pd.read_csv(tmp_path / "on.csv")) > 5  # measured 16.6x with the feedbacks on
    manifest = json.loads((tmp_path / "off.manifest.json").read_text())
    values = manifest["simulate"]["values"]
    assert values["switched_off"] == ["sos_feedback", "raf_feedback", "dusp_feedback"] and values["set"] == {}
    assert values["applied_values"] == {"open_S": 1.0, "open_R": 1.0, "open_D": 1.0}


def test_switch_off_equals_the_api_and_the_same_values_by_hand(capsys, tmp_path, mpnst):
    code, _, err = run(capsys, *ISSUE_COMMAND, "--switch-off", "sos_feedback", "--switch-off", "raf_feedback,"
                       "dusp_feedback", "--out", tmp_path / "a.csv")
    assert code == 0, err
    code, _, err = run(capsys, *ISSUE_COMMAND, "--set", "open_S=1,open_R=1", "--set", "open_D=1",
                       "--out", tmp_path / "b.csv")
    assert code == 0, err
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)
    condition = ms.make_condition(mpnst, "S462", {"trametinib": 3.0}, switch_off=FEEDBACKS.split(","))
    assert condition.untreated["open_S"] == 1.0  # in the untreated condition: applied before pre-equilibration
    api = ms.time_course(mpnst, np.linspace(0, 240, 49), condition)
    assert np.allclose(a["pERK"], api["pERK"], rtol=1e-9, atol=0)


# ------------------------------------------------------------------------------------------------------- --set

def test_set_is_applied_before_pre_equilibration(capsys, tmp_path, mpnst):
    """Untreated with kfbS = 0: the time course starts at (and stays on) the steady state of kfbS = 0, which the
    metadata records as 1.52x the S462 p-ERK (a knock-out moves the untreated state)."""
    code, _, err = run(capsys, "simulate", "--model", "mpnst", "--cell-line", "S462", "--time", "0:4h:5",
                       "--set", "kfbS=0", "--pre-equilibrate", "--out", tmp_path / "ko.csv")
    assert code == 0, err
    frame = pd.read_csv(tmp_path / "ko.csv")
    steady = ms.steady_state(mpnst, ms.make_condition(mpnst, "S462", values={"kfbS": 0.0}))
    assert np.allclose(frame["pERK"], steady["pERK"], rtol=1e-6)
    default = ms.steady_state(mpnst, ms.make_condition(mpnst, "S462"))
    assert steady["pERK"] / default["pERK"] == pytest.approx(1.52, abs=0.01)
    manifest = json.loads((tmp_path / "ko.manifest.json").read_text())
    assert manifest["simulate"]["values"]["set"] == {"kfbS": 0.0}


def test_set_overrides_the_cell_line(mpnst):
    line = ms.load_cell_lines()["S462_R1"]
    key = next(iter(line.set or line.scale))
    condition = ms.make_condition(mpnst, "S462_R1", values={key: 0.123})
    assert condition.values[key] == condition.untreated[key] == 0.123


def test_set_works_for_any_model_against_the_analytic_solution(capsys, tmp_path):
    """A user's A -> B (rate k*A), no metadata: --set of a rate constant and an initial value; B(t) =
    A0 (1 - exp(-k t)) from the initial conditions."""
    model = tmp_path / "chain.ant"
    model.write_text("model chain\n  species A = 1, B = 0;\n  k = 0.1;\n  J1: A -> B; k*A;\nend\n", encoding="utf-8")
    code, _, err = run(capsys, "simulate", "--model", model, "--time", "0:10:11", "--no-pre-equilibrate",
                       "--set", "k=0.5,A=2", "--select", "A,B", "--out", tmp_path / "chain.csv")
    assert code == 0, err
    frame = pd.read_csv(tmp_path / "chain.csv")
    t = frame["time_model_units"].to_numpy()
    # CVODE at the engine's rtol 1e-6: a global error of up to ~1.4e-5 relative on the decayed A (measured)
    assert np.allclose(frame["B"], 2 * (1 - np.exp(-0.5 * t)), rtol=1e-5, atol=1e-8)
    assert np.allclose(frame["A"], 2 * np.exp(-0.5 * t), rtol=1e-4, atol=1e-8)
    # the same model without --set decays at k = 0.1: the comparison above can fail
    code, _, err = run(capsys, "simulate", "--model", model, "--time", "0:10:11", "--no-pre-equilibrate",
                       "--select", "B", "--out", tmp_path / "plain.csv")
    assert code == 0, err
    assert pd.read_csv(tmp_path / "plain.csv")["B"].iloc[-1] == pytest.approx(1 - np.exp(-1.0), rel=1e-5)


# ------------------------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize(("extra", "message"), [
    (["--set", "kfbs=0"], "'kfbs' is not an id of the model (did you mean kfbS or kfbR?)"),
    (["--set", "kfbS"], "--set 'kfbS' is not PARAM=VALUE"),
    (["--set", "kfbS=zero"], "'zero' is not a number"),
    (["--set", "kfbS=0,kfbS=1"], "gives 'kfbS' twice"),
    (["--set", "trametinib=3"], "is the dose of a drug: give it with --dose trametinib=AMOUNT"),
    (["--set", "pERK=1"], "'pERK' is computed by an assignment rule"),
    (["--switch-off", "sos_feedbak"], "has no switch 'sos_feedbak' (did you mean sos_feedback"),
    (["--switch-off", "sos_feedback", "--set", "open_S=0"], "--set open_S=0 contradicts switch sos_feedback"),
])
def test_bad_values_and_switches_are_refused_with_close_names(capsys, extra, message):
    code, out, err = run(capsys, "simulate", "--model", "mpnst", "--steady-state", *extra)
    assert code == 1 and out == ""
    assert message in err and "Traceback" not in err


def test_a_model_without_switches_says_so(capsys, tmp_path):
    model = tmp_path / "chain.ant"
    model.write_text("model chain\n  species A = 1;\n  k = 0.1;\n  J1: A -> ; k*A;\nend\n", encoding="utf-8")
    code, _, err = run(capsys, "simulate", "--model", model, "--steady-state", "--switch-off", "feedback")
    assert code == 1 and "has no switch 'feedback'; it declares none" in err


def test_api_refuses_unknown_values_and_switches(mpnst):
    with pytest.raises(ms.InputError, match=r"did you mean kfbS"):
        ms.make_condition(mpnst, "S462", values={"kfbs": 0})
    with pytest.raises(ms.InputError, match=r"did you mean pak_crosstalk"):
        ms.make_condition(mpnst, "S462", switch_off=["pak_crosstalks"])
    with pytest.raises(ms.InputError, match=r"other values than the switches"):
        ms.make_condition(mpnst, "S462", values={"open_S": 0.0}, switch_off=["sos_feedback"])


def test_switch_table_is_validated(tmp_path):
    ant = tmp_path / "toy.ant"
    ant.write_text("model toy\n  species X = 1; k = 0.1;\n  J: X -> ; k*X;\nend\n", encoding="utf-8")
    (tmp_path / "toy.toml").write_text("[switches]\noff = { kk = 0 }\nbad = { k = \"no\" }\n", encoding="utf-8")
    with pytest.raises(ms.ModelLoadError, match=r"\[switches\] off: kk not settable.*\[switches\] bad: k not finite"):
        ms.load_model(ant)
    (tmp_path / "toy.toml").write_text("[switches]\ndecay = { k = 0 }  # no decay\n", encoding="utf-8")
    switch = ms.load_model(ant).switches[0]
    assert (switch.name, dict(switch.values), switch.note) == ("decay", {"k": 0.0}, "no decay")


def test_models_lists_the_switches(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "switches (--switch-off NAME):" in out and "sos_feedback" in out and "open_S = 1" in out


# ------------------------------------------------------------------------------------------------- --metadata

def test_renamed_copy_keeps_lines_drugs_readouts_and_switches_with_metadata(capsys, tmp_path, mpnst):
    copy = tmp_path / "my_mpnst.ant"
    shutil.copy(ROOT / "models" / "mpnst.ant", copy)
    argv = ["simulate", "--model", copy, "--cell-line", "S462", "--dose", "trametinib=3nM", "--time", "0:4h:49"]
    code, _, err = run(capsys, *argv)  # without --metadata they are lost, as before
    assert code == 1 and "unknown cell line 'S462' for model 'my_mpnst'" in err
    code, _, err = run(capsys, "simulate", "--model", copy, "--steady-state", "--switch-off", "sos_feedback")
    assert code == 1 and "'my_mpnst' has no switch 'sos_feedback'; it declares none" in err
    code, _, err = run(capsys, *argv, "--switch-off", FEEDBACKS, "--metadata", ROOT / "models" / "mpnst.toml",
                       "--out", tmp_path / "copy.csv")
    assert code == 0, err
    code, _, err = run(capsys, *ISSUE_COMMAND, "--switch-off", FEEDBACKS, "--out", tmp_path / "bundled.csv")
    assert code == 0, err
    # the same numbers; only the table's model column names the copy
    copied, original = pd.read_csv(tmp_path / "copy.csv"), pd.read_csv(tmp_path / "bundled.csv")
    assert set(copied["model"]) == {"my_mpnst"} and set(original["model"]) == {"mpnst"}
    pd.testing.assert_frame_equal(copied.drop(columns="model"), original.drop(columns="model"))
    model = ms.load_model(copy, metadata=ROOT / "models" / "mpnst.toml")
    assert model.name == "my_mpnst" and ms.cell_lines_for(model) == ms.cell_lines_for(mpnst)
    assert ms.accepted_drugs(model) == ms.accepted_drugs(mpnst)
    assert set(ms.readouts_for(model)) == set(ms.readouts_for(mpnst))
    assert model.switches == mpnst.switches


def test_metadata_file_errors_name_the_file(capsys, tmp_path):
    code, _, err = run(capsys, "simulate", "--model", "mpnst", "--steady-state", "--metadata", tmp_path / "no.toml")
    assert code == 1 and "no.toml" in err and "does not exist" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("title = \n", encoding="utf-8")
    code, _, err = run(capsys, "simulate", "--model", "mpnst", "--steady-state", "--metadata", bad)
    assert code == 1 and "bad.toml" in err and "not valid TOML" in err


# ------------------------------------------------------------------------------------ dose-response, screen, ...

def test_dose_response_with_switches_equals_the_api(capsys, tmp_path, mpnst):
    out = tmp_path / "dr"
    code, _, err = run(capsys, "dose-response", "--model", "mpnst", "--cell-line", "S462", "--drug", "trametinib",
                       "--doses", "0.1,1,10", "--readout", "perk_suppression", "--switch-off", "sos_feedback",
                       "--set", "kfbR=0", "--out", out)
    assert code == 0, err
    table = pd.read_csv(out / "dose_response.csv")
    api = ms.dose_response(mpnst, "S462", "trametinib", [0, 0.1, 1, 10], readout="perk_suppression",
                           values={"kfbR": 0.0}, switch_off=["sos_feedback"])
    plain = ms.dose_response(mpnst, "S462", "trametinib", [0, 0.1, 1, 10], readout="perk_suppression")
    assert np.allclose(table["value"], api.values, rtol=1e-9)
    assert not np.allclose(api.values, plain.values, rtol=1e-3)  # the switches change the answer
    values = json.loads((out / "manifest.json").read_text())["dose_response"]["values"]
    assert values == {"set": {"kfbR": 0.0}, "switched_off": ["sos_feedback"],
                      "applied_values": {"open_S": 1.0, "kfbR": 0.0}}


def test_screen_with_switches_equals_the_api_and_records_them(capsys, tmp_path, mpnst):
    out = tmp_path / "screen"
    code, _, err = run(capsys, "screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1:10:2",
                       "--drug-b", "src_inhibitor_1:100:1000:2", "--readout", "perk_suppression",
                       "--switch-off", "fak_src_bypass", "--workers", "1", "--no-progress", "--out", out)
    assert code == 0, err
    wells = pd.read_parquet(out / "wells.parquet")
    spec = ms.ScreenSpec(model=mpnst, cell_lines=("S462",), drug_a=ms.DrugAxis.parse("trametinib:1:10:2"),
                         drug_b=ms.DrugAxis.parse("src_inhibitor_1:100:1000:2"), readouts=("perk_suppression",),
                         switch_off=("fak_src_bypass",))
    api = ms.run_screen(spec, workers=1, progress=False).wells
    assert np.allclose(wells["value"], api["value"], rtol=1e-9)
    plain = ms.run_screen(ms.ScreenSpec(model=mpnst, cell_lines=("S462",), drug_a=spec.drug_a, drug_b=spec.drug_b,
                                        readouts=("perk_suppression",)), workers=1, progress=False).wells
    # without the bypass the SRC inhibitor adds nothing to trametinib's p-ERK suppression
    matrix = wells[wells["series"] == "matrix"].set_index(["dose_a_nM", "dose_b_nM"])["value"]
    assert matrix[(10.0, 1000.0)] == pytest.approx(matrix[(10.0, 0.0)], rel=1e-6)
    plain_matrix = plain[plain["series"] == "matrix"].set_index(["dose_a_nM", "dose_b_nM"])["value"]
    assert plain_matrix[(10.0, 1000.0)] > plain_matrix[(10.0, 0.0)] + 1e-3
    values = json.loads((out / "manifest.json").read_text())["screen"]["values"]
    assert values["switched_off"] == ["fak_src_bypass"]
    assert values["applied_values"] == {"sFS": 0.0, "aSRC": 0.0, "aPAK": 0.0}


def test_screen_refuses_an_ensemble_varying_a_held_value(mpnst):
    with pytest.raises(ms.InputError, match="varies kfbS, which --set/--switch-off hold at kfbS = 0"):
        ms.ScreenSpec(model=mpnst, cell_lines=("S462",), drug_a=ms.DrugAxis.parse("trametinib:1:10:2"),
                      drug_b=ms.DrugAxis.parse("src_inhibitor_1:100:1000:2"), ensemble=({"kfbS": 0.5},),
                      values={"kfbS": 0.0})


def test_sensitivity_holds_set_values_and_records_them(capsys, tmp_path):
    out = tmp_path / "sens"
    code, _, err = run(capsys, "sensitivity", "--model", "mpnst", "--method", "local", "--params", "kE,kfbR",
                       "--output", "pERK", "--cell-line", "S462", "--set", "kfbS=0", "--workers", "1",
                       "--no-progress", "--out", out)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sensitivity"]["values"]["set"] == {"kfbS": 0.0}
    assert manifest["sensitivity"]["parameters"] == ["kE", "kfbR"]
    # the base point of the local method is the steady state with kfbS = 0 (the held value was applied)
    evaluations = pd.read_parquet(out / "evaluations.parquet")
    model = ms.load_model("mpnst")
    held = ms.steady_state(model, ms.make_condition(model, "S462", values={"kfbS": 0.0}))["pERK"]
    default = ms.steady_state(model, ms.make_condition(model, "S462"))["pERK"]
    outputs = [c for c in evaluations.columns if c not in ("row", "status", "message", "retried")]
    first = evaluations[outputs[0]].iloc[0]
    assert first == pytest.approx(held, rel=1e-6) and abs(first - default) > 0.1 * default
    code, _, err = run(capsys, "sensitivity", "--model", "mpnst", "--method", "local", "--params", "kE,kfbS",
                       "--output", "pERK", "--set", "kfbS=0", "--workers", "1", "--no-progress",
                       "--out", tmp_path / "clash")
    assert code == 1 and "kfbS are both varied and held" in err


def test_export_switch_off_writes_the_values_into_the_model(capsys, tmp_path):
    import libsbml

    out = tmp_path / "off.xml"
    code, _, err = run(capsys, "export", "--model", "mpnst", "--cell-line", "S462", "--steady-state",
                       "--switch-off", "sos_feedback", "--set", "kfbR=0", "--out", out)
    assert code == 0, err
    model = libsbml.readSBMLFromFile(str(out)).getModel()
    assert model.getParameter("open_S").getValue() == 1.0 and model.getParameter("kfbR").getValue() == 0.0
