"""One status vocabulary for every record, and one issue record for every linter.

A record's ``status`` says what happened (``ok``, ``failed``, ``oscillating``...) and is one of :class:`Status`;
*why* is always in a separate ``message``. :class:`Status` members are strings (``Status.OK == "ok"``), so tables
and manifests hold the plain words. A problem found in an input file is an :class:`Issue`, whichever checker
found it (``mekisim validate``, the blot reader, PEtab's linter).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = ["Issue", "Level", "Status"]

#: how serious an :class:`Issue` is
Level = Literal["error", "warning", "note"]


class Status(StrEnum):
    """What happened to one record (a steady state, a time course, a well, a fit, a sensitivity row).

    Only :attr:`OK` means "use the numbers as they are"; every other status comes with a message saying why.
    """

    #: computed and verified
    OK = "ok"
    #: a solve, an integration or an optimiser failed; the values are NaN
    FAILED = "failed"
    #: no steady state: a sustained oscillation (period, range and cycle average are reported instead)
    OSCILLATING = "oscillating"
    #: a time course asked to start from the untreated steady state, which does not exist: the values are those
    #: of a run from the initial conditions, not the protocol asked for
    NOT_PRE_EQUILIBRATED = "not_pre_equilibrated"
    #: a fit's start stopped by its budget (wall time or ODE solves): the values are its best point so far
    BUDGET = "budget"
    #: a fit's end point whose objective a fresh solver did not reproduce: flagged, not ranked
    NOT_REPRODUCED = "not_reproduced"
    #: simulated fine, but the output is not defined there (a fit unusable, a response never crossing 50 %)
    UNDEFINED = "undefined"
    #: an IC50 fitted outside the tested doses (a 4PL fit): a number, flagged as an extrapolation
    EXTRAPOLATED = "extrapolated"
    #: no IC50 can be stated (a 4PL fit): the response never crosses half-way, or the fit is flat
    NOT_REACHED = "not_reached"
    #: a median-effect fit with fewer than 2 points inside 0.02 < fa < 0.98
    TOO_FEW_POINTS = "too_few_points"
    #: a median-effect fit on a single dose
    DEGENERATE = "degenerate"
    #: a median-effect fit with slope m <= 0
    NON_INCREASING = "non_increasing"


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file, by whichever checker found it.

    Attributes
    ----------
    file
        The file (as given).
    level
        ``"error"`` (the file cannot be used), ``"warning"`` (it can, but probably not as meant) or ``"note"``
        (a check that passed and is worth saying, e.g. a PEtab problem's self-check against its shipped table).
    message
        What is wrong, in the user's terms.
    row, column
        Where, when the checker knows: a 1-based line number of a table file and a column name.
    valid
        What would be valid there, when the checker knows.
    """

    file: str
    level: Level
    message: str
    row: int | None = None
    column: str | None = None
    valid: str | None = None

    @property
    def where(self) -> str:
        """``file``, ``file:row`` or ``file:row:column``."""
        return ":".join(str(x) for x in (self.file, self.row, self.column) if x is not None)

    @property
    def text(self) -> str:
        """The message with what would be valid (``what; valid: ...``), without the place."""
        return self.message if self.valid is None else f"{self.message}; valid: {self.valid}"

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.text}"
