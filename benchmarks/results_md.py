"""The one writer of benchmarks/RESULTS.md: each benchmark script owns the section between its two markers."""

from __future__ import annotations

import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
ROOT = RESULTS.parent.parent
HEADER = ("# Benchmark results\n\nLatest measured figures. Each section is written by the script named in its "
          "command line; rerun the script to refresh it.\n\n")


def write_section(section: str, begin: str, end: str, path: Path = RESULTS) -> None:
    """Replace the section between ``begin`` and ``end`` of ``path`` with ``section``, or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if begin in text and end in text:
        start, stop = text.index(begin), text.index(end) + len(end)
        text = text[:start] + section.rstrip("\n") + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def uncommitted() -> str:
    """Paths under simulator/ and models/ with uncommitted changes (a run measures the working tree, not HEAD)."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "simulator", "models"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return ", ".join(line[3:] for line in out.splitlines() if line.strip())
