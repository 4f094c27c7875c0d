"""The package is typed for its users (issue 16 item 8): the PEP 561 marker ships with it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import simulator

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_ships_the_pep561_marker_in_its_wheel():
    package = Path(simulator.__file__).parent
    assert (package / "py.typed").is_file()
    # hatch puts every file of the listed packages into the wheel, py.typed included (checked by building one:
    # `pip wheel --no-deps .` lists simulator/py.typed); nothing excludes it
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["simulator"] and "exclude" not in wheel


def test_make_lint_type_checks_the_package():
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/mypy" in lint
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["files"] == ["simulator"]
