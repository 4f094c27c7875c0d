"""One status vocabulary and one issue record (issue 16 item 6).

Every record's ``status`` is a :class:`simulator.Status` (a plain word in tables) and *why* is in its ``message``;
every checker (``validate``, the blot reader, PEtab's linter) reports :class:`simulator.Issue` values.
"""

from __future__ import annotations

import numpy as np
import pytest

import simulator as ms
from simulator.fit import BlotDataError
from tests.conftest import BENCHMARKS
from tests.test_fit import write_linear_toy

STATUSES = {str(s) for s in ms.Status}


def _is_status(value) -> bool:
    """A member of the vocabulary, with no reason packed into it."""
    return isinstance(value, ms.Status) or (isinstance(value, str) and value in STATUSES)


def test_synergy_fits_keep_the_reason_apart_from_the_status():
    d = np.array([0.0, 1.0, 10.0])
    hill = ms.fit_hill_many(d, np.array([[0.0, 0.4, 0.8]]))[0]
    assert hill.status == ms.Status.FAILED and hill.message == "3 points for 4 parameters"
    a, b = np.array([0, 1, 2, 10, 30.0]), np.array([0, 10, 30, 100, 1000.0])  # no constant-ratio diagonal
    fa = np.clip(np.add.outer(a / 40, b / 1200), 0, 0.95)
    result = ms.synergy_scores(a, b, fa)
    cr = result.constant_ratio
    assert cr.status == ms.Status.UNDEFINED and cr.message.startswith("no constant-ratio diagonal")
    table = cr.to_frame()
    assert set(table["status"]) == {"undefined"} and table["message"].str.startswith("no constant").all()
    for fit in (result.median_a, result.median_b, result.hill_a, result.hill_b):
        assert _is_status(fit.status)


def test_engine_and_dose_response_records_use_the_vocabulary():
    oscillator = ms.load_sbml(BENCHMARKS / "biomodels" / "BIOMD0000000010.xml")
    steady = ms.steady_state(oscillator, select=["MAPK_PP"], throw=False)
    course = ms.time_course(oscillator, [0.0, 10.0], select=["MAPK_PP"], throw=False)
    assert (steady.status, course.status) == (ms.Status.OSCILLATING, ms.Status.NOT_PRE_EQUILIBRATED)
    fit = ms.fit_logistic([1.0, 10.0], [90.0, 20.0])
    assert fit.status == ms.Status.FAILED and fit.message
    for status in (steady.status, course.status, fit.status):
        assert _is_status(status)


def test_fit_starts_and_profile_points_use_the_vocabulary(tmp_path):
    yaml_path, _ = write_linear_toy(tmp_path)
    result = ms.fit_petab(yaml_path, starts=2, seed=0)
    assert all(_is_status(s.status) for s in result.starts)
    (profile,), errors = ms.profile_parameters(result, ["k"])
    assert errors == ()
    assert all(_is_status(s) for s in profile.status)
    frame = profile.to_frame()
    assert set(frame["status"]) == {"ok"}
    assert list(frame.loc[frame["message"] != "", "message"]) == [ms.BEST_FIT]  # the fit's own point


def test_every_checker_reports_issues(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("cell_line,condition,time,observable,mean,sem,n\nS462,basal,0,pERK,1,0.1,3\n"
                   "S462,basal,0,pMEK,x,0.1,3\n")
    with pytest.raises(BlotDataError) as exc_info:
        ms.read_blot_data(bad)
    (problem,) = exc_info.value.problems
    assert isinstance(problem, ms.Issue)
    assert (problem.row, problem.column, problem.level) == (3, "mean", "error")
    assert f"{bad}:3:mean: 'x' is not a number; valid: a number >= 0" in str(exc_info.value)
    broken = tmp_path / "p.yaml"
    broken.write_text("format_version: 1\n")
    petab = ms.lint_petab(broken)
    assert petab and all(isinstance(i, ms.Issue) and i.file == str(broken) for i in petab)
    issues = ms.validate_files([bad, broken, tmp_path / "gone.ant"])
    assert all(isinstance(i, ms.Issue) for i in issues)
    assert [i.where for i in issues][:1] == [f"{bad}:3:mean"]
    assert str(issues[0]) == f"{bad}:3:mean: error: 'x' is not a number; valid: a number >= 0"
    assert any(i.message.startswith("PEtab: ") for i in issues)
    assert str(issues[-1]) == f"{tmp_path / 'gone.ant'}: error: file does not exist or is not a file."
