"""One RoadRunner per process per model, and the checks every steady state passes (rates ~ 0, stability)."""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
from scipy.linalg.lapack import dgeev as _dgeev

from ..errors import InputError, SimulationError
from ..model import CompiledModel, Condition
from ._compile_cache import CompileCache
from ._types import SolverOptions

#: Newton solvers tried in turn from the same start. KINSOL's defaults stop too early for our rate check
#: (380 of 400 Model A conditions failed it), so it runs with tight tolerances.
_NEWTON_SOLVERS = ("newton", "nleq2")


_NEWTON_SETTINGS = {"newton": {"func_norm_tol": 1e-12, "scaled_step_tol": 1e-14}}


class _Runner:
    """A RoadRunner plus the index arrays that set every value in one call. Private to this module."""

    #: indices of the state and sensitivity parameters of an augmented (sensitivity) model; set by
    #: ``engine._sensitivity._load_aug`` on first use (absent until then: it tests ``hasattr``)
    sens_idx: np.ndarray

    def __init__(self, model: CompiledModel, moieties: bool = True) -> None:
        self.model = model
        self.laws: np.ndarray | None = None  # conservation laws checked by hand when roadrunner cannot
        rr, moieties = _compiled(model, moieties)
        self.moieties = moieties
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
        # the state: floating species with an ODE (rule-defined species cannot be set), in the model's order (the
        # same in every runner of the model: a moiety-reduced one lists its species in another order), then the
        # variables of rate rules (parameters, boundary species), which a pre-equilibration must carry as well
        self.state_ids = tuple(s for s in model.species if s in rr_species)
        self.state_idx = np.array([rr_species.index(s) for s in self.state_ids], dtype=np.int32)
        # set in roadrunner's own order (independent species first): in a moiety-reduced model, setting a
        # dependent species before the independent ones it is computed from left the state 1.3 off (Model A)
        self._set_order = np.argsort(self.state_idx, kind="stable")
        self.rate_ids = tuple(rr.model.getRateRuleSymbols())
        self._rate_selectors = tuple(_selector(model, r) for r in self.rate_ids)
        self._rate_volumes = tuple(_compartment_of(model, rr, r) for r in self.rate_ids)
        self.init_ids = tuple(s for s in model.species_initial if s in rr_species)
        self.init_idx = np.array([rr_species.index(s) for s in self.init_ids], dtype=np.int32)
        self.init_default = np.array([model.species_initial[s] for s in self.init_ids], dtype=float)
        self._param_pos = {p: i for i, p in enumerate(self.param_ids)}
        self._init_pos = {s: i for i, s in enumerate(self.init_ids)}
        self._plans: dict[tuple[str, ...], tuple[np.ndarray, ...]] = {}
        self._options: SolverOptions | None = None
        self._selection: tuple[str, ...] | None = None
        self.first_solver_ok = False  # did the last newton() succeed with its first solver (see steady_states)
        # initial assignments of parameters or compartments that read a settable parameter: roadrunner's reset()
        # re-evaluates those of species only, so these models take the slower, complete path of load()
        self.ia_dependent = _initial_assignments_reading(model.sbml, {*self.param_ids, *self.init_ids})
        self._init_keys = tuple(f"init({p})" for p in self.param_ids)
        self._loaded: tuple = ()
        self._breakpoints = _breakpoint_functions(model.breakpoints)

    def breakpoints(self, start: float, stop: float) -> list[float]:
        """Times strictly between ``start`` and ``stop`` where a rule or rate law switches, at the current values."""
        out = set()
        for names, func in self._breakpoints:
            try:
                value = float(func(*(self.m.getValue(n) for n in names)))
            except (RuntimeError, ZeroDivisionError, TypeError, ValueError):
                continue
            if start < value < stop:
                out.add(value)
        return sorted(out)

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
            # a new KINSOL memory block for every solve: roadrunner keeps one per solver across calls, and what
            # it carries from the last solve moved the root found from the same start in its last bits (1e-16
            # relative, 1e-13 absolute; amplified to 1e-6 in a time course by CVODE at rtol 1e-6), so the same
            # condition gave other numbers after other runs (~7 us; tests/test_engine.py checks the bits)
            self.rr.steadyStateSolver.syncWithModel(self.m)
            try:
                self.rr.steadyState()
                # roadrunner may build a new ExecutableModel inside steadyState() (seen for a model with a rate
                # rule on a species): the wrapper taken before then points at freed memory, and reading the state
                # through it segfaulted. A fresh wrapper costs ~1 us.
                self.m = self.rr.model
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
        p_pos, p_at, s_pos, s_at = (np.array([pair[j] for pair in pairs], dtype=np.intp)
                                    for pairs in (params, inits) for j in (0, 1))
        plan = (p_pos, p_at, s_pos, s_at)
        if len(self._plans) >= _MAX_PLANS:
            self._plans.pop(next(iter(self._plans)))
        self._plans[keys] = plan
        return plan

    def load(self, params: np.ndarray, init: np.ndarray, *, init_set: bool = False,
             start: np.ndarray | None = None) -> None:
        """Set every settable value and reset the state to the initial conditions (or to ``start``).

        ``init_set``: the model's initial concentrations are known to equal ``init`` already, so they are not
        set again (~9 us: roadrunner updates the conserved totals on every set). Only :func:`steady_states`
        passes it, for a solve that follows a clean one with the same ``init`` (see there).

        ``start``: a state (:meth:`state`) to continue from instead of the initial conditions, e.g. a
        pre-equilibrated one. :meth:`reload` repeats all of it.

        Initial assignments: ``reset()`` re-evaluates those of species with the values just set, but not those of
        parameters and compartments (``beta_N = R0*gamma/N`` kept its SBML value when a condition set ``R0``: the
        simulation was right at t = 0 and wrong after). For a model with such an assignment reading a settable
        parameter the order is: every parameter's *initial* value (``init(p)``), ``resetAll()`` (every initial
        assignment, in dependency order), then the species' initial concentrations (after it: ``resetAll()``
        keeps a species' amount when its compartment changes) and ``reset()``. The only order found to give all
        five values of the 5-id test model right (tests/test_engine.py). ~50 us instead of ~15 us for 60
        parameters, so the other models keep the short path.
        """
        self._loaded = (params, init, start)
        m = self.m = self.rr.model
        if self.ia_dependent:
            for key, value in zip(self._init_keys, params.tolist(), strict=True):
                m.setValue(key, value)
            self.rr.resetAll()
            if len(self.init_idx):
                m.setFloatingSpeciesInitConcentrations(self.init_idx, init)
            self.rr.reset()
        else:
            if len(self.param_idx):
                m.setGlobalParameterValues(self.param_idx, params)
            if len(self.init_idx) and not init_set:
                m.setFloatingSpeciesInitConcentrations(self.init_idx, init)
            self.rr.reset()
        if start is not None:
            self.set_state(start)
        if self.laws is not None:
            self.law_totals = self.conserved()

    def reload(self) -> None:
        """Back to the start of the last :meth:`load` (initial conditions, or its ``start`` state).

        Not ``reset()`` alone: after a failed NLEQ solve roadrunner's ``reset()`` restored the SBML's own
        initial concentration of a species we had set (E1 in Huang-Ferrell 1996 came back as 3e-5, not 1e-8).
        """
        params, init, start = self._loaded
        self.load(params, init, start=start)

    def selected(self) -> np.ndarray:
        return np.asarray(self.rr.getSelectedValues(), dtype=float)[1:]

    def species(self) -> np.ndarray:
        """Concentrations of the floating species with an ODE, in :attr:`state_ids` order."""
        return np.asarray(self.m.getFloatingSpeciesConcentrations(), dtype=float)[self.state_idx]

    def state(self) -> np.ndarray:
        """The whole state: :meth:`species`, then the value of every rate-rule variable (:attr:`rate_ids`).

        Why the rate-rule variables: a pre-equilibration that carried the species only restarted them from their
        initial values (a toy's X(1) was 2.47 instead of the exact 3.94, with status ok).
        """
        conc = self.species()
        if not self.rate_ids:
            return conc
        return np.concatenate([conc, [self.m.getValue(s) for s in self._rate_selectors]])

    def set_state(self, state: np.ndarray) -> None:
        """Set the state :meth:`state` returned (species, then rate-rule variables)."""
        n = len(self.state_idx)
        conc = np.asarray(state[:n], dtype=float)
        order = self._set_order
        self.m.setFloatingSpeciesConcentrations(self.state_idx[order], conc[order])
        for selector, value in zip(self._rate_selectors, state[n:].tolist(), strict=True):
            self.m.setValue(selector, value)

    def rate_rule_rates(self) -> np.ndarray:
        """d/dt of every rate-rule variable (a species' in concentration per time), in :attr:`rate_ids` order."""
        if not self.rate_ids:
            return np.zeros(0)
        rates = np.asarray(self.rr.getRatesOfChange(), dtype=float)
        if not hasattr(self, "_rate_positions"):
            ids = [self.m.getStateVectorId(i) for i in range(rates.size)]
            self._rate_positions = np.array([ids.index(r) for r in self.rate_ids], dtype=np.intp)
        return rates[self._rate_positions] / np.array([self.m.getValue(v) if v else 1.0 for v in self._rate_volumes])


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


