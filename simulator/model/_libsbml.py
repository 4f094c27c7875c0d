"""python-libsbml, checked to be its own: the one way mekisim's modules get libsbml to walk a model's maths.

Why a module: python-libsedml (imported by tellurium) registers its own SWIG wrappers for libsbml's classes in the
type table it shares with python-libsbml; whichever of the two is imported last wins. When libsedml comes after
python-libsbml (``import tellurium`` after mekisim loaded a model), python-libsbml hands back libsedml's
``ASTNode``, whose ``getType()`` is an opaque pointer: a reader comparing it with ``libsbml.AST_*`` finds no time
switches, no ``delay()`` and no names, so a model would load and run as if it had none (Isensee 2018's PEtab
conditions then fail; a delay model would run with the delay ignored; an export would bake nothing). Every walk of
SBML maths (model loading, drug terms, export, sensitivity ranges, population readouts) asks here first. mekisim
never imports libsedml itself (its export checks SED-ML in a child process).
"""

from __future__ import annotations

from types import ModuleType

from ..errors import ModelLoadError

__all__ = ["checked_libsbml"]


def checked_libsbml(source: str) -> ModuleType:
    """python-libsbml, after checking that its wrappers are its own.

    Parameters
    ----------
    source
        What is being read (a file name, "the model for export", ...), named in the error.

    Returns
    -------
    module
        The ``libsbml`` module.

    Raises
    ------
    ModelLoadError
        Another module's copy of libsbml (libsedml's) has taken over python-libsbml's wrappers in this process.
    """
    import libsbml

    probe = libsbml.parseL3Formula("time")
    if type(probe) is libsbml.ASTNode and probe.getType() == libsbml.AST_NAME_TIME:
        return libsbml
    raise ModelLoadError(
        f"cannot read {source} in this Python process: module {type(probe).__module__!r} (libsedml, which tellurium "
        "imports, does this) has replaced python-libsbml's wrappers with those of its own copy of libsbml, and "
        "mekisim would not see the model's time switches or delay(). Run mekisim in a process that does not import "
        "tellurium or libsedml (a separate notebook kernel or script), or load the models before importing them.")
