"""Metabolic control analysis at a verified steady state (roadrunner's scaled coefficients)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError, SimulationError
from ..model import CompiledModel, Condition
from ..status import Status
from ._roadrunner import _quietly, _Runner, _runner, _split_condition
from ._steady import _solve
from ._types import ControlCoefficients, SolverOptions


def _mca_runner(model: CompiledModel, condition, options: SolverOptions | None) -> tuple[_Runner, str | None]:
    """The runner at the verified steady state of ``condition`` (or why not)."""
    options = options or SolverOptions()
    runner = _runner(model)
    runner.configure(options, ())
    if runner.laws is not None:
        return runner, ("roadrunner's control analysis needs conserved-moiety analysis, which this model does not "
                        "allow (a floating species defined by a rule)")
    treated, _ = _split_condition(condition)
    runner.load(*runner.vectors(treated))
    record = _solve(runner, (), options)
    return runner, None if record.ok else f"no steady state ({record.status}: {record.message})"


@_quietly
def control_coefficients(
    model: CompiledModel,
    condition: Condition | Mapping[str, float] | None = None,
    *,
    kind: str = "flux",
    options: SolverOptions | None = None,
    throw: bool = True,
) -> ControlCoefficients:
    """Scaled flux or concentration control coefficients at the steady state of ``condition``.

    Computed by roadrunner from the elasticities and the (reduced) stoichiometry
    (``getScaledFluxControlCoefficientMatrix`` / ``getScaledConcentrationControlCoefficientMatrix``) at the
    steady state the engine found and verified. The summation theorems hold for them: each row of flux
    control coefficients sums to 1, each row of concentration control coefficients to 0.

    Parameters
    ----------
    model
        Compiled model.
    condition
        A :class:`~simulator.model.Condition` or a mapping of ids to values; default the model's own values.
    kind
        ``"flux"`` (rows: reaction fluxes) or ``"concentration"`` (rows: floating species); columns are reactions.
    options
        Solver settings of the steady state.
    throw
        Raise :class:`~simulator.errors.SimulationError` when there is no verified steady state (default);
        with ``False`` the record is NaN with that status.

    Returns
    -------
    ControlCoefficients
        The matrix with its row and column ids, status and message.
    """
    if kind not in ("flux", "concentration"):
        raise InputError(f"control coefficient kind {kind!r} is not 'flux' or 'concentration'.")
    runner, problem = _mca_runner(model, condition, options)
    rows: tuple[str, ...] = tuple(model.reactions) if kind == "flux" else tuple(model.species)
    columns = tuple(model.reactions)
    if problem is None:
        try:
            matrix = (runner.rr.getScaledFluxControlCoefficientMatrix() if kind == "flux"
                      else runner.rr.getScaledConcentrationControlCoefficientMatrix())
            rows, columns = tuple(matrix.rownames), tuple(matrix.colnames)
            values = np.asarray(matrix, dtype=float)
        except RuntimeError as exc:
            problem = f"roadrunner control analysis failed: {str(exc).strip().splitlines()[0]}"
        finally:
            runner._selection = None  # roadrunner may reset the selections; the next call sets them again
    if problem is not None:
        if throw:
            raise SimulationError(f"control coefficients of model {model.name!r}: {problem}")
        nan = np.full((len(rows), len(columns)), np.nan)
        return ControlCoefficients(rows, columns, nan, kind, Status.FAILED, problem)
    return ControlCoefficients(rows, columns, values, kind, Status.OK)


@_quietly
def response_coefficients(
    model: CompiledModel,
    variables: Sequence[str],
    parameters: Sequence[str],
    condition: Condition | Mapping[str, float] | None = None,
    *,
    options: SolverOptions | None = None,
    throw: bool = True,
) -> ControlCoefficients:
    """Scaled response coefficients d ln v/d ln p at the steady state, by roadrunner's ``getCC``.

    ``variables`` are floating species or reaction ids (roadrunner does not accept assignment rules here);
    ``parameters`` global parameter ids. roadrunner perturbs each parameter and re-solves the steady state.
    For a parameter that multiplies one rate law (an enzyme level), the flux response coefficient equals
    that reaction's flux control coefficient.

    Parameters
    ----------
    model
        Compiled model.
    variables
        Floating species or reaction ids (the rows).
    parameters
        Global parameter ids (the columns).
    condition
        A :class:`~simulator.model.Condition` or a mapping of ids to values; default the model's own values.
    options
        Solver settings of the steady state.
    throw
        Raise :class:`~simulator.errors.SimulationError` when there is no verified steady state (default);
        with ``False`` the record is NaN with that status.

    Returns
    -------
    ControlCoefficients
        ``kind="response"``: d ln ``variables[i]`` / d ln ``parameters[j]``.
    """
    known_vars = set(model.species) | set(model.reactions)
    bad = [v for v in variables if v not in known_vars] + [p for p in parameters if p not in model.parameters]
    if bad:
        raise InputError(f"{', '.join(map(repr, bad))}: response coefficients need floating species or reaction ids "
                         f"of model {model.name!r} as variables and settable parameters as parameters.")
    runner, problem = _mca_runner(model, condition, options)
    values = np.full((len(variables), len(parameters)), np.nan)
    if problem is None:
        try:
            for i, var in enumerate(variables):
                for j, par in enumerate(parameters):
                    values[i, j] = runner.rr.getCC(var, par)
        except RuntimeError as exc:
            problem = f"roadrunner getCC failed: {str(exc).strip().splitlines()[0]}"
            values[:] = np.nan
        finally:
            runner._selection = None
    if problem is not None and throw:
        raise SimulationError(f"response coefficients of model {model.name!r}: {problem}")
    return ControlCoefficients(tuple(variables), tuple(parameters), values, "response",
                               Status.OK if problem is None else Status.FAILED, problem or "")
