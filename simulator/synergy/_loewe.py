"""Loewe additivity: the expected effect of every combination well, solved for all matrices at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from ._hill import HillFit, fit_hill
from ._inputs import _check_matrix, _combination_mask, _frozen


@dataclass(frozen=True)
class LoeweScores:
    """Loewe additivity on one matrix.

    Attributes
    ----------
    excess
        Observed − ``expected``; > 0 synergy. NaN on single-agent wells and where ``undefined``.
    expected
        Loewe-additive effect ``E`` solving ``d_A/D_A(E) + d_B/D_B(E) = 1``.
    undefined
        Combination wells where no such ``E`` exists (see :func:`loewe_excess`).
    hill_a, hill_b
        The single-drug Hill fits used for ``D_A``, ``D_B``.
    """

    excess: np.ndarray
    expected: np.ndarray
    undefined: np.ndarray
    hill_a: HillFit
    hill_b: HillFit


def loewe_excess(
    doses_a: ArrayLike, doses_b: ArrayLike, effect: ArrayLike, *,
    hill_a: HillFit | None = None, hill_b: HillFit | None = None,
) -> LoeweScores:
    """Observed − Loewe-additive expectation (Loewe 1926) from 4-parameter Hill fits of each drug alone.

    Loewe additivity is the null model in which a drug combined with itself is never synergistic (the "sham"
    combination), which Bliss lacks. Its price is that ``D(E)`` exists only between a drug's ``E0`` and
    ``Emax``: where one drug alone already exceeds the other's ``Emax`` there is no Loewe expectation, and we
    return NaN and set ``undefined`` rather than substitute a number (the ``synergy`` package's
    ``delta_weakest``/``delta_hsa`` substitutions; its ``delta_nan`` mode is what this matches).

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``.
    hill_a, hill_b
        Single-drug fits to use; by default fitted to column 0 (A alone) and row 0 (B alone).

    Returns
    -------
    LoeweScores
        Excess (> 0 synergy), expected effect, the ``undefined`` mask and the fits.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)
    f1 = hill_a if hill_a is not None else fit_hill(a, e[:, 0])
    f2 = hill_b if hill_b is not None else fit_hill(b, e[0, :])
    expected = loewe_expected_many(a, b, [f1], [f2])[0]  # one matrix: a batch of one
    combination = _combination_mask(e.shape)
    undefined = combination & np.isnan(expected)
    return LoeweScores(_frozen(e - expected), _frozen(expected), _frozen(undefined), f1, f2)


#: Newton steps before bisection alone finishes a well (never reached on the test families: Newton converges).
_MAX_NEWTON = 100


#: Bracket ends of the Loewe root search on the expit scale (``expit(700)`` is 1 to machine precision).
_X_LIMIT = 700.0


