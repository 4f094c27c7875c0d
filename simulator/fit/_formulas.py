"""Observable and noise formulas of a PEtab problem, vectorised per observable, with exact derivatives.

Why: in a hierarchical fit most of a start's time went into the inner problem (scales, offsets, sigmas), which
evaluated the formulas row by row in Python and differentiated them by central differences (ANALYSIS of issue
18, section 2f: 67 % of a Fiedler start). Here each formula is lambdified once with its sympy derivatives; a
placeholder override becomes, per row, an index into one vector of parameter values, so one numpy call gives a
formula's value and derivatives on all rows of an observable. The same derivatives give the residuals' Jacobian
exactly: with respect to the formula parameters directly, and with respect to the ODE parameters through the
chain rule over the model quantities a formula reads (their forward sensitivities).

:func:`~simulator.fit.observe` and :func:`~simulator.fit.noise_sigma` stay the reference implementation (tests
compare both to ~1e-15).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from petab.v1.math import sympify_petab

from .._lambdify import lambdify
from ._petab import _TIME, PetabProblem, _placeholder_index

_PARAM, _STATE, _TIME_SRC, _OBS = "param", "state", "time", "obs"


@dataclass(frozen=True)
class _Source:
    """Where one formula symbol's value comes from: a parameter index per row, a model quantity, time, or y."""

    kind: str
    index: np.ndarray | None = None  # per row, into the value vector (kind "param")
    name: str = ""  # model id (kind "state")


@dataclass(frozen=True)
class _Compiled:
    """One formula on the rows of one observable: its function and one derivative function per symbol."""

    sources: tuple[_Source, ...]
    func: Callable[..., Any]
    derivatives: tuple[Callable[..., Any], ...]
    #: (i, j, function) for every non-zero second derivative between two sources, i <= j
    second: tuple[tuple[int, int, Callable[..., Any]], ...] = ()


@dataclass(frozen=True)
class FormulaValues:
    """Row-aligned formula values, and their derivatives when asked for.

    ``dy_dv``/``dsigma_dv`` are (rows x value-vector) matrices; ``dy_ds``/``dsigma_ds`` (rows x selected model
    ids) the derivatives with respect to the model quantities the formulas read; ``dsigma_dy`` per row.
    """

    y: np.ndarray
    sigma: np.ndarray
    dy_dv: np.ndarray | None = None
    dy_ds: np.ndarray | None = None
    dsigma_dv: np.ndarray | None = None
    dsigma_ds: np.ndarray | None = None
    dsigma_dy: np.ndarray | None = None


