"""Western-blot data (simulator.blots): both file shapes, every problem reported, PEtab round trip.

Truth: hand-computed lane normalisations; planted errors whose rows and columns are known; data
simulated by the engine (independently of the PEtab path), for which the PEtab nllh at the true
parameters must be the analytic sum of 0.5*log(2*pi*sem**2) (all residuals 0); petab's own linter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import simulator as ms
from simulator.cli import main
from simulator.errors import InputError
from simulator.fit import (
    BlotDataError,
    blots_to_petab,
    lint_petab,
    load_petab,
    observable_for_target,
    petab_nllh,
    read_blot_data,
    simulate_petab,
)
from tests.conftest import ROOT

DATA = ROOT / "experiments" / "fit_mpnst_blots" / "data"
SUMMARY = DATA / "mpnst_blots_summary.csv"
LANES = DATA / "lanes_example.csv"
R_LINES = ("S462_R1", "S462_R2", "S462_R3")
NLLH_ATOL = 1e-6  # brief: residuals 0 -> nllh equals its constant to 1e-6
SIM_RTOL = 1e-6  # engine vs PEtab path: same solver settings, so agreement to integration tolerance


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ the dataset


def test_mpnst_dataset_is_labelled_and_keeps_the_paper_directions(mpnst):
    data = read_blot_data(SUMMARY, mpnst)
    assert data.shape == "summary" and data.model == "mpnst"
    assert "REPRESENTATIVE, NOT DIGITIZED" in data.notes and "Fig. 2C" in data.notes and "Fig. 4D" in data.notes
    tab = data.table.set_index(["cell_line", "observable"])
    assert set(data.cell_lines) == {"S462", *R_LINES}
    assert set(data.observables) == {"pMEK", "pERK", "pFAK", "pSRC", "pAKT"}
    assert (data.table["n"] == 3).all()
    rel_sem = data.table["sem"] / data.table["value"]
    assert rel_sem.between(0.08, 0.2).all()  # plausible densitometry SEMs (brief: ~10-20 %)
    for obs in data.observables:
        assert tab.loc[("S462", obs), "value"] == 1.0  # normalised to the parental line
    for line in R_LINES:
        for obs in ("pMEK", "pERK", "pFAK", "pSRC"):  # biology.md A5, A8: >= 1.5x P
            assert tab.loc[(line, obs), "value"] >= 1.5
        assert tab.loc[(line, "pAKT"), "value"] <= 1.2  # A6: not increased


def test_lanes_example_reads_and_every_gel_is_normalised_to_its_parental_lane(mpnst):
    data = read_blot_data(LANES, mpnst)
    assert data.shape == "lanes" and data.reference_line == "S462"
    assert "REPRESENTATIVE, NOT DIGITIZED" in data.notes
    tab = data.table
    assert len(tab) == 3 * 4 * 3 + 3 * 4 * 2  # Fig. 2C gels: 3 targets, Fig. 4D gels: 2; 4 lanes each
    parental = tab[tab["cell_line"] == "S462"]
    assert np.allclose(parental["value"], 1.0, rtol=1e-12)
    assert tab.groupby(["blot_id", "observable"]).size().eq(4).all()  # replicates kept, one row per lane


# ---------------------------------------------------------------------------- reading, known values


def test_lane_ratios_normalised_by_hand(tmp_path, mpnst):
    path = _write(tmp_path / "lanes.csv", """\
