"""Dose–response series of one drug in one cell line, with a 4-parameter logistic fit.

The fit follows the source paper's analysis (GraphPad Prism "[inhibitor] vs. normalized response –
Variable slope"): responses are expressed as % of the untreated control, with top 100 and bottom 0 fixed.
Readouts that are not "% remaining" (apoptosis, G0/G1 fraction) get a free 4-parameter fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine import SolverOptions
from ..errors import InputError
from ..model import DEFAULTS_LABEL, CompiledModel, load_cell_lines, load_drugs, make_condition
from ..status import Status
from ._compute import compute_readouts
from ._logistic import LogisticFit, fit_logistic
from ._readout import READOUTS, Readout, readouts_for, unknown_readout_message


def percent_remaining(readout: str | Readout, values: np.ndarray) -> tuple[np.ndarray, bool, str]:
    """The response to fit, whether it is normalised (% of control), and its axis label.

    A readout with a fraction-affected form (:attr:`Readout.effect`) is fitted as % remaining = 100*(1 - fa)
    with top 100 and bottom 0 fixed (the paper's Prism model); any other readout gets a free 4-parameter fit.
    """
    values = np.asarray(values, dtype=float)
    if isinstance(readout, str):
        if readout not in READOUTS:
            raise InputError(f"unknown readout {readout!r}; valid: {', '.join(READOUTS)}.")
        readout = READOUTS[readout]
    if readout.level is not None:
        return 100.0 * values, True, f"{readout.level} (% of untreated)"
    if readout.id == "viability":
        return values, True, "viability at 72 h (% of DMSO)"
    if readout.id == "perk_suppression":
        return 100.0 * (1.0 - values), True, "p-ERK (% of untreated)"
    if readout.effect is not None:
        return 100.0 * (1.0 - readout.fraction_affected(values)), True, f"{readout.label}: % remaining"
    label = {"apoptosis": "Annexin-V+ fraction at 24 h", "g0g1": "G0/G1 fraction at 24 h"}.get(
        readout.id, f"{readout.label} ({readout.unit})")
    return values, False, label


@dataclass(frozen=True)
class DoseResponse:
    """A simulated dose series and its logistic fit."""

    model: CompiledModel = field(repr=False)
    cell_line: str | None
    drug: str
    readout: str
    doses: np.ndarray
    values: np.ndarray
    response: np.ndarray
    response_label: str
    statuses: tuple[str, ...]
    fit: LogisticFit
    background: Mapping[str, float] = field(default_factory=dict)
    messages: tuple[str, ...] = ()
    readout_info: Readout | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per dose: dose (nM), readout value and its unit, the fitted response and its label, status."""
        return pd.DataFrame({
            "cell_line": self.cell_line or DEFAULTS_LABEL, "drug": self.drug, "dose_nM": self.doses,
            "readout": self.readout, "value": self.values,
            "unit": self.readout_info.unit if self.readout_info is not None else "",
            "response": self.response, "response_quantity": self.response_label, "status": list(self.statuses),
            "message": list(self.messages) if self.messages else "",
        })

    def fit_frame(self) -> pd.DataFrame:
        """The fitted parameters as one row."""
        f = self.fit
        return pd.DataFrame([{
            "cell_line": self.cell_line or DEFAULTS_LABEL, "drug": self.drug, "readout": self.readout, "top": f.top,
            "bottom": f.bottom, "ic50_nM": f.ic50, "ic50_ci95_low_nM": f.ic50_ci95[0],
            "ic50_ci95_high_nM": f.ic50_ci95[1], "hill": f.hill, "r2": f.r2, "n": f.n, "status": f.status,
            "message": f.message,
        }])


def dose_response(
    model: CompiledModel,
    cell_line: str | None,
    drug: str,
    doses: Sequence[float],
    *,
    readout: str = "viability",
    background: Mapping[str, float | str] | None = None,
    values: Mapping[str, float] | None = None,
    mode: str = "fast",
    options: SolverOptions | None = None,
) -> DoseResponse:
    """Simulate ``readout`` over ``doses`` (nM; include 0 for the control) and fit a logistic curve.

    ``cell_line`` ``None`` means the model's own parameter values (a model without cell lines). ``readout`` is
    a readout of the model or a level readout (an observable or species id, or ``species:X``:
    :func:`simulator.readouts.level_readout`).
    """
    available = readouts_for(model, (readout,))
    if readout not in available:
        raise InputError(unknown_readout_message(model, [readout]))
    doses = np.asarray(doses, dtype=float)
    if doses.ndim != 1 or doses.size < 2 or not np.all(np.isfinite(doses)) or np.any(doses < 0):
        raise InputError(f"doses of {drug!r} must be at least 2 finite numbers >= 0 (nM), got {doses.tolist()}.")
    if not np.any(doses == 0):
        raise InputError(f"doses of {drug!r} must include 0 (the untreated control), got {doses.tolist()}.")
    background = dict(background or {})
    if drug in background:
        raise InputError(f"{drug!r} is both the varied drug and a background dose; give it once.")
    drugs, lines = load_drugs(), load_cell_lines()
    conditions = [
        make_condition(model, cell_line, {**background, drug: d}, values=values, catalog=drugs, lines=lines)
        for d in doses
    ]
    records = compute_readouts(model, conditions, mode=mode, readouts=(readout,), options=options)
    raw = np.array([r.values.get(readout, np.nan) for r in records], dtype=float)
    statuses = tuple(r.status for r in records)
    response, normalized, label = percent_remaining(available[readout], raw)
    if any("oscillates" in r.message for r in records if r.ok):
        label = label.replace(")", "; cycle-averaged where it oscillates)") if label.endswith(")") else label
    ok = np.array([s == Status.OK for s in statuses]) & np.isfinite(response)
    fit = fit_logistic(doses[ok], response[ok], normalized=normalized)
    fixed = {k: v for k, v in conditions[0].doses.items() if k != drug}
    return DoseResponse(model, cell_line, drug, readout, doses, raw, response, label, statuses, fit, fixed,
                        tuple(r.message for r in records), available[readout])