def _compiled(model: CompiledModel, moieties: bool = True):
    """(RoadRunner straight after loading ``model``, whether it uses conserved-moiety analysis).

    From the on-disk cache when it holds this model for this roadrunner build and CPU (~10 ms), else
    compiled (~0.25 s for Model A) and stored (:class:`simulator.engine.CompileCache`). Conserved-moiety analysis
    is set at load: one LLVM compile, not a second one when the flag is set afterwards. With ``moieties``
    the analysis is asked for; a model roadrunner refuses it for (a floating species defined by a rule) is
    compiled without, and a marker in the cache says so, so the next process does not try again.
    """
    import roadrunner

    cache = CompileCache.from_environment()
    build = _roadrunner_build(roadrunner)
    plain_key = cache.key(model.sha256, "plain", *build)
    if moieties:
        moiety_key = cache.key(model.sha256, "moieties", *build)
        refused_key = cache.key(model.sha256, "moieties refused", *build)
        rr = _from_cache(roadrunner, cache, moiety_key)
        if rr is not None:
            return rr, True
        if cache.load(refused_key) is None:
            load_options = roadrunner.LoadSBMLOptions()
            load_options.conservedMoieties = True
            with _sundials_silenced():
                try:
                    rr = roadrunner.RoadRunner(model.sbml, load_options)
                except RuntimeError:  # refused for this model (see _Runner._init_laws); a model that does not
                    rr = None  # compile at all raises again below
            if rr is not None:
                cache.store(moiety_key, rr.saveStateS())
                return rr, True
            cache.store(refused_key, b"conserved-moiety analysis refused")
    rr = _from_cache(roadrunner, cache, plain_key)
    if rr is None:
        with _sundials_silenced():
            rr = roadrunner.RoadRunner(model.sbml)
        cache.store(plain_key, rr.saveStateS())
    return rr, False


