"""The PEtab nllh as a function of the scaled vector of estimated parameters, with its Jacobian."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import petab.v1 as petab_v1
from scipy.optimize import least_squares
from scipy.stats import chi2

from ..engine import SolverOptions
from ..errors import InputError
from ._formulas import Formulas
from ._petab import PetabProblem, load_petab
from ._petab_simulate import observe, petab_nllh, solve_experiments
from ._priors import Priors, problem_priors
from ._sensitivities import SENSITIVITY_OPTIONS, _chain, problem_sensitivities

#: 95 % likelihood-ratio threshold for one parameter: chi2_1(0.95) / 2 = 1.9207 (nllh units)
THRESHOLD_95 = float(chi2.ppf(0.95, 1) / 2.0)


#: Tight tolerances: finite differences with steps of 1e-4 (central) or 1e-5 (forward) need ODE errors far below
#: them, and the benchmark's values need rtol <= 1e-8 (REFERENCE.md); at rtol 1e-8/atol 1e-10 Fiedler's nllh was
#: still 2e-3 off.
#: max_steps 20,000 per output interval: random starts far from the data can make a model so stiff that one
#: solve takes seconds; such a point is better rejected (NaN residuals shrink the trust region) than waited for.
DEFAULT_OPTIONS = SolverOptions(rtol=1e-10, atol=1e-12, max_steps=20_000)


#: Smallest sigma for which the residual form of the noise normalisation is exact (``docs/notes/fit.md``).
SIGMA_FLOOR = 1e-30


#: C in sqrt(2n + C): 2n >= -C for every sigma >= SIGMA_FLOOR (normal noise; laplace is looser).
SIGMA_OFFSET = -math.log(2.0 * math.pi * SIGMA_FLOOR**2) + 1.0


_SCALES = ("lin", "log", "log10")


_FD_SIM = 1e-5  # forward-difference step (scaled units) for columns that need an ODE solve


_FD_SIM_CENTRAL = 1e-4  # central-difference step for those, ~ (ODE error)^(1/3)


_FD_FORMULA = 1e-6  # central-difference step for formula-only columns (no solve; machine-precision arithmetic)


#: how the columns of the ODE parameters are differentiated: forward sensitivities or finite differences
GRADIENTS = ("exact", "fd")


@lru_cache(maxsize=8)
def _formulas(problem: PetabProblem) -> Formulas:
    """The problem's formulas compiled for vectorised evaluation, once per process (a problem is immutable)."""
    return Formulas(problem)


@dataclass
class _Counts:
    """Mutable counters of one objective: evaluations and ODE solves (instrumentation only)."""

    solves: int = 0
    sensitivity_solves: int = 0

    @property
    def total(self) -> int:
        """Every ODE solve: plain ones and integrations of the sensitivity equations."""
        return self.solves + self.sensitivity_solves


def to_linear(x: np.ndarray, scales: Sequence[str]) -> np.ndarray:
    """Scaled values -> linear values (lin: x, log: e^x, log10: 10^x).

    Parameters
    ----------
    x
        Scaled values.
    scales
        One PEtab ``parameterScale`` per value.

    Returns
    -------
    numpy.ndarray
        Linear values.
    """
    x = np.asarray(x, dtype=float)
    return np.array([v if s == "lin" else math.exp(v) if s == "log" else 10.0**v for v, s in zip(x, scales,
                                                                                              strict=True)])


