"""A user's own SBML model is first-class: no cell lines, no declared readouts, local parameters, an oscillation.

Kholodenko 2000 (BIOMD0000000010) oscillates untreated (period ~1300 s), keeps every rate constant local to
its reactions and has no cell lines; a MEK inhibitor is injected on J6/J7 (MAPK -> MAPK_P -> MAPK_PP, catalysed
by MKK_PP) and a RAF-like inhibitor on J2/J3 (MKK phosphorylation, catalysed by MKKK_P).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.signal import find_peaks

import simulator as ms
from simulator.cli import main
from simulator.model import DrugTerm, add_drug_terms
from tests.conftest import BENCHMARKS

K10 = BENCHMARKS / "biomodels" / "BIOMD0000000010.xml"
MEKI = "meki:J6,J7:10nM"
#: the cycle average from the steady-state probe vs a long, finely sampled time course averaged over 20+ whole
#: periods: two independent estimates of the same integral (measured agreement ~3e-5)
CYCLE_MEAN_RTOL = 1e-3


@pytest.fixture(scope="module")
def k10_meki() -> ms.CompiledModel:
    return add_drug_terms(ms.load_model(K10), [DrugTerm.parse(MEKI)])


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _long_average(model, condition, species: str) -> float:
    """Time-average of ``species`` over whole periods of a 60000 s run from the initial conditions (t > 10000)."""
    t = np.linspace(0.0, 60000.0, 120001)
    traj = ms.time_course(model, t, condition, pre_equilibrate=False, select=[species],
                          options=ms.SolverOptions(rtol=1e-8, atol=1e-10))
    y = traj[species]
    peaks, _ = find_peaks(y, prominence=0.1 * (y.max() - y.min()))
    peaks = peaks[t[peaks] > 10000.0]
    assert len(peaks) > 20
    a, b = peaks[0], peaks[-1]
    return float(np.trapezoid(y[a:b + 1], t[a:b + 1]) / (t[b] - t[a]))


def test_local_parameters_become_settable_globals_and_change_nothing():
    """Every rate constant of BIOMD0000000010 is local to its reaction; promoted, J0_V1 is a parameter and the
    trajectory is the one roadrunner computes from the original file."""
    import roadrunner

    model = ms.load_model(K10)
    assert len(model.parameters) == 22 and model.parameters["J0_V1"] == pytest.approx(2.5)
    t = np.linspace(0.0, 3000.0, 301)
    ours = ms.time_course(model, t, pre_equilibrate=False, select=["MAPK_PP"],
                          options=ms.SolverOptions(rtol=1e-10, atol=1e-12))
    rr = roadrunner.RoadRunner(str(K10))
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = 1e-10, 1e-12
    rr.timeCourseSelections = ["time", "[MAPK_PP]"]
    theirs = np.asarray(rr.simulate(times=t.tolist()))[:, 1]
    # two integrations at rtol 1e-10 (ours with conserved-moiety analysis): equal to well below 1e-6
    np.testing.assert_allclose(ours["MAPK_PP"], theirs, rtol=1e-6, atol=1e-9)
    doubled = ms.make_condition(model, None, values={"J0_V1": 5.0})  # settable now
    assert ms.steady_state(model, doubled, select=["MAPK_PP"], throw=False).status in ("ok", "oscillating")


def test_oscillation_is_read_as_its_cycle_average(k10_meki):
    """The engine's time-average over the last whole periods equals a long time course's average."""
    untreated = ms.make_condition(k10_meki, None, {"meki": 0.0})
    ss = ms.steady_state(k10_meki, untreated, select=["MAPK_PP"], throw=False)
    assert ss.status == "oscillating" and ss.cycles >= 3
    assert ss.mean[0] == pytest.approx(_long_average(k10_meki, untreated, "MAPK_PP"), rel=CYCLE_MEAN_RTOL)
    assert ss.low[0] < ss.mean[0] < ss.high[0]


def test_level_readout_of_an_oscillating_model_against_long_time_courses(k10_meki):
    """MAPK_PP level at 100 nM meki (still oscillating) relative to untreated (oscillating): the ratio of the two
    cycle averages, each checked against its own long time course; the message says they are averages."""
    conditions = [ms.make_condition(k10_meki, None, {"meki": dose}) for dose in (0.0, 100.0, 1000.0)]
    records = ms.compute_readouts(k10_meki, conditions, readouts=["MAPK_PP"])
    assert [r.status for r in records] == ["ok"] * 3
    expected = (_long_average(k10_meki, conditions[1], "MAPK_PP")
                / _long_average(k10_meki, conditions[0], "MAPK_PP"))
    assert records[0]["MAPK_PP"] == 1.0
    assert records[1]["MAPK_PP"] == pytest.approx(expected, rel=2 * CYCLE_MEAN_RTOL)
    assert "treated condition oscillates" in records[1].message
    assert "untreated reference oscillates" in records[2].message  # 1 uM stops the cycle: a steady state
    assert "treated condition oscillates" not in records[2].message
    steady = ms.steady_state(k10_meki, conditions[2], select=["MAPK_PP"])
    reference = ms.steady_state(k10_meki, conditions[0], select=["MAPK_PP"], throw=False).mean[0]
    # the same steady state over the same cycle average; the probe window follows the unstable root Newton finds
    # first, which depends on the solver state at the 1e-7 level, so two probes agree to ~1e-6, not to the bit
    assert records[2]["MAPK_PP"] == pytest.approx(steady["MAPK_PP"] / reference, rel=1e-4)


def test_species_prefix_and_bare_ids_name_the_same_level(k10_meki):
    conditions = [ms.make_condition(k10_meki, None, {"meki": dose}) for dose in (0.0, 1000.0)]
    bare, prefixed = (ms.compute_readouts(k10_meki, conditions, readouts=[r])[1] for r in ("MAPK_PP",
                                                                                         "species:MAPK_PP"))
    assert bare["MAPK_PP"] == prefixed["species:MAPK_PP"]
    assert ms.readouts_for(k10_meki, ["MAPK_PP"])["MAPK_PP"].fraction_affected(np.array([0.25])) == 0.75


def test_python_api_dose_response_without_a_cell_line(k10_meki):
    result = ms.dose_response(k10_meki, None, "meki", [0, 300, 1000, 3000], readout="MAPK_PP")
    assert result.cell_line is None and result.to_frame()["cell_line"].iloc[0] == "model_defaults"
    assert all(s == "ok" for s in result.statuses)
    assert result.response[0] == pytest.approx(100.0) and result.response[-1] < 5


def test_done_when_command_dose_response_on_biomd10(capsys, tmp_path):
    """The issue's command, verbatim but for the paths."""
    out = tmp_path / "D"
    code, stdout, err = run(capsys, "dose-response", "--model", K10, "--add-drug", MEKI, "--drug", "meki",
                            "--readout", "MAPK_PP", "--doses", "0.1:1000:9", "--out", out)
    assert code == 0, err
    assert "model defaults meki MAPK_PP: absolute IC50 (50 % of untreated)" in stdout
    assert "untreated reference oscillates" in err and "time-average" in err
    table = pd.read_csv(out / "dose_response.csv")
    assert len(table) == 10 and (table["status"] == "ok").all() and (table["cell_line"] == "model_defaults").all()
    assert table["value"].iloc[0] == 1.0 and table["value"].iloc[-1] < 0.01
    assert table["message"].str.contains("time-average").all()
    fit = pd.read_csv(out / "fit.csv").iloc[0]
    assert fit["status"] == "ok" and 30 < fit["ec50_rel_nM"] < 300 and 30 < fit["ic50_abs_nM"] < 300
    manifest = json.loads((out / "manifest.json").read_text())
    assert "fraction affected = 1 - value" in manifest["dose_response"]["readout_convention"]
    assert (out / "dose_response.png").stat().st_size > 20_000


