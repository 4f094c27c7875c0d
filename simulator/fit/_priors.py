"""PEtab v1 parameter priors: the negative log-prior, its least-squares residuals, and prior-sampled start points.

The objective of a problem with ``objectivePriorType`` is the negative log-posterior
``nlpost = nllh + nlprior`` (as pyPESTO adds ``NegLogParameterPriors`` to the likelihood); ``nllh`` stays the pure
PEtab likelihood so it can be compared with published values.

Conventions (PEtab v1 parameter table, and pyPESTO's ``get_parameter_prior_dict``, the reference tool):

- ``normal``, ``laplace``, ``uniform``: the density of the *linear* parameter value, whatever its ``parameterScale``;
  ``logNormal``/``logLaplace``: ``ln(value)`` is normal/Laplace with the given location and scale, and the density is
  that of the linear value (it includes the ``1/value`` factor: the textbook log-normal density).
- ``parameterScaleNormal``/``Laplace``/``Uniform``: the density of the *scaled* value (``log10(value)`` on a log10
  scale), with the prior parameters on that scale.
- No change-of-variables term for the scale the optimiser works on (pyPESTO and PEtab.jl evaluate the same way), and
  no renormalisation for the truncation by the parameter bounds: the PEtab v1 specification is silent on it and the
  v1 reference tools use the untruncated densities (PEtab v2 truncates; that only adds a constant).

Why not ``petab.v1.priors.Prior.neglogprior``: libpetab 0.8 evaluates the density of the *linear* value for every
type, so a ``parameterScaleNormal`` prior on a log10 parameter gets an extra ``log(value * ln 10)`` (a different
mode than pyPESTO's), it truncates at the bounds by default, and it takes ``-log(pdf)``, which underflows to ``inf``
38 standard deviations from the mean. The closed forms below are one line each; the tests compare them with scipy's
``logpdf`` and with petab's own ``neglogprior`` where the conventions agree.

Least squares (the optimiser is ``scipy.optimize.least_squares``): each non-uniform prior is one residual ``r`` with
``nlprior = 0.5 * r**2 + c`` exactly:

- normal types: ``r = (t - mu) / sigma``; logNormal (``u = ln value``): ``r = (u - mu + sigma**2) / sigma``
  (completing the square absorbs the ``+u`` of the ``1/value`` factor);
- Laplace types: ``r = sign(d) * sqrt(2 k |d|)`` with ``d = t - mu``, ``k = 1/b`` (logLaplace: ``k = 1/b + sign(d)``,
  which needs ``b < 1``, else the term is unbounded below as the value goes to 0 and fitting is refused). Its
  Jacobian ``sqrt(k / (2|d|))`` is infinite at ``d = 0``; it is capped there (``|d| >= LAPLACE_GUARD``), so
  ``J^T r`` is still the exact gradient ``k sign(d)`` everywhere else and the kink is approached as a steep valley.
- uniform types: no residual; the prior only narrows the optimiser's box to its support (``bounds`` of
  :meth:`Priors.box`) and adds the constant ``log(b - a)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import petab.v1 as petab_v1
from scipy import stats
from scipy.stats import qmc

from ..errors import InputError

#: Every PEtab v1 prior type (``objectivePriorType`` and ``initializationPriorType``)
PRIOR_TYPES = ("uniform", "normal", "laplace", "logNormal", "logLaplace", "parameterScaleUniform",
               "parameterScaleNormal", "parameterScaleLaplace")

_NORMAL = ("normal", "parameterScaleNormal", "logNormal")
_LAPLACE = ("laplace", "parameterScaleLaplace", "logLaplace")
_UNIFORM = ("uniform", "parameterScaleUniform")

#: Smallest |t - mu| in the Jacobian of a Laplace residual (its derivative is infinite at the location)
LAPLACE_GUARD = 1e-12

_LN10 = math.log(10.0)


@dataclass(frozen=True)
class Prior:
    """One parameter's objective prior, as the parameter table gives it.

    Attributes
    ----------
    parameter
        The parameter id (the row of the parameter table).
    kind
        One of :data:`PRIOR_TYPES`.
    a, b
        The two prior parameters (mean/location/lower and sd/scale/upper), on the scale the type says.
    scale
        The parameter's ``parameterScale``.
    """

    parameter: str
    kind: str
    a: float
    b: float
    scale: str

    @property
    def on_scale(self) -> bool:
        """Whether the density is that of the scaled value (``parameterScale*`` types)."""
        return self.kind.startswith("parameterScale")

    @property
    def has_residual(self) -> bool:
        """Whether the prior depends on the parameter inside its support (all but the uniform types)."""
        return self.kind not in _UNIFORM

    def variable(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(t, dt/dx): the variable the density is written in, and its derivative by the scaled value ``x``.

        ``t`` is the scaled value (parameterScale types), ``ln(value)`` (log types) or the linear value.
        """
        x = np.asarray(x, dtype=float)
        if self.on_scale:
            return x, np.ones_like(x)
        lin = x if self.scale == "lin" else np.exp(x) if self.scale == "log" else 10.0**x
        if self.kind in ("logNormal", "logLaplace"):
            with np.errstate(divide="ignore", invalid="ignore"):
                if self.scale == "lin":
                    return np.log(lin), 1.0 / lin
                return (x, np.ones_like(x)) if self.scale == "log" else (x * _LN10, np.full_like(x, _LN10))
        return lin, (np.ones_like(x) if self.scale == "lin" else lin if self.scale == "log" else lin * _LN10)

    def value(self, x: np.ndarray | float) -> np.ndarray:
        """The negative log-density at the scaled value(s) ``x`` (``inf`` outside the support)."""
        t, _ = self.variable(np.atleast_1d(np.asarray(x, dtype=float)))
        a, b = self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind in _UNIFORM:
                return np.where((t >= a) & (t <= b), math.log(b - a), math.inf)
            if self.kind in _NORMAL:
                out = 0.5 * ((t - a) / b) ** 2 + math.log(b * math.sqrt(2.0 * math.pi))
            else:
                out = np.abs(t - a) / b + math.log(2.0 * b)
            if self.kind in ("logNormal", "logLaplace"):
                out = out + t  # the 1/value of the density of the linear value
        return np.where(np.isnan(out), math.inf, out)

    def residual(self, x: float) -> tuple[float, float]:
        """(r, dr/dx) at the scaled value ``x``: ``value(x) = 0.5 r**2 + constant`` (module docstring)."""
        t, dt = (float(v[0]) for v in self.variable(np.array([x], dtype=float)))
        a, b = self.a, self.b
        if self.kind in _NORMAL:
            shift = b * b if self.kind == "logNormal" else 0.0
            return (t - a + shift) / b, dt / b
        d = t - a
        k = 1.0 / b + (math.copysign(1.0, d) if self.kind == "logLaplace" else 0.0)
        r = math.copysign(math.sqrt(2.0 * k * abs(d)), d) if math.isfinite(d) else math.nan
        return r, math.sqrt(k / (2.0 * max(abs(d), LAPLACE_GUARD))) * dt

    @property
    def constant(self) -> float:
        """``value - 0.5 r**2`` (uniform types: the whole value inside the support)."""
        a, b = self.a, self.b
        if self.kind in _UNIFORM:
            return math.log(b - a)
        if self.kind in _NORMAL:
            return math.log(b * math.sqrt(2.0 * math.pi)) + (a - 0.5 * b * b if self.kind == "logNormal" else 0.0)
        return math.log(2.0 * b) + (a if self.kind == "logLaplace" else 0.0)

    def support(self) -> tuple[float, float]:
        """The scaled interval where the prior is positive (a log type on a lin scale: value > 0)."""
        if self.kind not in _UNIFORM:
            log_type = self.kind in ("logNormal", "logLaplace") and self.scale == "lin"
            return (0.0 if log_type else -math.inf), math.inf
        if self.on_scale:
            return self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = (_scale(np.array([v]), self.scale)[0] for v in (self.a, self.b))
        return (float(lo) if not math.isnan(lo) else -math.inf), float(hi)


