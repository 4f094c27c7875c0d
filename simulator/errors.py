"""Exception hierarchy.

Every error a user can cause is a :class:`MekisimError`; the CLI turns those into a one-paragraph
message and exit code 1, and anything else is a bug that keeps its traceback. Subclasses also derive
from the builtin type a Python caller would expect (``ValueError`` for bad input, ``RuntimeError`` for a
failed simulation), so ``except ValueError`` works as usual.
"""

from __future__ import annotations

__all__ = [
    "MekisimError",
    "InputError",
    "ModelLoadError",
    "SimulationError",
]


class MekisimError(Exception):
    """Base class of every error mekisim raises on purpose."""


class InputError(MekisimError, ValueError):
    """Invalid user input: an unknown name, an out-of-range value, a malformed specification."""


class ModelLoadError(InputError):
    """A model file or text could not be read, parsed or compiled."""


class SimulationError(MekisimError, RuntimeError):
    """The integrator or steady-state solver failed (raised only with ``throw=True``)."""
