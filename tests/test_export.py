"""mekisim export: the exported condition, run elsewhere, gives mekisim's numbers.

Every round trip runs the exported file in a fresh interpreter that never imports mekisim (tests/_omex_runner.py):
tellurium's ``executeCombineArchive`` for an archive, plain roadrunner for an SBML or Antimony file. Both sides run
at rtol 1e-10 / atol 1e-12: at mekisim's defaults (rtol 1e-6) the two differ by mekisim's own integration error
(~7e-5 on Model A, because tellurium's executor turns moiety conservation off), which is not an export error.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator as ms
from simulator.cli import main

RUNNER = Path(__file__).with_name("_omex_runner.py")
TIGHT = ms.SolverOptions(rtol=1e-10, atol=1e-12)
TIGHT_ARGS = ["--rtol", "1e-10", "--atol", "1e-12"]
#: the issue's criterion: the exported condition reproduces mekisim to 1e-6 relative
RTOL = 1e-6
#: absolute floor for values that are ~0 (Model B's senescent cells at t = 0 are 1e-33)
ATOL = 1e-12


def run_elsewhere(tmp_path: Path, kind: str, path: Path, *extra: str) -> dict[str, np.ndarray]:
    """Run an exported file in a fresh interpreter without mekisim; its data generators or selected columns."""
    result = tmp_path / f"{path.stem}_{kind}.npz"
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # tellurium extracts archives into temporary folders
    done = subprocess.run([sys.executable, str(RUNNER), str(result), kind, str(path), *extra], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(result) as data:
        return {k: data[k] for k in data.files}


def archive_file(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def export(tmp_path: Path, capsys, *argv: str) -> str:
    code = main(["export", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def mekisim_course(model, line, doses, times, *, values=None, pre_equilibrate=True, select=None):
    condition = ms.make_condition(model, line, doses, values=values)
    traj = ms.time_course(model, times, condition, pre_equilibrate=pre_equilibrate, options=TIGHT,
                          select=select or list(model.observable_ids))
    assert traj.ok and traj.pre_equilibrated == pre_equilibrate, traj.message
    return traj


def assert_reproduces(data: dict, traj, prefix: str = "tc_") -> float:
    """Every observable of ``traj`` equals the exported run's; returns the largest relative difference."""
    worst = 0.0
    for obs in traj.ids:
        got, want = data[prefix + obs].ravel(), traj[obs]
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=obs)
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(np.abs(want), ATOL))))
    return worst


@pytest.fixture(scope="module")
def melanoma() -> ms.CompiledModel:
    return ms.load_model("melanoma")


# ------------------------------------------------------------------------------------ condition archives


def test_model_a_archive_reproduces_mekisim_pre_equilibrated(tmp_path, capsys, mpnst):
    """S462_R1 + 3 nM trametinib, pre-equilibrated: tellurium runs the archive to mekisim's numbers."""
    path = tmp_path / "r1_tram.omex"
    out = export(tmp_path, capsys, "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=3nM",
                 "--time", "0:240:241", *TIGHT_ARGS, "--out", str(path))
    assert "pre-equilibrated: the run starts from the untreated steady state of S462_R1" in out
    data = run_elsewhere(tmp_path, "omex", path)
    times = np.linspace(0.0, 240.0, 241)
    traj = mekisim_course(mpnst, "S462_R1", {"trametinib": 3.0}, times)
    np.testing.assert_allclose(data["tc_time"].ravel(), times, rtol=1e-12)
    assert_reproduces(data, traj)
    # the protocol matters: from the initial conditions p-ERK is far from the archive's (the comparison can fail)
    plain = mekisim_course(mpnst, "S462_R1", {"trametinib": 3.0}, times, pre_equilibrate=False)
    assert np.max(np.abs(plain["pERK"] - data["tc_pERK"].ravel()) / traj["pERK"]) > 0.1
    # the executing tool's own untreated steady state is the start state mekisim wrote in
    start = pd.read_csv(io.StringIO(archive_file(path, "reference/start_state.csv")))
    untreated = ms.steady_state(mpnst, ms.make_condition(mpnst, "S462_R1").untreated, select=list(mpnst.species),
                                options=TIGHT)
    for sid, value in zip(start["species"], start["concentration"], strict=True):
        assert data[f"pre_{sid}"].ravel()[0] == pytest.approx(value, rel=RTOL, abs=ATOL), sid
        assert untreated[sid] == pytest.approx(value, rel=RTOL, abs=ATOL), sid
    # mekisim's reference table in the archive is the same run, with the report's labels as columns
    reference = pd.read_csv(io.StringIO(archive_file(path, "reference/mekisim.csv")))
    assert reference.columns[0] == "time_min"
    assert reference.columns[1] == "pERK: p-ERK/ERK (T202/Y204) [relative to S462 DMSO]"
    np.testing.assert_allclose(reference.iloc[:, 1], traj["pERK"], rtol=1e-12)


