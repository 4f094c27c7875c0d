"""The bundled drug catalogue (``models/drugs.toml``) and cell lines (``models/cell_lines.toml``).

Both files are the single source of truth for their numbers; every entry carries its provenance.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .._frozen import reduce_frozen
from ..errors import InputError
from ..files import bundled_dir, read_text

#: what tables, chunk ids and blot files call "no cell line: the model's own parameter values" (a model
#: without bundled cell lines, e.g. a user's SBML)
DEFAULTS_LABEL = "model_defaults"


@dataclass(frozen=True)
class Drug:
    """A drug of the catalogue: its dose parameter id is :attr:`id` (nM) in every model that accepts it."""

    id: str
    name: str
    target: str
    mechanism: str
    ic50_nM: float
    hill: float
    provenance: str

    def __post_init__(self) -> None:
        if not (self.ic50_nM > 0 and math.isfinite(self.ic50_nM)):
            raise InputError(f"drug {self.id!r}: ic50_nM must be a finite number > 0, not {self.ic50_nM!r}.")
        if not (self.hill > 0 and math.isfinite(self.hill)):
            raise InputError(f"drug {self.id!r}: hill must be a finite number > 0, not {self.hill!r}.")


@dataclass(frozen=True)
class CellLine:
    """A cell state of one model: absolute (``set``) and relative (``scale``) parameter overrides."""

    id: str
    model: str
    description: str
    set: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    scale: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    provenance: str = ""

    __reduce__ = reduce_frozen

    def values(self, defaults: Mapping[str, float]) -> dict[str, float]:
        """Parameter values this line sets, given the model's defaults; unknown ids raise InputError."""
        unknown = sorted((set(self.set) | set(self.scale)) - set(defaults))
        if unknown:
            raise InputError(
                f"cell line {self.id!r} overrides {', '.join(unknown)}, which the model does not have as "
                "settable parameters."
            )
        out = {k: defaults[k] * float(v) for k, v in self.scale.items()}
        out.update({k: float(v) for k, v in self.set.items()})
        return out


def _load_toml(path: Path) -> dict:
    try:
        return tomllib.loads(read_text(path, "TOML file"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML: {exc}.") from exc


def load_drugs(path: str | Path | None = None) -> dict[str, Drug]:
    """Read the drug catalogue (default: the bundled ``drugs.toml``), keyed by CLI id.

    Parameters
    ----------
    path
        A drug-catalogue TOML file; ``None`` reads the bundled ``drugs.toml``.

    Returns
    -------
    dict[str, Drug]
        CLI drug id -> :class:`Drug` (target, potency, dose parameter, provenance).
    """
    path = Path(path) if path is not None else bundled_dir() / "drugs.toml"
    raw = _load_toml(path)
    drugs = {}
    for drug_id, entry in raw.items():
        try:
            drugs[drug_id] = Drug(
                id=drug_id,
                name=str(entry["name"]),
                target=str(entry["target"]),
                mechanism=str(entry["mechanism"]),
                ic50_nM=float(entry["ic50_nM"]),
                hill=float(entry.get("hill", 1.0)),
                provenance=str(entry["provenance"]),
            )
        except KeyError as exc:
            raise InputError(f"{path}: drug [{drug_id}] lacks the field {exc.args[0]!r}.") from None
    return drugs


def load_cell_lines(path: str | Path | None = None) -> dict[str, CellLine]:
    """Read the cell lines (default: the bundled ``cell_lines.toml``), keyed by id.

    Parameters
    ----------
    path
        A cell-line TOML file; ``None`` reads the bundled ``cell_lines.toml``.

    Returns
    -------
    dict[str, CellLine]
        Cell line id -> :class:`CellLine` (model name, parameter overrides, provenance).
    """
    path = Path(path) if path is not None else bundled_dir() / "cell_lines.toml"
    raw = _load_toml(path)
    lines = {}
    for line_id, entry in raw.items():
        if "model" not in entry:
            raise InputError(f"{path}: cell line [{line_id}] lacks the field 'model'.")
        lines[line_id] = CellLine(
            id=line_id,
            model=str(entry["model"]),
            description=str(entry.get("description", "")),
            set=MappingProxyType({k: float(v) for k, v in entry.get("set", {}).items()}),
            scale=MappingProxyType({k: float(v) for k, v in entry.get("scale", {}).items()}),
            provenance=str(entry.get("provenance", "")),
        )
    return lines
