"""Lazy public surfaces: a package's names are imported from their private module on first use (PEP 562).

Why: ``import simulator`` (and ``import simulator.fit``) must stay cheap, because every process-pool worker
imports the package before it can unpickle its task, and a user who only simulates should not pay for petab
(~2 s), SALib or matplotlib. Each ``__init__`` declares its public names once, name -> private module, and
repeats them under ``if TYPE_CHECKING`` for type checkers and IDEs (``tests/test_public_api.py`` checks that the
two lists agree).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` of a package whose public names live in its submodules.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Public name -> the submodule (relative to ``package``, e.g. ``"_spec"`` or ``"screen"``) that defines it.

    Returns
    -------
    tuple
        The module-level ``__getattr__`` (imports the submodule behind a name, or a submodule itself, on first
        access and caches the value in the package), ``__dir__`` and the sorted ``__all__``.
    """
    module_globals = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            try:
                return importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f".{module}", package), name)
        module_globals[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*module_globals, *exports})

    return __getattr__, __dir__, sorted(exports)
