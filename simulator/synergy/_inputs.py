"""Checks of dose axes and effect matrices, shared by every score."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

#: Relative tolerance for "this well lies on the requested dose ratio".
_RATIO_RTOL = 1e-9


def _frozen(array: np.ndarray) -> np.ndarray:
    """Return a read-only copy, so a frozen result cannot be changed through its arrays."""
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


def _check_doses(doses: ArrayLike, name: str) -> np.ndarray:
    d = np.asarray(doses, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise InputError(f"{name} must be a 1-D array of at least 2 doses (0 first), got shape {d.shape}.")
    if not np.all(np.isfinite(d)):
        raise InputError(f"{name} contains a non-finite dose: {d.tolist()}.")
    if d[0] != 0.0:
        raise InputError(f"{name} must start with 0 (the single-agent row/column), got {d[0]!r}.")
    if np.any(np.diff(d) <= 0):
        raise InputError(f"{name} must increase strictly, got {d.tolist()}.")
    return d


def _check_matrix(
    doses_a: ArrayLike, doses_b: ArrayLike, effect: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = _check_doses(doses_a, "doses_a")
    b = _check_doses(doses_b, "doses_b")
    e = np.asarray(effect, dtype=float)
    if e.shape != (a.size, b.size):
        raise InputError(
            f"effect must have shape (len(doses_a), len(doses_b)) = ({a.size}, {b.size}), got {e.shape}; "
            "rows follow drug A, columns drug B."
        )
    if not np.all(np.isfinite(e)):
        raise InputError("effect contains NaN or inf; drop or impute failed wells before scoring.")
    return a, b, e


def _combination_mask(shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[1:, 1:] = True
    return mask


def _ratio_value(ratio: float | tuple[float, float]) -> float:
    """Dose A / dose B from a number or an ``(a, b)`` pair meaning ``a:b``."""
    if isinstance(ratio, tuple | list):
        if len(ratio) != 2:
            raise InputError(f"ratio must be a number (dose A / dose B) or a pair (a, b) meaning a:b, got {ratio!r}.")
        value = float(ratio[0]) / float(ratio[1])
    else:
        value = float(ratio)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"dose ratio A:B must be finite and > 0, got {ratio!r}.")
    return value


def _check_fa_levels(fa_levels: Sequence[float] | np.ndarray) -> np.ndarray:
    levels = np.asarray(fa_levels, dtype=float).ravel()
    if levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
        raise InputError(f"fa_levels must be fractions strictly between 0 and 1, got {list(fa_levels)!r}.")
    return levels


def _diagonal_ratio(a: np.ndarray, b: np.ndarray) -> float | None:
    """Dose A / dose B along the matrix diagonal, if it is one constant ratio (else None)."""
    k = min(a.size, b.size)
    ratios = a[1:k] / b[1:k]
    if ratios.size and np.all(np.abs(ratios - ratios[0]) <= _RATIO_RTOL * ratios[0]):
        return float(ratios[0])
    return None


def _check_effects(a: np.ndarray, b: np.ndarray, effects: ArrayLike) -> np.ndarray:
    e = np.asarray(effects, dtype=float)
    if e.ndim != 3 or e.shape[1:] != (a.size, b.size):
        raise InputError(
            f"effects must have shape (K, len(doses_a), len(doses_b)) = (K, {a.size}, {b.size}), got {e.shape}; "
            "rows follow drug A, columns drug B."
        )
    bad = np.flatnonzero(~np.isfinite(e).all(axis=(1, 2)))
    if bad.size and e.shape[0] == 1:
        raise InputError("effect contains NaN or inf; drop or impute failed wells before scoring.")
    if bad.size:
        raise InputError(f"effects of matri{'ces' if bad.size > 1 else 'x'} {', '.join(map(str, bad[:10]))}"
                         f"{', ...' if bad.size > 10 else ''} contain NaN or inf; drop or impute failed wells "
                         "before scoring.")
    return e
