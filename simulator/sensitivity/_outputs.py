"""Outputs of interest of a sensitivity analysis: readouts, dose grids, observables, CI, IC50 shifts."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..model import CompiledModel, accepted_drugs, cell_lines_for, load_drugs
from ..readouts import LEVEL_PREFIX, MODES, READOUTS, Readout, readouts_for
from ..units import parse_amount, parse_time, parse_time_span

Doses = tuple[tuple[str, float], ...]


def _doses(doses: Mapping[str, float] | Doses) -> Doses:
    items = doses.items() if isinstance(doses, Mapping) else doses
    return tuple(sorted((str(k), float(v)) for k, v in items))


def _dose_text(doses: Doses) -> str:
    return " + ".join(f"{d} {v:g} nM" for d, v in doses if v > 0) or "untreated"


def _check_axis(doses: Sequence[float], what: str, *, zero_first: bool) -> tuple[float, ...]:
    out = tuple(float(d) for d in doses)
    if len(out) < 2 or any(not math.isfinite(d) or d < 0 for d in out) or np.any(np.diff(out) <= 0):
        raise InputError(f"{what} must be >= 2 finite doses >= 0 in increasing order, got {out}.")
    if zero_first and out[0] != 0:
        raise InputError(f"{what} must start with 0 (the single-agent row), got {out}.")
    if not zero_first and out[0] <= 0:
        raise InputError(f"{what} must be > 0 (a log-dose series), got {out}.")
    return out


def fraction_affected(readout: str | Readout, values: np.ndarray) -> np.ndarray:
    """Readout -> fraction affected by its :attr:`~simulator.readouts.Readout.effect` form.

    p-ERK suppression as it is, viability (%) as 1 - v/100, a model's declared readout as it declares.
    """
    if isinstance(readout, str):
        readout = READOUTS[readout]
    return readout.fraction_affected(values)


def _percent_remaining(readout: str | Readout, values: np.ndarray) -> np.ndarray:
    return 100.0 * (1.0 - fraction_affected(readout, values))


@dataclass(frozen=True)
class ReadoutAt:
    """A readout (:data:`simulator.readouts.READOUTS`) under one combination in one cell line; one column."""

    readout: str
    cell_line: str | None
    doses: Doses = ()
    mode: str = "fast"

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses", _doses(self.doses))
        if not self.readout:
            raise InputError("a readout output needs a readout id.")
        if self.mode not in MODES:
            raise InputError(f"readout mode {self.mode!r} is not one of {', '.join(MODES)}.")

    @property
    def label(self) -> str:
        """Short description (tables, plot titles)."""
        return f"{self.readout} | {self.cell_line or 'model defaults'} | {_dose_text(self.doses)}"

    def columns(self, model: CompiledModel) -> list[dict]:
        """One descriptor per output column."""
        r = readouts_for(model, (self.readout,))[self.readout]
        return [_column(self, self.readout, f"{r.label} ({r.unit})", self.cell_line)]

    def cell_lines(self) -> tuple[str | None, ...]:
        """The cell lines it is computed in."""
        return (self.cell_line,)

    def drugs(self) -> tuple[str, ...]:
        """The drugs it doses."""
        return tuple(d for d, _ in self.doses)

    def column_keys(self) -> list:
        """One key per output column."""
        return [0]


@dataclass(frozen=True)
class ReadoutGrid:
    """A readout over a two-drug dose grid (each axis starts at 0); one column per dose pair."""

    readout: str
    cell_line: str | None
    drug_a: str
    doses_a: tuple[float, ...]
    drug_b: str
    doses_b: tuple[float, ...]
    mode: str = "fast"

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses_a", _check_axis(self.doses_a, f"doses of {self.drug_a}", zero_first=True))
        object.__setattr__(self, "doses_b", _check_axis(self.doses_b, f"doses of {self.drug_b}", zero_first=True))
        if not self.readout:
            raise InputError("a readout output needs a readout id.")
        if self.mode not in MODES:
            raise InputError(f"readout mode {self.mode!r} is not one of {', '.join(MODES)}.")
        if self.drug_a == self.drug_b:
            raise InputError("a dose grid needs two different drugs.")

    @property
    def label(self) -> str:
        """Short description (tables, plot titles)."""
        return f"{self.readout} grid | {self.cell_line or 'model defaults'} | {self.drug_a} x {self.drug_b}"

    def pairs(self) -> list[tuple[float, float]]:
        """Dose pairs, row-major (drug A slow)."""
        return [(a, b) for a in self.doses_a for b in self.doses_b]

    def columns(self, model: CompiledModel) -> list[dict]:
        """One descriptor per dose pair."""
        r = readouts_for(model, (self.readout,))[self.readout]
        return [_column(self, self.readout, f"{r.label} ({r.unit})", self.cell_line, drug_a=self.drug_a,
                        dose_a_nM=a, drug_b=self.drug_b, dose_b_nM=b) for a, b in self.pairs()]

    def cell_lines(self) -> tuple[str | None, ...]:
        """The cell lines it is computed in."""
        return (self.cell_line,)

    def drugs(self) -> tuple[str, ...]:
        """The drugs it doses."""
        return (self.drug_a, self.drug_b)

    def column_keys(self) -> list:
        """One key per output column: the dose pairs."""
        return self.pairs()


@dataclass(frozen=True)
class ObservableAt:
    """An observable (or any readable id) at ``times`` after drug addition, or at steady state (``times=()``).

    Times are in model units; the run starts from the untreated steady state of the line (the engine's
    western-blot protocol), with the drug added at t = 0.
    """

    observable: str
    cell_line: str | None
    doses: Doses = ()
    times: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses", _doses(self.doses))
        times = tuple(float(t) for t in self.times)
        if any(not math.isfinite(t) or t < 0 for t in times) or np.any(np.diff(times) <= 0):
            raise InputError(f"times of {self.observable!r} must be finite, >= 0 and increasing, got {times}.")
        object.__setattr__(self, "times", times)

    @property
    def label(self) -> str:
        """Short description (tables, plot titles)."""
        when = "steady state" if not self.times else "time course"
        return f"{self.observable} ({when}) | {self.cell_line or 'model defaults'} | {_dose_text(self.doses)}"

    def columns(self, model: CompiledModel) -> list[dict]:
        """One descriptor per time (or one for the steady state)."""
        known = {o.id: o for o in model.observables}
        obs = known.get(self.observable)
        unit = f"{obs.label} ({obs.unit})" if obs is not None else self.observable
        if not self.times:
            return [_column(self, self.observable, unit, self.cell_line)]
        return [_column(self, self.observable, unit, self.cell_line, time=t) for t in self.times]

    def cell_lines(self) -> tuple[str | None, ...]:
        """The cell lines it is computed in."""
        return (self.cell_line,)

    def drugs(self) -> tuple[str, ...]:
        """The drugs it doses."""
        return tuple(d for d, _ in self.doses)

    def column_keys(self) -> list:
        """One key per output column: the times (one column at steady state)."""
        return list(self.times) or [0]


@dataclass(frozen=True)
class CombinationIndexAt:
    """Chou–Talalay CI of drug A + drug B at ``fa`` levels along the constant ratio A:B = ``ratio``.

    ``doses_a``/``doses_b`` are the series of each drug alone (> 0, log-spaced); the mixture series has
    drug A at ``doses_a`` and drug B at ``doses_a/ratio``.

    ``estimator="median_effect"``: CompuSyn's median-effect fits (0.02 < fa < 0.98); undefined when a fit is
    unusable (e.g. a weak drug B never leaves fa < 0.02). ``estimator="curve"``: Dx_A, Dx_B and the mixture's
    total dose at fa are the first crossings of the simulated curves (PCHIP in log dose); undefined when drug A
    alone or the mixture does not reach fa within its series. When drug B alone stays below fa up to its
    highest dose D_B, its term d_B/Dx_B (< d_B/D_B) is taken as 0 (the weak-partner limit) and the row's
    message says so, with the bound.
    """

    cell_line: str | None
    drug_a: str
    drug_b: str
    ratio: float
    doses_a: tuple[float, ...]
    doses_b: tuple[float, ...]
    fa: tuple[float, ...] = (0.5,)
    readout: str = "viability"
    mode: str = "fast"
    estimator: str = "median_effect"

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses_a", _check_axis(self.doses_a, f"doses of {self.drug_a}", zero_first=False))
        object.__setattr__(self, "doses_b", _check_axis(self.doses_b, f"doses of {self.drug_b}", zero_first=False))
        if self.estimator not in ("median_effect", "curve"):
            raise InputError(f"CI estimator {self.estimator!r} is not 'median_effect' or 'curve'.")
        fa = tuple(float(f) for f in self.fa)
        object.__setattr__(self, "fa", fa)
        if not fa or any(not 0 < f < 1 for f in fa):
            raise InputError(f"fa levels {fa} must lie strictly between 0 and 1.")
        if not (self.ratio > 0 and math.isfinite(self.ratio)):
            raise InputError(f"dose ratio {self.ratio!r} must be a finite number > 0 (dose A / dose B).")
        if self.mode not in MODES:
            raise InputError(f"readout mode {self.mode!r} is not one of {', '.join(MODES)}.")
        if self.drug_a == self.drug_b:
            raise InputError("a combination index needs two different drugs.")

    @property
    def label(self) -> str:
        """Short description (tables, plot titles)."""
        how = "" if self.estimator == "median_effect" else ", curve"
        return (f"CI ({self.readout}{how}) | {self.cell_line or 'model defaults'} | {self.drug_a}:{self.drug_b} = "
                f"1:{1 / self.ratio:g}")

    def series(self) -> list[tuple[float, float]]:
        """Dose pairs: drug A alone, drug B alone, then the mixture."""
        return ([(a, 0.0) for a in self.doses_a] + [(0.0, b) for b in self.doses_b]
                + [(a, a / self.ratio) for a in self.doses_a])

    def columns(self, model: CompiledModel) -> list[dict]:
        """One descriptor per fa level."""
        return [_column(self, "ci", "combination index (< 0.9 synergy)", self.cell_line, drug_a=self.drug_a,
                        drug_b=self.drug_b, fa=f) for f in self.fa]

    def cell_lines(self) -> tuple[str | None, ...]:
        """The cell lines it is computed in."""
        return (self.cell_line,)

    def drugs(self) -> tuple[str, ...]:
        """The drugs it doses."""
        return (self.drug_a, self.drug_b)

    def column_keys(self) -> list:
        """One key per output column: the fa levels."""
        return list(self.fa)


@dataclass(frozen=True)
class IC50Shift:
    """IC50 of ``drug`` in ``resistant`` over its IC50 in ``parental`` (> 1: resistance), on ``readout``."""

    drug: str
    parental: str
    resistant: str
    doses: tuple[float, ...]
    readout: str = "viability"
    mode: str = "fast"

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses", _check_axis(self.doses, f"doses of {self.drug}", zero_first=False))
        if self.mode not in MODES:
            raise InputError(f"readout mode {self.mode!r} is not one of {', '.join(MODES)}.")
        if self.parental == self.resistant:
            raise InputError("an IC50 shift needs two different cell lines.")

    @property
    def label(self) -> str:
        """Short description (tables, plot titles)."""
        return f"IC50 shift {self.parental} -> {self.resistant} | {self.drug} | {self.readout}"

    def columns(self, model: CompiledModel) -> list[dict]:
        """One descriptor."""
        return [_column(self, "ic50_shift", f"IC50 {self.resistant} / IC50 {self.parental} ({self.readout})",
                        self.resistant, drug_a=self.drug)]

    def cell_lines(self) -> tuple[str | None, ...]:
        """The cell lines it is computed in."""
        return (self.parental, self.resistant)

    def drugs(self) -> tuple[str, ...]:
        """The drugs it doses."""
        return (self.drug,)

    def column_keys(self) -> list:
        """One key per output column."""
        return [0]


Output = ReadoutAt | ReadoutGrid | ObservableAt | CombinationIndexAt | IC50Shift


def _column(output, quantity: str, unit: str, cell_line: str | None, **extra) -> dict:
    row = {"output": output.label, "kind": type(output).__name__, "quantity": quantity, "unit": unit,
           "cell_line": cell_line or "", "time": math.nan, "drug_a": "", "dose_a_nM": math.nan, "drug_b": "",
           "dose_b_nM": math.nan, "fa": math.nan}
    row.update(extra)
    return row


def column_table(outputs: Sequence[Output], model: CompiledModel):
    """Descriptor table of every output column, in column order.

    Columns: ``column`` (``y0000``...), ``output``, ``kind``, ``quantity``, ``unit``, ``cell_line``, ``time``,
    ``drug_a``, ``dose_a_nM``, ``drug_b``, ``dose_b_nM``, ``fa``.
    """
    import pandas as pd

    rows = []
    for out in outputs:
        rows += out.columns(model)
    frame = pd.DataFrame(rows)
    frame.insert(0, "column", [f"y{k:04d}" for k in range(len(frame))])
    return frame


def check_outputs(outputs: Sequence[Output], model: CompiledModel) -> None:
    """Validate outputs against ``model``: cell lines, drugs and ids exist; raise one InputError listing all."""
    problems = []
    lines = set(cell_lines_for(model))
    drugs = set(accepted_drugs(model))
    readable = set(model.readable_ids())
    labels = [o.label for o in outputs]
    for dup in sorted({x for x in labels if labels.count(x) > 1}):
        problems.append(f"output {dup!r} is given twice")
    available = readouts_for(model, _readout_ids(outputs))
    for out in outputs:
        readout = getattr(out, "readout", None)
        if readout is not None and readout not in available:
            problems.append(f"output {out.label!r}: {readout!r} is not a readout of model {model.name!r} "
                            f"(valid: {', '.join(readouts_for(model)) or 'none'}, or {LEVEL_PREFIX}ID for the level "
                            "of a species relative to untreated)")
        elif isinstance(out, CombinationIndexAt | IC50Shift) and available[readout].effect is None:
            problems.append(f"output {out.label!r}: readout {readout!r} has no fraction-affected form (valid: "
                            f"{', '.join(k for k, r in available.items() if r.effect) or 'none'})")
        elif (isinstance(out, ReadoutAt) and not any(v > 0 for _, v in out.doses)
              and _relative(model, available[readout])):
            problems.append(f"output {out.label!r}: {readout!r} is relative to the untreated condition, so with no "
                            "drug it is the same whatever the parameters (every index would be 0); give a dose, e.g. "
                            f"{readout}@{(accepted_drugs(model) or ('DRUG',))[0]}=10nM")
        for line in out.cell_lines():
            if line is not None and line not in lines:
                problems.append(f"output {out.label!r}: cell line {line!r} is not a cell line of model "
                                f"{model.name!r} (valid: {', '.join(sorted(lines)) or 'none'})")
        for drug in out.drugs():
            if drug not in drugs:
                problems.append(f"output {out.label!r}: model {model.name!r} does not accept drug {drug!r} "
                                f"(valid: {', '.join(sorted(drugs)) or 'none'})")
        if isinstance(out, ObservableAt) and out.observable not in readable:
            problems.append(f"output {out.label!r}: {out.observable!r} is not an id of model {model.name!r} "
                            f"(observables: {', '.join(model.observable_ids)})")
    if not outputs:
        problems.append("no output of interest was given")
    if problems:
        raise InputError("invalid sensitivity output(s): " + "; ".join(problems) + ".")


def _readout_ids(outputs: Sequence[Output]) -> tuple[str, ...]:
    """Readout ids the outputs name (level readouts among them are resolved by ``readouts_for``)."""
    return tuple(dict.fromkeys(o.readout for o in outputs if getattr(o, "readout", None)))


def _relative(model: CompiledModel, readout: Readout) -> bool:
    """Whether ``readout`` is fixed by definition in the untreated condition (100 % viability, 0 suppression)."""
    if readout.level is not None or readout.id in ("perk_suppression", "viability"):
        return True
    declared = {r.id: r for r in model.readouts}
    return readout.id in declared and declared[readout.id].percent_of_untreated


def _axis(text: str, where: str, *, zero_first: bool) -> tuple[str, tuple[float, ...]]:
    parts = text.split(":")
    if len(parts) != 4:
        raise InputError(f"{where}: {text!r} is not DRUG:LO:HI:N (e.g. trametinib:0.1:100:9, doses in nM or "
                         "with units).")
    drug, lo, hi, n = (p.strip() for p in parts)
    lo_nm, hi_nm = parse_amount(lo, what=f"{where}: lowest dose"), parse_amount(hi, what=f"{where}: highest dose")
    try:
        count = int(n)
    except ValueError:
        raise InputError(f"{where}: number of doses {n!r} is not an integer >= 2.") from None
    if count < 2 or not 0 < lo_nm < hi_nm:
        raise InputError(f"{where}: {text!r} needs 0 < LO < HI and N >= 2.")
    doses = np.geomspace(lo_nm, hi_nm, count).tolist()
    return drug, tuple(([0.0] if zero_first else []) + doses)


def _times(text: str, where: str, model: CompiledModel) -> tuple[float, ...]:
    if text.strip().lower() in ("ss", "steady", "steady-state"):
        return ()
    if ":" in text:
        if text.count(":") != 2:
            raise InputError(f"{where}: times {text!r} are not T0:T1:N (e.g. 0:24h:13), T1;T2;... or ss.")
        t0, t1, n = parse_time_span(text, model_unit=model.time_unit)
        return tuple(np.linspace(t0, t1, n).tolist())
    return tuple(parse_time(t, model_unit=model.time_unit, what=f"{where}: time") for t in text.split(";") if t)


def parse_output(text: str, model: CompiledModel, *, cell_line: str | None = None) -> Output:
    """Parse one ``--output`` specification: ``NAME[@KEY=VALUE,KEY=VALUE...]``.

    ``NAME`` is a readout (``viability``, ``perk_suppression``, ...), an observable or readable id of the
    model, ``ci`` or ``ic50_shift``. Keys:

    * ``line=C``: the cell line (default ``cell_line``); ``DRUG=AMOUNT``: a dose (units allowed);
    * ``t=T0:T1:N`` or ``t=T1;T2;...`` (model units or with a unit, ``t=0:24h:13``) or ``t=ss``: times of an
      observable (default: steady state); a readout with ``a=`` and ``b=`` runs over that dose grid;
    * ``a=DRUG:LO:HI:N``, ``b=DRUG:LO:HI:N``: dose axes (a grid adds dose 0; ``ci`` uses them as the
      single-drug series); ``ratio=A:B``, ``fa=F1;F2`` and ``estimator=median_effect|curve`` for ``ci``
      (defaults: the catalogue IC50 ratio, 0.5, median_effect);
    * ``ic50_shift``: ``a=DRUG:LO:HI:N``, ``from=PARENTAL`` (default ``cell_line``), ``to=RESISTANT``;
    * ``readout=R`` (``ci``/``ic50_shift``; default viability), ``mode=fast|full``.

    Examples: ``viability@line=S462_R1,trametinib=10nM,src_inhibitor_1=1uM``; ``pERK@trametinib=10nM,t=0:24h:25``;
    ``ci@a=trametinib:0.1:10:9,b=src_inhibitor_1:100:10000:9,ratio=1:1000,fa=0.5``;
    ``ic50_shift@a=trametinib:0.01:1000:21,from=S462,to=S462_R1``.
    """
    name, _, rest = text.partition("@")
    request = _Request(name.strip(), f"--output {text!r}", _keys(rest, f"--output {text!r}"), model, cell_line)
    if request.name in _PARSERS:
        return _PARSERS[request.name](request)
    if request.name in readouts_for(model, (request.name,) if request.name.startswith(LEVEL_PREFIX) else ()):
        return _parse_readout(request)
    if request.name in set(model.readable_ids()):
        return _parse_observable(request)
    raise InputError(
        f"{request.where}: {request.name!r} is not a readout "
        f"({', '.join(readouts_for(model)) or 'the model declares none'}), {LEVEL_PREFIX}ID (a species' level "
        f"relative to untreated), 'ci', 'ic50_shift' or an id of model {model.name!r} (observables: "
        f"{', '.join(model.observable_ids)})."
    )


def _keys(rest: str, where: str) -> dict[str, str]:
    """``KEY=VALUE,KEY=VALUE...`` as a dict; a malformed or repeated key is an error."""
    keys: dict[str, str] = {}
    for item in [p for p in rest.split(",") if p.strip()]:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{where}: {item!r} is not KEY=VALUE.")
        if key.strip() in keys:
            raise InputError(f"{where}: key {key.strip()!r} is given twice.")
        keys[key.strip()] = value.strip()
    return keys


class _Request:
    """One ``--output`` being parsed: its name, its keys (each taken once), the line and the mode."""

    def __init__(self, name: str, where: str, keys: dict[str, str], model: CompiledModel,
                 cell_line: str | None) -> None:
        self.name, self.where, self.keys, self.model = name, where, keys, model
        self.line = keys.pop("line", cell_line)
        self.mode = keys.pop("mode", "fast")

    def doses(self) -> Doses:
        """The ``DRUG=AMOUNT`` keys, taken."""
        drugs = set(accepted_drugs(self.model))
        return _doses({k: parse_amount(self.keys.pop(k), what=f"{self.where}: dose of {k}")
                       for k in list(self.keys) if k in drugs})

    def axis(self, key: str, *, zero_first: bool) -> tuple[str, tuple[float, ...]]:
        """The ``DRUG:LO:HI:N`` dose axis of ``key``, taken."""
        return _axis(self.keys.pop(key), self.where, zero_first=zero_first)

    def done(self) -> None:
        """Refuse the keys nothing took."""
        if self.keys:
            raise InputError(f"{self.where}: unknown key(s) {', '.join(self.keys)} for output {self.name!r}.")


def _parse_ci(r: _Request) -> CombinationIndexAt:
    if "a" not in r.keys or "b" not in r.keys:
        raise InputError(f"{r.where}: ci needs a=DRUG:LO:HI:N and b=DRUG:LO:HI:N (the single-drug series).")
    drug_a, doses_a = r.axis("a", zero_first=False)
    drug_b, doses_b = r.axis("b", zero_first=False)
    ratio = _ratio(r.keys.pop("ratio"), r.where) if "ratio" in r.keys else _ic50_ratio(drug_a, drug_b, r.where)
    fa = tuple(float(f) for f in r.keys.pop("fa", "0.5").split(";") if f)
    readout = r.keys.pop("readout", "viability")
    estimator = r.keys.pop("estimator", "median_effect")
    r.done()
    return CombinationIndexAt(r.line, drug_a, drug_b, ratio, doses_a, doses_b, fa, readout, r.mode, estimator)


def _parse_ic50_shift(r: _Request) -> IC50Shift:
    if "a" not in r.keys or "to" not in r.keys:
        raise InputError(f"{r.where}: ic50_shift needs a=DRUG:LO:HI:N and to=RESISTANT_LINE.")
    drug, doses = r.axis("a", zero_first=False)
    parental = r.keys.pop("from", r.line)
    resistant = r.keys.pop("to")
    readout = r.keys.pop("readout", "viability")
    r.done()
    if parental is None:
        raise InputError(f"{r.where}: ic50_shift needs from=PARENTAL_LINE (or --cell-line).")
    return IC50Shift(drug, parental, resistant, doses, readout, r.mode)


def _parse_readout(r: _Request) -> ReadoutAt | ReadoutGrid:
    if "a" in r.keys or "b" in r.keys:
        if "a" not in r.keys or "b" not in r.keys:
            raise InputError(f"{r.where}: a dose grid needs both a=DRUG:LO:HI:N and b=DRUG:LO:HI:N.")
        drug_a, doses_a = r.axis("a", zero_first=True)
        drug_b, doses_b = r.axis("b", zero_first=True)
        r.done()
        return ReadoutGrid(r.name, r.line, drug_a, doses_a, drug_b, doses_b, r.mode)
    doses = r.doses()
    r.done()
    return ReadoutAt(r.name, r.line, doses, r.mode)


def _parse_observable(r: _Request) -> ObservableAt:
    times = _times(r.keys.pop("t"), r.where, r.model) if "t" in r.keys else ()
    doses = r.doses()
    if r.mode != "fast":
        raise InputError(f"{r.where}: mode applies to readouts only.")
    r.done()
    return ObservableAt(r.name, r.line, doses, times)


#: output names with a parser of their own; any other name is a readout of the model, or one of its ids
_PARSERS: dict[str, Callable[[_Request], Output]] = {"ci": _parse_ci, "ic50_shift": _parse_ic50_shift}


def _ratio(text: str, where: str) -> float:
    a, sep, b = text.partition(":")
    try:
        value = float(a) / float(b) if sep else float(a)
    except (ValueError, ZeroDivisionError):
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"{where}: ratio {text!r} is not A:B with two numbers > 0 (e.g. 1:1000).")
    return value


def _ic50_ratio(drug_a: str, drug_b: str, where: str) -> float:
    catalog = load_drugs()
    if drug_a not in catalog or drug_b not in catalog:
        raise InputError(f"{where}: give ratio=A:B (no catalogue IC50 for {drug_a!r} or {drug_b!r}).")
    return catalog[drug_a].ic50_nM / catalog[drug_b].ic50_nM
