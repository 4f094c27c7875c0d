"""ZIP delta scores: Hill curves fitted along every row and column of every matrix, in one batched solve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from ..errors import InputError
from ._hill import HillFit, _dose_scale, _hill, fit_hill
from ._inputs import _check_doses, _check_matrix, _combination_mask, _frozen
from ._lsq_trf import least_squares_trf_batch


@dataclass(frozen=True)
class ZipScores:
    """ZIP δ scores on one matrix.

    Attributes
    ----------
    delta
        ZIP δ; > 0 synergy. NaN on single-agent wells and where ``undefined``.
    undefined
        Combination wells whose row or column slice fit failed (or whose single-drug fits are unusable).
    hill_a, hill_b
        The single-drug Hill fits.
    """

    delta: np.ndarray
    undefined: np.ndarray
    hill_a: HillFit
    hill_b: HillFit


#: Bounds of ZIP's slice-fit parameters ``(Emax_u, log h, log(C/scale))``, as in the ``synergy`` package.
_ZIP_LOWER = np.array([0.0, -np.inf, -np.inf])


_ZIP_UPPER = np.array([1.5, np.inf, np.inf])


def _zip_slice_fits(axes: Sequence[np.ndarray], which: np.ndarray, u: np.ndarray, e0: np.ndarray, p0: np.ndarray
                    ) -> np.ndarray:
    """ZIP's slice fits on ``u``, all at once: ``E0`` fixed, ``(Emax, h, C)`` free with ``0 ≤ Emax ≤ 1.5``.

    Each slice is the package's ``least_squares(method="trf")`` problem (parameters ``Emax``, ``log h``,
    ``log(C/scale)`` with ``scale`` the geometric median dose, start ``p0`` clipped to the bounds), solved
    step for step by :func:`simulator.lsq_batch.least_squares_trf_batch`. The residual and Jacobian callbacks
    do the floating-point operations of ``_hill(ds, ...) - u`` and ``_hill_partials`` with the log doses
    computed once per dose axis (they run once per round of the batch, on every running slice).

    Parameters
    ----------
    axes
        The distinct dose axes, each of length m (rows and columns of a square grid share one solve).
    which
        Dose axis of each slice (index into ``axes``), shape (P,).
    u
        ``1 − fa`` of each slice, shape (P, m).
    e0
        Fixed baseline of each slice, shape (P,).
    p0
        Start ``(Emax, h, C)`` of each slice, shape (P, 3).

    Returns
    -------
    numpy.ndarray
        ``(Emax, h, C)`` per slice, shape (P, 3); NaN where the optimiser fails (scipy would raise or report
        no convergence).
    """
    out = np.full((u.shape[0], 3), np.nan)
    if u.shape[0] == 0:
        return out
    scales = np.array([_dose_scale(d) for d in axes])
    scale = scales[which]
    ds_axes = np.stack([d / s for d, s in zip(axes, scales, strict=True)])
    positive = ds_axes > 0
    log_axes = np.log(np.where(positive, ds_axes, 1.0))  # as _occupancy takes it, once per axis
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = np.column_stack([p0[:, 0], np.log(p0[:, 1]), np.log(p0[:, 2] / scale)])
    x0 = np.clip(x0, _ZIP_LOWER, _ZIP_UPPER)
    startable = ~np.any(np.isnan(x0), axis=1)  # scipy: "Initial guess is outside of provided bounds"
    idx = np.flatnonzero(startable)
    if idx.size == 0:
        return out
    u_s, e0_s, logd_s = u[idx], e0[idx, None], log_axes[which[idx]]
    shared_zeros = bool(np.all(positive == positive[:1]))
    zero_cols = np.flatnonzero(~positive[0])  # dose-0 columns when every axis has them in the same place
    zero_s = None if shared_zeros else ~positive[which[idx]]

    def occupancy(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = np.exp(x[:, 1:2])
        z = h * (logd_s[rows] - np.log(np.exp(x[:, 2:3])))
        if shared_zeros:
            z[:, zero_cols] = -np.inf
        else:  # (zero_s is set whenever the zeros are not shared)
            z[cast(np.ndarray, zero_s)[rows]] = -np.inf
        return h, z, expit(z)

    def residual(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        _, _, occ = occupancy(x, rows)
        e0_rows = e0_s[rows]
        return e0_rows + (x[:, 0:1] - e0_rows) * occ - u_s[rows]

    def jacobian(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        h, z, occ = occupancy(x, rows)
        core = occ * (1.0 - occ)
        span = x[:, 0:1] - e0_s[rows]
        jac = np.empty((*z.shape, 3))
        jac[:, :, 0] = occ
        jac[:, :, 1] = span * np.where(np.isfinite(z), core * z, 0.0)
        jac[:, :, 2] = span * (-h * core)
        return jac

    with np.errstate(all="ignore"):
        res = least_squares_trf_batch(residual, jacobian, x0[idx], _ZIP_LOWER, _ZIP_UPPER)
    good = res.success & np.all(np.isfinite(res.x), axis=1)
    x = res.x[good]
    with np.errstate(over="ignore"):  # a flat slice drives log C to +inf: C = inf (no effect), as in the package
        out[idx[good]] = np.column_stack([x[:, 0], np.exp(x[:, 1]), np.exp(x[:, 2]) * scale[idx[good]]])
    return out


def zip_delta(
    doses_a: ArrayLike, doses_b: ArrayLike, effect: ArrayLike, *,
    hill_a: HillFit | None = None, hill_b: HillFit | None = None,
) -> ZipScores:
    """ZIP δ score (Yadav et al. 2015), computed as the ``synergy`` package's ``ZIP`` computes it.

    ZIP asks whether adding one drug shifts the potency (``C``) or slope (``h``) of the other. Along every
    column (drug B fixed at ``d_B``) a Hill curve in ``d_A`` is fitted with its baseline fixed at B's fitted
    single-agent effect, and likewise along every row; the two fitted surfaces are averaged and compared with
    the Bliss expectation of the single-drug Hill fits (which use the mean of the two fitted ``E0``). Because
    the slices are *fitted*, δ is a smoothed score, less sensitive to a single noisy well than Bliss.

    The slices are fitted with scipy's trf run as a batch (:mod:`simulator.lsq_batch`, the same path as
    :func:`zip_delta_many`). It agrees with the ``synergy`` package to 1e-6 on the reference matrices; on a
    slice whose Hill slope is not identified (a flat valley) the last-bit rounding of the batch can move the
    end point, so δ can differ from a per-slice ``least_squares`` fit, and between batches of different
    composition (measured on 300 noisy random matrices: > 1e-3 in 4, at most 0.033; smooth simulated screen
    matrices: none seen). Such a δ is not meaningful to that precision under any optimiser.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly (≥ 4 each).
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``.
    hill_a, hill_b
        Single-drug fits to use; by default fitted to column 0 and row 0.

    Returns
    -------
    ZipScores
        δ (> 0 synergy), the ``undefined`` mask and the fits.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    f1 = hill_a if hill_a is not None else fit_hill(a, e[:, 0])
    f2 = hill_b if hill_b is not None else fit_hill(b, e[0, :])
    return _zip_batch(a, b, e[None], [f1], [f2])[0]


