"""What the engine returns: solver settings and the frozen records of steady states, time courses and MCA."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..status import Status


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings. Defaults: CVODE (BDF) at rtol 1e-6 / atol 1e-9 (architecture.md).

    Attributes
    ----------
    rtol, atol
        CVODE relative and absolute tolerances.
    max_steps
        CVODE's maximum number of internal steps per output interval.
    steady_state_tol
        A steady state is accepted when every |dx/dt| <= steady_state_tol * max(1, max|x|) (per model
        time unit).
    presimulation_times
        Horizons (model time units) tried in turn when Newton fails: simulate to the next horizon, then
        retry Newton. ``None`` picks 10^k model time units for k = 0..7.
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps: int = 100_000
    steady_state_tol: float = 1e-8
    presimulation_times: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "steady_state_tol"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise InputError(f"SolverOptions.{name} must be a finite number > 0, not {value!r}.")
        if self.max_steps < 1:
            raise InputError(f"SolverOptions.max_steps must be >= 1, not {self.max_steps!r}.")

    def horizons(self) -> tuple[float, ...]:
        """Presimulation horizons in model time units."""
        return self.presimulation_times or tuple(10.0**k for k in range(8))


@dataclass(frozen=True)
class SteadyState:
    """The steady state of one condition (or why there is none).

    ``values`` holds the selected ids; it is NaN unless ``status == "ok"``. For ``"oscillating"``,
    ``period`` is the limit-cycle period (model time units), ``low``/``high`` the range of each
    selected id over the last cycle and ``mean`` its time-average over the last ``cycles`` whole periods
    (what a bulk assay of unsynchronised cells measures; :mod:`simulator.readouts` uses it for a level
    readout of an oscillating condition).
    """

    ids: tuple[str, ...]
    values: np.ndarray
    status: Status
    message: str = ""
    method: str = ""
    period: float | None = None
    low: np.ndarray | None = field(default=None, repr=False)
    high: np.ndarray | None = field(default=None, repr=False)
    mean: np.ndarray | None = field(default=None, repr=False)
    cycles: int = 0

    @property
    def ok(self) -> bool:
        """True when a verified steady state was found."""
        return self.status == Status.OK

    def __getitem__(self, key: str) -> float:
        return float(self.values[self.ids.index(key)])

    def as_dict(self) -> dict[str, float]:
        """Selected id -> value."""
        return dict(zip(self.ids, self.values.tolist(), strict=True))

    def to_frame(self):
        """One-row ``pandas.DataFrame``: ``time`` (0), ``status``, one column per selected id, ``message``."""
        import pandas as pd

        row = {"time": 0.0, "status": self.status, **self.as_dict(), "message": self.message}
        return pd.DataFrame([row])


@dataclass(frozen=True)
class Trajectory:
    """A time course: ``values[i, j]`` is id ``ids[j]`` at ``time[i]`` (model time units).

    ``pre_equilibrated`` is True when the run started from the untreated steady state; False when it
    started from the initial conditions (asked for, or because the untreated model has no steady state:
    the message then says why).
    """

    time: np.ndarray
    ids: tuple[str, ...]
    values: np.ndarray
    status: Status
    message: str = ""
    pre_equilibrated: bool = False

    @property
    def ok(self) -> bool:
        """True when the integration reached the last time point."""
        return self.status == Status.OK

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[:, self.ids.index(key)]

    def to_frame(self):
        """``pandas.DataFrame`` with ``time``, ``status``, one column per selected id and ``message``."""
        import pandas as pd

        frame = pd.DataFrame(self.values, columns=list(self.ids))
        frame.insert(0, "status", self.status)
        frame.insert(0, "time", self.time)
        frame["message"] = self.message
        return frame


@dataclass(frozen=True)
class ControlCoefficients:
    """Scaled control or response coefficients at the steady state of one condition (roadrunner's MCA).

    ``values[i, j]`` is d ln ``rows[i]`` / d ln ``columns[j]``. ``kind`` is ``"flux"`` (rows: reaction fluxes,
    columns: reaction rates), ``"concentration"`` (rows: floating species, columns: reaction rates) or
    ``"response"`` (rows: species or reaction fluxes, columns: parameters). NaN unless ``status == "ok"``.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    kind: str
    status: str
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the coefficients were computed at a verified steady state."""
        return self.status == Status.OK

    def __getitem__(self, key: tuple[str, str]) -> float:
        row, column = key
        return float(self.values[self.rows.index(row), self.columns.index(column)])

    def to_frame(self):
        """Long ``pandas.DataFrame``: ``row``, ``column``, ``value``, ``kind``, ``status``."""
        import pandas as pd

        grid_r, grid_c = np.meshgrid(self.rows, self.columns, indexing="ij")
        return pd.DataFrame({"row": grid_r.ravel(), "column": grid_c.ravel(), "value": self.values.ravel(),
                             "kind": self.kind, "status": self.status})
