"""Job descriptions (the settings that decide a run's numbers): compared to tell a resumed run from another."""

from __future__ import annotations

import json
from typing import Any


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Where two job descriptions differ, as ``key: was X, now Y`` (values shortened).

    Parameters
    ----------
    old, new
        JSON-able descriptions (dicts, lists, scalars), e.g. a stored ``_job.json`` and the current run's.
    where
        The key path of ``old``/``new`` inside the whole description (used in recursion).

    Returns
    -------
    list of str
        One ``"path: was X, now Y"`` per differing leaf; empty when they are equal.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += differences(old.get(key, "(absent)"), new.get(key, "(absent)"), f"{where}.{key}" if where else key)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for k, (a, b) in enumerate(zip(old, new, strict=True)) for d in differences(a, b, f"{where}[{k}]")]
    if json.dumps(old) == json.dumps(new):
        return []

    def short(value: Any) -> str:
        text = json.dumps(value)
        return text if len(text) <= 60 else text[:57] + "..."

    return [f"{where or 'job'}: was {short(old)}, now {short(new)}"]


def normalised(job: Any) -> Any:
    """``job`` as it reads back from JSON (tuples as lists, unknown objects as text), so equal jobs compare equal.

    Parameters
    ----------
    job
        A JSON-able description, or ``None``.

    Returns
    -------
    object
        The same description after a round trip through JSON (``None`` stays ``None``).
    """
    return None if job is None else json.loads(json.dumps(job, default=str))