SEDML_FACTS = """
import json, sys
import libsedml
doc = libsedml.readSedMLFromString(sys.stdin.read())
sim = doc.getSimulation("time_course")
plot = doc.getOutput("plot1")
print(json.dumps({
    "errors": doc.getNumErrors(libsedml.LIBSEDML_SEV_ERROR),
    "grid": [sim.getOutputStartTime(), sim.getOutputEndTime(), sim.getNumberOfSteps()],
    "kisao": sim.getAlgorithm().getKisaoID(),
    "params": {p.getKisaoID(): float(p.getValue()) for p in sim.getAlgorithm().getListOfAlgorithmParameters()},
    "labels": [ds.getLabel() for ds in doc.getOutput("time_course_report").getListOfDataSets()],
    "axes": [plot.getXAxis().getName(), plot.getYAxis().getName()],
}))
"""


def sedml_facts(text: str) -> dict:
    """What libsedml reads from a SED-ML text, read in a child interpreter.

    Why not here: importing libsedml swaps python-libsbml's ASTNode wrappers for its own in the whole process,
    which changes later model loading (tests/test_sedml_isolation.py).
    """
    done = subprocess.run([sys.executable, "-c", SEDML_FACTS], input=text, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_model_a_archive_contents(tmp_path, capsys):
    """What the archive holds: models, SED-ML with the solver settings, labelled report, plots, metadata."""
    path = tmp_path / "a.omex"
    export(tmp_path, capsys, "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=3nM", "--time",
           "0:4h:25", *TIGHT_ARGS, "--out", str(path))
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"condition.xml", "condition_untreated.xml", "condition.ant", "simulation.sedml", "reference/mekisim.csv",
            "reference/start_state.csv", "manifest.xml", "metadata.rdf"} <= names
    manifest = archive_file(path, "manifest.xml")
    assert 'location="./simulation.sedml" format="http://identifiers.org/combine.specifications/sed-ml" ' \
           'master="true"' in manifest
    description = archive_file(path, "metadata.rdf")
    assert "Pre-equilibrated: the run starts from the untreated steady state" in description
    assert "trametinib 3 nM" in description and "Itot = 4" in description  # the cell line's value, written in
    facts = sedml_facts(archive_file(path, "simulation.sedml"))
    assert facts["errors"] == 0
    assert facts["grid"] == [0.0, 240.0, 24]
    assert facts["kisao"] == "KISAO:0000019"
    assert facts["params"] == {"KISAO:0000209": 1e-10, "KISAO:0000211": 1e-12, "KISAO:0000415": 100000.0}
    assert facts["labels"][:2] == ["time_min", "pERK: p-ERK/ERK (T202/Y204) [relative to S462 DMSO]"]
    assert facts["axes"] == ["time after drug addition (min), from the untreated steady state",
                             "relative to S462 DMSO"]
    # the treated model starts from the steady state: the species' initial assignments are gone, the totals' stay
    import libsbml

    treated = libsbml.readSBMLFromString(archive_file(path, "condition.xml")).getModel()
    untreated = libsbml.readSBMLFromString(archive_file(path, "condition_untreated.xml")).getModel()
    assert treated.getNumInitialAssignments() == 0 < untreated.getNumInitialAssignments()
    assert treated.getParameter("trametinib").getValue() == 3.0
    assert untreated.getParameter("trametinib").getValue() == 0.0
    assert treated.getParameter("Itot").getValue() == untreated.getParameter("Itot").getValue() == 4.0


