"""Many bounded least-squares problems solved at once with scipy's Trust Region Reflective method.

ZIP fits a 3-parameter Hill curve to every row and column of every matrix: tens of thousands of tiny fits per
screen, where one ``least_squares`` call costs ~1.5 ms of overhead. This module runs scipy's own ``trf``, step for
step, on a stack of problems (every branch is a mask over the problems), so the fits end where scipy's do; a
home-made Levenberg-Marquardt stopped in other minima on noisy slices. It mirrors the private internals of
``scipy.optimize._lsq`` (``trf.py``, ``common.py``), which are the same in scipy 1.13-1.17 (1.16 added a callback
and changed ``jac``'s signature, neither on this path); pyproject pins ``scipy>=1.13,<1.18`` and
``tests/test_lsq_batch.py`` checks the mirror against ``scipy.optimize.least_squares`` (passed on scipy 1.13.1,
1.14.1, 1.15.3, 1.16.3, 1.17.0 and 1.17.1; ``docs/notes/synergy.md`` has the measured agreement and the cost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._inputs import _frozen
from ._lsq_common import (
    EPS,
    _all,
    _any,
    _Bounds,
    _build_quadratic_1d,
    _check_termination,
    _cl_scaling_vector,
    _dot,
    _evaluate_quadratic,
    _in_bounds,
    _intersect_trust_region,
    _make_strictly_feasible,
    _minimize_quadratic_1d,
    _norm,
    _pymax,
    _pymin,
    _rmatvec,
    _rows_max,
    _solve_lsq_trust_region,
    _step_size_to_bound,
    _update_tr_radius,
)

#: Status of a problem for which scipy's ``least_squares`` raises (ValueError / LinAlgError) instead of returning.
STATUS_RAISED = -3


#: Residual function ``fun(x, rows) -> (k, m)`` for parameters ``x`` (k, n) of the problems ``rows``.
ResidualFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


#: Jacobian ``jac(x, rows) -> (k, m, n)``.
JacobianFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


#: scipy minor versions whose ``least_squares`` trf internals this module mirrors, each checked by
#: ``tests/test_lsq_batch.py`` (a newer scipy must be checked before the pin in pyproject.toml is widened)
MIRRORED_SCIPY = ("1.13", "1.14", "1.15", "1.16", "1.17")


@dataclass(frozen=True)
class BatchLsqResult:
    """Outcome of :func:`least_squares_trf_batch`, one entry per problem (as ``OptimizeResult`` fields).

    Attributes
    ----------
    x
        Solutions, shape (K, n).
    cost
        ``0.5·Σ residual²`` at ``x``, shape (K,).
    status
        scipy's termination status, or :data:`STATUS_RAISED`, shape (K,).
    success
        ``status > 0``, shape (K,).
    nfev, njev
        Residual and Jacobian evaluations, counted as scipy counts them, shape (K,).
    """

    x: np.ndarray
    cost: np.ndarray
    status: np.ndarray
    success: np.ndarray
    nfev: np.ndarray
    njev: np.ndarray


def _select_step(
    x: np.ndarray,
    jh: np.ndarray,
    diag_h: np.ndarray,
    g_h: np.ndarray,
    p: np.ndarray,
    p_h: np.ndarray,
    d: np.ndarray,
    delta: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    theta: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mirror of ``trf.select_step``: best of the trust-region, reflected and Cauchy steps.

    Returns ``(step, step_h, predicted_reduction, raised)``; the step arrays may be ``p``/``p_h`` themselves.
    """
    inside = _in_bounds(x + p, lb, ub)
    if _all(inside):  # the usual round: the trust-region step is feasible for every problem
        return p, p_h, -_evaluate_quadratic(jh, g_h, p_h, diag_h), np.zeros(x.shape[0], dtype=bool)
    lb, ub = np.broadcast_to(lb, x.shape), np.broadcast_to(ub, x.shape)
    step, step_h = p.copy(), p_h.copy()
    predicted = np.empty(x.shape[0])
    raised = np.zeros(x.shape[0], dtype=bool)
    if _any(inside):
        i = np.flatnonzero(inside)
        predicted[i] = -_evaluate_quadratic(jh[i], g_h[i], p_h[i], diag_h[i])
    o = np.flatnonzero(~inside)

    x, jh, diag_h, g_h, p, p_h, d = x[o], jh[o], diag_h[o], g_h[o], p[o], p_h[o], d[o]
    delta, lb, ub, theta = delta[o], lb[o], ub[o], theta[o]
    p_stride, hits = _step_size_to_bound(x, p, lb, ub)

    r_h = np.where(hits.astype(bool), -p_h, p_h)
    r = d * r_h
    p = p * p_stride[:, None]
    p_h = p_h * p_stride[:, None]
    x_on_bound = x + p

    _, to_tr, bad = _intersect_trust_region(p_h, r_h, delta)
    to_bound, _ = _step_size_to_bound(x_on_bound, r, lb, ub)

    r_stride = _pymin(to_bound, to_tr)
    positive = r_stride > 0
    safe_stride = np.where(positive, r_stride, 1.0)
    r_stride_l = np.where(positive, (1 - theta) * p_stride / safe_stride, 0.0)
    r_stride_u = np.where(positive, np.where(r_stride == to_bound, theta * to_bound, to_tr), -1.0)

    r_value = np.full(o.size, np.inf)
    reflect = r_stride_l <= r_stride_u
    if _any(reflect):
        j = np.flatnonzero(reflect)
        a, b, c = _build_quadratic_1d(jh[j], g_h[j], r_h[j], s0=p_h[j], diag=diag_h[j])
        t, r_value[j] = _minimize_quadratic_1d(a, b, r_stride_l[j], r_stride_u[j], c=c)
        r_h[j] = r_h[j] * t[:, None] + p_h[j]
        r[j] = r_h[j] * d[j]

    p = p * theta[:, None]
    p_h = p_h * theta[:, None]
    p_value = _evaluate_quadratic(jh, g_h, p_h, diag_h)

    ag_h = -g_h
    ag = d * ag_h
    to_tr = delta / _norm(ag_h)
    to_bound, _ = _step_size_to_bound(x, ag, lb, ub)
    ag_stride = np.where(to_bound < to_tr, theta * to_bound, to_tr)
    a, b = _build_quadratic_1d(jh, g_h, ag_h, diag=diag_h)
    ag_stride, ag_value = _minimize_quadratic_1d(a, b, 0.0, ag_stride)
    ag_h = ag_h * ag_stride[:, None]
    ag = ag * ag_stride[:, None]

    take_p = (p_value < r_value) & (p_value < ag_value)
    take_r = ~take_p & (r_value < p_value) & (r_value < ag_value)
    chosen = np.where(take_p[:, None], p, np.where(take_r[:, None], r, ag))
    chosen_h = np.where(take_p[:, None], p_h, np.where(take_r[:, None], r_h, ag_h))
    value = np.where(take_p, p_value, np.where(take_r, r_value, ag_value))
    step[o], step_h[o], predicted[o] = chosen, chosen_h, -value
    raised[o] = bad
    return step, step_h, predicted, raised


