"""Readouts a model declares in its metadata (Model B) through compute_readouts, dose-response and screen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulator as ms
from simulator.cli import main
from simulator.errors import ModelLoadError
from simulator.readouts import compute_readouts, readouts_for

COMBO = {"trametinib": 10.0, "palbociclib": 500.0}


@pytest.fixture(scope="module")
def melanoma():
    return ms.load_model("melanoma")


def test_each_model_lists_its_own_readouts(mpnst, melanoma):
    assert set(readouts_for(melanoma)) == {"senescent_d33", "growth_d33", "regrowth_d33"}
    assert "viability" in readouts_for(mpnst) and "senescent_d33" not in readouts_for(mpnst)
    assert readouts_for(melanoma)["growth_d33"].effect == "1-value/100"


def test_declared_readouts_equal_the_time_course_they_are_read_from(melanoma):
    """senescent_d33 and regrowth_d33 recomputed by hand from a time course (B3's N(33)/N(min))."""
    cond = ms.make_condition(melanoma, "SKMEL30", COMBO)
    (record,) = compute_readouts(melanoma, [cond])
    assert record.ok
    times = np.linspace(0.0, 33 * 24.0, 2001)
    traj = ms.time_course(melanoma, times, cond, select=["senescent_fraction", "N"])
    assert record["senescent_d33"] == pytest.approx(traj["senescent_fraction"][-1], rel=1e-4)
    regrowth = traj["N"][-1] / traj["N"].min()
    assert record["regrowth_d33"] == pytest.approx(regrowth, rel=2e-3)  # the minimum is sampled at 401 points
    assert regrowth > 3  # B3: the escaper regrows


def test_growth_is_percent_of_the_same_lines_dmso(melanoma):
    """growth_d33 = 100*N(33 d)/N_DMSO(33 d), recomputed from the two time courses; the combination holds MELJUSO
    (B2: N(33) < 2) while its DMSO well fills (contact inhibition, ~29x seeding), so it reads a few percent."""
    conditions = [ms.make_condition(melanoma, "MELJUSO", d) for d in ({}, COMBO)]
    records = compute_readouts(melanoma, conditions, readouts=["growth_d33"])
    assert records[0]["growth_d33"] == pytest.approx(100.0, abs=1e-9)
    n33 = [ms.time_course(melanoma, [0.0, 33 * 24.0], c, select=["N"])["N"][-1] for c in conditions]
    assert records[1]["growth_d33"] == pytest.approx(100 * n33[1] / n33[0], rel=1e-4)
    assert n33[1] < 2 and 0 < records[1]["growth_d33"] < 100 * 2 / n33[0]


def test_bad_readout_metadata_is_named(tmp_path):
    ant = tmp_path / "toy.ant"
    ant.write_text("model toy\n  species X = 1; k = 0.1;\n  J: X -> ; k*X;\nend\n", encoding="utf-8")
    (tmp_path / "toy.toml").write_text(
        'time_unit = "h"\n[readouts.r1]\nlabel = "a"\nunit = "b"\nobservable = "Y"\ntime = "2 d"\neffect = "log"\n'
        '[readouts.r2]\nlabel = "a"\nunit = "b"\nobservable = "X"\n', encoding="utf-8")
    with pytest.raises(ModelLoadError) as err:
        ms.load_model(ant)
    text = str(err.value)
    assert "'Y' is not an id" in text and "effect 'log'" in text and "[readouts.r2] lacks time" in text


def test_dose_response_and_screen_run_on_model_b(melanoma, tmp_path):
    result = ms.dose_response(melanoma, "SKMEL30", "palbociclib", [0, 10, 30, 100, 300, 1000, 3000],
                              readout="growth_d33", background={"trametinib": 10.0})
    assert all(s == "ok" for s in result.statuses) and result.fit.model == "4PL, top and bottom free"
    # the series is not monotone (below), so the free 4PL's relative EC50 may not be stated (6 points, 4 parameters:
    # the F test against a flat line decides); the absolute IC50 (50 % of DMSO) is, between the two tested doses
    # whose responses bracket 50 % (10 nM: 66 %, 30 nM: 47 %)
    assert result.fit.status != "failed" and 10 < result.fit.ic50_abs < 30
    # every palbociclib dose leaves fewer cells than trametinib alone, the top dose less than half; not monotone
    # above 100 nM: a complete arrest makes more senescent, IFN-secreting cells and so more escapers
    # (models/melanoma.md, "Predictions")
    assert np.all(result.values[1:] < result.values[0]) and result.values[-1] < 0.5 * result.values[0]
    out = tmp_path / "screen"
    code = main(["screen", "--model", "melanoma", "--cell-lines", "MELJUSO,SKMEL30", "--drug-a", "trametinib:1:30:2",
                 "--drug-b", "palbociclib:30:1000:2", "--workers", "1", "--no-progress", "--out", str(out)])
    assert code == 0
    wells = pd.read_parquet(out / "wells.parquet")
    assert set(wells["readout"]) == {"senescent_d33", "growth_d33"}  # default: the readouts with an effect
    assert (wells["status"] == "ok").all()
    synergy = pd.read_parquet(out / "synergy.parquet")
    assert set(synergy["readout"]) == {"senescent_d33", "growth_d33"}
    assert main(["report", str(out)]) == 0


@pytest.mark.parametrize("name", ["mpnst", "melanoma"])
def test_every_declaration_survives_an_sbml_edit(name):
    """metadata_of: a model rebuilt from its own SBML and metadata declares exactly what the bundled one does."""
    from simulator.model import from_sbml_text, metadata_of

    model = ms.load_model(name)
    rebuilt = from_sbml_text(model.sbml, name=model.name, metadata=metadata_of(model))
    for attr in ("readouts", "observables", "time_unit", "title"):
        assert getattr(rebuilt, attr) == getattr(model, attr), attr
    assert dict(rebuilt.pre_equilibration) == dict(model.pre_equilibration)


def test_a_model_without_steady_state_says_so_at_once(melanoma):
    """Model B declares no_steady_state: a steady-state request fails immediately with the reason, while time
    courses still pre-equilibrate the signalling (population switched off)."""
    import time

    start = time.perf_counter()
    (record,) = ms.steady_states(melanoma, [ms.make_condition(melanoma, "SKMEL30")])
    assert record.status == "failed" and "no steady state" in record.message and "grows" in record.message
    assert time.perf_counter() - start < 0.5
    traj = ms.time_course(melanoma, [0.0, 24.0], ms.make_condition(melanoma, "SKMEL30", COMBO))
    assert traj.ok and traj.pre_equilibrated


def test_sensitivity_runs_on_model_b(melanoma, tmp_path):
    """Which parameters decide escape: Morris on Model B's declared readouts, with its fixed switches held."""
    from simulator.sensitivity import default_ranges

    space = default_ranges(melanoma)
    varied = {r.id for r in space.ranges}
    assert not varied & set(melanoma.fixed_parameters)  # population_on, P0, Hill steepnesses ... are held
    assert {"kesc", "w5I", "cIFN"} <= varied
    out = tmp_path / "sens"
    code = main(["sensitivity", "--model", "melanoma", "--method", "morris", "--n", "2", "--cell-line", "SKMEL30",
                 "--output", "senescent_d33@trametinib=10nM,palbociclib=500nM", "--workers", "1", "--no-progress",
                 "--out", str(out)])
    assert code == 0
    assert (out / "manifest.json").is_file()


def test_fixed_parameters_must_exist(tmp_path):
    ant = tmp_path / "toy.ant"
    ant.write_text("model toy\n  species X = 1; k = 0.1;\n  J: X -> ; k*X;\nend\n", encoding="utf-8")
    (tmp_path / "toy.toml").write_text('[fixed_parameters]\nkk = "typo"\n', encoding="utf-8")
    with pytest.raises(ModelLoadError, match="kk are not settable parameters"):
        ms.load_model(ant)


def test_tight_tolerance_run_with_a_far_first_output_is_retried_and_exact(melanoma):
    """At rtol 1e-10 CVODE fails right after t0 on Model B's kink max(0, 1 - ERK) when the first output is days
    away; the engine retries on a grid refined towards t0 and returns the same numbers as a dense run."""
    from simulator.engine import SolverOptions

    tight = SolverOptions(rtol=1e-10, atol=1e-12)
    cond = ms.make_condition(melanoma, "SKMEL30", COMBO)
    dense = ms.time_course(melanoma, np.linspace(0.0, 792.0, 793), cond, options=tight)
    sparse = ms.time_course(melanoma, np.array([0.0, 72.0, 792.0]), cond, options=tight)
    assert sparse.ok
    np.testing.assert_allclose(sparse["N"], dense["N"][[0, 72, 792]], rtol=1e-8)
