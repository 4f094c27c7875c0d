"""Parse drug amounts and time spans written with units.

Drug amounts are nM everywhere inside mekisim; a bare number is nM (architecture.md, CLI contract).
Times are converted to the model's own time unit.
"""

from __future__ import annotations

import math
import re

from .errors import InputError

__all__ = ["AMOUNT_UNITS", "MAX_DOSE_NM", "MAX_TIME_POINTS", "TIME_UNITS", "parse_amount", "parse_time",
           "parse_time_span", "time_column_name"]

#: highest amount accepted (nM): 1 M. A bigger number is a unit mistake (1e30 nM ran, meaninglessly).
MAX_DOSE_NM = 1e9
#: most output times of one time course: 10^6 points (one per second for 11 days) take 8 MB per column; 10^8
#: took 20 s to fail with a MemoryError
MAX_TIME_POINTS = 1_000_000

#: Concentration units accepted for doses, as factors to nM.
AMOUNT_UNITS: dict[str, float] = {
    "pm": 1e-3,
    "nm": 1.0,
    "um": 1e3,
    "µm": 1e3,
    "μm": 1e3,  # Greek mu as well as the micro sign
    "mm": 1e6,
    "m": 1e9,
}

#: Time units, as factors to seconds.
TIME_UNITS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
}

_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")


def _split(text: str, what: str, valid: str) -> tuple[float, str]:
    match = _NUMBER_UNIT.match(text)
    if match is None:
        raise InputError(f"{what} {text!r} is not a number with an optional unit; valid: {valid}.")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise InputError(f"{what} {text!r} is not finite; valid: {valid}.")
    return value, (match.group(2) or "").strip().lower()


def parse_amount(text: str | float, *, what: str = "dose") -> float:
    """Return a drug amount in nM from ``"10nM"``, ``"1uM"``, ``"0.5 µM"`` or a bare number (nM).

    Parameters
    ----------
    text
        The amount, with or without a unit.
    what
        What the amount is, named in error messages (``"dose"``, ``"dose of trametinib"``).

    Returns
    -------
    float
        The amount in nM (>= 0).

    Raises
    ------
    InputError
        For a non-numeric or negative amount, or an unknown unit; the message lists the valid units.
    """
    valid = "a number >= 0 with an optional unit pM, nM, uM/µM, mM or M (bare numbers are nM)"
    if isinstance(text, int | float):
        value, unit = float(text), ""
        if not math.isfinite(value):
            raise InputError(f"{what} {text!r} is not finite; valid: {valid}.")
    else:
        value, unit = _split(text, what, valid)
    if unit and unit not in AMOUNT_UNITS:
        raise InputError(f"{what} {text!r} has an unknown unit {unit!r}; valid: {valid}.")
    if value < 0:
        raise InputError(f"{what} {text!r} is negative; valid: {valid}.")
    amount = value * AMOUNT_UNITS.get(unit, 1.0)
    if amount > MAX_DOSE_NM:
        raise InputError(f"{what} {text!r} is {amount:.3g} nM, above {MAX_DOSE_NM:g} nM (1 M), more than any drug "
                         "dissolves to; check the unit (bare numbers are nM: 10 uM is 10uM or 10000).")
    return amount


def parse_time(text: str, *, model_unit: str | None, what: str = "time") -> float:
    """Return a time in the model's unit from ``"90"`` (model units), ``"24h"``, ``"30 min"`` or ``"2d"``.

    ``model_unit`` is one of :data:`TIME_UNITS` or ``None`` when the model does not declare its unit; a
    time with a unit is then refused, because it could not be converted honestly.

    Parameters
    ----------
    text
        The time, with or without a unit.
    model_unit
        The model's declared time unit, or ``None``.
    what
        What the time is, named in error messages.

    Returns
    -------
    float
        The time in the model's unit.
    """
    valid = f"a number in model time units ({model_unit or 'undeclared'}) or with a unit s, min, h or d"
    value, unit = _split(text, what, valid)
    if not unit:
        return value
    if unit not in TIME_UNITS:
        raise InputError(f"{what} {text!r} has an unknown unit {unit!r}; valid: {valid}.")
    if model_unit is None:
        raise InputError(
            f"{what} {text!r} has a unit but the model does not declare its time unit; "
            "give the time as a bare number in the model's own unit."
        )
    return value * TIME_UNITS[unit] / TIME_UNITS[model_unit]


def parse_time_span(text: str, *, model_unit: str | None) -> tuple[float, float, int]:
    """Parse ``T0:T1:N`` (e.g. ``0:24h:50``) into start, end (model units) and a number of points >= 2.

    Parameters
    ----------
    text
        ``T0:T1:N``; the times may carry units (see :func:`parse_time`).
    model_unit
        The model's declared time unit, or ``None``.

    Returns
    -------
    tuple[float, float, int]
        Start and end time in model units (start < end) and the number of output points.
    """
    parts = text.split(":")
    if len(parts) != 3:
        raise InputError(f"time span {text!r} is not T0:T1:N; valid example: 0:24h:50 or 0:1440:50.")
    t0 = parse_time(parts[0], model_unit=model_unit, what="start time")
    t1 = parse_time(parts[1], model_unit=model_unit, what="end time")
    try:
        n = int(parts[2])
    except ValueError:
        raise InputError(f"number of time points {parts[2]!r} in {text!r} is not an integer >= 2.") from None
    if n < 2:
        raise InputError(f"number of time points in {text!r} is {n}; it must be >= 2.")
    if n > MAX_TIME_POINTS:
        raise InputError(f"{n:,} time points in {text!r} exceed the limit of {MAX_TIME_POINTS:,} "
                         f"({n * 8 / 1e9:.2g} GB per column as float64, several copies per run); "
                         "use fewer points: a time course is smooth between them.")
    if not t1 > t0 >= 0:
        raise InputError(f"time span {text!r} needs 0 <= T0 < T1.")
    return t0, t1, n


def time_column_name(unit: str | None) -> str:
    """The name of a table's time column: ``time_<unit>`` (``time_min``, ``time_h``).

    ``time_model_units`` for a model that declares no time unit. Every mekisim table names its time column so.
    """
    return f"time_{unit}" if unit else "time_model_units"