# toy gel
gel_id,lane,cell_line,time,trametinib_nM,target,phospho,total,loading
g1,1,S462,0,0,ERK,100,1000,5
g1,2,S462,0,0,ERK,300,1000,5
g1,3,S462_R1,30min,10,ERK,50,500,5
g1,1,S462,0,0,mek,40,200,5
""")
    data = read_blot_data(path, mpnst)
    tab = data.table.set_index(["replicate", "observable"])
    ref = (100 / 1000 + 300 / 1000) / 2  # mean of the two S462 no-drug lanes of the gel
    assert tab.loc[("1", "pERK"), "value"] == pytest.approx(0.1 / ref, rel=1e-12)
    assert tab.loc[("2", "pERK"), "value"] == pytest.approx(0.3 / ref, rel=1e-12)
    assert tab.loc[("3", "pERK"), "value"] == pytest.approx(0.1 / ref, rel=1e-12)
    assert tab.loc[("3", "pERK"), "time_h"] == 0.5  # 30min
    assert tab.loc[("3", "pERK"), "trametinib"] == 10.0
    assert tab.loc[("3", "pERK"), "condition"] == "trametinib_10nM"
    assert tab.loc[("1", "pMEK"), "value"] == 1.0  # target names are case-insensitive
    # another reference line changes the normalisation: no S462_R1 no-drug lane for ERK on g1
    with pytest.raises(BlotDataError, match="no reference lane"):
        read_blot_data(path, mpnst, reference_line="S462_R1")


def test_targets_map_through_the_model_metadata_not_a_fixed_list(mpnst):
    assert observable_for_target(mpnst) == {"ERK": "pERK", "MEK": "pMEK", "FAK": "pFAK", "SRC": "pSRC",
                                            "AKT": "pAKT"}
    toy = ms.from_antimony_text(
        "model toy\n S3 = 0.2; S3p = 0.8; J: S3 -> S3p; k*S3; k = 1\n r := S3p/(S3 + S3p)\nend",
        name="toy", metadata={"observables": {"r": {"label": "p-STAT3/STAT3 (Y705)", "unit": "rel"},
                                              "S3": {"label": "STAT3 total", "unit": "nu"}}},
    )
    assert observable_for_target(toy) == {"STAT3": "r"}


# ----------------------------------------------------------------------------- all problems at once


def _problems(exc_info):
    return {(p.row, p.column) for p in exc_info.value.problems}


def test_invalid_summary_reports_every_problem_with_row_and_column(tmp_path, mpnst):
    path = _write(tmp_path / "bad.csv", """\
# line 1 is a comment, so the header is line 2
cell_line,condition,time,observable,mean,sem,n,colour,aspirin_nM
S462,basal,0,pMEK,1.0,0.1,3,red,0
S462_R9,basal,0,pMEK,2.0,0.2,3,red,0
S462_R1,basal,0,pMEK,abc,0.2,3,red,0
S462_R1,basal,0,pXYZ,2.0,0,3,red,0
S462_R2,basal,-1,pERK,2.0,0.2,2.5,red,0
S462,basal,0,pMEK,1.0,0.1,3,red,0
S462_R3,basal,0,pERK,2.0,0.2,3
""")
    with pytest.raises(BlotDataError) as exc_info:
        read_blot_data(path, mpnst)
    planted = {(2, "colour"), (2, "aspirin_nM"), (4, "cell_line"), (5, "mean"), (6, "observable"), (6, "sem"),
               (7, "time"), (7, "n"), (8, "observable"), (9, "*")}
    assert _problems(exc_info) == planted
    message = str(exc_info.value)
    assert message.startswith(f"10 problem(s) in blot data file {path}")
    assert f"{path}:6:sem: sem '0' is zero; valid: a number > 0" in message
    assert "S462_R1, S462_R2" in message  # the valid cell lines are named


def test_invalid_lanes_report_every_problem(tmp_path, mpnst):
    path = _write(tmp_path / "bad_lanes.csv", """\
