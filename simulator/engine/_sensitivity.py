"""Forward sensitivities of a time course: the augmented model of :mod:`simulator.model` integrated by roadrunner.

The initial sensitivities are the derivatives of the initial state (initial assignments included); after a
pre-equilibration they come from the steady state by the implicit-function theorem, ``J ds* = -(df/dq) w``, with
every quantity the linearised dynamics conserves (the left null space of ``J``: conservation laws and pools that
are conserved at rest) held at its initial value, solved by least squares. No integration to steady state is
needed for them (issue 18 ANALYSIS 2e: 4.3 ms against 8.8 s of re-solved steady states on Isensee).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..model import CompiledModel
from ._roadrunner import _quietly, _Runner, _runner
from ._steady import _solve
from ._types import SolverOptions

#: singular values of J below this fraction of the largest count as conserved directions (ANALYSIS 2e)
_NULL_RTOL = 1e-10


#: plain-model runners for the pre-equilibrations of sensitivity runs, per model: not the engine's shared ones,
#: so a sensitivity run never leaves a time course's runner in another state (tolerances, loaded values)
_PREEQ_RUNNERS: dict[str, _Runner] = {}


def _preeq_runner(model: CompiledModel) -> _Runner:
    runner = _PREEQ_RUNNERS.get(model.sha256)
    if runner is None:
        if len(_PREEQ_RUNNERS) >= 4:
            _PREEQ_RUNNERS.pop(next(iter(_PREEQ_RUNNERS)))
        runner = _PREEQ_RUNNERS[model.sha256] = _Runner(model)
    return runner


def prepare_sensitivities(system) -> None:
    """Compile (or load from the compile cache) the augmented model's runner now, not inside a timed start."""
    _runner(system.aug)


def _q_vector(system, values: Mapping[str, float]) -> np.ndarray:
    defaults = system.model.parameters
    return np.array([values.get(p, defaults[p]) for p in system.params], dtype=float)


def _weight_matrix(system, weights: np.ndarray) -> np.ndarray:
    """(params x theta) matrix of d q / d theta from the pair weights."""
    out = np.zeros((len(system.params), system.n_theta))
    for (k, j), w in zip(system.pairs, weights, strict=True):
        out[k, j] += w
    return out


