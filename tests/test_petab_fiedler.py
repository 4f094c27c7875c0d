"""PEtab benchmark problems through simulator.petab_problem, against externally computed values.

Truth: the collection's own simulation table (simulatedData_*.tsv), the nominal-parameter nllh of AMICI's
CI (shared/benchmarks/petab/REFERENCE.md) and petab's own ``calculate_llh``; plus a two-state model whose
preequilibrated time course is known in closed form.
"""

from __future__ import annotations

import math
import shutil
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import petab.v1 as petab
import pytest

from simulator.engine import SolverOptions
from simulator.errors import InputError
from simulator.fit import PetabProblem, load_petab, petab_nllh, simulate_petab
from tests._petab_files import write_two_state

PETAB = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "petab"
OPTIONS = SolverOptions(rtol=1e-10, atol=1e-12)  # REFERENCE.md: nominal-value checks need rtol <= 1e-8

#: nllh at the nominal parameters, AMICI CI values (REFERENCE.md summary table)
NOMINAL_NLLH = {
    "Fiedler_BMCSystBiol2016": -58.58390161681,
    "Boehm_JProteomeRes2014": 138.22199693517703,
    "Fujita_SciSignal2010": -53.08377736998929,
}
NLLH_ATOL = 1e-3  # REFERENCE.md's suggested tolerance for nominal-parameter checks
SIMULATION_RTOL = 1e-4  # vs the collection's simulatedData (measured max: 9.5e-6 at rtol 1e-10)


@cache
def problem(name: str) -> PetabProblem:
    return load_petab(PETAB / name / f"{name}.yaml")


@cache
def nominal_simulation(name: str) -> pd.DataFrame:
    return simulate_petab(problem(name), options=OPTIONS)


def petab_llh(p: PetabProblem, simulation: pd.DataFrame, parameter_df: pd.DataFrame | None = None) -> float:
    with warnings.catch_warnings():  # petab 0.8 uses pandas APIs deprecated in pandas 3
        warnings.simplefilter("ignore", DeprecationWarning)
        return petab.calculate_llh(
            p.petab.measurement_df, simulation, p.petab.observable_df,
            p.parameter_df if parameter_df is None else parameter_df,
        )


# ------------------------------------------------------------------------------------ benchmarks


def test_fiedler_simulation_matches_collection_simulated_data():
    name = "Fiedler_BMCSystBiol2016"
    ours = nominal_simulation(name)
    theirs = pd.read_csv(PETAB / name / f"simulatedData_{name}.tsv", sep="\t")
    keys = ["observableId", "simulationConditionId", "time", "observableParameters", "noiseParameters"]
    assert len(ours) == len(theirs) == len(problem(name).petab.measurement_df) == 72
    joined = ours.merge(theirs, on=keys, suffixes=("", "_ref"), validate="one_to_one")
    assert len(joined) == 72
    assert (joined["simulation_ref"].abs() > 0).all()
    rel = (joined["simulation"] - joined["simulation_ref"]).abs() / joined["simulation_ref"].abs()
    assert rel.max() < SIMULATION_RTOL, joined.loc[rel.idxmax(), [*keys, "simulation", "simulation_ref"]]


@pytest.mark.parametrize("name", list(NOMINAL_NLLH))
def test_nominal_nllh_matches_reference(name):
    nllh = petab_nllh(problem(name), nominal_simulation(name))
    assert abs(nllh - NOMINAL_NLLH[name]) < NLLH_ATOL, (nllh, NOMINAL_NLLH[name])


@pytest.mark.parametrize("name", ["Fiedler_BMCSystBiol2016", "Boehm_JProteomeRes2014"])
def test_nllh_equals_petab_calculate_llh(name):
    p, simulation = problem(name), nominal_simulation(name)
    assert petab_nllh(p, simulation) == pytest.approx(-petab_llh(p, simulation), abs=1e-9, rel=0)


def test_nllh_of_collection_table_in_its_own_row_order():
    # simulatedData is not row-aligned with the measurements; it is matched on the shared columns
    name = "Fiedler_BMCSystBiol2016"
    theirs = pd.read_csv(PETAB / name / f"simulatedData_{name}.tsv", sep="\t")
    assert petab_nllh(problem(name), theirs) == pytest.approx(-petab_llh(problem(name), theirs), abs=1e-9)