def zip_delta_many(
    doses_a: ArrayLike,
    doses_b: ArrayLike,
    effects: ArrayLike,
    *,
    hills_a: Sequence[HillFit],
    hills_b: Sequence[HillFit],
) -> list[ZipScores]:
    """ZIP δ of K matrices on one dose grid, each exactly as :func:`zip_delta` scores it.

    All row and column slice fits of all K matrices go into one batched trust-region solve, which is what makes
    ZIP affordable in a screen (one ``least_squares`` call per slice costs ~1.5 ms of interpreter overhead).

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (as in :func:`zip_delta`).
    effects
        Fraction affected, shape ``(K, len(doses_a), len(doses_b))``.
    hills_a, hills_b
        The K single-drug fits of each matrix (column 0 / row 0), as :func:`fit_hill` returns them.

    Returns
    -------
    list[ZipScores]
        One per matrix, in order.
    """
    e = np.asarray(effects, dtype=float)
    if e.ndim != 3 or len(hills_a) != e.shape[0] or len(hills_b) != e.shape[0]:
        raise InputError(f"zip_delta_many needs effects of shape (K, n, m) and K fits per drug, got {e.shape}, "
                         f"{len(hills_a)} and {len(hills_b)} fits.")
    a, b = _check_doses(doses_a, "doses_a"), _check_doses(doses_b, "doses_b")
    if e.shape[1:] != (a.size, b.size):
        raise InputError(f"effects must have shape (K, len(doses_a), len(doses_b)) = (K, {a.size}, {b.size}), "
                         f"got {e.shape}; rows follow drug A, columns drug B.")
    bad = np.flatnonzero(~np.all(np.isfinite(e), axis=(1, 2)))
    if bad.size:
        raise InputError(f"effects contain NaN or inf in matrices {bad[:10].tolist()}; drop or impute failed wells "
                         "before scoring.")
    return _zip_batch(a, b, e, list(hills_a), list(hills_b))


