"""The bundled models' numbers are bit-identical to those recorded at main 4194f44 (before units and annotations).

tests/_model_numbers.py says what is recorded and how to re-record after a deliberate change of a model's numbers.
Each side is computed in a fresh process in the same order, because roadrunner's steady-state solver starts
from the previous solution and that shows in the last digits (measured: 9e-13 in steady states and 4e-9 in a
pre-equilibrated time course after other solves in the same process).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from tests._model_numbers import RECORDED, platform_key
from tests.conftest import ROOT

#: on another CPU or roadrunner build the JIT-compiled code may round differently: relative agreement only
OTHER_PLATFORM_RTOL = 1e-9


def test_numbers_are_bit_identical_to_the_recorded_ones(tmp_path):
    out = tmp_path / "numbers.npz"
    subprocess.run([sys.executable, "-m", "tests._model_numbers", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    recorded, now = np.load(RECORDED), np.load(out)
    names = sorted(set(recorded.files) - {"platform_key"})
    assert names == sorted(set(now.files) - {"platform_key"})
    same_platform = str(recorded["platform_key"]) == platform_key()
    differ = []
    for name in names:
        if same_platform:
            if not np.array_equal(recorded[name], now[name]):
                worst = float(np.max(np.abs(recorded[name] - now[name])))
                differ.append(f"{name}: max |difference| {worst:.3g}")
        elif not np.allclose(now[name], recorded[name], rtol=OTHER_PLATFORM_RTOL, atol=0.0):
            differ.append(name)
    assert not differ, ("the bundled models' numbers moved (" + ("bit for bit" if same_platform else
                        f"beyond rtol {OTHER_PLATFORM_RTOL:g} on another platform") + "): " + "; ".join(differ)
                        + ". If the change was meant to move them, re-record: python -m tests._model_numbers --record")
