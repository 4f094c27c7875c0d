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

What a batch costs, and how the loop is kept cheap
--------------------------------------------------
A ZIP batch of a screen chunk (1,224 slices) runs ~110 rounds, one trial step per running problem each: most slices
stop within ~20, the ill-posed ones (a flat valley, ~8 %) take ~100. Each round is a few hundred numpy calls on
small arrays plus one LAPACK SVD per problem starting an outer iteration (~40 % of the time, irreducible: it is
scipy's algorithm). So the loop avoids numpy calls, never operations on values: sums are one in-place add per term
over the whole batch (:func:`_sum_last`, :func:`_rmatvec`), bounds shared by every problem are kept as one row
(:class:`_Bounds`), ``any``/``all`` tests use ``count_nonzero``, the Moré iteration compacts to the problems still
iterating, the reflective step runs only when some trial step leaves the box, and the per-problem updates of a
trial are ``where`` selections rather than masked sub-batches. Every value is computed by the same floating-point
operations, in the same order, as the straightforward mirror (checked bit for bit against it on the screen's
slices and on seeded families with raised, non-finite and max_nfev cases; and against scipy in
``tests/test_lsq_batch.py``).

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
#
# Every sum is accumulated left to right, ``(t0 + t1) + t2 ...``, as one elementwise add per term on a whole
# column of the batch: one numpy call per term, whatever the number of problems. (``np.sum`` would switch to
# pairwise summation from 8 terms on, and ``np.add.accumulate`` is an order of magnitude slower per element.)
# --------------------------------------------------------------------------------------------------------------


def _sum_last(p: np.ndarray) -> np.ndarray:
    """Sum over the last axis of a (k, n) or (k, m, n) array, left to right: ``(p0 + p1) + p2 ...``."""
    n = p.shape[-1]
    if n == 1:
        return p[..., 0].copy()
    out = p[..., 0] + p[..., 1]
    for j in range(2, n):
        out += p[..., j]
    return out


def _any(mask: np.ndarray) -> bool:
    """``mask.any()`` for the short masks of the loop (``count_nonzero`` costs a quarter of the reduction)."""
    return np.count_nonzero(mask) > 0


def _all(mask: np.ndarray) -> bool:
    """``mask.all()``, as :func:`_any`."""
    return np.count_nonzero(mask) == mask.size


def _rows_all(mask: np.ndarray) -> np.ndarray:
    """``mask.all(axis=1)`` of a (k, n) mask, as n − 1 elementwise ANDs (cheaper than a reduction for small n)."""
    out = mask[:, 0].copy()
    for j in range(1, mask.shape[1]):
        out &= mask[:, j]
    return out


def _rows_max(a: np.ndarray) -> np.ndarray:
    """``np.max(a, axis=1)`` of a (k, n) array as a chain of ``np.maximum`` (the same values, NaN included)."""
    out = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        np.maximum(out, a[:, j], out=out)
    return out


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise ``np.dot(a[k], b[k])`` of (k, n) arrays, accumulated left to right as BLAS ``ddot`` does."""
    return _sum_last(a * b)


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
    return _sum_last(a * x[:, None, :])


def _rmatvec(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``a[k].T @ y[k]`` for a (k, m, n) stack and (k, m) vectors, rows accumulated in order.

    The products are laid out row-major as (m, k, n), so each of the m - 1 additions runs on one contiguous block.
    """
    k, m, n = a.shape
    p = np.multiply(a.transpose(1, 0, 2), y.T[:, :, None], out=np.empty((m, k, n)))
    if m == 1:
        return p[0]
    out = p[0] + p[1]
    for i in range(2, m):
        out += p[i]
    return out


# --------------------------------------------------------------------------------------------------------------
# Bounds (scipy.optimize._lsq.common)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bounds:
    """The bounds of the K problems, with what the loop asks of them every round computed once.

    ``lb``/``ub`` (and the ``isfinite`` masks) have K rows, or a single row when every problem has the same
    bounds (ZIP's case); a single row broadcasts in every elementwise operation, so no row gather is needed.
    """

    lb: np.ndarray
    ub: np.ndarray
    finite_lb: np.ndarray
    finite_ub: np.ndarray
    bounded: np.ndarray  # (K,): some bound finite -> trf_bounds, else trf_no_bounds

    @classmethod
    def of(cls, lb: np.ndarray, ub: np.ndarray) -> _Bounds:
        bounded = ~(np.all(lb == -np.inf, axis=1) & np.all(ub == np.inf, axis=1))
        if lb.shape[0] > 1 and np.array_equal(lb, np.broadcast_to(lb[:1], lb.shape)) and np.array_equal(
            ub, np.broadcast_to(ub[:1], ub.shape)
        ):
            lb, ub = lb[:1], ub[:1]
        return cls(lb, ub, np.isfinite(lb), np.isfinite(ub), bounded)

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(lb, ub, finite_lb, finite_ub)`` of the problems ``rows`` (the shared row if there is one)."""
        if self.lb.shape[0] == 1:
            return self.lb, self.ub, self.finite_lb, self.finite_ub
        return self.lb[rows], self.ub[rows], self.finite_lb[rows], self.finite_ub[rows]


def _in_bounds(x: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Mirror of ``common.in_bounds``, per problem."""
    return _rows_all((x >= lb) & (x <= ub))


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
    """Mirror of ``common.make_strictly_feasible``: move ``x`` off its bounds (``rstep=0``: by one ulp).

    With ``rstep=0`` (every trial point) a point strictly inside its bounds is returned as it is (scipy's copy
    of it has the same values); the mask work below runs only when some coordinate touches a bound.
    """
    if rstep == 0 and not (_any(x <= lb) or _any(x >= ub)):
        return x
    lb, ub = np.broadcast_to(lb, x.shape), np.broadcast_to(ub, x.shape)
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
    x: np.ndarray, g: np.ndarray, lb: np.ndarray, ub: np.ndarray, finite_lb: np.ndarray, finite_ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.CL_scaling_vector``: Coleman–Li distances to the bound the anti-gradient points at.

    ``finite_lb``/``finite_ub`` are ``isfinite(lb)``/``isfinite(ub)``. The two masks are disjoint (``g < 0`` vs
    ``g > 0``), so scipy's two masked assignments are one nested ``where``.
    """
    to_upper = (g < 0) & finite_ub
    to_lower = (g > 0) & finite_lb
    v = np.where(to_lower, x - lb, np.where(to_upper, ub - x, 1.0))
    dv = np.where(to_lower, 1.0, np.where(to_upper, -1.0, 0.0))
    return v, dv


def _step_size_to_bound(
    x: np.ndarray, s: np.ndarray, lb: np.ndarray, ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.step_size_to_bound``: smallest ``t ≥ 0`` putting ``x + t·s`` on a bound, and the hits."""
    non_zero = s != 0
    safe = np.where(non_zero, s, 1.0)
    steps = np.where(non_zero, np.maximum((lb - x) / safe, (ub - x) / safe), np.inf)
    min_step = np.min(steps, axis=1)  # (a reduction: which zero it returns for ±0 is numpy's, kept)
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


def _phi_and_derivative(
    alpha: np.ndarray, suf: np.ndarray, s2: np.ndarray, suf2: np.ndarray, delta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``phi_and_derivative`` of ``common.solve_lsq_trust_region``; ``s2 = s**2`` and ``suf2 = suf**2`` given."""
    denom = s2 + alpha[:, None]
    p_norm = _norm(suf / denom)
    phi = p_norm - delta
    phi_prime = -_sum_last(suf2 / denom**3) / p_norm
    return phi, phi_prime


def _solve_lsq_trust_region(
    m: int, uf: np.ndarray, s: np.ndarray, v: np.ndarray, delta: np.ndarray, initial_alpha: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``common.solve_lsq_trust_region`` (Moré's method on one SVD; rtol=0.01, max_iter=10).

    Returns the step ``p`` (k, n) and the Levenberg–Marquardt parameter ``alpha`` (k,). The Moré iteration runs
    on compact arrays of the problems still iterating (a problem leaves as soon as scipy's loop would break).
    """
    k, n = uf.shape
    suf = s * uf
    if m >= n:
        threshold = EPS * m * s[:, 0]
        full_rank = s[:, -1] > threshold
    else:
        full_rank = np.zeros(k, dtype=bool)

    p_gn = -_matvec(v, uf / s)
    gn_inside = full_rank & (_norm(p_gn) <= delta)
    if _all(gn_inside):
        return p_gn, np.zeros(k)
    some_inside = _any(gn_inside)
    if some_inside:
        idx = np.flatnonzero(~gn_inside)
        suf, s, v, delta, full_rank, initial_alpha = (
            suf[idx], s[idx], v[idx], delta[idx], full_rank[idx], initial_alpha[idx]
        )
    size = suf.shape[0]
    s2, suf2 = s**2, suf**2

    alpha_upper = _norm(suf) / delta
    if _any(full_rank):
        phi0, phi0_prime = _phi_and_derivative(np.zeros(size), suf, s2, suf2, delta)
        alpha_lower = np.where(full_rank, -phi0 / phi0_prime, 0.0)
    else:
        alpha_lower = np.zeros(size)
    reset = ~full_rank & (initial_alpha == 0)
    alpha = np.where(reset, _pymax(0.001 * alpha_upper, (alpha_lower * alpha_upper) ** 0.5), initial_alpha)

    # the iteration, on the problems still running (w: their positions; a, lo, up: their alpha and bracket)
    final = np.empty(size)
    w = np.arange(size)
    a, lo, up, suf_w, s2_w, suf2_w, delta_w = alpha, alpha_lower, alpha_upper, suf, s2, suf2, delta
    tolerance = 0.01 * delta  # rtol * Delta
    for _ in range(10):
        outside = (a < lo) | (a > up)
        if _any(outside):
            a = np.where(outside, _pymax(0.001 * up, (lo * up) ** 0.5), a)
        phi, phi_prime = _phi_and_derivative(a, suf_w, s2_w, suf2_w, delta_w)
        up = np.where(phi < 0, a, up)
        ratio = phi / phi_prime
        lo = _pymax(lo, a - ratio)
        a = a - (phi + delta_w) * ratio / delta_w
        done = np.abs(phi) < tolerance
        if _all(done):
            final[w] = a
            w = w[:0]
            break
        if _any(done):
            final[w[done]] = a[done]
            keep = ~done
            w, a, lo, up, suf_w, s2_w, suf2_w, delta_w, tolerance = (
                w[keep], a[keep], lo[keep], up[keep], suf_w[keep], s2_w[keep], suf2_w[keep], delta_w[keep],
                tolerance[keep],
            )
    if w.size:
        final[w] = a

    p = -_matvec(v, suf / (s2 + final[:, None]))
    p = p * (delta / _norm(p))[:, None]
    if not some_inside:
        return p, final
    p_all = np.where(gn_inside[:, None], p_gn, 0.0)
    alpha_all = np.zeros(k)
    p_all[idx] = p
    alpha_all[idx] = final
    return p_all, alpha_all


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
    best = np.argmin(y, axis=1)  # first minimum; a NaN wins, as in numpy
    rows = np.arange(a.size)
    return t[rows, best], y[rows, best]


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
    positive = predicted > 0
    ratio = np.where(positive, actual / predicted, np.where((predicted == actual) & (actual == 0), 1.0, 0.0))
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
    bounds=(lower[k], upper[k]), method="trf")`` would take (module docstring for the rounding caveat); the
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
    k_all, n = x.shape
    all_rows = np.arange(k_all)
    with np.errstate(all="ignore"):
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


def _trial_step(st: _State, rows: np.ndarray, fun: ResidualFn, bounds: _Bounds, m: int, ftol: float, xtol: float,
                max_nfev: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass of scipy's inner ``while actual_reduction <= 0 and nfev < max_nfev`` loop for ``rows``.

    Returns ``(ended, raised)``: the rows whose inner loop ended (a step was accepted, a termination test fired,
    max_nfev was reached) and the rows for which scipy would have raised. Per-row updates that scipy makes only
    on some branches are ``where`` selections over all the rows, computed once.
    """
    x, delta = st.x[rows], st.delta[rows]
    p_h, alpha = _solve_lsq_trust_region(m, st.uf[rows], st.s[rows], st.v[rows], delta, st.alpha[rows])
    d = st.d[rows]
    p = d * p_h
    b = bounds.bounded[rows]
    all_bounded, none_bounded = _all(b), not _any(b)
    if all_bounded:
        lb, ub, _, _ = bounds.take(rows)
        step, step_h, predicted, raised = _select_step(
            x, st.jh[rows], st.diag_h[rows], st.g_h[rows], p, p_h, d, delta, lb, ub, st.theta[rows]
        )
    elif none_bounded:
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


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out
