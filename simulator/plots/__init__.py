"""Figures; the only package that imports matplotlib.

Plot functions draw the data they are given and compute nothing (a figure can always be redrawn from stored
tables). Every axis names its quantity and unit, every title says what was simulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "display_time": "_common",
    "save_figure": "_common",
    "save_figure_as": "_common",
    "plot_dose_response": "_simulation",
    "plot_dose_response_fit": "_simulation",
    "plot_steady_state": "_simulation",
    "plot_time_courses": "_simulation",
    "plot_fa_ci": "_screen",
    "plot_isobologram": "_screen",
    "plot_matrix_heatmap": "_screen",
    "plot_screen_panel": "_screen",
    "plot_fit_vs_data": "_fitting",
    "plot_profiles": "_fitting",
    "plot_waterfall": "_fitting",
    "plot_index_bars": "_sensitivity",
    "plot_index_heatmap": "_sensitivity",
    "plot_indices_over_grid": "_sensitivity",
    "plot_morris": "_sensitivity",
    "plot_output_distribution": "_sensitivity",
    "plot_overview": "_sensitivity",
    "interactive_curves": "_interactive",
    "interactive_screen_panel": "_interactive",
    "plotly_javascript": "_interactive",
    "plot_escape_prediction": "_melanoma",
    "plot_growth_curves": "_melanoma",
    "plot_senescence_time_courses": "_melanoma",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._common import display_time as display_time
    from ._common import save_figure as save_figure
    from ._common import save_figure_as as save_figure_as
    from ._fitting import plot_fit_vs_data as plot_fit_vs_data
    from ._fitting import plot_profiles as plot_profiles
    from ._fitting import plot_waterfall as plot_waterfall
    from ._interactive import interactive_curves as interactive_curves
    from ._interactive import interactive_screen_panel as interactive_screen_panel
    from ._interactive import plotly_javascript as plotly_javascript
    from ._melanoma import plot_escape_prediction as plot_escape_prediction
    from ._melanoma import plot_growth_curves as plot_growth_curves
    from ._melanoma import plot_senescence_time_courses as plot_senescence_time_courses
    from ._screen import plot_fa_ci as plot_fa_ci
    from ._screen import plot_isobologram as plot_isobologram
    from ._screen import plot_matrix_heatmap as plot_matrix_heatmap
    from ._screen import plot_screen_panel as plot_screen_panel
    from ._sensitivity import plot_index_bars as plot_index_bars
    from ._sensitivity import plot_index_heatmap as plot_index_heatmap
    from ._sensitivity import plot_indices_over_grid as plot_indices_over_grid
    from ._sensitivity import plot_morris as plot_morris
    from ._sensitivity import plot_output_distribution as plot_output_distribution
    from ._sensitivity import plot_overview as plot_overview
    from ._simulation import plot_dose_response as plot_dose_response
    from ._simulation import plot_dose_response_fit as plot_dose_response_fit
    from ._simulation import plot_steady_state as plot_steady_state
    from ._simulation import plot_time_courses as plot_time_courses
