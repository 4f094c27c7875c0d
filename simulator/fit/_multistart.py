"""Multistart fitting: bounded least squares from Latin-hypercube starts, on any executor."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..engine import SolverOptions, forget_runners
from ..errors import InputError
from ..parallel import Executor, SerialExecutor
from ..status import Status
from ._objective import DEFAULT_OPTIONS, GRADIENTS, THRESHOLD_95, Objective, _Hierarchical, objective_for, to_linear
from ._optimizers import OPTIMIZERS, minimize
from ._petab_simulate import noise_sigma
from ._priors import prior_starts

#: Default wall time per start (s): a stiff random start ran 10-35 minutes with no budget (issue 18)
DEFAULT_MAX_TIME_S = 600.0

#: Default ODE solves per start: a Fiedler start of 150 evaluations needed ~3,750 (25 per central-difference
#: Jacobian); 500 evaluations of a 20-parameter problem need up to ~21,000
DEFAULT_MAX_SOLVES = 50_000

#: An end point is reproduced when a fresh solver gives its nllh to this relative tolerance (of max(1, |nllh|))
REPRODUCE_RTOL = 1e-6


class _BudgetExceeded(Exception):
    """Private: leaves least_squares when a start's budget is spent (raised before an ODE solve)."""


@dataclass(frozen=True)
class FitSettings:
    """How each start is optimised: the local optimiser, its limits, the derivatives, the budget.

    ``optimizer``: :func:`scipy.optimize.least_squares`' trust-region reflective ``"trf"``, or fides' trust region
    ``"fides"``/``"fides-hybrid"`` (:mod:`simulator.fit._optimizers`); the default is chosen by measurement
    (``benchmarks/RESULTS.md``, "Optimiser of a start": fides reached J* from as many Fiedler starts as trf and
    cost ~8x less CPU per Boehm start that reached J* + 1.92).

    ``max_nfev`` bounds the residual evaluations per start (trf: each iteration costs one plus a Jacobian; fides: the
    iterations, each one residual evaluation and one Jacobian); ``ftol``/``xtol``/``gtol`` and ``x_scale`` are
    least_squares' settings, used by ``"trf"`` only (``"jac"`` was better than 1.0 on Fiedler, 2 vs 0 of 20 starts at
    J*, worse on Boehm, 1 vs 4 of 30); ``central`` picks central differences for the ODE columns of the Jacobian
    (default: forward differences with step 1e-5 left errors of 0.3 in Fujita's gradient of size 2 at the optimum,
    central ones 0.02); ``hierarchical`` optimises the formula-only parameters (scales, offsets, sigmas) in an inner
    problem at every point (:class:`_Hierarchical`, variable projection) when the problem has both kinds; ``gradient``
    is how the columns of the ODE parameters are computed: ``"exact"`` forward sensitivities (pre-equilibration by the
    implicit-function theorem; a model they do not cover falls back to differences) or ``"fd"`` differences
    (``benchmarks/RESULTS.md`` compares both); ``resample`` is how many uniform redraws a start point gets when the
    model cannot be simulated there (as pyPESTO's startpoint resampling); ``options`` are the ODE solver settings
    (``options.max_steps`` caps CVODE's steps per output interval of one solve).

    The budget per start: ``max_time_s`` of wall time and ``max_solves`` ODE solves of the whole problem (every
    condition; a Jacobian by central differences costs two per ODE parameter). A start that exceeds either ends
    with status ``budget`` and its best point so far; the check runs before every solve, so the overshoot is at
    most one solve. ``reproduce_rtol``: the end point is re-simulated in a fresh solver, and a start whose two
    values differ by more than ``reproduce_rtol * max(1, |nllh|)`` is flagged ``not_reproduced`` and not ranked.
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
    gradient: str = "exact"
    optimizer: str = "fides"
    max_time_s: float = DEFAULT_MAX_TIME_S
    max_solves: int = DEFAULT_MAX_SOLVES
    reproduce_rtol: float = REPRODUCE_RTOL

    def __post_init__(self) -> None:
        if self.max_nfev < 1:
            raise InputError(f"max_nfev must be >= 1, not {self.max_nfev!r}.")
        if not self.max_time_s > 0:
            raise InputError(f"max_time_s (the wall time per start) must be > 0, not {self.max_time_s!r}.")
        if self.max_solves < 1:
            raise InputError(f"max_solves (ODE solves per start) must be >= 1, not {self.max_solves!r}.")
        if self.resample < 0:
            raise InputError(f"resample must be >= 0, not {self.resample!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}.")
        if self.gradient not in GRADIENTS:
            raise InputError(f"gradient must be one of {', '.join(GRADIENTS)}, not {self.gradient!r}.")
        for name in ("ftol", "xtol", "gtol"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise InputError(f"{name} must be a finite number >= 0, not {value!r}.")


@dataclass(frozen=True)
class StartResult:
    """One optimiser run. ``x0``/``x`` are scaled vectors in the order of :attr:`FitResult.ids`.

    ``nllh`` is the pure PEtab likelihood at ``x``; with objective priors the optimiser minimised
    :attr:`nlpost` ``= nllh + nlprior`` (starts are ranked by it; ``nllh0``/``nllh_fresh`` are likelihoods too).
    ``time_s`` is the start's wall time and ``cpu_s`` the CPU time of the process that ran it
    (:func:`time.process_time`) over the same span: on a shared machine the wall time grows with the load, the CPU
    time hardly (NaN in results written before it was recorded).
    """

    start: int
    x0: tuple[float, ...]
    x: tuple[float, ...]
    nllh0: float
    nllh: float
    status: Status
    message: str
    n_fev: int
    n_jev: int
    n_solves: int
    time_s: float
    optimality: float = math.nan
    resampled: int = 0
    nllh_fresh: float = math.nan
    nlprior: float = 0.0
    cpu_s: float = math.nan

    @property
    def nlpost(self) -> float:
        """The negative log-posterior ``nllh + nlprior`` (the optimised value; ``nllh`` without priors)."""
        return self.nllh + self.nlprior

    @property
    def ok(self) -> bool:
        """True when the optimiser ran and ended at a finite objective that a fresh solver reproduced."""
        return self.status == Status.OK


def run_start(objective: Objective, x0: np.ndarray, settings: FitSettings, start: int = 0,
              rng: np.random.Generator | None = None) -> StartResult:
    """Optimise from ``x0`` with bounded least squares; a failure is a recorded status, not an exception.

    What is minimised is the objective's residuals: ``nlpost = nllh + nlprior`` (the nllh alone without objective
    priors); the result records the likelihood ``nllh`` and the prior term ``nlprior`` apart.

    When the objective is not finite at ``x0`` and ``rng`` is given, up to ``settings.resample`` uniform
    redraws within the bounds are tried first; ``StartResult.resampled`` counts them.

    Parameters
    ----------
    objective
        The objective.
    x0
        Start point (scaled), inside the bounds.
    settings
        Optimiser settings.
    start
        The start's number (recorded).
    rng
        Generator for redraws of a start where the model cannot be simulated.

    Returns
    -------
    StartResult
        The end point, its nllh, the status with its message, and counts.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    # a new objective per start (replace: its own solution cache and counters), whose every ODE solve first
    # checks the budget; the settings decide the derivatives, whoever built the objective
    objective = replace(objective, central=settings.central, gradient_method=settings.gradient)
    solves0 = objective.counts.total
    if settings.gradient == "exact":
        objective.gradient_note  # noqa: B018 - builds the sensitivity system (once per process) before the clock
        t0, c0 = time.perf_counter(), time.process_time()
    budget = _Budget(settings, t0)
    object.__setattr__(objective, "_solve_uncached", budget.guard(objective._solve_uncached))
    object.__setattr__(objective, "_sensitivities_uncached", budget.guard(objective._sensitivities_uncached))
    x0 = np.clip(np.asarray(x0, dtype=float), objective.lower, objective.upper)
    nllh0 = math.inf
    resampled = 0
    try:
        nllh0 = objective.nllh(x0)
        while not math.isfinite(nllh0) and rng is not None and resampled < settings.resample:
            resampled += 1
            x0 = rng.uniform(objective.lower, objective.upper)
            nllh0 = objective.nllh(x0)
    except _BudgetExceeded as exc:
        budget.exceeded = str(exc)

    def record(x, nllh, status, message, nfev=0, njev=0, optimality=math.nan, fresh=math.nan) -> StartResult:
        return StartResult(start, tuple(map(float, x0)), tuple(map(float, x)), float(nllh0), float(nllh), status,
                           message, int(nfev), int(njev), objective.counts.total - solves0,
                           time.perf_counter() - t0, float(optimality), resampled, float(fresh),
                           objective.nlprior(np.asarray(x, dtype=float)), time.process_time() - c0)

    if not math.isfinite(nllh0):
        why = f"budget exceeded ({budget.exceeded})" if budget.exceeded else "simulation failed"
        return record(x0, math.inf, Status.FAILED, f"no finite objective at the start point ({why}; "
                                              f"{resampled} redraws)")
    budget.seen(x0, nllh0 + objective.nlprior(x0))
    split = settings.hierarchical and 0 < int(objective.outer_mask.sum()) < objective.dim
    problem: _Hierarchical | Objective
    if split:
        problem = hierarchical = _Hierarchical(objective, x0)
        start_x = x0[hierarchical.outer]
        lower, upper = objective.lower[hierarchical.outer], objective.upper[hierarchical.outer]
    else:
        problem, start_x, lower, upper = objective, x0, objective.lower, objective.upper

    def residuals(xo: np.ndarray) -> np.ndarray:
        res = problem.residuals(xo)
        if np.all(np.isfinite(res)):  # the best point so far, the start's result if the budget ends it
            full = hierarchical.expand(xo) if split else xo
            budget.seen(full, objective.nlpost(full))
        return res

    try:
        sol = minimize(settings.optimizer, residuals, problem.jacobian, start_x, lower, upper,
                       max_nfev=settings.max_nfev, ftol=settings.ftol, xtol=settings.xtol, gtol=settings.gtol,
                       x_scale=settings.x_scale)
    except _BudgetExceeded as exc:
        x = budget.best_x
        assert x is not None  # budget.seen(x0, nllh0) with a finite nllh0 above
        # the budget tracks the optimised value, nlpost; no solve here (the budget is spent)
        return record(x, budget.best_nllh - objective.nlprior(x), Status.BUDGET,
                      f"budget exceeded: {exc}; the best point seen is kept",
                      fresh=_fresh_nllh(objective, x))
    except (ValueError, np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
        return record(x0, math.inf, Status.FAILED, f"optimiser error: {type(exc).__name__}: {exc}")
    x = hierarchical.expand(sol.x) if split else sol.x
    nllh = objective.nllh(x)
    if not math.isfinite(nllh):
        return record(x, math.inf, Status.FAILED, "no finite objective at the optimiser's end point")
    fresh = _fresh_nllh(objective, x)
    if not abs(fresh - nllh) <= settings.reproduce_rtol * max(1.0, abs(nllh)):
        return record(x, nllh, Status.NOT_REPRODUCED,
                      f"{sol.message}; but a fresh solver gives nllh {fresh:.10g} at the end point, not {nllh:.10g}: "
                      "not ranked", sol.nfev, sol.njev, sol.optimality, fresh)
    return record(x, nllh, Status.OK, sol.message, sol.nfev, sol.njev, sol.optimality, fresh)


class _Budget:
    """A start's wall-time and solve budget, and the best point it has seen (private to :func:`run_start`)."""

    def __init__(self, settings: FitSettings, t0: float) -> None:
        self.max_time_s, self.max_solves, self.t0 = settings.max_time_s, settings.max_solves, t0
        self.solves = 0
        self.best_x: np.ndarray | None = None
        self.best_nllh = math.inf
        self.exceeded = ""

    def guard(self, solve):
        """``solve`` that first raises :class:`_BudgetExceeded` when the budget is spent."""
        def guarded(x):
            elapsed = time.perf_counter() - self.t0
            if elapsed > self.max_time_s:
                raise _BudgetExceeded(f"wall time {elapsed:.1f} s > {self.max_time_s:g} s per start")
            if self.solves >= self.max_solves:
                raise _BudgetExceeded(f"{self.solves} ODE solves >= {self.max_solves} per start")
            self.solves += 1
            return solve(x)
        return guarded

    def seen(self, x: np.ndarray, nllh: float) -> None:
        """Keep ``x`` when its objective ``nllh`` (nlpost with priors) is the lowest so far."""
        if nllh < self.best_nllh:
            self.best_x, self.best_nllh = np.array(x, dtype=float), float(nllh)


def _fresh_nllh(objective: Objective, x: np.ndarray) -> float:
    """The nllh at ``x`` in a fresh solver, outside the start's budget.

    The process's runners of the model are dropped (rebuilt from the compile cache) and a new objective (no cached
    solution) evaluates.
    """
    forget_runners(objective.problem.model)
    fresh = replace(objective)  # a new instance: the budget's guard (an instance attribute) is not copied
    return fresh.nllh(np.asarray(x, dtype=float))


def latin_hypercube_starts(lower: np.ndarray, upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` start points, one Latin hypercube over the (scaled) box ``[lower, upper]``, reproducible by seed.

    Parameters
    ----------
    lower, upper
        The box (scaled values).
    n
        Number of points (>= 1).
    seed
        Seed of the hypercube.

    Returns
    -------
    numpy.ndarray
        Shape (n, len(lower)).
    """
    if n < 1:
        raise InputError(f"the number of starts must be >= 1, not {n}.")
    unit = qmc.LatinHypercube(d=len(lower), rng=np.random.default_rng(seed)).random(n)
    return qmc.scale(unit, lower, upper)


def _fit_start(payload: dict) -> StartResult:
    """Worker: one start of one problem (module level, so process pools and Dask can import it)."""
    start = payload["start"]
    try:
        objective = objective_for(payload["yaml"], payload["settings"].options, payload.get("fix"),
                                  payload["settings"].central, payload["settings"].gradient)
        rng = np.random.default_rng([payload.get("seed", 0), start])  # redraws: reproducible per start
        return run_start(objective, np.asarray(payload["x0"]), payload["settings"], start, rng)
    except Exception as exc:  # noqa: BLE001 - one start never kills a run (architecture.md); recorded instead
        x0 = tuple(map(float, payload["x0"]))
        return StartResult(start, x0, x0, math.inf, math.inf, Status.FAILED, f"{type(exc).__name__}: {exc}",
                           0, 0, 0, 0.0)


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
    priors
        The objective priors (one record each; empty: the objective is the likelihood alone).
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
    priors: tuple[dict, ...] = ()

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
        """Successful starts with ``nlpost <= best + threshold`` (``nlpost`` is ``nllh`` without priors)."""
        if not self.best.ok:
            return ()
        return tuple(s for s in self.starts if s.ok and s.nlpost <= self.best.nlpost + threshold)

    def to_frame(self) -> pd.DataFrame:
        """One row per start: start, rank, nllh, nlprior, nlpost, delta to the best, status, counts, time, values.

        ``nllh`` is the likelihood alone; starts are ranked by ``nlpost = nllh + nlprior`` (the optimised value;
        ``nlprior`` is 0 without objective priors); ``delta_nllh`` and ``delta_nlpost`` are to the best start's
        (with priors ``delta_nllh`` can be negative: the best start has the lowest posterior, not likelihood).
        """
        best = self.best if self.best.ok else None
        rows = []
        for rank, s in enumerate(self.starts):
            rows.append({"start": s.start, "rank": rank, "nllh": s.nllh, "nlprior": s.nlprior, "nlpost": s.nlpost,
                         "delta_nllh": s.nllh - best.nllh if best else math.nan,
                         "delta_nlpost": s.nlpost - best.nlpost if best else math.nan,
                         "nllh_start": s.nllh0, "status": s.status, "n_fev": s.n_fev, "n_jev": s.n_jev,
                         "n_solves": s.n_solves, "time_s": s.time_s, "cpu_s": s.cpu_s, "optimality": s.optimality,
                         "resampled": s.resampled, "nllh_fresh": s.nllh_fresh,
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
                "best_nlprior": self.best.nlprior, "best_nlpost": self.best.nlpost, "priors": list(self.priors),
                "objective": ("nlpost = nllh + nlprior (PEtab v1 objective priors); nllh is the likelihood alone"
                              if self.priors else "nllh (PEtab v1 negative log-likelihood)"),
                "threshold": THRESHOLD_95, "starts": len(self.starts), "starts_ok": self.n_ok,
                "within_threshold": len(self.within()), "seed": self.seed, "max_nfev": self.settings.max_nfev,
                "optimizer": self.settings.optimizer, "gradient": self.settings.gradient, "workers": self.workers,
                **self._times()}

    def _times(self) -> dict:
        """Median wall and CPU seconds per start and the summed CPU seconds of all starts (NaN when unrecorded)."""
        return {"median_time_per_start_s": float(np.median([s.time_s for s in self.starts])),
                "median_cpu_per_start_s": float(np.median([s.cpu_s for s in self.starts])),
                "cpu_s": float(sum(s.cpu_s for s in self.starts))}

    def summary(self, reference: float | None = None, tolerance: float = 0.1) -> dict:
        """Counts and best value; with ``reference`` (a known optimum) the fraction of starts within ``tolerance``."""
        out = {"starts": len(self.starts), "ok": self.n_ok, "best_nllh": self.best.nllh,
               "within_threshold": len(self.within()), "threshold": THRESHOLD_95,
               **self._times(), "elapsed_s": self.elapsed_s}
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
    """Multistart fit of a PEtab problem: each start minimises ``nlpost = nllh + nlprior`` (``nllh`` without priors).

    Parameters
    ----------
    yaml_path
        The problem's YAML file; every worker loads it (a loaded problem does not pickle), so Dask workers on
        other machines need it at the same path (a shared file system).
    starts
        Number of Latin-hypercube starts over the scaled bounds (a parameter's column is drawn from its
        ``initializationPriorType``, truncated to the bounds, when the parameter table gives one).
    seed
        Seed of the Latin hypercube: the same seed gives the same starts, hence the same fit.
    executor
        Where starts run (:func:`~simulator.parallel.make_executor`); serial when ``None``.
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
    objective = objective_for(path, settings.options, central=settings.central, gradient=settings.gradient)
    if x0 is None and starts < 1:
        raise InputError(f"the number of starts must be >= 1, not {starts}.")
    # Latin hypercube; the columns of parameters with an initializationPriorType drawn from that prior
    points = (prior_starts(objective.problem.parameter_df, objective.ids, objective.scales, objective.lower,
                           objective.upper, starts, seed) if x0 is None
              else np.atleast_2d(np.asarray(x0, dtype=float)))
    if points.shape[1] != objective.dim:
        raise InputError(f"start points have {points.shape[1]} columns; the problem estimates {objective.dim}.")
    executor = executor or SerialExecutor()
    payloads = [{"yaml": str(path), "start": i, "x0": p.tolist(), "settings": settings, "seed": seed}
                for i, p in enumerate(points)]
    t0 = time.perf_counter()
    results = executor.map(_fit_start, payloads)
    elapsed = time.perf_counter() - t0
    order = sorted(results, key=_rank_key)
    model_ids = tuple(i for i in objective.ids if i in objective.problem.model.parameters)
    return FitResult(
        source=path, ids=objective.ids, scales=objective.scales, lower=tuple(objective.lower.tolist()),
        upper=tuple(objective.upper.tolist()), fixed=objective.fixed, model_parameter_ids=model_ids,
        starts=tuple(order), seed=seed, settings=settings, workers=getattr(executor, "workers", 1),
        elapsed_s=elapsed, priors=tuple(objective.priors.summary()),
    )


def _rank_key(s: StartResult) -> tuple:
    """Ranking key: ok starts by nllh, then starts ended by their budget (best point so far), then the rest.

    The rest: failed, and not reproduced (flagged, never ranked above a start that was reproduced).
    """
    tier = 0 if s.ok else 1 if s.status == Status.BUDGET else 2
    return (tier, s.nlpost if math.isfinite(s.nlpost) else math.inf, s.start)


def fit_vs_data(result: FitResult, start: StartResult | None = None) -> pd.DataFrame:
    """The measurement table with the simulated value and sigma of every row at a start's end point (best).

    Parameters
    ----------
    result
        A fit.
    start
        The start whose end point is simulated; default the best.

    Returns
    -------
    pandas.DataFrame
        The measurement table with ``simulation``, ``sigma`` and ``observableTransformation`` (the scale sigma
        is on) columns.
    """
    start = start or result.best
    objective = objective_for(result.source, result.settings.options)
    x = np.array(start.x)
    table = objective.problem.petab.measurement_df.reset_index(drop=True).copy()
    simulation = objective.simulation(x)
    table["simulation"] = simulation
    table["sigma"] = noise_sigma(objective.problem, simulation, objective.values(x), objective.solve(x))
    table["observableTransformation"] = objective.problem.noise_models[0]  # the scale sigma is on
    return table
