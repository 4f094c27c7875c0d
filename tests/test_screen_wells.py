"""The screen's wells pass: grouped chunks give the table one matrix per chunk gave; the engine's batch path.

Two references. (1) One ``compute_readouts`` call per matrix, the way one chunk per matrix ran it, in a fresh
process, against the grouped chunks in another fresh process: bit-identical. Fresh processes because KINSOL
in roadrunner carries state from one solve to the next (the last ~13 digits of a steady state depend on
what was solved before it; measured the same before the wells-pass rewrite); two fresh processes solving
in the same order start from the same state. (2) Well by well (its own DMSO solve per well, no grouping),
in-process: equal to rtol 1e-9 (measured max relative difference 8e-11, from that solver state).
"""

from __future__ import annotations

import json
import multiprocessing

import numpy as np
import pandas as pd
import pytest

import simulator as ms
import simulator.readouts._compute as readouts_module
import simulator.screen._run as run_module
import simulator.screen._wells as wells_module
from simulator.engine import SolverOptions, steady_state
from simulator.readouts import compute_readouts
from simulator.screen import WELL_COLUMNS, DrugAxis, ScreenSpec, ratio_series, run_screen

SMALL = {"drug_a": DrugAxis.parse("trametinib:0.3:30:2"), "drug_b": DrugAxis.parse("src_inhibitor_1:100:3000:2")}
MEMBERS = ({"kE": 3.6, "aSRC": 9.0}, {"kE": 4.0}, {"kE": 4.5, "aSRC": 11.0})
READOUTS = ("perk_suppression", "viability", "apoptosis", "g0g1")


def _pairs(spec: ScreenSpec, ratio: float) -> tuple[list[tuple[float, float]], list[str]]:
    pairs = [(a, b) for a in spec.drug_a.doses for b in spec.drug_b.doses]
    mixture = ratio_series(spec.drug_a.doses, ratio)
    return pairs + mixture, ["matrix"] * len(pairs) + ["ratio"] * len(mixture)


def _rows(rows: list) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(WELL_COLUMNS))


def _per_matrix_table(spec: ScreenSpec, ratio: float) -> pd.DataFrame:
    """The wells table as one chunk per matrix built it: a compute_readouts call per matrix, rows as tuples."""
    drugs, lines = ms.load_drugs(), ms.load_cell_lines()
    pairs, series = _pairs(spec, ratio)
    rows = []
    for line in spec.cell_lines:
        for member in range(spec.members):
            values = dict(spec.ensemble[member]) if spec.ensemble else {}
            conditions = [ms.make_condition(spec.model, line, {spec.drug_a.drug: a, spec.drug_b.drug: b},
                                            values=values, catalog=drugs, lines=lines) for a, b in pairs]
            records = compute_readouts(spec.model, conditions, mode=spec.mode, readouts=spec.readouts,
                                       options=spec.options)
            for (a, b), kind, record in zip(pairs, series, records, strict=True):
                rows += [(line, member, kind, a, b, r, float(record.values.get(r, np.nan)), record.status,
                          record.message) for r in spec.readouts]
    return _rows(rows)


def _well_by_well_table(spec: ScreenSpec, ratio: float) -> pd.DataFrame:
    """The wells table built well by well: one compute_readouts call (and DMSO solve) per well."""
    drugs, lines = ms.load_drugs(), ms.load_cell_lines()
    pairs, series = _pairs(spec, ratio)
    rows = []
    for line in spec.cell_lines:
        for member in range(spec.members):
            values = dict(spec.ensemble[member]) if spec.ensemble else {}
            for (a, b), kind in zip(pairs, series, strict=True):
                condition = ms.make_condition(spec.model, line, {spec.drug_a.drug: a, spec.drug_b.drug: b},
                                              values=values, catalog=drugs, lines=lines)
                (record,) = compute_readouts(spec.model, [condition], mode=spec.mode, readouts=spec.readouts,
                                             options=spec.options)
                rows += [(line, member, kind, a, b, r, float(record.values.get(r, np.nan)), record.status,
                          record.message) for r in spec.readouts]
    return _rows(rows)


