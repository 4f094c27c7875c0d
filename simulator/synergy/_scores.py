"""Every score of K dose matrices on one grid (one matrix is a batch of one), and per-matrix summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import InputError
from ..status import Status
from ._hill import HillFit, fit_hill_many
from ._inputs import (
    _check_doses,
    _check_effects,
    _check_fa_levels,
    _check_matrix,
    _combination_mask,
    _diagonal_ratio,
    _frozen,
    _ratio_value,
)
from ._loewe import loewe_expected_many
from ._median_effect import (
    CI_QUALITY,
    SATURATION,
    ConstantRatioCI,
    ConstantRatioMany,
    MedianEffectFit,
    MedianFits,
    _no_diagonal_table,
    combination_index_many,
    constant_ratio_many,
    flag_texts,
    median_effect_fits,
    ratio_wells,
)
from ._zip import zip_delta_many

#: Sign convention of every score, in words; stored in screen manifests next to the numbers.
SCORE_CONVENTIONS: dict[str, str] = {
    "bliss": "observed − Bliss-independence expectation (fa_A + fa_B − fa_A·fa_B); > 0 synergy, < 0 antagonism "
    "(Bliss 1939)",
    "hsa": "observed − highest single agent (max(fa_A, fa_B)); > 0 synergy, < 0 antagonism",
    "loewe": "observed − Loewe-additive expectation (d_A/D_A(E) + d_B/D_B(E) = 1, Hill fits); > 0 synergy, "
    "< 0 antagonism; NaN where Loewe is undefined (Loewe 1926)",
    "zip": "ZIP delta: fitted combination surface − Bliss expectation of the single-drug Hill fits; > 0 synergy, "
    "< 0 antagonism (Yadav et al. 2015)",
    "ci": "< 0.9 synergy, 0.9–1.1 additive, > 1.1 antagonism (Chou–Talalay combination index, mutually exclusive form)",
    "ci_quality": CI_QUALITY,
    "dri": "dose-reduction index Dx/d: fold reduction of a drug's dose in the mixture for the same fa; > 1 favourable",
    "mean": "<score>_mean (bliss, hsa, loewe, zip): one number per matrix, the mean of the excess over the "
    "combination wells (both doses > 0) where it is defined; > 0 synergy on average",
    "msa": "<score>_msa: most synergistic area, the highest mean excess over 3 x 3 blocks of adjacent combination "
    "wells (NaN under a 3 x 3 combination grid); > 0 synergy in the best dose region",
}


def bliss_excess(doses_a: ArrayLike, doses_b: ArrayLike, effect: ArrayLike) -> np.ndarray:
    """Observed − Bliss-independence expectation at every combination well.

    Bliss (1939) independence treats the two drugs as acting on independent events, so the fraction left
    unaffected multiplies: ``1 − E = (1 − fa_A)(1 − fa_B)``. It needs no curve fit, which makes it the
    most robust score for sparse or non-sigmoidal (e.g. above-baseline) single-agent responses.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``. Values < 0 are used as they are.

    Returns
    -------
    numpy.ndarray
        ``effect − E_bliss``; > 0 synergy. NaN on the single-agent row and column.
    """
    _, _, e = _check_matrix(doses_a, doses_b, effect)
    return _frozen(_bliss_and_hsa(e[None])[0][0])  # one matrix: a batch of one


def hsa_excess(doses_a: ArrayLike, doses_b: ArrayLike, effect: ArrayLike) -> np.ndarray:
    """Observed − highest-single-agent expectation at every combination well.

    HSA (Gaddum's criterion) asks only whether the combination beats the better of its parts at the same
    doses; it is the least demanding null model, so HSA "synergy" is necessary, not sufficient, for Bliss or
    Loewe synergy.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected, shape ``(len(doses_a), len(doses_b))``. Values < 0 are used as they are.

    Returns
    -------
    numpy.ndarray
        ``effect − max(fa_A, fa_B)``; > 0 synergy. NaN on the single-agent row and column.
    """
    _, _, e = _check_matrix(doses_a, doses_b, effect)
    return _frozen(_bliss_and_hsa(e[None])[1][0])


#: flags of a well score, in text order; bit i of a well's code switches on name i (``{score}`` is the score's
#: name: ``ci_undefined``, ``loewe_undefined``...). The last six apply to the CI only.
WELL_FLAGS = ("single_agent", "below_baseline", "{score}_undefined", "saturated", "beyond_single_agents",
              "a_few_points", "a_low_r", "b_few_points", "b_low_r")


def well_flag_codes(single: np.ndarray, below: np.ndarray, undefined: np.ndarray | None, saturated: np.ndarray,
                    ci_quality: np.ndarray | None = None) -> np.ndarray:
    """Bit codes of :data:`WELL_FLAGS` at every well, from boolean masks of one shape.

    Parameters
    ----------
    single, below, undefined, saturated
        Single-agent wells, effects below baseline, wells where the score is undefined (None: never), saturated
        combination wells.
    ci_quality
        The CI's quality bits (bits 4.. of :data:`WELL_FLAGS`), set only where the CI is a number; None for the
        other scores.

    Returns
    -------
    numpy.ndarray
        Integer codes; :func:`well_flags` turns them into text.
    """
    code = single.astype(np.int64) | below.astype(np.int64) << 1 | saturated.astype(np.int64) << 3
    if undefined is not None:
        code = code | undefined.astype(np.int64) << 2
    if ci_quality is not None:
        code = code | ci_quality
    return code


def well_flags(name: str, codes: np.ndarray) -> np.ndarray:
    """The flag text of score ``name`` for each code of :func:`well_flag_codes` (``""`` when none applies)."""
    return flag_texts(codes, [f.format(score=name) for f in WELL_FLAGS])


def _ci_quality_bits(e: np.ndarray, ci: np.ndarray, median_a: MedianFits, median_b: MedianFits) -> np.ndarray:
    """Bits 4.. of :data:`WELL_FLAGS` at every well of K matrices (K, n, m), where the CI is a number.

    ``beyond_single_agents``: the well's fa exceeds the highest fa either drug alone reaches at any tested dose
    (the Loewe CI is undefined there; the median-effect Dx are extrapolations). The fit bits: each single-drug
    fit with fewer than 3 points or r < 0.95.
    """
    reach = np.fmax(median_a.fa_reached, median_b.fa_reached)[:, None, None]
    with np.errstate(invalid="ignore"):
        beyond = e > reach
    code = beyond.astype(np.int64) << 4
    for bit, on in enumerate((median_a.few_points, median_a.low_r, median_b.few_points, median_b.low_r), start=5):
        code |= on[:, None, None].astype(np.int64) << bit
    return np.where(np.isfinite(ci), code, 0)


def _saturated(e: np.ndarray) -> np.ndarray:
    """Saturated combination wells of K matrices (K, n, m): :data:`SATURATION` (a below-baseline well is not)."""
    low, high = SATURATION
    stronger = np.maximum(e[:, :, :1], e[:, :1, :])  # the stronger single agent at each well's doses
    return _combination_mask(e.shape[1:]) & (((e >= 0) & (e < low)) | ((e > high) & (stronger > high)))


def _bliss_and_hsa(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bliss and HSA excess of K checked matrices (K, n, m): elementwise, NaN on the single-agent wells."""
    fa_a, fa_b = e[:, :, :1], e[:, :1, :]
    bliss = e - (fa_a + fa_b - fa_a * fa_b)
    hsa = e - np.maximum(fa_a, fa_b)
    single = ~_combination_mask(e.shape[1:])
    for score in (bliss, hsa):
        score[:, single] = np.nan
    return bliss, hsa


#: Score matrices in :class:`SynergyResult`, in table order.
_SCORES = ("bliss", "hsa", "loewe", "zip", "ci")


@dataclass(frozen=True)
class SynergyResult:
    """Every synergy score of one dose matrix, with the fits and flags behind them.

    Attributes
    ----------
    doses_a, doses_b, effect
        The input (rows: drug A; columns: drug B; effect as fraction affected).
    bliss, hsa, loewe, zip, ci
        Score matrices of ``effect``'s shape; NaN on the single-agent row/column and where undefined.
        Conventions in :data:`SCORE_CONVENTIONS`.
    hill_a, hill_b
        4-parameter Hill fits of each drug alone (Loewe, ZIP).
    median_a, median_b
        Median-effect fits of each drug alone (CI).
    constant_ratio
        CI/DRI at ``fa_levels`` along the constant dose ratio.
    below_baseline
        Wells with effect < 0 (the readout rose above baseline): kept in Bliss/HSA, excluded from CI.
    ci_undefined, loewe_undefined, zip_undefined
        Combination wells where that score could not be computed (NaN). ``ci_undefined`` includes the
        ``saturated`` wells.
    saturated
        Combination wells with nothing left to measure (:data:`simulator.synergy.SATURATION`): no CI, flagged in
        every score, drawn without a synergy colour.
    ci_quality
        Integer codes of the CI's quality flags at every well (bits 4.. of :data:`WELL_FLAGS`; 0 where the CI
        is NaN or a result): a CI with a code is a number to look at, not a result.
    """

    doses_a: np.ndarray
    doses_b: np.ndarray
    effect: np.ndarray
    bliss: np.ndarray
    hsa: np.ndarray
    loewe: np.ndarray
    zip: np.ndarray
    ci: np.ndarray
    hill_a: HillFit
    hill_b: HillFit
    median_a: MedianEffectFit
    median_b: MedianEffectFit
    constant_ratio: ConstantRatioCI
    below_baseline: np.ndarray
    ci_undefined: np.ndarray
    loewe_undefined: np.ndarray
    zip_undefined: np.ndarray
    saturated: np.ndarray
    ci_quality: np.ndarray

    @property
    def ci_usable(self) -> np.ndarray:
        """Wells whose CI is a result: finite and without a quality flag."""
        return np.isfinite(self.ci) & (self.ci_quality == 0)

    def score(self, name: str) -> np.ndarray:
        """One score matrix by name (``bliss``, ``hsa``, ``loewe``, ``zip``, ``ci``)."""
        if name not in _SCORES:
            raise InputError(f"unknown score {name!r}; known: {', '.join(_SCORES)}.")
        return getattr(self, name)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per well and score: ``dose_a, dose_b, score, value, flag``.

        ``flag`` joins, with ``;``, the reasons a value is NaN or needs care (:data:`WELL_FLAGS`):
        ``single_agent``, ``below_baseline``, ``ci_undefined``, ``loewe_undefined``, ``zip_undefined``,
        ``saturated``, and for the CI its quality flags; empty when none apply.
        """
        grid_a, grid_b = np.meshgrid(self.doses_a, self.doses_b, indexing="ij")
        single = ~_combination_mask(self.effect.shape)
        undefined = {"ci": self.ci_undefined, "loewe": self.loewe_undefined, "zip": self.zip_undefined}
        frames = []
        for name in _SCORES:
            codes = well_flag_codes(single, self.below_baseline, undefined.get(name), self.saturated,
                                    self.ci_quality if name == "ci" else None)
            flags = well_flags(name, codes).ravel()
            frames.append(
                pd.DataFrame(
                    {
                        "dose_a": grid_a.ravel(),
                        "dose_b": grid_b.ravel(),
                        "score": name,
                        "value": self.score(name).ravel(),
                        "flag": flags,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def ci_table(self) -> pd.DataFrame:
        """The constant-ratio CI/DRI table (see :meth:`ConstantRatioCI.to_frame`)."""
        return self.constant_ratio.to_frame()


def synergy_scores(
    doses_a: ArrayLike,
    doses_b: ArrayLike,
    effect: ArrayLike,
    *,
    ratio: float | tuple[float, float] | None = None,
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> SynergyResult:
    """Compute Bliss, HSA, Loewe, ZIP and Chou–Talalay scores of one dose matrix.

    The scores answer different questions (independent action, beating the best drug, dose additivity,
    potency shift, dose reduction), so a screen reports them all and lets the reader see where they
    disagree; each function is also usable alone.

    Parameters
    ----------
    doses_a, doses_b
        Doses of drug A (rows) and drug B (columns); each starts at 0 and increases strictly.
    effect
        Fraction affected (0 = control, 1 = complete), shape ``(len(doses_a), len(doses_b))``.
    ratio
        Dose A / dose B of the constant-ratio mixture for CI at ``fa_levels``, or a pair ``(a, b)`` meaning
        ``a:b``. Default: the diagonal ratio ``doses_a[k]/doses_b[k]`` if it is constant; otherwise the table is
        NaN with a status saying so.
    fa_levels
        fa levels of the constant-ratio table.

    Returns
    -------
    SynergyResult
        All score matrices, fits, the constant-ratio table and flags.
    """
    a, b, e = _check_matrix(doses_a, doses_b, effect)  # the single-matrix wording of any input error
    return synergy_batch(a, b, e[None], ratio=ratio, fa_levels=fa_levels).result(0)  # a batch of one


#: Side of the square block of adjacent combination wells of the most synergistic area (SynergyFinder's 3 x 3).
MSA_SIZE = 3


def matrix_summaries(scores: ArrayLike, size: int = MSA_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Summary scores of K well-score matrices ``(K, n, m)`` (row 0 and column 0 the single agents).

    Why: comparing cell lines, drug pairs or ensemble members needs one number per matrix, the summaries
    SynergyFinder made standard (Ianevski et al. 2017), defined here as:

    - ``mean``: the mean of the score over the combination wells (both doses > 0) where it is defined (Loewe
      is NaN where it has no additive reference); NaN when none is;
    - ``msa`` (most synergistic area): the highest mean over ``size`` x ``size`` blocks of adjacent combination
      wells, each block fully defined; NaN when the combination grid is smaller or no block is fully defined.

    Parameters
    ----------
    scores
        Well scores, shape (K, n, m).
    size
        Side of the MSA block.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``mean`` and ``msa``, each shape (K,).
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 3:
        raise InputError(f"matrix_summaries needs scores of shape (K, n, m), not {values.shape}.")
    combo = values[:, 1:, 1:]
    finite = np.isfinite(combo)
    defined = finite.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, combo, 0.0).sum(axis=(1, 2)) / defined
    mean[defined == 0] = np.nan
    msa = np.full(values.shape[0], np.nan)
    if combo.shape[1] >= size and combo.shape[2] >= size:
        blocks = np.lib.stride_tricks.sliding_window_view(combo, (size, size), axis=(1, 2)).mean(axis=(-2, -1))
        blocks = blocks.reshape(values.shape[0], -1)  # a block with a NaN well is NaN
        some = np.isfinite(blocks).any(axis=1)
        msa[some] = np.nanmax(blocks[some], axis=1)
    return _frozen(mean), _frozen(msa)


@dataclass(frozen=True)
class SynergyBatch:
    """Every synergy score of K matrices on one dose grid, stacked; ``result(k)`` is matrix k's SynergyResult.

    Array attributes have shape (K, n, m) and mean what the :class:`simulator.synergy.SynergyResult` attribute
    of the same name means; ``hills_*`` hold the K Hill fits, ``median_*`` the K median-effect fits.
    ``constant_ratio`` is None when there was no ratio to use (no ``ratio=`` and no constant diagonal); each
    result then carries the NaN table ``synergy_scores`` gives, at ``fa_levels``.
    """

    doses_a: np.ndarray
    doses_b: np.ndarray
    effect: np.ndarray
    bliss: np.ndarray
    hsa: np.ndarray
    loewe: np.ndarray
    zip: np.ndarray
    ci: np.ndarray
    hills_a: tuple[HillFit, ...]
    hills_b: tuple[HillFit, ...]
    median_a: MedianFits
    median_b: MedianFits
    constant_ratio: ConstantRatioMany | None
    fa_levels: np.ndarray
    below_baseline: np.ndarray
    ci_undefined: np.ndarray
    loewe_undefined: np.ndarray
    zip_undefined: np.ndarray
    saturated: np.ndarray
    ci_quality: np.ndarray

    def __len__(self) -> int:
        return self.effect.shape[0]

    def _table(self, k: int) -> ConstantRatioCI:
        if self.constant_ratio is not None:
            return self.constant_ratio.table(k)
        return _no_diagonal_table(self.fa_levels)

    def result(self, k: int) -> SynergyResult:
        """Matrix ``k`` as :func:`simulator.synergy.synergy_scores` returns it."""
        return SynergyResult(
            doses_a=self.doses_a, doses_b=self.doses_b, effect=_frozen(self.effect[k]),
            bliss=_frozen(self.bliss[k]), hsa=_frozen(self.hsa[k]), loewe=_frozen(self.loewe[k]),
            zip=_frozen(self.zip[k]), ci=_frozen(self.ci[k]), hill_a=self.hills_a[k], hill_b=self.hills_b[k],
            median_a=self.median_a.fit(k), median_b=self.median_b.fit(k), constant_ratio=self._table(k),
            below_baseline=_frozen(self.below_baseline[k]), ci_undefined=_frozen(self.ci_undefined[k]),
            loewe_undefined=_frozen(self.loewe_undefined[k]), zip_undefined=_frozen(self.zip_undefined[k]),
            saturated=_frozen(self.saturated[k]), ci_quality=_frozen(self.ci_quality[k]),
        )

    def results(self) -> list[SynergyResult]:
        """All K results, in order."""
        return [self.result(k) for k in range(len(self))]


def synergy_batch(
    doses_a: ArrayLike,
    doses_b: ArrayLike,
    effects: ArrayLike,
    *,
    ratio: float | tuple[float, float] | None = None,
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> SynergyBatch:
    """Score K matrices on one dose grid; :meth:`SynergyBatch.result` gives each as ``synergy_scores`` would.

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (each starts at 0 and increases strictly).
    effects
        Fraction affected, shape ``(K, len(doses_a), len(doses_b))``; every value finite.
    ratio, fa_levels
        As in :func:`simulator.synergy.synergy_scores` (the same ratio for every matrix).

    Returns
    -------
    SynergyBatch
        The stacked scores, fits and flags.
    """
    a, b = _check_doses(doses_a, "doses_a"), _check_doses(doses_b, "doses_b")
    e = _check_effects(a, b, effects)
    levels = _check_fa_levels(fa_levels)
    k = e.shape[0]
    combination = _combination_mask(e.shape[1:])

    hills_a, hills_b = fit_hill_many(a, e[:, :, 0]), fit_hill_many(b, e[:, 0, :])
    expected = loewe_expected_many(a, b, hills_a, hills_b)
    zips = zip_delta_many(a, b, e, hills_a=hills_a, hills_b=hills_b)
    zip_ = np.stack([z.delta for z in zips]) if k else np.empty(e.shape)
    zip_undefined = np.stack([z.undefined for z in zips]) if k else np.zeros(e.shape, dtype=bool)

    median_a, median_b = median_effect_fits(a, e[:, :, 0]), median_effect_fits(b, e[:, 0, :])
    ci, ci_undefined = combination_index_many(a, b, e, median_a, median_b)
    saturated = _saturated(e)
    ci[saturated] = np.nan  # nothing left to measure: no CI (SATURATION)
    ci_undefined |= saturated

    r = _ratio_value(ratio) if ratio is not None else _diagonal_ratio(a, b)
    table = None
    if r is not None:
        on, total, order = ratio_wells(a, b, r)
        fa_mix = e[:, 1:, 1:][:, on][:, order]
        table = constant_ratio_many(median_a, median_b, median_effect_fits(total, fa_mix), r, levels)
        if total.size == 0:
            message = f"no well lies on the ratio A:B = {r:g}; pass the mixture fit to combination_index_at"
            table = replace(table, status=(Status.UNDEFINED,) * k, message=(message,) * k)

    bliss, hsa = _bliss_and_hsa(e)
    return SynergyBatch(
        doses_a=_frozen(a), doses_b=_frozen(b), effect=_frozen(e), bliss=_frozen(bliss), hsa=_frozen(hsa),
        loewe=_frozen(e - expected), zip=_frozen(zip_), ci=_frozen(ci), hills_a=hills_a, hills_b=hills_b,
        median_a=median_a, median_b=median_b, constant_ratio=table, fa_levels=_frozen(levels),
        below_baseline=_frozen(e < 0), ci_undefined=_frozen(ci_undefined),
        loewe_undefined=_frozen(combination & np.isnan(expected)), zip_undefined=_frozen(zip_undefined),
        saturated=_frozen(saturated), ci_quality=_frozen(_ci_quality_bits(e, ci, median_a, median_b)),
    )


def synergy_scores_many(
    doses_a: ArrayLike,
    doses_b: ArrayLike,
    effects: ArrayLike,
    *,
    ratio: float | tuple[float, float] | None = None,
    fa_levels: Sequence[float] = (0.5, 0.75, 0.9),
) -> list[SynergyResult]:
    """:func:`simulator.synergy.synergy_scores` of K matrices on one dose grid, vectorised across matrices.

    Parameters
    ----------
    doses_a, doses_b
        The shared dose axes (each starts at 0 and increases strictly).
    effects
        Fraction affected, shape ``(K, len(doses_a), len(doses_b))``.
    ratio, fa_levels
        As in :func:`simulator.synergy.synergy_scores`.

    Returns
    -------
    list[SynergyResult]
        One per matrix, in order, with the same fields, flags and statuses as ``synergy_scores`` gives.
    """
    return synergy_batch(doses_a, doses_b, effects, ratio=ratio, fa_levels=fa_levels).results()
