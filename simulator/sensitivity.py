"""Parameter sensitivity: Sobol, Morris and eFAST (SALib) and local coefficients, run at scale.

The only module that imports SALib. A run (:func:`run_sensitivity`) has four stages:

1. **sample** (:func:`sample_matrix`): SALib draws the design in the sampling space of the
   :class:`~simulator.sensitivity_ranges.ParameterSpace` (log10 of the value for log-uniform ranges):
   Saltelli/Sobol' (``SALib.sample.sobol``, scrambled, N a power of 2; N(D+2) runs, or N(2D+2) with
   second-order indices), Morris trajectories (``SALib.sample.morris``, N(D+1) runs) or the eFAST search
   curves (``SALib.sample.fast_sampler``, N*D runs, N > 4M^2). ``local`` is a central-difference stencil
   around the nominal values (4D + 1 runs: steps +-h and +-h/2 in ln p).
2. **evaluate**: the rows, in chunks of stable ids, through :func:`simulator.executor.run_chunks` on any
   executor (serial, process pool, Dask), so memory stays bounded and ``resume=True`` continues a killed
   run; each row's outputs of interest come from :func:`simulator.sensitivity_outputs.evaluate_rows`.
   A row whose simulation failed is retried once with tighter integrator settings (rtol and atol / 100,
   10x the steps); the ``retried`` column says so.
3. **analyse** (:func:`analyze`), per output column, with bootstrap confidence intervals on every index:
   Sobol S1/ST (and S2) from ``SALib.analyze.sobol`` (its bootstrap, ``resamples`` draws); Morris mu,
   mu*, sigma from ``SALib.analyze.morris`` (mu* CI from SALib; mu and sigma CIs by resampling the
   elementary effects the same way); eFAST S1/ST from ``SALib.analyze.fast.compute_orders`` with SALib's
   bootstrap re-implemented on a seeded local generator (SALib's own uses the global NumPy RNG; its
   eFAST CIs are flagged as indicative by SALib itself); local scaled coefficients d ln y/d ln p by
   Richardson-extrapolated central differences, with the difference between the h and h/2 estimates as
   the error bar. Every interval is ``value +- conf`` (normal approximation, ``conf_level``).
4. **rank**: per output column the parameters ordered by the main index (ST for Sobol and eFAST, mu* for
   Morris, |coefficient| for local); a neighbouring pair among the top ``rank_top`` whose intervals
   overlap is *not resolved*, and the run warns that the CIs are too wide to rank them.

Failed model runs are reported, never silently dropped. SALib's estimators propagate NaN: Sobol
normalises Y by its mean and standard deviation, so one NaN makes every index of that output NaN; a NaN
in a Morris trajectory makes the mu/sigma of its parameter NaN; eFAST's Fourier transform of a search curve
with a NaN is NaN throughout. So an output column with any failed or undefined row is, by default
(``on_failure="refuse"``), not analysed: its indices are NaN, and ``failures`` lists every such row with
its parameter vector and message. ``on_failure="drop"`` (Sobol and Morris only) removes whole Saltelli
blocks (the N-th A, B and AB rows together) or whole Morris trajectories that contain a failed row, which
keeps the estimators' structure but conditions the indices on the region where the model runs; the
number dropped is recorded. eFAST needs its complete search curves and local coefficients their stencil,
so for them only the affected columns (or, for local, parameters) are refused.

Seeds: one integer ``seed`` (>= 0) fixes the design and the bootstrap (``seed + 1`` is passed to
SALib's Sobol analysis, which treats 0 as "unseeded"). The global NumPy RNG is never used.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from .engine import OK, SolverOptions
from .errors import InputError
from .executor import make_executor, read_parts, run_chunks
from .files import read_parquet
from .model import CompiledModel
from .ownership import begin_final_writes, claim_folder
from .readouts import LEVEL_CONVENTION, LEVEL_PREFIX
from .sensitivity_outputs import FAILED, Output, check_outputs, column_table, evaluate_rows
from .sensitivity_ranges import ParameterSpace
from .store import fingerprint, job_inputs, write_manifest, write_table

__all__ = [
    "DEFAULT_N",
    "INDICES",
    "MAIN_INDEX",
    "METHODS",
    "NAN_POLICY",
    "SensitivityResult",
    "SensitivitySpec",
    "analyze",
    "rank_parameters",
    "run_sensitivity",
    "sample_matrix",
]

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
        The varied parameters and their ranges (:mod:`simulator.sensitivity_ranges`).
    outputs
        Outputs of interest (:mod:`simulator.sensitivity_outputs`).
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
        ``"refuse"`` (default) or ``"drop"`` (module docstring).
    rank_top
        How many top parameters per output must be separated by their CIs before the run stops warning.
    chunk_rows
        Rows per chunk (default: from the number of rows only, so a resumed run chunks identically).
    options
        Solver settings.
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if self.method not in METHODS:
            raise InputError(f"unknown sensitivity method {self.method!r}; valid: {', '.join(METHODS)}.")
        n = DEFAULT_N[self.method] if self.n is None else self.n
        object.__setattr__(self, "n", int(n))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed {self.seed!r} must be a whole number >= 0.")
        if self.method == "sobol" and (self.n < 2 or self.n & (self.n - 1)):
            raise InputError(f"Sobol needs N = a power of 2 >= 2 (the balance of Sobol' points), not {self.n}; "
                             f"e.g. {2 ** max(1, round(math.log2(max(self.n, 2))))}.")
        if self.method == "morris":
            if self.n < 2:
                raise InputError(f"Morris needs N >= 2 trajectories, not {self.n}.")
            if self.levels < 2 or self.levels % 2:
                raise InputError(f"Morris levels must be an even number >= 2, not {self.levels}.")
        if self.method == "efast" and self.n <= 4 * self.harmonics ** 2:
            raise InputError(f"eFAST needs N > 4*M^2 = {4 * self.harmonics ** 2} samples per curve, not {self.n}.")
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
    def rows(self) -> int:
        """Model evaluations the design needs."""
        d = len(self.space.ranges)
        return {"sobol": self.n * ((2 * d + 2) if self.second_order else (d + 2)), "morris": self.n * (d + 1),
                "efast": self.n * d * self.replicates, "local": 4 * d + 1}[self.method]

    def problem(self) -> dict:
        """SALib problem definition in the sampling space."""
        return {"num_vars": len(self.space.ranges), "names": list(self.space.ids),
                "bounds": self.space.sample_bounds()}


@dataclass(frozen=True)
class SensitivityResult:
    """What a run produced (the tables are also on disk under ``out_dir``).

    Attributes
    ----------
    out_dir
        Output folder.
    method
        The method.
    rows, rows_failed
        Model evaluations, and those that failed or were undefined after the retry.
    columns
        Output-column descriptors (``columns.csv``).
    indices
        Long table: ``column, parameter, parameter_2, index, value, conf, low, high, n_used, note``.
    ranking
        Per output column, parameters by the main index with ``resolved`` flags.
    failures
        Failed/undefined rows with their parameter vectors and messages.
    warnings
        Human-readable warnings (refused outputs, CIs too wide to rank).
    elapsed_s
        Wall-clock seconds of the whole run; ``evaluations_per_s`` = rows evaluated / evaluation seconds.
    """

    out_dir: Path
    method: str
    rows: int
    rows_failed: int
    columns: pd.DataFrame = field(repr=False)
    indices: pd.DataFrame = field(repr=False)
    ranking: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(repr=False)
    warnings: tuple[str, ...]
    elapsed_s: float
    evaluations_per_s: float


# ------------------------------------------------------------------------------------------- sampling


def sample_matrix(spec: SensitivitySpec) -> np.ndarray:
    """The design in the sampling space (log10 for log-uniform ranges), rows = model evaluations.

    Deterministic in ``spec`` (method, N, seed, ranges), so a resumed run can check its stored samples.
    """
    problem = spec.problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sampler warning (e.g. Sobol' balance) is a bug in our checks
        if spec.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, spec.n, calc_second_order=spec.second_order, scramble=True, seed=spec.seed)
        if spec.method == "morris":
            from SALib.sample import morris

            return morris.sample(problem, spec.n, num_levels=spec.levels, seed=spec.seed)
        if spec.method == "efast":
            from SALib.sample import fast_sampler

            return np.concatenate([fast_sampler.sample(problem, spec.n, M=spec.harmonics, seed=[spec.seed, r])
                                   for r in range(spec.replicates)])
    return _local_stencil(spec)


def _local_stencil(spec: SensitivitySpec) -> np.ndarray:
    """Nominal row, then per parameter +h, -h, +h/2, -h/2 (sampling space)."""
    space = spec.space
    nominal = np.array([_to_sample(r, r.nominal) for r in space.ranges])
    rows = [nominal]
    for j, r in enumerate(space.ranges):
        for k in (1.0, -1.0, 0.5, -0.5):
            x = nominal.copy()
            x[j] += k * _local_step(r, spec.step)
            rows.append(x)
    return np.array(rows)


def _to_sample(r, value: float) -> float:
    if r.dist == "loguniform":
        if not value > 0:
            raise InputError(f"parameter {r.id!r} has nominal value {value!r}; local coefficients in ln p need > 0 "
                             "(give it a uniform range).")
        return math.log10(value)
    return value


def _local_step(r, h: float) -> float:
    """The step in the sampling space: h in ln p is h/ln(10) in log10 p; uniform: h*(high - low)."""
    return h / math.log(10.0) if r.dist == "loguniform" else h * (r.high - r.low)


# ------------------------------------------------------------------------------------------- analysis


def _conf_z(conf_level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + conf_level / 2.0))


def analyze(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """Indices with confidence intervals for every output column of ``y`` (rows as in :func:`sample_matrix`).

    Returns the long indices table (module docstring) and notes (refused columns, dropped blocks). A column
    with non-finite values is handled by ``spec.on_failure``; this function never raises for it.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != spec.rows:
        raise InputError(f"{y.shape[0]} output rows for a design of {spec.rows} rows.")
    frames, notes = [], []
    for j in range(y.shape[1]):
        column = f"y{j:04d}"
        frame, note = _analyze_column(spec, samples, y[:, j])
        frame.insert(0, "column", column)
        frames.append(frame)
        if note:
            notes.append(f"{column}: {note}")
    table = pd.concat(frames, ignore_index=True)
    table["low"] = table["value"] - table["conf"]
    table["high"] = table["value"] + table["conf"]
    return table[["column", "parameter", "parameter_2", "index", "value", "conf", "low", "high", "n_used",
                  "note"]], notes


