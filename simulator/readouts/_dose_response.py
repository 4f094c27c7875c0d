"""Dose–response series of one drug in one cell line, with a 4-parameter logistic fit.

One convention, shared with a screen's single-agent fits (:func:`fit_dose_response`): responses are expressed
as % of the untreated control where the readout is a fraction of it, and fitted by the 4PL with top and bottom
free (:data:`~simulator.readouts.MODEL_FREE`), which follows a plateau the cells keep (R1's ~16 % at 72 h). The
fit reports the relative EC50 (half-way between its plateaus) and, for % of untreated, the absolute IC50 (50 %
of untreated), or "> top dose" when the drug never gets there. ``curve="normalized"`` fits the source paper's
model instead (GraphPad Prism "[inhibitor] vs. normalized response – Variable slope": top 100 and bottom 0
fixed; Front. Oncol. 2022, doi:10.3389/fonc.2022.910505, Methods), named so in every table and legend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..engine import SolverOptions
from ..errors import InputError
from ..model import DEFAULTS_LABEL, CompiledModel, load_cell_lines, load_drugs, make_condition
from ..status import Status
from ._compute import compute_readouts
from ._logistic import LogisticFit, fit_logistic
from ._readout import READOUTS, Readout, readouts_for, unknown_readout_message


def percent_remaining(readout: str | Readout, values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, bool, str]:
    """The response to fit, whether it is in % of untreated (so it has an absolute IC50), and its axis label.

    A readout with a fraction-affected form (:attr:`Readout.effect`) is fitted as % remaining = 100*(1 - fa);
    any other readout (an apoptotic fraction, a G0/G1 fraction) as it is, without an absolute IC50.

    Parameters
    ----------
    readout
        A :class:`Readout` or a built-in readout id.
    values
        Readout values, one per dose.

    Returns
    -------
    tuple[numpy.ndarray, bool, str]
        The response to fit, whether it is % of untreated (so it has an absolute IC50), and its axis label.
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
    #: the ``values`` (``--set``) and switches turned off that every dose ran with (before pre-equilibration)
    parameter_values: Mapping[str, float] = field(default_factory=dict)
    switched_off: tuple[str, ...] = ()

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
        """The fitted parameters as one row (:func:`fit_row`)."""
        return pd.DataFrame([fit_row(self.fit, cell_line=self.cell_line or DEFAULTS_LABEL, drug=self.drug,
                                     readout=self.readout)])


#: columns of a fit row (:func:`fit_row`): the model, the absolute IC50 (number and text), the relative EC50 with
#: its 95 % CI, the plateaus and slope, and the fit's quality
FIT_COLUMNS = ("model", "ic50_abs_nM", "ic50_abs", "ec50_rel_nM", "ec50_rel_ci95_low_nM", "ec50_rel_ci95_high_nM",
               "top", "bottom", "hill", "r2", "n", "status", "message")


def fit_row(fit: LogisticFit, **keys: object) -> dict:
    """One table row of a dose-response fit: ``keys`` (cell line, drug, readout...) then :data:`FIT_COLUMNS`.

    The absolute IC50 (50 % of untreated) and the relative EC50 (half-way between the fitted plateaus) are
    separate columns; ``ic50_abs`` is the absolute IC50 as text ("> 100 (top dose)" when it is not reached).
    """
    return {**keys, "model": fit.model, "ic50_abs_nM": fit.ic50_abs, "ic50_abs": fit.ic50_abs_text,
            "ec50_rel_nM": fit.ec50_rel, "ec50_rel_ci95_low_nM": fit.ic50_ci95[0],
            "ec50_rel_ci95_high_nM": fit.ic50_ci95[1], "top": fit.top, "bottom": fit.bottom, "hill": fit.hill,
            "r2": fit.r2, "n": fit.n, "status": fit.status, "message": fit.message}


#: the dose-response curves :func:`fit_dose_response` fits
CURVES = ("free", "normalized")