def test_model_a_set_values_reproduce_mekisim(tmp_path, capsys, mpnst):
    """--set Itot=3,kE=3: Itot feeds the species' initial assignments, kE a rate law; both reach the archive."""
    path = tmp_path / "r1_set.omex"
    out = export(tmp_path, capsys, "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=3",
                 "--set", "Itot=3,kE=3", "--time", "0:240:121", *TIGHT_ARGS, "--out", str(path))
    assert "set Itot=3, kE=3" in out
    assert "Values set by the user (--set; applied before pre-equilibration): Itot = 3, kE = 3." in \
        archive_file(path, "metadata.rdf")
    data = run_elsewhere(tmp_path, "omex", path)
    times = np.linspace(0.0, 240.0, 121)
    traj = mekisim_course(mpnst, "S462_R1", {"trametinib": 3.0}, times, values={"Itot": 3.0, "kE": 3.0})
    assert_reproduces(data, traj)
    without = mekisim_course(mpnst, "S462_R1", {"trametinib": 3.0}, times)
    assert np.max(np.abs(without["pERK"] - traj["pERK"]) / traj["pERK"]) > 0.05  # the values change the answer
    start = pd.read_csv(io.StringIO(archive_file(path, "reference/start_state.csv"))).set_index("species")
    assert start.loc["ITG", "concentration"] + start.loc["ITG_L", "concentration"] == pytest.approx(3.0, rel=1e-9)


def test_model_b_archive_reproduces_mekisim(tmp_path, capsys, melanoma):
    """Model B, SKMEL30 + trametinib 10 nM + palbociclib 100 nM over 33 days, pre-equilibrated population-off."""
    path = tmp_path / "b.omex"
    out = export(tmp_path, capsys, "--model", "melanoma", "--cell-line", "SKMEL30", "--dose",
                 "trametinib=10nM,palbociclib=100nM", "--time", "0:33d:34", *TIGHT_ARGS, "--out", str(path))
    assert "pre-equilibrated" in out
    assert "pre-equilibration settings (population_on = 0)" in archive_file(path, "metadata.rdf")
    data = run_elsewhere(tmp_path, "omex", path)
    times = np.linspace(0.0, 792.0, 34)
    traj = mekisim_course(melanoma, "SKMEL30", {"trametinib": 10.0, "palbociclib": 100.0}, times)
    assert_reproduces(data, traj)
    assert data["tc_senescent_fraction"].max() > 0.3  # the drugs act: a third of the cells senesce


def test_steady_state_archive_reproduces_mekisim(tmp_path, capsys, mpnst):
    path = tmp_path / "ss.omex"
    out = export(tmp_path, capsys, "--model", "mpnst", "--cell-line", "ST8814", "--dose", "trametinib=10nM",
                 "--dose", "src_inhibitor_1=1uM", "--steady-state", "--out", str(path))
    assert "steady state" in out
    data = run_elsewhere(tmp_path, "omex", path)
    state = ms.steady_state(mpnst, ms.make_condition(mpnst, "ST8814", {"trametinib": 10, "src_inhibitor_1": 1000}),
                            select=list(mpnst.observable_ids), options=TIGHT)
    for obs in mpnst.observable_ids:
        assert data[f"ss_{obs}"].ravel()[0] == pytest.approx(state[obs], rel=RTOL, abs=ATOL), obs


# ------------------------------------------------------------------------- standalone SBML and Antimony


