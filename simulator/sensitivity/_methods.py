"""Sampling and analysis per method (Sobol, Morris, eFAST with SALib; local differences), and ranking."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import InputError
from ._spec import INDICES, MAIN_INDEX, SensitivitySpec


def sample_matrix(spec: SensitivitySpec) -> np.ndarray:
    """The design in the sampling space (log10 for log-uniform ranges), rows = model evaluations.

    Deterministic in ``spec`` (method, N, seed, ranges), so a resumed run can check its stored samples.

    Parameters
    ----------
    spec
        The analysis (method, N, seed, parameter space).

    Returns
    -------
    numpy.ndarray
        Shape (rows, parameters), in the order the method's analysis expects them.
    """
    problem = spec.problem()
    if spec.method == "local":
        return _local_stencil(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sampler warning (e.g. Sobol' balance) is a bug in our checks
        return _SALIB[spec.method].sample(spec, problem)


def _sample_sobol(spec: SensitivitySpec, problem: dict) -> np.ndarray:
    from SALib.sample import sobol

    return sobol.sample(problem, spec.n, calc_second_order=spec.second_order, scramble=True, seed=spec.seed)


def _sample_morris(spec: SensitivitySpec, problem: dict) -> np.ndarray:
    from SALib.sample import morris

    return morris.sample(problem, spec.n, num_levels=spec.levels, seed=spec.seed)


def _sample_efast(spec: SensitivitySpec, problem: dict) -> np.ndarray:
    from SALib.sample import fast_sampler

    return np.concatenate([fast_sampler.sample(problem, spec.n, M=spec.harmonics, seed=[spec.seed, r])
                           for r in range(spec.replicates)])


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


def _conf_z(conf_level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + conf_level / 2.0))


def analyze(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """Indices with confidence intervals for every output column of ``y`` (rows as in :func:`sample_matrix`).

    Returns the long indices table (``docs/notes/sensitivity.md``) and notes (refused columns, dropped blocks). A column
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
    method = _SALIB[spec.method]
    block = method.block(spec, d)
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
        frame = method.analyse(spec, samples, y, n_used, note)
    caught = sorted({str(w.message).strip().splitlines()[0] for w in seen})
    if caught:
        frame["note"] = frame["note"] + " | SALib: " + "; ".join(caught)
    return frame, "; ".join(x for x in (note, *caught) if x)


def _sobol(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray, n_used: int, note: str) -> pd.DataFrame:
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


def _efast(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray, n_used: int, note: str) -> pd.DataFrame:
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


class _SALibMethod(NamedTuple):
    """A SALib method: its sampler, the rows of one independent block of its design, and its analysis."""

    sample: Callable[[SensitivitySpec, dict], np.ndarray]
    block: Callable[[SensitivitySpec, int], int]
    analyse: Callable[[SensitivitySpec, np.ndarray, np.ndarray, int, str], pd.DataFrame]


#: method -> how it samples and analyses (``local`` is the central-difference stencil, outside SALib). A new
#: method adds a row here, its indices to ``INDICES``/``MAIN_INDEX`` and its settings' checks to ``_spec.py``.
_SALIB: Mapping[str, _SALibMethod] = {
    "sobol": _SALibMethod(_sample_sobol, lambda spec, d: (2 * d + 2) if spec.second_order else (d + 2), _sobol),
    "morris": _SALibMethod(_sample_morris, lambda spec, d: d + 1, _morris),
    "efast": _SALibMethod(_sample_efast, lambda spec, d: spec.n, _efast),
}


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
