"""Exact derivatives of a PEtab problem's simulated model quantities with respect to its estimated ODE parameters.

The map from estimated parameters to model parameters can differ by condition (a condition-table cell naming a
parameter-table id), so the sensitivities are taken with respect to the estimated parameters themselves: per
experiment, the weight of each (model parameter, estimated parameter) pair is ``d q / d x`` (the scale's chain
factor included), and the engine integrates the augmented model once per experiment
(:func:`simulator.engine.sensitivity_course`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from ..engine import SolverOptions, prepare_sensitivities, sensitivity_course, steady_sensitivity
from ..model import NotSupported, sensitivity_system
from ._petab import PetabProblem

#: the augmented model's tolerances: the derivatives agree with central differences to ~1e-7 relative at rtol 1e-8
#: (ANALYSIS 2d); the residuals themselves still come from the plain model at the objective's tolerances.
#: max_steps 2000 (CVODE steps per output interval): where the augmented solve fails (Fujita at far random points:
#: CV_TOO_MUCH_WORK, 153 states with a dense difference-quotient Jacobian) that Jacobian falls back to central
#: differences (Objective.jacobian), and the failed attempt costs ~0.2-0.9 s instead of 5-12 s at 20000 steps; on 8
#: Fujita start points the exact Jacobians then took 19.5 CPU-s in all against 24.6 by differences (RESULTS.md,
#: "Optimiser of a start"). atol stays 1e-12: 1e-10 was as fast on Fujita but moved Fiedler's trajectories.
SENSITIVITY_OPTIONS = SolverOptions(rtol=1e-8, atol=1e-12, max_steps=2_000)


def _chain(value: float, scale: str) -> float:
    """D linear / d scaled."""
    return value * math.log(10.0) if scale == "log10" else value if scale == "log" else 1.0


class ProblemSensitivities:
    """The sensitivity system of one problem for one list of estimated ODE parameters (built once per process)."""

    def __init__(self, problem: PetabProblem, theta: Sequence[str]) -> None:
        plan = problem._plan
        model = problem.model
        self.problem = problem
        self.theta = tuple(theta)
        self._theta_pos = {t: j for j, t in enumerate(self.theta)}
        pairs = []
        for cond in plan.conditions.values():
            for key, value in cond.items():
                if isinstance(value, str) and value in self._theta_pos:
                    if key not in model.parameters:
                        raise NotSupported(f"a condition sets species {key!r} to the estimated parameter {value!r}")
                    pairs.append((key, self._theta_pos[value]))
        for t, j in self._theta_pos.items():
            if t in model.parameters:
                pairs.append((t, j))
        self.system = sensitivity_system(model, pairs, len(self.theta), plan.select)
        prepare_sensitivities(self.system)
        self._pairs = [(self.system.params[k], j) for k, j in self.system.pairs]

    def _weights(self, cond_id: str, chain: np.ndarray) -> np.ndarray:
        """Pair weights ``d q / d x`` in one condition."""
        cond = self.problem._plan.conditions[cond_id]
        out = np.zeros(len(self._pairs))
        for n, (q, j) in enumerate(self._pairs):
            if q in cond:
                source = cond[q]
                hit = isinstance(source, str) and self._theta_pos.get(source) == j
            else:
                hit = self.theta[j] == q
            out[n] = chain[j] if hit else 0.0
        return out

    def compute(self, values: Mapping[str, float], scales: Mapping[str, str],
                options: SolverOptions = SENSITIVITY_OPTIONS) -> tuple[np.ndarray | str, ...]:
        """Per experiment: (times x selected ids x theta) derivatives by the scaled parameters, or why it failed."""
        plan = self.problem._plan
        chain = np.array([_chain(values[t], scales[t]) for t in self.theta])
        model_values = {pid: values[pid] for pid in plan.model_parameter_ids}
        out = []
        for exp in plan.experiments:
            treated = model_values | _resolved(plan.conditions[exp.sim_id], values)
            untreated = untreated_w = None
            if exp.preeq_id is not None:
                untreated = model_values | _resolved(plan.conditions[exp.preeq_id], values)
                untreated_w = self._weights(exp.preeq_id, chain)
            weights = self._weights(exp.sim_id, chain)
            n_out = (len(exp.times), len(self.system.outputs), self.system.n_theta)
            timed = (sensitivity_course(self.system, self.system.aug, exp.times, treated, weights,
                                        untreated=untreated, untreated_weights=untreated_w, options=options)
                     if exp.timed else np.zeros(n_out))  # rows of a steady-only pair: unused
            if exp.steady and not isinstance(timed, str):
                steady = steady_sensitivity(self.system, self.system.aug, treated, weights, options=options)
                timed = steady if isinstance(steady, str) else np.concatenate([timed, steady[None]], axis=0)
            out.append(timed)
        return tuple(out)


def _resolved(cond: Mapping[str, float | str], values: Mapping[str, float]) -> dict[str, float]:
    return {k: values[v] if isinstance(v, str) else v for k, v in cond.items()}


@lru_cache(maxsize=8)
def problem_sensitivities(problem: PetabProblem, theta: tuple[str, ...]) -> ProblemSensitivities | str:
    """The sensitivity system of ``problem`` (cached per process), or why the model is not covered."""
    try:
        return ProblemSensitivities(problem, theta)
    except NotSupported as exc:
        return str(exc)
