"""Steady states and time courses with libroadrunner; the only module that imports ``roadrunner``.

Rules (architecture.md, "Engine rules"), each enforced here:

* One RoadRunner per process per model, cached by the SBML's sha256 (:func:`_runner`); never reloaded
  per simulation. This is the package's only in-memory cache; the compiled machine code is also kept on
  disk (:mod:`simulator.compile_cache`), so the next process loads it instead of compiling again.
* RoadRunner is stateful, so every call sets every value it depends on: the full vector of settable
  parameters (one ``setGlobalParameterValues`` call with an int32 index array) and every settable species'
  initial concentration, then ``reset()``, which re-evaluates initial assignments.
* Steady states use conserved-moiety analysis. Without it NLEQ2 converged, with a residual of 1e-16, to a
  root that violated integrin conservation in Model A (ITG + ITG_L = 2.17 where the total is 4).
* A steady state is verified: rates of change ~ 0, no negative concentrations, and linear stability
  (largest real part of the reduced Jacobian's eigenvalues <= 0). A short simulation from an unstable
  fixed point would stay put numerically; the eigenvalues do not. An unstable point or a failed solve is
  followed by simulation: a sustained oscillation is reported as ``status="oscillating"`` with its period
  and range, never as a fake steady state.
* ``steadyState()`` always starts from the initial conditions (warm starts converged to wrong roots).
* Time courses pre-equilibrate the untreated condition, then add the drug at t = 0.
* Failures are values: ``throw=False`` returns a record with ``status="failed"`` and a message.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.lapack import dgeev as _dgeev

from .compile_cache import CompileCache
from .conditions import Condition
from .errors import InputError, SimulationError
from .model import CompiledModel
from .units import MAX_TIME_POINTS

__all__ = [
    "SolverOptions",
    "SteadyState",
    "Trajectory",
    "steady_state",
    "steady_states",
    "time_course",
    "time_courses",
    "ControlCoefficients",
    "control_coefficients",
    "response_coefficients",
]

OK, OSCILLATING, FAILED = "ok", "oscillating", "failed"

#: First output of the refined retry grid, as a fraction of the time span (see time_courses)
_RETRY_FIRST_STEP = 1e-6
#: Newton solvers tried in turn from the same start. KINSOL's defaults stop too early for our rate check
#: (380 of 400 Model A conditions failed it), so it runs with tight tolerances.
_NEWTON_SOLVERS = ("newton", "nleq2")
_NEWTON_SETTINGS = {"newton": {"func_norm_tol": 1e-12, "scaled_step_tol": 1e-14}}


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings. Defaults: CVODE (BDF) at rtol 1e-6 / atol 1e-9 (architecture.md).

    Attributes
    ----------
    rtol, atol
        CVODE relative and absolute tolerances.
    max_steps
        CVODE's maximum number of internal steps per output interval.
    steady_state_tol
        A steady state is accepted when every |dx/dt| <= steady_state_tol * max(1, max|x|) (per model
        time unit).
    presimulation_times
        Horizons (model time units) tried in turn when Newton fails: simulate to the next horizon, then
        retry Newton. ``None`` picks 10^k model time units for k = 0..7.
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps: int = 100_000
    steady_state_tol: float = 1e-8
    presimulation_times: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "steady_state_tol"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise InputError(f"SolverOptions.{name} must be a finite number > 0, not {value!r}.")
        if self.max_steps < 1:
            raise InputError(f"SolverOptions.max_steps must be >= 1, not {self.max_steps!r}.")

    def horizons(self) -> tuple[float, ...]:
        """Presimulation horizons in model time units."""
        return self.presimulation_times or tuple(10.0**k for k in range(8))


@dataclass(frozen=True)
class SteadyState:
    """The steady state of one condition (or why there is none).

    ``values`` holds the selected ids; it is NaN unless ``status == "ok"``. For ``"oscillating"``,
    ``period`` is the limit-cycle period (model time units), ``low``/``high`` the range of each
    selected id over the last cycle and ``mean`` its time-average over the last ``cycles`` whole periods
    (what a bulk assay of unsynchronised cells measures; :mod:`simulator.readouts` uses it for a level
    readout of an oscillating condition).
    """

    ids: tuple[str, ...]
    values: np.ndarray
    status: str
    message: str = ""
    method: str = ""
    period: float | None = None
    low: np.ndarray | None = field(default=None, repr=False)
    high: np.ndarray | None = field(default=None, repr=False)
    mean: np.ndarray | None = field(default=None, repr=False)
    cycles: int = 0

    @property
    def ok(self) -> bool:
        """True when a verified steady state was found."""
        return self.status == OK

    def __getitem__(self, key: str) -> float:
        return float(self.values[self.ids.index(key)])

    def as_dict(self) -> dict[str, float]:
        """Selected id -> value."""
        return dict(zip(self.ids, self.values.tolist(), strict=True))

    def to_frame(self):
        """One-row ``pandas.DataFrame``: ``time`` (0), ``status``, one column per selected id, ``message``."""
        import pandas as pd

        row = {"time": 0.0, "status": self.status, **self.as_dict(), "message": self.message}
        return pd.DataFrame([row])


@dataclass(frozen=True)
class Trajectory:
    """A time course: ``values[i, j]`` is id ``ids[j]`` at ``time[i]`` (model time units).

    ``pre_equilibrated`` is True when the run started from the untreated steady state; False when it
    started from the initial conditions (asked for, or because the untreated model has no steady state:
    the message then says why).
    """

    time: np.ndarray
    ids: tuple[str, ...]
    values: np.ndarray
    status: str
    message: str = ""
    pre_equilibrated: bool = False

    @property
    def ok(self) -> bool:
        """True when the integration reached the last time point."""
        return self.status == OK

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[:, self.ids.index(key)]

    def to_frame(self):
        """``pandas.DataFrame`` with ``time``, ``status``, one column per selected id and ``message``."""
        import pandas as pd

        frame = pd.DataFrame(self.values, columns=list(self.ids))
        frame.insert(0, "status", self.status)
        frame.insert(0, "time", self.time)
        frame["message"] = self.message
        return frame


# ------------------------------------------------------------------------------------------ the runner


class _Runner:
    """A RoadRunner plus the index arrays that set every value in one call. Private to this module."""

    def __init__(self, model: CompiledModel) -> None:
        self.model = model
        self.laws: np.ndarray | None = None  # conservation laws checked by hand when roadrunner cannot
        rr, moieties = _compiled(model)
        if not moieties:
            self._init_laws(rr)
        for name in reversed(_NEWTON_SOLVERS):  # configure each; the first stays selected
            rr.setSteadyStateSolver(name)
            solver = rr.steadyStateSolver
            solver.setValue("allow_presimulation", False)  # presimulation is ours, so it is verified too
            solver.setValue("allow_approx", False)
            for key, value in _NEWTON_SETTINGS.get(name, {}).items():
                solver.setValue(key, value)
        self._solver = _NEWTON_SOLVERS[0]
        self.rr = rr
        # roadrunner's ExecutableModel: ``rr.model`` builds a new wrapper on every access (~1 us, 4 per steady
        # state), so it is taken here and again in every load(), and state()/_verify reuse it in between
        self.m = rr.model
        rr_params = list(rr.model.getGlobalParameterIds())
        self.param_ids = tuple(p for p in model.parameters if p in rr_params)
        self.param_idx = np.array([rr_params.index(p) for p in self.param_ids], dtype=np.int32)
        self.param_default = np.array([model.parameters[p] for p in self.param_ids], dtype=float)
        rr_species = list(rr.model.getFloatingSpeciesIds())
        # the state: floating species with an ODE (rule-defined species cannot be set)
        self.state_idx = np.array([i for i, s in enumerate(rr_species) if s in model.species], dtype=np.int32)
        self.init_ids = tuple(s for s in model.species_initial if s in rr_species)
        self.init_idx = np.array([rr_species.index(s) for s in self.init_ids], dtype=np.int32)
        self.init_default = np.array([model.species_initial[s] for s in self.init_ids], dtype=float)
        self._param_pos = {p: i for i, p in enumerate(self.param_ids)}
        self._init_pos = {s: i for i, s in enumerate(self.init_ids)}
        self._plans: dict[tuple[str, ...], tuple[np.ndarray, ...]] = {}
        self._options: SolverOptions | None = None
        self._selection: tuple[str, ...] | None = None
        self.first_solver_ok = False  # did the last newton() succeed with its first solver (see steady_states)

    def _init_laws(self, rr) -> None:
        # roadrunner refuses moiety analysis when a floating species is defined by a rule (Huang-Ferrell
        # 1996's K_PP_norm). Newton may then land in another conservation class, so every root is checked
        # against the conserved totals of the initial state (left null space of N).
        from scipy.linalg import null_space

        stoich = rr.getFullStoichiometryMatrix()
        ids = list(rr.model.getFloatingSpeciesIds())
        keep = [i for i, r in enumerate(stoich.rownames) if r in self.model.species]  # not rule-defined ones
        rows = [stoich.rownames[i] for i in keep]
        laws = null_space(np.asarray(stoich, dtype=float)[keep].T).T
        if laws.size:
            self.laws = laws
            self.law_idx = np.array([ids.index(r) for r in rows], dtype=np.int32)
            self.law_totals = np.zeros(laws.shape[0])

    def conserved(self) -> np.ndarray:
        """Conserved totals (amounts) of the current state, for models checked by hand."""
        amounts = np.asarray(self.m.getFloatingSpeciesAmounts(), dtype=float)[self.law_idx]
        return self.laws @ amounts

    def configure(self, options: SolverOptions, select: tuple[str, ...]) -> None:
        if options != self._options:
            integ = self.rr.integrator
            integ.relative_tolerance = options.rtol
            integ.absolute_tolerance = options.atol
            integ.maximum_num_steps = options.max_steps
            self._options = options
        if select != self._selection:
            self._selectors = ["time", *(_selector(self.model, s) for s in select)]
            self.rr.timeCourseSelections = self._selectors
            self._selection = select

    def newton(self, options: SolverOptions, *, from_initial: bool = False) -> str | None:
        """Newton from the current state; None if it found a verified steady state, else why not.

        ``from_initial``: the current state is the one :meth:`load` set, so the second solver starts from a
        :meth:`reload` instead of a copy of the state taken beforehand (a fetch saved per steady state).

        KINSOL ("newton", ~40 us on Model A) is tried first and NLEQ2 (~110 us) second, from the same
        start. A failed solve resets roadrunner's ``timeCourseSelections`` to its defaults; they are
        restored. Models with conservation laws but no moiety analysis are not tried: the Jacobian is
        singular for them, so Newton can only fail or land in another conservation class.
        """
        self.first_solver_ok = False
        if self.laws is not None:
            return "Newton skipped: conservation laws without moiety analysis (singular Jacobian)"
        before = None if from_initial else self.state()
        errors = []
        for k, name in enumerate(_NEWTON_SOLVERS):
            if k:
                if before is None:
                    self.reload()
                else:
                    self.set_state(before)
            if name != self._solver:
                self.rr.setSteadyStateSolver(name)
                self._solver = name
            try:
                self.rr.steadyState()
                verdict = _verify(self, options)
            except RuntimeError as exc:
                # a failed solve can leave roadrunner with a new ExecutableModel: the wrapper taken before it
                # pointed at freed memory (setFloatingSpeciesConcentrations segfaulted on a model with events)
                self.m = self.rr.model
                self.rr.timeCourseSelections = self._selectors
                if "model with events" in str(exc):  # roadrunner refuses Newton on any model with events
                    return "the model has events, where roadrunner's Newton solvers do not apply"
                verdict = str(exc).strip().splitlines()[0] if str(exc).strip() else "solver error"
            if verdict is None:
                self.first_solver_ok = not k
                return None
            if verdict.startswith("unstable"):
                return verdict  # a true (unstable) root: another solver would find it again
            errors.append(f"{name}: {verdict}")
        return "; ".join(errors)

    def vectors(self, values: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Full parameter and initial-species vectors: defaults overridden by ``values``.

        Where each id goes is planned once per sequence of ids (the wells of a screen share one): a dict
        lookup per id per well cost ~6 us of a ~200 us steady state; with a plan it is two fancy assignments.
        """
        keys = tuple(values)
        plan = self._plans.get(keys)
        if plan is None:
            plan = self._plan(keys)
        params, init = self.param_default.copy(), self.init_default.copy()
        if keys:
            given = np.fromiter(values.values(), dtype=float, count=len(keys))
            param_pos, param_from, init_pos, init_from = plan
            params[param_pos] = given[param_from]
            init[init_pos] = given[init_from]
        return params, init

    def _plan(self, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(parameter positions, their places in ``keys``, species positions, their places) for :meth:`vectors`."""
        unknown = [k for k in keys if k not in self._param_pos and k not in self._init_pos]
        if unknown:
            raise InputError(f"{unknown[0]!r} is not a settable parameter or species of model {self.model.name!r}.")
        params = [(self._param_pos[k], i) for i, k in enumerate(keys) if k in self._param_pos]
        inits = [(self._init_pos[k], i) for i, k in enumerate(keys) if k not in self._param_pos]
        plan = tuple(np.array([pair[j] for pair in pairs], dtype=np.intp) for pairs in (params, inits) for j in (0, 1))
        if len(self._plans) >= _MAX_PLANS:
            self._plans.pop(next(iter(self._plans)))
        self._plans[keys] = plan
        return plan

    def load(self, params: np.ndarray, init: np.ndarray, *, init_set: bool = False) -> None:
        """Set every settable value and reset the state to the initial conditions.

        ``init_set``: the model's initial concentrations are known to equal ``init`` already, so they are not
        set again (~9 us: roadrunner updates the conserved totals on every set). Only :func:`steady_states`
        passes it, for a solve that follows a clean one with the same ``init`` (see there).
        """
        self._loaded = (params, init)
        m = self.m = self.rr.model
        if len(self.param_idx):
            m.setGlobalParameterValues(self.param_idx, params)
        if len(self.init_idx) and not init_set:
            m.setFloatingSpeciesInitConcentrations(self.init_idx, init)
        self.rr.reset()
        if self.laws is not None:
            self.law_totals = self.conserved()

    def reload(self) -> None:
        """Back to the initial conditions of the last :meth:`load`.

        Not ``reset()`` alone: after a failed NLEQ solve roadrunner's ``reset()`` restored the SBML's own
        initial concentration of a species we had set (E1 in Huang-Ferrell 1996 came back as 3e-5, not 1e-8).
        """
        self.load(*self._loaded)

    def selected(self) -> np.ndarray:
        return np.asarray(self.rr.getSelectedValues(), dtype=float)[1:]

    def state(self) -> np.ndarray:
        return np.asarray(self.m.getFloatingSpeciesConcentrations(), dtype=float)[self.state_idx]

    def set_state(self, conc: np.ndarray) -> None:
        self.m.setFloatingSpeciesConcentrations(self.state_idx, conc)


#: SUNDIALS' own logger (CVODE/KINSOL warnings to stdout, errors to stderr, read when a RoadRunner is made)
_SUNDIALS_LOG_VARS = ("SUNLOGGER_WARNING_FILENAME", "SUNLOGGER_ERROR_FILENAME")
_ENV_LOCK = threading.Lock()


@contextmanager
def _sundials_silenced() -> Iterator[None]:
    """SUNDIALS' logger off for the RoadRunners made inside; the environment is restored on leaving.

    Why: CVODE writes its warnings ("t + h = t on the next step", dozens per failing run) to *stdout*, where
    they corrupted ``mekisim simulate``'s CSV table, and its errors to stderr as solver jargon; a failure is
    reported instead in the record's message, in the model's terms (:func:`_explain_failure`). SUNDIALS reads
    these variables once, when a RoadRunner creates its context, so they are set only around that; a caller
    who set them keeps their own.
    """
    with _ENV_LOCK:
        added = [name for name in _SUNDIALS_LOG_VARS if name not in os.environ]
        for name in added:
            os.environ[name] = os.devnull
        try:
            yield
        finally:
            for name in added:
                os.environ.pop(name, None)


def _quietly(fn):
    """Run ``fn`` with roadrunner's log level at LOG_FATAL, restored afterwards (the caller's setting stays).

    Why: roadrunner logs every failed Newton or CVODE step at LOG_ERROR ("Error: CVODE Error: CV_CONV_FAILURE
    ..."), which a screen of thousands of wells would print; failures are values here, with their own message.
    Scoped, not set at import: the log level is process-wide, and the caller's is not ours to change.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import roadrunner

        level = roadrunner.Logger.getLevel()
        if level == roadrunner.Logger.LOG_FATAL:
            return fn(*args, **kwargs)
        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
        try:
            return fn(*args, **kwargs)
        finally:
            roadrunner.Logger.setLevel(level)

    return wrapper


def _compiled(model: CompiledModel):
    """(RoadRunner straight after loading ``model``, whether it uses conserved-moiety analysis).

    From the on-disk cache when it holds this model for this roadrunner build and CPU (~10 ms), else
    compiled (~0.25 s for Model A) and stored (:mod:`simulator.compile_cache`). Conserved-moiety analysis
    is set at load: one LLVM compile, not a second one when the flag is set afterwards.
    """
    import roadrunner

    cache = CompileCache.from_environment()
    keys = {moieties: cache.key(model.sha256, "moieties" if moieties else "plain", *_roadrunner_build(roadrunner))
            for moieties in (True, False)}
    for moieties, key in keys.items():
        state = cache.load(key)
        if state is not None:
            with _sundials_silenced():  # the integrator (and its SUNDIALS context) is made again by loadStateS
                rr = roadrunner.RoadRunner()
                try:
                    rr.loadStateS(state)
                except RuntimeError:  # not a state this roadrunner can read after all: compile
                    continue
            return rr, moieties
    load_options = roadrunner.LoadSBMLOptions()
    load_options.conservedMoieties = True
    moieties = True
    with _sundials_silenced():
        try:
            rr = roadrunner.RoadRunner(model.sbml, load_options)
        except RuntimeError:  # refused for this model (see _Runner._init_laws); one that does not compile raises again
            rr = roadrunner.RoadRunner(model.sbml)
            moieties = False
    if keys[moieties] is not None:
        cache.store(keys[moieties], rr.saveStateS())
    return rr, moieties


def _roadrunner_build(roadrunner) -> tuple[str, ...]:
    """The roadrunner version and its compiled extension's size and mtime: a rebuilt roadrunner is a new key."""
    try:
        info = os.stat(roadrunner._roadrunner.__file__)
        return roadrunner.__version__, str(info.st_size), str(info.st_mtime_ns)
    except (AttributeError, OSError):
        return roadrunner.__version__, "unknown build"


def _selector(model: CompiledModel, key: str) -> str:
    # roadrunner reports a bare species id as an amount; mekisim reports concentrations throughout
    return f"[{key}]" if key in model.concentration_ids else key


_RUNNERS: dict[str, _Runner] = {}
_MAX_RUNNERS = 16
#: distinct id sequences a runner keeps a :meth:`_Runner.vectors` plan for
_MAX_PLANS = 64


def _runner(model: CompiledModel) -> _Runner:
    """The process's RoadRunner for this model, built once (a build costs ~0.1-0.2 s, a run < 1 ms)."""
    runner = _RUNNERS.get(model.sha256)
    if runner is None:
        if len(_RUNNERS) >= _MAX_RUNNERS:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        try:
            runner = _Runner(model)
        except RuntimeError as exc:
            raise SimulationError(f"roadrunner could not compile model {model.name!r}: {exc}") from exc
        _RUNNERS[model.sha256] = runner
    return runner


# ------------------------------------------------------------------------------------- steady states


def _split_condition(condition: Condition | Mapping[str, float] | None) -> tuple[Mapping, Mapping]:
    """(treated values, untreated values) of a condition or a plain mapping (treated == untreated)."""
    if condition is None:
        return {}, {}
    if isinstance(condition, Condition):
        return condition.values, condition.untreated
    return condition, condition


def _select(model: CompiledModel, select: Sequence[str] | None) -> tuple[str, ...]:
    if select is None:
        return model.observable_ids
    readable = set(model.readable_ids())
    unknown = [s for s in select if s not in readable]
    if unknown:
        raise InputError(
            f"model {model.name!r} has no id {', '.join(map(repr, unknown))}; valid: observables "
            f"{', '.join(model.observable_ids)} or any species/parameter id."
        )
    return tuple(select)


def steady_state(
    model: CompiledModel,
    condition: Condition | Mapping[str, float] | None = None,
    *,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = True,
) -> SteadyState:
    """Steady state of ``model`` under ``condition`` (drug present throughout).

    Parameters
    ----------
    model
        Compiled model.
    condition
        A :class:`~simulator.conditions.Condition` (cell line + doses) or a mapping of ids to values.
    select
        Ids to report; default the model's observables.
    options
        Solver settings.
    throw
        Raise :class:`SimulationError` on failure (default). With ``False`` the record carries
        ``status="failed"``; an oscillation is never an error, it is ``status="oscillating"``.
    """
    return steady_states(model, [condition], select=select, options=options, throw=throw)[0]


@_quietly
def steady_states(
    model: CompiledModel,
    conditions: Iterable[Condition | Mapping[str, float] | None],
    *,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = False,
) -> list[SteadyState]:
    """Steady states of many conditions on one model, one record each (failures do not stop the batch)."""
    options = options or SolverOptions()
    ids = _select(model, select)
    if model.no_steady_state:  # declared in its metadata: searching would only fail slowly (seconds per call)
        message = (f"model {model.name!r} has no steady state ({model.no_steady_state}); simulate a time course "
                   "instead")
        if throw:
            raise SimulationError(message)
        return [_failed(ids, message) for _ in conditions]
    runner = _runner(model)
    runner.configure(options, ids)
    out = []
    # The initial concentrations are set only when they change, and only after a clean solve (first Newton
    # solver, verified): that path is load, reset, KINSOL, the checks, which leave them as set (checked in
    # tests/test_engine.py). Any other path (NLEQ2, presimulation, probes; roadrunner's reset() after a
    # failed NLEQ solve restored the SBML's own value once, see _Runner.reload) sets them again.
    clean_init = None
    for condition in conditions:
        treated, _ = _split_condition(condition)
        params, init = runner.vectors(treated)
        init_key = init.tobytes()
        runner.load(params, init, init_set=init_key == clean_init)
        record = _solve(runner, ids, options)
        clean_init = init_key if record.method == "newton" and runner.first_solver_ok else None
        if throw and record.status == FAILED:
            raise SimulationError(f"steady state of model {model.name!r} failed: {record.message}")
        out.append(record)
    return out


def _solve(runner: _Runner, ids: tuple[str, ...], options: SolverOptions) -> SteadyState:
    """Newton from the initial conditions; then an oscillation check or presimulation + Newton.

    An unstable root means the attractor is elsewhere: typically a limit cycle around it (Kholodenko
    2000), so its Jacobian's leading complex pair sets the window of the oscillation probe. Otherwise the
    model is integrated over growing horizons with Newton retried each time; if it never comes to rest,
    the probe decides between "oscillating" and "failed".
    """
    rr = runner.rr
    newton_error = runner.newton(options, from_initial=True)  # every caller has just called runner.load
    if newton_error is None:
        return SteadyState(ids, runner.selected(), OK, method="newton")

    if newton_error.startswith("unstable"):
        guess = _period_guess(runner)
        runner.reload()
        found = _probe_oscillation(runner, ids, options, 0.0, guess)
        if found is not None:
            return _oscillating(ids, *found)

    runner.reload()
    t, stalled = 0.0, ""
    for horizon in options.horizons():
        try:
            rr.simulate(t, horizon, 2)
        except RuntimeError as exc:
            failed_at = float(runner.m.getTime())
            runner.reload()
            stalled = _explain_failure(runner, 0.0, failed_at, str(exc))
            runner.reload()
            t = 0.0
            break
        t = horizon
        if _rates_small(runner, options, factor=1e3):
            before = runner.state()
            verdict = runner.newton(options)
            if verdict is not None:
                runner.set_state(before)  # continue from the trajectory, not from a bad root
                if _verify(runner, options) is None:  # Newton cannot polish it (e.g. singular without
                    return SteadyState(  # moiety analysis), but the integrated state is verified at rest
                        ids, runner.selected(), OK,
                        message=f"Newton failed ({newton_error}); steady state reached by integration to "
                        f"t={horizon:g} and verified",
                        method="presimulation",
                    )
                continue
            if verdict is None:
                return SteadyState(
                    ids, runner.selected(), OK,
                    message=f"Newton from the initial conditions failed ({newton_error}); "
                    f"converged after presimulation to t={horizon:g}",
                    method="presimulation+newton",
                )
    found = _probe_oscillation(runner, ids, options, t, _period_guess(runner))
    if found is not None:
        return _oscillating(ids, *found)
    if stalled:
        return _failed(ids, f"no steady state: {stalled} (simulated from the initial conditions)")
    return _failed(ids, f"no steady state found: not at rest after simulating to t = {t:g} "
                        f"{_time_unit(runner)}, and Newton failed ({newton_error})")


def _oscillating(ids: tuple[str, ...], period: float, low: np.ndarray, high: np.ndarray, mean: np.ndarray,
                 cycles: int) -> SteadyState:
    return SteadyState(
        ids, np.full(len(ids), np.nan), OSCILLATING,
        message=f"no steady state: sustained oscillation with period {period:.6g} model time units",
        method="simulation", period=period, low=low, high=high, mean=mean, cycles=cycles,
    )


def _period_guess(runner: _Runner) -> float | None:
    """2*pi/omega of the leading complex eigenvalue pair of the Jacobian at the current state, if any."""
    try:
        eig = np.linalg.eigvals(np.asarray(runner.rr.getReducedJacobian(), dtype=float))
    except (RuntimeError, np.linalg.LinAlgError, ValueError):
        return None
    complex_eig = eig[np.abs(eig.imag) > 1e-12]
    if not complex_eig.size:
        return None
    lead = complex_eig[np.argmax(complex_eig.real)]
    return float(2 * math.pi / abs(lead.imag))


def _failed(ids: tuple[str, ...], message: str) -> SteadyState:
    return SteadyState(ids, np.full(len(ids), np.nan), FAILED, message=message)


def _rates_small(runner: _Runner, options: SolverOptions, factor: float = 1.0, state: np.ndarray | None = None,
                 scale: float | None = None) -> bool:
    """Every |dx/dt| <= factor * steady_state_tol * max(1, max|x|); ``scale`` is max|x| when already known."""
    if scale is None:
        scale = float(np.abs(runner.state() if state is None else state).max(initial=0.0))
    # concentration rates, to match the concentration scale (amount rates in a 4e-12 L compartment made
    # this check 2.5e11 times too loose and let a false root of Huang-Ferrell 1996 pass)
    rates = np.abs(np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float))
    limit = factor * options.steady_state_tol * max(1.0, scale)
    return bool(rates.max(initial=0.0) <= limit)  # NaN compares False, so NaN rates fail


