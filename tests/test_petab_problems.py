"""The 8 PEtab problems in shared/benchmarks/petab at their nominal parameters, and the features they exercise.

Truth: REFERENCE.md (AMICI CI values; petab.v1.calculate_llh on the problems' own simulation tables), the
simulated-data tables the problems ship (self-check), and for Oliveira 2021 (no published value) the identity
REFERENCE.md states: the cumulative cases a rate rule accumulates equal the integral of the incidence.
Small PEtab problems with closed-form answers check steady-state measurements and state-dependent noise.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import simpson

import simulator as ms
from simulator.cli import main
from simulator.engine import SolverOptions
from simulator.errors import InputError
from simulator.fit import check_simulated_data, load_petab, petab_nllh, simulate_petab
from simulator.fit._petab_simulate import observe, solve_experiments
from simulator.model import antimony_to_sbml
from tests._petab_files import TWO_STATE, write_problem, write_two_state

PETAB = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "petab"
OPTIONS = SolverOptions(rtol=1e-10, atol=1e-12, max_steps=20_000)

#: problem -> (yaml relative to PETAB, nominal nllh of REFERENCE.md)
PROBLEMS = {
    "Fiedler": ("Fiedler_BMCSystBiol2016/Fiedler_BMCSystBiol2016.yaml", -58.58390161681),
    # reformulated Fiedler: REFERENCE.md has only a local roadrunner value (no external reference)
    "Fiedler_rel": ("Fiedler_BMCSystBiol2016/reformulated/Fiedler_BMCSystBiol2016_rel.yaml", -57.812704),
    "Boehm": ("Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml", 138.22199693517703),
    "Fujita": ("Fujita_SciSignal2010/Fujita_SciSignal2010.yaml", -53.08377736998929),
    "Bertozzi": ("Bertozzi_PNAS2020/problem.yaml", 158.864267),
    "Blasi": ("Blasi_CellSystems2016/Blasi_CellSystems2016.yaml", -642.826894),
    "Isensee": ("Isensee_JCB2018/Isensee_JCB2018.yaml", 3949.375967),
}
NLLH_ATOL = 1e-3  # REFERENCE.md's tolerance for nominal-parameter checks


@cache
def problem(name: str):
    path = PETAB / (PROBLEMS[name][0] if name in PROBLEMS else "Oliveira_NatCommun2021/Oliveira_NatCommun2021.yaml")
    return load_petab(path)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_nominal_nllh_matches_reference(name):
    """Each in seconds (Isensee, 123 stiff pre-equilibrated conditions: ~4 s). Before issue 18: Bertozzi 1.8e11
    with status ok (an initial assignment kept its SBML value), Blasi/Fiedler_rel refused, Isensee failed."""
    p = problem(name)
    simulation = simulate_petab(p, options=OPTIONS)  # throws on any failed condition
    assert petab_nllh(p, simulation) == pytest.approx(PROBLEMS[name][1], abs=NLLH_ATOL, rel=0)


@pytest.mark.parametrize("name", ["Fiedler", "Fiedler_rel", "Boehm", "Bertozzi", "Blasi", "Isensee"])
def test_nominal_simulation_agrees_with_the_shipped_table(name):
    check = check_simulated_data(problem(name), options=OPTIONS)
    assert check.status == "ok", check.message
    assert check.n_rows == problem(name).measurement.size and check.max_rel_diff < 1e-5


def test_self_check_says_not_checked_when_the_table_cannot_be_joined():
    """Fujita's table uses the old D2D condition ids (REFERENCE.md): rows cannot be matched, so not checked
    (comparing it row by row, as the old fast path did, gave 124 of 144 'differences')."""
    check = check_simulated_data(problem("Fujita"), options=OPTIONS)
    assert check.status == "not checked" and "simulationConditionId" in check.message


def test_self_check_fails_loudly_on_a_wrong_simulation(tmp_path):
    """The shipped table edited in one row by 1e-3 relative: the check names that row."""
    source = PETAB / "Boehm_JProteomeRes2014" / "simulatedData_Boehm_JProteomeRes2014.tsv"
    lines = source.read_text().splitlines()
    header = lines[0].split("\t")
    cells = lines[5].split("\t")
    column = header.index("simulation")
    cells[column] = repr(float(cells[column]) * 1.001)
    lines[5] = "\t".join(cells)
    edited = tmp_path / "simulatedData_edited.tsv"
    edited.write_text("\n".join(lines) + "\n")
    check = check_simulated_data(problem("Boehm"), edited, options=OPTIONS)
    assert check.status == "failed" and check.message.startswith("1 of 48 rows differ")
    assert check.max_rel_diff == pytest.approx(1e-3 / 1.001, rel=1e-3)  # relative to the edited value


def test_validate_reports_the_self_check(capsys):
    assert main(["validate", str(PETAB / PROBLEMS["Bertozzi"][0])]) == 0
    out = capsys.readouterr().out
    assert "note: self-check of the nominal simulation: ok: 22 of 22 rows agree with simulations.tsv" in out


def test_oliveira_is_finite_and_cumulative_cases_integrate_the_incidence():
    """REFERENCE.md: no published value; the objective must be finite and Cumulative_cases (a species set by a
    rate rule, read by an observable) must equal the integral of the incidence exposed_to_symptomatic * Exposed *
    Interior it accumulates, here by Simpson's rule on a dense grid split at the switch times t_1, t_2 (an
    independent integration of the rate-rule right-hand side)."""
    p = problem("Oliveira")
    options = SolverOptions(rtol=1e-12, atol=1e-12, max_steps=100_000)
    value = petab_nllh(p, simulate_petab(p, options=options))
    assert math.isfinite(value) and value > 0
    model = p.model
    assert "Cumulative_cases" in model.rate_ruled
    values = p.parameter_values()
    treated = {k: values[k] for k in p._plan.model_parameter_ids}
    (cond_id,) = p._plan.conditions
    treated |= {k: (values[v] if isinstance(v, str) else v) for k, v in p._plan.conditions[cond_id].items()}
    tmax = float(p.petab.measurement_df["time"].max())
    switches = sorted(float(treated.get(b, model.parameters.get(b, math.nan))) for b in model.breakpoints)
    edges = [0.0, *[b for b in switches if 0 < b < tmax], tmax]
    grid = np.unique(np.concatenate([np.linspace(a, b, 2001) for a, b in zip(edges[:-1], edges[1:], strict=False)]))
    traj = ms.time_course(model, grid, treated, pre_equilibrate=False, options=options,
                          select=["Cumulative_cases", "Exposed", "exposed_to_symptomatic", "Interior"])
    incidence = traj["exposed_to_symptomatic"] * traj["Exposed"] * traj["Interior"]
    integral = sum(simpson(incidence[(grid >= a) & (grid <= b)], x=grid[(grid >= a) & (grid <= b)])
                   for a, b in zip(edges[:-1], edges[1:], strict=False))
    gained = traj["Cumulative_cases"][-1] - traj["Cumulative_cases"][0]
    assert gained > 100 and gained == pytest.approx(integral, rel=1e-7)


# ----------------------------------------------------------- features on small problems with closed forms

def test_steady_state_measurements(tmp_path):
    """time = inf: the steady state of the simulation condition, B = k1/(k1 + k2) (k1 = 3: 0.75), next to a
    finite time of the same condition (from A = 1: B(t) = 0.75 (1 - exp(-4 t)))."""
    rows = ("obs_B\t\tstim\tinf\t1.4\tscale\t0.1\nobs_B\t\tstim\t0.5\t1.0\tscale\t0.1\n"
            "obs_B\t\tbasal\tinf\t1.0\tscale\t0.1\n")
    p = load_petab(write_two_state(tmp_path, rows))
    simulation = simulate_petab(p, options=OPTIONS)["simulation"].to_numpy()
    np.testing.assert_allclose(simulation, [2 * 0.75, 2 * 0.75 * (1 - math.exp(-2.0)), 2 * 0.5], rtol=1e-8)


def test_noise_formula_reading_a_state(tmp_path):
    """sigma = 0.1 * B (relative noise on the model state): the nllh in closed form from B(t)."""
    times = (0.5, 1.0, 2.0)
    rows = "".join(f"obs_B\tbasal\tstim\t{t}\t1.2\tscale\t0.1\n" for t in times)
    p = load_petab(write_two_state(tmp_path, rows, noise="noiseParameter1_obs_B * B"))
    solutions = solve_experiments(p, p.parameter_values(), options=OPTIONS)
    y = observe(p, solutions, p.parameter_values())
    b = 0.75 - 0.25 * np.exp(-4 * np.array(times))  # pre-equilibrated at k1 = 1 (B = 0.5), then k1 = 3
    np.testing.assert_allclose(y, 2 * b, rtol=1e-8)
    sigma = 0.1 * b
    expected = float(np.sum(0.5 * np.log(2 * np.pi * sigma**2) + 0.5 * ((1.2 - 2 * b) / sigma) ** 2))
    assert petab_nllh(p, y, solutions=solutions) == pytest.approx(expected, rel=1e-8)
    with pytest.raises(InputError, match="noise formulas that read model states"):
        petab_nllh(p, y)  # a simulation table alone cannot give sigma
    objective = ms.make_objective(p, options=OPTIONS)
    assert objective.nllh(objective.lower * 0 + np.log10([1.0, 3.0, 2.0])) == pytest.approx(expected, rel=1e-8)


def test_events_with_pre_equilibration_are_refused(tmp_path):
    with_event = TWO_STATE.replace("end", "  E1: at time > 5: k2 = 2\nend")
    rows = "obs_B\tbasal\tstim\t1.0\t1.0\tscale\t0.1\n"
    with pytest.raises(InputError, match=r"event\(s\) E1.*pre-equilibration"):
        load_petab(write_two_state(tmp_path, rows, model=with_event))


def test_an_event_in_a_petab_time_course(tmp_path):
    """X' = -k X from 1; at t = 1 an event adds 1 (and k doubles at t = 2.5, after the last-but-one measurement):
    X = exp(-k t) before 1, (exp(-k) + 1) exp(-k (t - 1)) until 2.5, then at rate 2k. Without pre-equilibration
    PEtab problems with events run; the event must act once, at its time."""
    model = ("model ev\n  J0: X -> ; k*X\n  X = 1; k = 0.7\n  E1: at time > 1: X = X + 1\n"
             "  E2: at time > 2.5: k = 2*k\nend\n")
    times = (0.5, 1.5, 2.0, 3.0)
    path = write_problem(
        tmp_path, model, conditions="conditionId\nc0\n",
        observables="observableId\tobservableFormula\tnoiseFormula\ny\tX\t0.1\n",
        parameters="k\tlog10\t0.01\t100\t0.7\t1\n",
        measurements="observableId\tsimulationConditionId\ttime\tmeasurement\n"
                     + "".join(f"y\tc0\t{t}\t1\n" for t in times))
    simulation = simulate_petab(load_petab(path), options=OPTIONS)["simulation"].to_numpy()
    k, t = 0.7, np.array(times)
    after = (math.exp(-k) + 1) * np.exp(-k * (np.minimum(t, 2.5) - 1)) * np.exp(-2 * k * np.maximum(t - 2.5, 0))
    np.testing.assert_allclose(simulation, np.where(t < 1, np.exp(-k * t), after), rtol=1e-8)


def test_unsupported_sbml_constructs_are_named(tmp_path):
    import libsbml

    doc = libsbml.readSBMLFromString(antimony_to_sbml(TWO_STATE))
    assert doc.setLevelAndVersion(3, 1, False)  # SBML L3V2 dropped the fast attribute
    doc.getModel().getReaction(0).setFast(True)
    path = tmp_path / "fast.xml"
    path.write_text(libsbml.writeSBMLToString(doc))
    with pytest.raises(ms.ModelLoadError, match="fast reaction"):
        ms.load_sbml(path)
    delayed = tmp_path / "delay.ant"
    delayed.write_text("model d\n A -> ; k*delay(A, 1)\n A = 1; k = 1\nend\n")
    with pytest.raises(ms.ModelLoadError, match=r"delay\(\) in reaction"):
        ms.load_model(delayed)


def test_fit_with_zero_starts_evaluates_the_nominal_parameters(tmp_path, capsys):
    """``mekisim fit --petab P.yaml --starts 0``: nominal.json, the fit-vs-data table and figure, simulation.tsv;
    Isensee has objective priors: its nllh is the likelihood alone (the published value), the prior term apart."""
    for name in ("Boehm", "Isensee"):
        out = tmp_path / name
        assert main(["fit", "--petab", str(PETAB / PROBLEMS[name][0]), "--starts", "0", "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        record = json.loads((out / "nominal.json").read_text())
        assert record["status"] == "ok" and record["n_measurements"] == problem(name).measurement.size
        assert record["nllh"] == pytest.approx(PROBLEMS[name][1], abs=NLLH_ATOL, rel=0)
        assert f"nominal nllh {record['nllh']:.10g}" in printed
        for file_name in ("fit_vs_data.csv", "fit_vs_data.png", "simulation.tsv", "manifest.json"):
            assert (out / file_name).is_file(), file_name
        table = pd.read_csv(out / "fit_vs_data.csv")
        sigma, residual = table["sigma"].to_numpy(), (table["measurement"] - table["simulation"]).to_numpy()
        if name == "Boehm":  # lin observables: chi2 is the sum of squared weighted residuals of the table
            assert record["chi2"] == pytest.approx(float(np.sum((residual / sigma) ** 2)), rel=1e-9)
        simulation = pd.read_csv(out / "simulation.tsv", sep="\t")
        assert petab_nllh(problem(name), simulation) == pytest.approx(record["nllh"], abs=1e-9)
    # Isensee's parameterScaleNormal priors: reported apart from the likelihood, nlpost their sum
    assert record["problem_has_priors"] and f"nlprior {record['nlprior']:.10g}" in printed
    assert record["nlprior"] > 0 and record["nlpost"] == pytest.approx(record["nllh"] + record["nlprior"], rel=1e-12)


def test_fit_vs_data_figure_draws_log_sigma_multiplicatively_and_shows_steady_states(tmp_path):
    """PEtab's sigma of a log10 (log) observable is on that scale: the bar spans y 10^-sigma .. y 10^sigma
    (y e^-sigma .. y e^sigma), not y +- sigma; time = inf rows in a panel with finite times sit right of the last
    time under a "steady state" tick (matplotlib dropped them: x = inf)."""
    from matplotlib.collections import LineCollection

    from simulator.plots import plot_fit_vs_data

    table = pd.DataFrame({
        "observableId": ["b"] * 3 + ["a"] * 2,
        "simulationConditionId": ["c"] * 5,
        "time": [0.5, 2.0, math.inf, 1.0, 3.0],
        "measurement": [0.8, 1.5, 1.4, 0.3, 0.25],
        "simulation": [0.7, 1.4, 1.5, 0.32, 0.26],
        "sigma": [0.2, 0.2, 0.2, 0.5, 0.5],
        "observableTransformation": ["log10"] * 3 + ["log"] * 2,
    })
    fig = plot_fit_vs_data(table, title="t")
    ax_b, ax_a = fig.axes[:2]
    for ax, rows, factor in ((ax_b, table.iloc[:3], 10 ** 0.2), (ax_a, table.iloc[3:], math.exp(0.5))):
        bars = next(c for c in ax.collections if isinstance(c, LineCollection))
        spans = sorted((float(seg[:, 1].min()), float(seg[:, 1].max())) for seg in bars.get_segments())
        expected = sorted((m / factor, m * factor) for m in rows["measurement"])
        np.testing.assert_allclose(spans, expected, rtol=1e-12)
        assert ax.get_yscale() == "log"
    x_data = next(line for line in ax_b.lines if line.get_marker() == "o").get_xdata()
    assert np.isfinite(x_data).all() and x_data[-1] > 2.0
    labels = [t.get_text() for t in ax_b.get_xticklabels()]
    assert labels[-1].startswith("steady") and ax_b.get_xticks()[-1] == pytest.approx(x_data[-1])


def test_a_mapping_table_is_refused(tmp_path):
    yaml_path = write_two_state(tmp_path, "obs_B\t\tbasal\t1.0\t1.0\tscale\t0.1\n")
    (tmp_path / "mapping.tsv").write_text("petabEntityId\tmodelEntityId\nk2\tk2\n")
    yaml_path.write_text(yaml_path.read_text() + "  mapping_files: [mapping.tsv]\n")
    with pytest.raises(InputError, match="mapping table"):
        load_petab(yaml_path)
