"""The figure of a dose-response run."""

from __future__ import annotations

from pathlib import Path

from ..plots import plot_dose_response_fit, save_figure
from ..readouts import DoseResponse


def draw_dose_response(result: DoseResponse, out_dir: str | Path) -> list[Path]:
    """Draw the simulated series with its logistic fit into ``out_dir/dose_response.png`` (and ``.svg``).

    Parameters
    ----------
    result
        The dose series and its fit.
    out_dir
        The folder (it exists).

    Returns
    -------
    list of pathlib.Path
        The written figure files.
    """
    return save_figure(plot_dose_response_fit(result), Path(out_dir) / "dose_response.png")
