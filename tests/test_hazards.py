"""Correctness hazards found in review (issue 16 item 5), each pinned by a test that failed before its fix.

- A PEtab problem cached by its YAML's modification time: an edited TSV table was never reloaded.
- ``Objective`` is frozen but carried a mutable cache that ``dataclasses.replace`` shared with the copy.
- The plots switched matplotlib's backend (``matplotlib.use("Agg")``) and made pyplot-managed figures: after a
  mekisim plot a notebook's own ``plt.show()`` showed nothing, and a returned figure was displayed twice.
- A time course whose pre-equilibration failed came back with ``status="ok"``, from the initial conditions.
- roadrunner's process-wide log level and SUNDIALS' logger variables are changed only while a call runs.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import simulator as ms
from simulator.errors import SimulationError
from tests.conftest import BENCHMARKS, ROOT
from tests.test_fit import write_linear_toy

# ----------------------------------------------------------------------------------------------- fitting


def test_an_edited_petab_table_is_reloaded_in_a_long_lived_process(tmp_path):
    """The problem cache is keyed on the content of every file of the problem, not on the YAML's mtime."""
    yaml_path, data = write_linear_toy(tmp_path)
    before = ms.objective_for(yaml_path)
    x = np.array([0.8, 0.3])
    nllh = before.nllh(x)
    table = tmp_path / "measurements.tsv"
    yaml_mtime = yaml_path.stat().st_mtime_ns
    table.write_text(table.read_text().replace(f"\t{data[0]}\n", f"\t{data[0] + 1.0}\n"))  # first measurement + 1
    assert yaml_path.stat().st_mtime_ns == yaml_mtime
    after = ms.objective_for(yaml_path)
    assert after.problem.measurement[0] == pytest.approx(data[0] + 1.0)
    assert after.nllh(x) > nllh + 1.0  # the residual of that row grew by 1/sigma = 5
    assert ms.objective_for(yaml_path).problem is after.problem  # unchanged files: loaded once


def test_a_replaced_objective_has_its_own_cache(tmp_path):
    """``dataclasses.replace`` of a frozen Objective must not share the cached ODE solution of the original."""
    yaml_path, _ = write_linear_toy(tmp_path)
    problem = ms.load_petab(yaml_path)
    fixed_k2 = ms.make_objective(problem, fix={"k": 2.0})
    x = np.array([0.0])  # b, the only estimated parameter left
    simulation_k2 = fixed_k2.simulation(x)  # solves and caches X(t) = 2 t
    fixed_k3 = dataclasses.replace(fixed_k2, fixed={**fixed_k2.fixed, "k": 3.0})
    np.testing.assert_allclose(fixed_k3.simulation(x), 1.5 * simulation_k2, rtol=1e-8)  # X(t) = 3 t
    np.testing.assert_allclose(fixed_k2.simulation(x), simulation_k2, rtol=0)  # the original keeps its own
    assert fixed_k3.counts is not fixed_k2.counts


# ------------------------------------------------------------------------------------------------- plots


def test_no_process_wide_matplotlib_setting_in_the_package():
    """The package never selects a backend and never uses pyplot (figures are built with the object API)."""
    forbidden = ("matplotlib.use(", "matplotlib.pyplot", "import pyplot", "rcParams[", "rcParams.update")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "simulator").rglob("*.py")
                 if any(word in path.read_text() for word in forbidden)]
    assert offenders == []


