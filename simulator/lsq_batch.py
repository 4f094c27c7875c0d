"""Many independent bounded least-squares problems solved at once with scipy's Trust Region Reflective method.

Why this exists
---------------
ZIP scoring (:mod:`simulator.synergy`) fits a 3-parameter Hill curve to every row and column of every dose
matrix: a screen means tens of thousands of tiny fits (3 parameters, ~10 residuals). One
``scipy.optimize.least_squares`` call costs ~1.5 ms of Python overhead, almost none of it arithmetic. A
home-made vectorised Levenberg–Marquardt was tried and rejected: on noisy slices it stopped in other local
minima than scipy's ``trf``, so ZIP δ no longer matched the reference package. This module therefore runs
**scipy's own algorithm, step for step**, on a stack of K problems: every branch of scipy 1.17.1's
``least_squares(method="trf", loss="linear", x_scale=1.0, tr_solver="exact")`` is a mask over the problems,
and a problem leaves the active set as soon as scipy's loop would have returned for it.

Each function below mirrors one scipy function (named in its docstring) with a leading problem axis. The
arithmetic is scipy's, in scipy's order; two kinds of operation cannot be bit-identical in a batch:

- BLAS dot products and matrix-vector products (scipy: ``np.dot`` → OpenBLAS, which accumulates with fused
  multiply-adds) are evaluated here with numpy's elementwise arithmetic, so they can differ in the last bit.
- The SVD is LAPACK ``gesdd`` in both (``numpy.linalg.svd`` on the stack, ``scipy.linalg.svd`` one at a time);
  on this machine the two give bit-identical factors (checked in ``tests/test_lsq_batch.py``).

Last-bit differences are invisible on well-posed problems; where a problem is ill-posed (a flat valley) they
can move the end point along the valley. ``tests/test_lsq_batch.py`` measures how often and by how much.

Statuses are scipy's (``0`` max_nfev reached, ``1`` gtol, ``2`` ftol, ``3`` xtol, ``4`` ftol and xtol) plus
:data:`STATUS_RAISED` where scipy's ``least_squares`` raises instead of returning (residuals not finite at
``x0``, a non-finite Jacobian reaching the SVD, a degenerate trust-region intersection).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["STATUS_RAISED", "BatchLsqResult", "least_squares_trf_batch"]

#: Status of a problem for which scipy's ``least_squares`` raises (ValueError / LinAlgError) instead of returning.
STATUS_RAISED = -3

#: Machine epsilon, as ``scipy.optimize._lsq.common.EPS``.
EPS = np.finfo(float).eps

#: Residual function ``fun(x, rows) -> (k, m)`` for parameters ``x`` (k, n) of the problems ``rows``.
ResidualFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: Jacobian ``jac(x, rows) -> (k, m, n)``.
JacobianFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


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


# --------------------------------------------------------------------------------------------------------------
# Small batched linear algebra (scipy calls np.dot on 1-D / 2-D arrays; here a leading problem axis)
# --------------------------------------------------------------------------------------------------------------


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise ``np.dot(a[k], b[k])`` of (k, n) arrays, accumulated left to right as BLAS ``ddot`` does."""
    out = a[:, 0] * b[:, 0]
    for i in range(1, a.shape[1]):
        out = out + a[:, i] * b[:, i]
    return out