def to_scaled(values: np.ndarray, scales: Sequence[str]) -> np.ndarray:
    """Linear values -> scaled values; ``-inf`` for 0 on a log scale (an unbounded lower bound).

    Parameters
    ----------
    values
        Linear values.
    scales
        One PEtab ``parameterScale`` per value.

    Returns
    -------
    numpy.ndarray
        Scaled values.
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore"):
        return np.array([v if s == "lin" else np.log(v) if s == "log" else np.log10(v)
                         for v, s in zip(values, scales, strict=True)], dtype=float)


@dataclass(frozen=True, eq=False)
class Objective:
    """The PEtab nllh (and, with objective priors, the negative log-posterior) of the scaled estimated parameters.

    The optimiser minimises ``nlpost = nllh + nlprior`` (:meth:`residuals`: ``0.5 * sum(res**2) + const`` is
    ``nlpost``); :meth:`nllh` is the pure PEtab likelihood, the number published reference values give, and
    :meth:`nlprior` the priors' term (0 without priors, ``_priors.py`` for the conventions).

    Build it with :func:`make_objective`. Not picklable (the problem holds compiled formulas); workers build
    their own with :func:`objective_for`.

    Attributes
    ----------
    problem
        The loaded PEtab problem.
    ids, scales
        Estimated parameter ids (parameter-table order) and their ``parameterScale``.
    lower, upper
        Bounds on the scaled vector.
    fixed
        Linear values of every parameter-table id that is not estimated (nominal values, or the values a
        profile fixes).
    options
        ODE solver settings.
    central
        Central (two solves) instead of forward (one solve) differences for the ODE columns.
    gradient_method
        ``"exact"``: the ODE columns of the Jacobian from forward sensitivities (pre-equilibration by the
        implicit-function theorem); ``"fd"``: finite differences (``central`` decides which). A model the
        sensitivity equations do not cover falls back to differences; :attr:`gradient_note` says why.
    priors
        The objective priors of the estimated parameters (empty without ``objectivePriorType``).
    """

    problem: PetabProblem
    ids: tuple[str, ...]
    scales: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    fixed: Mapping[str, float]
    options: SolverOptions = DEFAULT_OPTIONS
    central: bool = False
    gradient_method: str = "fd"
    priors: Priors = field(default_factory=Priors)
    # a placeholder: __post_init__ always sets it (from the problem), so its type is the array's
    needs_solve: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]
    counts: _Counts = field(init=False, repr=False)
    _cache: dict = field(init=False, repr=False)
    # derived from the problem in __post_init__ (the noise model of every measurement row)
    _transformation: np.ndarray = field(init=False, repr=False)
    _laplace: np.ndarray = field(init=False, repr=False)
    _hm: np.ndarray = field(init=False, repr=False)
    _const: float = field(init=False, repr=False)
    # the problem's compiled formulas, each estimated id's position in their value vector, and the rows whose
    # observable is on a log / log10 scale (the derivative of the transformation)
    _formulas: Formulas = field(init=False, repr=False, compare=False)
    _vpos: np.ndarray = field(init=False, repr=False, compare=False)
    _hprime_log: np.ndarray = field(init=False, repr=False, compare=False)
    _hprime_log10: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # per object, never passed in: ``dataclasses.replace`` (another ``fixed`` or ``options``) builds a new
        # objective whose solutions must not come from the original's cache
        object.__setattr__(self, "counts", _Counts())
        object.__setattr__(self, "_cache", {})
        sim_ids = self.problem.simulation_parameter_ids
        object.__setattr__(self, "needs_solve", np.array([i in sim_ids for i in self.ids], dtype=bool))
        m = self.problem.measurement
        transformation, distribution = self.problem.noise_models
        object.__setattr__(self, "_transformation", transformation)
        object.__setattr__(self, "_laplace", distribution == "laplace")
        with np.errstate(divide="ignore", invalid="ignore"):
            jac = np.where(transformation == "log", np.log(m),
                           np.where(transformation == "log10", np.log(m) + math.log(math.log(10.0)), 0.0))
            hm = np.where(transformation == "log", np.log(m), np.where(transformation == "log10", np.log10(m), m))
        object.__setattr__(self, "_hm", hm)
        object.__setattr__(self, "_const", float(np.sum(jac)) - 0.5 * SIGMA_OFFSET * m.size)
        if self.gradient_method not in GRADIENTS:
            raise InputError(f"gradient must be one of {', '.join(GRADIENTS)}, not {self.gradient_method!r}.")
        formulas = _formulas(self.problem)
        object.__setattr__(self, "_formulas", formulas)
        pos = {p: i for i, p in enumerate(formulas.ids)}
        object.__setattr__(self, "_vpos", np.array([pos[i] for i in self.ids], dtype=np.intp))
        object.__setattr__(self, "_hprime_log", transformation == "log")
        object.__setattr__(self, "_hprime_log10", transformation == "log10")

    @property
    def dim(self) -> int:
        """Number of estimated parameters."""
        return len(self.ids)

    @property
    def n_residuals(self) -> int:
        """Length of :meth:`residuals`: two per measurement (data, noise normalisation), one per non-uniform prior."""
        return 2 * self.problem.measurement.size + self.priors.n_residuals

    @property
    def outer_mask(self) -> np.ndarray:
        """Parameters a hierarchical fit keeps in its outer problem: those that need an ODE solve or carry a prior.

        The inner problem (:class:`_Hierarchical`) optimises the likelihood alone, so a scale or sigma with a prior
        is optimised with the ODE parameters.
        """
        return self.needs_solve | self.priors.mask

    def values(self, x: np.ndarray) -> dict[str, float]:
        """Linear value of every parameter-table id at the scaled vector ``x``."""
        return dict(self.fixed) | dict(zip(self.ids, to_linear(x, self.scales).tolist(), strict=True))

    def linear(self, x: np.ndarray) -> dict[str, float]:
        """Linear values of the estimated parameters only."""
        return dict(zip(self.ids, to_linear(x, self.scales).tolist(), strict=True))

    def solve(self, x: np.ndarray) -> tuple:
        """ODE solutions at ``x`` (cached for the last point, so ``fun`` then ``jac`` solve once).

        The cache key is the part of ``x`` that changes a solution, so formula-only parameters never re-solve.
        """
        key = np.asarray(x, dtype=float)[self.needs_solve].tobytes()
        if self._cache.get("key") != key:
            solutions = self._solve_uncached(x)
            self._cache.update(key=key, solutions=solutions, states=self._formulas.gather(solutions))
        return self._cache["solutions"]

    def _states(self, solutions: tuple) -> np.ndarray:
        """Row-aligned model quantities of ``solutions`` (kept with the cached solution)."""
        if self._cache.get("solutions") is solutions:
            return self._cache["states"]
        return self._formulas.gather(solutions)

    @property
    def gradient_note(self) -> str:
        """Why the exact gradient is not used (the model is not covered), or ``""``."""
        if self.gradient_method != "exact" or not self.needs_solve.any():
            return ""
        found = self._sensitivities()
        return found if isinstance(found, str) else ""

    def _sensitivities(self):
        theta = tuple(i for i, n in zip(self.ids, self.needs_solve, strict=True) if n)
        return problem_sensitivities(self.problem, theta)

    def _solve_uncached(self, x: np.ndarray) -> tuple:
        self.counts.solves += 1
        return solve_experiments(self.problem, self.values(x), options=self.options)

    def _residuals_uncached(self, x: np.ndarray) -> np.ndarray:
        return self._residuals_from(self._solve_uncached(x), self.values(x))[0]

    def _residuals_from(self, solutions: tuple, values: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(residuals, simulation); residuals are NaN where the simulation failed or is invalid."""
        return self._residual_parts(self._states(solutions), self._formulas.value_vector(values))[:2]

    def _residual_parts(self, states: np.ndarray, v: np.ndarray, columns: np.ndarray | None = None,
                        d_states: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(residuals, simulation, Jacobian of the residuals in ``columns`` of x, or None).

        ``v`` is the formulas' value vector (:meth:`Formulas.value_vector`). The Jacobian is exact given
        ``d_states`` (rows x selected model ids x columns: the derivatives of the model quantities the formulas
        read; ``None``: they do not depend on these columns).
        """
        fv = self._formulas.evaluate(states, v, derivatives=columns is not None)
        sim, sigma = fv.y, fv.sigma
        t = self._transformation
        with np.errstate(divide="ignore", invalid="ignore"):
            hy = np.where(t == "log", np.log(sim), np.where(t == "log10", np.log10(sim), sim))
            r = (self._hm - hy) / sigma
            data = np.where(self._laplace, np.sign(r) * np.sqrt(2.0 * np.abs(r)), r)
            norm = np.where(self._laplace, np.log(2.0 * sigma), 0.5 * np.log(2.0 * math.pi * sigma**2))
            noise = np.sqrt(np.maximum(2.0 * norm + SIGMA_OFFSET, 0.0))
        noise[~np.isfinite(norm) | (sigma <= 0)] = np.nan
        res = np.concatenate([data, noise])
        if columns is None:
            return res, sim, None
        # evaluate(derivatives=True) fills every derivative
        assert fv.dy_dv is not None and fv.dy_ds is not None and fv.dsigma_dv is not None
        assert fv.dsigma_ds is not None and fv.dsigma_dy is not None
        chain = np.array([_chain(v[self._vpos[j]], self.scales[j]) for j in columns])
        dy = fv.dy_dv[:, self._vpos[columns]] * chain
        dsig = fv.dsigma_dv[:, self._vpos[columns]] * chain
        if d_states is not None:
            dy += np.einsum("ns,nsj->nj", fv.dy_ds, d_states)
            dsig += np.einsum("ns,nsj->nj", fv.dsigma_ds, d_states)
        dsig += fv.dsigma_dy[:, None] * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            hprime = np.where(self._hprime_log, 1.0 / sim, np.where(self._hprime_log10, 1.0 / (sim * math.log(10.0)),
                                                                     1.0))
            dr = -(hprime / sigma)[:, None] * dy - (r / sigma)[:, None] * dsig
            ddata = np.where(self._laplace[:, None], dr / np.sqrt(2.0 * np.abs(r))[:, None], dr)
            dnoise = np.where((noise > 0)[:, None], dsig / (sigma * noise)[:, None], 0.0)
        jac = np.vstack([ddata, dnoise])
        jac[~np.isfinite(jac)] = 0.0
        return res, sim, jac

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Residual vector at ``x``, what the optimiser minimises: ``nlpost = 0.5 * sum(res**2) + const``.

        The likelihood's residuals (``docs/notes/fit.md``), then one per non-uniform prior (``_priors.py``).
        """
        return self._with_priors(self._residuals_from(self.solve(x), self.values(x))[0], x)

    def _with_priors(self, likelihood: np.ndarray, x: np.ndarray) -> np.ndarray:
        if not self.priors.n_residuals:
            return likelihood
        return np.concatenate([likelihood, self.priors.residuals(x)])

    def nlprior(self, x: np.ndarray) -> float:
        """The negative log-prior at ``x`` (0 without objective priors; ``inf`` outside a uniform prior's support)."""
        return self.priors.value(x)

    def nlpost(self, x: np.ndarray) -> float:
        """The negative log-posterior ``nllh + nlprior`` at ``x``: the value the optimiser minimises."""
        return self.nllh(x) + self.nlprior(x)

    def simulation(self, x: np.ndarray) -> np.ndarray:
        """Simulated value of every measurement row at ``x`` (linear scale; NaN where a solve failed)."""
        return observe(self.problem, self.solve(x), self.values(x))

    def nllh(self, x: np.ndarray) -> float:
        """The PEtab nllh at ``x``, priors not included (``inf`` where the simulation failed or is invalid)."""
        res = self._residuals_from(self.solve(x), self.values(x))[0]
        if not np.all(np.isfinite(res)):
            return math.inf
        n = self.problem.measurement.size
        if np.any(res[n:] == 0.0):  # sigma at or below SIGMA_FLOOR: the residual form is clipped, value exactly
            return petab_nllh(self.problem, self.simulation(x), self.values(x), self.solve(x))
        return 0.5 * float(res @ res) + self._const

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Jacobian d residuals / d x.

        Formula-only columns (scales, offsets, sigmas) are exact (the formulas' sympy derivatives). The columns
        that need an ODE solve come from forward sensitivities (``gradient="exact"``) or from differences.
        """
        x = np.asarray(x, dtype=float)
        base_solutions = self.solve(x)
        values = self.values(x)
        states = self._states(base_solutions)
        ode = np.flatnonzero(self.needs_solve)
        d_states = None
        if ode.size and self.gradient_method == "exact" and not any(isinstance(s, str) for s in base_solutions):
            d_states = self._sensitivities_uncached(x)
        columns = np.arange(x.size) if d_states is not None else np.flatnonzero(~self.needs_solve)
        base, _, jac_part = self._residual_parts(states, self._formulas.value_vector(values), columns, d_states)
        jac = np.zeros((base.size, x.size))
        jac[:, columns] = jac_part
        if d_states is None:
            for j in ode:
                jac[:, j] = self._solve_column(x, int(j), base)
        jac[~np.isfinite(jac)] = 0.0
        if self.priors.n_residuals:
            jac = np.vstack([jac, self.priors.jacobian(x)])
        return jac

    def _sensitivities_uncached(self, x: np.ndarray) -> np.ndarray | None:
        """(rows x selected ids x dim) derivatives of the model quantities by x, or None (not available here).

        One integration of the augmented model per experiment; a fit's budget counts it as one solve.
        """
        values = self.values(x)
        found = self._sensitivities()
        if isinstance(found, str):
            return None
        self.counts.sensitivity_solves += 1
        per_experiment = found.compute(values, dict(zip(self.ids, self.scales, strict=True)), SENSITIVITY_OPTIONS)
        if any(isinstance(s, str) for s in per_experiment):
            return None  # a failed sensitivity solve: this Jacobian by differences
        formulas = self._formulas
        ode = np.flatnonzero(self.needs_solve)
        out = np.zeros((formulas.n, len(formulas.select), self.dim))
        rows_ode = formulas.gather_derivatives(per_experiment)
        out[:, :, ode] = rows_ode
        return out

    def formula_column(self, solutions: tuple, x: np.ndarray, j: int) -> np.ndarray:
        """Central difference of the residuals in parameter ``j`` on given ODE solutions (no solve)."""
        h = _FD_FORMULA * self._step_scale(x, j)
        plus, minus = x.copy(), x.copy()
        plus[j] += h
        minus[j] -= h
        rp = self._residuals_from(solutions, self.values(plus))[0]
        rm = self._residuals_from(solutions, self.values(minus))[0]
        return (rp - rm) / (2.0 * h)

    def _step_scale(self, x: np.ndarray, j: int) -> float:
        """Steps are absolute on log scales (a relative change of the linear value), relative on lin."""
        return max(1.0, abs(x[j])) if self.scales[j] == "lin" else 1.0

    def _solve_column(self, x: np.ndarray, j: int, base: np.ndarray) -> np.ndarray:
        """One column by differences that solve the ODEs; steps stay inside the bounds."""
        h = (_FD_SIM_CENTRAL if self.central else _FD_SIM) * self._step_scale(x, j)
        up_room, down_room = self.upper[j] - x[j], x[j] - self.lower[j]
        if self.central and up_room >= h and down_room >= h:
            plus, minus = x.copy(), x.copy()
            plus[j] += h
            minus[j] -= h
            return (self._residuals_uncached(plus) - self._residuals_uncached(minus)) / (2.0 * h)
        step = h if up_room >= h or up_room >= down_room else -h
        moved = x.copy()
        moved[j] += step
        col = (self._residuals_uncached(moved) - base) / step
        if not np.all(np.isfinite(col)):  # the forward point failed: try the other side
            moved[j] = x[j] - step
            col = (self._residuals_uncached(moved) - base) / -step
        return col

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Gradient d nlpost / d x = J^T res (d nllh / d x without priors)."""
        return self.jacobian(x).T @ self.residuals(x)


class _Hierarchical:
    """Variable projection: the formula-only parameters are optimised in an inner problem at every point.

    Why: scale factors, offsets and noise parameters (all that enter only the observable and noise formulas)
    need no ODE solve, so for a given solution of the ODEs their optimum is cheap to find. The outer optimiser
    then sees ``min over inner of nllh(outer, inner)`` as a function of the ODE parameters alone (12 instead of
    22 on Fiedler), without the valleys that couple scales to sigmas. Residuals are those at the inner optimum;
    the Jacobian is the Gauss-Newton variable-projection one (Kaufman 1975): ``J_o - J_i pinv(J_i) J_o`` over
    the inner parameters not at a bound (whose optimum moves with the outer parameters), i.e. the total
    derivative with ``d inner*/d outer = -(J_i^T J_i)^-1 J_i^T J_o``.
    """

    def __init__(self, objective: Objective, x0: np.ndarray) -> None:
        self.obj = objective
        self.outer = np.flatnonzero(objective.outer_mask)
        self.inner = np.flatnonzero(~objective.outer_mask)
        self.full = np.asarray(x0, dtype=float).copy()  # the inner part is the warm start of the next inner solve
        formulas = objective._formulas
        # Newton on the inner nllh with its exact Hessian: normal noise, noise formulas that do not read y
        self.newton = not (formulas.noise_reads_observable or objective._laplace.any())
        self._key: bytes | None = None

    def expand(self, xo: np.ndarray) -> np.ndarray:
        """Full vector at outer ``xo`` with the inner parameters at their optimum (solved if needed)."""
        key = np.asarray(xo, dtype=float).tobytes()
        if key != self._key:
            full = self.full.copy()
            full[self.outer] = xo
            solutions = self.obj.solve(full)
            full[self.inner] = self._inner_optimum(solutions, full)
            self.full, self._key = full, key
        return self.full

    def _inner_optimum(self, solutions: tuple, full: np.ndarray) -> np.ndarray:
        obj, inner = self.obj, self.inner
        if any(isinstance(s, str) for s in solutions):  # a failed solve: residuals are NaN whatever the inner part
            return full[inner]

        states = obj._states(solutions)
        v0 = obj._formulas.value_vector(obj.values(full))
        vpos, scales = obj._vpos[inner], [obj.scales[j] for j in inner]
        last: dict = {}

        def parts(xi: np.ndarray) -> dict:
            key = np.asarray(xi, dtype=float).tobytes()
            if last.get("key") != key:
                v = v0.copy()
                v[vpos] = to_linear(xi, scales)
                res, _, jac = obj._residual_parts(states, v, inner)
                last.update(key=key, res=res, jac=jac)
            return last

        def fun(xi):
            return parts(xi)["res"]

        def jac(xi):
            return parts(xi)["jac"]

        lower, upper = obj.lower[inner], obj.upper[inner]
        start = np.clip(full[inner], lower, upper)
        if not np.all(np.isfinite(fun(start))):
            return start
        outcome, newton = ("fail", start)
        if self.newton:
            outcome, newton = _newton_inner(obj, states, v0, inner, start)
            if outcome == "ok":
                return newton
        # from Newton's point, except on a plateau (restart from the start, keep the better of the two)
        sol = least_squares(fun, start if outcome == "flat" else newton, jac=jac, bounds=(lower, upper),
                            method="trf", x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=200)
        if outcome == "flat" and float(fun(newton) @ fun(newton)) < float(fun(sol.x) @ fun(sol.x)):
            return newton
        return sol.x

    def residuals(self, xo: np.ndarray) -> np.ndarray:
        return self.obj.residuals(self.expand(xo))

    def jacobian(self, xo: np.ndarray) -> np.ndarray:
        full = self.expand(xo)
        jac = self.obj.jacobian(full)
        jo, ji = jac[:, self.outer], jac[:, self.inner]
        span = self.obj.upper[self.inner] - self.obj.lower[self.inner]
        free = ((full[self.inner] - self.obj.lower[self.inner] > 1e-8 * span)
                & (self.obj.upper[self.inner] - full[self.inner] > 1e-8 * span))
        if free.any():
            jf = ji[:, free]
            jo = jo - jf @ np.linalg.lstsq(jf, jo, rcond=None)[0]
        return jo


_LN10 = math.log(10.0)


def _newton_inner(obj: Objective, states: np.ndarray, v0: np.ndarray, inner: np.ndarray,
                  x: np.ndarray, max_iter: int = 100) -> tuple[str, np.ndarray]:
    """(outcome, last point): projected Newton on the inner nllh with its exact Hessian.

    Outcomes: ``"ok"`` a strict interior minimum; ``"bound"`` converged at a bound; ``"flat"`` converged where the
    Hessian is singular (a plateau, e.g. a scale so small that its observable is ~0: the optimum may lie at a
    bound); ``"fail"`` no convergence or no descent.

    Why: the inner problem is solved at every outer point; trust-region least squares on the residual form needed
    ~20 (warm start) to ~80 (cold) evaluations, because the Gauss-Newton model of the noise term
    ``sqrt(2 log sigma + C)`` is poor. The exact Hessian (the formulas' second derivatives, chained to the scaled
    parameters) converges in a few steps. Unless the outcome is ``"ok"`` the caller finishes with
    ``least_squares``, which treats bounds properly.
    """
    formulas = obj._formulas
    pos = obj._vpos[inner]
    scales = [obj.scales[j] for j in inner]
    is_log, is_log10 = obj._hprime_log, obj._hprime_log10
    hm = obj._hm
    lower, upper = obj.lower[inner], obj.upper[inner]
    span = upper - lower

    def evaluate(xi: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        v = v0.copy()
        lin = to_linear(xi, scales)
        v[pos] = lin
        y, sig, yv, sv, yvv, svv = formulas.second_order(states, v, pos)
        c = np.array([_chain(val, sc) for val, sc in zip(lin, scales, strict=True)])
        cp = np.array([val * _LN10**2 if sc == "log10" else val if sc == "log" else 0.0
                       for val, sc in zip(lin, scales, strict=True)])
        yx, sx = yv * c, sv * c
        cc = np.outer(c, c)
        yxx = yvv * cc + yv[:, :, None] * np.eye(c.size) * cp
        sxx = svv * cc + sv[:, :, None] * np.eye(c.size) * cp
        with np.errstate(divide="ignore", invalid="ignore"):
            hy = np.where(is_log, np.log(y), np.where(is_log10, np.log10(y), y))
            h1 = np.where(is_log, 1.0 / y, np.where(is_log10, 1.0 / (y * _LN10), 1.0))
            h2 = np.where(is_log, -1.0 / y**2, np.where(is_log10, -1.0 / (y**2 * _LN10), 0.0))
            r = (hm - hy) / sig
            f = float(np.sum(np.log(sig) + 0.5 * r**2))
            l_y, l_s = -r * h1 / sig, (1.0 - r**2) / sig
            l_yy, l_ys, l_ss = h1**2 / sig**2 - r * h2 / sig, 2.0 * r * h1 / sig**2, (3.0 * r**2 - 1.0) / sig**2
        g = yx.T @ l_y + sx.T @ l_s
        hess = ((yx * l_yy[:, None]).T @ yx + (yx * l_ys[:, None]).T @ sx + (sx * l_ys[:, None]).T @ yx
                + (sx * l_ss[:, None]).T @ sx + np.einsum("n,njk->jk", l_y, yxx) + np.einsum("n,njk->jk", l_s, sxx))
        if not (math.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(hess)) and np.all(sig > 0)):
            return math.inf, g, hess
        return f, g, hess

    f, g, hess = evaluate(x)
    if not math.isfinite(f):
        return "fail", x
    for _ in range(max_iter):
        at_lower, at_upper = x - lower <= 1e-12 * span, upper - x <= 1e-12 * span
        free = ~((at_lower & (g > 0)) | (at_upper & (g < 0)))
        step = np.zeros_like(x)
        if free.any():
            hf = hess[np.ix_(free, free)]
            eig = np.linalg.eigvalsh(hf)
            shift = 0.0 if eig[0] > 1e-10 * max(abs(eig[-1]), 1e-300) else abs(eig[0]) + 1e-8 * max(abs(eig[-1]), 1.0)
            step[free] = np.linalg.solve(hf + shift * np.eye(hf.shape[0]), -g[free])
        t = 1.0
        for _ in range(40):
            trial = np.clip(x + t * step, lower, upper)
            f_trial, g_trial, h_trial = evaluate(trial)
            if f_trial <= f + 1e-4 * float(g @ (trial - x)):
                break
            t *= 0.5
        else:
            return "fail", x
        moved = np.abs(trial - x)
        x, f, g, hess = trial, f_trial, g_trial, h_trial
        if np.all(moved <= 1e-10 * (1.0 + np.abs(x))):
            interior = bool(np.all((x - lower > 1e-8 * span) & (upper - x > 1e-8 * span)))
            # a strict minimum only: on a plateau (a scale so small that its observable is ~0) Newton stops where
            # the nllh is flat, and the optimum may lie at a bound; least_squares then restarts from the start
            eig = np.linalg.eigvalsh(hess)
            if eig[0] <= 1e-8 * max(1.0, abs(eig[-1])):
                return "flat", x
            return ("ok" if interior else "bound"), x
    return "fail", x


def make_objective(
    problem: PetabProblem,
    *,
    options: SolverOptions | None = None,
    fix: Mapping[str, float] | None = None,
    central: bool = False,
    gradient: str = "fd",
) -> Objective:
    """The objective of a PEtab problem: estimated parameters on their scales, the others fixed.

    Parameters
    ----------
    problem
        From :func:`~simulator.fit.load_petab`.
    options
        ODE solver settings (default :data:`DEFAULT_OPTIONS`).
    fix
        Estimated parameters to hold at a linear value instead (a profile fixes one at a time).
    central
        Central differences for the ODE columns of the Jacobian.
    gradient
        ``"exact"`` (forward sensitivities) or ``"fd"`` (differences) for the ODE columns.

    Returns
    -------
    Objective
        Callable for the nllh, residuals and Jacobian of the scaled vector of estimated parameters.

    Raises
    ------
    InputError
        No parameter is estimated; a scale is not lin/log/log10; a bound is missing, not ordered, or not
        positive on a log scale; an objective prior is invalid (unknown type, bad parameters: ``_priors.py``) or
        a uniform prior leaves no point inside the bounds; ``fix`` names an id that is not estimated.
    """
    df = problem.parameter_df
    where = str(problem.source)
    estimate = df["estimate"].astype(int) == 1 if "estimate" in df.columns else pd.Series(False, index=df.index)
    ids, scales, lower, upper = [], [], [], []
    problems = []
    for pid, row in df[estimate].iterrows():
        scale = "lin" if petab_v1.is_empty(row.get("parameterScale")) else str(row["parameterScale"])
        lo, hi = float(row.get("lowerBound", math.nan)), float(row.get("upperBound", math.nan))
        if scale not in _SCALES:
            problems.append(f"{pid}: parameterScale {scale!r} (valid: {', '.join(_SCALES)})")
        elif not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            problems.append(f"{pid}: bounds [{lo}, {hi}] (need finite lowerBound < upperBound)")
        elif scale != "lin" and lo <= 0:
            problems.append(f"{pid}: lowerBound {lo} must be > 0 on a {scale} scale")
        ids.append(str(pid))
        scales.append(scale)
        lower.append(lo)
        upper.append(hi)
    if problems:
        raise InputError(f"parameter table of PEtab problem {where!r}: " + "; ".join(problems) + ".")
    fix = dict(fix or {})
    unknown = sorted(set(fix) - set(ids))
    if unknown:
        raise InputError(f"cannot fix {unknown}: not estimated parameters of {where!r}; estimated: {', '.join(ids)}.")
    fixed = {pid: v for pid, v in problem.nominal.items() if pid not in ids}
    keep = [i for i, pid in enumerate(ids) if pid not in fix]
    if not keep:
        raise InputError(f"PEtab problem {where!r} has no estimated parameter left to fit.")
    fixed.update({k: float(v) for k, v in fix.items()})
    scales_kept = tuple(scales[i] for i in keep)
    ids_kept = tuple(ids[i] for i in keep)
    priors = problem_priors(df, ids_kept, {k: float(v) for k, v in fix.items()})
    # a uniform prior is a box: its support narrows the bounds (its density is a constant inside)
    box_lower, box_upper = priors.box(to_scaled(np.array([lower[i] for i in keep]), scales_kept),
                                      to_scaled(np.array([upper[i] for i in keep]), scales_kept))
    empty = [pid for pid, lo, hi in zip(ids_kept, box_lower, box_upper, strict=True) if not lo < hi]
    if empty:
        raise InputError(f"parameter table of PEtab problem {where!r}: the uniform objective prior of "
                         f"{', '.join(empty)} has no point strictly inside the parameter bounds.")
    return Objective(
        problem=problem,
        ids=ids_kept,
        scales=scales_kept,
        lower=box_lower,
        upper=box_upper,
        fixed=MappingProxyType(fixed),
        options=options or DEFAULT_OPTIONS,
        central=central,
        gradient_method=gradient,
        priors=priors,
    )


@lru_cache(maxsize=4)
def _load_cached(path: str, content_sha256: str) -> PetabProblem:
    """The problem at ``path``, loaded once per content (the key is :func:`_problem_sha256`, not a timestamp)."""
    return load_petab(path)


def _problem_sha256(yaml_path: Path) -> str:
    """sha256 of a PEtab problem's YAML and of every file it names (SBML, conditions, measurements, ...).

    Why every file: a long-lived process (a notebook, a Dask worker) that caches problems by the YAML alone fits
    stale data after the measurement table is edited. Files are hashed in the order the YAML names them; a missing
    one counts as its name (loading it then fails with petab's message).
    """
    import yaml

    digest = hashlib.sha256()
    text = yaml_path.read_bytes()
    digest.update(text)
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return digest.hexdigest()  # not readable: load_petab says why
    names = [doc.get("parameter_file")] if isinstance(doc, dict) else []
    for entry in (doc.get("problems") or []) if isinstance(doc, dict) else []:
        if isinstance(entry, dict):
            for key in sorted(entry):
                value = entry[key]
                names += value if isinstance(value, list) else [value]
    for name in names:
        if not isinstance(name, str):
            continue
        path = yaml_path.parent / name
        digest.update(name.encode("utf-8"))
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def objective_for(yaml_path: str | Path, options: SolverOptions | None = None,
                  fix: Mapping[str, float] | None = None, central: bool = False,
                  gradient: str = "fd") -> Objective:
    """:func:`make_objective` of a problem file, loading each file once per process (worker side).

    Parameters
    ----------
    yaml_path
        The problem's YAML file.
    options
        ODE solver settings.
    fix
        Estimated parameters to hold at a linear value.
    central
        Central differences for the ODE columns of the Jacobian.
    gradient
        ``"exact"`` or ``"fd"`` (:func:`make_objective`).

    Returns
    -------
    Objective
        As :func:`make_objective` returns it (the problem is reloaded only when one of its files changed).
    """
    path = Path(yaml_path).resolve()
    if not path.is_file():
        raise InputError(f"PEtab problem file {str(path)!r} does not exist or is not a file.")
    problem = _load_cached(str(path), _problem_sha256(path))
    return make_objective(problem, options=options, fix=fix, central=central, gradient=gradient)