def _verify(runner: _Runner, options: SolverOptions) -> str | None:
    """None if the current state is a verified stable steady state, else why not.

    Checks, cheapest first: finite and non-negative concentrations, rates of change ~ 0, and linear
    stability from the reduced Jacobian's eigenvalues (LAPACK dgeev directly: numpy's wrapper costs
    more than the 22x22 decomposition itself). It runs after every Newton solve, so each check is one
    numpy call on the state fetched once: max|x| is NaN or inf exactly when some value is, so it doubles
    as the finiteness check and as the rate check's scale.
    """
    state = runner.state()
    scale = float(np.abs(state).max(initial=0.0))  # max propagates NaN
    if not math.isfinite(scale):
        return "non-finite state"
    if state.min(initial=0.0) < -max(options.atol * 1e3, 1e-9 * scale):
        return "negative concentration at the root"
    if not _rates_small(runner, options, scale=scale):
        return "rates of change not ~ 0 at the root"
    if runner.laws is not None:
        drift = np.abs(runner.conserved() - runner.law_totals)
        if drift.max(initial=0.0) > 1e-6 * max(1e-300, float(np.abs(runner.law_totals).max(initial=0.0))):
            return "root violates a conservation law of the initial state"
    jac = np.asarray(runner.rr.getReducedJacobian(), dtype=float)
    if jac.size:
        if not np.isfinite(jac).all():
            return "non-finite Jacobian at the root"
        wr, wi, _, _, info = _dgeev(jac, compute_vl=0, compute_vr=0)
        if info == 0:
            lead = float(wr.max())
            # the bound is > 0, so a lead <= 0 (or NaN) passes without the spectral radius being computed
            if lead > 0 and lead > 1e-9 * max(1e-12, float(np.hypot(wr, wi).max())):
                return f"unstable fixed point (largest eigenvalue real part {lead:.3g})"
    return None