def _initial(system, values: Mapping[str, float], wmat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Initial state and sensitivities; a species the condition sets starts at that value, independent of theta."""
    q = _q_vector(system, values)
    x0 = system.x0(q).ravel()
    dx0 = system.dx0(q)
    for i, s in enumerate(system.states):
        if s in values and s not in system.model.parameters:
            x0[i] = values[s]
            dx0[i] = 0.0
    return x0, dx0 @ wmat


@_quietly
def sensitivity_course(
    system,
    aug_model: CompiledModel,
    times: np.ndarray,
    treated: Mapping[str, float],
    weights: np.ndarray,
    *,
    untreated: Mapping[str, float] | None = None,
    untreated_weights: np.ndarray | None = None,
    options: SolverOptions,
) -> np.ndarray | str:
    """Sensitivities of the system's outputs at ``times``: array (times x outputs x theta), or why it failed.

    Parameters
    ----------
    system
        A :class:`simulator.model.SensitivitySystem`.
    aug_model
        ``system.aug`` (passed so the engine's runner cache keys on it).
    times
        Output times (the first is the start).
    treated
        Values of the simulated condition (model parameters and species).
    weights
        Pair weights ``d q / d theta`` (``system.pairs`` order) in the simulated condition.
    untreated, untreated_weights
        The pre-equilibration condition and its weights; ``None``: no pre-equilibration.
    options
        Solver settings of the augmented model's integration (and of the pre-equilibration).
    """
    wmat = _weight_matrix(system, weights)
    if untreated is None:
        x_start, s_start = _initial(system, treated, wmat)
    else:
        if untreated_weights is None:
            raise ValueError("sensitivity_course: untreated_weights are required with untreated")
        solved = _preequilibrate(system, untreated, _weight_matrix(system, untreated_weights), options)
        if isinstance(solved, str):
            return solved
        x_start, s_start = solved
        # PEtab: a species the simulation condition sets starts there again after the pre-equilibration
        for i, sid in enumerate(system.states):
            if sid in treated and sid not in system.model.parameters:
                x_start[i], s_start[i] = treated[sid], 0.0
    runner = _load_aug(system, aug_model, treated, weights, x_start, s_start, options)
    try:
        result = np.asarray(runner.rr.simulate(times=np.asarray(times, dtype=float).tolist()), dtype=float)
    except RuntimeError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "integrator error"
    return result[:, 1:].reshape(len(times), len(system.outputs), system.n_theta)


@_quietly
def steady_sensitivity(system, aug_model: CompiledModel, treated: Mapping[str, float], weights: np.ndarray, *,
                       options: SolverOptions) -> np.ndarray | str:
    """Sensitivities of the outputs at the steady state of ``treated`` (outputs x theta), or why it failed.

    The steady state is the engine's own (from the initial conditions, as PEtab's ``time = inf`` measurements);
    its sensitivities come from the implicit-function theorem, with the conserved quantities held at the values
    of the initial state.
    """
    solved = _preequilibrate(system, treated, _weight_matrix(system, weights), options)
    if isinstance(solved, str):
        return solved
    runner = _load_aug(system, aug_model, treated, weights, *solved, options)
    return runner.selected().reshape(len(system.outputs), system.n_theta)


def _load_aug(system, aug_model: CompiledModel, treated: Mapping[str, float], weights: np.ndarray,
              x_start: np.ndarray, s_start: np.ndarray, options: SolverOptions):
    """The augmented model's runner with the condition's parameters, the weights and the start state set."""
    runner = _runner(aug_model)
    runner.configure(options, system.selection())
    params, init = runner.vectors({**{k: v for k, v in treated.items() if k in runner._param_pos},
                                   **{f"w_{k}": w for k, w in enumerate(weights)}})
    runner.load(params, init)
    if not hasattr(runner, "sens_idx"):
        ids = list(runner.m.getGlobalParameterIds())
        names = [f"x__{s}" for s in system.states] + [f"s__{i}__{j}" for i in range(len(system.states))
                                                       for j in range(system.n_theta)]
        runner.sens_idx = np.array([ids.index(n) for n in names], dtype=np.int32)
    runner.m.setGlobalParameterValues(runner.sens_idx, np.concatenate([x_start, s_start.ravel()]))
    return runner


def _preequilibrate(system, untreated: Mapping[str, float], wmat: np.ndarray,
                    options: SolverOptions) -> tuple[np.ndarray, np.ndarray] | str:
    """Steady state of the untreated condition (the engine's own solve) and its sensitivities by the IFT."""
    model = system.model
    runner = _preeq_runner(model)
    ids = tuple(model.species)
    runner.configure(options, ids)
    runner.load(*runner.vectors({**untreated, **model.pre_equilibration}))
    x0, s0 = _initial(system, untreated, wmat)
    record = _solve(runner, ids, options)
    if not record.ok:
        return f"pre-equilibration failed ({record.status}: {record.message})"
    state = runner.state()  # species (state_ids order), then rate-rule variables (rate_ids order)
    known = dict(zip((*runner.state_ids, *runner.rate_ids), state.tolist(), strict=True))
    x_star = np.array([known[s] if s in known else float(runner.m.getValue(s)) for s in system.states])
    q = _q_vector(system, untreated)
    jac = system.jac(x_star, q, 0.0)
    rhs = -system.fq(x_star, q, 0.0) @ wmat
    u, sv, _ = np.linalg.svd(jac)
    conserved = u[:, sv < _NULL_RTOL * sv[0]].T if sv.size and sv[0] > 0 else np.eye(len(x_star))
    stacked = np.vstack([jac, conserved])
    s_star = np.linalg.lstsq(stacked, np.vstack([rhs, conserved @ s0]), rcond=1e-12)[0]
    return x_star, s_star
