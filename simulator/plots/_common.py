"""What every figure shares: readable time axes, numbers written out, and saving (PNG + SVG, atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

_TIME_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


_TIME_WORDS = {"s": "s", "min": "min", "h": "h", "d": "days"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: figures are files
    import matplotlib.pyplot as plt

    return plt


def display_time(time: np.ndarray, unit: str | None, label: str = "time") -> tuple[np.ndarray, str]:
    """Convert model time to a readable unit for an axis: minutes become hours beyond 4 h, and so on."""
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


def _number(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, written out where a reader expects it.

    Doses and percentages read as 3000 and 100, not 3e+03 and 1e+02; the exponent is kept outside 1e-3..1e6.
    """
    if value != 0 and not 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits}g}"
    return np.format_float_positional(value, precision=digits, unique=False, fractional=False, trim="-")


def save_figure_as(fig, path: str | Path) -> Path:
    """Save a figure to exactly ``path`` (its suffix, ``.png``, ``.svg`` or ``.pdf``, picks the format) and close it."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def save_figure(fig, path: str | Path, *, svg: bool = True) -> list[Path]:
    """Save a figure as PNG (and SVG beside it) and close it; return the written paths."""
    plt = _pyplot()
    from ..files import atomic_path

    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = [path, path.with_suffix(".svg")] if svg else [path]
    try:
        for target in written:  # each file whole or not at all (files.py), like the tables beside it
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=target.suffix[1:], **({"dpi": 150} if target.suffix == ".png" else {}))
    finally:
        plt.close(fig)
    return written
