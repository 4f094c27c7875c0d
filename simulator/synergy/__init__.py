"""Synergy scores of two-drug dose matrices: Bliss, HSA, Loewe, ZIP, Chou-Talalay CI/DRI, per-matrix summaries.

Pure numpy/scipy: no simulation. K matrices on one dose grid are scored at once; one matrix is a batch of one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "FA_WINDOW": "_single",
    "SCORE_CONVENTIONS": "_single",
    "CombinationIndexScores": "_single",
    "ConstantRatioCI": "_single",
    "HillFit": "_single",
    "LoeweScores": "_single",
    "MedianEffectFit": "_single",
    "SynergyResult": "_single",
    "ZipScores": "_single",
    "bliss_excess": "_single",
    "classify_ci": "_single",
    "combination_index": "_single",
    "combination_index_at": "_single",
    "constant_ratio_series": "_single",
    "fit_hill": "_single",
    "fit_hill_many": "_single",
    "hsa_excess": "_single",
    "loewe_excess": "_single",
    "median_effect_fit": "_single",
    "synergy_scores": "_single",
    "zip_delta": "_single",
    "zip_delta_many": "_single",
    "MSA_SIZE": "_batch",
    "ConstantRatioMany": "_batch",
    "MedianFits": "_batch",
    "SynergyBatch": "_batch",
    "constant_ratio_many": "_batch",
    "loewe_expected_many": "_batch",
    "matrix_summaries": "_batch",
    "median_effect_fits": "_batch",
    "synergy_batch": "_batch",
    "synergy_scores_many": "_batch",
    "STATUS_RAISED": "_lsq_batch",
    "BatchLsqResult": "_lsq_batch",
    "least_squares_trf_batch": "_lsq_batch",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._batch import MSA_SIZE as MSA_SIZE
    from ._batch import ConstantRatioMany as ConstantRatioMany
    from ._batch import MedianFits as MedianFits
    from ._batch import SynergyBatch as SynergyBatch
    from ._batch import constant_ratio_many as constant_ratio_many
    from ._batch import loewe_expected_many as loewe_expected_many
    from ._batch import matrix_summaries as matrix_summaries
    from ._batch import median_effect_fits as median_effect_fits
    from ._batch import synergy_batch as synergy_batch
    from ._batch import synergy_scores_many as synergy_scores_many
    from ._lsq_batch import STATUS_RAISED as STATUS_RAISED
    from ._lsq_batch import BatchLsqResult as BatchLsqResult
    from ._lsq_batch import least_squares_trf_batch as least_squares_trf_batch
    from ._single import FA_WINDOW as FA_WINDOW
    from ._single import SCORE_CONVENTIONS as SCORE_CONVENTIONS
    from ._single import CombinationIndexScores as CombinationIndexScores
    from ._single import ConstantRatioCI as ConstantRatioCI
    from ._single import HillFit as HillFit
    from ._single import LoeweScores as LoeweScores
    from ._single import MedianEffectFit as MedianEffectFit
    from ._single import SynergyResult as SynergyResult
    from ._single import ZipScores as ZipScores
    from ._single import bliss_excess as bliss_excess
    from ._single import classify_ci as classify_ci
    from ._single import combination_index as combination_index
    from ._single import combination_index_at as combination_index_at
    from ._single import constant_ratio_series as constant_ratio_series
    from ._single import fit_hill as fit_hill
    from ._single import fit_hill_many as fit_hill_many
    from ._single import hsa_excess as hsa_excess
    from ._single import loewe_excess as loewe_excess
    from ._single import median_effect_fit as median_effect_fit
    from ._single import synergy_scores as synergy_scores
    from ._single import zip_delta as zip_delta
    from ._single import zip_delta_many as zip_delta_many
