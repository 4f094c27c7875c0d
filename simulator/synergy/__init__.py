"""Synergy scores of two-drug dose matrices: Bliss, HSA, Loewe, ZIP, Chou-Talalay CI/DRI, per-matrix summaries.

Pure numpy/scipy, no simulation. One implementation: K matrices on one dose grid are scored at once
(:func:`synergy_batch`), and every single-matrix function is that code on a batch of one. Conventions, the
methods and the deliberate differences from the ``synergy`` package: ``docs/notes/synergy.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "MSA_SIZE": "_scores",
    "SCORE_CONVENTIONS": "_scores",
    "SynergyBatch": "_scores",
    "SynergyResult": "_scores",
    "bliss_excess": "_scores",
    "hsa_excess": "_scores",
    "matrix_summaries": "_scores",
    "synergy_batch": "_scores",
    "synergy_scores": "_scores",
    "synergy_scores_many": "_scores",
    "WELL_FLAGS": "_scores",
    "well_flags": "_scores",
    "well_flag_codes": "_scores",
    "HillFit": "_hill",
    "fit_hill": "_hill",
    "fit_hill_many": "_hill",
    "LoeweScores": "_loewe",
    "loewe_excess": "_loewe",
    "loewe_expected_many": "_loewe",
    "ZipScores": "_zip",
    "zip_delta": "_zip",
    "zip_delta_many": "_zip",
    "FA_WINDOW": "_median_effect",
    "CI_QUALITY": "_median_effect",
    "MIN_FIT_POINTS": "_median_effect",
    "R_MIN": "_median_effect",
    "RATIO_FLAGS": "_median_effect",
    "SATURATION": "_median_effect",
    "constant_ratio_ci": "_median_effect",
    "constant_ratio_ci_many": "_median_effect",
    "ratio_flags": "_median_effect",
    "CombinationIndexScores": "_median_effect",
    "ConstantRatioCI": "_median_effect",
    "ConstantRatioMany": "_median_effect",
    "MedianEffectFit": "_median_effect",
    "MedianFits": "_median_effect",
    "classify_ci": "_median_effect",
    "combination_index": "_median_effect",
    "combination_index_at": "_median_effect",
    "combination_index_many": "_median_effect",
    "constant_ratio_many": "_median_effect",
    "constant_ratio_series": "_median_effect",
    "median_effect_fit": "_median_effect",
    "median_effect_fits": "_median_effect",
    "ratio_wells": "_median_effect",
    "STATUS_RAISED": "_lsq_trf",
    "BatchLsqResult": "_lsq_trf",
    "least_squares_trf_batch": "_lsq_trf",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._hill import HillFit as HillFit
    from ._hill import fit_hill as fit_hill
    from ._hill import fit_hill_many as fit_hill_many
    from ._loewe import LoeweScores as LoeweScores
    from ._loewe import loewe_excess as loewe_excess
    from ._loewe import loewe_expected_many as loewe_expected_many
    from ._lsq_trf import STATUS_RAISED as STATUS_RAISED
    from ._lsq_trf import BatchLsqResult as BatchLsqResult
    from ._lsq_trf import least_squares_trf_batch as least_squares_trf_batch
    from ._median_effect import CI_QUALITY as CI_QUALITY
    from ._median_effect import FA_WINDOW as FA_WINDOW
    from ._median_effect import MIN_FIT_POINTS as MIN_FIT_POINTS
    from ._median_effect import R_MIN as R_MIN
    from ._median_effect import RATIO_FLAGS as RATIO_FLAGS
    from ._median_effect import SATURATION as SATURATION
    from ._median_effect import CombinationIndexScores as CombinationIndexScores
    from ._median_effect import ConstantRatioCI as ConstantRatioCI
    from ._median_effect import ConstantRatioMany as ConstantRatioMany
    from ._median_effect import MedianEffectFit as MedianEffectFit
    from ._median_effect import MedianFits as MedianFits
    from ._median_effect import classify_ci as classify_ci
    from ._median_effect import combination_index as combination_index
    from ._median_effect import combination_index_at as combination_index_at
    from ._median_effect import combination_index_many as combination_index_many
    from ._median_effect import constant_ratio_ci as constant_ratio_ci
    from ._median_effect import constant_ratio_ci_many as constant_ratio_ci_many
    from ._median_effect import constant_ratio_many as constant_ratio_many
    from ._median_effect import constant_ratio_series as constant_ratio_series
    from ._median_effect import median_effect_fit as median_effect_fit
    from ._median_effect import median_effect_fits as median_effect_fits
    from ._median_effect import ratio_flags as ratio_flags
    from ._median_effect import ratio_wells as ratio_wells
    from ._scores import MSA_SIZE as MSA_SIZE
    from ._scores import SCORE_CONVENTIONS as SCORE_CONVENTIONS
    from ._scores import WELL_FLAGS as WELL_FLAGS
    from ._scores import SynergyBatch as SynergyBatch
    from ._scores import SynergyResult as SynergyResult
    from ._scores import bliss_excess as bliss_excess
    from ._scores import hsa_excess as hsa_excess
    from ._scores import matrix_summaries as matrix_summaries
    from ._scores import synergy_batch as synergy_batch
    from ._scores import synergy_scores as synergy_scores
    from ._scores import synergy_scores_many as synergy_scores_many
    from ._scores import well_flag_codes as well_flag_codes
    from ._scores import well_flags as well_flags
    from ._zip import ZipScores as ZipScores
    from ._zip import zip_delta as zip_delta
    from ._zip import zip_delta_many as zip_delta_many
