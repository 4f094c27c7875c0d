"""Drug-combination screens: dose matrices x cell lines x parameter ensembles -> readouts -> synergy.

A screen is two chunked, resumable passes through an executor (wells, then synergy scores); :func:`run_screen`
returns its tables and, given a folder, writes them with a manifest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "FA_LEVELS": "_spec",
    "LARGE_SCREEN_WELLS": "_spec",
    "MAX_AXIS_DOSES": "_spec",
    "MAX_SCREEN_WELLS": "_spec",
    "MEMORY_PER_ROW": "_spec",
    "SUMMARISED_SCORES": "_spec",
    "SYNERGY_READOUTS": "_spec",
    "WELL_SCORES": "_spec",
    "DrugAxis": "_spec",
    "ScreenSpec": "_spec",
    "effect_of": "_spec",
    "load_ensemble": "_spec",
    "WELL_COLUMNS": "_wells",
    "ScreenEstimate": "_wells",
    "estimate_screen": "_wells",
    "ratio_series": "_wells",
    "EXACT_CI_METHOD": "_design",
    "EXACT_DOSE_RANGE_NM": "_design",
    "ExactCI": "_design",
    "ci_design": "_design",
    "CI_CONVENTION_COLUMNS": "_design",
    "ci_convention_table": "_design",
    "exact_ci": "_design",
    "SYNERGY_COLUMNS": "_scoring",
    "ScreenResult": "_run",
    "rank_combinations": "_run",
    "run_screen": "_run",
    "SCORE_UNITS": "_tables",
    "SYNERGYFINDER_COLUMNS": "_tables",
    "describe_synergy": "_tables",
    "describe_wells": "_tables",
    "score_unit": "_tables",
    "synergyfinder_table": "_tables",
    "write_synergyfinder": "_tables",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._design import CI_CONVENTION_COLUMNS as CI_CONVENTION_COLUMNS
    from ._design import EXACT_CI_METHOD as EXACT_CI_METHOD
    from ._design import EXACT_DOSE_RANGE_NM as EXACT_DOSE_RANGE_NM
    from ._design import ExactCI as ExactCI
    from ._design import ci_convention_table as ci_convention_table
    from ._design import ci_design as ci_design
    from ._design import exact_ci as exact_ci
    from ._run import ScreenResult as ScreenResult
    from ._run import rank_combinations as rank_combinations
    from ._run import run_screen as run_screen
    from ._scoring import SYNERGY_COLUMNS as SYNERGY_COLUMNS
    from ._spec import FA_LEVELS as FA_LEVELS
    from ._spec import LARGE_SCREEN_WELLS as LARGE_SCREEN_WELLS
    from ._spec import MAX_AXIS_DOSES as MAX_AXIS_DOSES
    from ._spec import MAX_SCREEN_WELLS as MAX_SCREEN_WELLS
    from ._spec import MEMORY_PER_ROW as MEMORY_PER_ROW
    from ._spec import SUMMARISED_SCORES as SUMMARISED_SCORES
    from ._spec import SYNERGY_READOUTS as SYNERGY_READOUTS
    from ._spec import WELL_SCORES as WELL_SCORES
    from ._spec import DrugAxis as DrugAxis
    from ._spec import ScreenSpec as ScreenSpec
    from ._spec import effect_of as effect_of
    from ._spec import load_ensemble as load_ensemble
    from ._tables import SCORE_UNITS as SCORE_UNITS
    from ._tables import SYNERGYFINDER_COLUMNS as SYNERGYFINDER_COLUMNS
    from ._tables import describe_synergy as describe_synergy
    from ._tables import describe_wells as describe_wells
    from ._tables import score_unit as score_unit
    from ._tables import synergyfinder_table as synergyfinder_table
    from ._tables import write_synergyfinder as write_synergyfinder
    from ._wells import WELL_COLUMNS as WELL_COLUMNS
    from ._wells import ScreenEstimate as ScreenEstimate
    from ._wells import estimate_screen as estimate_screen
    from ._wells import ratio_series as ratio_series