def _zip_batch(a: np.ndarray, b: np.ndarray, e: np.ndarray, fits_1: list[HillFit], fits_2: list[HillFit]
               ) -> list[ZipScores]:
    """The one ZIP code path: δ of K checked matrices (K, n, m) with their single-drug fits.

    Column j (B fixed) gives drug A's curve with baseline B's single-agent fit at ``b[j]``; row i gives drug B's
    curve with baseline A's fit at ``a[i]`` (the package works on ``u = 1 − fa``, where an inhibitory drug falls
    from ``E0_u`` to ``Emax_u < E0_u``). Only the slices a combination well uses (j ≥ 1, i ≥ 1) are fitted.
    """
    k_all = e.shape[0]
    u = 1.0 - e
    combination = _combination_mask(e.shape[1:])
    par = np.array([[1.0 - f1.E0, 1.0 - f1.Emax, f1.h, f1.C, 1.0 - f2.E0, 1.0 - f2.Emax, f2.h, f2.C]
                    for f1, f2 in zip(fits_1, fits_2, strict=True)]).reshape(k_all, 8)
    e0_1, emax_1, h_1, c_1, e0_2, emax_2, h_2, c_2 = (par[:, i : i + 1] for i in range(8))
    ok_fits = np.array([f1.ok and f2.ok for f1, f2 in zip(fits_1, fits_2, strict=True)], dtype=bool)
    usable = np.flatnonzero(ok_fits & ((e0_1 + e0_2)[:, 0] / 2.0 >= (emax_1 + emax_2)[:, 0] / 2.0))
    delta = np.full(e.shape, np.nan)
    if usable.size:
        k = usable
        n_a, n_b = a.size - 1, b.size - 1
        # baselines of the slices: the other drug's single-agent fit at the slice's fixed dose
        base_col = _hill(b[None, 1:], e0_2[k], emax_2[k], h_2[k], c_2[k])  # (k, n_b)
        base_row = _hill(a[None, 1:], e0_1[k], emax_1[k], h_1[k], c_1[k])  # (k, n_a)
        start_1 = np.column_stack([emax_1[k], h_1[k], c_1[k]])
        start_2 = np.column_stack([emax_2[k], h_2[k], c_2[k]])
        col_u = np.swapaxes(u[k][:, :, 1:], 1, 2).reshape(-1, a.size)
        row_u = u[k][:, 1:, :].reshape(-1, b.size)
        col_p0, row_p0 = np.repeat(start_1, n_b, axis=0), np.repeat(start_2, n_a, axis=0)
        n_col, n_row = col_u.shape[0], row_u.shape[0]
        if a.size == b.size:  # one solve: the slowest slice sets the number of rounds, so share it
            both = _zip_slice_fits(
                (a, b),
                np.repeat([0, 1], [n_col, n_row]),
                np.concatenate([col_u, row_u]),
                np.concatenate([base_col.ravel(), base_row.ravel()]),
                np.concatenate([col_p0, row_p0]),
            )
            cols, rows = both[:n_col].reshape(-1, n_b, 3), both[n_col:].reshape(-1, n_a, 3)
        else:
            cols = _zip_slice_fits((a,), np.zeros(n_col, dtype=np.intp), col_u, base_col.ravel(), col_p0)
            rows = _zip_slice_fits((b,), np.zeros(n_row, dtype=np.intp), row_u, base_row.ravel(), row_p0)
            cols, rows = cols.reshape(-1, n_b, 3), rows.reshape(-1, n_a, 3)

        e0_mean = (e0_1[k] + e0_2[k]) / 2.0
        u1_alone = _hill(a[None, :], e0_mean, emax_1[k], h_1[k], c_1[k])  # (k, n_a + 1)
        u2_alone = _hill(b[None, :], e0_mean, emax_2[k], h_2[k], c_2[k])  # (k, n_b + 1)
        fit_1 = _hill(a[None, 1:, None], u2_alone[:, None, 1:], cols[:, None, :, 0], cols[:, None, :, 1],
                      cols[:, None, :, 2])
        fit_2 = _hill(b[None, None, 1:], u1_alone[:, 1:, None], rows[:, :, None, 0], rows[:, :, None, 1],
                      rows[:, :, None, 2])
        inner = u1_alone[:, 1:, None] * u2_alone[:, None, 1:] - (fit_1 + fit_2) / 2.0
        failed = np.isnan(cols[:, None, :, 0]) | np.isnan(rows[:, :, None, 0])
        delta[k, 1:, 1:] = np.where(failed, np.nan, inner)
    return [
        ZipScores(_frozen(delta[i]), _frozen(combination & np.isnan(delta[i])), fits_1[i], fits_2[i])
        for i in range(k_all)
    ]