def test_exported_sbml_and_antimony_run_in_plain_roadrunner(tmp_path, capsys, mpnst):
    """The standalone files alone (roadrunner, no mekisim, no SED-ML) give mekisim's species and observables."""
    import libsbml

    times = np.linspace(0.0, 240.0, 61)
    ids = [*mpnst.species, *mpnst.observable_ids]
    traj = mekisim_course(mpnst, "S462_R1", {"trametinib": 3.0}, times, select=ids)
    grid = ["0", "240", "61", "1e-10", "1e-12"]
    for fmt, name in (("sbml", "c.xml"), ("antimony", "c.ant")):
        path = tmp_path / name
        export(tmp_path, capsys, "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=3nM", "--time",
               "0:240:61", *TIGHT_ARGS, "--format", fmt, "--out", str(path))
        data = run_elsewhere(tmp_path, fmt, path, *grid, *ids)
        assert_reproduces(data, traj, prefix="")
    # the Antimony round-trips: its SBML carries the same numbers as the exported SBML
    import antimony

    assert antimony.loadAntimonyString((tmp_path / "c.ant").read_text()) >= 0
    from_ant = libsbml.readSBMLFromString(antimony.getSBMLString(antimony.getMainModuleName())).getModel()
    direct = libsbml.readSBMLFromString((tmp_path / "c.xml").read_text()).getModel()
    for p in direct.getListOfParameters():
        if not p.isSetValue():  # an assignment-rule target
            continue
        assert from_ant.getParameter(p.getId()).getValue() == pytest.approx(p.getValue(), rel=1e-14), p.getId()
    for s in direct.getListOfSpecies():
        assert from_ant.getSpecies(s.getId()).getInitialConcentration() == pytest.approx(
            s.getInitialConcentration(), rel=1e-14), s.getId()


def test_no_pre_equilibrate_keeps_the_initial_assignments(tmp_path, capsys, mpnst):
    """--no-pre-equilibrate: the model starts from its initial conditions, computed from the written-in totals."""
    path = tmp_path / "plain.xml"
    out = export(tmp_path, capsys, "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=3nM", "--time",
                 "0:120:31", "--no-pre-equilibrate", *TIGHT_ARGS, "--out", str(path))
    assert "not pre-equilibrated" in out
    traj = mekisim_course(mpnst, "S462_R1", {"trametinib": 3.0}, np.linspace(0, 120, 31), pre_equilibrate=False)
    data = run_elsewhere(tmp_path, "sbml", path, "0", "120", "31", "1e-10", "1e-12", *mpnst.observable_ids)
    assert_reproduces(data, traj, prefix="")


CASCADE = """
model cascade()
  compartment c = 1; species A in c, B in c, C in c;
  A = 1; B = 0; C = 0; k0 = 0.5; k1 = 2; k2 = 1; k3 = 0.2;
  J0: -> A; c*k0;
  J1: A -> B; c*k1*A;
  J2: B -> C; c*k2*B;
  J3: C -> ; c*k3*C;
end
"""


def test_users_model_with_an_added_drug(tmp_path, capsys):
    """A user's own model, a drug added with --add-drug and a --set value: the SBML alone reproduces mekisim."""
    model_file = tmp_path / "cascade.ant"
    model_file.write_text(CASCADE)
    path = tmp_path / "cascade.xml"
    out = export(tmp_path, capsys, "--model", str(model_file), "--add-drug", "inh:J1:10nM", "--dose", "inh=30nM",
                 "--set", "k2=1.5", "--time", "0:20:41", *TIGHT_ARGS, "--out", str(path))
    assert "pre-equilibrated" in out
    from simulator.model import DrugTerm, add_drug_terms

    model = add_drug_terms(ms.load_model(model_file), [DrugTerm.parse("inh:J1:10nM")])
    traj = mekisim_course(model, None, {"inh": 30.0}, np.linspace(0, 20, 41), values={"k2": 1.5},
                          select=["A", "B", "C"])
    data = run_elsewhere(tmp_path, "sbml", path, "0", "20", "41", "1e-10", "1e-12", "A", "B", "C")
    assert_reproduces(data, traj, prefix="")
    assert data["A"][0] == pytest.approx(0.25) and data["A"][-1] == pytest.approx(1.0, rel=1e-3)  # 4x slower J1


RATE_RULE_MODEL = """
model rr()
  compartment c = 1; species X in c; X = 1; y = 1; k = 5; drug = 0; IC50_drug = 1;
  R: -> X; c*(y - X);
  y' = k*(1 - drug/(drug + IC50_drug)) - y;
end
"""


