"""sympy's ``lambdify`` with argument names fixed by position, so the same expression gives the same code every time.

Why: ``lambdify(..., dummify=True)`` renames the arguments to ``Dummy()`` symbols, numbered by a process-wide
counter (``_Dummy_34`` in a fresh process, ``_Dummy_51`` after any other formula was compiled), and the printer
orders the factors of a product and the terms of a sum by those names (``"_Dummy_100" < "_Dummy_99"``). The
generated code then multiplied in another order depending on what sympy had done before in the process, and the
last bits of the result moved: Fiedler 2016's initial sensitivities differed by 1e-16 after another PEtab problem
had been loaded, and a fit amplified that into another local optimum (-49.5 instead of -58.58). Here each argument
becomes ``_arg<k>`` (``k`` its position), the same names in every process whatever ran before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def lambdify(args: Sequence[Any], expr: Any, **kwargs: Any) -> Callable:
    """``sympy.lambdify(args, expr, **kwargs)`` over positionally named arguments (no ``dummify``).

    Parameters
    ----------
    args
        Symbols, or (nested) lists of symbols (the generated function unpacks them as sympy's does).
    expr
        A sympy expression or matrix; its free symbols should all be among ``args``.
    **kwargs
        Passed to :func:`sympy.lambdify` (``modules``, ``cse``); ``dummify`` is not accepted.

    Returns
    -------
    Callable
        The generated function, called with the same argument structure as ``args``.
    """
    import sympy

    if "dummify" in kwargs:
        raise TypeError("lambdify: the arguments are renamed by position; dummify is not accepted")
    names: dict[Any, sympy.Symbol] = {}

    def rename(arg: Any) -> Any:
        if isinstance(arg, (list, tuple)):
            return [rename(a) for a in arg]
        if arg not in names:
            names[arg] = sympy.Symbol(f"_arg{len(names)}")
        return names[arg]

    renamed = rename(list(args))
    expr = expr.xreplace(names) if hasattr(expr, "xreplace") else expr  # a plain number has no symbols
    return sympy.lambdify(renamed, expr, dummify=False, **kwargs)
