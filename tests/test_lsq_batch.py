"""simulator.synergy's batched trf (``_lsq_trf``) against scipy.optimize.least_squares itself, and the batched ZIP.

The batch mirrors scipy's private trf internals, so it is checked on every scipy minor version pyproject allows
(1.13-1.17: ``MIRRORED_SCIPY``; these tests passed on each, see docs/notes/synergy.md).

What "exact" means here, measured (seeded; see the bounds in each test):

- The SVD is bit-identical (numpy's stacked gesdd vs scipy.linalg.svd), tested below.
- scipy's dot products and matrix-vector products go through OpenBLAS, which accumulates with fused
  multiply-adds in kernel-specific order; the batch uses numpy elementwise arithmetic. So the two differ in
  the last bit from the first iteration on. On well-posed slices this is invisible (x to ~1e-12, same nfev and
  status). On ill-posed slices (a steep row whose slope is not identifiable: log h drifts along a flat valley,
  singular values ~1e-30) a near-tie in ``select_step``'s choice between the trust-region, reflected and
  Cauchy steps can go the other way, and the run ends elsewhere on the valley, usually at the same cost
  (relative 1e-8) but with different log h. On 300 random noisy 10x10 surfaces (5,220 slices) 144 slices (2.8 %)
  ended more than 1e-10 (relative) from scipy's x, 53 with a different nfev, 10 with a different status; 5 had a
  cost differing by more than 1e-6 relative (seen: some better, some worse than scipy). At the matrix level ZIP δ
  differed from the per-slice scipy path by > 1e-6 in 22 of 300 matrices and by > 1e-3 in 4 (max 0.033).
  The tests below assert these measured rates on a smaller seeded set; the ZIP-vs-package tests in
  tests/test_synergy.py (two matrices, 1e-6) pass unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.optimize import least_squares
from test_synergy import noisy_matrix, smooth_matrix

from simulator import synergy as S
from simulator.errors import InputError
from simulator.synergy import STATUS_RAISED, least_squares_trf_batch
from simulator.synergy._hill import _dose_scale, _hill, _hill_partials
from simulator.synergy._zip import _ZIP_LOWER, _ZIP_UPPER


def test_installed_scipy_is_a_version_the_mirror_was_checked_on():
    """The batched trf mirrors scipy's private internals: a scipy outside MIRRORED_SCIPY has not been checked."""
    import scipy

    from simulator.synergy._lsq_trf import MIRRORED_SCIPY

    minor = ".".join(scipy.__version__.split(".")[:2])
    assert minor in MIRRORED_SCIPY, (f"scipy {scipy.__version__} is not one the batched trf was checked against "
                                     f"({', '.join(MIRRORED_SCIPY)}): run tests/test_lsq_batch.py on it, then "
                                     "extend MIRRORED_SCIPY and the pin in pyproject.toml")


# ---- ZIP slice problems, and scipy's solution of each (the reference) ----------------------------------------


