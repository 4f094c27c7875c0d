"""Behaviours A10-A16 of biology.md section 4 (source Fig. 4C, 5, 6, S4-S7), with biology.md's thresholds.

All readouts are fast-mode (:func:`simulator.readouts.compute_readouts`): CCK-8 viability at 72 h (% of the same
line's DMSO), Annexin-V+ fraction and G0/G1 fraction at 24 h. The paper gives no doses for Fig. 4-6, so every
dose below is a stated, pharmacologically sensible choice (representative, not digitized):

* resistant lines: each MEK inhibitor near its R-line viability IC50 (tests/test_readouts.py measures trametinib
  19 nM in R1, TAK-733 88 nM in R2, selumetinib 397 nM in R3), trametinib at 10 nM as in biology.md's A9 and
  section 1.5; obtustatin at 10x its 2 nM cell-adhesion IC50; GSK2256098 at 1 uM (PDAC cells need 0.1-10 uM,
  Zhang 2014); SRC inhibitor 1 at 1 uM;
* parental lines (S462, ST8814, S462TY): trametinib 1 nM (just below S462's 1.53 nM IC50) and SRC inhibitor 1
  1 uM, the same 1:1000 ratio as the CI convention of A14.

A14 uses the CI convention of experiments/fit_line_ci (README there), asserted equal to its config.toml, and
recomputes the CIs through the library from the parameters in models/cell_lines.toml.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

import simulator as ms
from simulator.readouts import compute_readouts
from simulator.screen import ci_design
from tests.conftest import ROOT

TRAM, TAK, SELU = "trametinib", "tak733", "selumetinib"
OBT, GSK, SRCI = "obtustatin", "gsk2256098", "src_inhibitor_1"
#: each resistant line, the MEK inhibitor it was raised against and that drug's dose (nM)
R_MEKI = {"S462_R1": (TRAM, 10.0), "S462_R2": (TAK, 100.0), "S462_R3": (SELU, 400.0)}
OBT_NM, GSK_NM, SRCI_NM = 20.0, 1000.0, 1000.0
PARENTAL_LINES = ("S462", "ST8814", "S462TY")
PARENTAL_TRAM_NM = 1.0

#: A10: obtustatin alone is modest
A10_OBT_ALONE_MIN_PCT = 70.0
#: A13: "singly modest" = viability above this at the single doses above
A13_MODEST_MIN_PCT = 50.0
#: A15: SRC inhibitor 1 alone does not raise apoptosis: Annexin-V+ at most this multiple of DMSO
A15_SRCI_MAX_FOLD = 1.2
#: A16: G0/G1 with the combination at most this multiple of trametinib alone
A16_MAX_FOLD = 1.1

#: A14 CI convention (experiments/fit_line_ci/config.toml; test_ci_convention_is_the_fit_study_s)
CI_FA = 0.5
CI_RATIO = (1, 1000)  # trametinib : SRC inhibitor 1
CI_TRAM_NM = np.geomspace(0.1, 10.0, 9)  # trametinib alone and the mixture's trametinib component
CI_SRCI_NM = np.geomspace(100.0, 10000.0, 9)  # SRC inhibitor 1 alone
CI_TARGETS = {"S462": 0.52, "ST8814": 0.44, "S462TY": 0.62}  # Fig. 6 text [V]
CI_SYNERGY_MAX = 0.9
CI_TARGET_TOL = 0.1
#: lines whose parameter was fitted to their CI: the 4-significant-digit values in cell_lines.toml reach it to
FITTED_LINES, FIT_TOL = ("ST8814", "S462TY"), 0.005


@pytest.fixture(scope="module")
def readout(mpnst, condition):
    """readout(line, doses) -> the fast-mode record (cached: several tests share the same wells)."""
    cache = {}

    def get(line, doses=None):
        key = (line, tuple(sorted((doses or {}).items())))
        if key not in cache:
            (cache[key],) = compute_readouts(mpnst, [condition(line, doses or {})])
            assert cache[key].ok, (key, cache[key].message)
        return cache[key]

    return get


def _ci(mpnst, condition, line, ratio=CI_RATIO, at_fa=CI_FA):
    """CI of trametinib + SRC inhibitor 1 in ``line`` at ``at_fa`` along the constant ``ratio`` (A14's grids).

    Through the one Chou-Talalay path a screen and the demo's CI convention table take
    (:func:`simulator.screen.ci_design`; tests/test_ci_design.py pins the screen to it). The CI is flagged
    ``b_low_r``: SRC inhibitor 1 alone plateaus near 94 % viability, so its median-effect line has r ~0.87 < 0.95;
    the paper's numbers rest on that fit (the demo report's "CI convention" table shows the exact Loewe CI beside).
    """
    del condition  # ci_design builds the same conditions (the line's parameters, catalogue drugs)
    table = ci_design(mpnst, line, TRAM, CI_TRAM_NM, SRCI, CI_SRCI_NM, ratio, fa_levels=[at_fa])
    assert table.status == "ok" and all(f.ok for f in (table.fit_a, table.fit_b, table.fit_mix)), (line, table)
    return float(table.ci[0])


@pytest.fixture(scope="module")
def cis(mpnst, condition):
    return {line: _ci(mpnst, condition, line) for line in CI_TARGETS}


# ------------------------------------------------------------------------------ resistant lines (Fig. 4C, 5)


@pytest.mark.parametrize("line", R_MEKI)
def test_A10_obtustatin_resensitises_resistant_lines(readout, line):
    """Fig. 4C: obtustatin + the line's MEK inhibitor < MEK inhibitor alone; obtustatin alone > 70 %.

    Measured: R1 49.4 -> 15.3 %, R2 33.2 -> 16.0 %, R3 42.0 -> 18.4 %; obtustatin alone 94.4 % (R1).
    """
    drug, dose = R_MEKI[line]
    meki, obt, combo = (readout(line, d)["viability"] for d in ({drug: dose}, {OBT: OBT_NM}, {drug: dose, OBT: OBT_NM}))
    assert obt > A10_OBT_ALONE_MIN_PCT
    assert combo < meki


@pytest.mark.parametrize("partner", [GSK, SRCI])
@pytest.mark.parametrize("line", ["S462_R1", "S462_R2"])
def test_A11_fak_or_src_inhibitor_plus_meki_beats_either_alone(readout, line, partner):
    """Fig. 5A, S4, S5 (R1 with trametinib, R2 with TAK-733).

    Measured: GSK2256098 alone 86.2 %, SRCi alone 94.4 % (R1); R1 trametinib 49.4 % -> + GSK 6.2 %, + SRCi 15.3 %;
    R2 TAK-733 33.2 % -> + GSK 6.3 %, + SRCi 15.9 %.
    """
    drug, dose = R_MEKI[line]
    partner_nm = {GSK: GSK_NM, SRCI: SRCI_NM}[partner]
    meki, alone, combo = (readout(line, d)["viability"]
                          for d in ({drug: dose}, {partner: partner_nm}, {drug: dose, partner: partner_nm}))
    assert combo < min(meki, alone)


def test_A12_trametinib_plus_srci_in_R1_more_apoptosis_and_less_proliferation(mpnst, condition, readout):
    """Fig. 5B/C: in R1 the combination gives more apoptosis and a larger cell-cycle perturbation than either drug.

    What Fig. 5B measures is the S-phase fraction (PI flow cytometry at 24 h, ModFit): "the S-phase arrest ...
    induced by SRC inhibitor 1 and trametinib combination therapy [was] much more significant than single agents".
    The model has one cell-cycle quantity, the ERK-driven proliferation rate g (cyclin D1, G1/S), so it can
    represent "a larger perturbation" only as a larger loss of proliferation, which any arrest implies; that is
    what is asserted here. It cannot say in which phase cells stop: the built-in ``g0g1`` readout maps any loss of g
    to G0/G1 and so reads the combination as a G1 arrest (0.848 against 0.607 / 0.463), opposite in kind to the
    paper's S-phase arrest. Known deviation (models/mpnst.md): an S-phase arrest would need an S-phase
    progression term that FAK/SRC reaches other than through ERK, which neither the paper nor biology.md gives.

    Measured (trametinib 10 nM, SRCi 1 uM): Annexin-V+ 0.0276 / 0.0231 / combination 0.0523; proliferation g
    relative to R1 DMSO 0.61 / 0.97 / combination 0.005.
    """
    tram, srci, combo = (readout("S462_R1", d) for d in ({TRAM: 10.0}, {SRCI: SRCI_NM}, {TRAM: 10.0, SRCI: SRCI_NM}))
    assert combo["apoptosis"] > max(tram["apoptosis"], srci["apoptosis"])
    doses = ({}, {TRAM: 10.0}, {SRCI: SRCI_NM}, {TRAM: 10.0, SRCI: SRCI_NM})
    g0, g_tram, g_srci, g_combo = (s["g"] for s in ms.steady_states(mpnst, [condition("S462_R1", d) for d in doses],
                                                                      select=["g"]))
    assert g_combo / g0 < min(g_tram, g_srci) / g0


# ------------------------------------------------------------------------------------ parental lines (Fig. 6)


@pytest.mark.parametrize("line", PARENTAL_LINES)
def test_A13_parental_lines_single_agents_modest_combination_stronger(readout, line):
    """Fig. 6A, S6: each drug alone keeps viability > 50 %; the combination is below either alone.

    Measured (trametinib 1 nM / SRCi 1 uM / both): S462 66.4 / 94.9 / 48.0 %; ST8814 79.5 / 93.0 / 51.3 %;
    S462TY 63.6 / 95.6 / 47.9 %.
    """
    tram, srci, combo = (readout(line, d)["viability"]
                         for d in ({TRAM: PARENTAL_TRAM_NM}, {SRCI: SRCI_NM}, {TRAM: PARENTAL_TRAM_NM, SRCI: SRCI_NM}))
    assert tram > A13_MODEST_MIN_PCT and srci > A13_MODEST_MIN_PCT
    assert combo < min(tram, srci)


def test_ci_convention_is_the_fit_study_s():
    """The convention here is the one experiments/fit_line_ci fitted the line parameters with."""
    cfg = tomllib.loads((ROOT / "experiments" / "fit_line_ci" / "config.toml").read_text(encoding="utf-8"))
    conv = cfg["convention"]
    assert (conv["readout"], conv["mode"], conv["drug_a"], conv["drug_b"]) == ("viability", "fast", TRAM, SRCI)
    assert conv["fa"] == CI_FA and tuple(conv["ratio"]) == CI_RATIO
    assert np.geomspace(*conv["doses_a_nM"], conv["points"]) == pytest.approx(CI_TRAM_NM)
    assert np.geomspace(*conv["doses_b_nM"], conv["points"]) == pytest.approx(CI_SRCI_NM)
    assert cfg["targets"] == CI_TARGETS
    assert set(cfg["fit"]["check_only"]) | set(FITTED_LINES) == set(CI_TARGETS)


def test_A14_synergy_in_all_three_lines(cis):
    """Fig. 6 text: CI < 0.9 (synergy) in S462, ST8814, S462TY. Measured 0.578, 0.440, 0.620."""
    assert all(ci < CI_SYNERGY_MAX for ci in cis.values()), cis


@pytest.mark.parametrize("line", CI_TARGETS)
def test_A14_ci_matches_the_paper_within_0_1(cis, line):
    """CI at fa 0.5, trametinib:SRCi 1:1000, 72 h viability within +-0.1 of 0.52 / 0.44 / 0.62.

    S462 keeps the model defaults (it is the reference of every observable and of R1-R3), so its 0.578 is a check;
    ST8814 and S462TY have Itot fitted to their CI (experiments/fit_line_ci), so they must also hit it to FIT_TOL.
    S462's check holds because KF was lowered from biology.md's 1 to 0.5 together with the halved crosstalk gains
    (models/mpnst.ant; with KF = 1 and the halved gains S462's CI is 0.647, outside the band).
    """
    assert cis[line] == pytest.approx(CI_TARGETS[line], abs=CI_TARGET_TOL)
    if line in FITTED_LINES:
        assert cis[line] == pytest.approx(CI_TARGETS[line], abs=FIT_TOL)


def test_A14_rank_at_the_fitted_convention_is_a_fit_check(cis):
    """ST8814 < S462 < S462TY at the fitted convention. A fit check, not a prediction: ST8814 and S462TY were fitted
    to 0.44 and 0.62 there, so this only asks that S462's unfitted CI (0.578) lies between them."""
    assert cis["ST8814"] < cis["S462"] < cis["S462TY"]


#: CI conventions at which nothing was fitted: (ratio trametinib:SRCi, fa)
UNFITTED_CONVENTIONS = (((1, 100), 0.5), ((1, 300), 0.5), ((1, 1000), 0.75), ((1, 1000), 0.9))


@pytest.mark.parametrize(("ratio", "fa"), UNFITTED_CONVENTIONS)
def test_A14_rank_holds_where_nothing_was_fitted(mpnst, condition, ratio, fa):
    """A prediction of the fitted Itot values: the paper's rank ST8814 < S462 < S462TY also holds at conventions the
    fit never saw. Measured (ST8814 / S462 / S462TY): 1:100 fa 0.5 0.731 / 0.758 / 0.778; 1:300 fa 0.5 0.561 /
    0.664 / 0.698; 1:1000 fa 0.75 0.422 / 0.548 / 0.592; fa 0.9 0.405 / 0.519 / 0.566. Not asserted: 1:100 at
    fa 0.9, where ST8814 and S462 tie (0.630 / 0.631)."""
    ci = {line: _ci(mpnst, condition, line, ratio=ratio, at_fa=fa) for line in CI_TARGETS}
    assert ci["ST8814"] < ci["S462"] < ci["S462TY"], ci


def test_A15_combination_raises_apoptosis_above_either_single_agent(readout):
    """Fig. 6C: Annexin-V+ in S462, measured DMSO 0.0238, trametinib 0.0292, SRCi 0.0271, combination 0.0518."""
    tram, srci, combo = (readout("S462", d)
                         for d in ({TRAM: PARENTAL_TRAM_NM}, {SRCI: SRCI_NM}, {TRAM: PARENTAL_TRAM_NM, SRCI: SRCI_NM}))
    assert combo["apoptosis"] > max(tram["apoptosis"], srci["apoptosis"])


def test_A15_src_inhibitor_alone_does_not_raise_apoptosis_with_d0_raised_for_it(readout):
    """Fig. 6C, S7: SRCi alone did not raise apoptosis (Annexin-V+ <= 1.2x DMSO; measured 1.14x).

    Holds because basal apoptosis d0 was raised for it, from biology.md's 0 to 0.15*dmax (models/mpnst.ant): with
    d0 = 0 the DMSO baseline was ~0 and SRCi alone gave 2.9x. d0 cancels out of CCK-8 viability.
    """
    dmso, srci = readout("S462"), readout("S462", {SRCI: SRCI_NM})
    assert srci["apoptosis"] <= A15_SRCI_MAX_FOLD * dmso["apoptosis"]


def test_A15_cleaved_parp_srci_alone_flat_combination_above_trametinib(mpnst, condition):
    """Fig. S7 text: "SRC inhibitor 1 could not upregulate cleaved PARP expression in S462 cells but can
    significantly increase the activation of cleaved PARP induced by MEKi trametinib".

    Cleaved PARP per cell (observable ``cPARP``, relative to S462 DMSO; see test_readouts.py A4). Measured:
    SRCi 1 uM 1.14x (<= 1.2x, with d0 raised as above), trametinib 1 nM 1.18x, combination 2.06x.
    """
    doses = ({SRCI: SRCI_NM}, {TRAM: PARENTAL_TRAM_NM}, {TRAM: PARENTAL_TRAM_NM, SRCI: SRCI_NM})
    srci, tram, combo = (r["cPARP"] for r in compute_readouts(mpnst, [condition("S462", d) for d in doses],
                                                               readouts=["cPARP"]))
    assert srci <= A15_SRCI_MAX_FOLD
    assert combo > max(tram, srci)


def test_A16_combination_does_not_deepen_g0g1_arrest_with_crosstalk_halved_for_it(readout):
    """Fig. 6B: in S462 the combination's G0/G1 arrest is not greater than trametinib's (<= 1.1x).

    Measured at trametinib 1 nM: G0/G1 0.542 alone, 0.585 with SRCi 1 uM (1.080x); p-ERK suppression 0.59 -> 0.68.
    Holds because the three FAK.SRC -> MAPK crosstalk gains (sFS, aSRC, aPAK) were halved for it (models/mpnst.ant;
    with the design's gains SRCi deepened the suppression 0.56 -> 0.71 and G0/G1 1.144x, because G0/G1 depends on
    ERK alone). The trade-off: R1's prototype figures downstream of the crosstalk are no longer met, and A16 fails
    again above SRCi 1 uM (1.106 at 2 uM, 1.111 at 10 uM, trametinib 1.5 nM; models/mpnst.md).
    """
    tram, combo = readout("S462", {TRAM: PARENTAL_TRAM_NM}), readout("S462", {TRAM: PARENTAL_TRAM_NM, SRCI: SRCI_NM})
    assert combo["g0g1"] <= A16_MAX_FOLD * tram["g0g1"]


#: trametinib doses (nM) around S462's 1.53 nM IC50 at which A16 must hold as well
A16_SCAN_NM = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)


def test_A16_holds_at_every_trametinib_dose_near_the_ic50_with_crosstalk_halved_for_it(readout):
    """The paper gives no dose, so A16 must not hinge on the trametinib dose chosen: the fold peaks near the IC50.

    Measured (SRCi 1 uM): 1.044, 1.080, 1.098, 1.088, 1.043, 1.007 at 0.5-5 nM (the design's gains: up to 1.177).
    It does hinge on the SRCi dose: at 2-10 uM the peak is 1.106-1.111 (models/mpnst.md, the A16 trade-off).
    """
    for dose in A16_SCAN_NM:
        tram, combo = readout("S462", {TRAM: dose}), readout("S462", {TRAM: dose, SRCI: SRCI_NM})
        assert combo["g0g1"] <= A16_MAX_FOLD * tram["g0g1"], dose
