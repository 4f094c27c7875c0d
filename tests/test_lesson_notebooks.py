"""Every lesson notebook (experiments/lessons/*/lesson.ipynb) runs top to bottom in smoke mode.

The kernel is this interpreter (nbclient with the ``python3`` kernel: jupyter_client starts it with
``sys.executable``), its working folder is the lesson's folder, and ``MEKISIM_SMOKE=1`` makes the first cell
choose coarser grids. Each notebook ends with a self-check cell that recomputes the lesson's claims on those
grids; tests/test_lessons.py asserts the same claims on the full grids. The six together take ~40 s on the
shared 2-core machine (kernel start ~1 s each), so this stays in the default run.
"""

from __future__ import annotations

import ast
import hashlib
import re
import tomllib

import pytest

from tests.conftest import BENCHMARKS, ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

LESSONS = ROOT / "experiments" / "lessons"
FOLDERS = sorted(p.parent for p in LESSONS.glob("*/lesson.ipynb"))
TIMEOUT_S = 300  # per cell; a lesson takes 4-12 s in smoke mode


def test_six_lessons():
    assert [p.name for p in FOLDERS] == ["01_feedback_adaptation", "02_pmek_biomarker", "03_ultrasensitivity",
                                         "04_oscillations", "05_bypass_unmasked", "06_synergy_and_ci"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_lesson_notebook_runs_in_smoke_mode(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("MEKISIM_SMOKE", "1")
    monkeypatch.setenv("MEKISIM_LESSON_FIGURES", str(tmp_path / "figures"))
    # the kernel's connection file and IPython profile go to this test's folder, not the user's home
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter_runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nb = nbformat.read(folder / "lesson.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()  # raises CellExecutionError naming the cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the lesson shows no figure"
    saved = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert len(saved) == len(images), saved  # every figure shown is also saved when asked
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "Warning" not in stderr and "Error" not in stderr, stderr[-2000:]
    stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    number = int(folder.name[:2])
    assert f"all claims of lesson {number} hold" in stdout


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_lesson_is_committed_without_outputs_and_has_its_parts(folder):
    nb = nbformat.read(folder / "lesson.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip the outputs before committing"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for part in ("**Question.**", "## Exercise", "<details>", "## References", "Simulated"):
        assert part in text or part in "\n".join(c.source for c in nb.cells), part
    assert "matplotlib.use" not in "\n".join(c.source for c in nb.cells)  # no process-wide backend switch
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for part in ("## Question", "## Experiment", "## What to notice", "## Exercise", "## References", "mekisim "):
        assert part in readme, (folder.name, part)


@pytest.mark.parametrize("folder", [f for f in FOLDERS if f.name != "04_oscillations"], ids=lambda p: p.name)
def test_lesson_switches_are_the_models(folder):
    """Each Model A lesson spells out the switches it uses; they must be models/mpnst.toml's [switches]."""
    nb = nbformat.read(folder / "lesson.ipynb", as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    match = re.search(r"^SWITCHES = (\{.*?^\})", source, flags=re.S | re.M)
    assert match, "no SWITCHES table"
    declared = tomllib.loads((ROOT / "models" / "mpnst.toml").read_text(encoding="utf-8"))["switches"]
    assert ast.literal_eval(match.group(1)) == declared


@pytest.mark.parametrize(("lesson", "name"), [("03_ultrasensitivity", "BIOMD0000000009.xml"),
                                              ("04_oscillations", "BIOMD0000000010.xml")])
def test_bundled_biomodels_copies_are_byte_identical(lesson, name):
    copy = (LESSONS / lesson / name).read_bytes()
    shared = BENCHMARKS / "biomodels" / name
    if not shared.is_file():
        pytest.skip(f"{shared} not present")
    assert hashlib.sha256(copy).hexdigest() == hashlib.sha256(shared.read_bytes()).hexdigest()