def _probe_oscillation(
    runner: _Runner, ids: tuple[str, ...], options: SolverOptions, t_start: float, period_guess: float | None
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Detect a sustained oscillation by simulating on from the current state.

    Windows of 40 guessed periods (``period_guess`` from the Jacobian's leading complex pair), 8000 points
    each, are tried at the guess and at 1/30 of it: a guess taken far from the fixed point can overshoot
    the real period many-fold (32752 s instead of 1300 s for Kholodenko 2000), which would leave too few
    samples per cycle. Without a guess the window is ``max(t_start, 1)`` model time units.

    Returns (period, low and high over the last cycle, time-average over the last whole cycles, their
    number) per selected id, or None.
    """
    base = 40 * period_guess if period_guess else max(t_start, 1.0)
    start = runner.state()
    for window in (base, base / 30):
        runner.set_state(start)
        try:
            result = np.asarray(runner.rr.simulate(t_start, t_start + window, 8001))
        except RuntimeError:
            continue
        time, values = result[:, 0], result[:, 1:]
        period = _period(time, values, floor=100 * options.atol)
        if period is not None:
            last = time >= time[-1] - period
            mean, cycles = _cycle_mean(time, values, period)
            return period, values[last].min(axis=0), values[last].max(axis=0), mean, cycles
    return None


def _cycle_mean(time: np.ndarray, values: np.ndarray, period: float) -> tuple[np.ndarray, int]:
    """Time-average of each column over the whole periods that fit in the second half of the trajectory.

    The second half is where :func:`_period` found the cycle sustained; averaging over a whole number of
    periods makes the mean independent of the phase the window ends at. Trapezoid rule on the samples,
    the window's first point interpolated linearly.
    """
    half = time[0] + 0.5 * (time[-1] - time[0])
    cycles = max(1, int((time[-1] - half) // period))
    start = max(time[0], time[-1] - cycles * period)
    keep = time > start
    t = np.concatenate([[start], time[keep]])
    first = np.array([np.interp(start, time, values[:, j]) for j in range(values.shape[1])])
    y = np.vstack([first[None, :], values[keep]])
    return np.trapezoid(y, t, axis=0) / (t[-1] - t[0]), cycles


def _period(time: np.ndarray, values: np.ndarray, floor: float = 0.0) -> float | None:
    """Period of a sustained oscillation in the second half of a trajectory, or None.

    Sustained means: at least 4 peaks of the most variable column with regular intervals (relative spread
    < 5 %), non-decaying heights (last/first peak-to-trough > 0.9) and a swing > 1e-3 of its level and
    > ``floor`` (so integrator noise on values near zero is not mistaken for a cycle).
    """
    from scipy.signal import find_peaks

    half = time >= time[0] + 0.5 * (time[-1] - time[0])
    t, y = time[half], values[half]
    if y.shape[0] < 10 or y.shape[1] == 0:
        return None
    swing = y.max(axis=0) - y.min(axis=0)
    level = np.maximum(np.abs(y).max(axis=0), 1e-300)
    col = int(np.argmax(np.where(swing > floor, swing / level, 0.0)))
    if swing[col] <= floor or swing[col] / level[col] < 1e-3:
        return None
    series = y[:, col]
    peaks, _ = find_peaks(series, prominence=0.25 * swing[col])
    troughs, _ = find_peaks(-series, prominence=0.25 * swing[col])
    if len(peaks) < 4 or len(troughs) < 3:
        return None
    intervals = np.diff(t[peaks])
    if np.std(intervals) > 0.05 * np.mean(intervals):
        return None
    first = series[peaks[1]] - series[troughs[0]]
    last = series[peaks[-1]] - series[troughs[-1]]
    if first <= 0 or last / first < 0.9:
        return None
    return float(np.mean(intervals[1:] if len(intervals) > 2 else intervals))


# ------------------------------------------------------------------------------------- time courses


def time_course(
    model: CompiledModel,
    times: Sequence[float] | np.ndarray,
    condition: Condition | Mapping[str, float] | None = None,
    *,
    pre_equilibrate: bool = True,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = True,
) -> Trajectory:
    """Simulate ``condition`` at ``times`` (model time units, increasing, ``times[0]`` is when the drug is added).

    With ``pre_equilibrate`` (default) the cell starts at the steady state of the untreated condition
    (same cell line and values, every dose 0), and the drug is added at ``times[0]``: the protocol of a
    western-blot time course. If the untreated model has no steady state (it oscillates) the run starts
    from the initial conditions and the record's message says so. Without it the run starts from the
    model's initial conditions. A model's ``pre_equilibration`` metadata (settings such as a switched-off
    cell population, which has no steady state while it grows) apply during pre-equilibration only.
    """
    return time_courses(
        model, times, [condition], pre_equilibrate=pre_equilibrate, select=select, options=options, throw=throw
    )[0]


@_quietly
def time_courses(
    model: CompiledModel,
    times: Sequence[float] | np.ndarray,
    conditions: Iterable[Condition | Mapping[str, float] | None],
    *,
    pre_equilibrate: bool = True,
    select: Sequence[str] | None = None,
    options: SolverOptions | None = None,
    throw: bool = False,
) -> list[Trajectory]:
    """Time courses of many conditions; the untreated steady state is solved once per distinct untreated condition."""
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise InputError("times must be a 1-D array of at least 2 finite, strictly increasing values.")
    options = options or SolverOptions()
    ids = _select(model, select)
    if times.size > MAX_TIME_POINTS:
        raise InputError(f"{times.size:,} time points exceed the limit of {MAX_TIME_POINTS:,} per time course "
                         f"({times.size * (len(ids) + 1) * 8 / 1e9:.2g} GB per copy of the table as float64); "
                         "use fewer points: a time course is smooth between them.")
    runner = _runner(model)
    runner.configure(options, ids)
    start_states: dict[bytes, tuple[np.ndarray | None, str]] = {}
    out = []
    for condition in conditions:
        treated, untreated = _split_condition(condition)
        params, init = runner.vectors(treated)
        note = ""
        start = None
        if pre_equilibrate:
            # the model's own pre-equilibration settings (e.g. Model B's population switched off) apply here only
            u_params, u_init = runner.vectors({**untreated, **model.pre_equilibration})
            key = u_params.tobytes() + u_init.tobytes()
            if key not in start_states:
                runner.load(u_params, u_init)
                record = _solve(runner, ids, options)
                start_states[key] = (
                    (runner.state(), "") if record.ok
                    else (None, f"started from the initial conditions: the untreated condition has no steady state "
                                f"to pre-equilibrate to ({record.status}: {record.message})")
                )
            start, note = start_states[key]
        runner.load(params, init)  # same totals as the untreated state: cell line values are shared
        if start is not None:
            runner.set_state(start)
        traj = _integrate(runner, times, ids, note, pre_equilibrated=start is not None)
        if traj.status == FAILED:
            # At tight tolerances CVODE's error test can fail right after t0 when a rate law has a kink at the
            # start state (Model B's max(0, 1 - ERK), ERK = 1 before the drug) and the first output time is far
            # away; with output times close to t0 it passes. Retry once from the same start on a grid refined
            # towards t0 (log-spaced) and keep the requested rows.
            runner.load(params, init)
            if start is not None:
                runner.set_state(start)
            span = float(times[-1] - times[0])
            grid = np.unique(np.concatenate([times, times[0] + span * np.geomspace(_RETRY_FIRST_STEP, 1.0, 40)]))

            def restart(params=params, init=init, start=start) -> None:
                runner.load(params, init)
                if start is not None:
                    runner.set_state(start)

            retry = _integrate(runner, grid, ids, note, pre_equilibrated=start is not None, restart=restart)
            if retry.ok:
                keep = np.isin(grid, times)
                traj = Trajectory(times.copy(), ids, retry.values[keep], OK,
                                  "; ".join(x for x in (note, f"integrated on a grid refined towards t0 after the "
                                                              f"integrator failed ({_plain_reason(traj.message)})")
                                            if x),
                                  pre_equilibrated=retry.pre_equilibrated)
            else:
                traj = Trajectory(times.copy(), ids, np.full((times.size, len(ids)), np.nan), FAILED, retry.message,
                                  pre_equilibrated=retry.pre_equilibrated)
        if throw and traj.status == FAILED:
            raise SimulationError(f"time course of model {model.name!r} failed: {traj.message}")
        out.append(traj)
    return out


def _integrate(
    runner: _Runner, times: np.ndarray, ids: tuple[str, ...], note: str, *, pre_equilibrated: bool, restart=None
) -> Trajectory:
    """Integrate from the current state over ``times``; a failure is a FAILED record.

    With ``restart`` (puts the runner back at the start state) the failure is explained in the model's terms
    (:func:`_explain_failure`, a few extra short runs); without it the message is the integrator's own.
    """
    try:
        result = np.asarray(runner.rr.simulate(times=times.tolist()), dtype=float)
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "integrator error"
        if restart is not None:
            failed_at = float(runner.m.getTime())
            restart()
            message = _explain_failure(runner, float(times[0]), failed_at, message)
            if note:  # the only note: pre-equilibration skipped (its own message would repeat this one)
                message += " (the run started from the initial conditions: the untreated condition has no steady state)"
        return Trajectory(times, ids, np.full((times.size, len(ids)), np.nan), FAILED, message,
                          pre_equilibrated=pre_equilibrated)
    return Trajectory(result[:, 0].copy(), ids, result[:, 1:].copy(), OK, note, pre_equilibrated=pre_equilibrated)


#: CVODE's failure flags in words (the rest of its message is solver internals)
_CVODE_REASONS = {
    "CV_TOO_MUCH_WORK": "the integrator needed more than max_steps steps between two output times (very fast or "
                        "stiff dynamics; raise SolverOptions.max_steps or add output times)",
    "CV_CONV_FAILURE": "the integrator's step size shrank to nothing (a blow-up, a discontinuity or a singular "
                       "rate law)",
    "CV_ERR_FAILURE": "the integrator's error test failed repeatedly (a discontinuity or a kink in a rate law)",
    "CV_RHSFUNC_FAIL": "a rate law could not be evaluated (e.g. a division by zero or a negative base to a "
                       "fractional power)",
    "CV_TOO_CLOSE": "the start and end times are too close",
}


def _plain_reason(raw: str) -> str:
    """An integrator message in words: the CVODE flag translated, or the first line of the message."""
    for flag, words in _CVODE_REASONS.items():
        if flag in raw:
            return words
    first = raw.strip().splitlines()[0] if raw.strip() else "integrator error"
    return first.split("; In ")[0]  # roadrunner appends the C++ function it failed in


def _time_unit(runner: _Runner) -> str:
    return runner.model.time_unit or "model time units"


def _explain_failure(runner: _Runner, t0: float, failed_at: float, raw: str) -> str:
    """Why an integration from the current state (at ``t0``) stopped at ``failed_at``, in the model's terms.

    Re-integrates to 90, 99 and 99.9 % of the way to the failure and looks at the floating species there. A
    variable that is already large and still grows tenfold over that last stretch is blowing up: "X grows
    without bound near t = 1" is what the user can act on (a rate law that produces without limit), where the
    integrator only reports that its step size shrank to nothing. Otherwise: the integrator's reason in words
    and the fastest-changing variable at the last point reached.
    """
    reason = _plain_reason(raw)
    unit = _time_unit(runner)
    span = failed_at - t0
    names = list(runner.m.getFloatingSpeciesIds())
    with np.errstate(invalid="ignore"):
        rates = np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float)
    bad = [n for n, r in zip(names, rates, strict=False) if not math.isfinite(r)]
    if bad:
        return (f"the rate of change of {', '.join(bad[:5])} is not a number at the start (t = {t0:.4g} {unit}): a "
                "rate law divides by zero or takes an invalid power or log there; check the rate laws of "
                f"{'that species' if len(bad) == 1 else 'those species'}")
    if not (math.isfinite(span) and span > 0):
        return f"the simulation failed at its start (t = {t0:.4g} {unit}): {reason}"
    start = np.abs(np.asarray(runner.m.getFloatingSpeciesConcentrations(), dtype=float))
    scale = max(1.0, float(start.max(initial=0.0)))
    probes, t = [], t0
    for fraction in (0.9, 0.99, 0.999):
        end = t0 + fraction * span
        try:
            runner.rr.simulate(t, end, 2)
        except RuntimeError:
            break
        probes.append((end, np.asarray(runner.m.getFloatingSpeciesConcentrations(), dtype=float)))
        t = end
    if not probes or not names:
        return f"the simulation stopped near t = {failed_at:.4g} {unit}: {reason}"
    t_last, last = probes[-1]
    first = probes[0][1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        growth = np.where(np.isfinite(last), np.abs(last) / np.maximum(np.abs(first), 1e-300), np.inf)
    j = int(np.nanargmax(np.where(np.abs(last) > 10 * scale, growth, 0.0))) if np.any(np.abs(last) > 10 * scale) \
        else -1
    if j >= 0 and (growth[j] > 10 or not np.isfinite(last[j])):
        return (f"{names[j]} grows without bound near t = {failed_at:.4g} {unit} ({names[j]} = {last[j]:.3g} at "
                f"t = {t_last:.4g}, from {start[j]:.3g} at t = {t0:.4g}); check the rate laws that produce it for "
                "growth without limit (a positive feedback without saturation, a missing degradation)")
    rates = np.abs(np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float))
    k = int(np.nanargmax(np.where(np.isfinite(rates), rates, np.inf))) if rates.size else 0
    per = runner.model.time_unit or "model time unit"
    return (f"the simulation stopped near t = {failed_at:.4g} {unit}: {reason}; fastest-changing variable there: "
            f"{names[k]} ({names[k]} = {last[k]:.3g}, rate {rates[k]:.3g} per {per})")


# ------------------------------------------------------------------------- metabolic control analysis


@dataclass(frozen=True)
class ControlCoefficients:
    """Scaled control or response coefficients at the steady state of one condition (roadrunner's MCA).

    ``values[i, j]`` is d ln ``rows[i]`` / d ln ``columns[j]``. ``kind`` is ``"flux"`` (rows: reaction fluxes,
    columns: reaction rates), ``"concentration"`` (rows: floating species, columns: reaction rates) or
    ``"response"`` (rows: species or reaction fluxes, columns: parameters). NaN unless ``status == "ok"``.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    kind: str
    status: str
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the coefficients were computed at a verified steady state."""
        return self.status == OK

    def __getitem__(self, key: tuple[str, str]) -> float:
        row, column = key
        return float(self.values[self.rows.index(row), self.columns.index(column)])

    def to_frame(self):
        """Long ``pandas.DataFrame``: ``row``, ``column``, ``value``, ``kind``, ``status``."""
        import pandas as pd

        grid_r, grid_c = np.meshgrid(self.rows, self.columns, indexing="ij")
        return pd.DataFrame({"row": grid_r.ravel(), "column": grid_c.ravel(), "value": self.values.ravel(),
                             "kind": self.kind, "status": self.status})


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
        return ControlCoefficients(rows, columns, np.full((len(rows), len(columns)), np.nan), kind, FAILED, problem)
    return ControlCoefficients(rows, columns, values, kind, OK)


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
                               OK if problem is None else FAILED, problem or "")
