"""Models: Antimony/SBML loading, metadata, the drug catalogue and cell lines, drug terms, conditions.

A :class:`CompiledModel` is an immutable SBML model with the ids mekisim needs; a :class:`Condition` is the
parameter values of one cell line under one set of doses. Nothing here simulates (that is :mod:`simulator.engine`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "CompiledModel": "_compiled",
    "DeclaredReadout": "_compiled",
    "EFFECT_FORMS": "_compiled",
    "Observable": "_compiled",
    "READOUT_STATISTICS": "_compiled",
    "antimony_to_sbml": "_load",
    "bundled_model_names": "_load",
    "from_antimony_text": "_load",
    "from_sbml_text": "_load",
    "load_antimony": "_load",
    "load_model": "_load",
    "load_sbml": "_load",
    "sbml_to_antimony": "_load",
    "write_sbml": "_load",
    "metadata_of": "_metadata",
    "checked_libsbml": "_libsbml",
    "NotSupported": "_sensitivities",
    "SensitivitySystem": "_sensitivities",
    "sensitivity_system": "_sensitivities",
    "DEFAULTS_LABEL": "_catalog",
    "CellLine": "_catalog",
    "Drug": "_catalog",
    "load_cell_lines": "_catalog",
    "load_drugs": "_catalog",
    "DRUG_TERM_FORM": "_drugs",
    "DrugTerm": "_drugs",
    "add_drug_terms": "_drugs",
    "existing_ids": "_drugs",
    "Condition": "_conditions",
    "accepted_drugs": "_conditions",
    "cell_lines_for": "_conditions",
    "make_condition": "_conditions",
    "Switch": "_compiled",
    "read_metadata_file": "_metadata",
    "check_values": "_values",
    "parse_set_values": "_values",
    "parse_switch_names": "_values",
    "resolve_values": "_values",
    "switch_values": "_values",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._catalog import DEFAULTS_LABEL as DEFAULTS_LABEL
    from ._catalog import CellLine as CellLine
    from ._catalog import Drug as Drug
    from ._catalog import load_cell_lines as load_cell_lines
    from ._catalog import load_drugs as load_drugs
    from ._compiled import EFFECT_FORMS as EFFECT_FORMS
    from ._compiled import READOUT_STATISTICS as READOUT_STATISTICS
    from ._compiled import CompiledModel as CompiledModel
    from ._compiled import DeclaredReadout as DeclaredReadout
    from ._compiled import Observable as Observable
    from ._compiled import Switch as Switch
    from ._conditions import Condition as Condition
    from ._conditions import accepted_drugs as accepted_drugs
    from ._conditions import cell_lines_for as cell_lines_for
    from ._conditions import make_condition as make_condition
    from ._drugs import DRUG_TERM_FORM as DRUG_TERM_FORM
    from ._drugs import DrugTerm as DrugTerm
    from ._drugs import add_drug_terms as add_drug_terms
    from ._drugs import existing_ids as existing_ids
    from ._libsbml import checked_libsbml as checked_libsbml
    from ._load import antimony_to_sbml as antimony_to_sbml
    from ._load import bundled_model_names as bundled_model_names
    from ._load import from_antimony_text as from_antimony_text
    from ._load import from_sbml_text as from_sbml_text
    from ._load import load_antimony as load_antimony
    from ._load import load_model as load_model
    from ._load import load_sbml as load_sbml
    from ._load import sbml_to_antimony as sbml_to_antimony
    from ._load import write_sbml as write_sbml
    from ._metadata import metadata_of as metadata_of
    from ._metadata import read_metadata_file as read_metadata_file
    from ._sensitivities import NotSupported as NotSupported
    from ._sensitivities import SensitivitySystem as SensitivitySystem
    from ._sensitivities import sensitivity_system as sensitivity_system
    from ._values import check_values as check_values
    from ._values import parse_set_values as parse_set_values
    from ._values import parse_switch_names as parse_switch_names
    from ._values import resolve_values as resolve_values
    from ._values import switch_values as switch_values
