"""Readouts: phenotype readouts (p-ERK suppression, viability, ...), level readouts, dose-response with a 4PL fit.

A readout turns simulations of a condition and its untreated reference into a number a biologist measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "LEVEL_CONVENTION": "_readout",
    "LEVEL_PREFIX": "_readout",
    "MODES": "_readout",
    "READOUTS": "_readout",
    "REQUIRED_IDS": "_readout",
    "Readout": "_readout",
    "ReadoutRecord": "_readout",
    "ReadoutTable": "_readout",
    "closed_form_cells": "_readout",
    "level_hint": "_readout",
    "level_readout": "_readout",
    "readouts_for": "_readout",
    "unknown_readout_message": "_readout",
    "compute_readout_table": "_compute",
    "compute_readouts": "_compute",
    "with_population_layer": "_population",
    "LogisticFit": "_logistic",
    "fit_logistic": "_logistic",
    "logistic4": "_logistic",
    "DoseResponse": "_dose_response",
    "dose_response": "_dose_response",
    "percent_remaining": "_dose_response",
    "CURVES": "_dose_response",
    "FIT_COLUMNS": "_dose_response",
    "fit_dose_response": "_dose_response",
    "fit_row": "_dose_response",
    "MODEL_FREE": "_logistic",
    "MODEL_NORMALIZED": "_logistic",
    "DoseResponseDrawer": "_write",
    "write_dose_response": "_write",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._compute import compute_readout_table as compute_readout_table
    from ._compute import compute_readouts as compute_readouts
    from ._dose_response import CURVES as CURVES
    from ._dose_response import FIT_COLUMNS as FIT_COLUMNS
    from ._dose_response import DoseResponse as DoseResponse
    from ._dose_response import dose_response as dose_response
    from ._dose_response import fit_dose_response as fit_dose_response
    from ._dose_response import fit_row as fit_row
    from ._dose_response import percent_remaining as percent_remaining
    from ._logistic import MODEL_FREE as MODEL_FREE
    from ._logistic import MODEL_NORMALIZED as MODEL_NORMALIZED
    from ._logistic import LogisticFit as LogisticFit
    from ._logistic import fit_logistic as fit_logistic
    from ._logistic import logistic4 as logistic4
    from ._population import with_population_layer as with_population_layer
    from ._readout import LEVEL_CONVENTION as LEVEL_CONVENTION
    from ._readout import LEVEL_PREFIX as LEVEL_PREFIX
    from ._readout import MODES as MODES
    from ._readout import READOUTS as READOUTS
    from ._readout import REQUIRED_IDS as REQUIRED_IDS
    from ._readout import Readout as Readout
    from ._readout import ReadoutRecord as ReadoutRecord
    from ._readout import ReadoutTable as ReadoutTable
    from ._readout import closed_form_cells as closed_form_cells
    from ._readout import level_hint as level_hint
    from ._readout import level_readout as level_readout
    from ._readout import readouts_for as readouts_for
    from ._readout import unknown_readout_message as unknown_readout_message
    from ._write import DoseResponseDrawer as DoseResponseDrawer
    from ._write import write_dose_response as write_dose_response