class Formulas:
    """Every observable and noise formula of a problem, compiled for vectorised evaluation.

    The value vector (:meth:`value_vector`) holds the linear value of every parameter-table id, in
    :attr:`PetabProblem.parameter_ids` order, followed by the numeric placeholder overrides (constants).
    """

    def __init__(self, problem: PetabProblem) -> None:
        plan = problem._plan
        self.ids = problem.parameter_ids
        self._pos = {p: i for i, p in enumerate(self.ids)}
        self._constants: list[float] = []
        self.select = plan.select
        self._select_pos = {s: i for i, s in enumerate(plan.select)}
        self.n = plan.measurement.size
        self._groups = []
        for obs_id, rows in plan.rows_by_observable.items():
            y = self._compile(plan.observables[obs_id].text, obs_id, rows, "observableParameter",
                              plan.observable_overrides)
            s = self._compile(plan.noise[obs_id].text, obs_id, rows, "noiseParameter", plan.noise_overrides)
            self._groups.append((rows, y, s))
        self._constants_array = np.array(self._constants, dtype=float)
        # row-aligned gather of each experiment's output rows: (experiment, time index) per measurement row
        self._experiment_rows = [[(g.rows, g.time_index) for g in exp.groups] for exp in plan.experiments]
        self.time = plan.time

    @property
    def size(self) -> int:
        """Length of the value vector."""
        return len(self.ids) + len(self._constants)

    def _compile(self, text: str, obs_id: str, rows: np.ndarray, kind: str, overrides) -> _Compiled:
        expr = sympify_petab(text)
        symbols = sorted(expr.free_symbols, key=str)
        sources = []
        for sym in symbols:
            name = str(sym)
            k = _placeholder_index(name, kind, obs_id)
            if k:
                cells = [overrides[r][k - 1] for r in rows]
                sources.append(_Source(_PARAM, np.array([self._pos[c] if isinstance(c, str) else self._constant(c)
                                                         for c in cells], dtype=np.intp)))
            elif name == _TIME:
                sources.append(_Source(_TIME_SRC))
            elif kind == "noiseParameter" and name == obs_id:
                sources.append(_Source(_OBS))
            elif name in self._select_pos:
                sources.append(_Source(_STATE, name=name))
            else:
                sources.append(_Source(_PARAM, np.full(rows.size, self._pos[name], dtype=np.intp)))
        func = lambdify(symbols, expr, modules="numpy")
        derivatives = tuple(lambdify(symbols, sympy.diff(expr, sym), modules="numpy")
                            for sym in symbols)
        second = []
        for i, a in enumerate(symbols):
            for j in range(i, len(symbols)):
                if sources[i].kind in (_STATE, _TIME_SRC) or sources[j].kind in (_STATE, _TIME_SRC):
                    continue  # constant in the inner problem
                d2 = sympy.diff(expr, a, symbols[j])
                if d2 != 0:
                    second.append((i, j, lambdify(symbols, d2, modules="numpy")))
        return _Compiled(tuple(sources), func, derivatives, tuple(second))

    def _constant(self, value: float) -> int:
        self._constants.append(float(value))
        return len(self.ids) + len(self._constants) - 1

    def value_vector(self, values: Mapping[str, float]) -> np.ndarray:
        """Linear values of every parameter-table id, then the numeric overrides."""
        return np.concatenate([np.fromiter((values[p] for p in self.ids), float, len(self.ids)),
                               self._constants_array])

    def gather(self, solutions: Sequence) -> np.ndarray:
        """(rows x selected ids) values of the model quantities at each row's time; NaN for a failed experiment."""
        out = np.full((self.n, len(self.select)), np.nan)
        for traj, groups in zip(solutions, self._experiment_rows, strict=True):
            if isinstance(traj, str):
                continue
            values = traj.values if tuple(traj.ids) == self.select else np.column_stack([traj[s] for s in self.select])
            for rows, time_index in groups:
                out[rows] = values[time_index]
        return out

    def gather_derivatives(self, per_experiment: Sequence[np.ndarray]) -> np.ndarray:
        """(rows x selected ids x theta) from per-experiment (times x selected ids x theta) derivatives."""
        n_theta = per_experiment[0].shape[2] if per_experiment else 0
        out = np.zeros((self.n, len(self.select), n_theta))
        for values, groups in zip(per_experiment, self._experiment_rows, strict=True):
            for rows, time_index in groups:
                out[rows] = values[time_index]
        return out

    def evaluate(self, states: np.ndarray, v: np.ndarray, derivatives: bool = False) -> FormulaValues:
        """Observable value y and noise sigma of every row; with ``derivatives`` also their partial derivatives.

        Parameters
        ----------
        states
            (rows x selected ids), from :meth:`gather`.
        v
            The value vector (:meth:`value_vector`).
        derivatives
            Also return the derivatives (with respect to ``v``, the model quantities and, for sigma, y).
        """
        n = self.n
        y, sigma = np.full(n, np.nan), np.full(n, np.nan)
        if derivatives:
            ns = len(self.select)
            dy_dv, dsig_dv = np.zeros((n, v.size)), np.zeros((n, v.size))
            dy_ds, dsig_ds = np.zeros((n, ns)), np.zeros((n, ns))
            dsig_dy = np.zeros(n)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for rows, fy, fs in self._groups:
                yargs = self._args(fy, rows, states, v, None)
                y[rows] = _full(fy.func(*yargs), rows.size)
                sargs = self._args(fs, rows, states, v, y[rows])
                sigma[rows] = _full(fs.func(*sargs), rows.size)
                if derivatives:
                    self._accumulate(fy, rows, yargs, dy_dv, dy_ds, None)
                    self._accumulate(fs, rows, sargs, dsig_dv, dsig_ds, dsig_dy)
        if not derivatives:
            return FormulaValues(y, sigma)
        return FormulaValues(y, sigma, dy_dv, dy_ds, dsig_dv, dsig_ds, dsig_dy)

    @property
    def noise_reads_observable(self) -> bool:
        """Whether some noise formula uses its observable's value (then :meth:`second_order` does not apply)."""
        return any(src.kind == _OBS for _, _, fs in self._groups for src in fs.sources)

    def second_order(self, states: np.ndarray, v: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, ...]:
        """y, sigma and their first and second derivatives by the values at ``positions`` of ``v``.

        Returns ``(y, sigma, dy, dsigma, d2y, d2sigma)`` with shapes (n,), (n,), (n, k), (n, k), (n, k, k),
        (n, k, k) for k positions. Only for problems whose noise formulas do not read the observable.
        """
        n, k = self.n, positions.size
        where = np.full(v.size, -1, dtype=np.intp)
        where[positions] = np.arange(k)
        y, sigma = np.full(n, np.nan), np.full(n, np.nan)
        first = [np.zeros((n, k)), np.zeros((n, k))]
        second = [np.zeros((n, k, k)), np.zeros((n, k, k))]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for rows, fy, fs in self._groups:
                for out, f, d1, d2 in ((y, fy, first[0], second[0]), (sigma, fs, first[1], second[1])):
                    args = self._args(f, rows, states, v, None)
                    out[rows] = _full(f.func(*args), rows.size)
                    cols = [where[src.index] if src.kind == _PARAM else None for src in f.sources]
                    for src_cols, deriv in zip(cols, f.derivatives, strict=True):
                        if src_cols is None:
                            continue
                        hit = src_cols >= 0
                        if hit.any():
                            d1[rows[hit], src_cols[hit]] += _full(deriv(*args), rows.size)[hit]
                    for i, j, deriv in f.second:
                        ci, cj = cols[i], cols[j]
                        # second derivatives are kept only between parameter sources (no state, time or y here)
                        assert ci is not None and cj is not None
                        hit = (ci >= 0) & (cj >= 0)
                        if not hit.any():
                            continue
                        g = _full(deriv(*args), rows.size)[hit]
                        d2[rows[hit], ci[hit], cj[hit]] += g
                        if i != j:
                            d2[rows[hit], cj[hit], ci[hit]] += g
        return y, sigma, first[0], first[1], second[0], second[1]

    def _args(self, f: _Compiled, rows: np.ndarray, states: np.ndarray, v: np.ndarray, y: np.ndarray | None) -> list:
        args = []
        for src in f.sources:
            if src.kind == _PARAM:
                assert src.index is not None  # _compile gives every parameter source its per-row index
                args.append(v[src.index])
            elif src.kind == _STATE:
                args.append(states[rows, self._select_pos[src.name]])
            elif src.kind == _TIME_SRC:
                args.append(self.time[rows])
            else:
                args.append(y)
        return args

    def _accumulate(self, f: _Compiled, rows: np.ndarray, args: list, d_dv: np.ndarray, d_ds: np.ndarray,
                    d_dy: np.ndarray | None) -> None:
        for src, deriv in zip(f.sources, f.derivatives, strict=True):
            if src.kind == _TIME_SRC:
                continue
            g = deriv(*args)
            if src.kind == _PARAM:
                d_dv[rows, src.index] += g  # one index per row, rows distinct: no repeated (row, index) pair
            elif src.kind == _STATE:
                d_ds[rows, self._select_pos[src.name]] += g
            elif d_dy is not None:
                d_dy[rows] += g


def _full(value: object, n: int) -> np.ndarray:
    out = np.asarray(value, dtype=float)
    return out if out.shape == (n,) else np.array(np.broadcast_to(out, (n,)))


LN10 = math.log(10.0)