def _frame(names: Sequence[str], results: Mapping[str, tuple[np.ndarray, np.ndarray]], n_used: int,
           note: str) -> pd.DataFrame:
    rows = []
    for index, (values, conf) in results.items():
        for name, v, c in zip(names, values, conf, strict=True):
            rows.append({"parameter": name, "parameter_2": "", "index": index, "value": float(v), "conf": float(c),
                         "n_used": n_used, "note": note})
    return pd.DataFrame(rows)


def _nan_frame(spec: SensitivitySpec, note: str) -> pd.DataFrame:
    d = len(spec.space.ranges)
    nan = np.full(d, np.nan)
    return _frame(spec.space.ids, {i: (nan, nan) for i in INDICES[spec.method]}, 0, note)


def _analyze_column(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray) -> tuple[pd.DataFrame, str]:
    d = len(spec.space.ranges)
    bad = ~np.isfinite(y)
    if spec.method == "local":
        return _local(spec, y)
    block = {"sobol": (2 * d + 2) if spec.second_order else (d + 2), "morris": d + 1, "efast": spec.n}[spec.method]
    note = ""
    if bad.any():
        blocks = np.unique(np.flatnonzero(bad) // block)
        if spec.on_failure == "refuse" or spec.method == "efast":
            why = (f"refused: {int(bad.sum())} failed or undefined run(s) (rows "
                   f"{', '.join(map(str, np.flatnonzero(bad)[:8]))}{', ...' if bad.sum() > 8 else ''}); "
                   "SALib would turn them into NaN indices")
            return _nan_frame(spec, why), why
        keep = np.setdiff1d(np.arange(y.size // block), blocks)
        if keep.size < 2:
            why = f"refused: only {keep.size} complete block(s) left after dropping failed runs"
            return _nan_frame(spec, why), why
        rows = (keep[:, None] * block + np.arange(block)[None, :]).ravel()
        samples, y = samples[rows], y[rows]
        note = f"dropped {blocks.size} of {blocks.size + keep.size} blocks with failed runs"
    n_used = spec.n * spec.replicates if spec.method == "efast" else y.size // block
    if np.ptp(y) == 0:
        zero = np.zeros(d)
        return _frame(spec.space.ids, {i: (zero, zero) for i in INDICES[spec.method]}, n_used,
                      (note + "; " if note else "") + "output constant over the sample: every index is 0"), note
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        if spec.method == "sobol":
            frame = _sobol(spec, y, n_used, note)
        elif spec.method == "morris":
            frame = _morris(spec, samples, y, n_used, note)
        else:
            frame = _efast(spec, y, n_used, note)
    caught = sorted({str(w.message).strip().splitlines()[0] for w in seen})
    if caught:
        frame["note"] = frame["note"] + " | SALib: " + "; ".join(caught)
    return frame, "; ".join(x for x in (note, *caught) if x)


def _sobol(spec: SensitivitySpec, y: np.ndarray, n_used: int, note: str) -> pd.DataFrame:
    from SALib.analyze import sobol

    si = sobol.analyze(spec.problem(), y, calc_second_order=spec.second_order, num_resamples=spec.resamples,
                       conf_level=spec.conf_level, seed=spec.seed + 1)
    frame = _frame(spec.space.ids, {"S1": (np.asarray(si["S1"]), np.asarray(si["S1_conf"])),
                                    "ST": (np.asarray(si["ST"]), np.asarray(si["ST_conf"]))}, n_used, note)
    if spec.second_order:
        ids = spec.space.ids
        rows = [{"parameter": ids[a], "parameter_2": ids[b], "index": "S2", "value": float(si["S2"][a, b]),
                 "conf": float(si["S2_conf"][a, b]), "n_used": n_used, "note": note}
                for a in range(len(ids)) for b in range(a + 1, len(ids))]
        frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
    return frame


def _elementary_effects(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(D, trajectories) elementary effects, as SALib defines them: dy/delta in the unit hypercube.

    Each step of a trajectory changes one parameter by +-delta (delta = levels/(2(levels-1)) of its range);
    the effect is signed by the direction of the step.
    """
    d = len(spec.space.ranges)
    delta = spec.levels / (2.0 * (spec.levels - 1))
    x = samples.reshape(-1, d + 1, d)
    yy = y.reshape(-1, d + 1)
    dx = np.diff(x, axis=1)  # (traj, d, d)
    dy = np.diff(yy, axis=1)  # (traj, d)
    which = np.argmax(np.abs(dx), axis=2)  # parameter changed at each step
    sign = np.sign(np.take_along_axis(dx, which[..., None], axis=2)[..., 0])
    ee = np.full((d, x.shape[0]), np.nan)
    for t in range(x.shape[0]):
        ee[which[t], t] = sign[t] * dy[t] / delta
    return ee


def _morris(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray, n_used: int, note: str) -> pd.DataFrame:
    from SALib.analyze import morris

    si = morris.analyze(spec.problem(), samples, y, num_resamples=spec.resamples, conf_level=spec.conf_level,
                        num_levels=spec.levels, seed=spec.seed + 1)
    ee = _elementary_effects(spec, samples, y)
    rng = np.random.default_rng([spec.seed, 2])
    z = _conf_z(spec.conf_level)
    idx = rng.integers(ee.shape[1], size=(spec.resamples, ee.shape[1]))
    boot = ee[:, idx]  # (d, resamples, traj)
    mu_conf = z * boot.mean(axis=2).std(axis=1, ddof=1)
    sigma_conf = z * boot.std(axis=2, ddof=1).std(axis=1, ddof=1)
    return _frame(spec.space.ids, {"mu": (np.asarray(si["mu"]), mu_conf),
                                   "mu_star": (np.asarray(si["mu_star"]), np.asarray(si["mu_star_conf"])),
                                   "sigma": (np.asarray(si["sigma"]), sigma_conf)}, n_used, note)


def _efast(spec: SensitivitySpec, y: np.ndarray, n_used: int, note: str) -> pd.DataFrame:
    """Run eFAST: SALib's ``compute_orders`` for the indices; CIs from replicates or a half-sample bootstrap.

    The bootstrap is SALib's (``SALib.analyze.fast.bootstrap``: ``resamples`` windows of half the curve at
    random starts, normal interval) on a local generator instead of the global NumPy RNG.
    """
    from SALib.analyze.fast import compute_orders
    from scipy.stats import t as student_t

    d, n, m, reps = len(spec.space.ranges), spec.n, spec.harmonics, spec.replicates
    omega = math.floor((n - 1) / (2 * m))
    est = np.array([[compute_orders(y[(r * d + i) * n:(r * d + i + 1) * n], n, m, omega) for i in range(d)]
                    for r in range(reps)])  # (replicates, d, 2)
    s1, st = est[:, :, 0].mean(axis=0), est[:, :, 1].mean(axis=0)
    if reps > 1:
        q = float(student_t.ppf(0.5 + spec.conf_level / 2.0, reps - 1))
        s1c, stc = (q * est[:, :, k].std(axis=0, ddof=1) / math.sqrt(reps) for k in (0, 1))
        how = f"eFAST: mean of {reps} replicate designs, Student-t interval of the mean"
    else:
        rng = np.random.default_rng([spec.seed, 3])
        z = _conf_z(spec.conf_level)
        half = math.ceil(n * 0.5)
        omega_half = math.floor((half - 1) / (2 * m))
        s1c, stc = np.zeros(d), np.zeros(d)
        for i in range(d):
            curve = y[i * n:(i + 1) * n]
            starts = rng.integers(0, n, size=spec.resamples)
            res = np.array([compute_orders(curve[(s + np.arange(half)) % n], half, m, omega_half) for s in starts])
            s1c[i], stc[i] = z * res[:, 0].std(ddof=1), z * res[:, 1].std(ddof=1)
        how = "eFAST CIs by SALib's half-sample bootstrap: indicative only (SALib issue 649; use replicates >= 2)"
    return _frame(spec.space.ids, {"S1": (s1, s1c), "ST": (st, stc)}, n_used, (note + "; " if note else "") + how)


def _local(spec: SensitivitySpec, y: np.ndarray) -> tuple[pd.DataFrame, str]:
    """Scaled coefficients d ln y/d ln p and unscaled ones, by Richardson-extrapolated central differences.

    ``unscaled`` is dy/d ln p for a log-uniform range and dy/dp for a uniform one (whose nominal may be 0);
    ``scaled`` is d ln y/d ln p in both cases (0 when p = 0). ``D_R = (4 D(h/2) - D(h))/3`` removes the h^2
    error term of the central difference; ``|D_R - D(h/2)|`` is the error bar.
    """
    space = spec.space
    d = len(space.ranges)
    y0 = y[0]
    scaled, unscaled, err_s, err_u = (np.full(d, np.nan) for _ in range(4))
    notes = []
    for j, r in enumerate(space.ranges):
        yp, ym, yp2, ym2 = y[1 + 4 * j: 5 + 4 * j]
        # derivative with respect to the natural coordinate: ln p (log-uniform) or p (uniform)
        h = spec.step if r.dist == "loguniform" else spec.step * (r.high - r.low)
        d_h = (yp - ym) / (2 * h)
        d_h2 = (yp2 - ym2) / h
        d_r = (4 * d_h2 - d_h) / 3
        err = abs(d_r - d_h2)
        if not np.all(np.isfinite([y0, yp, ym, yp2, ym2])):
            notes.append(r.id)
            continue
        unscaled[j], err_u[j] = d_r, err  # dy/d ln p (log-uniform) or dy/dp (uniform)
        factor = 1.0 if r.dist == "loguniform" else r.nominal  # dy/dp * p = dy/d ln p
        if y0 != 0:
            scaled[j], err_s[j] = d_r * factor / y0, err * abs(factor / y0)
    note = f"refused for {', '.join(notes)}: failed or undefined run(s) in the stencil" if notes else ""
    if not np.isfinite(y0):
        note = "refused: the nominal run failed or is undefined"
    elif y0 == 0:
        note = (note + "; " if note else "") + "nominal output is 0: scaled coefficients undefined"
    frame = _frame(space.ids, {"scaled": (scaled, err_s), "unscaled": (unscaled, err_u)}, 1,
                   note or f"central differences, h = {spec.step:g} and h/2, Richardson-extrapolated")
    return frame, note


def rank_parameters(indices: pd.DataFrame, method: str, top: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank parameters per column by the method's main index; flag pairs whose intervals overlap.

    Returns the ranking (``column, rank, parameter, value, low, high, resolved``; ``resolved`` is False when
    the interval overlaps the next-ranked parameter's, i.e. the CIs are too wide to order them; ``exact_tie``
    marks equal values with zero-width intervals, which are a tie, not an uncertainty) and one row per column
    whose top ``top`` hold an overlap that is not an exact tie.
    """
    main = MAIN_INDEX[method]
    sub = indices[(indices["index"] == main) & (indices["parameter_2"] == "")].copy()
    if method == "local":  # rank by magnitude; the interval of |x| is |x| +- conf
        sub["value"] = sub["value"].abs()
        sub["low"], sub["high"] = sub["value"] - sub["conf"], sub["value"] + sub["conf"]
    rows, unresolved = [], []
    for column, group in sub.groupby("column", sort=True):
        group = group.dropna(subset=["value"]).sort_values("value", ascending=False).reset_index(drop=True)
        for k, row in group.iterrows():
            nxt = group.iloc[k + 1] if k + 1 < len(group) else None
            resolved = nxt is None or bool(row["low"] > nxt["high"])
            tie = nxt is not None and row["value"] == nxt["value"] and row["conf"] == 0 and nxt["conf"] == 0
            rows.append({"column": column, "rank": k + 1, "parameter": row["parameter"], "index": main,
                         "value": row["value"], "low": row["low"], "high": row["high"], "resolved": resolved,
                         "exact_tie": tie})
        head = group.head(top + 1)
        pairs = [(head.iloc[k]["parameter"], head.iloc[k + 1]["parameter"]) for k in range(min(top, len(head) - 1))
                 if not head.iloc[k]["low"] > head.iloc[k + 1]["high"]
                 and (head.iloc[k]["conf"] > 0 or head.iloc[k + 1]["conf"] > 0)]
        if pairs:
            unresolved.append({"column": column, "pairs": "; ".join(f"{a} vs {b}" for a, b in pairs)})
    ranking = pd.DataFrame(rows, columns=["column", "rank", "parameter", "index", "value", "low", "high", "resolved",
                                          "exact_tie"])
    return ranking, pd.DataFrame(unresolved, columns=["column", "pairs"])


# ------------------------------------------------------------------------------------------- running


def _strict(options: SolverOptions) -> SolverOptions:
    return replace(options, rtol=options.rtol * 1e-2, atol=options.atol * 1e-2, max_steps=options.max_steps * 10)


def _evaluate_chunk(payload: dict) -> pd.DataFrame:
    """Worker: evaluate one block of rows; retry failed rows once with tighter integrator settings."""
    spec: SensitivitySpec = payload["spec"]
    rows = payload["values"]
    ids = spec.space.ids
    y, status, message = evaluate_rows(spec.model, ids, rows, spec.outputs, options=spec.options)
    retried = np.zeros(len(rows), dtype=bool)
    redo = [i for i, s in enumerate(status) if s == FAILED]
    if redo:
        y2, s2, m2 = evaluate_rows(spec.model, ids, rows[redo], spec.outputs, options=_strict(spec.options))
        for k, i in enumerate(redo):
            retried[i] = True
            y[i], status[i] = y2[k], s2[k]
            message[i] = (f"retried with tighter tolerances: {m2[k]}" if m2[k] else
                          f"ok after a retry with tighter tolerances (first attempt: {message[i]})")
    frame = pd.DataFrame(y, columns=[f"y{j:04d}" for j in range(y.shape[1])])
    frame.insert(0, "retried", retried)
    frame.insert(0, "message", message)
    frame.insert(0, "status", status)
    frame.insert(0, "row", np.arange(payload["start"], payload["start"] + len(rows)))
    return frame


def _chunk_rows(spec: SensitivitySpec) -> int:
    if spec.chunk_rows is not None:
        return spec.chunk_rows
    return int(min(256, max(8, math.ceil(spec.rows / 64))))


#: SensitivitySpec fields that only change the analysis of the evaluations: a resumed run may change them
_ANALYSIS_ONLY = ("resamples", "conf_level", "on_failure", "rank_top")


def _evaluation_job(spec: SensitivitySpec) -> dict:
    """What decides the model evaluations, for ``run_chunks(job=...)``: a resumed run must match it.

    The stored samples are checked separately; this also covers the model and metadata hashes, the outputs
    (their conditions, doses, times), the solver settings, the catalogue and the versions.
    """
    description = fingerprint(spec)
    for key in _ANALYSIS_ONLY:
        description.pop(key)
    # where the ranges were read from is provenance, not a setting: the same ranges from a moved file resume
    description["space"].pop("rule", None)
    for entry in description["space"]["ranges"]:
        entry.pop("source", None)
    return {"sensitivity": description, **job_inputs()}


def run_sensitivity(
    spec: SensitivitySpec,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
    force: bool = False,
) -> SensitivityResult:
    """Sample, evaluate (chunked, resumable, on any executor), analyse and write a sensitivity run.

    Writes to ``out_dir``: ``samples`` (row and parameter values), ``ranges``, ``columns`` (output
    descriptors), ``evaluations`` (row, status, message, retried, one column per output value), ``indices``,
    ``ranking``, ``unresolved`` and ``failures`` (each Parquet + CSV), the chunk parts under
    ``evaluations/parts/`` and ``manifest.json`` (key ``"sensitivity"``).

    The folder is claimed first (:func:`simulator.ownership.claim_folder`): a folder written by another run
    is refused unless ``resume`` (this run, continued from its chunks) or ``force`` (its files deleted first).
    The final tables are written once the evaluations are complete, the manifest last.

    Raises
    ------
    InputError
        With ``resume``, stored samples that differ from this spec's design (a different run's folder); an
        output folder that belongs to another run.
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    job = _evaluation_job(spec)
    owner = claim_folder(out_dir, "sensitivity", job, command=command, resume=resume, force=force)
    samples = sample_matrix(spec)
    values = spec.space.to_values(samples)
    sample_frame = pd.DataFrame(values, columns=list(spec.space.ids))
    sample_frame.insert(0, "row", np.arange(len(values)))
    stored = out_dir / "samples.parquet"
    if resume and stored.is_file():
        old = read_parquet(stored, remedy="Rerun with --force to start again, or choose another --out.")
        if list(old.columns) != list(sample_frame.columns) or old.shape != sample_frame.shape or not np.array_equal(
                old.to_numpy(dtype=float), sample_frame.to_numpy(dtype=float)):
            raise InputError(f"{stored} holds a different design (method, N, seed or ranges differ); resume only the "
                             "same run, or choose another output folder.")
    files = []
    step = _chunk_rows(spec)
    chunks = [(f"r{start:08d}", {"spec": spec, "values": values[start:start + step], "start": start})
              for start in range(0, len(values), step)]
    with make_executor(workers=workers, scheduler=scheduler) as executor:
        n_workers = executor.workers
        run = run_chunks(_evaluate_chunk, chunks, executor=executor, out_dir=out_dir / "evaluations", resume=resume,
                         progress=progress, total_rows=len(values), label=f"sensitivity ({spec.method})",
                         job=job)
    evaluated = time.perf_counter() - started
    evaluations = _complete(read_parts(out_dir / "evaluations"), spec, run)
    ycols = [c for c in evaluations.columns if c.startswith("y")]
    y = evaluations[ycols].to_numpy(dtype=float)
    indices, notes = analyze(spec, samples, y)
    ranking, unresolved = rank_parameters(indices, spec.method, spec.rank_top)
    columns = column_table(spec.outputs, spec.model)
    failures = _failures(evaluations, sample_frame, ycols)
    messages = _warnings(notes, unresolved, columns, failures, spec)
    # the samples, ranges and columns are written with the results (not before the evaluations): a resume
    # refused for other outputs must leave the complete folder as it was
    begin_final_writes(out_dir)
    for name, frame in (("samples", sample_frame), ("ranges", spec.space.to_frame()), ("columns", columns),
                        ("evaluations", evaluations), ("indices", indices), ("ranking", ranking),
                        ("unresolved", unresolved), ("failures", failures)):
        for suffix in (".parquet", ".csv"):
            files.append(write_table(frame, out_dir / f"{name}{suffix}"))
    elapsed = time.perf_counter() - started
    rate = run.rows_written / run.elapsed_s if run.elapsed_s > 0 and run.rows_written else float("nan")
    n_failed = int((evaluations["status"] != OK).sum())
    files.append(write_manifest(
        out_dir / "manifest.json", models={"model": spec.model}, seed=spec.seed, owner=owner, job=job,
        timings={"total": elapsed, "evaluation": run.elapsed_s, "sampling_and_setup": evaluated - run.elapsed_s,
                 "analysis_and_tables": elapsed - evaluated},
        counts={"rows": len(values), "rows_ok": len(values) - n_failed, "rows_failed": n_failed,
                "rows_retried": int(evaluations["retried"].sum()), "output_columns": len(ycols),
                "parameters": len(spec.space.ranges), **run.counts()},
        files=[str(f.relative_to(out_dir)) for f in files],
        extra={"sensitivity": {
            "method": spec.method, "n": spec.n, "second_order": spec.second_order, "levels": spec.levels,
            "harmonics": spec.harmonics, "replicates": spec.replicates, "step": spec.step, "resamples": spec.resamples,
            "conf_level": spec.conf_level, "on_failure": spec.on_failure, "rank_top": spec.rank_top,
            "main_index": MAIN_INDEX[spec.method], "indices": list(INDICES[spec.method]),
            "parameters": list(spec.space.ids), "range_rule": spec.space.rule, "range_factor": spec.space.factor,
            "outputs": [o.label for o in spec.outputs], "nan_policy": NAN_POLICY, "warnings": messages,
            "workers": n_workers, "evaluations_per_s": rate, "chunk_rows": step,
            **({"readout_conventions": {"level": LEVEL_CONVENTION}}
               if any(str(getattr(o, "readout", "")).startswith(LEVEL_PREFIX) for o in spec.outputs) else {})}},
    ))
    return SensitivityResult(out_dir=out_dir, method=spec.method, rows=len(values), rows_failed=n_failed,
                             columns=columns, indices=indices, ranking=ranking, failures=failures,
                             warnings=tuple(messages), elapsed_s=elapsed, evaluations_per_s=rate)


def _complete(evaluations: pd.DataFrame, spec: SensitivitySpec, run) -> pd.DataFrame:
    """Every design row once, in order; rows of a chunk that raised are failed rows with the chunk's error."""
    n_cols = sum(len(o.columns(spec.model)) for o in spec.outputs)
    ycols = [f"y{j:04d}" for j in range(n_cols)]
    full = pd.DataFrame({"row": np.arange(spec.rows)})
    if evaluations.empty:
        evaluations = pd.DataFrame(columns=["row", "status", "message", "retried", *ycols])
    out = full.merge(evaluations, on="row", how="left")
    missing = out["status"].isna()
    if missing.any():
        why = "; ".join(f"chunk {f.chunk_id}: {f.message}" for f in run.failures) or "chunk not computed"
        out.loc[missing, "status"] = FAILED
        out.loc[missing, "message"] = f"no result ({why})"
        out.loc[missing, "retried"] = False
    out["retried"] = out["retried"].astype(bool)
    out[ycols] = out[ycols].astype(float)
    return out


def _failures(evaluations: pd.DataFrame, samples: pd.DataFrame, ycols: list[str]) -> pd.DataFrame:
    bad = evaluations[(evaluations["status"] != OK) | ~np.isfinite(evaluations[ycols].to_numpy(float)).all(axis=1)]
    table = bad[["row", "status", "message", "retried"]].merge(samples, on="row", how="left")
    return table.reset_index(drop=True)


def _warnings(notes: list[str], unresolved: pd.DataFrame, columns: pd.DataFrame, failures: pd.DataFrame,
              spec: SensitivitySpec) -> list[str]:
    out = []
    label = dict(zip(columns["column"], columns["output"], strict=True))
    if len(failures):
        out.append(f"{len(failures)} of {spec.rows} model runs failed or were undefined after a retry; see "
                   "failures.csv (every row with its parameter vector and message).")
    refused: dict[str, int] = {}
    for note in notes:
        column, _, text = note.partition(": ")
        if text.startswith("refused"):
            refused[label.get(column, column)] = refused.get(label.get(column, column), 0) + 1
    for output, count in refused.items():
        out.append(f"{output}: {count} column(s) not analysed (failed or undefined runs; on_failure="
                   f"{spec.on_failure!r}).")
    if len(unresolved):
        per_output: dict[str, list[str]] = {}
        for _, row in unresolved.iterrows():
            per_output.setdefault(label.get(row["column"], row["column"]), []).append(row["pairs"])
        for output, pairs in per_output.items():
            out.append(f"{output}: confidence intervals too wide to rank the top {spec.rank_top} parameters in "
                       f"{len(pairs)} column(s) (e.g. {pairs[0]}); increase N.")
    return out