def test_rate_rule_model_pre_equilibrated_reproduces_mekisim(tmp_path, capsys):
    """A rate-rule variable is part of the pre-equilibrated start state: written in, tellurium reproduces mekisim.

    Untreated, y = X = k = 5; drug = 4 makes y' = 1 - y, so y = 1 + 4 exp(-t) and X = 1 + 4 (1 + t) exp(-t).
    Without y's start value (5, not the file's 1) written in, X would start to fall at once from 5 towards y = 1.
    """
    model_file = tmp_path / "rr.ant"
    model_file.write_text(RATE_RULE_MODEL)
    path = tmp_path / "rr.omex"
    out = export(tmp_path, capsys, "--model", str(model_file), "--dose", "drug=4", "--time", "0:2:5", *TIGHT_ARGS,
                 "--out", str(path))
    assert "pre-equilibrated" in out
    assert "start values of the rate-rule variables (y)" in archive_file(path, "metadata.rdf")
    start = pd.read_csv(io.StringIO(archive_file(path, "reference/start_state.csv"))).set_index("species")
    assert start.loc["y", "concentration"] == pytest.approx(5.0, rel=1e-8)
    data = run_elsewhere(tmp_path, "omex", path)
    model = ms.load_model(model_file)
    times = np.linspace(0, 2, 5)
    traj = mekisim_course(model, None, {"drug": 4.0}, times, select=["X", "y"])
    np.testing.assert_allclose(traj["X"], 1 + 4 * (1 + times) * np.exp(-times), rtol=1e-8)
    np.testing.assert_allclose(traj["y"], 1 + 4 * np.exp(-times), rtol=1e-8)
    np.testing.assert_allclose(data["tc_X"].ravel(), traj["X"], rtol=RTOL, atol=ATOL)
    assert data["pre_y"].ravel()[0] == pytest.approx(5.0, rel=RTOL)  # the executing tool's untreated steady state
    # the standalone SBML alone (plain roadrunner) starts from the same state
    sbml = tmp_path / "rr.xml"
    export(tmp_path, capsys, "--model", str(model_file), "--dose", "drug=4", "--time", "0:2:5", *TIGHT_ARGS,
           "--out", str(sbml))
    alone = run_elsewhere(tmp_path, "sbml", sbml, "0", "2", "5", "1e-10", "1e-12", "X", "y")
    assert_reproduces(alone, traj, prefix="")


#: the same dynamics with the rate rule on a *species* in a compartment of size 2: SBML's rate rule on a species
#: (hasOnlySubstanceUnits false) sets d[S]/dt of its concentration, roadrunner keeps amounts (2x the concentration),
#: so a start value written as an amount where a concentration belongs would be off by 2
RATE_RULE_SPECIES_MODEL = """
model rrs()
  compartment c = 2; species X in c, S in c; X = 1; S = 1; k = 5; drug = 0; IC50_drug = 1;
  R: -> X; c*(S - X);
  S' = k*(1 - drug/(drug + IC50_drug)) - S;
end
"""


def test_rate_rule_on_a_species_in_a_compartment_of_size_two(tmp_path, capsys):
    """Pre-equilibrated start of a rate-ruled species in c = 2: S = 5 (a concentration), then S = 1 + 4 exp(-t)."""
    model_file = tmp_path / "rrs.ant"
    model_file.write_text(RATE_RULE_SPECIES_MODEL)
    model = ms.load_model(model_file)
    times = np.linspace(0, 2, 5)
    traj = mekisim_course(model, None, {"drug": 4.0}, times, select=["X", "S"])
    np.testing.assert_allclose(traj["S"], 1 + 4 * np.exp(-times), rtol=1e-8)
    np.testing.assert_allclose(traj["X"], 1 + 4 * (1 + times) * np.exp(-times), rtol=1e-8)
    sbml = tmp_path / "rrs.xml"
    export(tmp_path, capsys, "--model", str(model_file), "--dose", "drug=4", "--time", "0:2:5", *TIGHT_ARGS,
           "--out", str(sbml))
    alone = run_elsewhere(tmp_path, "sbml", sbml, "0", "2", "5", "1e-10", "1e-12", "X", "S")
    assert_reproduces(alone, traj, prefix="")
    path = tmp_path / "rrs.omex"
    export(tmp_path, capsys, "--model", str(model_file), "--dose", "drug=4", "--time", "0:2:5", *TIGHT_ARGS,
           "--out", str(path))
    data = run_elsewhere(tmp_path, "omex", path)
    np.testing.assert_allclose(data["tc_X"].ravel(), traj["X"], rtol=RTOL, atol=ATOL)


