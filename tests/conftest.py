"""Shared fixtures and tolerances (stated once, here)."""

from __future__ import annotations

from pathlib import Path

import pytest

import simulator as ms

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BENCHMARKS = SHARED / "benchmarks"

#: tolerance for "this state is the parental reference" (observables normalised to 1)
REFERENCE_RTOL = 1e-6


@pytest.fixture(scope="session")
def mpnst() -> ms.CompiledModel:
    return ms.load_model("mpnst")


@pytest.fixture(scope="session")
def drugs():
    return ms.load_drugs()


@pytest.fixture(scope="session")
def lines():
    return ms.load_cell_lines()


@pytest.fixture(scope="session")
def condition(mpnst, drugs, lines):
    """make_condition for Model A with the catalogue loaded once."""

    def make(line="S462", doses=None, values=None):
        return ms.make_condition(mpnst, line, doses or {}, values=values, catalog=drugs, lines=lines)

    return make
