"""One status vocabulary for every record, and one issue record for every linter.

A record's ``status`` says what happened (``ok``, ``failed``, ``oscillating``...) and is one of :class:`Status`;
*why* is always in a separate ``message``. :class:`Status` members are strings (``Status.OK == "ok"``), so tables
and manifests hold the plain words. A problem found in an input file is an :class:`Issue`, whichever checker
found it (``mekisim validate``, the blot reader, PEtab's linter).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status"]


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
