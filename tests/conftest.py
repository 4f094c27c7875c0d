"""Shared fixtures and tolerances (stated once, here)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import simulator as ms
from simulator.engine import CACHE_ENV_VAR

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BENCHMARKS = SHARED / "benchmarks"

#: tolerance for "this state is the parental reference" (observables normalised to 1)
REFERENCE_RTOL = 1e-6

_CACHE_BEFORE = os.environ.get(CACHE_ENV_VAR)


def pytest_configure(config):
    """Compiled models go to a folder of this run, never the user's cache; pool workers inherit it."""
    config._mekisim_cache = tempfile.mkdtemp(prefix="mekisim-compiled-")
    os.environ[CACHE_ENV_VAR] = config._mekisim_cache


def pytest_unconfigure(config):
    if _CACHE_BEFORE is None:
        os.environ.pop(CACHE_ENV_VAR, None)
    else:
        os.environ[CACHE_ENV_VAR] = _CACHE_BEFORE
    shutil.rmtree(getattr(config, "_mekisim_cache", ""), ignore_errors=True)


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
