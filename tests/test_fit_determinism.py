"""The same objective at the same point gives the same bits whatever the process did before.

Why bits: a fit's optimiser path amplifies a 1e-16 difference into another local optimum (Fiedler 2016, benchmark
start 8: -58.58 alone, -49.5 after the PEtab test files had run in the same process). The cause was sympy's
``lambdify(dummify=True)``: its argument names came from a process-wide counter of ``Dummy`` symbols, and the
generated code multiplied in an order that depended on them (``simulator._lambdify``).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import sympy

from simulator._lambdify import lambdify
from simulator.fit import latin_hypercube_starts, load_petab, make_objective

FIEDLER = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "petab" / "Fiedler_BMCSystBiol2016"


def _other_sympy_work_before() -> None:
    """Move sympy's count of Dummy symbols to the next power of ten, as much earlier sympy work would.

    The generated names then have one more digit than before: with ``dummify`` that reordered the factors of
    products in the generated code (measured: Fiedler's exact Jacobian changed in its last bits every time).
    """
    sympy.Dummy._count = 10 ** len(str(sympy.Dummy._count))  # forward only: no index is used twice


def _fiedler_at_benchmark_start() -> tuple[np.ndarray, np.ndarray]:
    """Residuals and exact Jacobian of Fiedler at start 8 of the benchmark's hypercube, from a fresh load."""
    objective = make_objective(load_petab(FIEDLER / "Fiedler_BMCSystBiol2016.yaml"), gradient="exact")
    x = latin_hypercube_starts(objective.lower, objective.upper, 10, seed=0)[8]
    return objective.residuals(x), objective.jacobian(x)


def test_fiedler_residuals_and_exact_jacobian_are_bit_identical_after_other_sympy_work():
    res, jac = _fiedler_at_benchmark_start()
    assert np.isfinite(res).all() and np.abs(jac).max() > 1.0  # a real point, not a failed solve
    _other_sympy_work_before()
    res_again, jac_again = _fiedler_at_benchmark_start()
    assert np.array_equal(res, res_again)
    assert np.array_equal(jac, jac_again)


def test_lambdified_code_does_not_depend_on_the_dummy_count():
    symbols = sympy.symbols("a0:12")
    expr = sympy.Mul(*symbols) + sympy.Add(*(s**2 for s in symbols)) / symbols[3]
    first = lambdify(symbols, expr, modules="numpy")
    _other_sympy_work_before()
    second = lambdify(symbols, expr, modules="numpy")
    assert inspect.getsource(first) == inspect.getsource(second)
    values = np.random.default_rng(0).uniform(0.1, 3.0, (len(symbols), 50))
    assert np.array_equal(first(*values), second(*values))
