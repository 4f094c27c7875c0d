"""mekisim: mechanistic signalling-pathway ODE simulation for kinase-inhibitor resistance and combinations.

The public API is re-exported here; submodules are importable but their other names are internal.
Names are loaded on first use (PEP 562 ``__getattr__``): a process-pool worker that unpickles
``simulator.screen._well_chunk`` then imports only what the screen needs, not the report, plots and
dose-response modules (scipy.stats, ~0.6 s of the ~1.2 s a worker spent importing the package).
Importing the package loads neither roadrunner nor matplotlib (they are imported where used); petab is
not re-exported (``simulator.petab_problem``) because importing it costs ~2 s.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name -> the submodule that defines it
_EXPORTS = {
    "CellLine": "catalog",
    "Drug": "catalog",
    "load_cell_lines": "catalog",
    "load_drugs": "catalog",
    "Condition": "conditions",
    "accepted_drugs": "conditions",
    "cell_lines_for": "conditions",
    "make_condition": "conditions",
    "StudyResult": "demo",
    "run_study": "demo",
    "LogisticFit": "doseresponse",
    "fit_logistic": "doseresponse",
    "ControlCoefficients": "engine",
    "SolverOptions": "engine",
    "SteadyState": "engine",
    "Trajectory": "engine",
    "control_coefficients": "engine",
    "response_coefficients": "engine",
    "steady_state": "engine",
    "steady_states": "engine",
    "time_course": "engine",
    "time_courses": "engine",
    "InputError": "errors",
    "MekisimError": "errors",
    "ModelLoadError": "errors",
    "SimulationError": "errors",
    "CompiledModel": "model",
    "DeclaredReadout": "model",
    "Observable": "model",
    "from_antimony_text": "model",
    "from_sbml_text": "model",
    "load_antimony": "model",
    "load_model": "model",
    "load_sbml": "model",
    "READOUTS": "readouts",
    "ReadoutRecord": "readouts",
    "ReadoutTable": "readouts",
    "compute_readout_table": "readouts",
    "compute_readouts": "readouts",
    "readouts_for": "readouts",
    "DoseResponse": "response",
    "dose_response": "response",
    "DrugAxis": "screen",
    "ScreenResult": "screen",
    "ScreenSpec": "screen",
    "load_ensemble": "screen",
    "run_screen": "screen",
    "SensitivityResult": "sensitivity",
    "SensitivitySpec": "sensitivity",
    "run_sensitivity": "sensitivity",
    "CombinationIndexAt": "sensitivity_outputs",
    "IC50Shift": "sensitivity_outputs",
    "ObservableAt": "sensitivity_outputs",
    "ReadoutAt": "sensitivity_outputs",
    "ReadoutGrid": "sensitivity_outputs",
    "parse_output": "sensitivity_outputs",
    "ParameterRange": "sensitivity_ranges",
    "ParameterSpace": "sensitivity_ranges",
    "default_ranges": "sensitivity_ranges",
    "load_ranges": "sensitivity_ranges",
    "SCORE_CONVENTIONS": "synergy",
    "SynergyResult": "synergy",
    "synergy_scores": "synergy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    """Import the submodule behind a public name (or a submodule itself) on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from .catalog import CellLine as CellLine
    from .catalog import Drug as Drug
    from .catalog import load_cell_lines as load_cell_lines
    from .catalog import load_drugs as load_drugs
    from .conditions import Condition as Condition
    from .conditions import accepted_drugs as accepted_drugs
    from .conditions import cell_lines_for as cell_lines_for
    from .conditions import make_condition as make_condition
    from .demo import StudyResult as StudyResult
    from .demo import run_study as run_study
    from .doseresponse import LogisticFit as LogisticFit
    from .doseresponse import fit_logistic as fit_logistic
    from .engine import ControlCoefficients as ControlCoefficients
    from .engine import SolverOptions as SolverOptions
    from .engine import SteadyState as SteadyState
    from .engine import Trajectory as Trajectory
    from .engine import control_coefficients as control_coefficients
    from .engine import response_coefficients as response_coefficients
    from .engine import steady_state as steady_state
    from .engine import steady_states as steady_states
    from .engine import time_course as time_course
    from .engine import time_courses as time_courses
    from .errors import InputError as InputError
    from .errors import MekisimError as MekisimError
    from .errors import ModelLoadError as ModelLoadError
    from .errors import SimulationError as SimulationError
    from .model import CompiledModel as CompiledModel
    from .model import DeclaredReadout as DeclaredReadout
    from .model import Observable as Observable
    from .model import from_antimony_text as from_antimony_text
    from .model import from_sbml_text as from_sbml_text
    from .model import load_antimony as load_antimony
    from .model import load_model as load_model
    from .model import load_sbml as load_sbml
    from .readouts import READOUTS as READOUTS
    from .readouts import ReadoutRecord as ReadoutRecord
    from .readouts import ReadoutTable as ReadoutTable
    from .readouts import compute_readout_table as compute_readout_table
    from .readouts import compute_readouts as compute_readouts
    from .readouts import readouts_for as readouts_for
    from .response import DoseResponse as DoseResponse
    from .response import dose_response as dose_response
    from .screen import DrugAxis as DrugAxis
    from .screen import ScreenResult as ScreenResult
    from .screen import ScreenSpec as ScreenSpec
    from .screen import load_ensemble as load_ensemble
    from .screen import run_screen as run_screen
    from .sensitivity import SensitivityResult as SensitivityResult
    from .sensitivity import SensitivitySpec as SensitivitySpec
    from .sensitivity import run_sensitivity as run_sensitivity
    from .sensitivity_outputs import CombinationIndexAt as CombinationIndexAt
    from .sensitivity_outputs import IC50Shift as IC50Shift
    from .sensitivity_outputs import ObservableAt as ObservableAt
    from .sensitivity_outputs import ReadoutAt as ReadoutAt
    from .sensitivity_outputs import ReadoutGrid as ReadoutGrid
    from .sensitivity_outputs import parse_output as parse_output
    from .sensitivity_ranges import ParameterRange as ParameterRange
    from .sensitivity_ranges import ParameterSpace as ParameterSpace
    from .sensitivity_ranges import default_ranges as default_ranges
    from .sensitivity_ranges import load_ranges as load_ranges
    from .synergy import SCORE_CONVENTIONS as SCORE_CONVENTIONS
    from .synergy import SynergyResult as SynergyResult
    from .synergy import synergy_scores as synergy_scores
