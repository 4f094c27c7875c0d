"""Fitting PEtab problems: the objective on parameter scales, multistart least squares, ensembles.

Why this module exists: the fitting issue asks for the PEtab negative log-likelihood *exactly* (so our numbers
compare with every other PEtab tool) minimised from many Latin-hypercube starts, in parallel through the same
executors as screens, with the parameter vectors that fit about as well as the best one handed on to
``mekisim screen --ensemble``.

The objective (:class:`Objective`)
    The optimiser works on the vector ``x`` of *estimated* parameters (``estimate = 1``) on their
    ``parameterScale`` (lin, log, log10), bounded by the table's bounds on that scale; every other
    parameter-table id stays at its ``nominalValue``. ``x`` is mapped to linear values, the experiments are
    solved (:func:`~simulator.petab_problem.solve_experiments`) and the observable and noise formulas
    evaluated. The value is ``petab_nllh`` (normal and laplace noise, lin/log/log10 transformations,
    normalisation constants included), checked against it in the tests.

Residual formulation for :func:`scipy.optimize.least_squares`
    ``nllh = 0.5 * sum(res**2) + const``, with per measurement ``res = r`` (normal) or
    ``sign(r) * sqrt(2|r|)`` (laplace), ``r = (h(m) - h(y)) / sigma``, and one more residual per measurement
    ``sqrt(2*n + C)`` for the noise normalisation ``n = 0.5*log(2*pi*sigma**2)`` (normal) or ``log(2*sigma)``
    (laplace), which depends on estimated noise parameters. ``C`` (:data:`SIGMA_OFFSET`) keeps the root's
    argument positive down to sigma = :data:`SIGMA_FLOOR`; a larger ``C`` also makes the Gauss-Newton curvature
    of these terms (``1/(2n + C)`` instead of the exact 0) negligible. The Jacobian of ``log m`` from the
    transformations and ``-C/2`` per measurement go into ``const``. A point where sigma falls below the floor
    is still valued exactly (:meth:`Objective.nllh` falls back to ``petab_nllh``).

Jacobian (:meth:`Objective.jacobian`): better than naive finite differences where it pays
    Columns of parameters that change an ODE solution (model parameters, condition-table references) are
    central differences, two solves each (step 1e-4 on log scales; :class:`FitSettings` ``central``), or
    forward differences, one solve each. Columns of parameters that enter only the observable and noise
    formulas (scale factors, offsets, sigmas: 10 of Fiedler's 22 estimated parameters) are central differences
    of the formulas on the *cached* solution of the current point, costing no ODE solve at all: a central
    Jacobian of Fiedler costs 24 solves instead of 44. roadrunner 2.10's forward sensitivities
    (``timeSeriesSensitivities``) were measured and do not pay: on Boehm one call for the 6 kinetic parameters
    took 53 ms (best of 5, fresh RoadRunner each, max steps raised to 100,000; the default 20,000 failed) where
    this central Jacobian took 32 ms (13 solves), same process, loaded machine; a second call after ``reset()``
    failed with CV_TOO_MUCH_WORK. They also give only evenly spaced output times and ignore pre-equilibration
    and parameter-dependent initial assignments (Fiedler's initial state depends on its parameters).

Hierarchical optimisation (:class:`_Hierarchical`, default)
    When a problem has both kinds of parameters, the formula-only ones are optimised in an inner problem
    at every outer point (cheap: no ODE solve) and the outer least squares sees only the ODE parameters, with
    the variable-projection Jacobian. Measured on starts 0-3 of the benchmark's hypercube (seed 0, 30 starts)
    of Boehm and Fiedler: 6 of 8 ended by convergence (ftol/xtol); with the joint problem the *median* start of
    both problems (30 each) used up all 500 evaluations.

Multistart (:func:`fit_petab`)
    Starts are a Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`, seeded) over the scaled bounds;
    each start is one task for an :class:`~simulator.executor.Executor` (serial, process pool or Dask), run
    by the module-level worker :func:`_fit_start`, which loads the problem from its YAML file once per process.
    A start that fails (no finite objective at its start point, an exception) is a recorded ``status``, not a
    crash.

Ensemble (:meth:`FitResult.ensemble`)
    The starts whose final nllh is within :data:`THRESHOLD_95` = chi2_1(0.95)/2 = 1.92 of the best. Why this
    threshold: it is the likelihood-ratio bound of a 95 % confidence interval for one parameter (the same
    threshold as the profiles in :mod:`simulator.profile`), and Grein et al.'s criterion for an optimiser run
    that "solved" a benchmark problem (REFERENCE.md); fits within it cannot be told apart by the data at that
    level. It is a pointwise, not a simultaneous (chi2 with one dof per parameter), region, so the ensemble is
    conservative (narrow). Only model-parameter columns are written (linear scale), so ``load_ensemble`` and
    ``mekisim screen --ensemble`` accept the file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import petab.v1 as petab_v1
from scipy.optimize import least_squares
from scipy.stats import chi2, qmc

from .engine import SolverOptions
from .errors import InputError
from .executor import Executor, SerialExecutor
from .petab_problem import (
    PetabProblem,
    load_petab,
    noise_sigma,
    observe,
    petab_nllh,
    solve_experiments,
)
from .store import write_table

__all__ = [
    "DEFAULT_OPTIONS",
    "SIGMA_FLOOR",
    "SIGMA_OFFSET",
    "THRESHOLD_95",
    "FitResult",
    "FitSettings",
    "Objective",
    "StartResult",
    "fit_petab",
    "fit_vs_data",
    "latin_hypercube_starts",
    "make_objective",
    "objective_for",
    "run_start",
    "to_linear",
    "to_scaled",
    "write_fit_tables",
]

#: 95 % likelihood-ratio threshold for one parameter: chi2_1(0.95) / 2 = 1.9207 (nllh units)
THRESHOLD_95 = float(chi2.ppf(0.95, 1) / 2.0)
#: Tight tolerances: finite differences with steps of 1e-4 (central) or 1e-5 (forward) need ODE errors far below
#: them, and the benchmark's values need rtol <= 1e-8 (REFERENCE.md); at rtol 1e-8/atol 1e-10 Fiedler's nllh was
#: still 2e-3 off.
#: max_steps 20,000 per output interval: random starts far from the data can make a model so stiff that one
#: solve takes seconds; such a point is better rejected (NaN residuals shrink the trust region) than waited for.
DEFAULT_OPTIONS = SolverOptions(rtol=1e-10, atol=1e-12, max_steps=20_000)
#: Smallest sigma for which the residual form of the noise normalisation is exact (see the module docstring).
SIGMA_FLOOR = 1e-30
#: C in sqrt(2n + C): 2n >= -C for every sigma >= SIGMA_FLOOR (normal noise; laplace is looser).
SIGMA_OFFSET = -math.log(2.0 * math.pi * SIGMA_FLOOR**2) + 1.0
_SCALES = ("lin", "log", "log10")
_FD_SIM = 1e-5  # forward-difference step (scaled units) for columns that need an ODE solve
_FD_SIM_CENTRAL = 1e-4  # central-difference step for those, ~ (ODE error)^(1/3)
_FD_FORMULA = 1e-6  # central-difference step for formula-only columns (no solve; machine-precision arithmetic)


# ------------------------------------------------------------------------------------------ the objective


@dataclass
class _Counts:
    """Mutable counters of one objective: evaluations and ODE solves (instrumentation only)."""

    solves: int = 0


def to_linear(x: np.ndarray, scales: Sequence[str]) -> np.ndarray:
    """Scaled values -> linear values (lin: x, log: e^x, log10: 10^x)."""
    x = np.asarray(x, dtype=float)
    return np.array([v if s == "lin" else math.exp(v) if s == "log" else 10.0**v for v, s in zip(x, scales,
                                                                                              strict=True)])


def to_scaled(values: np.ndarray, scales: Sequence[str]) -> np.ndarray:
    """Linear values -> scaled values; ``-inf`` for 0 on a log scale (an unbounded lower bound)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore"):
        return np.array([v if s == "lin" else np.log(v) if s == "log" else np.log10(v)
                         for v, s in zip(values, scales, strict=True)], dtype=float)


