"""scipy's ``least_squares`` helpers (``_lsq.common``), each with a leading problem axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Machine epsilon, as ``scipy.optimize._lsq.common.EPS``.
EPS = np.finfo(float).eps


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
    return bool(np.count_nonzero(mask) > 0)


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
    a: np.ndarray, b: np.ndarray, lb: np.ndarray | float, ub: np.ndarray, c: np.ndarray | float = 0.0
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
