"""Issue 19 items 3-4: self-describing screen tables, the SynergyFinder table and a portable interactive report.

The report test opens a copy of ``report.html`` in headless Chromium (skipped when no chromium is installed; CI
installs Debian's): no console error, every image and script embedded, the plotly figures drawn.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from simulator.cli import main

SCREEN = ["screen", "--model", "mpnst", "--cell-lines", "S462,S462_R1", "--drug-a", "trametinib:0.3:30:3",
          "--drug-b", "src_inhibitor_1:100:10000:3", "--ratio", "1:1000", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("interop") / "screen"
    assert main([*SCREEN, "--synergyfinder", "--out", str(out)]) == 0
    return out


def test_wells_and_synergy_tables_name_drugs_doses_and_units(screen_dir):
    wells = pd.read_csv(screen_dir / "wells.csv")
    assert list(wells.columns) == ["cell_line", "member", "series", "drug_a", "drug_b", "dose_a_nM", "dose_b_nM",
                                   "readout", "value", "unit", "fraction_affected", "status", "message"]
    assert set(wells["drug_a"]) == {"trametinib"} and set(wells["drug_b"]) == {"src_inhibitor_1"}
    units = wells.groupby("readout")["unit"].unique().to_dict()
    assert list(units["viability"]) == ["% of DMSO"] and list(units["perk_suppression"]) == ["fraction of DMSO"]
    via = wells[wells["readout"] == "viability"]  # fa = 1 - viability/100, the form every score uses
    np.testing.assert_allclose(via["fraction_affected"], 1 - via["value"] / 100, rtol=0, atol=1e-15)
    synergy = pd.read_parquet(screen_dir / "synergy.parquet")
    assert {"drug_a", "drug_b", "dose_a_nM", "dose_b_nM", "unit"} <= set(synergy.columns)
    assert "dose_a" not in synergy.columns
    unit_of = synergy.groupby("score")["unit"].unique().map(list).to_dict()
    assert unit_of["bliss"] == ["fraction affected"] and unit_of["ci"] == ["1"]
    assert unit_of["median_a_Dm"] == ["nM"] and unit_of["median_a_m"] == ["1"]
    assert all(len(u) == 1 and u[0] for u in unit_of.values())  # every score has one, stated unit


def test_synergyfinder_table_is_full_matrices_and_reproduces_bliss(screen_dir):
    """SynergyFinder's format (full >= 3 x 3 blocks, one drug pair and unit each); its Bliss definition on the
    exported % inhibition, y_AB - (y_A + y_B - y_A y_B / 100), equals 100 x mekisim's Bliss excess."""
    sf = pd.read_csv(screen_dir / "synergyfinder_viability_inhibition.csv")
    assert list(sf.columns[:7]) == ["PairIndex", "Drug1", "Drug2", "Conc1", "Conc2", "Response", "ConcUnit"]
    synergy = pd.read_parquet(screen_dir / "synergy.parquet")
    assert sf["PairIndex"].nunique() == 2  # one block per cell line
    for _, block in sf.groupby("PairIndex"):
        assert block[["Drug1", "Drug2", "ConcUnit", "cell_line_name"]].nunique().max() == 1
        n1, n2 = block["Conc1"].nunique(), block["Conc2"].nunique()
        assert n1 >= 3 and n2 >= 3 and len(block) == n1 * n2 and not block["Response"].isna().any()
        mono_a = block[block["Conc2"] == 0].set_index("Conc1")["Response"]
        mono_b = block[block["Conc1"] == 0].set_index("Conc2")["Response"]
        combo = block[(block["Conc1"] > 0) & (block["Conc2"] > 0)]
        ya, yb = mono_a.loc[combo["Conc1"]].to_numpy(), mono_b.loc[combo["Conc2"]].to_numpy()
        bliss_sf = combo["Response"].to_numpy() - (ya + yb - ya * yb / 100)
        line = block["cell_line_name"].iloc[0]
        ours = synergy[(synergy["cell_line"] == line) & (synergy["readout"] == "viability")
                       & (synergy["score"] == "bliss")].set_index(["dose_a_nM", "dose_b_nM"])["value"]
        expected = 100 * ours.loc[list(zip(combo["Conc1"], combo["Conc2"], strict=True))].to_numpy()
        np.testing.assert_allclose(bliss_sf, expected, rtol=0, atol=1e-9)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_copied_report_is_self_contained_and_renders_in_headless_chromium(screen_dir, tmp_path, capsys):
    assert main(["report", str(screen_dir), "--workers", "1"]) == 0
    page = (screen_dir / "report.html").read_text(encoding="utf-8")
    assert page.count("<script>") - page.count("Plotly.newPlot") <= 2  # plotly.js once, not per figure
    assert len(page) < 12_000_000
    # every resource is inside the page: images as data URIs, no script or stylesheet from elsewhere
    sources = re.findall(r"<(?:img|script|iframe)[^>]*\ssrc=['\"]([^'\"]+)", page)
    assert sources and all(s.startswith("data:image/") for s in sources)
    assert not re.search(r"<link[^>]+stylesheet", page)
    assert "<nav class='toc'>" in page and page.count("<li><a href='#s") >= 4
    assert "fa [fraction affected]" in page and "CI [1]" in page  # units in the headers
    assert ">synergy.parquet<" in page and ">wells.csv<" in page  # links to the full tables
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium installed (CI installs Debian's chromium)")
    copy = tmp_path / "elsewhere" / "report.html"  # alone, away from its figures and tables
    copy.parent.mkdir()
    shutil.copy(screen_dir / "report.html", copy)
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                          "--v=0", "--log-level=0", "--virtual-time-budget=15000", "--dump-dom", copy.as_uri()],
                         capture_output=True, text=True, timeout=180)
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    dom = run.stdout
    figures = page.count("Plotly.newPlot")
    assert figures == 4  # 2 cell lines x 2 readouts, each a heatmap + curves
    assert dom.count('class="main-svg"') >= figures  # plotly drew every figure
    assert dom.count("hoverlayer") >= figures