def test_rate_rule_model_from_the_initial_conditions(tmp_path, capsys):
    """--no-pre-equilibrate: the model exports with its rate rule and file values; roadrunner alone reproduces it."""
    model_file = tmp_path / "rr.ant"
    model_file.write_text(RATE_RULE_MODEL)
    path = tmp_path / "rr.xml"
    export(tmp_path, capsys, "--model", str(model_file), "--dose", "drug=1", "--time", "0:2:5", "--no-pre-equilibrate",
           *TIGHT_ARGS, "--out", str(path))
    model = ms.load_model(model_file)
    traj = mekisim_course(model, None, {"drug": 1.0}, np.linspace(0, 2, 5), pre_equilibrate=False, select=["X"])
    data = run_elsewhere(tmp_path, "sbml", path, "0", "2", "5", "1e-10", "1e-12", "X")
    assert_reproduces(data, traj, prefix="")
    assert data["X"][-1] > 1.2  # y rises from 1 towards k_eff = 2.5 and X follows it


def test_events_refused_when_pre_equilibrating(tmp_path):
    model = ms.from_antimony_text("model ev()\n compartment c = 1; species X in c; X = 1; k = 1;\n"
                                  " R: X -> ; c*k*X;\n E: at time > 1: k = 2;\nend\n", name="ev")
    from simulator.export import export_condition

    with pytest.raises(ms.InputError, match=r"it has events \(E\)"):
        export_condition(model, times=[0, 1, 2], out=tmp_path / "ev.omex")


# ---------------------------------------------------------------------------------------------- --set


def test_set_refuses_unknown_ids_with_suggestions(tmp_path, capsys):
    code = main(["export", "--model", "mpnst", "--set", "itot=3", "--set", "kEE=1,trametinib=3,pERK=1,ITG=2",
                 "--steady-state", "--out", str(tmp_path / "x.xml")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "'itot' is not an id of the model (did you mean Itot" in err
    assert "'kEE' is not an id of the model (did you mean kE" in err
    assert "'trametinib' is the dose of a drug: give it with --dose trametinib=AMOUNT" in err
    assert "'pERK' is computed by an assignment rule" in err
    assert "'ITG' is a species whose initial value an initial assignment computes" in err
    assert not (tmp_path / "x.xml").exists()


@pytest.mark.parametrize("text, message", [
    ("Itot", "is not PARAM=VALUE"), ("Itot=three", "'three' is not a number"), ("Itot=1,Itot=2", "twice"),
    ("Itot=nan", "not a finite number"),
])
def test_set_refuses_malformed_values(tmp_path, capsys, text, message):
    code = main(["export", "--model", "mpnst", "--set", text, "--steady-state", "--out", str(tmp_path / "x.xml")])
    assert code == 1
    assert message in capsys.readouterr().err


def test_parse_set_values_reads_repeated_and_comma_lists(mpnst):
    from simulator.export import parse_set_values

    assert parse_set_values(["Itot=3, kE=0.5", "ksL=1e-3"], mpnst) == {"Itot": 3.0, "kE": 0.5, "ksL": 1e-3}


# ------------------------------------------------------------------------------------------- the files


def test_out_refuses_foreign_files_and_wrong_suffixes(tmp_path, capsys):
    mine = tmp_path / "data.xml"
    mine.write_text("<my data/>")
    args = ["export", "--model", "mpnst", "--steady-state", "--out"]
    assert main([*args, str(mine)]) == 1
    assert "exists and was not written by mekisim export; pass --force" in capsys.readouterr().err
    assert mine.read_text() == "<my data/>"
    assert main([*args, str(mine), "--force"]) == 0
    assert main([*args, str(mine)]) == 0  # now it is an export: replaced without --force
    capsys.readouterr()
    assert main([*args, str(tmp_path / "x.omex"), "--format", "sbml"]) == 1
    assert "a sbml export is written to a file ending in .xml or .sbml" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "x.csv")]) == 1
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["export", "--model", "mpnst", "--out", str(tmp_path / "x.xml")]) == 2  # no --time/--steady-state