gel_id,lane,cell_line,time,target,phospho,total,loading
g1,1,S462,0,ERK,100,1000,10
g1,2,S462_R1,0,ERK,-5,1000,10
g1,2,S462_R1,0,ERK,50,1000,10
g1,3,S462_R1,0,ERK,50,0,10
g1,2,S462_R2,0,MEK,50,100,10
g1,4,S462_R1,0,RAS,50,100,10
g2,1,S462_R1,0,ERK,50,100,0
""")
    with pytest.raises(BlotDataError) as exc_info:
        read_blot_data(path, mpnst)
    assert _problems(exc_info) == {
        (3, "phospho"),     # negative
        (4, "lane"),        # g1 lane 2 ERK given twice
        (5, "total"),       # 0: no ratio
        (6, "cell_line"),   # g1 lane 2 is S462_R1 for ERK but S462_R2 for MEK
        (6, "gel_id"),      # ... and gel g1 has no S462 lane for MEK
        (7, "target"),      # RAS: no observable p-RAS/RAS in Model A
        (8, "loading"),     # 0
        (8, "gel_id"),      # gel g2 has no S462 lane at all (reported in the same pass as the row problems)
    }
    # a gel without its reference lane is reported once per gel and target, at its first row
    fixed = _write(tmp_path / "no_ref.csv", "gel_id,lane,cell_line,time,target,phospho,total\n"
                   "g1,1,S462,0,ERK,1,10\ng2,1,S462_R1,0,ERK,2,10\ng2,2,S462_R1,0,MEK,2,10\n")
    with pytest.raises(BlotDataError) as exc_info:
        read_blot_data(fixed, mpnst)
    assert _problems(exc_info) == {(3, "gel_id"), (4, "gel_id")}


def test_missing_columns_and_unknown_shape(tmp_path):
    with pytest.raises(BlotDataError) as exc_info:
        read_blot_data(_write(tmp_path / "a.csv", "cell_line,condition,time,observable,mean\nS462,b,0,pERK,1\n"))
    assert _problems(exc_info) == {(1, "sem"), (1, "n")}
    with pytest.raises(BlotDataError, match="neither blot shape"):
        read_blot_data(_write(tmp_path / "b.csv", "x,y\n1,2\n"))


# ------------------------------------------------------------------------------ PEtab round trip


@pytest.fixture(scope="module")
def simulated_summary(tmp_path_factory, mpnst, condition):
    """A ratio-summary file whose means are Model A's own values (engine, not the PEtab path)."""
    rows = []
    for line in ("S462", "S462_R1"):
        basal = ms.steady_state(mpnst, condition(line))
        for obs in ("pERK", "pMEK", "pFAK"):
            rows.append((line, "basal", "0", 0.0, obs, basal[obs]))
        treated = ms.time_course(mpnst, [0.0, 60.0, 240.0], condition(line, {"trametinib": 10.0}))
        for i, when in ((1, "60min"), (2, "4h")):
            for obs in ("pERK", "pMEK"):
                rows.append((line, "tram10", when, 10.0, obs, float(treated[obs][i])))
    text = "# simulated by Model A for the round-trip test\n"
    text += "cell_line,condition,time,trametinib_nM,observable,mean,sem,n\n"
    sems = []
    for k, (line, cond, when, dose, obs, value) in enumerate(rows):
        sem = 0.1 * value + 0.01 * (k % 3 + 1)  # [A] distinct, positive SEMs
        sems.append(sem)
        text += f"{line},{cond},{when},{dose!r},{obs},{value!r},{sem!r},3\n"
    path = _write(tmp_path_factory.mktemp("roundtrip") / "simulated.csv", text)
    return path, np.array(sems)


def test_round_trip_nllh_is_the_analytic_constant(simulated_summary, mpnst, tmp_path):
    path, sems = simulated_summary
    data = read_blot_data(path, mpnst)
    yaml_path = blots_to_petab(mpnst, data, tmp_path / "petab", estimate={"S462_R1": ["ksL", "Itot"]})
    assert lint_petab(yaml_path) == []
    problem = load_petab(yaml_path)
    params = problem.parameter_df
    assert set(params.index[params["estimate"] == 1]) == {"ksL_S462_R1", "Itot_S462_R1"}
    assert params.loc["ksL_S462_R1", "nominalValue"] == pytest.approx(5 * mpnst.parameters["ksL"])
    assert params.loc["Itot_S462_R1", "lowerBound"] == pytest.approx(4.0 / 100)
    assert params.loc["Itot_S462_R1", "parameterScale"] == "log10"
    mdf = problem.petab.measurement_df
    assert set(mdf["preequilibrationConditionId"]) == {"S462__untreated", "S462_R1__untreated"}
    assert sorted(set(mdf["time"])) == [0.0, 60.0, 240.0]  # hours and minutes -> model minutes
    sim = simulate_petab(problem)
    np.testing.assert_allclose(sim["simulation"], mdf["measurement"], rtol=SIM_RTOL)
    nllh = petab_nllh(problem, sim)
    assert nllh == pytest.approx(float(np.sum(0.5 * np.log(2 * math.pi * sems**2))), abs=NLLH_ATOL)
    # the estimated parameter reaches R1's rows (and only those): moving it costs likelihood
    moved = {"ksL_S462_R1": 2 * params.loc["ksL_S462_R1", "nominalValue"]}
    sim2 = simulate_petab(problem, moved)
    r1 = (mdf["simulationConditionId"].str.startswith("S462_R1")).to_numpy()
    assert not np.allclose(sim2["simulation"][r1], sim["simulation"][r1], rtol=1e-3)
    np.testing.assert_allclose(sim2["simulation"][~r1], sim["simulation"][~r1], rtol=SIM_RTOL)
    assert petab_nllh(problem, sim2, moved) > nllh + 1.0


def test_lanes_to_petab_has_a_scale_per_blot_and_a_sigma_per_observable(mpnst, tmp_path):
    data = read_blot_data(LANES, mpnst)
    yaml_path = blots_to_petab(mpnst, data, tmp_path / "petab")
    assert lint_petab(yaml_path) == []
    problem = load_petab(yaml_path)
    params = problem.parameter_df
    estimated = set(params.index[params["estimate"] == 1])
    scales = {f"scale_{gel}_{obs}" for gel, obs in data.table[["blot_id", "observable"]].drop_duplicates().values}
    assert len(scales) == 3 * 3 + 3 * 2
    assert estimated == scales | {f"sigma_{obs}" for obs in data.observables}
    assert "REPRESENTATIVE, NOT DIGITIZED" in (tmp_path / "petab" / "README.md").read_text()
    sim = simulate_petab(problem)
    assert np.isfinite(petab_nllh(problem, sim))


