"""Pickling of frozen dataclasses that hold read-only mappings (results and conditions cross process boundaries)."""

from __future__ import annotations

from dataclasses import fields
from types import MappingProxyType
from typing import Any


def _rebuild_frozen(cls: type, state: dict[str, Any]) -> Any:
    """Unpickle a frozen dataclass whose read-only mappings were pickled as dicts."""
    return cls(**{k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in state.items()})


def reduce_frozen(obj: Any) -> tuple[Any, tuple[type, dict[str, Any]]]:
    """``__reduce__`` for frozen dataclasses holding ``MappingProxyType`` fields (which do not pickle).

    Parameters
    ----------
    obj
        A dataclass instance.

    Returns
    -------
    tuple
        ``(rebuild function, (class, field values with mappings as dicts))``, as ``__reduce__`` returns it.
    """
    state = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        state[f.name] = dict(value) if isinstance(value, MappingProxyType) else value
    return (_rebuild_frozen, (type(obj), state))