def surfaces(n: int, seed: int, size: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random noisy Hill surfaces on a size x size grid, five kinds in turn.

    Kinds: ordinary pair; drug B flat (no effect); drug A steep (h 6-20, drives log h far out); drug A above
    baseline (fa < 0); both saturating at fa = 1 (noise pushes slices onto the Emax_u = 0 bound).
    """
    rng = np.random.default_rng(seed)
    a = np.r_[0, np.geomspace(0.01, 10, size - 1)]
    b = np.r_[0, np.geomspace(0.1, 100, size - 1)]
    d1, d2 = np.meshgrid(a, b, indexing="ij")
    out = []
    for k in range(n):
        c1, c2 = rng.uniform(0.05, 3), rng.uniform(0.5, 30)
        h1, h2 = rng.uniform(0.5, 3, 2)
        e1, e2 = rng.uniform(0.4, 1.0, 2)
        kind = k % 5
        if kind == 1:
            e2 = 0.0
        elif kind == 2:
            h1 = rng.uniform(6, 20)
        elif kind == 3:
            e1 = rng.uniform(-0.3, -0.05)
        elif kind == 4:
            e1 = e2 = 1.0
        fa1, fa2 = e1 * d1**h1 / (c1**h1 + d1**h1), e2 * d2**h2 / (c2**h2 + d2**h2)
        fa = fa1 + fa2 - fa1 * fa2 + rng.uniform(-0.2, 0.3) * fa1 * fa2
        fa = fa + rng.normal(0, rng.uniform(0.01, 0.08), d1.shape)
        fa[0, 0] = 0.0
        out.append(fa)
    return a, b, np.array(out)


def slice_problems(a, b, fa):
    """ZIP's slice problems of one matrix as (doses, u, e0, (Emax, h, C) start), as simulator.synergy sets them."""
    f1, f2 = S.fit_hill(a, fa[:, 0]), S.fit_hill(b, fa[0, :])
    e0_1, emax_1, e0_2, emax_2 = 1 - f1.E0, 1 - f1.Emax, 1 - f2.E0, 1 - f2.Emax
    if not (f1.ok and f2.ok and (e0_1 + e0_2) / 2 >= (emax_1 + emax_2) / 2):
        return []
    u = 1 - fa
    base_b = [float(_hill(b[j], e0_2, emax_2, f2.h, f2.C)) for j in range(b.size)]
    base_a = [float(_hill(a[i], e0_1, emax_1, f1.h, f1.C)) for i in range(a.size)]
    cols = [(a, u[:, j], base_b[j], (emax_1, f1.h, f1.C)) for j in range(1, b.size)]
    rows = [(b, u[i, :], base_a[i], (emax_2, f2.h, f2.C)) for i in range(1, a.size)]
    return cols + rows


def _x0(d, p0):
    scale = _dose_scale(d)
    return np.clip(np.array([p0[0], np.log(p0[1]), np.log(p0[2] / scale)]), _ZIP_LOWER, _ZIP_UPPER), d / scale


def scipy_slice_fit(d, u, e0, p0):
    """The pre-batch ZIP slice fit: one scipy least_squares(method="trf") call (None where scipy raises)."""
    x0, ds = _x0(d, p0)

    def residual(p):
        return _hill(ds, e0, p[0], np.exp(p[1]), np.exp(p[2])) - u

    def jacobian(p):
        occ, d_logh, d_logc = _hill_partials(ds, np.exp(p[1]), np.exp(p[2]))
        return np.column_stack([occ, (p[0] - e0) * d_logh, (p[0] - e0) * d_logc])

    with np.errstate(all="ignore"):
        try:
            return least_squares(residual, x0, jac=jacobian, bounds=(_ZIP_LOWER, _ZIP_UPPER), method="trf")
        except (ValueError, np.linalg.LinAlgError):
            return None


def batch_slice_fit(problems):
    """The same problems in one least_squares_trf_batch call; also records which rows fun was asked for."""
    x0, ds = zip(*(_x0(d, p0) for d, _, _, p0 in problems), strict=True)
    x0, ds = np.array(x0), np.array(ds)
    u = np.array([p[1] for p in problems])
    e0 = np.array([p[2] for p in problems])
    calls = np.zeros(len(problems), dtype=int)

    def residual(x, rows):
        calls[rows] += 1
        return _hill(ds[rows], e0[rows, None], x[:, 0:1], np.exp(x[:, 1:2]), np.exp(x[:, 2:3])) - u[rows]

    def jacobian(x, rows):
        occ, d_logh, d_logc = _hill_partials(ds[rows], np.exp(x[:, 1:2]), np.exp(x[:, 2:3]))
        span = x[:, 0:1] - e0[rows, None]
        return np.stack([occ, span * d_logh, span * d_logc], axis=2)

    with np.errstate(all="ignore"):
        return least_squares_trf_batch(residual, jacobian, x0, _ZIP_LOWER, _ZIP_UPPER), calls


def compare(problems):
    """Per problem: (x rel. difference, same nfev, same status, cost rel. difference, same njev) vs scipy."""
    sizes = sorted({p[1].size for p in problems})
    if len(sizes) > 1:  # one batch per slice length (a batch shares m)
        return np.concatenate([compare([p for p in problems if p[1].size == m]) for m in sizes])
    res, calls = batch_slice_fit(problems)
    assert np.array_equal(calls, res.nfev)  # fun saw each problem exactly nfev times: finished ones drop out
    out = []
    for i, p in enumerate(problems):
        ref = scipy_slice_fit(*p)
        if ref is None:
            assert res.status[i] == STATUS_RAISED
            continue
        rel = float(np.max(np.abs(ref.x - res.x[i]) / np.maximum(1.0, np.abs(ref.x))))
        cost = abs(res.cost[i] - ref.cost) / max(ref.cost, 1e-300)
        out.append((rel, ref.nfev == res.nfev[i], ref.status == res.status[i], cost, ref.njev == res.njev[i]))
    return np.array(out, dtype=float)


def test_svd_of_stack_is_bitwise_scipys():
    """The batch relies on numpy's stacked gesdd giving scipy.linalg.svd's factors bit for bit."""
    rng = np.random.default_rng(3)
    stack = rng.normal(size=(200, 13, 3)) * rng.lognormal(0, 5, size=(200, 1, 3))
    u, s, vt = np.linalg.svd(stack, full_matrices=False)
    for k in range(stack.shape[0]):
        u2, s2, vt2 = scipy.linalg.svd(stack[k], full_matrices=False)
        assert np.array_equal(u[k], u2) and np.array_equal(s[k], s2) and np.array_equal(vt[k], vt2)


def test_test_synergy_matrices_slices_match_scipy():
    """The slices of the two reference matrices (smooth, noisy) are well posed: same path as scipy."""
    problems = [p for make in (smooth_matrix, noisy_matrix) for p in slice_problems(*make())]
    r = compare(problems)
    assert len(problems) == 13 + 10 and r.shape[0] == len(problems)
    assert np.all(r[:, 0] < 1e-10) and np.all(r[:, 1] == 1) and np.all(r[:, 2] == 1) and np.all(r[:, 4] == 1)


def test_random_surface_slices_match_scipy_at_measured_rates():
    """60 seeded noisy surfaces (~1,000 slices, all five kinds): the measured agreement with scipy.

    Bounds: the rates of the 300-surface sweep in the module
    docstring (2.8 % x-divergent, 1.0 % nfev-divergent, ~0.1 % cost-divergent), as upper bounds.
    """
    a, b, e = surfaces(60, 11)
    problems = [p for fa in e for p in slice_problems(a, b, fa)]
    r = compare(problems)
    n = r.shape[0]
    assert n > 900
    x_off = r[:, 0] > 1e-10
    assert x_off.mean() <= 0.04  # 300-surface sweep: 0.028
    assert (r[:, 1] == 0).mean() <= 0.015  # sweep: 0.010 (nfev differs)
    assert (r[:, 2] == 0).mean() <= 0.005  # sweep: 0.002 (status differs)
    assert (r[:, 3] > 1e-6).sum() <= 2  # sweep: 5 of 5,220 (a different end point of a flat valley)
    # where x agrees, it agrees closely, and the path (nfev, njev, status) is scipy's
    assert np.all(r[~x_off, 1] == 1) and np.all(r[~x_off, 2] == 1) and np.all(r[~x_off, 4] == 1)
    assert np.median(r[:, 0]) < 1e-13


# ---- problem families with a known answer -------------------------------------------------------------------


def test_bounded_linear_problems_reach_the_clipped_optimum_as_scipy_does():
    """r(x) = A x - y with A = I: the bounded optimum is clip(y, lb, ub), several components on a bound."""
    rng = np.random.default_rng(5)
    k, n = 200, 3
    y = rng.normal(0, 2, size=(k, n))
    lb, ub = np.full(n, -1.0), np.array([1.0, 1.5, np.inf])
    x0 = rng.uniform(-0.9, 0.9, size=(k, n))
    eye = np.eye(n)

    res = least_squares_trf_batch(lambda x, rows: x - y[rows], lambda x, rows: np.broadcast_to(eye, (len(rows), n, n)),
                                  x0, lb, ub)
    truth = np.clip(y, lb, ub)
    assert np.all(res.success)
    # trf stays strictly interior and stops on ftol, ~1e-6 short of an active bound (scipy alike; compared below)
    np.testing.assert_allclose(res.x, truth, atol=1e-5)
    assert (np.abs(truth) == 1.0).sum() > 100  # the family does exercise the bounds
    for i in range(k):
        ref = least_squares(lambda x, i=i: x - y[i], x0[i], jac=lambda x: eye, bounds=(lb, ub), method="trf")
        assert ref.nfev == res.nfev[i] and ref.status == res.status[i]
        np.testing.assert_allclose(res.x[i], ref.x, rtol=1e-10, atol=1e-12)


def test_unbounded_exponential_fits_follow_trf_no_bounds():
    """Problems without finite bounds take scipy's trf_no_bounds; exact data: the known (a, k) is recovered."""
    rng = np.random.default_rng(8)
    t = np.linspace(0, 3, 12)
    true = np.column_stack([rng.uniform(0.5, 3, 50), rng.uniform(0.2, 2, 50)])
    y = true[:, :1] * np.exp(-true[:, 1:] * t)

    def fun(x, rows):
        return x[:, :1] * np.exp(-x[:, 1:] * t) - y[rows]

    def jac(x, rows):
        e = np.exp(-x[:, 1:] * t)
        return np.stack([e, -x[:, :1] * t * e], axis=2)

    x0 = np.ones((50, 2))
    res = least_squares_trf_batch(fun, jac, x0, -np.inf, np.inf)
    np.testing.assert_allclose(res.x, true, rtol=1e-7)  # xtol = 1e-8 stops within ~1e-8 (scipy too)
    for i in range(50):
        ref = least_squares(lambda x, i=i: fun(x[None], np.array([i]))[0], x0[i],
                            jac=lambda x, i=i: jac(x[None], np.array([i]))[0], method="trf")
        assert ref.nfev == res.nfev[i] and ref.status == res.status[i]
        np.testing.assert_allclose(res.x[i], ref.x, rtol=1e-10)


def test_argument_checks_and_raised_status():
    lb, ub = np.zeros(2), np.ones(2)

    def fun(x, rows):
        return np.where(rows[:, None] == 1, np.nan, x - 0.5)

    def jac(x, rows):
        return np.broadcast_to(np.eye(2), (len(rows), 2, 2))

    with pytest.raises(ValueError, match="outside of provided bounds"):
        least_squares_trf_batch(fun, jac, np.array([[0.5, 0.5], [2.0, 0.5]]), lb, ub)
    with pytest.raises(ValueError, match="strictly less"):
        least_squares_trf_batch(fun, jac, np.full((1, 2), 0.5), ub, lb)
    with pytest.raises(ValueError, match="max_nfev"):
        least_squares_trf_batch(fun, jac, np.full((1, 2), 0.5), lb, ub, max_nfev=0)
    res = least_squares_trf_batch(fun, jac, np.array([[0.2, 0.9], [0.5, 0.5]]), lb, ub)
    # problem 1 has non-finite residuals at x0 (scipy raises); problem 0 still converges to (0.5, 0.5)
    assert res.status[1] == STATUS_RAISED and not res.success[1]
    assert res.success[0]
    np.testing.assert_allclose(res.x[0], [0.5, 0.5], atol=1e-8)
    assert res.x.flags.writeable is False


# ---- ZIP through the batch -----------------------------------------------------------------------------------


def _fits(a, b, e):
    return [S.fit_hill(a, m[:, 0]) for m in e], [S.fit_hill(b, m[0, :]) for m in e]


@pytest.mark.parametrize("shape", [(10, 10), (7, 9)])
def test_zip_delta_many_equals_zip_delta_matrix_by_matrix(shape):
    """Batching K matrices changes nothing: given the same single-agent fits, every δ is bit-identical.

    The fits are passed to zip_delta too. Left to refit them itself, zip_delta differed from the batch on 2-3 of
    these 20 matrices on the 7x9 grid (matrix 7 by 0.083), varying between runs: not the batch, but MINPACK
    (scipy's leastsq) fitting the same ill-conditioned single-agent curve differently depending on what ran
    before in the process (matrix 7, drug A: h = 48.09 or 90.13). Measured across 5 repeats in one process: the
    batch and zip_delta with given fits are stable; fit_hill on curves 6 and 16 changed after the first repeat.
    """
    a, b, e = surfaces(20, 4, size=max(shape))
    a, b, e = a[: shape[0]], b[: shape[1]], e[:, : shape[0], : shape[1]]
    e[3] = -np.abs(e[3])  # not inhibitory: undefined everywhere
    hills_a, hills_b = _fits(a, b, e)
    many = S.zip_delta_many(a, b, e, hills_a=hills_a, hills_b=hills_b)
    assert len(many) == e.shape[0]
    assert many[3].undefined[1:, 1:].all()
    for k in range(e.shape[0]):
        one = S.zip_delta(a, b, e[k], hill_a=hills_a[k], hill_b=hills_b[k])
        np.testing.assert_array_equal(many[k].undefined, one.undefined)
        np.testing.assert_array_equal(many[k].delta, one.delta)
    assert sum(np.isfinite(z.delta).sum() for z in many) > 0.75 * e.shape[0] * (shape[0] - 1) * (shape[1] - 1)


def test_zip_delta_many_rejects_bad_input():
    a, b, e = surfaces(2, 0, size=5)
    hills_a, hills_b = _fits(a, b, e)
    with pytest.raises(InputError, match="shape"):
        S.zip_delta_many(a, b, e[:, :4], hills_a=hills_a, hills_b=hills_b)
    bad = e.copy()
    bad[1, 2, 2] = np.nan
    with pytest.raises(InputError, match=r"matrices \[1\]"):
        S.zip_delta_many(a, b, bad, hills_a=hills_a, hills_b=hills_b)


# ---- the batch's bookkeeping changes no value (issue 3, item 8: the loop was made cheaper) ----------------------


def _loop_sum(p: np.ndarray, axis: int) -> np.ndarray:
    """The plain left-to-right loop the batch's sums must reproduce: ``((p0 + p1) + p2) ...``."""
    terms = np.moveaxis(p, axis, 0)
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out


def _awkward(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values over 40 decades of both signs, with signed zeros, infinities and NaNs sprinkled in."""
    x = rng.normal(size=shape) * 10.0 ** rng.integers(-20, 20, size=shape)
    special = rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan], size=shape)
    return np.where(rng.random(shape) < 0.05, special, x)


def test_batch_sums_and_reductions_equal_the_plain_loops_bit_for_bit():
    """_dot, _matvec, _rmatvec (one add per term over the batch) and the count_nonzero/AND/maximum stand-ins
    for any/all/max give the values of the straightforward loops and numpy reductions, bit for bit."""
    from simulator.synergy import _lsq_common as L

    rng = np.random.default_rng(21)
    with np.errstate(all="ignore"):
        for k, m, n in ((1, 1, 1), (7, 10, 3), (90, 13, 3), (40, 12, 2), (5, 3, 5)):
            a, b = _awkward(rng, (k, n)), _awkward(rng, (k, n))
            stack, y = _awkward(rng, (k, m, n)), _awkward(rng, (k, m))
            pairs = [
                (L._dot(a, b), _loop_sum(a * b, 1)),
                (L._norm(a), np.sqrt(_loop_sum(a * a, 1))),
                (L._matvec(stack, a), _loop_sum(stack * a[:, None, :], 2)),
                (L._rmatvec(stack, y), _loop_sum(stack * y[:, :, None], 1)),
                (L._rows_max(np.abs(a)), np.max(np.abs(a), axis=1)),
            ]
            for got, want in pairs:
                assert got.shape == want.shape and np.array_equal(got.view(np.int64), want.view(np.int64))
            mask = rng.random((k, n)) < 0.7
            np.testing.assert_array_equal(L._rows_all(mask), mask.all(axis=1))
            for row in mask:
                assert L._any(row) == row.any() and L._all(row) == row.all()


def _zip_problems(seed: int, n_surfaces: int):
    a, b, e = surfaces(n_surfaces, seed)
    problems = [p for fa in e for p in slice_problems(a, b, fa)]
    x0, ds = zip(*(_x0(d, p0) for d, _, _, p0 in problems), strict=True)
    u = np.array([p[1] for p in problems])
    e0 = np.array([p[2] for p in problems])
    x0, ds = np.array(x0), np.array(ds)

    def residual(x, rows):
        return _hill(ds[rows], e0[rows, None], x[:, 0:1], np.exp(x[:, 1:2]), np.exp(x[:, 2:3])) - u[rows]

    def jacobian(x, rows):
        occ, d_logh, d_logc = _hill_partials(ds[rows], np.exp(x[:, 1:2]), np.exp(x[:, 2:3]))
        span = x[:, 0:1] - e0[rows, None]
        return np.stack([occ, span * d_logh, span * d_logc], axis=2)

    return x0, residual, jacobian


def _same_result(one, other, rows=slice(None)) -> bool:
    return all(np.array_equal(getattr(one, f)[rows], getattr(other, f), equal_nan=True)
               for f in ("x", "cost", "status", "nfev", "njev"))


def test_shared_bounds_and_per_problem_bounds_give_the_same_runs():
    """Bounds common to every problem are kept as one row; per-problem bounds (the general path) must give
    every problem the identical run. The extra last problem has other bounds, so its batch keeps K rows."""
    x0, residual, jacobian = _zip_problems(seed=31, n_surfaces=15)
    k = x0.shape[0]
    with np.errstate(all="ignore"):
        shared = least_squares_trf_batch(residual, jacobian, x0, _ZIP_LOWER, _ZIP_UPPER)
        lower = np.tile(_ZIP_LOWER, (k + 1, 1))
        upper = np.tile(_ZIP_UPPER, (k + 1, 1))
        upper[-1, 0] = 2.0

        def residual_plus(x, rows):
            return residual(x, np.minimum(rows, k - 1))  # the extra problem repeats the last one

        def jacobian_plus(x, rows):
            return jacobian(x, np.minimum(rows, k - 1))

        per_problem = least_squares_trf_batch(residual_plus, jacobian_plus, np.vstack([x0, x0[-1:]]), lower, upper)
    assert _same_result(per_problem, shared, rows=slice(0, k))
    assert (shared.status == 1).any() and (shared.status == 2).any()  # both gtol and ftol ends are exercised
    assert shared.nfev.max() > 40  # and some slow, ill-posed slices


def test_a_mixed_batch_runs_each_problem_as_its_own_batch_would():
    """Bounded (trf_bounds) and unbounded (trf_no_bounds) problems in one batch, with residuals that turn NaN on
    part of the path: each problem's run equals its run in a batch of its own kind."""
    rng = np.random.default_rng(12)
    t = np.linspace(0, 3, 12)
    true = np.column_stack([rng.uniform(0.5, 3, 60), rng.uniform(0.2, 2, 60)])
    y = true[:, :1] * np.exp(-true[:, 1:] * t) + rng.normal(0, 0.02, (60, 12))

    nan_evaluations = []

    def fun(x, rows):
        r = x[:, :1] * np.exp(-x[:, 1:] * t) - y[rows]
        bad = (x[:, 1:2] > 1.5) & (rows[:, None] % 4 == 0)  # scipy then shrinks the trust region and retries
        nan_evaluations.append(int(bad.sum()))
        return np.where(bad, np.nan, r)

    def jac(x, rows):
        e = np.exp(-x[:, 1:] * t)
        return np.stack([e, -x[:, :1] * t * e], axis=2)

    x0 = np.column_stack([np.ones(60), rng.uniform(0.1, 1.4, 60)])
    bounded = np.arange(60) % 2 == 0
    lower = np.where(bounded[:, None], 0.0, -np.inf) * np.ones((60, 2))
    with np.errstate(all="ignore"):
        mixed = least_squares_trf_batch(fun, jac, x0, lower, np.inf)
        for kind in (bounded, ~bounded):
            rows = np.flatnonzero(kind)
            alone = least_squares_trf_batch(lambda x, r, rows=rows: fun(x, rows[r]),
                                            lambda x, r, rows=rows: jac(x, rows[r]), x0[rows], lower[rows], np.inf)
            assert _same_result(mixed, alone, rows=rows)
    assert (mixed.status > 0).mean() > 0.9 and sum(nan_evaluations) > 50  # the non-finite branch was taken
