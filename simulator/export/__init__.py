"""Take a condition or a screen out of mekisim: standalone SBML/Antimony, or a COMBINE archive with SED-ML.

``export_condition`` writes any condition mekisim can simulate (model, cell line, doses, ``--set`` values, a time
course or the steady state, with or without pre-equilibration) as a model file with everything written in, or as
an OMEX archive that tellurium (``te.executeCombineArchive``) or another SED-ML tool runs to mekisim's numbers.
``export_screen`` does the same for the dose wells of a stored screen, as SED-ML repeated tasks.
``parse_set_values``/``check_values`` read and check ``--set PARAM=VALUE`` pairs (with close-name suggestions).
"""

from __future__ import annotations

from ..model import check_values, parse_set_values  # the one implementation (simulator.model._values)
from ._condition import EXPORT_FORMATS, ExportResult, export_condition
from ._screen import ScreenExportResult, export_screen

__all__ = ["EXPORT_FORMATS", "ExportResult", "ScreenExportResult", "check_values", "export_condition",
           "export_screen", "parse_set_values"]