def _from_cache(roadrunner, cache: CompileCache, key: str | None):
    """A RoadRunner restored from the cache entry ``key``, or None (absent, or not readable by this roadrunner)."""
    state = cache.load(key)
    if state is None:
        return None
    with _sundials_silenced():  # the integrator (and its SUNDIALS context) is made again by loadStateS
        rr = roadrunner.RoadRunner()
        try:
            rr.loadStateS(state)
        except RuntimeError:
            return None
    return rr


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


_RUNNERS: dict[tuple[str, bool], _Runner] = {}


_MAX_RUNNERS = 32


#: distinct id sequences a runner keeps a :meth:`_Runner.vectors` plan for
_MAX_PLANS = 64


def _runner(model: CompiledModel, moieties: bool = True) -> _Runner:
    """The process's RoadRunner for this model, built once (a build costs ~0.1-0.2 s, a run < 1 ms).

    Two per model: with conserved-moiety analysis (``moieties``, for Newton steady states: the Jacobian of the
    reduced system is regular) and without (time courses: the reduced system failed where the full one
    integrates, Isensee 2018 after a forskolin switch, CV_ERR_FAILURE). A model that refuses the analysis has
    one, plain, runner for both.
    """
    key = (model.sha256, moieties)
    runner = _RUNNERS.get(key)
    if runner is None:
        if len(_RUNNERS) >= _MAX_RUNNERS:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        if not moieties and (model.sha256, True) in _RUNNERS and not _RUNNERS[(model.sha256, True)].moieties:
            runner = _RUNNERS[(model.sha256, True)]
        else:
            try:
                runner = _Runner(model, moieties)
            except RuntimeError as exc:
                raise SimulationError(f"roadrunner could not compile model {model.name!r}: {exc}") from exc
        _RUNNERS[key] = runner
        if moieties and not runner.moieties:
            _RUNNERS[(model.sha256, False)] = runner
    return runner