def test_report_reads_a_screen_written_before_the_self_describing_tables(screen_dir, tmp_path, capsys):
    """An old folder (synergy doses as dose_a/dose_b, wells without drug names or units) is still reported, and
    its SynergyFinder table is the one a new run writes."""
    old = tmp_path / "old"
    shutil.copytree(screen_dir, old)
    (old / "report.html").unlink(missing_ok=True)
    synergy = pd.read_parquet(old / "synergy.parquet").drop(columns=["drug_a", "drug_b", "unit"])
    synergy = synergy.rename(columns={"dose_a_nM": "dose_a", "dose_b_nM": "dose_b"})
    wells = pd.read_parquet(old / "wells.parquet").drop(columns=["drug_a", "drug_b", "unit", "fraction_affected"])
    for name, frame in (("synergy", synergy), ("wells", wells)):
        frame.to_parquet(old / f"{name}.parquet")
        frame.to_csv(old / f"{name}.csv", index=False)
    for sf in old.glob("synergyfinder_*.csv"):
        sf.write_text("stale\n")  # listed in the manifest: kept, and rewritten by report --synergyfinder
    assert main(["report", str(old), "--workers", "1", "--synergyfinder"]) == 0
    assert "Plotly.newPlot" in (old / "report.html").read_text(encoding="utf-8")
    for name in ("synergyfinder_viability_inhibition.csv", "synergyfinder_perk_suppression_inhibition.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(old / name), pd.read_csv(screen_dir / name))


def test_screen_progress_total_counts_the_mixture_wells(tmp_path, monkeypatch):
    """The bar's total is every row the wells pass writes (matrix and constant-ratio wells x readouts)."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    argv = [a for a in SCREEN if a != "--no-progress"]
    assert main([*argv, "--cell-lines", "S462", "--out", str(tmp_path / "s")]) == 0
    wells = pd.read_parquet(tmp_path / "s" / "wells.parquet")
    text = screen.getvalue()
    assert f"{len(wells)}/{len(wells)}" in text, text[-300:]
    assert len(wells) > 4 * 4 * 2  # the mixture series is part of it
