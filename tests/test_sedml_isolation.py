"""An export leaves the process's libsbml as it was: simulations after it equal a fresh process's.

The bug this guards against: python-libsedml (which the export used to write SED-ML) registers its own SWIG
wrappers for libsbml's classes in the type table it shares with python-libsbml. After ``import libsedml``,
``libsbml.parseL3Formula`` returned a ``libsedml.ASTNode`` whose ``getType()`` is an opaque pointer, so mekisim's
model reader found no time breakpoints and no ``delay()`` in models loaded afterwards: Isensee 2018's PEtab
conditions then failed ("more than max_steps steps" near t = 10 min) when tests/test_export.py ran first in the same
pytest process. The export now writes SED-ML with xml.etree and checks it with libsedml in a child process.
Each test here runs an export first, in this process, then what the import used to change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simulator as ms
from simulator.cli import main
from simulator.engine import SolverOptions
from simulator.errors import ModelLoadError
from simulator.fit import load_petab, petab_nllh, simulate_petab

PETAB = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "petab"
#: REFERENCE.md: Isensee_JCB2018's nominal negative log-likelihood (AMICI) and the tolerance of nominal checks
ISENSEE_NLLH, NLLH_ATOL = 3949.375967, 1e-3

#: a dose switched on at t_on by a piecewise in a rate law: the engine restarts the integrator there
SWITCHED = """
model switched()
  compartment c = 1; species X in c; X = 0; t_on = 5; k = 1; kd = 0.1;
  R1: -> X; c*k*piecewise(0, time < t_on, 1);
  R2: X -> ; c*kd*X;
end
"""
DELAYED = "model delayed()\n compartment c = 1; species X in c; X = 1; k = 1;\n R: X -> ; c*k*delay(X, 1);\nend\n"
TIMES = [0.0, 2.0, 4.9, 5.1, 7.0, 10.0]
#: the same load and time course, in a fresh interpreter that never exported anything
FRESH = f"""
import json
import simulator as ms
m = ms.from_antimony_text({SWITCHED!r}, name="switched")
t = ms.time_course(m, {TIMES!r}, ms.make_condition(m, None), pre_equilibrate=False, select=["X"],
                   options=ms.SolverOptions(rtol=1e-8, atol=1e-10))
print(json.dumps({{"breakpoints": list(m.breakpoints), "X": [float(x) for x in t["X"]]}}))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A COMBINE archive with SED-ML written by ``mekisim export`` in this process (what used to import libsedml)."""
    path = tmp_path_factory.mktemp("export") / "x.omex"
    assert main(["export", "--model", "mpnst", "--cell-line", "S462_R1", "--dose", "trametinib=3nM", "--time",
                 "0:60:5", "--out", str(path)]) == 0
    return path


def test_export_keeps_libsbml_its_own(exported):
    """After the export, python-libsbml returns its own ASTNode with integer node types, and libsedml is not loaded."""
    import libsbml

    assert exported.exists()
    assert "libsedml" not in sys.modules
    node = libsbml.parseL3Formula("time < 3")
    assert type(node) is libsbml.ASTNode
    assert node.getChild(0).getType() == libsbml.AST_NAME_TIME


def test_switched_model_after_an_export_equals_a_fresh_process(exported):
    """A time-switched model loaded after the export: the same breakpoints and bit-identical numbers as fresh."""
    done = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    fresh = json.loads(done.stdout.strip().splitlines()[-1])
    m = ms.from_antimony_text(SWITCHED, name="switched")
    t = ms.time_course(m, TIMES, ms.make_condition(m, None), pre_equilibrate=False, select=["X"],
                       options=ms.SolverOptions(rtol=1e-8, atol=1e-10))
    assert list(m.breakpoints) == fresh["breakpoints"] == ["t_on"]
    assert [float(x) for x in t["X"]] == fresh["X"]
    # and the numbers are right: X = (k/kd)(1 - exp(-kd (t - t_on))) after t_on, 0 before
    want = [0.0 if s < 5 else 10.0 * (1 - np.exp(-0.1 * (s - 5))) for s in TIMES]
    np.testing.assert_allclose(t["X"], want, rtol=1e-6, atol=1e-9)


def test_delay_still_refused_after_an_export(exported):
    """The reader still sees delay() (with libsedml's wrappers it did not, and the model loaded as if delay-free)."""
    with pytest.raises(ModelLoadError, match=r"delay\(\)"):
        ms.from_antimony_text(DELAYED, name="delayed")


def test_isensee_nominal_nllh_after_an_export(exported):
    """Isensee 2018 loaded after the export reaches REFERENCE.md's nominal nllh (it failed to simulate before)."""
    problem = load_petab(PETAB / "Isensee_JCB2018" / "Isensee_JCB2018.yaml")
    simulation = simulate_petab(problem, options=SolverOptions(rtol=1e-10, atol=1e-12, max_steps=20_000))
    assert petab_nllh(problem, simulation) == pytest.approx(ISENSEE_NLLH, abs=NLLH_ATOL, rel=0)


#: a process that imports libsedml (as tellurium does) after loading one model, then tries to load another
WITH_LIBSEDML = f"""
import json
import simulator as ms
before = ms.from_antimony_text({SWITCHED!r}, name="switched")
import libsedml  # what `import tellurium` does
try:
    ms.from_antimony_text({SWITCHED!r}, name="switched")
    refused = ""
except ms.ModelLoadError as exc:
    refused = str(exc)
t = ms.time_course(before, {TIMES!r}, ms.make_condition(before, None), pre_equilibrate=False, select=["X"],
                   options=ms.SolverOptions(rtol=1e-8, atol=1e-10))
# the other walks of a loaded model's maths ask the same question before they read anything
from simulator.export import export_condition
from simulator.model import DrugTerm, add_drug_terms
from simulator.sensitivity import default_ranges
walks = {{}}
for name, call in (("drug terms", lambda: add_drug_terms(before, [DrugTerm.parse("inh:R1:10")])),
                   ("export", lambda: export_condition(before, out="/tmp/mekisim-never-written.xml", force=True)),
                   ("ranges", lambda: default_ranges(before))):
    try:
        call()
        walks[name] = ""
    except ms.ModelLoadError as exc:
        walks[name] = str(exc)
print(json.dumps({{"refused": refused, "breakpoints": list(before.breakpoints), "X": [float(x) for x in t["X"]],
                  "walks": walks}}))
"""


def test_models_are_refused_after_libsedml_was_imported():
    """A user who imports tellurium (hence libsedml) in mekisim's process gets a refusal, not a model without its
    time switches; a model loaded before the import keeps them and simulates as in a fresh process."""
    runs = {}
    for name, script in (("fresh", FRESH), ("libsedml", WITH_LIBSEDML)):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    refused = runs["libsedml"]["refused"]
    assert "module 'libsedml'" in refused and "tellurium" in refused and "time switches or delay()" in refused
    assert runs["libsedml"]["breakpoints"] == runs["fresh"]["breakpoints"] == ["t_on"]
    assert runs["libsedml"]["X"] == runs["fresh"]["X"]
    for name, message in runs["libsedml"]["walks"].items():
        assert "module 'libsedml'" in message and "time switches or delay()" in message, (name, message)
