"""Fitting: PEtab problems and western-blot data, the exact PEtab likelihood, multistart fits, profiles.

The only package that imports ``petab`` (loaded on first use: it costs ~2 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "PetabProblem": "_petab",
    "load_petab": "_petab",
    "NominalResult": "_nominal",
    "evaluate_nominal": "_nominal",
    "simulation_table": "_nominal",
    "write_simulation_table": "_nominal",
    "write_nominal": "_write",
    "CHECK_RTOL": "_petab_check",
    "SimulatedDataCheck": "_petab_check",
    "check_simulated_data": "_petab_check",
    "find_simulated_data": "_petab_check",
    "noise_sigma": "_petab_simulate",
    "observe": "_petab_simulate",
    "petab_nllh": "_petab_simulate",
    "simulate_petab": "_petab_simulate",
    "solve_experiments": "_petab_simulate",
    "DEFAULT_OPTIONS": "_objective",
    "SIGMA_FLOOR": "_objective",
    "SIGMA_OFFSET": "_objective",
    "THRESHOLD_95": "_objective",
    "Objective": "_objective",
    "make_objective": "_objective",
    "objective_for": "_objective",
    "to_linear": "_objective",
    "to_scaled": "_objective",
    "FitResult": "_multistart",
    "FitSettings": "_multistart",
    "StartResult": "_multistart",
    "fit_petab": "_multistart",
    "fit_vs_data": "_multistart",
    "latin_hypercube_starts": "_multistart",
    "run_start": "_multistart",
    "OPTIMIZERS": "_optimizers",
    "BEST_FIT": "_profile",
    "IMPROVEMENT_TOL": "_profile",
    "Profile": "_profile",
    "ProfileSettings": "_profile",
    "profile_parameter": "_profile",
    "profile_parameters": "_profile",
    "FigureDrawer": "_write",
    "write_fit": "_write",
    "write_fit_tables": "_write",
    "write_profiles": "_write",
    "LANE_COLUMNS": "_blots",
    "SUMMARY_COLUMNS": "_blots",
    "TABLE_COLUMNS": "_blots",
    "BlotData": "_blots",
    "BlotDataError": "_blots",
    "blot_file_problem": "_blots",
    "blot_shape": "_blots",
    "observable_for_target": "_blots",
    "read_blot_data": "_blots",
    "with_defaults_line": "_blots",
    "blots_to_petab": "_blots_petab",
    "lint_petab": "_blots_petab",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._blots import LANE_COLUMNS as LANE_COLUMNS
    from ._blots import SUMMARY_COLUMNS as SUMMARY_COLUMNS
    from ._blots import TABLE_COLUMNS as TABLE_COLUMNS
    from ._blots import BlotData as BlotData
    from ._blots import BlotDataError as BlotDataError
    from ._blots import blot_file_problem as blot_file_problem
    from ._blots import blot_shape as blot_shape
    from ._blots import observable_for_target as observable_for_target
    from ._blots import read_blot_data as read_blot_data
    from ._blots import with_defaults_line as with_defaults_line
    from ._blots_petab import blots_to_petab as blots_to_petab
    from ._blots_petab import lint_petab as lint_petab
    from ._multistart import FitResult as FitResult
    from ._multistart import FitSettings as FitSettings
    from ._multistart import StartResult as StartResult
    from ._multistart import fit_petab as fit_petab
    from ._multistart import fit_vs_data as fit_vs_data
    from ._multistart import latin_hypercube_starts as latin_hypercube_starts
    from ._multistart import run_start as run_start
    from ._nominal import NominalResult as NominalResult
    from ._nominal import evaluate_nominal as evaluate_nominal
    from ._nominal import simulation_table as simulation_table
    from ._nominal import write_simulation_table as write_simulation_table
    from ._objective import DEFAULT_OPTIONS as DEFAULT_OPTIONS
    from ._objective import SIGMA_FLOOR as SIGMA_FLOOR
    from ._objective import SIGMA_OFFSET as SIGMA_OFFSET
    from ._objective import THRESHOLD_95 as THRESHOLD_95
    from ._objective import Objective as Objective
    from ._objective import make_objective as make_objective
    from ._objective import objective_for as objective_for
    from ._objective import to_linear as to_linear
    from ._objective import to_scaled as to_scaled
    from ._optimizers import OPTIMIZERS as OPTIMIZERS
    from ._petab import PetabProblem as PetabProblem
    from ._petab import load_petab as load_petab
    from ._petab_check import CHECK_RTOL as CHECK_RTOL
    from ._petab_check import SimulatedDataCheck as SimulatedDataCheck
    from ._petab_check import check_simulated_data as check_simulated_data
    from ._petab_check import find_simulated_data as find_simulated_data
    from ._petab_simulate import noise_sigma as noise_sigma
    from ._petab_simulate import observe as observe
    from ._petab_simulate import petab_nllh as petab_nllh
    from ._petab_simulate import simulate_petab as simulate_petab
    from ._petab_simulate import solve_experiments as solve_experiments
    from ._profile import BEST_FIT as BEST_FIT
    from ._profile import IMPROVEMENT_TOL as IMPROVEMENT_TOL
    from ._profile import Profile as Profile
    from ._profile import ProfileSettings as ProfileSettings
    from ._profile import profile_parameter as profile_parameter
    from ._profile import profile_parameters as profile_parameters
    from ._write import FigureDrawer as FigureDrawer
    from ._write import write_fit as write_fit
    from ._write import write_fit_tables as write_fit_tables
    from ._write import write_nominal as write_nominal
    from ._write import write_profiles as write_profiles
