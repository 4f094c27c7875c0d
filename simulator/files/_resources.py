"""Where the bundled models, catalogue and studies are: a source checkout, or the copies inside a wheel."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, ModelLoadError

#: the ``simulator`` package folder (a wheel force-includes ``models/`` and ``experiments/`` into it)
_PACKAGE = Path(__file__).resolve().parents[1]


def bundled_dir() -> Path:
    """The folder of the bundled models, drug catalogue and cell lines.

    Returns
    -------
    pathlib.Path
        ``models/`` of a source checkout, or ``simulator/_bundled_models`` inside an installed wheel.

    Raises
    ------
    ModelLoadError
        Neither exists (an incomplete installation).
    """
    for candidate in (_PACKAGE / "_bundled_models", _PACKAGE.parent / "models"):
        if (candidate / "drugs.toml").is_file():
            return candidate
    raise ModelLoadError(f"bundled models not found next to {_PACKAGE}; the installation is incomplete.")


def bundled_study(name: str) -> Path:
    """Path of a study config shipped with mekisim (``experiments/<name>/config.toml``).

    Parameters
    ----------
    name
        The study's folder name, e.g. ``"mpnst_combinations"``.

    Returns
    -------
    pathlib.Path
        Its ``config.toml`` in a source checkout or inside an installed wheel.

    Raises
    ------
    InputError
        No such study (or an incomplete installation).
    """
    for root in (_PACKAGE / "_bundled_experiments", _PACKAGE.parent / "experiments"):
        path = root / name / "config.toml"
        if path.is_file():
            return path
    raise InputError(f"study {name!r} not found next to {_PACKAGE}; the installation is incomplete.")