def fit_dose_response(readout: str | Readout, doses: Sequence[float] | np.ndarray,
                      values: Sequence[float] | np.ndarray, *, curve: str = "free") -> tuple[LogisticFit, np.ndarray,
                                                                                           str]:
    """The one dose-response fit of mekisim: ``mekisim dose-response`` and a screen's single agents both use it.

    Parameters
    ----------
    readout
        The readout (a :class:`Readout`, or a built-in readout's id).
    doses, values
        Doses (nM, 0 for the untreated control) and the readout's values there (missing values: drop first).
    curve
        ``"free"``: 4PL with top and bottom free (default); ``"normalized"``: top 100 and bottom 0 fixed (Prism's
        normalized response), only for a readout in % of untreated.

    Returns
    -------
    tuple
        The fit (relative EC50, absolute IC50 at 50 % of untreated when the response is a % of it, the model's
        name), the response fitted (per dose) and its axis label.
    """
    if curve not in CURVES:
        raise InputError(f"curve {curve!r}; valid: {', '.join(CURVES)}.")
    response, relative, label = percent_remaining(readout, values)
    if curve == "normalized" and not relative:
        name = readout if isinstance(readout, str) else readout.id
        raise InputError(f"readout {name!r} is not a fraction of untreated, so top 100 and bottom 0 cannot be "
                         "fixed; use the free 4PL (curve 'free').")
    fit = fit_logistic(doses, response, normalized=curve == "normalized",
                       absolute_level=50.0 if relative else None)
    return fit, response, label


def dose_response(
    model: CompiledModel,
    cell_line: str | None,
    drug: str,
    doses: ArrayLike,
    *,
    readout: str = "viability",
    background: Mapping[str, float | str] | None = None,
    values: Mapping[str, float] | None = None,
    switch_off: Sequence[str] = (),
    mode: str = "fast",
    options: SolverOptions | None = None,
    curve: str = "free",
) -> DoseResponse:
    """Simulate ``readout`` over ``doses`` (nM; include 0 for the control) and fit a logistic curve.

    ``cell_line`` ``None`` means the model's own parameter values (a model without cell lines). ``readout`` is
    a readout of the model or a level readout (an observable or species id, or ``species:X``:
    :func:`simulator.readouts.level_readout`).

    Parameters
    ----------
    model
        The compiled model.
    cell_line
        A cell line of the model, or ``None``.
    drug
        The drug whose dose varies.
    doses
        Doses in nM (>= 0).
    readout
        Readout id (default ``viability``).
    background
        Other drugs held at a fixed dose (id -> nM or a string with a unit).
    values
        Parameter values applied over the cell line's (e.g. a fitted vector), to every dose, treated and
        untreated, so before pre-equilibration (:func:`simulator.model.make_condition`).
    switch_off
        Names of the model's switches to turn off, applied like ``values``.
    mode
        ``"fast"`` or ``"full"`` (see :func:`compute_readouts`).
    options
        Solver settings passed to the engine.
    curve
        The model fitted (:func:`fit_dose_response`): ``"free"`` 4PL or ``"normalized"`` (top 100, bottom 0).

    Returns
    -------
    DoseResponse
        Per dose the readout and status, and the fitted curve (or why it could not be fitted).
    """
    if curve not in CURVES:
        raise InputError(f"curve {curve!r}; valid: {', '.join(CURVES)}.")
    available = readouts_for(model, (readout,))
    if readout not in available:
        raise InputError(unknown_readout_message(model, [readout]))
    dose_nm = np.asarray(doses, dtype=float)
    if dose_nm.ndim != 1 or dose_nm.size < 2 or not np.all(np.isfinite(dose_nm)) or np.any(dose_nm < 0):
        raise InputError(f"doses of {drug!r} must be at least 2 finite numbers >= 0 (nM), got {dose_nm.tolist()}.")
    if not np.any(dose_nm == 0):
        raise InputError(f"doses of {drug!r} must include 0 (the untreated control), got {dose_nm.tolist()}.")
    background = dict(background or {})
    if drug in background:
        raise InputError(f"{drug!r} is both the varied drug and a background dose; give it once.")
    drugs, lines = load_drugs(), load_cell_lines()
    conditions = [
        make_condition(model, cell_line, {**background, drug: d}, values=values, switch_off=switch_off,
                       catalog=drugs, lines=lines)
        for d in dose_nm
    ]
    records = compute_readouts(model, conditions, mode=mode, readouts=(readout,), options=options)
    raw = np.array([r.values.get(readout, np.nan) for r in records], dtype=float)
    statuses = tuple(r.status for r in records)
    response, _, label = percent_remaining(available[readout], raw)
    if any("oscillates" in r.message for r in records if r.ok):
        label = label.replace(")", "; cycle-averaged where it oscillates)") if label.endswith(")") else label
    ok = np.array([s == Status.OK for s in statuses]) & np.isfinite(response)
    fit = fit_dose_response(available[readout], dose_nm[ok], raw[ok], curve=curve)[0]
    fixed = {k: v for k, v in conditions[0].doses.items() if k != drug}
    return DoseResponse(model, cell_line, drug, readout, dose_nm, raw, response, label, statuses, fit, fixed,
                        tuple(r.message for r in records), available[readout], dict(values or {}), tuple(switch_off))