@dataclass(frozen=True)
class _Wells:
    """One entry per combination well: its doses, both drugs' Hill parameters and the bracket [lo, hi] of E."""

    d1: np.ndarray
    d2: np.ndarray
    e0: tuple[np.ndarray, np.ndarray]
    emax: tuple[np.ndarray, np.ndarray]
    h: tuple[np.ndarray, np.ndarray]
    c: tuple[np.ndarray, np.ndarray]
    lo: np.ndarray
    hi: np.ndarray

    def take(self, idx: np.ndarray) -> _Wells:
        return _Wells(self.d1[idx], self.d2[idx], (self.e0[0][idx], self.e0[1][idx]),
                      (self.emax[0][idx], self.emax[1][idx]), (self.h[0][idx], self.h[1][idx]),
                      (self.c[0][idx], self.c[1][idx]), self.lo[idx], self.hi[idx])

    def g_minus_1(self, x: np.ndarray) -> np.ndarray:
        """``d1/D1(E) + d2/D2(E) − 1`` with ``E = lo + (hi − lo)·expit(x)``."""
        width = self.hi - self.lo
        total = 0.0
        for dose, e0, emax, h, c in zip((self.d1, self.d2), self.e0, self.emax, self.h, self.c, strict=True):
            above_e0 = (self.lo - e0) + width * expit(x)
            below_emax = (emax - self.hi) + width * expit(-x)
            with np.errstate(divide="ignore", over="ignore"):
                total = total + dose / (c * np.float_power(above_e0 / below_emax, 1.0 / h))
        return np.asarray(total - 1.0)  # (an array after the loop; asarray states it to the type checker)

    def log_g(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log g(x)`` and its derivative, for Newton: ``log g`` is close to linear in ``x`` on both tails."""
        width = self.hi - self.lo
        s, t = expit(x), expit(-x)
        slope_e = width * s * t  # dE/dx
        logs, slopes = [], []
        for dose, e0, emax, h, c in zip((self.d1, self.d2), self.e0, self.emax, self.h, self.c, strict=True):
            above_e0 = (self.lo - e0) + width * s
            below_emax = (emax - self.hi) + width * t
            logs.append(np.log(dose) - np.log(c) - (np.log(above_e0) - np.log(below_emax)) / h)
            slopes.append(-slope_e * (1.0 / above_e0 + 1.0 / below_emax) / h)
        log_g = np.logaddexp(logs[0], logs[1])
        return log_g, np.exp(logs[0] - log_g) * slopes[0] + np.exp(logs[1] - log_g) * slopes[1]


def _bracket(wells: _Wells) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A bracket of the root on the expit scale: ``(x_lo, x_hi, is_nan, is_lo)`` per well.

    ``g(0) > 0``: the root lies above ``x = 0``; ``x_hi`` doubles from 1 (capped at 700) until ``g ≤ 0``, and no
    sign change by 700 means NaN. Otherwise ``x_lo`` doubles from −1 down to −700 until ``g > 0``; none means the
    root is closer to ``lo`` than ``expit(−700)`` resolves, and the answer is ``lo``.
    """
    size = wells.d1.size
    positive = wells.g_minus_1(np.zeros(size)) > 0
    x_lo, x_hi = np.where(positive, 0.0, -1.0), np.where(positive, 1.0, 0.0)
    is_nan, is_lo = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    moving = np.arange(size)
    while moving.size:
        up = positive[moving]
        x = np.where(up, x_hi[moving], x_lo[moving])
        g = wells.take(moving).g_minus_1(x)
        found = np.where(up, ~(g > 0), g > 0)
        at_limit = np.abs(x) >= _X_LIMIT
        is_nan[moving[~found & at_limit & up]] = True
        is_lo[moving[~found & at_limit & ~up]] = True
        moving = moving[~found & ~at_limit]
        step = positive[moving]
        x_hi[moving[step]] = np.minimum(2 * x_hi[moving[step]], _X_LIMIT)
        x_lo[moving[~step]] = np.maximum(2 * x_lo[moving[~step]], -_X_LIMIT)
    return x_lo, x_hi, is_nan, is_lo


def _newton_root(wells: _Wells, x_lo: np.ndarray, x_hi: np.ndarray, max_newton: int = _MAX_NEWTON) -> np.ndarray:
    """Root of ``log g(x) = 0`` in each bracket: safeguarded Newton steps, then bisection for any well left open.

    Newton bisects whenever a step leaves the bracket; after ``max_newton`` steps, bisection alone finishes every
    well still open. A well stops when a step is below brentq's tolerance ``1e-13 + 4·eps·|x|``, or its bracket is
    that narrow. The bisection halves every bracket at each step (the widest is 700, so it ends within ~54 steps):
    every well converges, whatever Newton does (``max_newton=0`` runs the bisection alone; tests compare the two).
    """
    x = 0.5 * (x_lo + x_hi)
    done = np.zeros(x.size, dtype=bool)
    for _ in range(max_newton):
        active = np.flatnonzero(~done)
        if not active.size:
            break
        xa, lo_a, hi_a = x[active], x_lo[active], x_hi[active]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            f, slope = wells.take(active).log_g(xa)
            above = f > 0  # g > 1: the root lies at larger x
            lo_a, hi_a = np.where(above, xa, lo_a), np.where(above, hi_a, xa)
            candidate = xa - f / slope
        inside = np.isfinite(candidate) & (candidate > lo_a) & (candidate < hi_a)
        new = np.where(inside, candidate, 0.5 * (lo_a + hi_a))
        tol = 1e-13 + 4 * np.finfo(float).eps * np.abs(new)
        finished = (inside & (np.abs(new - xa) <= tol)) | (hi_a - lo_a <= tol) | (f == 0)
        x[active], x_lo[active], x_hi[active] = np.where(f == 0, xa, new), lo_a, hi_a
        done[active] = finished
    active = np.flatnonzero(~done)
    while active.size:
        lo_a, hi_a = x_lo[active], x_hi[active]
        middle = 0.5 * (lo_a + hi_a)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            f, _ = wells.take(active).log_g(middle)
        above = f > 0
        lo_a, hi_a = np.where(above, middle, lo_a), np.where(above, hi_a, middle)
        finished = (hi_a - lo_a <= 1e-13 + 4 * np.finfo(float).eps * np.abs(middle)) | (f == 0)
        x[active], x_lo[active], x_hi[active] = middle, lo_a, hi_a
        active = active[~finished]
    return x


def loewe_expected_many(
    doses_a: ArrayLike, doses_b: ArrayLike, hills_a: Sequence[HillFit], hills_b: Sequence[HillFit], *,
    max_newton: int = _MAX_NEWTON,
) -> np.ndarray:
    """Loewe-additive effect of every combination well of K matrices, shape (K, n, m).

    At a well with doses ``(d1, d2)`` the expected effect ``E`` solves ``g(E) = d1/D1(E) + d2/D2(E) = 1`` with
    ``D(E)`` the inverse of each drug's Hill fit. ``g`` falls monotonically from +inf at ``lo = max(E0)`` to
    ``g(hi)`` at ``hi = min(Emax)``, where the weaker drug needs an infinite dose, so a root exists iff
    ``g(hi) < 1``: the stronger drug alone at its dose stays below the weaker drug's ``Emax`` (the ``synergy``
    package's ``delta_nan`` test); elsewhere the entry is NaN. ``E`` is parameterised as ``lo + (hi − lo)·expit(x)``,
    so the search runs on an unbounded, well-scaled variable and the distances to both ends keep full precision:
    a bracket by doubling steps, then safeguarded Newton on ``log g`` (bisection finishes any well it leaves
    open), to brentq's tolerance ``1e-13 + 4·eps·|x|``. A root closer to ``lo`` than ``expit(−700)`` resolves is
    ``lo`` itself. ``tests/test_synergy_many.py`` checks every entry against a Brent root of the same equation.

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (each starts at 0).
    hills_a, hills_b
        The K Hill fits of each drug alone (:func:`fit_hill_many`); a matrix without two usable fits is all NaN.
    max_newton
        Newton steps before bisection alone finishes a well (tests force the bisection with 0).

    Returns
    -------
    numpy.ndarray
        Shape (K, n, m); NaN on the single-agent row and column and wherever no ``E`` solves the equation.
    """
    a, b = np.asarray(doses_a, dtype=float), np.asarray(doses_b, dtype=float)
    k = len(hills_a)
    expected = np.full((k, a.size, b.size), np.nan)
    usable = [i for i in range(k) if hills_a[i].ok and hills_b[i].ok]
    if not usable or a.size < 2 or b.size < 2:
        return expected

    def param(fits: Sequence[HillFit], name: str) -> np.ndarray:
        return np.repeat(np.array([getattr(fits[i], name) for i in usable]), (a.size - 1) * (b.size - 1))

    d1 = np.tile(np.repeat(a[1:], b.size - 1), len(usable))
    d2 = np.tile(np.tile(b[1:], a.size - 1), len(usable))
    e0 = (param(hills_a, "E0"), param(hills_b, "E0"))
    emax = (param(hills_a, "Emax"), param(hills_b, "Emax"))
    lo, hi = np.maximum(*e0), np.minimum(*emax)
    wells = _Wells(d1, d2, e0, emax, (param(hills_a, "h"), param(hills_b, "h")),
                   (param(hills_a, "C"), param(hills_b, "C")), lo, hi)
    value = np.full(d1.size, np.nan)

    # Where no root exists: an empty [lo, hi], or the stronger drug alone already beyond the weaker one's Emax.
    limit = np.zeros(d1.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        for dose, e0_, emax_, h_, c_ in zip((d1, d2), e0, emax, wells.h, wells.c, strict=True):
            odds = (hi - e0_) / (emax_ - hi)
            dose_for_hi = np.where(odds >= 0, c_ * np.float_power(odds, 1.0 / h_), np.nan)
            limit = np.where(emax_ > hi, limit + dose / dose_for_hi, limit)
    solvable = np.flatnonzero((hi > lo) & ~(limit >= 1.0))
    if solvable.size:
        sub = wells.take(solvable)
        x_lo, x_hi, is_nan, is_lo = _bracket(sub)
        roots = np.full(solvable.size, np.nan)
        roots_lo = is_lo & ~is_nan
        roots[roots_lo] = sub.lo[roots_lo]
        search = np.flatnonzero(~is_nan & ~is_lo)
        if search.size:
            part = sub.take(search)
            x = _newton_root(part, x_lo[search], x_hi[search], max_newton)
            roots[search] = part.lo + (part.hi - part.lo) * expit(x)
        value[solvable] = roots
    expected[np.array(usable), 1:, 1:] = value.reshape(len(usable), a.size - 1, b.size - 1)
    return expected