def test_five_by_five_screen_on_biomd10(capsys, tmp_path):
    out = tmp_path / "S"
    code, stdout, err = run(capsys, "screen", "--model", K10, "--add-drug", MEKI, "--add-drug", "rafi:J2,J3:50nM",
                            "--drug-a", "meki:1:1000:4", "--drug-b", "rafi:1:1000:4", "--readout", "species:MAPK_PP",
                            "--workers", "1", "--no-progress", "--out", out)
    assert code == 0, err
    assert "29 wells (25 in the dose matrices, 4 on the constant-ratio mixture series" in stdout
    assert "oscillate" in stdout
    wells = pd.read_parquet(out / "wells.parquet")
    matrix = wells[wells["series"] == "matrix"]
    assert len(matrix) == 25 and (matrix["status"] == "ok").all() and set(matrix["cell_line"]) == {"model_defaults"}
    top = matrix[(matrix["dose_a_nM"] == 1000) & (matrix["dose_b_nM"] == 1000)]["value"].iloc[0]
    assert top < 0.01  # both inhibitors at 1 uM: MAPK_PP nearly gone
    synergy = pd.read_parquet(out / "synergy.parquet")
    bliss = synergy[synergy["score"] == "bliss"]
    assert len(bliss) == 25 and np.isfinite(bliss["value"]).sum() >= 16
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["screen"]["cell_lines"] == ["model_defaults"]
    assert "time-average" in manifest["screen"]["readout_conventions"]["level"]
    assert main(["report", str(out)]) == 0
    assert (out / "figures" / "model_defaults_species_MAPK_PP.png").is_file()  # no ':' in the file name
    assert "model_defaults_species_MAPK_PP.png" in (out / "report.html").read_text()