def _grouped_table(spec: ScreenSpec, ratio: float) -> pd.DataFrame:
    """The wells table from run_screen's chunking, with every member of a line in one chunk."""
    wells_module.MIN_WELL_CHUNKS = 1  # a screen this small would otherwise run one matrix per chunk
    chunks = wells_module._well_chunks(spec, ratio)
    assert [wells_module._chunk_matrices(cid) for cid, _ in chunks] == [spec.members] * len(spec.cell_lines)
    return pd.concat([wells_module._well_chunk(payload) for _, payload in chunks], ignore_index=True)


def _in_fresh_process(fn, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


@pytest.fixture(scope="module")
def spec(mpnst):
    return ScreenSpec(model=mpnst, cell_lines=("S462", "S462_R1"), ensemble=MEMBERS, ratio=0.01, readouts=READOUTS,
                      **SMALL)


def test_grouped_chunks_are_bit_identical_to_one_matrix_per_chunk(spec):
    grouped = _in_fresh_process(_grouped_table, spec, 0.01)
    reference = _in_fresh_process(_per_matrix_table, spec, 0.01)
    assert set(reference["status"]) == {"ok"}
    assert reference["value"].nunique() > 100  # wells really differ (members, doses, readouts)
    pd.testing.assert_frame_equal(grouped, reference, check_exact=True)


def test_grouped_chunks_match_the_well_by_well_table(spec, monkeypatch):
    monkeypatch.setattr(wells_module, "MIN_WELL_CHUNKS", wells_module.MIN_WELL_CHUNKS)  # restored afterwards
    grouped = _grouped_table(spec, 0.01)
    reference = _well_by_well_table(spec, 0.01)
    pd.testing.assert_frame_equal(grouped, reference, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_grouped_chunk_with_a_failing_member_is_bit_identical(mpnst):
    """A member without a steady state (laminin that never decays, kdL = 0): its rows fail, messages kept."""
    options = SolverOptions(presimulation_times=(1.0,))  # fail sooner: one presimulation horizon
    spec = ScreenSpec(model=mpnst, cell_lines=("S462",), ensemble=({"kE": 4.0}, {"kdL": 0.0}, {"kE": 3.7}),
                      ratio=0.01, options=options, **SMALL)
    grouped = _in_fresh_process(_grouped_table, spec, 0.01)
    reference = _in_fresh_process(_per_matrix_table, spec, 0.01)
    assert set(reference.loc[reference["member"] == 1, "status"]) == {"failed"}
    assert set(reference.loc[reference["member"] != 1, "status"]) == {"ok"}
    pd.testing.assert_frame_equal(grouped, reference, check_exact=True)


def _ensemble(n: int) -> tuple[dict[str, float], ...]:
    return tuple({"kE": 4.0 + 0.001 * k} for k in range(n))


@pytest.mark.parametrize("n_lines,members,expect_size", [(6, 100, 9), (2, 3, 1), (1, 64, 1), (2, 64, 2),
                                                         (1, 2000, 10)])
def test_chunk_grouping_covers_every_matrix_once_in_table_order(mpnst, n_lines, members, expect_size):
    all_lines = ("S462", "S462_R1", "S462_R2", "S462_R3", "ST8814", "S462TY")
    spec = ScreenSpec(model=mpnst, cell_lines=all_lines[:n_lines], ensemble=_ensemble(members), ratio=0.01, **SMALL)
    chunks = wells_module._well_chunks(spec, 0.01)
    sizes = [wells_module._chunk_matrices(cid) for cid, _ in chunks]
    assert sum(sizes) == n_lines * members
    assert max(sizes) == expect_size and max(sizes) <= wells_module.MATRICES_PER_CHUNK
    if n_lines * members >= wells_module.MIN_WELL_CHUNKS:
        assert len(chunks) >= wells_module.MIN_WELL_CHUNKS  # >= 4 chunks per worker up to 16 workers
    covered = [(p["cell_line"], m) for _, p in chunks for m in range(*p["members"])]
    assert covered == [(line, m) for line in spec.cell_lines for m in range(members)]
    for cid, payload in chunks:
        assert wells_module._chunk_matrices(cid) == len(range(*payload["members"]))
        assert set(payload["drugs"]) >= {"trametinib", "src_inhibitor_1"} and "S462" in payload["lines"]


def test_a_failed_grouped_chunk_counts_all_its_wells(mpnst, tmp_path, monkeypatch):
    def broken(payload):
        raise RuntimeError("simulated worker failure")

    monkeypatch.setattr(run_module, "_well_chunk", broken)
    monkeypatch.setattr(wells_module, "MIN_WELL_CHUNKS", 1)
    spec = ScreenSpec(model=mpnst, cell_lines=("S462",), ensemble=MEMBERS, ratio=0.01, **SMALL)
    result = run_screen(spec, tmp_path, workers=1, progress=False)
    assert result.n_wells == result.failed_wells == 3 * 9  # 3 matrices of 3 x 3 wells, all in the failed chunk
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"]["wells_failed"] == 27


def test_fast_readouts_share_dmso_solves_by_value_not_by_object(mpnst, condition, monkeypatch):
    """Untreated references are deduplicated by their values (two separately made conditions share one)."""
    seen = []
    real = readouts_module.steady_states

    def counting(model, conditions, **kwargs):
        seen.append(len(conditions))
        return real(model, conditions, **kwargs)

    monkeypatch.setattr(readouts_module, "steady_states", counting)
    dmso_a, dmso_b = condition("S462"), condition("S462")  # equal values, different objects
    treated = condition("S462", {"trametinib": 3.0})
    other_line = condition("S462_R1", {"trametinib": 3.0})
    records = compute_readouts(mpnst, [dmso_a, treated, dmso_b, other_line], readouts=("perk_suppression",))
    assert seen == [2, 2]  # DMSO of S462 and of S462_R1; then only the two treated wells
    assert records[0]["perk_suppression"] == records[2]["perk_suppression"] == 0.0
    assert records[1]["perk_suppression"] > 0.5 and records[3]["perk_suppression"] > 0.5


def test_verify_rejects_each_kind_of_bad_root():
    """_verify after the rewrite: every check still fires (finite, non-negative, at rest, stable)."""
    from simulator.engine._roadrunner import _runner, _verify

    options = SolverOptions()
    logistic = ms.from_antimony_text("J1: -> X; r*X*(1 - X/K)\nX = 0; r = 0.5; K = 4", name="logistic")
    runner = _runner(logistic)
    runner.load(*runner.vectors({}))
    assert _verify(runner, options).startswith("unstable fixed point")  # X = 0: rates 0, eigenvalue r > 0
    runner.set_state(np.array([4.0]))
    assert _verify(runner, options) is None  # X = K: stable, eigenvalue -r
    runner.set_state(np.array([2.0]))
    assert _verify(runner, options) == "rates of change not ~ 0 at the root"
    for bad in (np.nan, np.inf):
        runner.set_state(np.array([bad]))
        assert _verify(runner, options) == "non-finite state"
    linear = ms.from_antimony_text("J1: -> X; k0 - k*X\nX = 0; k0 = -1; k = 1", name="below_zero")
    runner = _runner(linear)
    runner.load(*runner.vectors({}))
    runner.set_state(np.array([-1.0]))  # the root of k0 - k*X with k0 < 0
    assert _verify(runner, options) == "negative concentration at the root"
    record = steady_state(linear, {"k0": 3.0}, select=["X"])
    assert record.ok and record.method == "newton" and record["X"] == pytest.approx(3.0, rel=1e-12)
