"""mekisim: mechanistic signalling-pathway ODE simulation of kinase-inhibitor resistance and drug combinations.

The whole public API is importable from here (``import simulator as ms; ms.run_screen(...)``) and from the
stage subpackages (``simulator.screen``, ``simulator.fit``, ...); see the README's "Architecture" section.
Names load on first use (PEP 562, :mod:`simulator._lazy`): importing the package loads neither roadrunner,
matplotlib, petab nor SALib, so a process-pool worker that unpickles a chunk function imports only that stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach

__version__ = "0.1.0"

#: public name -> the module or subpackage that exports it
_EXPORTS = {
    "InputError": "errors",
    "MekisimError": "errors",
    "ModelLoadError": "errors",
    "SimulationError": "errors",
    "describe_os_error": "errors",
    "AMOUNT_UNITS": "units",
    "MAX_DOSE_NM": "units",
    "MAX_TIME_POINTS": "units",
    "TIME_UNITS": "units",
    "parse_amount": "units",
    "parse_time": "units",
    "parse_time_span": "units",
    "Issue": "status",
    "Status": "status",
    "ResistanceResult": "study",
    "StudyResult": "study",
    "check_study": "study",
    "run_demo": "study",
    "run_resistance": "study",
    "run_study": "study",
    "validate_files": "validate",
    "TMP_SUFFIX": "files",
    "atomic_path": "files",
    "damaged_error": "files",
    "read_csv": "files",
    "read_json": "files",
    "read_parquet": "files",
    "remove_stale_temporaries": "files",
    "write_bytes": "files",
    "write_text": "files",
    "check_separator": "files",
    "read_text": "files",
    "ModelRecord": "files",
    "TABLE_SUFFIXES": "files",
    "catalogue_hashes": "files",
    "dependency_versions": "files",
    "fingerprint": "files",
    "job_inputs": "files",
    "write_manifest": "files",
    "write_table": "files",
    "write_tables": "files",
    "MANIFEST": "files",
    "OWNER_FILE": "files",
    "OWNS": "files",
    "RESUMABLE": "files",
    "Owner": "files",
    "begin_final_writes": "files",
    "claim_file": "files",
    "claim_folder": "files",
    "cli_command": "files",
    "read_owner": "files",
    "record_owner": "files",
    "unfinished_runs": "files",
    "differences": "files",
    "normalised": "files",
    "bundled_dir": "files",
    "bundled_study": "files",
    "CompiledModel": "model",
    "DeclaredReadout": "model",
    "EFFECT_FORMS": "model",
    "Observable": "model",
    "READOUT_STATISTICS": "model",
    "antimony_to_sbml": "model",
    "bundled_model_names": "model",
    "from_antimony_text": "model",
    "from_sbml_text": "model",
    "load_antimony": "model",
    "load_model": "model",
    "load_sbml": "model",
    "sbml_to_antimony": "model",
    "write_sbml": "model",
    "metadata_of": "model",
    "DEFAULTS_LABEL": "model",
    "CellLine": "model",
    "Drug": "model",
    "load_cell_lines": "model",
    "load_drugs": "model",
    "DRUG_TERM_FORM": "model",
    "DrugTerm": "model",
    "add_drug_terms": "model",
    "existing_ids": "model",
    "Condition": "model",
    "accepted_drugs": "model",
    "cell_lines_for": "model",
    "make_condition": "model",
    "Switch": "model",
    "read_metadata_file": "model",
    "check_values": "model",
    "parse_set_values": "model",
    "parse_switch_names": "model",
    "resolve_values": "model",
    "switch_values": "model",
    "ControlCoefficients": "engine",
    "SolverOptions": "engine",
    "SteadyState": "engine",
    "Trajectory": "engine",
    "steady_state": "engine",
    "steady_states": "engine",
    "time_course": "engine",
    "time_courses": "engine",
    "control_coefficients": "engine",
    "response_coefficients": "engine",
    "CACHE_ENV_VAR": "engine",
    "CompileCache": "engine",
    "host_fingerprint": "engine",
    "Executor": "parallel",
    "SerialExecutor": "parallel",
    "WorkerLost": "parallel",
    "default_workers": "parallel",
    "DEFAULT_START_METHOD": "parallel",
    "ProcessExecutor": "parallel",
    "DaskExecutor": "parallel",
    "MAX_WORKERS_PER_CORE": "parallel",
    "make_executor": "parallel",
    "ChunkFailure": "parallel",
    "ChunkRun": "parallel",
    "iter_parts": "parallel",
    "read_parts": "parallel",
    "run_chunks": "parallel",
    "LEVEL_CONVENTION": "readouts",
    "LEVEL_PREFIX": "readouts",
    "MODES": "readouts",
    "READOUTS": "readouts",
    "REQUIRED_IDS": "readouts",
    "Readout": "readouts",
    "ReadoutRecord": "readouts",
    "ReadoutTable": "readouts",
    "closed_form_cells": "readouts",
    "level_hint": "readouts",
    "level_readout": "readouts",
    "readouts_for": "readouts",
    "unknown_readout_message": "readouts",
    "compute_readout_table": "readouts",
    "compute_readouts": "readouts",
    "with_population_layer": "readouts",
    "LogisticFit": "readouts",
    "fit_logistic": "readouts",
    "logistic4": "readouts",
    "DoseResponse": "readouts",
    "dose_response": "readouts",
    "percent_remaining": "readouts",
    "fit_dose_response": "readouts",
    "fit_row": "readouts",
    "MODEL_FREE": "readouts",
    "MODEL_NORMALIZED": "readouts",
    "DoseResponseDrawer": "readouts",
    "write_dose_response": "readouts",
    "MSA_SIZE": "synergy",
    "SCORE_CONVENTIONS": "synergy",
    "SynergyBatch": "synergy",
    "SynergyResult": "synergy",
    "bliss_excess": "synergy",
    "hsa_excess": "synergy",
    "matrix_summaries": "synergy",
    "synergy_batch": "synergy",
    "synergy_scores": "synergy",
    "synergy_scores_many": "synergy",
    "HillFit": "synergy",
    "fit_hill": "synergy",
    "fit_hill_many": "synergy",
    "LoeweScores": "synergy",
    "loewe_excess": "synergy",
    "loewe_expected_many": "synergy",
    "ZipScores": "synergy",
    "zip_delta": "synergy",
    "zip_delta_many": "synergy",
    "FA_WINDOW": "synergy",
    "CombinationIndexScores": "synergy",
    "ConstantRatioCI": "synergy",
    "ConstantRatioMany": "synergy",
    "MedianEffectFit": "synergy",
    "MedianFits": "synergy",
    "classify_ci": "synergy",
    "combination_index": "synergy",
    "combination_index_at": "synergy",
    "combination_index_many": "synergy",
    "constant_ratio_many": "synergy",
    "constant_ratio_series": "synergy",
    "median_effect_fit": "synergy",
    "median_effect_fits": "synergy",
    "ratio_wells": "synergy",
    "STATUS_RAISED": "synergy",
    "BatchLsqResult": "synergy",
    "least_squares_trf_batch": "synergy",
    "FA_LEVELS": "screen",
    "LARGE_SCREEN_WELLS": "screen",
    "MAX_AXIS_DOSES": "screen",
    "MAX_SCREEN_WELLS": "screen",
    "MEMORY_PER_ROW": "screen",
    "SUMMARISED_SCORES": "screen",
    "SYNERGY_READOUTS": "screen",
    "WELL_SCORES": "screen",
    "DrugAxis": "screen",
    "ScreenSpec": "screen",
    "effect_of": "screen",
    "load_ensemble": "screen",
    "WELL_COLUMNS": "screen",
    "ScreenEstimate": "screen",
    "estimate_screen": "screen",
    "ratio_series": "screen",
    "SYNERGY_COLUMNS": "screen",
    "ScreenResult": "screen",
    "rank_combinations": "screen",
    "run_screen": "screen",
    "PetabProblem": "fit",
    "load_petab": "fit",
    "noise_sigma": "fit",
    "observe": "fit",
    "petab_nllh": "fit",
    "simulate_petab": "fit",
    "solve_experiments": "fit",
    "DEFAULT_OPTIONS": "fit",
    "SIGMA_FLOOR": "fit",
    "SIGMA_OFFSET": "fit",
    "THRESHOLD_95": "fit",
    "Objective": "fit",
    "make_objective": "fit",
    "objective_for": "fit",
    "to_linear": "fit",
    "to_scaled": "fit",
    "FitResult": "fit",
    "FitSettings": "fit",
    "StartResult": "fit",
    "fit_petab": "fit",
    "fit_vs_data": "fit",
    "latin_hypercube_starts": "fit",
    "run_start": "fit",
    "BEST_FIT": "fit",
    "IMPROVEMENT_TOL": "fit",
    "Profile": "fit",
    "ProfileSettings": "fit",
    "profile_parameter": "fit",
    "profile_parameters": "fit",
    "FigureDrawer": "fit",
    "write_fit": "fit",
    "write_fit_tables": "fit",
    "write_profiles": "fit",
    "LANE_COLUMNS": "fit",
    "SUMMARY_COLUMNS": "fit",
    "TABLE_COLUMNS": "fit",
    "BlotData": "fit",
    "BlotDataError": "fit",
    "blot_file_problem": "fit",
    "blot_shape": "fit",
    "observable_for_target": "fit",
    "read_blot_data": "fit",
    "with_defaults_line": "fit",
    "blots_to_petab": "fit",
    "lint_petab": "fit",
    "DEFAULT_N": "sensitivity",
    "FAILURE_POLICIES": "sensitivity",
    "INDICES": "sensitivity",
    "MAIN_INDEX": "sensitivity",
    "METHODS": "sensitivity",
    "NAN_POLICY": "sensitivity",
    "SensitivitySpec": "sensitivity",
    "analyze": "sensitivity",
    "rank_parameters": "sensitivity",
    "sample_matrix": "sensitivity",
    "SensitivityResult": "sensitivity",
    "run_sensitivity": "sensitivity",
    "CombinationIndexAt": "sensitivity",
    "IC50Shift": "sensitivity",
    "ObservableAt": "sensitivity",
    "Output": "sensitivity",
    "ReadoutAt": "sensitivity",
    "ReadoutGrid": "sensitivity",
    "check_outputs": "sensitivity",
    "column_table": "sensitivity",
    "fraction_affected": "sensitivity",
    "parse_output": "sensitivity",
    "evaluate_rows": "sensitivity",
    "DEFAULT_FACTOR": "sensitivity",
    "DEFAULT_RULE": "sensitivity",
    "DISTRIBUTIONS": "sensitivity",
    "ParameterRange": "sensitivity",
    "ParameterSpace": "sensitivity",
    "default_ranges": "sensitivity",
    "load_ranges": "sensitivity",
    "display_time": "plots",
    "save_figure": "plots",
    "save_figure_as": "plots",
    "plot_dose_response": "plots",
    "plot_dose_response_fit": "plots",
    "plot_steady_state": "plots",
    "plot_time_courses": "plots",
    "plot_fa_ci": "plots",
    "plot_isobologram": "plots",
    "plot_matrix_heatmap": "plots",
    "plot_screen_panel": "plots",
    "plot_fit_vs_data": "plots",
    "plot_profiles": "plots",
    "plot_waterfall": "plots",
    "plot_index_bars": "plots",
    "plot_index_heatmap": "plots",
    "plot_indices_over_grid": "plots",
    "plot_morris": "plots",
    "plot_output_distribution": "plots",
    "plot_overview": "plots",
    "plot_escape_prediction": "plots",
    "plot_growth_curves": "plots",
    "plot_senescence_time_courses": "plots",
    "build_report": "report",
    "draw_fit_figures": "report",
    "draw_dose_response": "report",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from .engine import CACHE_ENV_VAR as CACHE_ENV_VAR
    from .engine import CompileCache as CompileCache
    from .engine import ControlCoefficients as ControlCoefficients
    from .engine import SolverOptions as SolverOptions
    from .engine import SteadyState as SteadyState
    from .engine import Trajectory as Trajectory
    from .engine import control_coefficients as control_coefficients
    from .engine import host_fingerprint as host_fingerprint
    from .engine import response_coefficients as response_coefficients
    from .engine import steady_state as steady_state
    from .engine import steady_states as steady_states
    from .engine import time_course as time_course
    from .engine import time_courses as time_courses
    from .errors import InputError as InputError
    from .errors import MekisimError as MekisimError
    from .errors import ModelLoadError as ModelLoadError
    from .errors import SimulationError as SimulationError
    from .errors import describe_os_error as describe_os_error
    from .files import MANIFEST as MANIFEST
    from .files import OWNER_FILE as OWNER_FILE
    from .files import OWNS as OWNS
    from .files import RESUMABLE as RESUMABLE
    from .files import TABLE_SUFFIXES as TABLE_SUFFIXES
    from .files import TMP_SUFFIX as TMP_SUFFIX
    from .files import ModelRecord as ModelRecord
    from .files import Owner as Owner
    from .files import atomic_path as atomic_path
    from .files import begin_final_writes as begin_final_writes
    from .files import bundled_dir as bundled_dir
    from .files import bundled_study as bundled_study
    from .files import catalogue_hashes as catalogue_hashes
    from .files import check_separator as check_separator
    from .files import claim_file as claim_file
    from .files import claim_folder as claim_folder
    from .files import cli_command as cli_command
    from .files import damaged_error as damaged_error
    from .files import dependency_versions as dependency_versions
    from .files import differences as differences
    from .files import fingerprint as fingerprint
    from .files import job_inputs as job_inputs
    from .files import normalised as normalised
    from .files import read_csv as read_csv
    from .files import read_json as read_json
    from .files import read_owner as read_owner
    from .files import read_parquet as read_parquet
    from .files import read_text as read_text
    from .files import record_owner as record_owner
    from .files import remove_stale_temporaries as remove_stale_temporaries
    from .files import unfinished_runs as unfinished_runs
    from .files import write_bytes as write_bytes
    from .files import write_manifest as write_manifest
    from .files import write_table as write_table
    from .files import write_tables as write_tables
    from .files import write_text as write_text
    from .fit import BEST_FIT as BEST_FIT
    from .fit import DEFAULT_OPTIONS as DEFAULT_OPTIONS
    from .fit import IMPROVEMENT_TOL as IMPROVEMENT_TOL
    from .fit import LANE_COLUMNS as LANE_COLUMNS
    from .fit import SIGMA_FLOOR as SIGMA_FLOOR
    from .fit import SIGMA_OFFSET as SIGMA_OFFSET
    from .fit import SUMMARY_COLUMNS as SUMMARY_COLUMNS
    from .fit import TABLE_COLUMNS as TABLE_COLUMNS
    from .fit import THRESHOLD_95 as THRESHOLD_95
    from .fit import BlotData as BlotData
    from .fit import BlotDataError as BlotDataError
    from .fit import FigureDrawer as FigureDrawer
    from .fit import FitResult as FitResult
    from .fit import FitSettings as FitSettings
    from .fit import Objective as Objective
    from .fit import PetabProblem as PetabProblem
    from .fit import Profile as Profile
    from .fit import ProfileSettings as ProfileSettings
    from .fit import StartResult as StartResult
    from .fit import blot_file_problem as blot_file_problem
    from .fit import blot_shape as blot_shape
    from .fit import blots_to_petab as blots_to_petab
    from .fit import fit_petab as fit_petab
    from .fit import fit_vs_data as fit_vs_data
    from .fit import latin_hypercube_starts as latin_hypercube_starts
    from .fit import lint_petab as lint_petab
    from .fit import load_petab as load_petab
    from .fit import make_objective as make_objective
    from .fit import noise_sigma as noise_sigma
    from .fit import objective_for as objective_for
    from .fit import observable_for_target as observable_for_target
    from .fit import observe as observe
    from .fit import petab_nllh as petab_nllh
    from .fit import profile_parameter as profile_parameter
    from .fit import profile_parameters as profile_parameters
    from .fit import read_blot_data as read_blot_data
    from .fit import run_start as run_start
    from .fit import simulate_petab as simulate_petab
    from .fit import solve_experiments as solve_experiments
    from .fit import to_linear as to_linear
    from .fit import to_scaled as to_scaled
    from .fit import with_defaults_line as with_defaults_line
    from .fit import write_fit as write_fit
    from .fit import write_fit_tables as write_fit_tables
    from .fit import write_profiles as write_profiles
    from .model import DEFAULTS_LABEL as DEFAULTS_LABEL
    from .model import DRUG_TERM_FORM as DRUG_TERM_FORM
    from .model import EFFECT_FORMS as EFFECT_FORMS
    from .model import READOUT_STATISTICS as READOUT_STATISTICS
    from .model import CellLine as CellLine
    from .model import CompiledModel as CompiledModel
    from .model import Condition as Condition
    from .model import DeclaredReadout as DeclaredReadout
    from .model import Drug as Drug
    from .model import DrugTerm as DrugTerm
    from .model import Observable as Observable
    from .model import Switch as Switch
    from .model import accepted_drugs as accepted_drugs
    from .model import add_drug_terms as add_drug_terms
    from .model import antimony_to_sbml as antimony_to_sbml
    from .model import bundled_model_names as bundled_model_names
    from .model import cell_lines_for as cell_lines_for
    from .model import check_values as check_values
    from .model import existing_ids as existing_ids
    from .model import from_antimony_text as from_antimony_text
    from .model import from_sbml_text as from_sbml_text
    from .model import load_antimony as load_antimony
    from .model import load_cell_lines as load_cell_lines
    from .model import load_drugs as load_drugs
    from .model import load_model as load_model
    from .model import load_sbml as load_sbml
    from .model import make_condition as make_condition
    from .model import metadata_of as metadata_of
    from .model import parse_set_values as parse_set_values
    from .model import parse_switch_names as parse_switch_names
    from .model import read_metadata_file as read_metadata_file
    from .model import resolve_values as resolve_values
    from .model import sbml_to_antimony as sbml_to_antimony
    from .model import switch_values as switch_values
    from .model import write_sbml as write_sbml
    from .parallel import DEFAULT_START_METHOD as DEFAULT_START_METHOD
    from .parallel import MAX_WORKERS_PER_CORE as MAX_WORKERS_PER_CORE
    from .parallel import ChunkFailure as ChunkFailure
    from .parallel import ChunkRun as ChunkRun
    from .parallel import DaskExecutor as DaskExecutor
    from .parallel import Executor as Executor
    from .parallel import ProcessExecutor as ProcessExecutor
    from .parallel import SerialExecutor as SerialExecutor
    from .parallel import WorkerLost as WorkerLost
    from .parallel import default_workers as default_workers
    from .parallel import iter_parts as iter_parts
    from .parallel import make_executor as make_executor
    from .parallel import read_parts as read_parts
    from .parallel import run_chunks as run_chunks
    from .plots import display_time as display_time
    from .plots import plot_dose_response as plot_dose_response
    from .plots import plot_dose_response_fit as plot_dose_response_fit
    from .plots import plot_escape_prediction as plot_escape_prediction
    from .plots import plot_fa_ci as plot_fa_ci
    from .plots import plot_fit_vs_data as plot_fit_vs_data
    from .plots import plot_growth_curves as plot_growth_curves
    from .plots import plot_index_bars as plot_index_bars
    from .plots import plot_index_heatmap as plot_index_heatmap
    from .plots import plot_indices_over_grid as plot_indices_over_grid
    from .plots import plot_isobologram as plot_isobologram
    from .plots import plot_matrix_heatmap as plot_matrix_heatmap
    from .plots import plot_morris as plot_morris
    from .plots import plot_output_distribution as plot_output_distribution
    from .plots import plot_overview as plot_overview
    from .plots import plot_profiles as plot_profiles
    from .plots import plot_screen_panel as plot_screen_panel
    from .plots import plot_senescence_time_courses as plot_senescence_time_courses
    from .plots import plot_steady_state as plot_steady_state
    from .plots import plot_time_courses as plot_time_courses
    from .plots import plot_waterfall as plot_waterfall
    from .plots import save_figure as save_figure
    from .plots import save_figure_as as save_figure_as
    from .readouts import LEVEL_CONVENTION as LEVEL_CONVENTION
    from .readouts import LEVEL_PREFIX as LEVEL_PREFIX
    from .readouts import MODEL_FREE as MODEL_FREE
    from .readouts import MODEL_NORMALIZED as MODEL_NORMALIZED
    from .readouts import MODES as MODES
    from .readouts import READOUTS as READOUTS
    from .readouts import REQUIRED_IDS as REQUIRED_IDS
    from .readouts import DoseResponse as DoseResponse
    from .readouts import DoseResponseDrawer as DoseResponseDrawer
    from .readouts import LogisticFit as LogisticFit
    from .readouts import Readout as Readout
    from .readouts import ReadoutRecord as ReadoutRecord
    from .readouts import ReadoutTable as ReadoutTable
    from .readouts import closed_form_cells as closed_form_cells
    from .readouts import compute_readout_table as compute_readout_table
    from .readouts import compute_readouts as compute_readouts
    from .readouts import dose_response as dose_response
    from .readouts import fit_dose_response as fit_dose_response
    from .readouts import fit_logistic as fit_logistic
    from .readouts import fit_row as fit_row
    from .readouts import level_hint as level_hint
    from .readouts import level_readout as level_readout
    from .readouts import logistic4 as logistic4
    from .readouts import percent_remaining as percent_remaining
    from .readouts import readouts_for as readouts_for
    from .readouts import unknown_readout_message as unknown_readout_message
    from .readouts import with_population_layer as with_population_layer
    from .readouts import write_dose_response as write_dose_response
    from .report import build_report as build_report
    from .report import draw_dose_response as draw_dose_response
    from .report import draw_fit_figures as draw_fit_figures
    from .screen import FA_LEVELS as FA_LEVELS
    from .screen import LARGE_SCREEN_WELLS as LARGE_SCREEN_WELLS
    from .screen import MAX_AXIS_DOSES as MAX_AXIS_DOSES
    from .screen import MAX_SCREEN_WELLS as MAX_SCREEN_WELLS
    from .screen import MEMORY_PER_ROW as MEMORY_PER_ROW
    from .screen import SUMMARISED_SCORES as SUMMARISED_SCORES
    from .screen import SYNERGY_COLUMNS as SYNERGY_COLUMNS
    from .screen import SYNERGY_READOUTS as SYNERGY_READOUTS
    from .screen import WELL_COLUMNS as WELL_COLUMNS
    from .screen import WELL_SCORES as WELL_SCORES
    from .screen import DrugAxis as DrugAxis
    from .screen import ScreenEstimate as ScreenEstimate
    from .screen import ScreenResult as ScreenResult
    from .screen import ScreenSpec as ScreenSpec
    from .screen import effect_of as effect_of
    from .screen import estimate_screen as estimate_screen
    from .screen import load_ensemble as load_ensemble
    from .screen import rank_combinations as rank_combinations
    from .screen import ratio_series as ratio_series
    from .screen import run_screen as run_screen
    from .sensitivity import DEFAULT_FACTOR as DEFAULT_FACTOR
    from .sensitivity import DEFAULT_N as DEFAULT_N
    from .sensitivity import DEFAULT_RULE as DEFAULT_RULE
    from .sensitivity import DISTRIBUTIONS as DISTRIBUTIONS
    from .sensitivity import FAILURE_POLICIES as FAILURE_POLICIES
    from .sensitivity import INDICES as INDICES
    from .sensitivity import MAIN_INDEX as MAIN_INDEX
    from .sensitivity import METHODS as METHODS
    from .sensitivity import NAN_POLICY as NAN_POLICY
    from .sensitivity import CombinationIndexAt as CombinationIndexAt
    from .sensitivity import IC50Shift as IC50Shift
    from .sensitivity import ObservableAt as ObservableAt
    from .sensitivity import Output as Output
    from .sensitivity import ParameterRange as ParameterRange
    from .sensitivity import ParameterSpace as ParameterSpace
    from .sensitivity import ReadoutAt as ReadoutAt
    from .sensitivity import ReadoutGrid as ReadoutGrid
    from .sensitivity import SensitivityResult as SensitivityResult
    from .sensitivity import SensitivitySpec as SensitivitySpec
    from .sensitivity import analyze as analyze
    from .sensitivity import check_outputs as check_outputs
    from .sensitivity import column_table as column_table
    from .sensitivity import default_ranges as default_ranges
    from .sensitivity import evaluate_rows as evaluate_rows
    from .sensitivity import fraction_affected as fraction_affected
    from .sensitivity import load_ranges as load_ranges
    from .sensitivity import parse_output as parse_output
    from .sensitivity import rank_parameters as rank_parameters
    from .sensitivity import run_sensitivity as run_sensitivity
    from .sensitivity import sample_matrix as sample_matrix
    from .status import Issue as Issue
    from .status import Status as Status
    from .study import ResistanceResult as ResistanceResult
    from .study import StudyResult as StudyResult
    from .study import check_study as check_study
    from .study import run_demo as run_demo
    from .study import run_resistance as run_resistance
    from .study import run_study as run_study
    from .synergy import FA_WINDOW as FA_WINDOW
    from .synergy import MSA_SIZE as MSA_SIZE
    from .synergy import SCORE_CONVENTIONS as SCORE_CONVENTIONS
    from .synergy import STATUS_RAISED as STATUS_RAISED
    from .synergy import BatchLsqResult as BatchLsqResult
    from .synergy import CombinationIndexScores as CombinationIndexScores
    from .synergy import ConstantRatioCI as ConstantRatioCI
    from .synergy import ConstantRatioMany as ConstantRatioMany
    from .synergy import HillFit as HillFit
    from .synergy import LoeweScores as LoeweScores
    from .synergy import MedianEffectFit as MedianEffectFit
    from .synergy import MedianFits as MedianFits
    from .synergy import SynergyBatch as SynergyBatch
    from .synergy import SynergyResult as SynergyResult
    from .synergy import ZipScores as ZipScores
    from .synergy import bliss_excess as bliss_excess
    from .synergy import classify_ci as classify_ci
    from .synergy import combination_index as combination_index
    from .synergy import combination_index_at as combination_index_at
    from .synergy import combination_index_many as combination_index_many
    from .synergy import constant_ratio_many as constant_ratio_many
    from .synergy import constant_ratio_series as constant_ratio_series
    from .synergy import fit_hill as fit_hill
    from .synergy import fit_hill_many as fit_hill_many
    from .synergy import hsa_excess as hsa_excess
    from .synergy import least_squares_trf_batch as least_squares_trf_batch
    from .synergy import loewe_excess as loewe_excess
    from .synergy import loewe_expected_many as loewe_expected_many
    from .synergy import matrix_summaries as matrix_summaries
    from .synergy import median_effect_fit as median_effect_fit
    from .synergy import median_effect_fits as median_effect_fits
    from .synergy import ratio_wells as ratio_wells
    from .synergy import synergy_batch as synergy_batch
    from .synergy import synergy_scores as synergy_scores
    from .synergy import synergy_scores_many as synergy_scores_many
    from .synergy import zip_delta as zip_delta
    from .synergy import zip_delta_many as zip_delta_many
    from .units import AMOUNT_UNITS as AMOUNT_UNITS
    from .units import MAX_DOSE_NM as MAX_DOSE_NM
    from .units import MAX_TIME_POINTS as MAX_TIME_POINTS
    from .units import TIME_UNITS as TIME_UNITS
    from .units import parse_amount as parse_amount
    from .units import parse_time as parse_time
    from .units import parse_time_span as parse_time_span
    from .validate import validate_files as validate_files
