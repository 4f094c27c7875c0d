import pytest

from simulator.errors import InputError
from simulator.units import parse_amount, parse_time, parse_time_span


@pytest.mark.parametrize("text,nm", [("10", 10.0), ("10nM", 10.0), ("1uM", 1000.0), ("0.5 µM", 500.0),
                                     ("0.5 μM", 500.0), ("250pM", 0.25), ("1e-3 mM", 1000.0), (3, 3.0)])
def test_amounts(text, nm):
    assert parse_amount(text) == pytest.approx(nm)


@pytest.mark.parametrize("text,match", [("-1nM", "negative"), ("ten", "not a number"), ("5 furlongs", "unknown unit"),
                                        ("nan", "not a number"), (float("inf"), "not finite")])
def test_bad_amounts(text, match):
    with pytest.raises(InputError, match=match):
        parse_amount(text)


def test_times_convert_to_model_units():
    assert parse_time("24h", model_unit="min") == pytest.approx(1440.0)
    assert parse_time("90", model_unit="min") == pytest.approx(90.0)
    assert parse_time("2d", model_unit="h") == pytest.approx(48.0)
    assert parse_time_span("0:24h:50", model_unit="min") == (0.0, 1440.0, 50)
    with pytest.raises(InputError, match="does not declare"):
        parse_time("1h", model_unit=None)
    for bad in ("0:10", "10:0:5", "0:10:1", "0:10:x"):
        with pytest.raises(InputError):
            parse_time_span(bad, model_unit="min")
