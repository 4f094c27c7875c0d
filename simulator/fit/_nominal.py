"""A PEtab problem at its nominal parameters, and the PEtab simulation table a fit writes.

``mekisim fit --petab P.yaml --starts 0`` evaluates here.

Why a separate entry: the first thing a modeller does with a problem written elsewhere is check that this tool gives
the published objective at the published parameters; it must take seconds and need no optimizer. With objective
priors the likelihood (``nllh``, what published values give) and the prior term (``nlprior``) are reported apart, with
their sum ``nlpost``, the value a fit minimises.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import petab.v1 as petab_v1

from ..engine import SolverOptions
from ._petab import PetabProblem
from ._petab_simulate import noise_sigma, observe, petab_nllh, solve_experiments
from ._priors import estimated_priors


@dataclass(frozen=True)
class NominalResult:
    """The likelihood of a problem at given parameter values (default: the nominal ones).

    Attributes
    ----------
    source
        The problem's YAML file.
    nllh
        PEtab v1 negative log-likelihood, constants included, priors not included (``inf`` when a condition
        failed).
    chi2
        Sum of squared weighted residuals ``((h(m) - h(y)) / sigma)**2`` (``inf`` when a condition failed).
    n_measurements
        Measurement rows.
    status
        ``"ok"``, or ``"failed"`` when some condition could not be simulated (``messages`` says which and why).
    messages
        One line per failed condition.
    priors
        Whether the parameter table declares objective priors (not included in ``nllh``).
    nlprior
        The negative log-prior of the estimated parameters at their values (0 without priors; ``_priors.py`` for
        the conventions).
    table
        The measurement table with ``simulation`` and ``sigma`` per row (the fit-vs-data table).
    """

    source: Path
    nllh: float
    chi2: float
    n_measurements: int
    status: str
    messages: tuple[str, ...] = ()
    priors: bool = False
    table: pd.DataFrame = field(default=None, repr=False)
    nlprior: float = 0.0

    @property
    def nlpost(self) -> float:
        """``nllh + nlprior``: the negative log-posterior, the value a fit minimises (``nllh`` without priors)."""
        return self.nllh + self.nlprior

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> dict:
        """The JSON record (``nominal.json``)."""
        def number(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {"problem": str(self.source), "nllh": number(self.nllh), "nlprior": number(self.nlprior),
                "nlpost": number(self.nlpost), "chi2": number(self.chi2),
                "n_measurements": self.n_measurements, "status": self.status, "messages": list(self.messages),
                "priors_in_nllh": False, "problem_has_priors": self.priors,
                "objective": "nllh: PEtab v1 negative log-likelihood with constants, without priors; nlprior: "
                             "negative log of the objective priors (untruncated densities as pyPESTO evaluates "
                             "them); nlpost = nllh + nlprior, the value a fit minimises"}


def evaluate_nominal(problem: PetabProblem, parameters: Mapping[str, float] | None = None, *,
                     options: SolverOptions | None = None) -> NominalResult:
    """nllh, chi2 and the fit-vs-data table of ``problem`` at ``parameters`` (default: ``nominalValue``).

    A failed condition does not raise: its rows are NaN, ``status`` is ``"failed"`` and ``messages`` name it.
    The prior term is that of the estimated parameters at their values (``parameters`` or nominal).

    Raises
    ------
    InputError
        An objective prior of the parameter table is invalid (checked before any solve).
    """
    from ._objective import DEFAULT_OPTIONS, to_scaled

    plan = problem._plan
    priors = estimated_priors(problem.parameter_df)
    values = problem.parameter_values(parameters)
    solutions = solve_experiments(problem, values, options=options or DEFAULT_OPTIONS)
    messages = tuple(
        f"condition {exp.preeq_id + ' -> ' if exp.preeq_id else ''}{exp.sim_id}: {solution}"
        for exp, solution in zip(plan.experiments, solutions, strict=True) if isinstance(solution, str)
    )
    simulation = observe(problem, solutions, values)
    sigma = noise_sigma(problem, simulation, values, solutions)
    table = problem.petab.measurement_df.reset_index(drop=True).copy()
    table["simulation"] = simulation
    table["sigma"] = sigma
    table["observableTransformation"] = problem.noise_models[0]  # the scale sigma is on (the figure's band)
    if messages or not np.all(np.isfinite(simulation)):
        nllh = chi2 = math.inf
    else:
        nllh = petab_nllh(problem, simulation, values, solutions)
        transformation, _ = problem.noise_models
        m = plan.measurement
        with np.errstate(divide="ignore", invalid="ignore"):
            hm = np.where(transformation == "log", np.log(m), np.where(transformation == "log10", np.log10(m), m))
            hy = np.where(transformation == "log", np.log(simulation),
                          np.where(transformation == "log10", np.log10(simulation), simulation))
        chi2 = float(np.sum(((hm - hy) / sigma) ** 2))
    df = problem.parameter_df
    has_priors = "objectivePriorType" in df.columns and not all(petab_v1.is_empty(v)
                                                                for v in df["objectivePriorType"])
    estimated = [p.parameter for p in priors.items]
    scales = [p.scale for p in priors.items]
    x = np.zeros(priors.dim)
    x[list(priors.index)] = to_scaled(np.array([values[p] for p in estimated], dtype=float), scales)
    return NominalResult(Path(problem.source), float(nllh), chi2, int(plan.measurement.size),
                         "failed" if messages else "ok", messages, has_priors, table, priors.value(x))


def simulation_table(table: pd.DataFrame) -> pd.DataFrame:
    """The PEtab simulation table of a fit-vs-data table: the measurement columns, ``simulation`` for ``measurement``.

    What ``petab.v1.calculate_llh``, ``petab_visualize`` and other PEtab tools read (PEtab v1 "simulation table").
    """
    columns = [c for c in table.columns if c not in ("measurement", "sigma", "simulation", "observableTransformation")]
    out = table[columns].copy()
    position = list(table.columns).index("measurement") if "measurement" in table.columns else len(columns)
    out.insert(min(position, len(columns)), "simulation", table["simulation"].to_numpy(dtype=float))
    return out


def write_simulation_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`simulation_table` of ``table`` as a PEtab TSV file, atomically (a partial file, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    simulation_table(table).to_csv(partial, sep="\t", index=False, float_format="%.17g")
    partial.replace(path)
    return path
