"""Parameter sensitivity: Sobol, Morris, eFAST (SALib) and local coefficients of outputs of interest, at scale.

The only package that imports ``SALib``. Ranges default from the model's parameters (overridable in a file);
evaluations run in resumable chunks on any executor; every index carries a confidence interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "DEFAULT_N": "_spec",
    "FAILURE_POLICIES": "_spec",
    "INDICES": "_spec",
    "MAIN_INDEX": "_spec",
    "METHODS": "_spec",
    "NAN_POLICY": "_spec",
    "SensitivitySpec": "_spec",
    "analyze": "_methods",
    "rank_parameters": "_methods",
    "sample_matrix": "_methods",
    "SensitivityResult": "_run",
    "run_sensitivity": "_run",
    "CombinationIndexAt": "_outputs",
    "IC50Shift": "_outputs",
    "ObservableAt": "_outputs",
    "Output": "_outputs",
    "ReadoutAt": "_outputs",
    "ReadoutGrid": "_outputs",
    "check_outputs": "_outputs",
    "column_table": "_outputs",
    "fraction_affected": "_outputs",
    "parse_output": "_outputs",
    "evaluate_rows": "_evaluate",
    "DEFAULT_FACTOR": "_ranges",
    "DEFAULT_RULE": "_ranges",
    "DISTRIBUTIONS": "_ranges",
    "ParameterRange": "_ranges",
    "ParameterSpace": "_ranges",
    "default_ranges": "_ranges",
    "load_ranges": "_ranges",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._evaluate import evaluate_rows as evaluate_rows
    from ._methods import analyze as analyze
    from ._methods import rank_parameters as rank_parameters
    from ._methods import sample_matrix as sample_matrix
    from ._outputs import CombinationIndexAt as CombinationIndexAt
    from ._outputs import IC50Shift as IC50Shift
    from ._outputs import ObservableAt as ObservableAt
    from ._outputs import Output as Output
    from ._outputs import ReadoutAt as ReadoutAt
    from ._outputs import ReadoutGrid as ReadoutGrid
    from ._outputs import check_outputs as check_outputs
    from ._outputs import column_table as column_table
    from ._outputs import fraction_affected as fraction_affected
    from ._outputs import parse_output as parse_output
    from ._ranges import DEFAULT_FACTOR as DEFAULT_FACTOR
    from ._ranges import DEFAULT_RULE as DEFAULT_RULE
    from ._ranges import DISTRIBUTIONS as DISTRIBUTIONS
    from ._ranges import ParameterRange as ParameterRange
    from ._ranges import ParameterSpace as ParameterSpace
    from ._ranges import default_ranges as default_ranges
    from ._ranges import load_ranges as load_ranges
    from ._run import SensitivityResult as SensitivityResult
    from ._run import run_sensitivity as run_sensitivity
    from ._spec import DEFAULT_N as DEFAULT_N
    from ._spec import FAILURE_POLICIES as FAILURE_POLICIES
    from ._spec import INDICES as INDICES
    from ._spec import MAIN_INDEX as MAIN_INDEX
    from ._spec import METHODS as METHODS
    from ._spec import NAN_POLICY as NAN_POLICY
    from ._spec import SensitivitySpec as SensitivitySpec
