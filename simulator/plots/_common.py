"""What every figure shares: the figure class, readable time axes, numbers written out, and saving files.

Figures are built with matplotlib's object API (:class:`matplotlib.figure.Figure`), never with pyplot: nothing
process-wide changes (no backend is selected, no figure is registered with pyplot), so a notebook's own
``plt.show()`` keeps working, and a returned figure is shown once (by its ``_repr_png_``), not again when pyplot
flushes its open figures at the end of a cell.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from ..files import atomic_path

_TIME_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_TIME_WORDS = {"s": "s", "min": "min", "h": "h", "d": "days"}
#: resolution of saved and displayed PNGs
PNG_DPI = 150


class NotebookFigure(Figure):
    """A matplotlib figure that Jupyter displays by itself (as a PNG), whether or not pyplot was ever imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=PNG_DPI)
        return buffer.getvalue()


def new_figure(figsize: tuple[float, float]) -> NotebookFigure:
    """A new figure of ``figsize`` inches, outside pyplot (see the module docstring).

    Parameters
    ----------
    figsize
        Width and height in inches.

    Returns
    -------
    NotebookFigure
        An empty figure; add axes with ``fig.subplots(...)``.
    """
    return NotebookFigure(figsize=figsize)


def colormap(name: str) -> Colormap:
    """The registered colour map ``name`` (a copy: ``with_extremes`` on it changes nothing global).

    Parameters
    ----------
    name
        A matplotlib colour-map name, e.g. ``"viridis"``.

    Returns
    -------
    matplotlib.colors.Colormap
        The colour map.
    """
    return matplotlib.colormaps[name]


def display_time(time: np.ndarray, unit: str | None, label: str = "time") -> tuple[np.ndarray, str]:
    """Convert model time to a readable unit for an axis: minutes become hours beyond 4 h, and so on.

    Parameters
    ----------
    time
        Times in the model's time unit.
    unit
        The model's time unit (``s``, ``min``, ``h``, ``d``), or None when it declares none.
    label
        The quantity's name on the axis.

    Returns
    -------
    tuple
        The times in the chosen unit, and the axis label with that unit.
    """
    time = np.asarray(time, dtype=float)
    if unit is None:
        return time, f"{label} (model units)"
    seconds = time * _TIME_SECONDS[unit]
    span = float(seconds.max(initial=0.0) - seconds.min(initial=0.0))
    target = unit
    for candidate, limit in (("d", 4 * 86400.0), ("h", 4 * 3600.0), ("min", 240.0)):
        if span >= limit and _TIME_SECONDS[candidate] > _TIME_SECONDS[unit]:
            target = candidate
            break
    return seconds / _TIME_SECONDS[target], f"{label} ({_TIME_WORDS[target]})"


def _figure_of(ax: Axes) -> Figure:
    """The figure ``ax`` lies on, typed as the :class:`Figure` the plot functions return.

    matplotlib types ``Axes.figure`` as ``Figure | SubFigure``; axes these functions make lie on a
    :class:`NotebookFigure`, and a caller's axes on a subfigure come back as that subfigure, unchanged.
    """
    return cast(Figure, ax.figure)


def _number(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, written out where a reader expects it.

    Doses and percentages read as 3000 and 100, not 3e+03 and 1e+02; the exponent is kept outside 1e-3..1e6.
    """
    if value != 0 and not 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits}g}"
    return np.format_float_positional(value, precision=digits, unique=False, fractional=False, trim="-")


def save_figure_as(fig: Figure, path: str | Path) -> Path:
    """Save a figure to exactly ``path``; its suffix (``.png``, ``.svg`` or ``.pdf``) picks the format.

    Parameters
    ----------
    fig
        The figure.
    path
        The file to write (its folder is created).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=PNG_DPI)
    return path


def save_figure(fig: Figure, path: str | Path, *, svg: bool = True) -> list[Path]:
    """Save a figure as PNG (and SVG beside it), each file whole or not at all (like the tables beside it).

    Parameters
    ----------
    fig
        The figure.
    path
        The PNG file (any suffix is replaced by ``.png``; its folder is created).
    svg
        Also write the SVG beside it.

    Returns
    -------
    list of pathlib.Path
        The written paths, PNG first.
    """
    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = [path, path.with_suffix(".svg")] if svg else [path]
    for target in written:
        with atomic_path(target) as tmp:
            extra: dict[str, Any] = {"dpi": PNG_DPI} if target.suffix == ".png" else {}
            fig.savefig(tmp, format=target.suffix[1:], **extra)
    return written