@dataclass(frozen=True, eq=False)
class Objective:
    """The PEtab nllh as a function of the scaled vector of estimated parameters.

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
    """

    problem: PetabProblem
    ids: tuple[str, ...]
    scales: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    fixed: Mapping[str, float]
    options: SolverOptions = DEFAULT_OPTIONS
    central: bool = False
    needs_solve: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    counts: _Counts = field(default_factory=_Counts, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
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

    @property
    def dim(self) -> int:
        """Number of estimated parameters."""
        return len(self.ids)

    @property
    def n_residuals(self) -> int:
        """Length of :meth:`residuals`: two per measurement (data, noise normalisation)."""
        return 2 * self.problem.measurement.size

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
            self._cache.update(key=key, solutions=self._solve_uncached(x))
        return self._cache["solutions"]

    def _solve_uncached(self, x: np.ndarray) -> tuple:
        self.counts.solves += 1
        return solve_experiments(self.problem, self.values(x), options=self.options)

    def _residuals_uncached(self, x: np.ndarray) -> np.ndarray:
        return self._residuals_from(self._solve_uncached(x), self.values(x))[0]

    def _residuals_from(self, solutions: tuple, values: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(residuals, simulation); residuals are NaN where the simulation failed or is invalid."""
        sim = observe(self.problem, solutions, values)
        sigma = noise_sigma(self.problem, sim, values)
        t = self._transformation
        with np.errstate(divide="ignore", invalid="ignore"):
            hy = np.where(t == "log", np.log(sim), np.where(t == "log10", np.log10(sim), sim))
            r = (self._hm - hy) / sigma
            data = np.where(self._laplace, np.sign(r) * np.sqrt(2.0 * np.abs(r)), r)
            norm = np.where(self._laplace, np.log(2.0 * sigma), 0.5 * np.log(2.0 * math.pi * sigma**2))
            noise = np.sqrt(np.maximum(2.0 * norm + SIGMA_OFFSET, 0.0))
        noise[~np.isfinite(norm) | (sigma <= 0)] = np.nan
        return np.concatenate([data, noise]), sim

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Residual vector at ``x``: ``nllh = 0.5 * sum(res**2) + const`` (module docstring)."""
        return self._residuals_from(self.solve(x), self.values(x))[0]

    def simulation(self, x: np.ndarray) -> np.ndarray:
        """Simulated value of every measurement row at ``x`` (linear scale; NaN where a solve failed)."""
        return observe(self.problem, self.solve(x), self.values(x))

    def nllh(self, x: np.ndarray) -> float:
        """The PEtab nllh at ``x`` (``inf`` where the simulation failed or is invalid)."""
        res = self.residuals(x)
        if not np.all(np.isfinite(res)):
            return math.inf
        n = self.problem.measurement.size
        if np.any(res[n:] == 0.0):  # sigma at or below SIGMA_FLOOR: the residual form is clipped, value exactly
            return petab_nllh(self.problem, self.simulation(x), self.values(x))
        return 0.5 * float(res @ res) + self._const

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Jacobian d residuals / d x by finite differences, ODE solves only for the columns that need them."""
        x = np.asarray(x, dtype=float)
        base_solutions = self.solve(x)
        base = self._residuals_from(base_solutions, self.values(x))[0]
        jac = np.zeros((base.size, x.size))
        for j in range(x.size):
            if self.needs_solve[j]:
                jac[:, j] = self._solve_column(x, j, base)
            else:
                jac[:, j] = self.formula_column(base_solutions, x, j)
        jac[~np.isfinite(jac)] = 0.0
        return jac

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
        """Gradient d nllh / d x = J^T res."""
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
        self.outer = np.flatnonzero(objective.needs_solve)
        self.inner = np.flatnonzero(~objective.needs_solve)
        self.full = np.asarray(x0, dtype=float).copy()  # the inner part is the warm start of the next inner solve
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

        def fun(xi):
            x = full.copy()
            x[inner] = xi
            return obj._residuals_from(solutions, obj.values(x))[0]

        def jac(xi):
            x = full.copy()
            x[inner] = xi
            out = np.column_stack([obj.formula_column(solutions, x, j) for j in inner])
            out[~np.isfinite(out)] = 0.0
            return out

        start = np.clip(full[inner], obj.lower[inner], obj.upper[inner])
        if not np.all(np.isfinite(fun(start))):
            return start
        sol = least_squares(fun, start, jac=jac, bounds=(obj.lower[inner], obj.upper[inner]), method="trf",
                            x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=200)
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


def make_objective(
    problem: PetabProblem,
    *,
    options: SolverOptions | None = None,
    fix: Mapping[str, float] | None = None,
    central: bool = False,
) -> Objective:
    """The objective of a PEtab problem: estimated parameters on their scales, the others fixed.

    Parameters
    ----------
    problem
        From :func:`~simulator.petab_problem.load_petab`.
    options
        ODE solver settings (default :data:`DEFAULT_OPTIONS`).
    fix
        Estimated parameters to hold at a linear value instead (a profile fixes one at a time).
    central
        Central differences for the ODE columns of the Jacobian.

    Raises
    ------
    InputError
        No parameter is estimated; a scale is not lin/log/log10; a bound is missing, not ordered, or not
        positive on a log scale; the problem has objective priors (not part of the PEtab nllh); ``fix`` names
        an id that is not estimated.
    """
    df = problem.parameter_df
    where = str(problem.source)
    if "objectivePriorType" in df.columns and not all(petab_v1.is_empty(v) for v in df["objectivePriorType"]):
        raise InputError(f"PEtab problem {where!r} has objective priors (objectivePriorType); priors are not "
                         "supported by the fitter (the objective is the likelihood only).")
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
    return Objective(
        problem=problem,
        ids=tuple(ids[i] for i in keep),
        scales=scales_kept,
        lower=to_scaled(np.array([lower[i] for i in keep]), scales_kept),
        upper=to_scaled(np.array([upper[i] for i in keep]), scales_kept),
        fixed=MappingProxyType(fixed),
        options=options or DEFAULT_OPTIONS,
        central=central,
    )


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> PetabProblem:
    return load_petab(path)


def objective_for(yaml_path: str | Path, options: SolverOptions | None = None,
                  fix: Mapping[str, float] | None = None, central: bool = False) -> Objective:
    """:func:`make_objective` of a problem file, loading each file once per process (worker side)."""
    path = Path(yaml_path).resolve()
    if not path.is_file():
        raise InputError(f"PEtab problem file {str(path)!r} does not exist or is not a file.")
    problem = _load_cached(str(path), path.stat().st_mtime_ns)
    return make_objective(problem, options=options, fix=fix, central=central)


# ------------------------------------------------------------------------------------------ optimisation


@dataclass(frozen=True)
class FitSettings:
    """How each start is optimised (:func:`scipy.optimize.least_squares`, trust-region reflective).

    ``max_nfev`` bounds the residual evaluations per start (each iteration costs one plus a Jacobian);
    ``ftol``/``xtol``/``gtol`` and ``x_scale`` are least_squares' settings (``"jac"`` was better than 1.0 on
    Fiedler: 1 vs 0 of 6 starts near the optimum); ``central`` picks central differences for the ODE columns
    of the Jacobian (default: forward differences with step 1e-5 left errors of 0.3 in Fujita's gradient of
    size 2 at the optimum, central ones 0.02); ``hierarchical`` optimises the formula-only parameters (scales,
    offsets, sigmas) in an inner problem at every point (:class:`_Hierarchical`, variable projection) when the
    problem has both kinds; ``resample`` is how many uniform redraws a start point gets
    when the model cannot be simulated there (as pyPESTO's startpoint resampling); ``options`` are the ODE
    solver settings.
    """

    options: SolverOptions = DEFAULT_OPTIONS
    max_nfev: int = 500
    ftol: float = 1e-10
    xtol: float = 1e-10
    gtol: float = 1e-10
    central: bool = True
    x_scale: str | float = "jac"
    resample: int = 20
    hierarchical: bool = True

    def __post_init__(self) -> None:
        if self.max_nfev < 1:
            raise InputError(f"max_nfev must be >= 1, not {self.max_nfev!r}.")
        if self.resample < 0:
            raise InputError(f"resample must be >= 0, not {self.resample!r}.")
        for name in ("ftol", "xtol", "gtol"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise InputError(f"{name} must be a finite number >= 0, not {value!r}.")


@dataclass(frozen=True)
class StartResult:
    """One optimiser run. ``x0``/``x`` are scaled vectors in the order of :attr:`FitResult.ids`."""

    start: int
    x0: tuple[float, ...]
    x: tuple[float, ...]
    nllh0: float
    nllh: float
    status: str
    message: str
    n_fev: int
    n_jev: int
    n_solves: int
    time_s: float
    optimality: float = math.nan
    resampled: int = 0

    @property
    def ok(self) -> bool:
        """True when the optimiser ran and ended at a finite objective."""
        return self.status == "ok"


def run_start(objective: Objective, x0: np.ndarray, settings: FitSettings, start: int = 0,
              rng: np.random.Generator | None = None) -> StartResult:
    """Optimise from ``x0`` with bounded least squares; a failure is a recorded status, not an exception.

    When the objective is not finite at ``x0`` and ``rng`` is given, up to ``settings.resample`` uniform
    redraws within the bounds are tried first; ``StartResult.resampled`` counts them.
    """
    t0 = time.perf_counter()
    if objective.central != settings.central:  # the settings decide the differences, whoever built the objective
        objective = replace(objective, central=settings.central)
    solves0 = objective.counts.solves
    x0 = np.clip(np.asarray(x0, dtype=float), objective.lower, objective.upper)
    nllh0 = objective.nllh(x0)
    resampled = 0
    while not math.isfinite(nllh0) and rng is not None and resampled < settings.resample:
        resampled += 1
        x0 = rng.uniform(objective.lower, objective.upper)
        nllh0 = objective.nllh(x0)

    def record(x, nllh, status, message, nfev=0, njev=0, optimality=math.nan) -> StartResult:
        return StartResult(start, tuple(map(float, x0)), tuple(map(float, x)), float(nllh0), float(nllh), status,
                           message, int(nfev), int(njev), objective.counts.solves - solves0,
                           time.perf_counter() - t0, float(optimality), resampled)

    if not math.isfinite(nllh0):
        return record(x0, math.inf, "failed", f"no finite objective at the start point (simulation failed; "
                                              f"{resampled} redraws)")
    split = settings.hierarchical and 0 < int(objective.needs_solve.sum()) < objective.dim
    problem = _Hierarchical(objective, x0) if split else objective
    start_x = x0[problem.outer] if split else x0
    lower, upper = (objective.lower[problem.outer], objective.upper[problem.outer]) if split else (objective.lower,
                                                                                                   objective.upper)
    try:
        sol = least_squares(problem.residuals, start_x, jac=problem.jacobian, bounds=(lower, upper), method="trf",
                            x_scale=settings.x_scale, ftol=settings.ftol or None, xtol=settings.xtol or None,
                            gtol=settings.gtol or None, max_nfev=settings.max_nfev)
    except (ValueError, np.linalg.LinAlgError, ArithmeticError) as exc:
        return record(x0, math.inf, "failed", f"optimiser error: {type(exc).__name__}: {exc}")
    x = problem.expand(sol.x) if split else sol.x
    nllh = objective.nllh(x)
    if not math.isfinite(nllh):
        return record(x, math.inf, "failed", "no finite objective at the optimiser's end point")
    return record(x, nllh, "ok", str(sol.message), sol.nfev, sol.njev or 0, sol.optimality)


def latin_hypercube_starts(lower: np.ndarray, upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` start points, one Latin hypercube over the (scaled) box ``[lower, upper]``, reproducible by seed."""
    if n < 1:
        raise InputError(f"the number of starts must be >= 1, not {n}.")
    unit = qmc.LatinHypercube(d=len(lower), rng=np.random.default_rng(seed)).random(n)
    return qmc.scale(unit, lower, upper)


def _fit_start(payload: dict) -> StartResult:
    """Worker: one start of one problem (module level, so process pools and Dask can import it)."""
    start = payload["start"]
    try:
        objective = objective_for(payload["yaml"], payload["settings"].options, payload.get("fix"),
                                  payload["settings"].central)
        rng = np.random.default_rng([payload.get("seed", 0), start])  # redraws: reproducible per start
        return run_start(objective, np.asarray(payload["x0"]), payload["settings"], start, rng)
    except Exception as exc:  # noqa: BLE001 - one start never kills a run (architecture.md); recorded instead
        x0 = tuple(map(float, payload["x0"]))
        return StartResult(start, x0, x0, math.inf, math.inf, "failed", f"{type(exc).__name__}: {exc}", 0, 0, 0, 0.0)


@dataclass(frozen=True)
class FitResult:
    """A multistart fit: every start, best first (failed starts last).

    Attributes
    ----------
    source
        The PEtab YAML file.
    ids, scales, lower, upper
        Estimated parameters, their scales and scaled bounds.
    fixed
        Linear values of the parameters that were not estimated.
    model_parameter_ids
        The estimated ids that are parameters of the model (the columns of :meth:`ensemble`).
    starts
        :class:`StartResult` per start, sorted by final nllh.
    seed, settings, workers, elapsed_s
        How it was run.
    """

    source: Path
    ids: tuple[str, ...]
    scales: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    fixed: Mapping[str, float]
    model_parameter_ids: tuple[str, ...]
    starts: tuple[StartResult, ...]
    seed: int
    settings: FitSettings
    workers: int
    elapsed_s: float

    @property
    def best(self) -> StartResult:
        """The start with the lowest nllh (``status`` tells whether any succeeded)."""
        return self.starts[0]

    @property
    def n_ok(self) -> int:
        """Starts that ended at a finite objective."""
        return sum(s.ok for s in self.starts)

    def linear(self, start: StartResult | None = None) -> dict[str, float]:
        """Estimated parameters of ``start`` (default: the best) on linear scale."""
        s = start or self.best
        return dict(zip(self.ids, to_linear(np.array(s.x), self.scales).tolist(), strict=True))

    def within(self, threshold: float = THRESHOLD_95) -> tuple[StartResult, ...]:
        """Successful starts with ``nllh <= best + threshold``."""
        if not self.best.ok:
            return ()
        return tuple(s for s in self.starts if s.ok and s.nllh <= self.best.nllh + threshold)

    def to_frame(self) -> pd.DataFrame:
        """One row per start: start, rank, nllh, delta to the best, status, counts, time, linear values."""
        best = self.best.nllh if self.best.ok else math.nan
        rows = []
        for rank, s in enumerate(self.starts):
            rows.append({"start": s.start, "rank": rank, "nllh": s.nllh, "delta_nllh": s.nllh - best,
                         "nllh_start": s.nllh0, "status": s.status, "n_fev": s.n_fev, "n_jev": s.n_jev,
                         "n_solves": s.n_solves, "time_s": s.time_s, "optimality": s.optimality,
                         "resampled": s.resampled,
                         **self.linear(s), "message": s.message})
        return pd.DataFrame(rows)

    def parameter_table(self) -> pd.DataFrame:
        """Fitted parameters: id, scale, bounds (linear), best value (linear and scaled), at-bound flag."""
        x = np.array(self.best.x)
        lo, hi = np.array(self.lower), np.array(self.upper)
        span = hi - lo
        return pd.DataFrame({
            "parameterId": self.ids,
            "parameterScale": self.scales,
            "lowerBound": to_linear(lo, self.scales),
            "upperBound": to_linear(hi, self.scales),
            "estimate": to_linear(x, self.scales),
            "estimate_scaled": x,
            "at_bound": (x - lo < 1e-6 * span) | (hi - x < 1e-6 * span),
        })

    def ensemble(self, threshold: float = THRESHOLD_95, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Members within ``threshold`` of the best: ``member``, ``nllh``, model-parameter columns (linear).

        ``columns`` maps estimated ids to the model parameter each stands for (e.g. the blot problem's
        ``ksL_S462_R1`` -> ``ksL``, for an ensemble of one cell line); default: the estimated ids that are model
        parameters, under their own names. ``simulator.screen.load_ensemble`` drops ``member`` and ``nllh`` and
        applies the rest to the model.
        """
        columns = dict(columns) if columns is not None else {k: k for k in self.model_parameter_ids}
        unknown = sorted(set(columns) - set(self.ids))
        if unknown:
            raise InputError(f"ensemble columns {unknown} are not estimated parameters; "
                             f"estimated: {', '.join(self.ids)}.")
        rows = []
        for s in self.within(threshold):
            values = self.linear(s)
            rows.append({"member": s.start, "nllh": s.nllh, **{out: values[k] for k, out in columns.items()}})
        return pd.DataFrame(rows, columns=["member", "nllh", *columns.values()])

    def manifest_info(self) -> dict:
        """The ``"fit"`` entry of a manifest (what ``mekisim report`` reads): problem, best value, counts."""
        return {"problem": str(self.source), "estimated": list(self.ids),
                "model_parameters": list(self.model_parameter_ids), "best_nllh": self.best.nllh,
                "threshold": THRESHOLD_95, "starts": len(self.starts), "starts_ok": self.n_ok,
                "within_threshold": len(self.within()), "seed": self.seed, "max_nfev": self.settings.max_nfev,
                "workers": self.workers}

    def summary(self, reference: float | None = None, tolerance: float = 0.1) -> dict:
        """Counts and best value; with ``reference`` (a known optimum) the fraction of starts within ``tolerance``."""
        out = {"starts": len(self.starts), "ok": self.n_ok, "best_nllh": self.best.nllh,
               "within_threshold": len(self.within()), "threshold": THRESHOLD_95,
               "median_time_per_start_s": float(np.median([s.time_s for s in self.starts])),
               "elapsed_s": self.elapsed_s}
        if reference is not None:
            hits = [s for s in self.starts if s.ok and s.nllh <= reference + tolerance]
            out.update(reference=reference, tolerance=tolerance, hits=len(hits),
                       hit_fraction=len(hits) / len(self.starts))
        return out


def fit_petab(
    yaml_path: str | Path,
    *,
    starts: int = 20,
    seed: int = 0,
    executor: Executor | None = None,
    settings: FitSettings | None = None,
    x0: np.ndarray | None = None,
) -> FitResult:
    """Multistart fit of a PEtab problem.

    Parameters
    ----------
    yaml_path
        The problem's YAML file; every worker loads it (a loaded problem does not pickle), so Dask workers on
        other machines need it at the same path (a shared file system).
    starts
        Number of Latin-hypercube starts over the scaled bounds.
    seed
        Seed of the Latin hypercube: the same seed gives the same starts, hence the same fit.
    executor
        Where starts run (:func:`~simulator.executor.make_executor`); serial when ``None``.
    settings
        Optimiser and solver settings.
    x0
        Explicit start points (``starts x dim``, scaled) instead of the Latin hypercube.

    Returns
    -------
    FitResult
        Every start, best first.
    """
    settings = settings or FitSettings()
    path = Path(yaml_path).resolve()
    objective = objective_for(path, settings.options, central=settings.central)
    points = (latin_hypercube_starts(objective.lower, objective.upper, starts, seed) if x0 is None
              else np.atleast_2d(np.asarray(x0, dtype=float)))
    if points.shape[1] != objective.dim:
        raise InputError(f"start points have {points.shape[1]} columns; the problem estimates {objective.dim}.")
    executor = executor or SerialExecutor()
    payloads = [{"yaml": str(path), "start": i, "x0": p.tolist(), "settings": settings, "seed": seed}
                for i, p in enumerate(points)]
    t0 = time.perf_counter()
    results = executor.map(_fit_start, payloads)
    elapsed = time.perf_counter() - t0
    order = sorted(results, key=lambda s: (not s.ok, s.nllh if math.isfinite(s.nllh) else math.inf, s.start))
    model_ids = tuple(i for i in objective.ids if i in objective.problem.model.parameters)
    return FitResult(
        source=path, ids=objective.ids, scales=objective.scales, lower=tuple(objective.lower.tolist()),
        upper=tuple(objective.upper.tolist()), fixed=objective.fixed, model_parameter_ids=model_ids,
        starts=tuple(order), seed=seed, settings=settings, workers=getattr(executor, "workers", 1),
        elapsed_s=elapsed,
    )


# ------------------------------------------------------------------------------------------------- tables


def fit_vs_data(result: FitResult, start: StartResult | None = None) -> pd.DataFrame:
    """The measurement table with the simulated value and sigma of every row at a start's end point (best)."""
    start = start or result.best
    objective = objective_for(result.source, result.settings.options)
    x = np.array(start.x)
    table = objective.problem.petab.measurement_df.reset_index(drop=True).copy()
    simulation = objective.simulation(x)
    table["simulation"] = simulation
    table["sigma"] = noise_sigma(objective.problem, simulation, objective.values(x))
    return table


def write_fit_tables(result: FitResult, out_dir: str | Path,
                     ensembles: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """Write ``starts``, ``parameters``, ``fit_vs_data`` (CSV + Parquet) and the ensembles; return the paths.

    ``ensemble.csv`` is written only when some estimated parameter is a model parameter (otherwise there is
    nothing a screen could apply); ``ensembles`` adds ``ensemble_<name>.csv`` per entry, with the column
    mapping of :meth:`FitResult.ensemble` (one file per cell line of a blot fit).
    """
    out_dir = Path(out_dir)
    files = []
    tables = {"starts": result.to_frame(), "parameters": result.parameter_table()}
    if result.best.ok:
        tables["fit_vs_data"] = fit_vs_data(result)
    for stem, frame in tables.items():
        for suffix in (".csv", ".parquet"):
            files.append(write_table(frame, out_dir / f"{stem}{suffix}"))
    if result.model_parameter_ids and result.best.ok:
        files.append(write_table(result.ensemble(), out_dir / "ensemble.csv"))
    for name, columns in (ensembles or {}).items():
        if result.best.ok:
            files.append(write_table(result.ensemble(columns=columns), out_dir / f"ensemble_{name}.csv"))
    return files