def test_plots_leave_a_notebooks_backend_and_pyplot_alone():
    """In a process with its own backend and pyplot in use: a mekisim plot changes neither (run in a fresh process,
    as a notebook would be, with the backend a user chose)."""
    code = textwrap.dedent("""
        import matplotlib
        import matplotlib.pyplot as plt
        import numpy as np
        from matplotlib.figure import Figure
        import simulator as ms
        backend = matplotlib.get_backend()
        plt.figure()  # the user's own figure
        fig = ms.plot_dose_response({"S462": (np.array([0, 1, 10.0]), np.array([1.0, 0.6, 0.2]))},
                                    drug_label="trametinib", observable=ms.Observable("pERK", "p-ERK", "relative"),
                                    title="t")
        assert matplotlib.get_backend() == backend, (backend, matplotlib.get_backend())
        assert plt.get_fignums() == [1], plt.get_fignums()  # only the user's: nothing a notebook would show again
        assert isinstance(fig, Figure), type(fig)
        print("ok", backend)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "MPLBACKEND": "svg"}, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok svg"


def test_a_returned_figure_displays_once_in_a_notebook():
    """Jupyter shows a returned object through IPython's display formatter: one PNG, whatever the backend."""
    from IPython.core.formatters import DisplayFormatter

    fig = ms.plot_steady_state({"A": 1.0, "B": 0.5}, [ms.Observable("A", "A", "relative"),
                                                       ms.Observable("B", "B", "relative")], title="t")
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert [k for k in data if k.startswith("image/")] == ["image/png"]


# ------------------------------------------------------------------------------------------------ engine


def test_a_time_course_without_its_pre_equilibration_is_not_ok():
    """Kholodenko 2000 oscillates untreated: no steady state to start from. The run from the initial conditions is
    returned, but with a status that says so (and ``throw=True`` raises), never as ``ok``."""
    oscillator = ms.load_sbml(BENCHMARKS / "biomodels" / "BIOMD0000000010.xml")
    times = [0.0, 100.0]
    traj = ms.time_course(oscillator, times, select=["MAPK_PP"], throw=False)
    assert traj.status == ms.Status.NOT_PRE_EQUILIBRATED and not traj.ok and not traj.pre_equilibrated
    assert "no steady state to pre-equilibrate to" in traj.message and "oscillating" in traj.message
    cold = ms.time_course(oscillator, times, select=["MAPK_PP"], pre_equilibrate=False)
    assert cold.ok and cold.message == ""
    np.testing.assert_array_equal(traj.values, cold.values)  # the numbers are the initial-condition run's
    with pytest.raises(SimulationError, match="pre-equilibrate"):
        ms.time_course(oscillator, times, select=["MAPK_PP"])


def test_simulate_exits_1_when_the_pre_equilibration_failed(tmp_path, capsys):
    from simulator.cli import main

    model = str(BENCHMARKS / "biomodels" / "BIOMD0000000010.xml")
    out = tmp_path / "tc.csv"
    # no dose and no declared protocol: it is not pre-equilibrated unless asked (issue 19), so ask
    assert main(["simulate", "--model", model, "--time", "0:100:3", "--pre-equilibrate", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "not pre-equilibrated" in err and "--no-pre-equilibrate" in err
    assert set(pd.read_csv(out)["status"]) == {"not_pre_equilibrated"}  # the table is written, marked
    assert main(["simulate", "--model", model, "--time", "0:100:3", "--no-pre-equilibrate", "--force",
                 "--out", str(out)]) == 0
    assert main(["simulate", "--model", model, "--time", "0:100:3", "--force", "--out", str(out)]) == 0
    assert not pd.read_csv(out)["pre_equilibrated"].any()  # the default for a model without a dose


def test_roadrunner_log_level_and_sundials_logger_are_restored(mpnst, condition):
    import roadrunner

    before = roadrunner.Logger.getLevel()
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_WARNING)
    try:
        ms.steady_state(mpnst, condition("S462", {"trametinib": 3}))
        assert roadrunner.Logger.getLevel() == roadrunner.Logger.LOG_WARNING
        blows_up = ms.from_antimony_text("J1: -> X; k*X^2\nX = 1; k = 1", name="blows_up")
        with pytest.raises(SimulationError):
            ms.time_course(blows_up, [0.0, 2.0], pre_equilibrate=False)
        assert roadrunner.Logger.getLevel() == roadrunner.Logger.LOG_WARNING  # restored on the error path too
    finally:
        roadrunner.Logger.setLevel(before)
    assert not any(name.startswith("SUNLOGGER") for name in os.environ)
