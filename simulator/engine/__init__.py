"""The simulation engine: steady states, time courses and control coefficients with libroadrunner.

The only package that imports ``roadrunner``. One RoadRunner per process per model (compiled once, its machine
code cached on disk); every call sets every value it depends on; failures are records with a status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "ControlCoefficients": "_types",
    "SolverOptions": "_types",
    "SteadyState": "_types",
    "Trajectory": "_types",
    "steady_state": "_steady",
    "steady_states": "_steady",
    "time_course": "_timecourse",
    "time_courses": "_timecourse",
    "control_coefficients": "_mca",
    "response_coefficients": "_mca",
    "CACHE_ENV_VAR": "_compile_cache",
    "CompileCache": "_compile_cache",
    "host_fingerprint": "_compile_cache",
    "forget_runners": "_roadrunner",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._compile_cache import CACHE_ENV_VAR as CACHE_ENV_VAR
    from ._compile_cache import CompileCache as CompileCache
    from ._compile_cache import host_fingerprint as host_fingerprint
    from ._mca import control_coefficients as control_coefficients
    from ._mca import response_coefficients as response_coefficients
    from ._roadrunner import forget_runners as forget_runners
    from ._steady import steady_state as steady_state
    from ._steady import steady_states as steady_states
    from ._timecourse import time_course as time_course
    from ._timecourse import time_courses as time_courses
    from ._types import ControlCoefficients as ControlCoefficients
    from ._types import SolverOptions as SolverOptions
    from ._types import SteadyState as SteadyState
    from ._types import Trajectory as Trajectory
