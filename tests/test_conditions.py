"""Condition.with_doses: the per-well shortcut of a dose matrix must equal make_condition exactly."""

from __future__ import annotations

import math

import pytest

from simulator.errors import InputError


def test_with_doses_equals_make_condition(condition):
    base = condition("S462_R1", {"trametinib": 0.0, "src_inhibitor_1": 0.0}, values={"kF": 0.7})
    fast = base.with_doses({"trametinib": 3.0, "src_inhibitor_1": 1000.0})
    slow = condition("S462_R1", {"trametinib": 3.0, "src_inhibitor_1": 1000.0}, values={"kF": 0.7})
    assert dict(fast.values) == dict(slow.values)
    assert dict(fast.untreated) == dict(slow.untreated)
    assert dict(fast.doses) == dict(slow.doses) and fast.cell_line == slow.cell_line
    assert base.values["trametinib"] == 0.0  # the base is not changed


@pytest.mark.parametrize(("doses", "fragment"), [
    ({"gsk2256098": 1.0}, "not dosed in this condition"),
    ({"trametinib": -1.0}, "finite number >= 0"),
    ({"trametinib": math.nan}, "finite number >= 0"),
])
def test_with_doses_rejects_what_make_condition_would(condition, doses, fragment):
    base = condition("S462", {"trametinib": 0.0})
    with pytest.raises(InputError, match=fragment):
        base.with_doses(doses)