def _scale(values: np.ndarray, scale: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return values if scale == "lin" else np.log(values) if scale == "log" else np.log10(values)


def _two_numbers(text, pid: str, column: str) -> tuple[float, float]:
    parts = str(text).split(";")
    try:
        a, b = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"parameter table row {pid!r}: {column} {text!r} must be two numbers separated by ';' "
                         "(e.g. '0;1')") from None
    return a, b


def read_prior(row: Mapping, pid: str, scale: str, kind_column: str = "objectivePriorType") -> Prior | None:
    """The prior of one parameter-table row, or ``None`` when the row declares none.

    Raises
    ------
    InputError
        An unknown prior type (naming the row and the valid types), parameters that are not two numbers, a
        non-positive sd/scale, or an empty uniform interval.
    """
    kind = row.get(kind_column)
    if kind is None or petab_v1.is_empty(kind):
        return None
    kind = str(kind).strip()
    if kind not in PRIOR_TYPES:
        raise InputError(f"parameter table row {pid!r}: {kind_column} {kind!r} is not a PEtab v1 prior type; "
                         f"valid: {', '.join(PRIOR_TYPES)}.")
    params_column = kind_column.replace("Type", "Parameters")
    text = row.get(params_column)
    if text is None or petab_v1.is_empty(text):
        if kind not in _UNIFORM:
            raise InputError(f"parameter table row {pid!r}: {kind_column} {kind} needs {params_column} "
                             "(mean;sd or location;scale).")
        lo, hi = float(row["lowerBound"]), float(row["upperBound"])  # PEtab's default: lowerBound;upperBound
        a, b = (_scale(np.array([lo]), scale)[0], _scale(np.array([hi]), scale)[0]) if kind != "uniform" else (lo, hi)
    else:
        a, b = _two_numbers(text, pid, params_column)
    if kind in _UNIFORM and not a < b:
        raise InputError(f"parameter table row {pid!r}: {kind} prior [{a}, {b}] needs lower < upper.")
    if kind not in _UNIFORM and not (b > 0 and math.isfinite(b) and math.isfinite(a)):
        raise InputError(f"parameter table row {pid!r}: {kind} prior needs a finite location and a scale > 0, "
                         f"not {a};{b}.")
    return Prior(pid, kind, float(a), float(b), scale)