# --------------------------------------------------------------------------------------------- screens


SCREEN_READOUTS = ["perk_suppression", "viability", "apoptosis", "g0g1", "cleaved_parp", "pAKT", "species:ERKpp"]


def test_screen_archive_matches_the_screen_table(tmp_path, capsys):
    """A 2-line 3 x 3 screen with every fast-mode readout: tellurium's wells equal the screen's wells table."""
    screen = tmp_path / "screen"
    argv = ["screen", "--model", "mpnst", "--cell-lines", "S462_R1,S462", "--drug-a", "trametinib:1,3", "--drug-b",
            "src_inhibitor_1:100,1000", "--workers", "1", "--no-progress", "--out", str(screen)]
    for readout in SCREEN_READOUTS:
        argv += ["--readout", readout]
    assert main(argv) == 0
    path = tmp_path / "screen.omex"
    out = export(tmp_path, capsys, "--screen", str(screen), "--out", str(path))
    assert "2 dose matrices x 9 wells" in out
    data = run_elsewhere(tmp_path, "omex", path)
    wells = pd.read_parquet(screen / "wells.parquet")
    wells = wells[wells["series"] == "matrix"]
    for k, line in enumerate(["S462_R1", "S462"]):
        dose_a, dose_b = data[f"matrix{k}_dose_a"].ravel(), data[f"matrix{k}_dose_b"].ravel()
        for readout in SCREEN_READOUTS:
            got = data[f"matrix{k}_{readout.replace(':', '_')}"].ravel()
            table = wells[(wells["cell_line"] == line) & (wells["readout"] == readout)].set_index(
                ["dose_a_nM", "dose_b_nM"])["value"]
            want = np.array([table.loc[(a, b)] for a, b in zip(dose_a, dose_b, strict=True)])
            assert len(want) == 9
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-9, err_msg=f"{line} {readout}")
    reference = pd.read_csv(io.StringIO(archive_file(path, "reference/wells.csv")))
    assert list(reference.columns[:4]) == ["cell_line", "member", "dose_trametinib_nM", "dose_src_inhibitor_1_nM"]
    assert len(reference) == 18
    assert "Not exported: the constant-ratio mixture wells" in archive_file(path, "metadata.rdf")


def test_screen_export_refuses_what_it_cannot_carry(tmp_path, capsys):
    """A full-mode screen, a folder that is no screen, and condition options given with --screen are refused."""
    screen = tmp_path / "full"
    assert main(["screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1", "--drug-b",
                 "src_inhibitor_1:100", "--mode", "full", "--workers", "1", "--no-progress", "--out", str(screen)]) == 0
    capsys.readouterr()
    assert main(["export", "--screen", str(screen), "--out", str(tmp_path / "full.omex")]) == 1
    assert "ran in mode 'full'" in capsys.readouterr().err
    assert main(["export", "--screen", str(tmp_path), "--out", str(tmp_path / "none.omex")]) == 1
    assert "holds no manifest.json" in capsys.readouterr().err
    assert main(["export", "--screen", str(screen), "--dose", "trametinib=1", "--out", str(tmp_path / "x.omex")]) == 1
    assert "--dose would change it" in capsys.readouterr().err
    assert main(["export", "--screen", str(screen), "--add-drug", "x:R1:1", "--out", str(tmp_path / "x.omex")]) == 1
    assert "--add-drug with --screen needs --model M" in capsys.readouterr().err