def _check_inputs(
    x0: object, lower: object, upper: object, ftol: float, xtol: float, gtol: float, max_nfev: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The argument checks ``least_squares`` makes before it calls ``trf``; raises ValueError as scipy does."""
    if max_nfev is not None and max_nfev <= 0:
        raise ValueError("`max_nfev` must be None or positive integer.")
    x = np.asarray(x0)
    if np.iscomplexobj(x):
        raise ValueError("`x0` must be real.")
    x = np.array(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (K, n), got {x.shape}.")
    lb = np.broadcast_to(np.asarray(lower, dtype=float), x.shape).copy()
    ub = np.broadcast_to(np.asarray(upper, dtype=float), x.shape).copy()
    bad = np.flatnonzero(np.any(lb >= ub, axis=1))
    if bad.size:
        raise ValueError(
            f"Each lower bound must be strictly less than each upper bound (problems {bad[:10].tolist()})."
        )
    bad = np.flatnonzero(~_in_bounds(x, lb, ub))
    if bad.size:
        raise ValueError(f"Initial guess is outside of provided bounds (problems {bad[:10].tolist()}).")
    for name, tol in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)):
        if tol is not None and tol < EPS:
            raise ValueError(f"`{name}` below machine epsilon disables its test; not supported in a batch.")
    return x, lb, ub, (x.shape[1] * 100 if max_nfev is None else int(max_nfev))


@dataclass
class _State:
    """Per-problem state of the trf loop (all arrays have K rows); private and mutated in place."""

    x: np.ndarray
    f: np.ndarray
    jac: np.ndarray
    g: np.ndarray
    cost: np.ndarray
    delta: np.ndarray
    alpha: np.ndarray
    nfev: np.ndarray
    njev: np.ndarray
    status: np.ndarray
    actual: np.ndarray
    # quantities fixed during one outer iteration
    d: np.ndarray
    diag_h: np.ndarray
    g_h: np.ndarray
    jh: np.ndarray
    s: np.ndarray
    v: np.ndarray
    uf: np.ndarray
    theta: np.ndarray
    # the last point tried in the inner loop
    x_new: np.ndarray
    f_new: np.ndarray
    cost_new: np.ndarray


def _begin_iteration(st: _State, rows: np.ndarray, bounds: _Bounds, gtol: float, max_nfev: int) -> np.ndarray:
    """Top of scipy's ``while True`` loop for ``rows``: tests, scaling and the SVD; returns the rows that go on.

    Mirrors the loop head of ``trf_bounds`` (Coleman–Li scaling, augmented Jacobian) and, for problems without
    finite bounds, of ``trf_no_bounds`` (plain Jacobian); x_scale is 1.
    """
    if rows.size == 0:
        return rows
    x, g = st.x[rows], st.g[rows]
    v, dv = _cl_scaling_vector(x, g, *bounds.take(rows))
    g_norm = _rows_max(np.abs(g * v))
    status = np.where(g_norm < gtol, 1, st.status[rows])
    st.status[rows] = status
    stop = (status != _RUNNING) | (st.nfev[rows] == max_nfev)
    go = rows
    if _any(stop):
        keep = ~stop
        go = rows[keep]
        if go.size == 0:
            return go
        v, dv, g, g_norm = v[keep], dv[keep], g[keep], g_norm[keep]
    b = bounds.bounded[go]
    all_bounded = _all(b)
    if not all_bounded:
        v = np.where(b[:, None], v, 1.0)
        dv = np.where(b[:, None], dv, 0.0)
    d = v**0.5
    diag_h = g * dv
    g_h = d * g
    jh = st.jac[go] * d[:, None, :]
    st.d[go], st.diag_h[go], st.g_h[go], st.jh[go] = d, diag_h, g_h, jh
    f = st.f[go]
    raised = False
    if all_bounded:
        raised = _factorize(st, go, jh, diag_h, f, augmented=True)
    elif not _any(b):
        raised = _factorize(st, go, jh, diag_h, f, augmented=False)
    else:
        for sel, augmented in ((b, True), (~b, False)):
            raised |= _factorize(st, go[sel], jh[sel], diag_h[sel], f[sel], augmented=augmented)
    st.theta[go] = _pymax(np.full(go.size, 0.995), 1 - g_norm)
    st.actual[go] = -1.0
    return go[st.status[go] == _RUNNING] if raised else go


def _factorize(st: _State, rows: np.ndarray, jh: np.ndarray, diag_h: np.ndarray, f: np.ndarray, *,
               augmented: bool) -> bool:
    """The SVD of (augmented) ``J_h`` and ``uf = Uᵀ f_aug`` for ``rows``; True if a non-finite Jacobian raised.

    ``augmented``: trf_bounds stacks ``diag(diag_h**0.5)`` under ``J_h`` and zeros under ``f`` (the zero rows are
    kept in ``Uᵀ f_aug`` so its sums are scipy's term for term).
    """
    if rows.size == 0:
        return False
    k, m, n = jh.shape
    if augmented:
        j_aug = np.zeros((k, m + n, n))
        j_aug[:, :m] = jh
        idx = np.arange(n)
        j_aug[:, m + idx, idx] = diag_h**0.5
        f_aug = np.zeros((k, m + n))
        f_aug[:, :m] = f
    else:
        j_aug, f_aug = jh, f
    finite_values = np.isfinite(j_aug)
    raised = not _all(finite_values)
    if raised:  # scipy.linalg.svd: "array must not contain infs or NaNs"
        finite = finite_values.all(axis=(1, 2))
        st.status[rows[~finite]] = STATUS_RAISED
        rows, j_aug, f_aug = rows[finite], j_aug[finite], f_aug[finite]
        if rows.size == 0:
            return raised
    u, s, vt = _svd(j_aug)
    st.s[rows] = s
    st.v[rows] = np.swapaxes(vt, 1, 2)
    st.uf[rows] = _rmatvec(u, f_aug)
    return raised


def _svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of a stack (LAPACK gesdd, as ``scipy.linalg.svd``)."""
    return np.linalg.svd(a, full_matrices=False)


#: Status of a problem still iterating (scipy's ``termination_status is None``).
_RUNNING = -99


def least_squares_trf_batch(
    fun: ResidualFn,
    jac: JacobianFn,
    x0: object,
    lower: object,
    upper: object,
    *,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
    max_nfev: int | None = None,
) -> BatchLsqResult:
    """Solve K independent bounded nonlinear least-squares problems with scipy's ``trf``, all at once.

    Each problem follows exactly the iterations ``scipy.optimize.least_squares(fun_k, x0[k], jac=jac_k,
    bounds=(lower[k], upper[k]), method="trf")`` would take (``docs/notes/synergy.md`` for the rounding caveat); the
    batching only changes how many problems one numpy call serves.

    Parameters
    ----------
    fun
        ``fun(x, rows) -> (k, m)``: residuals of the problems ``rows`` (indices into K, increasing) at ``x``
        (k, n). Called only for problems still running.
    jac
        ``jac(x, rows) -> (k, m, n)``: their Jacobians.
    x0
        Starting points, shape (K, n); must lie within the bounds (scipy's check).
    lower, upper
        Bounds, broadcastable to (K, n); ``±inf`` for none. A problem with no finite bound runs scipy's
        ``trf_no_bounds``.
    ftol, xtol, gtol
        scipy's tolerances (each ≥ machine epsilon).
    max_nfev
        Residual evaluations per problem; default ``100·n`` as in scipy.

    Returns
    -------
    BatchLsqResult
        Per-problem solution, cost, status, success and evaluation counts.

    Raises
    ------
    ValueError
        On the argument errors scipy raises for (bounds crossed, ``x0`` outside them, bad ``max_nfev``).
    """
    x, lb, ub, max_nfev = _check_inputs(x0, lower, upper, ftol, xtol, gtol, max_nfev)
    k_all = x.shape[0]
    all_rows = np.arange(k_all)
    with np.errstate(all="ignore"):
        st, bounds, m = _initial_state(fun, jac, x, lb, ub)
        fresh = all_rows[st.status == _RUNNING]  # problems at the head of an outer iteration
        inner = np.zeros(k_all, dtype=bool)  # problems inside the inner (step-trial) loop
        while True:
            inner[_begin_iteration(st, fresh, bounds, gtol, max_nfev)] = True
            rows = np.flatnonzero(inner)
            if rows.size == 0:
                break
            ended, raised = _trial_step(st, rows, fun, bounds, m, ftol, xtol, max_nfev)
            inner[ended] = False
            inner[raised] = False
            fresh = _end_iteration(st, ended, jac)

    status = np.where(st.status == _RUNNING, 0, st.status)
    return BatchLsqResult(
        x=_frozen(st.x), cost=_frozen(st.cost), status=_frozen(status), success=_frozen(status > 0),
        nfev=_frozen(st.nfev), njev=_frozen(st.njev),
    )


def _initial_state(fun: ResidualFn, jac: JacobianFn, x: np.ndarray, lb: np.ndarray, ub: np.ndarray
                   ) -> tuple[_State, _Bounds, int]:
    """The set-up scipy does before its outer loop, for every problem: a feasible start, f, J, g, cost, Delta."""
    k_all, n = x.shape
    all_rows = np.arange(k_all)
    x = _make_strictly_feasible(x, lb, ub)
    f = np.array(fun(x, all_rows), dtype=float)  # copies: the state arrays are written in place
    m = f.shape[1]
    j = np.array(jac(x, all_rows), dtype=float)
    if f.shape != (k_all, m) or j.shape != (k_all, m, n):
        raise ValueError(f"fun/jac must return shapes (k, m) and (k, m, n); got {f.shape} and {j.shape}.")
    bounds = _Bounds.of(lb, ub)
    st = _State(
        x=x, f=f, jac=j, g=_rmatvec(j, f), cost=0.5 * _dot(f, f), delta=np.zeros(k_all), alpha=np.zeros(k_all),
        nfev=np.ones(k_all, dtype=int), njev=np.ones(k_all, dtype=int), status=np.full(k_all, _RUNNING),
        actual=np.zeros(k_all), d=np.zeros((k_all, n)), diag_h=np.zeros((k_all, n)), g_h=np.zeros((k_all, n)),
        jh=np.zeros((k_all, m, n)), s=np.zeros((k_all, n)), v=np.zeros((k_all, n, n)), uf=np.zeros((k_all, n)),
        theta=np.zeros(k_all), x_new=x.copy(), f_new=f.copy(), cost_new=np.zeros(k_all),
    )
    st.status[~np.all(np.isfinite(f), axis=1)] = STATUS_RAISED  # "Residuals are not finite in the initial point."
    v0, _ = _cl_scaling_vector(x, st.g, *bounds.take(all_rows))
    v0 = np.where(bounds.bounded[:, None], v0, 1.0)
    st.delta = _norm(x / v0**0.5)
    st.delta[st.delta == 0] = 1.0
    return st, bounds, m


def _trial_step(st: _State, rows: np.ndarray, fun: ResidualFn, bounds: _Bounds, m: int, ftol: float, xtol: float,
                max_nfev: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass of scipy's inner ``while actual_reduction <= 0 and nfev < max_nfev`` loop for ``rows``.

    Returns ``(ended, raised)``: the rows whose inner loop ended (a step was accepted, a termination test fired,
    max_nfev was reached) and the rows for which scipy would have raised. Per-row updates that scipy makes only
    on some branches are ``where`` selections over all the rows, computed once.
    """
    x, delta = st.x[rows], st.delta[rows]
    b = bounds.bounded[rows]
    all_bounded, none_bounded = _all(b), not _any(b)
    step, step_h, predicted, raised, alpha = _steps(st, rows, bounds, m, b)
    raised_rows = rows[:0]
    if _any(raised):
        raised_rows = rows[raised]
        st.status[raised_rows] = STATUS_RAISED
        live = ~raised
        rows, x, step, step_h, predicted, delta, b, alpha = (
            rows[live], x[live], step[live], step_h[live], predicted[live], delta[live], b[live], alpha[live]
        )
    x_try = x + step
    if none_bounded:
        x_new = x_try
    else:
        lb, ub, _, _ = bounds.take(rows)
        x_new = _make_strictly_feasible(x_try, lb, ub, rstep=0)
        if not all_bounded:
            x_new = np.where(b[:, None], x_new, x_try)
    f_new = np.asarray(fun(x_new, rows), dtype=float)
    nfev = st.nfev[rows] + 1
    st.nfev[rows] = nfev
    step_h_norm = _norm(step_h)

    finite_values = np.isfinite(f_new)
    all_finite = _all(finite_values)
    finite = None if all_finite else finite_values.all(axis=1)
    cost = st.cost[rows]
    cost_new = 0.5 * _dot(f_new, f_new)
    actual = cost - cost_new
    delta_new, ratio = _update_tr_radius(delta, actual, predicted, step_h_norm, step_h_norm > 0.95 * delta)
    status = _check_termination(actual, cost, _norm(step), _norm(x), ratio, ftol, xtol)
    terminated = status != 0
    if not all_finite:  # scipy: Delta = 0.25 * step_h_norm; continue (nothing else changes)
        terminated &= finite
        actual = np.where(finite, actual, st.actual[rows])
    if _any(terminated):
        st.status[rows[terminated]] = status[terminated]
    st.actual[rows] = actual
    continuing = ~terminated if all_finite else finite & ~terminated
    st.alpha[rows] = np.where(continuing, alpha * (delta / delta_new), alpha)
    delta_next = np.where(continuing, delta_new, delta)
    if not all_finite:
        delta_next = np.where(finite, delta_next, 0.25 * step_h_norm)
    st.delta[rows] = delta_next
    # remember the tried point; _end_iteration moves it into x/f/cost if it reduced the cost
    st.x_new[rows], st.f_new[rows], st.cost_new[rows] = x_new, f_new, cost_new
    ended = terminated | (actual > 0) | (nfev >= max_nfev)
    return rows[ended], raised_rows


def _steps(st: _State, rows: np.ndarray, bounds: _Bounds, m: int, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """The trial step of each row: ``(step, step_h, predicted reduction, raised, alpha)``.

    A row with bounds takes scipy's ``select_step`` (reflected or constrained to the box); one without takes the
    trust-region step itself, as ``trf_no_bounds`` does.
    """
    x, delta = st.x[rows], st.delta[rows]
    p_h, alpha = _solve_lsq_trust_region(m, st.uf[rows], st.s[rows], st.v[rows], delta, st.alpha[rows])
    d = st.d[rows]
    p = d * p_h
    if _all(b):
        lb, ub, _, _ = bounds.take(rows)
        step, step_h, predicted, raised = _select_step(
            x, st.jh[rows], st.diag_h[rows], st.g_h[rows], p, p_h, d, delta, lb, ub, st.theta[rows]
        )
    elif not _any(b):
        step, step_h = p, p_h
        predicted = -_evaluate_quadratic(st.jh[rows], st.g_h[rows], p_h)
        raised = np.zeros(rows.size, dtype=bool)
    else:
        step, step_h = p.copy(), p_h.copy()
        predicted = np.empty(rows.size)
        raised = np.zeros(rows.size, dtype=bool)
        i = np.flatnonzero(b)
        r = rows[i]
        lb, ub, _, _ = bounds.take(r)
        step[i], step_h[i], predicted[i], raised[i] = _select_step(
            x[i], st.jh[r], st.diag_h[r], st.g_h[r], p[i], p_h[i], d[i], delta[i], lb, ub, st.theta[r]
        )
        i = np.flatnonzero(~b)
        r = rows[i]
        predicted[i] = -_evaluate_quadratic(st.jh[r], st.g_h[r], step_h[i])
    return step, step_h, predicted, raised, alpha


def _end_iteration(st: _State, rows: np.ndarray, jac: JacobianFn) -> np.ndarray:
    """Tail of scipy's outer loop for ``rows`` whose inner loop ended: accept the step if it reduced the cost.

    Returns the rows, which go back to the loop head (where a finished problem stops). scipy also resets
    ``actual_reduction`` to 0 for a rejected step; the batch does not need to, because :func:`_begin_iteration`
    sets it to -1 for every row that goes on and nothing reads it before.
    """
    accept = rows[st.actual[rows] > 0]
    if accept.size:
        x, f = st.x_new[accept], st.f_new[accept]
        st.x[accept], st.f[accept], st.cost[accept] = x, f, st.cost_new[accept]
        j = np.asarray(jac(x, accept), dtype=float)
        st.jac[accept] = j
        st.njev[accept] += 1
        st.g[accept] = _rmatvec(j, f)
    return rows
