"""Every study in experiments/ runs in smoke mode through its own run.py (public API only)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

#: mpnst_combinations is the main job: tests/test_cli.py runs it through `mekisim demo --smoke`, the same config
STUDIES = sorted(p.parent.name for p in (ROOT / "experiments").glob("*/run.py")
                 if p.parent.name != "mpnst_combinations")


@pytest.mark.parametrize("study", STUDIES)
def test_study_runs_in_smoke_mode(study, tmp_path):
    run = ROOT / "experiments" / study / "run.py"
    assert len(run.read_text().splitlines()) <= 60, "run.py must stay short (style.md section 3)"
    proc = subprocess.run([sys.executable, str(run), "--smoke", "--out", str(tmp_path / study)],
                          capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert any((tmp_path / study).rglob("manifest.json")) or any((tmp_path / study).rglob("*.csv"))