@pytest.mark.parametrize("source", [SUMMARY, LANES])
def test_blot_problems_carry_a_petab_visualization_table(mpnst, tmp_path, source):
    """One plot per observable, one dataset per blot, observable and condition, covering every measurement row
    (what petab_visualize draws); bars for basal levels (one time point), lines for time courses."""
    yaml_path = blots_to_petab(mpnst, read_blot_data(source, mpnst), tmp_path / "petab")
    problem = load_petab(yaml_path)
    assert "visualization.tsv" in yaml_path.read_text()
    vis = problem.petab.visualization_df
    measurements = problem.petab.measurement_df
    assert set(vis["datasetId"]) == set(measurements["datasetId"]) and not vis["datasetId"].duplicated().any()
    per_dataset = measurements.groupby("datasetId")[["observableId", "simulationConditionId"]].nunique()
    assert (per_dataset == 1).all().all()  # a dataset is one observable in one condition
    assert set(vis["plotId"]) == {f"plot_{o.removeprefix('obs_')}" for o in measurements["observableId"]}
    for plot_id, rows in vis.groupby("plotId"):
        times = measurements[measurements["observableId"] == rows["yValues"].iloc[0]]["time"].nunique()
        assert set(rows["plotTypeSimulation"]) == {"BarPlot" if times == 1 else "LinePlot"}, plot_id


def test_estimate_is_checked(mpnst, tmp_path):
    data = read_blot_data(SUMMARY, mpnst)
    with pytest.raises(InputError, match="no data"):
        blots_to_petab(mpnst, data, tmp_path, estimate={"ST8814": ["ksL"]})
    with pytest.raises(InputError, match="not a settable parameter"):
        blots_to_petab(mpnst, data, tmp_path, estimate={"S462_R1": ["pERK"]})
    with pytest.raises(InputError, match="needs a value > 0"):
        blots_to_petab(mpnst, data, tmp_path, estimate={"S462_R1": ["NF1"]})


# ------------------------------------------------------------------------------------------- CLI


def test_validate_cli_on_the_dataset_and_on_a_bad_file(tmp_path, capsys):
    assert main(["validate", str(SUMMARY), str(LANES)]) == 0
    assert "0 error(s)" in capsys.readouterr().out
    bad = _write(tmp_path / "bad.csv", "cell_line,condition,time,observable,mean,sem,n\n"
                 "S462,basal,0,pERK,1,0.1,3\nS462_R7,basal,0,pERK,x,-1,0\n")
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    for column in ("cell_line", "mean", "sem", "n"):
        assert f"{bad}:3:{column}: error:" in out
    assert "4 error(s)" in out


def test_blot_data_at_nominal_values_with_zero_starts(tmp_path, capsys):
    """``mekisim fit --data ... --starts 0``: the blots' problem at the model's values, nothing fitted; the figure
    says the data are representative (the bundled blots are)."""
    import json

    out = tmp_path / "nominal"
    assert main(["fit", "--model", "mpnst", "--data", str(SUMMARY), "--starts", "0", "--out", str(out)]) == 0
    record = json.loads((out / "nominal.json").read_text())
    assert record["status"] == "ok" and math.isfinite(record["nllh"]) and record["n_measurements"] == 20
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fit"]["representative_data"] and manifest["fit"]["nominal"]
    for name in ("fit_vs_data.csv", "fit_vs_data.png", "simulation.tsv"):
        assert (out / name).is_file(), name
    assert (out / "petab" / "visualization.tsv").is_file()


def test_validate_cli_lints_petab_problems(mpnst, tmp_path, capsys):
    yaml_path = blots_to_petab(mpnst, read_blot_data(SUMMARY, mpnst), tmp_path / "ok")
    assert main(["validate", str(yaml_path)]) == 0
    measurements = tmp_path / "ok" / "measurements.tsv"
    text = measurements.read_text()
    measurements.write_text(text.replace("S462_R2__untreated\tS462_R2__untreated", "S462_R2__untreated\tnope"))
    capsys.readouterr()
    assert main(["validate", str(yaml_path)]) == 1
    assert "conditions that are not specified in the condition table: {'nope'}" in capsys.readouterr().out
