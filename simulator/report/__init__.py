"""Reports: ``DIR/report.html`` from the stored results under DIR (figures drawn from the tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "build_report": "_build",
    "draw_fit_figures": "_fit",
    "draw_dose_response": "_dose_response",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._build import build_report as build_report
    from ._dose_response import draw_dose_response as draw_dose_response
    from ._fit import draw_fit_figures as draw_fit_figures
