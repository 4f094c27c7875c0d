"""The local optimisers of a start: scipy's trust-region reflective least squares, or fides' trust region.

Both minimise ``0.5 * |r(x)|^2`` within box bounds from the residuals ``r`` and their Jacobian ``J`` (the
hierarchical inner problem, when used, is inside ``r`` and ``J``). They differ in how they use them:

* ``trf`` (:func:`scipy.optimize.least_squares`, ``method="trf"``): a Jacobian only at accepted points, a
  Gauss-Newton model solved by a trust region in the variables scaled by ``x_scale``;
* ``fides`` (Fröhlich & Sorger 2022, the optimiser of the published PEtab benchmark fits with AMICI): an interior
  trust-region reflective method on ``f = 0.5 |r|^2`` with gradient ``J^T r`` and the Gauss-Newton Hessian
  ``J^T J``, computed at every trial point; ``fides-hybrid`` switches from Gauss-Newton to a BFGS update after 20
  iterations without a trust-region change (fides' ``HybridFixed``), which helps where the Gauss-Newton model is
  poor far from a zero-residual fit.

Which is the default is decided by measurement (``benchmarks/RESULTS.md``, "Optimiser of a start"). Not measured:
fides with Jacobians by differences (``gradient="fd"``, or a model the sensitivities do not cover): it pays a full
Jacobian (two solves per ODE parameter) at every trial point, rejected ones included, where trf pays one only at
accepted points; ``optimizer="trf"`` may be cheaper there.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

OPTIMIZERS = ("trf", "fides", "fides-hybrid")


@dataclass(frozen=True)
class Outcome:
    """End of one local optimisation: point, why it stopped, counts, first-order optimality (inf-norm)."""

    x: np.ndarray
    message: str
    nfev: int
    njev: int
    optimality: float


def minimize(name: str, residuals: Callable[[np.ndarray], np.ndarray], jacobian: Callable[[np.ndarray], np.ndarray],
             x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, max_nfev: int, ftol: float, xtol: float,
             gtol: float, x_scale: str | float) -> Outcome:
    """Minimise ``0.5 |residuals(x)|^2`` in ``[lower, upper]`` from ``x0`` with optimiser ``name``.

    ``max_nfev`` bounds the residual evaluations (trf) or the iterations, one residual + Jacobian evaluation each
    (fides). ``ftol``/``xtol``/``gtol`` and ``x_scale`` are least_squares' settings; fides runs with its own
    default tolerances (absolute and relative change of f below 1e-8, gradient norm below 1e-6), as in the
    published benchmark fits, because least_squares' 1e-10 tolerances mean something else in its scaled variables.
    Exceptions of ``residuals``/``jacobian`` (a start's budget) propagate; fides' non-finite-value error is a
    ``RuntimeError``.
    """
    if name == "trf":
        sol = least_squares(residuals, x0, jac=jacobian, bounds=(lower, upper), method="trf", x_scale=x_scale,
                            ftol=ftol or None, xtol=xtol or None, gtol=gtol or None, max_nfev=max_nfev)
        return Outcome(sol.x, str(sol.message), int(sol.nfev), int(sol.njev or 0), float(sol.optimality))
    if name in ("fides", "fides-hybrid"):
        return _fides(residuals, jacobian, x0, lower, upper, max_nfev, hybrid=name == "fides-hybrid")
    raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")


def _fides(residuals, jacobian, x0, lower, upper, max_iter: int, hybrid: bool) -> Outcome:
    import fides  # the optimiser is imported only by the starts that use it

    counts = {"fev": 0, "jev": 0}

    def fun(x: np.ndarray):
        r = residuals(x)
        counts["fev"] += 1
        if not np.all(np.isfinite(r)):  # fides rejects the step and shrinks its trust region
            return math.nan, np.full(x.size, math.nan), np.full((x.size, x.size), math.nan)
        jac = jacobian(x)
        counts["jev"] += 1
        return 0.5 * float(r @ r), jac.T @ r, jac.T @ jac

    update = fides.HybridFixed(fides.BFGS()) if hybrid else None
    opt = fides.Optimizer(fun, ub=np.asarray(upper, dtype=float), lb=np.asarray(lower, dtype=float),
                          verbose=logging.ERROR, options={fides.Options.MAXITER: max_iter},
                          hessian_update=update)
    _, x, grad, _ = opt.minimize(np.asarray(x0, dtype=float), hess0="hess" if hybrid else None)
    return Outcome(np.asarray(x, dtype=float), f"fides: {opt.exitflag.name}", counts["fev"], counts["jev"],
                   _projected_optimality(x, grad, lower, upper))


def _projected_optimality(x: np.ndarray, grad: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Inf-norm of the gradient without the components that push against an active bound."""
    g = np.array(grad, dtype=float)
    span = np.asarray(upper) - np.asarray(lower)
    g[(x - lower <= 1e-8 * span) & (g > 0)] = 0.0
    g[(upper - x <= 1e-8 * span) & (g < 0)] = 0.0
    return float(np.max(np.abs(g))) if g.size else 0.0