@pytest.mark.parametrize("transformation", ["lin", "log", "log10"])
@pytest.mark.parametrize("distribution", ["normal", "laplace"])
def test_nllh_noise_models_equal_petab(tmp_path, transformation, distribution):
    name = "Fiedler_BMCSystBiol2016"
    shutil.copytree(PETAB / name, tmp_path / name)
    obs_file = tmp_path / name / f"observables_{name}.tsv"
    observables = pd.read_csv(obs_file, sep="\t")
    observables["observableTransformation"] = transformation
    observables["noiseDistribution"] = distribution
    observables.to_csv(obs_file, sep="\t", index=False)
    p = load_petab(tmp_path / name / f"{name}.yaml")
    simulation = simulate_petab(p, options=OPTIONS)
    ours = petab_nllh(p, simulation)
    assert math.isfinite(ours)
    assert ours == pytest.approx(-petab_llh(p, simulation), abs=1e-9, rel=0)
    if (transformation, distribution) != ("lin", "normal"):
        assert abs(ours - petab_nllh(problem(name), simulation)) > 1.0  # the noise model is really applied


def test_parameter_overrides_reach_observables_and_noise():
    name = "Fiedler_BMCSystBiol2016"
    p, nominal = problem(name), nominal_simulation(name)
    scale = "s_pErk_20140430_gel1"
    scaled = simulate_petab(p, {scale: 2 * p.nominal[scale]}, options=OPTIONS)
    uses = nominal["observableParameters"] == scale
    assert uses.sum() == 7
    np.testing.assert_allclose(scaled["simulation"][uses], 2 * nominal["simulation"][uses], rtol=1e-12)
    np.testing.assert_array_equal(scaled["simulation"][~uses], nominal["simulation"][~uses])

    sigma = {"sigma_pErk": 3 * p.nominal["sigma_pErk"]}
    parameter_df = p.parameter_df.copy()
    parameter_df.loc["sigma_pErk", "nominalValue"] = sigma["sigma_pErk"]
    ours = petab_nllh(p, nominal, sigma)
    assert ours == pytest.approx(-petab_llh(p, nominal, parameter_df), abs=1e-9, rel=0)
    assert abs(ours - petab_nllh(p, nominal)) > 1.0


def test_bad_inputs_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="missing.yaml"):
        load_petab(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("format_version: 1\nparameter_file: nowhere.tsv\nproblems: []\n")
    with pytest.raises(InputError, match="broken.yaml"):
        load_petab(tmp_path / "broken.yaml")
    with pytest.raises(InputError, match="not_a_parameter"):
        simulate_petab(problem("Boehm_JProteomeRes2014"), {"not_a_parameter": 1.0})


# ---------------------------------------------------------------- preequilibration, closed form

def test_preequilibration_and_condition_parameters_closed_form(tmp_path):
    rows = "".join(f"obs_B\tbasal\tstim\t{t}\t1.0\tscale\t0.1\n" for t in (0.5, 1.0, 2.0))
    rows += "obs_B\t\tbasal\t1.0\t1.0\tscale\t0.1\n"  # no preequilibration, a single time point
    p = load_petab(write_two_state(tmp_path, rows))
    simulation = simulate_petab(p, options=OPTIONS)["simulation"].to_numpy()
    t = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(simulation[:3], 2 * (0.75 - 0.25 * np.exp(-4 * t)), rtol=1e-8)
    assert simulation[3] == pytest.approx(2 * 0.5 * (1 - math.exp(-2.0)), rel=1e-8)  # from A = 1, B = 0
    # k1_stim = 1 keeps the basal steady state B = 0.5
    flat = simulate_petab(p, {"k1_stim": 1.0}, options=OPTIONS)["simulation"].to_numpy()
    np.testing.assert_allclose(flat[:3], 1.0, rtol=1e-8)


def test_steady_state_measurements_after_pre_equilibration_are_refused(tmp_path):
    with pytest.raises(InputError, match="steady-state"):
        load_petab(write_two_state(tmp_path, "obs_B\tbasal\tstim\tinf\t1.0\tscale\t0.1\n"))
