"""Parameter ranges of a sensitivity analysis: defaults from the model's parameter table, overrides from a file.

By default every settable parameter that enters the dynamics and is > 0 varies log-uniformly on
``[p/factor, p*factor]``, except doses, drug constants, observable normalisers and switches at 0; a TOML or TSV
file overrides ranges. The rule, the file formats and why: ``docs/notes/sensitivity.md``.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import check_separator, read_text
from ..model import CompiledModel, accepted_drugs, checked_libsbml

DEFAULT_FACTOR = 2.0
DISTRIBUTIONS = ("loguniform", "uniform")
_DRUG_PREFIXES = ("IC50_", "h_", "theta_")
#: ids the readout layer (simulator.readouts) reads from a model when it defines them
_READOUT_IDS = ("kcl", "G1_0", "G1_max")
DEFAULT_RULE = (
    "every settable global parameter that enters the dynamics (kinetic laws, rules, events, or read by the "
    "readout layer) with a finite default > 0 varies log-uniformly on [p/f, p*f] around its default p, except drug "
    "doses, drug constants (IC50_<drug>, h_<drug>, theta_<drug>), observable normalisers (*_ref) and ids excluded "
    "explicitly; parameters used only in initial assignments (conserved totals) and parameters at 0 are held; an "
    "override file (TOML/TSV) may change, add or fix any parameter; parameters a model lists under "
    "[fixed_parameters] in its metadata (switches, initial conditions, numerical constants) are held"
)


@dataclass(frozen=True)
class ParameterRange:
    """The range of one varied parameter.

    Attributes
    ----------
    id
        Model parameter id.
    low, high
        Bounds (parameter units); ``low < high``; ``low > 0`` for a log-uniform range.
    dist
        ``"loguniform"`` (uniform in log10) or ``"uniform"``.
    nominal
        The value at which local coefficients are taken: the model default.
    source
        Where the range came from (the default rule, or ``file, row``), for the manifest.
    """

    id: str
    low: float
    high: float
    dist: str
    nominal: float
    source: str = "default rule"

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise InputError(f"parameter {self.id!r}: dist {self.dist!r} is not one of {', '.join(DISTRIBUTIONS)}.")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise InputError(f"parameter {self.id!r}: needs finite low < high, got low={self.low!r}, "
                             f"high={self.high!r}.")
        if self.dist == "loguniform" and self.low <= 0:
            raise InputError(f"parameter {self.id!r}: a log-uniform range needs low > 0, got {self.low!r}.")

    @property
    def sample_bounds(self) -> tuple[float, float]:
        """Bounds in the sampling space (log10 of the value for log-uniform ranges)."""
        if self.dist == "loguniform":
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high


@dataclass(frozen=True)
class ParameterSpace:
    """The varied parameters, in order (the columns of every sample matrix)."""

    ranges: tuple[ParameterRange, ...]
    factor: float = DEFAULT_FACTOR
    rule: str = DEFAULT_RULE

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", tuple(self.ranges))
        if not self.ranges:
            raise InputError("no parameter varies: the ranges are empty (check `only`, `exclude` and the file).")
        ids = [r.id for r in self.ranges]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise InputError(f"parameter(s) {', '.join(dup)} appear more than once in the ranges.")

    @property
    def ids(self) -> tuple[str, ...]:
        """Parameter ids, in column order."""
        return tuple(r.id for r in self.ranges)

    @property
    def nominal(self) -> np.ndarray:
        """Nominal values (model defaults), in column order."""
        return np.array([r.nominal for r in self.ranges], dtype=float)

    def sample_bounds(self) -> list[list[float]]:
        """``[[lo, hi], ...]`` in the sampling space (what SALib's problem ``bounds`` needs)."""
        return [list(r.sample_bounds) for r in self.ranges]

    def to_values(self, samples: np.ndarray) -> np.ndarray:
        """Map a matrix in the sampling space (rows = samples) to parameter values."""
        x = np.array(samples, dtype=float, copy=True)
        if x.ndim != 2 or x.shape[1] != len(self.ranges):
            raise InputError(f"sample matrix has shape {x.shape}; expected (n, {len(self.ranges)}).")
        for j, r in enumerate(self.ranges):
            if r.dist == "loguniform":
                x[:, j] = 10.0 ** x[:, j]
        return x

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: id, low, high, dist, nominal, source."""
        return pd.DataFrame([{"param": r.id, "low": r.low, "high": r.high, "dist": r.dist, "nominal": r.nominal,
                              "source": r.source} for r in self.ranges])


def _dynamic_ids(model: CompiledModel) -> set[str]:
    """Ids named in the SBML's kinetic laws, rules and events (not initial assignments), plus readout ids."""
    libsbml = checked_libsbml(f"model {model.name!r} (its parameter ranges)")

    doc = libsbml.readSBMLFromString(model.sbml)
    sbml = doc.getModel()
    maths = [r.getKineticLaw().getMath() for r in sbml.getListOfReactions() if r.isSetKineticLaw()]
    maths += [r.getMath() for r in sbml.getListOfRules()]
    for event in sbml.getListOfEvents():
        maths += [event.getTrigger().getMath() if event.isSetTrigger() else None,
                  event.getDelay().getMath() if event.isSetDelay() else None]
        maths += [a.getMath() for a in event.getListOfEventAssignments()]
    names: set[str] = set(_READOUT_IDS)
    stack = [m for m in maths if m is not None]
    while stack:
        node = stack.pop()
        if node.isName():
            names.add(node.getName())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return names


def _excluded_by_default(model: CompiledModel) -> set[str]:
    out = set(accepted_drugs(model)) | set(model.fixed_parameters)
    dynamic = _dynamic_ids(model)
    for pid in model.parameters:
        if pid.endswith("_ref") or any(pid.startswith(p) for p in _DRUG_PREFIXES) or pid not in dynamic:
            out.add(pid)
    return out


def default_ranges(
    model: CompiledModel,
    *,
    factor: float = DEFAULT_FACTOR,
    only: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
) -> ParameterSpace:
    """The default parameter space of ``model`` (the rule: :data:`DEFAULT_RULE` and ``docs/notes/sensitivity.md``).

    Parameters
    ----------
    model
        The compiled model; its parameter table gives the ids and defaults.
    factor
        Each log-uniform range is ``[p/factor, p*factor]``; must be > 1.
    only
        Vary only these ids (each must pass the rule, or be added by an override file).
    exclude
        Ids to hold at their defaults in addition to the rule's exclusions.

    Returns
    -------
    ParameterSpace
        One log-uniform range per varied parameter (model parameter order, or the order of ``only``).
    """
    if not (factor > 1 and math.isfinite(factor)):
        raise InputError(f"range factor {factor!r} must be a finite number > 1 (2 means [p/2, 2p]).")
    excluded = _excluded_by_default(model) | set(exclude)
    unknown = sorted(set(exclude) - set(model.parameters))
    if unknown:
        raise InputError(f"excluded id(s) {', '.join(unknown)} are not settable parameters of model {model.name!r}.")
    candidates = [
        pid for pid, value in model.parameters.items()
        if pid not in excluded and math.isfinite(value) and value > 0
    ]
    if only is not None:
        wanted = list(dict.fromkeys(only))
        absent = [p for p in wanted if p not in model.parameters]
        if absent:
            raise InputError(
                f"parameter(s) {', '.join(absent)} are not settable parameters of model {model.name!r}; valid: "
                f"{_listed(candidates)} (a reaction's local parameter is named <reaction>_<id>, e.g. J0_V1)."
            )
        bad = [p for p in wanted if p not in candidates]
        if bad:
            raise InputError(
                f"parameter(s) {', '.join(bad)} cannot vary by the default rule ({DEFAULT_RULE}); add them with an "
                f"override file (--ranges) or choose among: {_listed(candidates)}."
            )
        candidates = wanted
    ranges = tuple(
        ParameterRange(pid, model.parameters[pid] / factor, model.parameters[pid] * factor, "loguniform",
                       model.parameters[pid], f"default rule: default x/÷ {factor:g}")
        for pid in candidates
    )
    return ParameterSpace(ranges, factor=factor)


def _listed(ids: Sequence[str], most: int = 30) -> str:
    """Ids for a message: all of them up to ``most``, else the first ones and how many more."""
    if not ids:
        return "none"
    return ", ".join(ids[:most]) + (f", ... ({len(ids) - most} more)" if len(ids) > most else "")


# --------------------------------------------------------------------------------------------- overrides


def load_ranges(
    path: str | Path,
    model: CompiledModel,
    *,
    factor: float | None = None,
    only: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
) -> ParameterSpace:
    """The default ranges of ``model`` with the overrides of a TOML or TSV file applied.

    Entries replace the default range of their parameter, add a parameter the rule excludes, or fix one
    (``dist = "fixed"``). ``factor``/``only`` given here win over the file's own keys.

    Parameters
    ----------
    path
        A ``.toml`` or ``.tsv`` ranges file.
    model
        The compiled model.
    factor
        Range factor of the defaults (wins over the file's).
    only
        Vary only these ids (wins over the file's).
    exclude
        Ids to hold at their defaults.

    Returns
    -------
    ParameterSpace
        The default ranges with the file's entries applied.

    Raises
    ------
    InputError
        Listing every problem at once, each naming the file, the row (TSV line or TOML table) and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ranges file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        entries, file_factor, file_only = _read_toml(path)
    elif suffix in (".tsv", ".txt"):
        entries, file_factor, file_only = _read_tsv(path), None, None
    else:
        raise InputError(f"ranges file {str(path)!r} has suffix {suffix!r}; valid: .toml or .tsv.")
    factor = factor if factor is not None else (file_factor if file_factor is not None else DEFAULT_FACTOR)
    only = only if only is not None else file_only
    base = default_ranges(model, factor=factor, exclude=exclude)
    ranges = {r.id: r for r in base.ranges}
    problems: list[str] = []
    overridden = _overrides(entries, model, problems)
    for pid, rng in overridden.items():
        if rng is None:
            ranges.pop(pid, None)
        else:
            ranges[pid] = rng
    if only is not None:
        missing = [p for p in only if p not in ranges]
        if missing:
            problems.append(f"{path}: 'only' lists {', '.join(missing)}, which neither the default rule nor an "
                            "entry of the file makes vary")
    if problems:
        raise InputError(f"ranges file {str(path)!r} has {len(problems)} problem(s): " + "; ".join(problems) + ".")
    order = list(dict.fromkeys(only)) if only is not None else list(ranges)
    return ParameterSpace(tuple(ranges[p] for p in order), factor=factor)


def _overrides(entries: list, model: CompiledModel, problems: list[str]) -> dict[str, ParameterRange | None]:
    """The file's entries as ranges (``None``: fixed), each checked; a bad entry goes to ``problems``."""
    settable = set(model.parameters)
    overridden: dict[str, ParameterRange | None] = {}
    for where, pid, low, high, dist in entries:
        if pid not in settable:
            problems.append(f"{where}, field 'param': {pid!r} is not a settable parameter of model {model.name!r}")
            continue
        if pid in overridden:
            problems.append(f"{where}, field 'param': {pid!r} is given twice")
            continue
        if dist == "fixed":
            overridden[pid] = None
            continue
        if dist not in DISTRIBUTIONS:
            problems.append(f"{where}, field 'dist': {dist!r} is not one of loguniform, uniform, fixed")
            continue
        bad = False
        for field_name, value in (("low", low), ("high", high)):
            if value is None or not math.isfinite(value):
                problems.append(f"{where}, field {field_name!r}: needs a finite number, got {value!r}")
                bad = True
        if bad:
            continue
        if not low < high:
            problems.append(f"{where}, fields 'low'/'high': need low < high, got {low!r} and {high!r}")
            continue
        if dist == "loguniform" and low <= 0:
            problems.append(f"{where}, field 'low': a log-uniform range needs low > 0, got {low!r} "
                            "(use dist = uniform for a range that includes 0)")
            continue
        overridden[pid] = ParameterRange(pid, float(low), float(high), dist, float(model.parameters[pid]), where)
    return overridden


def _number(value) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_toml(path: Path) -> tuple[list, float | None, list[str] | None]:
    try:
        raw = tomllib.loads(read_text(path, "ranges file"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"ranges file {str(path)!r} is not valid TOML: {exc}.") from exc
    problems = []
    unknown = sorted(set(raw) - {"factor", "only", "parameters"})
    if unknown:
        problems.append(f"unknown top-level key(s) {', '.join(unknown)}; valid: factor, only, [parameters.<id>]")
    factor = raw.get("factor")
    if factor is not None and not isinstance(factor, int | float):
        problems.append(f"field 'factor': {factor!r} is not a number")
        factor = None
    only = raw.get("only")
    if only is not None and not (isinstance(only, list) and all(isinstance(p, str) for p in only)):
        problems.append(f"field 'only': {only!r} is not a list of parameter ids")
        only = None
    params = raw.get("parameters", {})
    entries = []
    if not isinstance(params, dict):
        problems.append("[parameters] must hold one table per parameter, [parameters.<id>]")
        params = {}
    for pid, entry in params.items():
        where = f"{path}, table [parameters.{pid}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table with low, high, dist")
            continue
        extra = sorted(set(entry) - {"low", "high", "dist", "note", "provenance"})
        if extra:
            problems.append(f"{where}, field {extra[0]!r}: unknown; valid: low, high, dist, note, provenance")
        entries.append((where, pid, _number(entry.get("low")), _number(entry.get("high")),
                        str(entry.get("dist", "loguniform")).strip().lower()))
    if problems:
        raise InputError(f"ranges file {str(path)!r} has {len(problems)} problem(s): " + "; ".join(problems) + ".")
    return entries, (float(factor) if factor is not None else None), only


def _read_tsv(path: Path) -> list:
    text = read_text(path, "ranges file")
    rows = [r for r in csv.reader(text.splitlines(), delimiter="\t")]
    numbered = [(i + 1, r) for i, r in enumerate(rows) if r and not r[0].lstrip().startswith("#") and any(r)]
    if not numbered:
        raise InputError(f"ranges file {str(path)!r} is empty; expected a header param, low, high, dist.")
    header_line, header = numbered[0]
    check_separator("\t".join(header), path, "ranges file", expected="\t")
    header = [h.strip().lower() for h in header]
    missing = [h for h in ("param", "low", "high") if h not in header]
    if missing:
        raise InputError(f"ranges file {str(path)!r}, line {header_line}: the header lacks column(s) "
                         f"{', '.join(missing)}; valid header: param<TAB>low<TAB>high<TAB>dist.")
    col = {h: header.index(h) for h in header}
    entries = []
    for line, row in numbered[1:]:
        def cell(name: str, row=row) -> str | None:
            k = col.get(name)
            return row[k].strip() if k is not None and k < len(row) else None

        where = f"{path}, line {line}"
        entries.append((where, cell("param") or "", _number(cell("low")), _number(cell("high")),
                        (cell("dist") or "loguniform").lower()))
    return entries