def forget_runners(model: CompiledModel) -> None:
    """Drop this process's runners of ``model``: the next call builds fresh ones (from the compile cache).

    Why: a fitter re-simulates a start's end point in a fresh solver, so that a value that depended on what the
    process's solver had done before (its history) is caught rather than ranked (issue 18).
    """
    for moieties in (True, False):
        _RUNNERS.pop((model.sha256, moieties), None)


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


def _rates_small(runner: _Runner, options: SolverOptions, factor: float = 1.0, state: np.ndarray | None = None,
                 scale: float | None = None) -> bool:
    """Every |dx/dt| <= factor * steady_state_tol * max(1, max|x|); ``scale`` is max|x| when already known."""
    if scale is None:
        scale = float(np.abs(runner.state() if state is None else state).max(initial=0.0))
    # concentration rates, to match the concentration scale (amount rates in a 4e-12 L compartment made
    # this check 2.5e11 times too loose and let a false root of Huang-Ferrell 1996 pass)
    rates = np.abs(np.asarray(runner.m.getFloatingSpeciesConcentrationRates(), dtype=float))
    if runner.rate_ids:  # a rate-rule variable at rest too (a model of rate rules alone has no reaction rates)
        rates = np.concatenate([rates, np.abs(runner.rate_rule_rates())])
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
    state = runner.species()
    scale = float(np.abs(state).max(initial=0.0))  # max propagates NaN
    if runner.rate_ids:
        scale = max(scale, float(np.abs(runner.state()[state.size:]).max(initial=0.0)))
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


def _breakpoint_functions(expressions: tuple[str, ...]) -> tuple:
    """(argument names, function) per breakpoint expression of the model (:attr:`CompiledModel.breakpoints`)."""
    if not expressions:
        return ()
    import sympy

    out = []
    for text in expressions:
        expr = sympy.sympify(text)
        symbols = sorted(expr.free_symbols, key=str)
        out.append((tuple(str(x) for x in symbols), sympy.lambdify(symbols, expr, modules="math")))
    return tuple(out)


def _compartment_of(model: CompiledModel, rr, sid: str) -> str:
    """The compartment whose size converts a rate-rule species' amount rate to a concentration rate, or ``""``."""
    if sid not in model.concentration_ids:
        return ""  # a parameter or compartment, or a species whose value is its amount
    import libsbml

    species = libsbml.readSBMLFromString(model.sbml).getModel().getSpecies(sid)
    return species.getCompartment() if species is not None else ""


def _initial_assignments_reading(sbml: str, settable: set[str]) -> tuple[str, ...]:
    """Parameters and compartments whose initial assignment reads, directly or through another one, a settable id.

    ``b := 2 a`` and ``c := b + 1`` both count when ``a`` is settable (the closure over chained assignments).
    """
    import libsbml

    model = libsbml.readSBMLFromString(sbml).getModel()
    if model is None or not model.getNumInitialAssignments():
        return ()
    reads = {}
    for assignment in model.getListOfInitialAssignments():
        names, stack = set(), [assignment.getMath()]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            if node.isName():
                names.add(node.getName())
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
        reads[assignment.getSymbol()] = names
    dependent: set[str] = set()
    changed = True
    while changed:
        changed = False
        for symbol, names in reads.items():
            if symbol not in dependent and names & (settable | dependent):
                dependent.add(symbol)
                changed = True
    return tuple(sorted(s for s in dependent if model.getSpecies(s) is None))