@dataclass(frozen=True)
class Priors:
    """The objective priors of the estimated parameters of one objective.

    Attributes
    ----------
    items
        One :class:`Prior` per estimated parameter that has one.
    index
        Each item's position in the objective's vector of estimated parameters.
    dim
        The length of that vector.
    fixed_value
        The negative log-prior of estimated parameters that the objective holds fixed (a profile fixes one): a
        constant of this objective, but part of its value.
    """

    items: tuple[Prior, ...] = ()
    index: tuple[int, ...] = ()
    dim: int = 0
    fixed_value: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.items) or self.fixed_value != 0.0

    @property
    def residual_items(self) -> tuple[tuple[int, Prior], ...]:
        return tuple((i, p) for i, p in zip(self.index, self.items, strict=True) if p.has_residual)

    @property
    def n_residuals(self) -> int:
        """Residuals the priors add to the least-squares problem (one per non-uniform prior)."""
        return len(self.residual_items)

    @property
    def mask(self) -> np.ndarray:
        """Which estimated parameters carry a prior residual (they stay in the outer problem of a hierarchical fit)."""
        out = np.zeros(self.dim, dtype=bool)
        out[[i for i, _ in self.residual_items]] = True
        return out

    @property
    def constant(self) -> float:
        """``nlprior - 0.5 * sum(residuals**2)`` inside the supports."""
        return float(sum(p.constant for p in self.items)) + self.fixed_value

    def value(self, x: np.ndarray) -> float:
        """The negative log-prior at the scaled vector ``x`` (0 without priors; ``inf`` outside a support)."""
        x = np.asarray(x, dtype=float)
        return float(sum(float(p.value(x[i])[0]) for i, p in zip(self.index, self.items, strict=True))
                     + self.fixed_value)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """The prior residuals at ``x`` (module docstring)."""
        x = np.asarray(x, dtype=float)
        return np.array([p.residual(float(x[i]))[0] for i, p in self.residual_items], dtype=float)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """The Jacobian of :meth:`residuals` by ``x`` (one nonzero per row)."""
        x = np.asarray(x, dtype=float)
        jac = np.zeros((self.n_residuals, x.size))
        for row, (i, p) in enumerate(self.residual_items):
            jac[row, i] = p.residual(float(x[i]))[1]
        jac[~np.isfinite(jac)] = 0.0
        return jac

    def box(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The optimiser's box narrowed to the support of every prior (a uniform prior is only a box)."""
        lower, upper = np.array(lower, dtype=float), np.array(upper, dtype=float)
        for i, p in zip(self.index, self.items, strict=True):
            lo, hi = p.support()
            lower[i], upper[i] = max(lower[i], lo), min(upper[i], hi)
        return lower, upper

    def summary(self) -> list[dict]:
        """One record per prior (for manifests)."""
        return [{"parameterId": p.parameter, "type": p.kind, "parameters": [p.a, p.b], "scale": p.scale}
                for p in self.items]


def problem_priors(parameter_df: pd.DataFrame, ids: Sequence[str], fixed: Mapping[str, float] | None = None) -> Priors:
    """The objective priors of the estimated ``ids``, and those of ``fixed`` estimated ids.

    Parameters
    ----------
    parameter_df
        The PEtab parameter table (indexed by ``parameterId``).
    ids
        The objective's estimated parameters, in its vector order (their scales come from the table).
    fixed
        Estimated parameters held at a linear value (a profile): their prior is a constant of the objective.

    Raises
    ------
    InputError
        As :func:`read_prior`, for any estimated row (every problem row is checked, also those not estimated, so a
        typo is found before a long fit); logLaplace with scale >= 1 (unbounded below as the value goes to 0).
    """
    rows = parameter_df.to_dict("index")
    items, index = [], []
    fixed_value = 0.0
    for pid, row in rows.items():
        scale = "lin" if petab_v1.is_empty(row.get("parameterScale")) else str(row["parameterScale"])
        prior = read_prior(row, str(pid), scale)
        if prior is None or str(pid) not in set(ids) | set(fixed or {}):
            continue
        if prior.kind == "logLaplace" and prior.b >= 1.0:
            raise InputError(f"parameter table row {pid!r}: a logLaplace prior with scale {prior.b} >= 1 has a "
                             "density that is unbounded as the value goes to 0, so its negative log is not bounded "
                             "below and cannot be minimised; use a scale < 1 or a logNormal prior.")
        if fixed and str(pid) in fixed:
            value = fixed[str(pid)]
            fixed_value += float(prior.value(_scale(np.array([value]), scale))[0])
            continue
        items.append(prior)
        index.append(list(ids).index(str(pid)))
    return Priors(tuple(items), tuple(index), len(ids), fixed_value)


def estimated_priors(parameter_df: pd.DataFrame) -> Priors:
    """The objective priors of every estimated parameter, in parameter-table order (a nominal evaluation's).

    The same checks as a fit (:func:`problem_priors`).
    """
    df = parameter_df
    estimate = df["estimate"].astype(int) == 1 if "estimate" in df.columns else pd.Series(False, index=df.index)
    return problem_priors(df, [str(i) for i in df.index[estimate]])


def prior_starts(parameter_df: pd.DataFrame, ids: Sequence[str], scales: Sequence[str], lower: np.ndarray,
                 upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` start points: a Latin hypercube, with the columns of an ``initializationPriorType`` drawn from it.

    The hypercube is the one :func:`~simulator.fit.latin_hypercube_starts` draws for ``seed``. A column whose
    parameter has an initialization prior is mapped through the inverse CDF of that prior truncated to the
    parameter's bounds: a stratified sample of the truncated prior (what ``petab.v1.sample_parameter_startpoints``
    draws, but reproducible by the seed, without petab's global ``np.random``). The other columns are uniform over
    ``[lower, upper]`` as without priors; a table without initialization priors gives exactly the plain hypercube.

    Parameters
    ----------
    parameter_df
        The PEtab parameter table.
    ids, scales
        The estimated parameters (vector order) and their ``parameterScale``.
    lower, upper
        The scaled box.
    n, seed
        Number of points (>= 1) and the hypercube's seed.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, len(ids))``, scaled values inside the box.
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    unit = qmc.LatinHypercube(d=len(lower), rng=np.random.default_rng(seed)).random(n)
    points = qmc.scale(unit, lower, upper)
    rows = parameter_df.to_dict("index")
    for j, (pid, scale) in enumerate(zip(ids, scales, strict=True)):
        prior = read_prior(rows[pid], pid, scale, "initializationPriorType") if pid in rows else None
        if prior is not None:
            points[:, j] = _truncated_quantile(prior, unit[:, j], lower[j], upper[j])
    return points


def _truncated_quantile(prior: Prior, q: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Scaled values at the quantiles ``q`` of ``prior`` truncated to the scaled box ``[lower, upper]``."""
    a, b = prior.a, prior.b
    base = (stats.uniform(a, b - a) if prior.kind in _UNIFORM else stats.norm(a, b) if prior.kind in _NORMAL
            else stats.laplace(a, b))
    ends = np.array([lower, upper])
    if prior.on_scale:
        t_ends = ends
    else:
        lin = ends if prior.scale == "lin" else np.exp(ends) if prior.scale == "log" else 10.0**ends
        with np.errstate(divide="ignore", invalid="ignore"):
            t_ends = np.log(lin) if prior.kind in ("logNormal", "logLaplace") else lin
        t_ends = np.where(np.isnan(t_ends), -np.inf, t_ends)
    c_lo, c_hi = base.cdf(t_ends)
    if not c_hi > c_lo:
        raise InputError(f"parameter table row {prior.parameter!r}: its initialization prior ({prior.kind} "
                         f"{a};{b}) has no mass inside the bounds.")
    t = base.ppf(c_lo + np.asarray(q) * (c_hi - c_lo))
    if prior.on_scale:
        out = t
    else:
        lin = np.exp(t) if prior.kind in ("logNormal", "logLaplace") else t
        out = _scale(lin, prior.scale)
    return np.clip(out, lower, upper)
