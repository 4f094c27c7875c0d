"""The stage drivers return their results (issue 16 item 4): a notebook runs a screen, a sensitivity analysis or a fit
and gets DataFrames without choosing an output folder; given a folder, they write exactly what they return."""

from __future__ import annotations

import json
import tempfile

import numpy as np
import pandas as pd
import pytest

import simulator as ms
from simulator.errors import InputError
from tests.conftest import ROOT

SMALL = {"drug_a": ms.DrugAxis.parse("trametinib:0.3:30:3"), "drug_b": ms.DrugAxis.parse("src_inhibitor_1:100:3000:3")}
CHAIN = """
J1: -> S1; E1*k1
J2: S1 -> S2; E2*k2*S1
J3: S2 -> ; E3*k3*S2
S1 = 0; S2 = 0; E1 = 1; E2 = 1; E3 = 1; k1 = 2; k2 = 0.5; k3 = 0.25
"""


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The system's temporary folder redirected, so a test sees everything a run leaves there."""
    folder = tmp_path / "system_tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_screen_without_a_folder_returns_the_tables_a_folder_run_writes(mpnst, tmp_path, own_tmp):
    spec = ms.ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, ensemble=({"kE": 1.0}, {"kE": 1.3}), **SMALL)
    in_memory = ms.run_screen(spec, workers=1, progress=False)
    assert in_memory.out_dir is None and in_memory.files == ()
    assert list(own_tmp.iterdir()) == []  # the chunk parts lived in a temporary folder, removed at the end
    on_disk = ms.run_screen(spec, tmp_path / "out", workers=1, progress=False)
    for name in ("wells", "synergy", "ranking", "synergy_ensemble"):
        returned = getattr(in_memory, name)
        assert isinstance(returned, pd.DataFrame) and len(returned) > 0, name
        written = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        pd.testing.assert_frame_equal(returned.reset_index(drop=True), written, check_dtype=False)
        pd.testing.assert_frame_equal(getattr(on_disk, name), returned)
    assert in_memory.n_wells == on_disk.n_wells == 2 * (16 + spec.mixture_points) and in_memory.failed_wells == 0
    assert on_disk.out_dir == tmp_path / "out" and (tmp_path / "out" / "manifest.json") in on_disk.files


def test_screen_resume_or_force_needs_a_folder(mpnst):
    spec = ms.ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, **SMALL)
    for flag in ("resume", "force"):
        with pytest.raises(InputError, match="apply to an output folder"):
            ms.run_screen(spec, workers=1, progress=False, **{flag: True})


def test_sensitivity_without_a_folder_on_a_given_executor(tmp_path, own_tmp):
    model = ms.from_antimony_text(CHAIN, name="chain")
    spec = ms.SensitivitySpec(model, ms.default_ranges(model, only=["E1", "E2", "E3"]),
                              (ms.ObservableAt("S2", None),), method="morris", n=4, seed=2)
    with ms.SerialExecutor() as executor:
        in_memory = ms.run_sensitivity(spec, executor=executor, progress=False)
    assert in_memory.out_dir is None and list(own_tmp.iterdir()) == []
    on_disk = ms.run_sensitivity(spec, tmp_path / "out", workers=1, progress=False)
    for name in ("samples", "evaluations", "indices", "ranking", "unresolved", "failures", "columns"):
        pd.testing.assert_frame_equal(getattr(in_memory, name), getattr(on_disk, name), obj=name)
        pd.testing.assert_frame_equal(getattr(on_disk, name),
                                      pd.read_parquet(tmp_path / "out" / f"{name}.parquet"), check_dtype=False)
    assert in_memory.rows == spec.rows and in_memory.rows_failed == 0
    with pytest.raises(InputError, match="not both"):
        ms.run_sensitivity(spec, executor=ms.SerialExecutor(), workers=1)


def test_a_blot_fit_in_a_notebook_and_the_fit_stage_writes_its_manifest(tmp_path, own_tmp):
    model = ms.load_model("mpnst")
    data = ms.read_blot_data(ROOT / "experiments" / "fit_mpnst_blots" / "data" / "mpnst_blots_summary.csv", model)
    yaml_path = ms.blots_to_petab(model, data, estimate={"S462_R1": ["ksL"]})
    assert yaml_path.parent.parent == own_tmp  # a kept temporary folder (the fit's workers read the problem)
    fit = ms.fit_petab(yaml_path, starts=2, seed=0, settings=ms.FitSettings(max_nfev=5))
    starts = fit.to_frame()
    assert isinstance(starts, pd.DataFrame) and len(starts) == 2 and np.isfinite(fit.best.nllh)
    drawn = []
    files = ms.write_fit(fit, tmp_path / "fit", info={"data": "blots", "time_unit": model.time_unit},
                         models={"model": model}, draw=lambda folder, info: drawn.append(info) or [])
    manifest = json.loads((tmp_path / "fit" / "manifest.json").read_text())
    assert files[-1].name == "manifest.json" and manifest["fit"]["best_nllh"] == fit.best.nllh
    assert manifest["fit"]["data"] == "blots" and drawn[0]["best_nllh"] == fit.best.nllh  # figures see the entry
    assert set(manifest["files"]) >= {"starts.csv", "parameters.parquet", "fit_vs_data.csv"}
    assert manifest["counts"]["starts"] == 2
