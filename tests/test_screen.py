"""Combination screens end to end: identical across backends, resumable, failures as statuses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _processes import children, running

import simulator as ms
from simulator.cli import main
from simulator.errors import InputError
from simulator.parallel import ProcessExecutor
from simulator.screen import DrugAxis, ScreenSpec, load_ensemble, rank_combinations, run_screen

SMALL = {"drug_a": DrugAxis.parse("trametinib:0.3:30:3"), "drug_b": DrugAxis.parse("src_inhibitor_1:100:3000:3")}


def _tables(out):
    wells = pd.read_parquet(out / "wells.parquet")
    synergy = pd.read_parquet(out / "synergy.parquet")
    return wells, synergy


@pytest.fixture(scope="module")
def serial_screen(mpnst, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    spec = ScreenSpec(model=mpnst, cell_lines=("S462", "S462_R1"), ratio=0.01, **SMALL)
    result = run_screen(spec, out, workers=1, progress=False)
    return spec, result, out


def test_screen_tables_and_manifest(serial_screen):
    spec, result, out = serial_screen
    wells, synergy = _tables(out)
    matrix = wells[wells["series"] == "matrix"]
    assert result.failed_wells == 0
    # one row per cell line x member x dose pair x readout
    assert len(matrix) == 2 * 1 * 4 * 4 * 2
    assert set(wells["status"]) == {"ok"}
    dmso = matrix[(matrix["dose_a_nM"] == 0) & (matrix["dose_b_nM"] == 0)]
    assert np.allclose(dmso.loc[dmso["readout"] == "viability", "value"], 100.0)
    assert np.allclose(dmso.loc[dmso["readout"] == "perk_suppression", "value"], 0.0, atol=1e-9)
    assert {"bliss", "hsa", "loewe", "zip", "ci", "ci_ratio", "dri_a", "iso_x"} <= set(synergy["score"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["wells_failed"] == 0
    assert "> 0 synergy" in manifest["score_conventions"]["bliss"]
    assert manifest["screen"]["constant_ratio_a_to_b"] == pytest.approx(0.01)


def test_identical_tables_on_process_pool_and_dask(serial_screen, tmp_path):
    distributed = pytest.importorskip("distributed")
    spec, _, out = serial_screen
    wells, synergy = _tables(out)
    run_screen(spec, tmp_path / "pool", workers=2, progress=False)  # this process + 1 pool process
    with ProcessExecutor(2) as caller_pool:  # every chunk in a pool process; the caller's, left open
        run_screen(spec, tmp_path / "caller", executor=caller_pool, progress=False)
        assert caller_pool.map(abs, [-1]) == [1]
        with pytest.raises(InputError, match="either an executor or workers"):
            run_screen(spec, tmp_path / "both", executor=caller_pool, workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        run_screen(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    for other in ("pool", "caller", "dask"):
        w, s = _tables(tmp_path / other)
        pd.testing.assert_frame_equal(w, wells)
        pd.testing.assert_frame_equal(s, synergy)


def test_ranking_reaches_target_with_least_normalised_dose(serial_screen):
    spec, _, out = serial_screen
    ranking = pd.read_csv(out / "ranking.csv")
    assert (ranking["perk_suppression"] >= spec.target_suppression).all()
    for _, group in ranking.groupby("cell_line"):
        assert group["normalised_dose"].is_monotonic_increasing
    wells, _ = _tables(out)
    assert len(rank_combinations(wells, spec)) == len(ranking)


def test_ensemble_spread_and_probability_of_synergy(mpnst, tmp_path):
    rng = np.random.default_rng(7)
    members = pd.DataFrame({"kE": 4 * np.exp(rng.normal(0, 0.2, 3)), "aSRC": 10 * np.exp(rng.normal(0, 0.2, 3))})
    path = tmp_path / "ensemble.csv"
    members.to_csv(path, index=False)
    spec = ScreenSpec(model=mpnst, cell_lines=("S462_R1",), ensemble=load_ensemble(path),
                      readouts=("perk_suppression",), ratio=0.01, **SMALL)
    run_screen(spec, tmp_path / "out", workers=1, progress=False)
    wells = pd.read_parquet(tmp_path / "out" / "wells.parquet")
    assert sorted(wells["member"].unique()) == [0, 1, 2]
    matrix = wells[wells["series"] == "matrix"]
    top = matrix[(matrix["dose_a_nM"] == matrix["dose_a_nM"].max()) & (matrix["dose_b_nM"] == 0)]
    assert top["value"].nunique() == 3  # the members really differ
    summary = pd.read_csv(tmp_path / "out" / "synergy_ensemble.csv")
    assert summary["probability_of_synergy"].between(0, 1).all()
    assert (summary["q05"] <= summary["median"]).all() and (summary["median"] <= summary["q95"]).all()
    assert set(summary["members"]) == {3}
    # the per-matrix summaries get their spread too: the median of the three members' values
    synergy = pd.read_parquet(tmp_path / "out" / "synergy.parquet")
    zip_mean = summary[summary["score"] == "zip_mean"]
    assert len(zip_mean) == 1
    assert zip_mean["median"].iloc[0] == pytest.approx(synergy.loc[synergy["score"] == "zip_mean", "value"].median())
    assert zip_mean["probability_of_synergy"].iloc[0] == pytest.approx(
        (synergy.loc[synergy["score"] == "zip_mean", "value"] > 0).mean())


def test_failed_wells_are_statuses_and_reported(mpnst, tmp_path, capsys):
    """A member whose laminin never decays (kdL = 0) has no steady state: its wells fail, the rest run."""
    path = tmp_path / "ensemble.csv"
    pd.DataFrame({"kdL": [5e-4, 0.0]}).to_csv(path, index=False)
    code = main(["screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1:10:2",
                 "--drug-b", "src_inhibitor_1:100:1000:2", "--ensemble", str(path), "--workers", "1",
                 "--no-progress", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1 and "failed" in out
    wells = pd.read_parquet(tmp_path / "out" / "wells.parquet")
    assert set(wells.loc[wells["member"] == 0, "status"]) == {"ok"}
    assert set(wells.loc[wells["member"] == 1, "status"]) == {"failed"}
    assert (wells.loc[wells["member"] == 1, "message"].str.len() > 0).all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["wells_failed"] == 9 + 2  # the matrix and its 2-point mixture series


def test_a_screen_where_every_well_fails_reports_it_instead_of_crashing(tmp_path, capsys):
    """No steady state anywhere (laminin never decays, kdL = 0): every synergy chunk fails too, and the run still ends
    with its tables, the failures counted and exit code 1 (it crashed on the empty synergy table)."""
    path = tmp_path / "ensemble.csv"
    pd.DataFrame({"kdL": [0.0]}).to_csv(path, index=False)
    code = main(["screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1,10", "--drug-b",
                 "src_inhibitor_1:100,1000", "--ensemble", str(path), "--workers", "1", "--no-progress", "--out",
                 str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1 and "0 ok, 11 failed" in out
    synergy = pd.read_parquet(tmp_path / "out" / "synergy.parquet")
    assert synergy.empty and list(synergy.columns)[:3] == ["cell_line", "member", "readout"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["wells_failed"] == 11 and manifest["counts"]["synergy_chunks_failed"] > 0
    assert manifest["screen"]["chunk_failures"]


SCREEN_ARGS = ["--model", "mpnst", "--cell-lines", "S462,S462_R1,S462_R2,S462_R3,ST8814,S462TY",
               "--drug-a", "trametinib:0.1:100:7", "--drug-b", "src_inhibitor_1:30:10000:7",
               "--readout", "perk_suppression", "--ratio", "1:100", "--no-progress"]


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path):
    ensemble = tmp_path / "ensemble.csv"
    pd.DataFrame({"kE": np.linspace(3.5, 4.5, 4)}).to_csv(ensemble, index=False)
    args = [*SCREEN_ARGS, "--ensemble", str(ensemble), "--workers", "1"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "screen", *args, "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    parts = killed / "wells" / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("*.parquet"))) < 4 and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(parts.glob("*.parquet")))
    assert 0 < done_before < 24, "the kill must land part-way through the 24 chunks"
    assert main(["screen", *args, "--out", str(killed)]) == 1  # refuses to overwrite without --resume
    assert main(["screen", *args, "--resume", "--out", str(killed)]) == 0
    assert main(["screen", *args, "--out", str(tmp_path / "whole")]) == 0
    for name in ("wells", "synergy"):
        resumed = pd.read_parquet(killed / f"{name}.parquet")
        whole = pd.read_parquet(tmp_path / "whole" / f"{name}.parquet")
        pd.testing.assert_frame_equal(resumed, whole)


def test_drug_axis_takes_a_range_or_a_plates_list_of_doses(tmp_path, capsys):
    assert DrugAxis.parse("trametinib:1:100:3").doses == pytest.approx((0, 1, 10, 100))
    listed = DrugAxis.parse("trametinib:30, 1,3nM,0.01uM,100")  # any order, units per dose, 0 added
    assert listed.drug == "trametinib" and listed.doses == (0.0, 1.0, 3.0, 10.0, 30.0, 100.0)
    assert DrugAxis.parse("trametinib:0,5").doses == (0.0, 5.0)  # 0 listed: not repeated
    for bad, fragment in (("trametinib:1,1nM,3", "more than once"), ("trametinib:", "lists no doses"),
                          ("trametinib:1,x", "'x'"), ("trametinib:1:2", "neither DRUG:LO:HI:N"),
                          ("trametinib:-1,3", "negative")):
        with pytest.raises(InputError, match=fragment):
            DrugAxis.parse(bad)
    # the CLI takes lists, and says how many of the simulated wells are the constant-ratio mixture's
    code = main(["screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-a", "trametinib:1,10", "--drug-b",
                 "src_inhibitor_1:100,1000", "--workers", "1", "--no-progress", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "11 wells (9 in the dose matrices, 2 on the constant-ratio mixture series)" in out
    matrix = pd.read_parquet(tmp_path / "wells.parquet").query("series == 'matrix'")
    assert sorted(matrix["dose_a_nM"].unique()) == [0, 1, 10]
    assert sorted(matrix["dose_b_nM"].unique()) == [0, 100, 1000]


def test_resume_with_other_settings_is_refused_and_a_new_target_only_reranks(mpnst, tmp_path):
    """--resume after changing the doses used to keep the old wells under the new doses; now it is refused."""
    spec = ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, **SMALL)
    run_screen(spec, tmp_path, workers=1, progress=False)
    before = pd.read_parquet(tmp_path / "wells.parquet")
    other = ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, drug_a=DrugAxis.parse("trametinib:1:100:3"),
                       drug_b=SMALL["drug_b"])
    with pytest.raises(InputError, match=r"other settings \(screen\.drug_a\.doses\[1\]: was 0\.3, now 1\.0;"):
        run_screen(other, tmp_path, workers=1, progress=False, resume=True)
    ensemble = ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, ensemble=({"kE": 4.2},), **SMALL)
    with pytest.raises(InputError, match="ensemble_sha256"):
        run_screen(ensemble, tmp_path, workers=1, progress=False, resume=True)
    with pytest.raises(InputError, match="constant_ratio_a_to_b"):
        run_screen(ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.1, **SMALL), tmp_path, workers=1,
                   progress=False, resume=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "wells.parquet"), before)  # nothing overwritten
    # the target only ranks: the resumed run reuses every part and ranks anew
    strict = ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, target_suppression=0.99, **SMALL)
    result = run_screen(strict, tmp_path, workers=1, progress=False, resume=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"]["wells_chunks_skipped"] == manifest["counts"]["wells_chunks_total"] > 0
    assert manifest["counts"]["wells_chunks_done"] == 0 and result.failed_wells == 0
    ranking = pd.read_csv(tmp_path / "ranking.csv")
    assert (ranking["perk_suppression"] >= 0.99).all()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "wells.parquet"), before)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes in /proc (Linux)")
def test_sigterm_ends_a_screen_cleanly_with_its_workers(tmp_path):
    """kill / a batch scheduler's time limit: exit 143 with a message, the pool shut down, parts kept."""
    ensemble = tmp_path / "ensemble.csv"
    pd.DataFrame({"kE": np.linspace(3.5, 4.5, 4)}).to_csv(ensemble, index=False)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "screen", *SCREEN_ARGS, "--ensemble",
                             str(ensemble), "--workers", "2", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    parts = out / "wells" / "parts"
    try:
        deadline = time.monotonic() + 120
        while len(list(parts.glob("*.parquet"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = children(proc.pid)
        proc.send_signal(signal.SIGTERM)  # the main process alone
        err = proc.communicate(timeout=60)[1].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert f"mekisim screen: terminated (SIGTERM); the finished chunks are kept in {out}" in err
    assert "--resume" in err and "Traceback" not in err
    assert workers
    deadline = time.monotonic() + 10  # the pool processes are terminated and joined before the CLI exits
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(pid) for pid in workers), "worker processes outlived the terminated screen"
    assert len(list(parts.glob("*.parquet"))) >= 2


BAD = [
    (["--cell-lines", "HeLa"], "HeLa", "S462_R1"),
    (["--drug-a", "aspirin:1:10:3"], "aspirin", "trametinib"),
    (["--drug-a", "trametinib:10:1:3"], "0 < LO < HI", "trametinib"),
    (["--drug-a", "trametinib:1:10"], "DRUG:LO:HI:N", "trametinib:0.1:100:9"),
    (["--readout", "happiness"], "happiness", "viability"),
    (["--ratio", "1:0"], "A:B", "1:100"),
    (["--workers", "0"], "--workers", ">= 1"),
]


@pytest.mark.parametrize("change,problem,valid", BAD, ids=[b[1] for b in BAD])
def test_screen_bad_input(capsys, tmp_path, change, problem, valid):
    base = {"--model": "mpnst", "--cell-lines": "S462", "--drug-a": "trametinib:1:10:2",
            "--drug-b": "src_inhibitor_1:100:1000:2"}
    extra = []
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in base:
            base[flag] = value
        else:
            extra += [flag, value]
    argv = ["screen", *[x for kv in base.items() for x in kv], *extra, "--out", str(tmp_path / "o")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert problem in err and valid in err and "Traceback" not in err


def test_bad_ensemble_file_names_the_cell(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("kE,aSRC\n4,10\n4,oops\n")
    with pytest.raises(ms.InputError, match=r"column 'aSRC', row 3"):
        load_ensemble(path)


def test_heatmap_labels_read_as_plain_numbers():
    """Doses and percentages as a pharmacologist writes them: 3000 nM and 100 %, not 3e+03 and 1e+02."""
    from simulator.plots import plot_matrix_heatmap
    from simulator.plots._common import _number

    assert [_number(x, 3) for x in (0.0, 0.1, 31.6227, 1000.0, 3162.28, 1e-5, 2.5e7)] == [
        "0", "0.1", "31.6", "1000", "3160", "1e-05", "2.5e+07"]
    fig = plot_matrix_heatmap(np.array([[100.0, 98.7], [49.0, 0.0042]]), [0.0, 10.0], [0.0, 3000.0], drug_a="a",
                              drug_b="b", label="viability", title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "3000"]
    assert [t.get_text() for t in ax.texts] == ["100", "99", "49", "0.0042"]


def test_report_html_embeds_the_figures(serial_screen, capsys):
    _, _, out = serial_screen
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    for line in ("S462", "S462_R1"):
        for readout in ("viability", "perk_suppression"):
            assert f"figures/{line}_{readout}.png" in page
            assert (out / "figures" / f"{line}_{readout}.png").stat().st_size > 50_000
    assert "Combination index along the constant ratio" in page and "manifest" in page
    assert "Summary synergy scores per matrix (nominal parameters)" in page and "zip_msa" in page


def test_report_figures_drawn_in_parallel_are_the_serial_ones(serial_screen, tmp_path):
    """build_report draws the screen panels on a pool: same page, byte-identical PNGs, as one process draws them."""
    import shutil

    from simulator.report import build_report

    _, _, out = serial_screen
    pages = {}
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}" / "study" / "screen"  # the same folder names: the page names them
        shutil.copytree(out, folder, ignore=shutil.ignore_patterns("figures", "report.html"))
        pages[workers] = build_report(folder.parent, workers=workers).read_text()
    assert pages[1] == pages[2] and pages[1].count("<img") == 4
    figures = {w: tmp_path / f"w{w}" / "study" / "screen" / "figures" for w in (1, 2)}
    drawn = sorted(p.name for p in figures[2].iterdir())
    assert drawn == sorted(p.name for p in figures[1].iterdir()) and len(drawn) == 8
    for name in drawn:
        if name.endswith(".png"):
            one, two = (figures[w] / name for w in (1, 2))
            assert one.read_bytes() == two.read_bytes(), name


def test_summary_rows_are_the_mean_of_the_well_rows(serial_screen):
    """bliss_mean etc. equal the well scores averaged over the combination wells, from the same table."""
    _, _, out = serial_screen
    synergy = pd.read_parquet(out / "synergy.parquet")
    for (line, readout), rows in synergy.groupby(["cell_line", "readout"]):
        for score in ("bliss", "hsa", "loewe", "zip"):
            wells = rows[(rows["score"] == score) & (rows["dose_a_nM"] > 0) & (rows["dose_b_nM"] > 0)]
            summary = rows.loc[rows["score"] == f"{score}_mean", "value"]
            assert len(summary) == 1 and len(wells) == 9, (line, readout, score)
            assert summary.iloc[0] == pytest.approx(wells["value"].mean(skipna=True), rel=1e-12, nan_ok=True)
            msa = rows.loc[rows["score"] == f"{score}_msa", "value"].iloc[0]  # a 3 x 3 grid: its only block
            expected = wells["value"].mean() if wells["value"].notna().all() else np.nan
            assert msa == pytest.approx(expected, rel=1e-12, nan_ok=True)


def test_ensemble_screen_on_two_workers_matches_serial(mpnst, tmp_path):
    """The spec (with its ensemble) must pickle to reach worker processes."""
    import pickle

    spec = ScreenSpec(model=mpnst, cell_lines=("S462_R1",), ensemble=({"kE": 3.8}, {"kE": 4.2}),
                      readouts=("perk_suppression",), ratio=0.01, **SMALL)
    assert pickle.loads(pickle.dumps(spec)) == spec
    run_screen(spec, tmp_path / "serial", workers=1, progress=False)
    result = run_screen(spec, tmp_path / "pool", workers=2, progress=False)
    assert result.failed_wells == 0
    for name in ("wells", "synergy"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "pool" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "serial" / f"{name}.parquet"))


def test_every_chunk_failing_is_reported_not_a_crash(mpnst, tmp_path, monkeypatch):
    import simulator.screen._run as run_module

    def broken(payload):
        raise RuntimeError("simulated worker failure")

    monkeypatch.setattr(run_module, "_well_chunk", broken)
    spec = ScreenSpec(model=mpnst, cell_lines=("S462",), ratio=0.01, **SMALL)
    result = run_screen(spec, tmp_path, workers=1, progress=False)
    assert result.failed_wells == result.n_wells == 16
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "simulated worker failure" in next(iter(manifest["screen"]["chunk_failures"].values()))
