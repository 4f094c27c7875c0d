"""The ``mekisim`` command line (``main(argv) -> exit code``, so it runs in-process in tests and notebooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "main": "_main",
    "build_parser": "_parser",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._main import main as main
    from ._parser import build_parser as build_parser
