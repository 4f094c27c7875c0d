"""The benchmark scripts still run (smoke mode: small counts, prints only, RESULTS.md untouched).

Run as a subprocess, as a user runs them: their process pools spawn workers that re-import the script.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_engine_benchmark_quick():
    results = ROOT / "benchmarks" / "RESULTS.md"
    before = results.read_text()
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "engine.py"), "--quick", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Steady states/s" in proc.stdout and "Time courses/s" in proc.stdout
    assert results.read_text() == before


def test_screen_benchmark_quick():
    results = ROOT / "benchmarks" / "RESULTS.md"
    before = results.read_text()
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "screen.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "/s/core" in proc.stdout and "End-to-end" in proc.stdout
    assert results.read_text() == before
