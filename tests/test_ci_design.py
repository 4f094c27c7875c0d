"""One Chou-Talalay path (issue 20): a screen, a study's CI design and its convention table give the same CI.

The design is A14's (tests/test_paper_behaviours.py): trametinib 0.1-10 nM and SRC inhibitor 1 100-10000 nM alone
(9 doses each), the mixture diluted like trametinib alone at 1:1000. A screen with these two axes simulates
exactly these wells (its matrix edges and its mixture series), so its constant-ratio CI must be the study's to
solver tolerance, with the same fits (r, fa range) and the same quality flags.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.screen import DrugAxis, ScreenSpec, ci_convention_table, ci_design, exact_ci, run_screen
from simulator.synergy import R_MIN

TRAM, SRCI = "trametinib", "src_inhibitor_1"
AXIS_A, AXIS_B = DrugAxis.parse(f"{TRAM}:0.1:10:9"), DrugAxis.parse(f"{SRCI}:100:10000:9")
DOSES_A, DOSES_B = np.array(AXIS_A.doses[1:]), np.array(AXIS_B.doses[1:])
LEVELS = (0.5, 0.75, 0.9)


@pytest.fixture(scope="module")
def screen(mpnst):
    spec = ScreenSpec(model=mpnst, cell_lines=("S462", "ST8814"), drug_a=AXIS_A, drug_b=AXIS_B,
                      readouts=("viability",), ratio=1e-3)
    return run_screen(spec, workers=1, progress=False).synergy


@pytest.mark.parametrize("line", ["S462", "ST8814"])
def test_screen_and_study_design_give_the_same_ci_fits_and_flags(mpnst, screen, line):
    np.testing.assert_allclose(DOSES_A, np.geomspace(0.1, 10.0, 9), rtol=1e-12)  # A14's doses
    study = ci_design(mpnst, line, TRAM, DOSES_A, SRCI, DOSES_B, (1, 1000), fa_levels=LEVELS)
    rows = screen[(screen["cell_line"] == line) & (screen["member"] == 0) & (screen["score"] == "ci_ratio")]
    rows = rows[rows["fa"].round(6).isin(LEVELS)].sort_values("fa")
    # the same wells, scored by the same function; the steady states agree to the solver's tolerance only (the
    # screen solves its wells in chunks, the design one condition after another): 1e-11 relative seen
    np.testing.assert_allclose(rows["value"], study.ci, rtol=1e-9)
    assert list(rows["flag"]) == [flag or "ok" for flag in study.flags]
    fits = screen[(screen["cell_line"] == line) & (screen["member"] == 0)].set_index("score")["value"]
    for key, fit in (("a", study.fit_a), ("b", study.fit_b), ("mix", study.fit_mix)):
        assert fits[f"median_{key}_r"] == pytest.approx(fit.r, rel=1e-9)
        assert fits[f"median_{key}_n"] == fit.n_points
        assert fits[f"median_{key}_fa_min"] == pytest.approx(fit.fa_min, rel=1e-9)
        assert fits[f"median_{key}_fa_max"] == pytest.approx(fit.fa_max, rel=1e-9)
    # the paper's convention: a synergistic CI at fa 0.5, flagged because SRC inhibitor 1 alone is not a straight
    # median-effect line (it plateaus: r below CompuSyn's 0.95), so it is not counted as a result
    assert study.ci[0] < 0.9 and study.fit_b.r < R_MIN and "b_low_r" in study.flags[0]
    assert not study.usable.any()


def test_convention_table_median_effect_rows_are_the_design_and_exact_rows_the_root_search(mpnst):
    table = ci_convention_table(mpnst, ["S462"], TRAM, DOSES_A, SRCI, DOSES_B, [(1, 100), (1, 1000)],
                                fa_levels=LEVELS)
    assert len(table) == 2 * 2 * len(LEVELS)
    for ratio, pair in (("1:100", (1, 100)), ("1:1000", (1, 1000))):
        median = table[(table["ratio"] == ratio) & (table["method"] == "median-effect")]
        design = ci_design(mpnst, "S462", TRAM, DOSES_A, SRCI, DOSES_B, pair, fa_levels=LEVELS)
        # the same call twice agrees to the solver's tolerance (roadrunner's steady states start from the state the
        # previous condition left): ~1e-12 relative
        np.testing.assert_allclose(median["ci"], design.ci, rtol=1e-9)
        assert list(median["usable"]) == list(design.usable)
        exact = table[(table["ratio"] == ratio) & (table["method"] == "exact Loewe")]
        # exact CI cross-checked by simulating its own doses: the mixture's dose reaches fa, so does trametinib's Dx
        e = exact_ci(mpnst, "S462", TRAM, SRCI, pair, fa_levels=LEVELS)
        np.testing.assert_allclose(exact["ci"], e.ci, rtol=1e-9)
        ok = np.isfinite(e.ci)
        assert ok[:2].all() and not ok[2]  # fa 0.9: neither drug alone reaches it, so Loewe's CI is undefined
        # SRC inhibitor 1 alone never reaches fa 0.5 (its term is 0): the exact CI is dose_a / Dx_a
        np.testing.assert_allclose(e.ci[ok], (e.dose_a / e.dx_a)[ok], rtol=1e-12)
        assert np.isinf(e.dx_b).all()
    # the two conventions the paper does not state move its number: 1:1000 is more synergistic than 1:100, and the
    # exact Loewe CI is larger than the median-effect one (the fit extrapolates SRC inhibitor 1's weak effect)
    at = table[table["fa"] == 0.5].set_index(["ratio", "method"])["ci"]
    assert at["1:1000", "median-effect"] < at["1:100", "median-effect"]
    assert at["1:1000", "exact Loewe"] < at["1:100", "exact Loewe"]
    assert at["1:1000", "median-effect"] < at["1:1000", "exact Loewe"]


def test_flagged_cis_are_kept_out_of_the_ensemble_summary(mpnst):
    # two members of A14's design on one line: SRC inhibitor 1's median-effect fit has r < 0.95 in both, so every
    # CI that rests on it (the constant-ratio table and every well's CI) is flagged and the ensemble summary has no
    # CI rows, while the scores that do not use the fit (Bliss...) are summarised over both members.
    # (Saturated wells: tests/test_synergy.py::test_loewe_additive_matrix_is_additive.)
    spec = ScreenSpec(model=mpnst, cell_lines=("S462",), drug_a=AXIS_A, drug_b=AXIS_B, readouts=("viability",),
                      ratio=1e-3, ensemble=({}, {"Itot": 1.05}))
    result = run_screen(spec, workers=1, progress=False)
    synergy, spread = result.synergy, result.synergy_ensemble
    ratio = synergy[synergy["score"] == "ci_ratio"]
    assert len(ratio) and (ratio["flag"] != "ok").all() and ratio["flag"].str.contains("b_low_r").all()
    wells = synergy[(synergy["score"] == "ci") & synergy["value"].notna()]
    assert len(wells) and wells["flag"].str.contains("b_low_r").all()
    assert not spread["score"].isin(["ci", "ci_ratio"]).any()
    # the table keeps its columns when a group (here every fa row) is left out
    assert list(spread.columns)[-1] == "fa" and spread["fa"].isna().all()
    bliss = spread[spread["score"] == "bliss"]
    assert len(bliss) and (bliss["members"] == 2).all()


def test_a_study_configs_ci_convention_is_checked_with_the_field_named(tmp_path):
    from simulator.study import check_study

    config = tmp_path / "config.toml"
    base = ('title = "t"\nmodel = "mpnst"\ncell_lines = ["S462"]\n[ci_convention]\ndrug_a = "trametinib:0.1:10:9"\n'
            'drug_b = "src_inhibitor_1:100:10000:9"\n')
    config.write_text(base + 'ratios = ["1:100", "1:1000"]\n')
    assert check_study(config) == []
    for extra, expected in (('ratios = ["1:100"]\nfa = [0.5, 1.5]\n', "fa = [0.5, 1.5]"),
                            ('ratios = ["1:100", "abc"]\n', "abc"), ('ratios = "1:100"\n', "ratios"),
                            ('ratios = ["1:100"]\ncolour = 1\n', "unknown key(s) colour")):
        config.write_text(base + extra)
        problems = check_study(config)
        assert any("[ci_convention]" in p and expected in p for p in problems), (extra, problems)