def _pymax(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Python's ``max(a, b)`` elementwise: ``a`` unless ``b > a`` (so a NaN ``b`` loses, unlike ``np.maximum``)."""
    return np.where(b > a, b, a)


def _pymin(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Python's ``min(a, b)`` elementwise: ``a`` unless ``b < a``."""
    return np.where(b < a, b, a)


def _norm(a: np.ndarray) -> np.ndarray:
    """Row-wise ``numpy.linalg.norm`` (2-norm) of a (k, n) array: ``sqrt(dot(a, a))`` as numpy computes it."""
    return np.sqrt(_dot(a, a))


def _matvec(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a[k] @ x[k]`` for a (k, m, n) stack and (k, n) vectors, columns accumulated in order."""
    out = a[:, :, 0] * x[:, 0:1]
    for j in range(1, a.shape[2]):
        out = out + a[:, :, j] * x[:, j : j + 1]
    return out


def _rmatvec(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``a[k].T @ y[k]`` for a (k, m, n) stack and (k, m) vectors, rows accumulated in order."""
    out = a[:, 0, :] * y[:, 0:1]
    for i in range(1, a.shape[1]):
        out = out + a[:, i, :] * y[:, i : i + 1]
    return out


# --------------------------------------------------------------------------------------------------------------
# Bounds (scipy.optimize._lsq.common)
# --------------------------------------------------------------------------------------------------------------


def _in_bounds(x: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Mirror of ``common.in_bounds``, per problem."""
    return np.all((x >= lb) & (x <= ub), axis=1)


def _find_active_constraints(x: np.ndarray, lb: np.ndarray, ub: np.ndarray, rtol: float) -> np.ndarray:
    """Mirror of ``common.find_active_constraints``: -1 lower bound active, 1 upper, 0 neither."""
    active = np.zeros(x.shape, dtype=int)
    if rtol == 0:
        active[x <= lb] = -1
        active[x >= ub] = 1
        return active
    lower_dist = x - lb
    upper_dist = ub - x
    lower_threshold = rtol * np.maximum(1, np.abs(lb))
    upper_threshold = rtol * np.maximum(1, np.abs(ub))
    lower_active = np.isfinite(lb) & (lower_dist <= np.minimum(upper_dist, lower_threshold))
    active[lower_active] = -1
    upper_active = np.isfinite(ub) & (upper_dist <= np.minimum(lower_dist, upper_threshold))
    active[upper_active] = 1
    return active


def _make_strictly_feasible(x: np.ndarray, lb: np.ndarray, ub: np.ndarray, rstep: float = 1e-10) -> np.ndarray:
    """Mirror of ``common.make_strictly_feasible``: move ``x`` off its bounds (``rstep=0``: by one ulp)."""
    x_new = x.copy()
    active = _find_active_constraints(x, lb, ub, rstep)
    lower_mask = active == -1
    upper_mask = active == 1
    if rstep == 0:
        x_new[lower_mask] = np.nextafter(lb[lower_mask], ub[lower_mask])
        x_new[upper_mask] = np.nextafter(ub[upper_mask], lb[upper_mask])
    else:
        x_new[lower_mask] = lb[lower_mask] + rstep * np.maximum(1, np.abs(lb[lower_mask]))
        x_new[upper_mask] = ub[upper_mask] - rstep * np.maximum(1, np.abs(ub[upper_mask]))
    tight_bounds = (x_new < lb) | (x_new > ub)
    x_new[tight_bounds] = 0.5 * (lb[tight_bounds] + ub[tight_bounds])
    return x_new


def _cl_scaling_vector(
    x: np.ndarray, g: np.ndarray, lb: np.ndarray, ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.CL_scaling_vector``: Coleman–Li distances to the bound the anti-gradient points at."""
    v = np.ones_like(x)
    dv = np.zeros_like(x)
    mask = (g < 0) & np.isfinite(ub)
    v[mask] = ub[mask] - x[mask]
    dv[mask] = -1
    mask = (g > 0) & np.isfinite(lb)
    v[mask] = x[mask] - lb[mask]
    dv[mask] = 1
    return v, dv


def _step_size_to_bound(
    x: np.ndarray, s: np.ndarray, lb: np.ndarray, ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.step_size_to_bound``: smallest ``t ≥ 0`` putting ``x + t·s`` on a bound, and the hits."""
    non_zero = s != 0
    safe = np.where(non_zero, s, 1.0)
    steps = np.where(non_zero, np.maximum((lb - x) / safe, (ub - x) / safe), np.inf)
    min_step = np.min(steps, axis=1)
    hits = (steps == min_step[:, None]) * np.sign(s).astype(int)
    return min_step, hits


# --------------------------------------------------------------------------------------------------------------
# Trust-region subproblem and quadratic models (scipy.optimize._lsq.common)
# --------------------------------------------------------------------------------------------------------------


def _intersect_trust_region(
    x: np.ndarray, s: np.ndarray, delta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mirror of ``common.intersect_trust_region``: roots of ``‖x + t·s‖ = Δ``.

    Returns ``(t_neg, t_pos, raised)``; ``raised`` marks problems where scipy raises ValueError (``s = 0`` or
    ``x`` outside the region).
    """
    a = _dot(s, s)
    b = _dot(x, s)
    c = _dot(x, x) - delta**2
    raised = (a == 0) | (c > 0)
    d = np.sqrt(b * b - a * c)
    q = -(b + np.copysign(d, b))
    t1 = q / a
    t2 = c / q
    first = t1 < t2
    return np.where(first, t1, t2), np.where(first, t2, t1), raised


def _solve_lsq_trust_region(
    m: int, uf: np.ndarray, s: np.ndarray, v: np.ndarray, delta: np.ndarray, initial_alpha: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.solve_lsq_trust_region`` (Moré's method on one SVD; rtol=0.01, max_iter=10).

    Returns the step ``p`` (k, n) and the Levenberg–Marquardt parameter ``alpha`` (k,).
    """
    k, n = uf.shape
    suf = s * uf
    if m >= n:
        threshold = EPS * m * s[:, 0]
        full_rank = s[:, -1] > threshold
    else:
        full_rank = np.zeros(k, dtype=bool)

    p = np.zeros((k, n))
    alpha_out = np.zeros(k)
    p_gn = -_matvec(v, uf / s)
    gn_inside = full_rank & (_norm(p_gn) <= delta)
    p[gn_inside] = p_gn[gn_inside]

    todo = ~gn_inside
    if not todo.any():
        return p, alpha_out
    idx = np.flatnonzero(todo)
    suf_t, s_t, v_t, delta_t, fr = suf[idx], s[idx], v[idx], delta[idx], full_rank[idx]

    def phi_and_derivative(alpha: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        denom = s_t[rows] ** 2 + alpha[:, None]
        p_norm = _norm(suf_t[rows] / denom)
        phi = p_norm - delta_t[rows]
        ratio_terms = suf_t[rows] ** 2 / denom**3
        phi_prime = -_sum_rows(ratio_terms) / p_norm
        return phi, phi_prime

    all_rows = np.arange(idx.size)
    alpha_upper = _norm(suf_t) / delta_t
    alpha_lower = np.zeros(idx.size)
    if fr.any():
        phi0, phi0_prime = phi_and_derivative(np.zeros(idx.size), all_rows)
        alpha_lower = np.where(fr, -phi0 / phi0_prime, 0.0)
    init = initial_alpha[idx]
    reset = ~fr & (init == 0)
    alpha = np.where(reset, _pymax(0.001 * alpha_upper, (alpha_lower * alpha_upper) ** 0.5), init)

    running = np.ones(idx.size, dtype=bool)
    for _ in range(10):
        r = np.flatnonzero(running)
        if r.size == 0:
            break
        a_r, lo_r, up_r = alpha[r], alpha_lower[r], alpha_upper[r]
        outside = (a_r < lo_r) | (a_r > up_r)
        a_r = np.where(outside, _pymax(0.001 * up_r, (lo_r * up_r) ** 0.5), a_r)
        phi, phi_prime = phi_and_derivative(a_r, r)
        up_r = np.where(phi < 0, a_r, up_r)
        ratio = phi / phi_prime
        lo_r = _pymax(lo_r, a_r - ratio)
        a_r = a_r - (phi + delta_t[r]) * ratio / delta_t[r]
        alpha[r], alpha_lower[r], alpha_upper[r] = a_r, lo_r, up_r
        running[r] = ~(np.abs(phi) < 0.01 * delta_t[r])

    p_t = -_matvec(v_t, suf_t / (s_t**2 + alpha[:, None]))
    p_t = p_t * (delta_t / _norm(p_t))[:, None]
    p[idx] = p_t
    alpha_out[idx] = alpha
    return p, alpha_out


def _sum_rows(a: np.ndarray) -> np.ndarray:
    """Row-wise ``np.sum`` of a short (k, n) array (numpy adds fewer than 8 terms left to right)."""
    out = a[:, 0].copy()
    for i in range(1, a.shape[1]):
        out = out + a[:, i]
    return out


def _build_quadratic_1d(
    jh: np.ndarray,
    g: np.ndarray,
    s: np.ndarray,
    diag: np.ndarray | None = None,
    s0: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Mirror of ``common.build_quadratic_1d``: ``f(t) = a·t² + b·t (+ c)`` along ``s0 + t·s``."""
    v = _matvec(jh, s)
    a = _dot(v, v)
    if diag is not None:
        a = a + _dot(s * diag, s)
    a = a * 0.5
    b = _dot(g, s)
    if s0 is None:
        return a, b
    u = _matvec(jh, s0)
    b = b + _dot(u, v)
    c = 0.5 * _dot(u, u) + _dot(g, s0)
    if diag is not None:
        b = b + _dot(s0 * diag, s)
        c = c + 0.5 * _dot(s0 * diag, s0)
    return a, b, c


def _minimize_quadratic_1d(
    a: np.ndarray, b: np.ndarray, lb: np.ndarray, ub: np.ndarray, c: np.ndarray | float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.minimize_quadratic_1d``: best of ``lb``, ``ub`` and the interior extremum."""
    lb = np.broadcast_to(np.asarray(lb, dtype=float), a.shape)
    ub = np.broadcast_to(np.asarray(ub, dtype=float), a.shape)
    extremum = np.where(a != 0, -0.5 * b / np.where(a != 0, a, 1.0), np.nan)
    has_ext = (a != 0) & (lb < extremum) & (extremum < ub)
    t = np.stack([lb, ub, np.where(has_ext, extremum, lb)], axis=1)
    c = np.broadcast_to(np.asarray(c, dtype=float), a.shape)
    y = t * (a[:, None] * t + b[:, None]) + c[:, None]
    y[:, 2] = np.where(has_ext, y[:, 2], np.inf)
    best = _argmin3(y)
    rows = np.arange(a.size)
    return t[rows, best], y[rows, best]


def _argmin3(y: np.ndarray) -> np.ndarray:
    """``np.argmin`` along axis 1 of a (k, 3) array (first minimum; a NaN wins, as in numpy)."""
    return np.argmin(y, axis=1)


def _evaluate_quadratic(jh: np.ndarray, g: np.ndarray, s: np.ndarray, diag: np.ndarray | None = None) -> np.ndarray:
    """Mirror of ``common.evaluate_quadratic`` for one step per problem: ``0.5·s'(J'J + diag)s + g's``."""
    js = _matvec(jh, s)
    q = _dot(js, js)
    if diag is not None:
        q = q + _dot(s * diag, s)
    return 0.5 * q + _dot(s, g)


def _update_tr_radius(
    delta: np.ndarray, actual: np.ndarray, predicted: np.ndarray, step_norm: np.ndarray, bound_hit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.update_tr_radius``: new radius and the actual/predicted reduction ratio."""
    safe = np.where(predicted > 0, predicted, 1.0)
    ratio = np.where(predicted > 0, actual / safe, np.where((predicted == actual) & (actual == 0), 1.0, 0.0))
    new = np.where(ratio < 0.25, 0.25 * step_norm, np.where((ratio > 0.75) & bound_hit, delta * 2.0, delta))
    return new, ratio


def _check_termination(
    df: np.ndarray, f: np.ndarray, dx_norm: np.ndarray, x_norm: np.ndarray, ratio: np.ndarray, ftol: float, xtol: float
) -> np.ndarray:
    """Mirror of ``common.check_termination``: 4, 2, 3, or 0 for "continue" (scipy's None)."""
    ftol_ok = (df < ftol * f) & (ratio > 0.25)
    xtol_ok = dx_norm < xtol * (xtol + x_norm)
    return np.where(ftol_ok & xtol_ok, 4, np.where(ftol_ok, 2, np.where(xtol_ok, 3, 0)))


# --------------------------------------------------------------------------------------------------------------
# The reflective step (scipy.optimize._lsq.trf.select_step)
# --------------------------------------------------------------------------------------------------------------


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

    Returns ``(step, step_h, predicted_reduction, raised)``.
    """
    step, step_h = p.copy(), p_h.copy()
    predicted = np.empty(x.shape[0])
    raised = np.zeros(x.shape[0], dtype=bool)
    inside = _in_bounds(x + p, lb, ub)
    if inside.any():
        i = np.flatnonzero(inside)
        predicted[i] = -_evaluate_quadratic(jh[i], g_h[i], p_h[i], diag_h[i])
    o = np.flatnonzero(~inside)
    if o.size == 0:
        return step, step_h, predicted, raised

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
    if reflect.any():
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
    take_ag = ~take_p & ~take_r
    chosen = np.where(take_p[:, None], p, np.where(take_r[:, None], r, ag))
    chosen_h = np.where(take_p[:, None], p_h, np.where(take_r[:, None], r_h, ag_h))
    value = np.where(take_p, p_value, np.where(take_r, r_value, ag_value))
    del take_ag
    step[o], step_h[o], predicted[o] = chosen, chosen_h, -value
    raised[o] = bad
    return step, step_h, predicted, raised


# --------------------------------------------------------------------------------------------------------------
# The driver (scipy.optimize._lsq.least_squares.least_squares + trf.trf_bounds / trf_no_bounds)
# --------------------------------------------------------------------------------------------------------------


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


def _begin_iteration(st: _State, rows: np.ndarray, lb: np.ndarray, ub: np.ndarray, bounded: np.ndarray, gtol: float,
                     max_nfev: int) -> np.ndarray:
    """Top of scipy's ``while True`` loop for ``rows``: tests, scaling and the SVD; returns the rows that go on.

    Mirrors the loop head of ``trf_bounds`` (Coleman–Li scaling, augmented Jacobian) and, for problems without
    finite bounds, of ``trf_no_bounds`` (plain Jacobian); x_scale is 1.
    """
    x, g = st.x[rows], st.g[rows]
    v, dv = _cl_scaling_vector(x, g, lb[rows], ub[rows])
    g_norm = np.max(np.abs(g * v), axis=1)
    st.status[rows] = np.where(g_norm < gtol, 1, st.status[rows])
    stop = (st.status[rows] != _RUNNING) | (st.nfev[rows] == max_nfev)
    go = rows[~stop]
    keep = ~stop
    if go.size == 0:
        return go
    v, dv, g, g_norm = v[keep], dv[keep], g[keep], g_norm[keep]
    b = bounded[go]
    v = np.where(b[:, None], v, 1.0)
    dv = np.where(b[:, None], dv, 0.0)
    d = v**0.5
    diag_h = g * dv
    st.d[go], st.diag_h[go], st.g_h[go] = d, diag_h, d * g
    jh = st.jac[go] * d[:, None, :]
    st.jh[go] = jh
    m, n = jh.shape[1], jh.shape[2]
    for group, augmented in ((go[b], True), (go[~b], False)):
        if group.size == 0:
            continue
        sel = b if augmented else ~b
        j_g = jh[sel]
        f_g = st.f[group]
        if augmented:
            j_aug = np.concatenate([j_g, np.zeros((group.size, n, n))], axis=1)
            idx = np.arange(n)
            j_aug[:, m + idx, idx] = diag_h[sel] ** 0.5
            f_aug = np.concatenate([f_g, np.zeros((group.size, n))], axis=1)
        else:
            j_aug, f_aug = j_g, f_g
        finite = np.all(np.isfinite(j_aug), axis=(1, 2))
        st.status[group[~finite]] = STATUS_RAISED  # scipy.linalg.svd: "array must not contain infs or NaNs"
        u, s, vt = _svd(j_aug[finite])
        ok = group[finite]
        if ok.size:
            st.s[ok] = s
            st.v[ok] = np.swapaxes(vt, 1, 2)
            st.uf[ok] = _rmatvec(u, f_aug[finite])
    st.theta[go] = _pymax(np.full(go.size, 0.995), 1 - g_norm)
    st.actual[go] = -1.0
    return go[st.status[go] == _RUNNING]


def _svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of a stack (LAPACK gesdd, as ``scipy.linalg.svd``), one matrix at a time if the stack fails."""
    if a.shape[0] == 0:
        return a[:, :, : a.shape[2]], np.zeros((0, a.shape[2])), np.zeros((0, a.shape[2], a.shape[2]))
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
    bounds=(lower[k], upper[k]), method="trf")`` would take (module docstring for the rounding caveat); the
    batching only changes how many problems one numpy call serves.

    Parameters
    ----------
    fun
        ``fun(x, rows) -> (k, m)``: residuals of the problems ``rows`` (indices into K) at ``x`` (k, n). Called
        only for problems still running.
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
    k_all, n = x.shape
    all_rows = np.arange(k_all)
    with np.errstate(all="ignore"):
        x = _make_strictly_feasible(x, lb, ub)
        f = np.array(fun(x, all_rows), dtype=float)  # copies: the state arrays are written in place
        m = f.shape[1]
        j = np.array(jac(x, all_rows), dtype=float)
        if f.shape != (k_all, m) or j.shape != (k_all, m, n):
            raise ValueError(f"fun/jac must return shapes (k, m) and (k, m, n); got {f.shape} and {j.shape}.")
        bounded = ~(np.all(lb == -np.inf, axis=1) & np.all(ub == np.inf, axis=1))
        st = _State(
            x=x, f=f, jac=j, g=_rmatvec(j, f), cost=0.5 * _dot(f, f), delta=np.zeros(k_all), alpha=np.zeros(k_all),
            nfev=np.ones(k_all, dtype=int), njev=np.ones(k_all, dtype=int), status=np.full(k_all, _RUNNING),
            actual=np.zeros(k_all), d=np.zeros((k_all, n)), diag_h=np.zeros((k_all, n)), g_h=np.zeros((k_all, n)),
            jh=np.zeros((k_all, m, n)), s=np.zeros((k_all, n)), v=np.zeros((k_all, n, n)), uf=np.zeros((k_all, n)),
            theta=np.zeros(k_all), x_new=x.copy(), f_new=f.copy(), cost_new=np.zeros(k_all),
        )
        st.status[~np.all(np.isfinite(f), axis=1)] = STATUS_RAISED  # "Residuals are not finite in the initial point."
        v0, _ = _cl_scaling_vector(x, st.g, lb, ub)
        v0 = np.where(bounded[:, None], v0, 1.0)
        st.delta = _norm(x / v0**0.5)
        st.delta[st.delta == 0] = 1.0

        fresh = all_rows[st.status == _RUNNING]  # problems at the head of an outer iteration
        inner = np.zeros(0, dtype=int)  # problems inside the inner (step-trial) loop
        while fresh.size or inner.size:
            inner = np.union1d(inner, _begin_iteration(st, fresh, lb, ub, bounded, gtol, max_nfev))
            if inner.size == 0:
                break
            ended = _trial_step(st, inner, fun, lb, ub, bounded, m, ftol, xtol, max_nfev)
            inner = np.setdiff1d(inner, ended, assume_unique=True)
            inner = inner[st.status[inner] != STATUS_RAISED]
            fresh = _end_iteration(st, ended, jac)

    status = np.where(st.status == _RUNNING, 0, st.status)
    return BatchLsqResult(
        x=_frozen(st.x), cost=_frozen(st.cost), status=_frozen(status), success=_frozen(status > 0),
        nfev=_frozen(st.nfev), njev=_frozen(st.njev),
    )


def _trial_step(st: _State, rows: np.ndarray, fun: ResidualFn, lb: np.ndarray, ub: np.ndarray, bounded: np.ndarray,
                m: int, ftol: float, xtol: float, max_nfev: int) -> np.ndarray:
    """One pass of scipy's inner ``while actual_reduction <= 0 and nfev < max_nfev`` loop for ``rows``.

    Returns the rows whose inner loop ended (a step was accepted, a termination test fired, max_nfev was reached,
    or scipy would have raised).
    """
    x, delta = st.x[rows], st.delta[rows]
    p_h, alpha = _solve_lsq_trust_region(m, st.uf[rows], st.s[rows], st.v[rows], delta, st.alpha[rows])
    st.alpha[rows] = alpha
    d = st.d[rows]
    p = d * p_h
    b = bounded[rows]
    step, step_h = p.copy(), p_h.copy()
    predicted = np.empty(rows.size)
    raised = np.zeros(rows.size, dtype=bool)
    if b.any():
        i = np.flatnonzero(b)
        r = rows[i]
        step[i], step_h[i], predicted[i], raised[i] = _select_step(
            x[i], st.jh[r], st.diag_h[r], st.g_h[r], p[i], p_h[i], d[i], delta[i], lb[r], ub[r], st.theta[r]
        )
    if (~b).any():
        i = np.flatnonzero(~b)
        r = rows[i]
        predicted[i] = -_evaluate_quadratic(st.jh[r], st.g_h[r], step_h[i])
    st.status[rows[raised]] = STATUS_RAISED
    live = ~raised
    rows, x, step, step_h, predicted, delta, b = (
        rows[live], x[live], step[live], step_h[live], predicted[live], delta[live], b[live]
    )
    x_try = x + step
    x_new = np.where(b[:, None], _make_strictly_feasible(x_try, lb[rows], ub[rows], rstep=0), x_try)
    f_new = np.asarray(fun(x_new, rows), dtype=float)
    st.nfev[rows] += 1
    step_h_norm = _norm(step_h)

    finite = np.all(np.isfinite(f_new), axis=1)
    st.delta[rows[~finite]] = 0.25 * step_h_norm[~finite]

    fi = np.flatnonzero(finite)
    rf = rows[fi]
    cost_new = 0.5 * _dot(f_new[fi], f_new[fi])
    actual = st.cost[rf] - cost_new
    st.actual[rf] = actual
    delta_new, ratio = _update_tr_radius(delta[fi], actual, predicted[fi], step_h_norm[fi],
                                         step_h_norm[fi] > 0.95 * delta[fi])
    status = _check_termination(actual, st.cost[rf], _norm(step[fi]), _norm(x[fi]), ratio, ftol, xtol)
    terminated = status != 0
    st.status[rf[terminated]] = status[terminated]
    cont = ~terminated
    rc = rf[cont]
    st.alpha[rc] = st.alpha[rc] * (delta[fi][cont] / delta_new[cont])
    st.delta[rc] = delta_new[cont]
    # remember the tried point; _end_iteration moves it into x/f/cost if it reduced the cost
    st.x_new[rf], st.f_new[rf], st.cost_new[rf] = x_new[fi], f_new[fi], cost_new
    ended = np.zeros(rows.size, dtype=bool)
    ended[fi] = terminated | (actual > 0)
    ended |= st.nfev[rows] >= max_nfev
    return rows[ended]


def _end_iteration(st: _State, rows: np.ndarray, jac: JacobianFn) -> np.ndarray:
    """Tail of scipy's outer loop for ``rows`` whose inner loop ended: accept the step if it reduced the cost.

    Returns the rows, which go back to the loop head (where a finished problem stops).
    """
    accept = rows[st.actual[rows] > 0]
    if accept.size:
        st.x[accept], st.f[accept], st.cost[accept] = st.x_new[accept], st.f_new[accept], st.cost_new[accept]
        j = np.asarray(jac(st.x[accept], accept), dtype=float)
        st.jac[accept] = j
        st.njev[accept] += 1
        st.g[accept] = _rmatvec(j, st.f[accept])
    st.actual[rows[st.actual[rows] <= 0]] = 0.0
    return rows


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out
