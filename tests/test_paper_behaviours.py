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

from simulator.readouts import compute_readouts
from simulator.synergy import combination_index_at, median_effect_fit
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


def _ci(mpnst, condition, line):
    k = CI_RATIO[1] / CI_RATIO[0]
    series = [(a, 0.0) for a in CI_TRAM_NM] + [(0.0, b) for b in CI_SRCI_NM] + [(a, k * a) for a in CI_TRAM_NM]
    records = compute_readouts(mpnst, [condition(line, {TRAM: a, SRCI: b}) for a, b in series], readouts=["viability"])
    assert all(r.ok for r in records), line
    fa = 1.0 - np.array([r["viability"] for r in records]) / 100.0
    n, m = len(CI_TRAM_NM), len(CI_SRCI_NM)
    fits = (median_effect_fit(CI_TRAM_NM, fa[:n]), median_effect_fit(CI_SRCI_NM, fa[n:n + m]),
            median_effect_fit(CI_TRAM_NM * (1 + k), fa[n + m:]))
    assert all(f.ok for f in fits), (line, fits)
    table = combination_index_at(*fits, CI_RATIO, [CI_FA])
    assert table.status == "ok", table.status
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


def test_A12_trametinib_plus_srci_in_R1_more_apoptosis_and_cell_cycle_perturbation(readout):
    """Fig. 5B/C: in R1 the combination gives more apoptosis and a larger cell-cycle perturbation than either drug.

    The readout layer has one cell-cycle readout, the G0/G1 fraction driven by ERK-dependent proliferation
    (biology.md section 3), so "larger perturbation" is checked as a larger G0/G1 fraction. The S-phase arrest the
    paper reports for the combination (Fig. 5B) is NOT representable by this readout layer: it has no S or G2/M
    compartment and no SRC/FAK input to cell-cycle progression other than through ERK.

    Measured (trametinib 10 nM, SRCi 1 uM): Annexin-V+ 0.0276 / 0.0231 / combination 0.0523; G0/G1 0.607 / 0.463 /
    combination 0.848.
    """
    tram, srci, combo = (readout("S462_R1", d) for d in ({TRAM: 10.0}, {SRCI: SRCI_NM}, {TRAM: 10.0, SRCI: SRCI_NM}))
    assert combo["apoptosis"] > max(tram["apoptosis"], srci["apoptosis"])
    assert combo["g0g1"] > max(tram["g0g1"], srci["g0g1"])


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
    """
    assert cis[line] == pytest.approx(CI_TARGETS[line], abs=CI_TARGET_TOL)
    if line in FITTED_LINES:
        assert cis[line] == pytest.approx(CI_TARGETS[line], abs=FIT_TOL)


def test_A14_rank_st8814_s462_s462ty(cis):
    assert cis["ST8814"] < cis["S462"] < cis["S462TY"]


def test_A15_combination_raises_apoptosis_above_either_single_agent(readout):
    """Fig. 6C: Annexin-V+ in S462, measured DMSO 0.0238, trametinib 0.0292, SRCi 0.0271, combination 0.0518."""
    tram, srci, combo = (readout("S462", d)
                         for d in ({TRAM: PARENTAL_TRAM_NM}, {SRCI: SRCI_NM}, {TRAM: PARENTAL_TRAM_NM, SRCI: SRCI_NM}))
    assert combo["apoptosis"] > max(tram["apoptosis"], srci["apoptosis"])


def test_A15_src_inhibitor_alone_does_not_raise_apoptosis(readout):
    """Fig. 6C, S7: SRCi alone did not raise apoptosis or cleaved PARP (<= 1.2x DMSO).

    Holds with basal apoptosis d0 = 0.15*dmax (mpnst.ant); with biology.md's d0 = 0 the DMSO baseline was
    ~0 and SRCi alone gave 2.9x.
    """
    dmso, srci = readout("S462"), readout("S462", {SRCI: SRCI_NM})
    assert srci["apoptosis"] <= A15_SRCI_MAX_FOLD * dmso["apoptosis"]


def test_A16_combination_does_not_deepen_g0g1_arrest(readout):
    """Fig. 6B: in S462 the combination's G0/G1 arrest is not greater than trametinib's (<= 1.1x).

    Measured at trametinib 1 nM: G0/G1 0.542 alone, 0.585 with SRCi 1 uM (1.080x); p-ERK suppression 0.59 -> 0.68.
    Met since the FAK.SRC -> MAPK crosstalk gains were halved (models/mpnst.ant; with the design's gains SRCi
    deepened the suppression 0.56 -> 0.71 and G0/G1 1.144x, because G0/G1 depends on ERK alone).
    """
    tram, combo = readout("S462", {TRAM: PARENTAL_TRAM_NM}), readout("S462", {TRAM: PARENTAL_TRAM_NM, SRCI: SRCI_NM})
    assert combo["g0g1"] <= A16_MAX_FOLD * tram["g0g1"]


#: trametinib doses (nM) around S462's 1.53 nM IC50 at which A16 must hold as well
A16_SCAN_NM = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)


def test_A16_holds_at_every_trametinib_dose_near_the_ic50(readout):
    """The paper gives no dose, so A16 must not hinge on the one chosen: the fold peaks near the IC50.

    Measured (SRCi 1 uM): 1.044, 1.080, 1.098, 1.088, 1.043, 1.007 at 0.5-5 nM (the design's gains: up to 1.177).
    """
    for dose in A16_SCAN_NM:
        tram, combo = readout("S462", {TRAM: dose}), readout("S462", {TRAM: dose, SRCI: SRCI_NM})
        assert combo["g0g1"] <= A16_MAX_FOLD * tram["g0g1"], dose