def test_sensitivity_of_a_species_level_on_promoted_parameters(capsys, tmp_path):
    code, stdout, err = run(capsys, "sensitivity", "--model", K10, "--add-drug", MEKI, "--method", "local",
                            "--output", "species:MAPK_PP@meki=300nM", "--params", "J0_V1,J1_V2", "--workers", "1",
                            "--no-progress", "--out", tmp_path)
    assert code == 0, err
    assert "J1_V2" in stdout and "0 failed" in stdout
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "1 - value" in manifest["sensitivity"]["readout_conventions"]["level"]


TOY = "model toy\n  J1: -> X; k1\n  J2: X -> ; kd*X\n  X = 1; k1 = 2; kd = 0.5\nend\n"


def test_fit_blots_to_a_model_without_cell_lines(capsys, tmp_path):
    """A blot file without a cell_line column, a drug added to the model, --estimate without a line."""
    model = tmp_path / "toy.ant"
    model.write_text(TOY, encoding="utf-8")
    (tmp_path / "toy.toml").write_text('time_unit = "h"\n', encoding="utf-8")
    # steady state X = k1*(1 - f)/kd: 4 untreated; with IC50 10 nM, 10 nM halves it (2), 90 nM gives 0.4
    (tmp_path / "blots.csv").write_text(
        "condition,time,inh_nM,observable,mean,sem,n\nDMSO,0,0,X,4,0.1,3\nlow,24,10,X,2,0.1,3\n"
        "high,24,90,X,0.4,0.05,3\n", encoding="utf-8")
    code, stdout, err = run(capsys, "fit", "--data", tmp_path / "blots.csv", "--model", model, "--add-drug",
                            "inh:J1:10nM", "--estimate", "k1", "--starts", "3", "--workers", "1",
                            "--out", tmp_path / "fit")
    assert code == 0, err
    assert "3 of 3 starts ok" in stdout
    params = pd.read_csv(tmp_path / "fit" / "parameters.csv").set_index("parameterId")
    # the data are the model's own steady states at k1 = 2 (X = k1 (1 - f)/kd, f = inh/(inh + 10 nM)), so the
    # fit recovers k1 (log10 scale: 0.30103) to the optimiser's tolerance
    assert params.loc["k1_model_defaults", "estimate_scaled"] == pytest.approx(np.log10(2.0), abs=1e-4)


def test_a_model_with_events_gets_its_steady_state_by_integration():
    """roadrunner refuses Newton on a model with events; its failed call left the engine holding a freed model
    (a segfault on the next state access). Now the state is found by integration and the note says why."""
    model = ms.from_antimony_text("X = 1\nJ1: X -> ; k*X\nk = 1\nE1: at (time > 1): X = 5\n", name="events")
    ss = ms.steady_state(model, select=["X"])
    assert ss.ok and abs(ss["X"]) < 1e-8
    assert "the model has events" in ss.message and "ALLOW_EVENTS" not in ss.message


def test_a_study_config_on_a_user_model(tmp_path, capsys):
    """A study config beside its SBML, with add_drug terms and no cell lines: validate passes it, run_study runs
    it, and a misspelt drug term is reported by both before anything runs."""
    import shutil

    shutil.copy(K10, tmp_path / "k10.xml")
    config = tmp_path / "config.toml"
    text = ('model = "k10.xml"\nadd_drug = ["meki:J6,J7:10nM", "rafi:J2,J3:50nM"]\nreadouts = ["species:MAPK_PP"]\n'
            '[[screen]]\nname = "meki_x_rafi"\ndrug_a = "meki:1:1000:3"\ndrug_b = "rafi:1:1000:3"\nratio = "1:5"\n')
    config.write_text(text, encoding="utf-8")
    assert main(["validate", str(config)]) == 0
    result = ms.run_study(config, tmp_path / "out", workers=1)
    assert result.summary["meki_x_rafi"] == {**result.summary["meki_x_rafi"], "wells": 16 + 3, "failed_wells": 0}
    config.write_text(text.replace("J6,J7", "J6,J77"), encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(config)]) == 1
    assert "'J77'" in capsys.readouterr().out
    with pytest.raises(ms.InputError, match="J77"):
        ms.run_study(config, tmp_path / "out2", workers=1)
    assert not (tmp_path / "out2").exists()
