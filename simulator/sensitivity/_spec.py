"""What a sensitivity analysis asks: the model, its parameter ranges, outputs, method and settings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import cast

from ..engine import SolverOptions
from ..errors import InputError
from ..model import CompiledModel, resolve_values
from ._outputs import Output, check_outputs
from ._ranges import ParameterSpace

METHODS = ("sobol", "morris", "efast", "local")


#: default N per method: Sobol base samples (power of 2), Morris trajectories, eFAST samples per curve
DEFAULT_N = MappingProxyType({"sobol": 256, "morris": 20, "efast": 129, "local": 0})


#: index names per method
INDICES = MappingProxyType({"sobol": ("S1", "ST"), "morris": ("mu", "mu_star", "sigma"), "efast": ("S1", "ST"),
                            "local": ("scaled", "unscaled")})


#: the index that ranks parameters
MAIN_INDEX = MappingProxyType({"sobol": "ST", "morris": "mu_star", "efast": "ST", "local": "scaled"})


FAILURE_POLICIES = ("refuse", "drop")


#: what SALib's estimators do with NaN outputs, and what this module does about it (stored in each manifest)
NAN_POLICY = (
    "SALib's estimators propagate NaN (Sobol normalises Y by its mean and std, so one NaN makes every index of "
    "the output NaN; a NaN in a Morris trajectory makes its parameter's mu and sigma NaN; eFAST's FFT of a search "
    "curve with a NaN is NaN). Failed runs are retried once with tighter integrator settings; an output column "
    "that still has failed or undefined rows is refused (indices NaN, rows listed in failures) unless "
    "on_failure='drop' (Sobol: drop whole Saltelli blocks; Morris: whole trajectories; recorded)."
)


@dataclass(frozen=True)
class SensitivitySpec:
    """What to analyse.

    Attributes
    ----------
    model
        Compiled model (workers rebuild roadrunner from its SBML).
    space
        The varied parameters and their ranges (:class:`simulator.sensitivity.ParameterSpace`).
    outputs
        Outputs of interest (:func:`simulator.sensitivity.parse_output`).
    method
        ``"sobol"``, ``"morris"``, ``"efast"`` or ``"local"``.
    n
        Sobol base samples (a power of 2), Morris trajectories, or eFAST samples per search curve
        (> 4 * harmonics^2); ignored by ``local``. Default :data:`DEFAULT_N`.
    seed
        Seeds the design and every bootstrap (>= 0).
    second_order
        Sobol only: also S2 (costs N(2D+2) runs instead of N(D+2)).
    levels
        Morris grid levels (even; 4 by default).
    harmonics
        eFAST interference parameter M.
    replicates
        eFAST only: independent designs (random phase shifts of the search curves). With >= 2 the index is
        their mean and its interval the Student-t interval of the mean (the replicate spread is the real Monte
        Carlo error); with 1, SALib's half-sample bootstrap, which SALib itself calls indicative only.
    step
        Local: the step h in ln p (log-uniform ranges) or h*(high - low) (uniform ranges).
    resamples
        Bootstrap draws per index.
    conf_level
        Level of every confidence interval.
    on_failure
        ``"refuse"`` (default) or ``"drop"`` (``docs/notes/sensitivity.md``).
    rank_top
        How many top parameters per output must be separated by their CIs before the run stops warning.
    chunk_rows
        Rows per chunk (default: from the number of rows only, so a resumed run chunks identically).
    options
        Solver settings.
    values
        Parameter values held in every evaluation, treated and untreated (so before pre-equilibration), over the
        cell line's (``--set``); stored as sorted (id, value) pairs. The space may not vary them.
    switch_off
        Names of the model's switches (metadata ``[switches]``) turned off in every evaluation (``--switch-off``).
    """

    model: CompiledModel
    space: ParameterSpace
    outputs: tuple[Output, ...]
    method: str = "sobol"
    n: int | None = None
    seed: int = 0
    second_order: bool = False
    levels: int = 4
    harmonics: int = 4
    replicates: int = 1
    step: float = 0.01
    resamples: int = 200
    conf_level: float = 0.95
    on_failure: str = "refuse"
    rank_top: int = 5
    chunk_rows: int | None = None
    options: SolverOptions = field(default_factory=SolverOptions)
    values: Mapping[str, float] | tuple[tuple[str, float], ...] = ()  # a mapping in; stored as sorted pairs
    switch_off: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "values", tuple(sorted(dict(self.values).items())))
        object.__setattr__(self, "switch_off", tuple(self.switch_off))
        held = self.applied_values  # unknown ids or switches: refused with the close names
        both = [p for p in self.space.ids if p in held]
        if both:
            raise InputError(f"parameter(s) {', '.join(both)} are both varied and held by --set/--switch-off "
                             f"({', '.join(f'{k} = {held[k]:g}' for k in both)}); leave them out of one of the two "
                             "(--exclude, or drop the --set).")
        if self.method not in METHODS:
            raise InputError(f"unknown sensitivity method {self.method!r}; valid: {', '.join(METHODS)}.")
        n = int(DEFAULT_N[self.method] if self.n is None else self.n)
        object.__setattr__(self, "n", n)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed {self.seed!r} must be a whole number >= 0.")
        if self.method == "sobol" and (n < 2 or n & (n - 1)):
            raise InputError(f"Sobol needs N = a power of 2 >= 2 (the balance of Sobol' points), not {n}; "
                             f"e.g. {2 ** max(1, round(math.log2(max(n, 2))))}.")
        if self.method == "morris":
            if n < 2:
                raise InputError(f"Morris needs N >= 2 trajectories, not {n}.")
            if self.levels < 2 or self.levels % 2:
                raise InputError(f"Morris levels must be an even number >= 2, not {self.levels}.")
        if self.method == "efast" and n <= 4 * self.harmonics ** 2:
            raise InputError(f"eFAST needs N > 4*M^2 = {4 * self.harmonics ** 2} samples per curve, not {n}.")
        if self.replicates < 1 or (self.replicates > 1 and self.method != "efast"):
            raise InputError(f"replicates {self.replicates!r}: must be >= 1, and > 1 only for eFAST.")
        if not 0 < self.step < 0.5:
            raise InputError(f"local step {self.step!r} must lie in (0, 0.5) (a fraction, in ln p).")
        if self.resamples < 10:
            raise InputError(f"resamples {self.resamples!r} must be >= 10 for a bootstrap interval.")
        if not 0 < self.conf_level < 1:
            raise InputError(f"conf_level {self.conf_level!r} must lie strictly between 0 and 1.")
        if self.on_failure not in FAILURE_POLICIES:
            raise InputError(f"on_failure {self.on_failure!r} is not one of {', '.join(FAILURE_POLICIES)}.")
        if self.on_failure == "drop" and self.method not in ("sobol", "morris"):
            raise InputError(f"on_failure='drop' applies to Sobol and Morris only, not {self.method}: its estimator "
                             "needs every row.")
        if self.chunk_rows is not None and self.chunk_rows < 1:
            raise InputError(f"chunk_rows {self.chunk_rows!r} must be >= 1.")
        settable = set(self.model.parameters)
        unknown = [p for p in self.space.ids if p not in settable]
        if unknown:
            raise InputError(f"parameter(s) {', '.join(unknown)} are not settable parameters of model "
                             f"{self.model.name!r}.")
        check_outputs(self.outputs, self.model)

    @property
    def applied_values(self) -> dict[str, float]:
        """The values every evaluation holds: the switches turned off, then :attr:`values`."""
        return resolve_values(self.model, dict(self.values), self.switch_off)

    @property
    def base_samples(self) -> int:
        """N, the method's base sample size: ``n`` after construction (where ``None`` became the default)."""
        return cast(int, self.n)

    @property
    def rows(self) -> int:
        """Model evaluations the design needs."""
        d, n = len(self.space.ranges), self.base_samples
        return {"sobol": n * ((2 * d + 2) if self.second_order else (d + 2)), "morris": n * (d + 1),
                "efast": n * d * self.replicates, "local": 4 * d + 1}[self.method]

    def problem(self) -> dict:
        """SALib problem definition in the sampling space."""
        return {"num_vars": len(self.space.ranges), "names": list(self.space.ids),
                "bounds": self.space.sample_bounds()}
