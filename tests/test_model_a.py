"""Model A (MPNST) against the behaviours of biology.md section 4 and the design prototype [P].

Thresholds are biology.md's defaults. The [P] figures (biology.md 1.5) are what the design prototype
gave; those the model still has are reproduced within 3 % as a regression check of its equations. Every parameter
changed from the design to meet a behaviour is listed in models/mpnst.md ("Changed to meet a behaviour"); a test
that holds because of one says so in its docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

import simulator as ms
from tests.conftest import REFERENCE_RTOL

R_LINES = ("S462_R1", "S462_R2", "S462_R3")
OBS = ("pERK", "pMEK", "pFAK", "pSRC", "pAKT", "LAMA4_level", "ITGB1_level", "cPARP")


@pytest.fixture(scope="module")
def basal(mpnst, condition):
    return {line: ms.steady_state(mpnst, condition(line), select=[*OBS, "ITG_L"]) for line in ("S462", *R_LINES)}


def test_parental_untreated_is_the_reference(basal):
    ss = basal["S462"]
    assert ss.status == "ok"
    for obs in OBS:
        assert ss[obs] == pytest.approx(1.0, rel=REFERENCE_RTOL), obs


def test_resistant_lines_share_one_state(lines, basal):
    """R1, R2 and R3 are one parameter set (cell_lines.toml: ksL x5, Itot x4 for each; biology.md section 2).

    So A2 (cross-resistance) and the R2/R3 cases of A5, A6 and A8 would repeat R1's numbers and could not fail on
    their own: they are tested once, on the shared resistant state (R1). What differs between the lines is only
    the MEK inhibitor each was raised against, which A1 (tests/test_readouts.py) and A7's drug cases below
    test per line. If a line gets values of its own (biology.md's optional per-line scale s), this test fails:
    give A2, A5, A6 and A8 per-line cases again.
    """
    r1, r2, r3 = (lines[line] for line in R_LINES)
    assert (dict(r1.set), dict(r1.scale)) == (dict(r2.set), dict(r2.scale)) == (dict(r3.set), dict(r3.scale))
    assert dict(r1.scale) == {"ksL": 5.0, "Itot": 4.0} and not r1.set
    for line in R_LINES[1:]:
        np.testing.assert_array_equal(basal[line].values, basal["S462_R1"].values)


def test_A5_basal_pMEK_pERK_up_in_the_resistant_state(basal):
    """Fig. 2C: basal p-MEK and p-ERK >= 1.5x parental. Measured 2.08x and 2.51x (R1 = R2 = R3)."""
    for obs in ("pMEK", "pERK"):
        assert basal["S462_R1"][obs] / basal["S462"][obs] >= 1.5, obs


def test_A6_pAKT_not_increased_in_the_resistant_state(basal):
    """Fig. 2C: p-AKT/AKT not increased (<= 1.2x). Measured 0.99x.

    Holds by an assumption made for it: the minimal RTK -> PI3K -> AKT branch (kA, aRasA, kdA; added for A6, not
    in biology.md 1.3) is fed by the serum/RTK input and RAS-GTP, not by FAK.SRC (models/mpnst.ant).
    """
    assert basal["S462_R1"]["pAKT"] / basal["S462"]["pAKT"] <= 1.2


#: A7 (Fig. 4A/B: LAMA4, ITGA1, ITGB1 up in R1-R3) is an INPUT of the model: the R lines scale the laminin supply
#: ksL x5 and the alpha1beta1 total Itot x4, and LAMA4_level, ITGB1_level are those parameters. Comparing them would
#: compare the inputs with themselves, so A7 is tested through what follows from them: the engaged integrin, and
#: how each node of the adhesion tier responds to each drug.
ADHESION_NODES = ("ITG_L", "pFAK", "pSRC")
#: each drug of the adhesion tier -> the nodes it must lower in the resistant state (the target and downstream;
#: LAMA4 -> a1b1 (ITG_L) -> FAK pY397 -> SRC pY416) at 10x its cellular IC50 (obtustatin 20 nM) or 1 uM
ADHESION_DRUGS = {"obtustatin": (20.0, {"ITG_L", "pFAK", "pSRC"}), "gsk2256098": (1000.0, {"pFAK", "pSRC"}),
                  "src_inhibitor_1": (1000.0, {"pSRC"})}
#: each resistant line's own MEK inhibitor and dose (nM), as in tests/test_paper_behaviours.py
OWN_MEKI = {"S462_R1": ("trametinib", 10.0), "S462_R2": ("tak733", 100.0), "S462_R3": ("selumetinib", 400.0)}


def test_A7_engaged_integrin_follows_ligand_and_receptor_up(mpnst, basal):
    """Both the ligand (x5) and the receptor (x4) rise, so LAMA4-engaged a1b1 rises 12x, more than either alone.

    Analytic cross-check of the binding equilibrium R3/R4: ITG_L = Itot*kon*L/(kon*L + koff) with L = ksL/kdL.
    Measured ITG_L 0.167 (S462) -> 2.00 (R); p-FAK 5.9x and p-SRC 2.6x follow (A8).
    """
    p = mpnst.parameters

    def engaged(ksl, itot):
        lama4 = ksl / p["kdL"]
        return itot * p["kon"] * lama4 / (p["kon"] * lama4 + p["koff"])

    parental, resistant = engaged(p["ksL"], p["Itot"]), engaged(5 * p["ksL"], 4 * p["Itot"])
    assert basal["S462"]["ITG_L"] == pytest.approx(parental, rel=1e-9)
    assert basal["S462_R1"]["ITG_L"] == pytest.approx(resistant, rel=1e-9)
    # 4 x (0.05/(0.05 + 0.05))/(0.01/(0.01 + 0.05)) = 4 x 3 = 12 at the defaults: more than the receptor's x4 or
    # the ligand's x5 alone, because both rise and the ligand's effect is not yet saturated
    assert resistant / parental == pytest.approx(12.0)


@pytest.mark.parametrize("line", R_LINES)
def test_A7_adhesion_tier_stays_up_under_the_lines_own_mek_inhibitor(mpnst, condition, basal, line):
    """The bypass persists under the drug the line was raised against: engaged integrin, p-FAK and p-SRC are as in
    the untreated resistant state (the model has no ERK feedback onto the adhesion tier, an assumption) and above
    the parental line under the same drug. Measured: ITG_L 12x, p-FAK 5.9x, p-SRC 2.6x parental in each case."""
    drug, dose = OWN_MEKI[line]
    p, r = ms.steady_states(mpnst, [condition("S462", {drug: dose}), condition(line, {drug: dose})],
                            select=list(ADHESION_NODES))
    for node in ADHESION_NODES:
        assert r[node] == pytest.approx(basal[line][node], rel=1e-6), node
        assert r[node] > 1.5 * p[node], node


@pytest.mark.parametrize("drug", ADHESION_DRUGS)
def test_A7_each_adhesion_drug_lowers_its_node_and_those_downstream_only(mpnst, condition, basal, drug):
    """In the resistant state each adhesion-tier drug lowers its target and what is downstream of it, never what
    is upstream (the order LAMA4 -> a1b1 -> FAK -> SRC of biology.md section 1). Measured (relative to untreated
    R1): obtustatin 20 nM: ITG_L 0.17x, p-FAK 0.30x, p-SRC 0.55x; GSK2256098 1 uM: p-FAK 0.03x, p-SRC 0.14x;
    SRC inhibitor 1 1 uM: p-SRC 0.53x."""
    dose, lowered = ADHESION_DRUGS[drug]
    (treated,) = ms.steady_states(mpnst, [condition("S462_R1", {drug: dose})], select=list(ADHESION_NODES))
    for node in ADHESION_NODES:
        ratio = treated[node] / basal["S462_R1"][node]
        if node in lowered:
            assert ratio < 0.6, (node, ratio)
        else:
            assert ratio == pytest.approx(1.0, rel=1e-6), (node, ratio)


def test_A8_pFAK_pSRC_up_in_the_resistant_state(basal):
    """Fig. 4D: p-FAK(Y397) and p-SRC(Y416) >= 1.5x parental. Measured 5.89x and 2.60x (R1 = R2 = R3)."""
    for obs in ("pFAK", "pSRC"):
        assert basal["S462_R1"][obs] / basal["S462"][obs] >= 1.5, obs


def test_A9_MAPK_reactivation_under_trametinib(mpnst, condition):
    p, r1 = ms.steady_states(mpnst, [condition("S462", {"trametinib": 10}), condition("S462_R1", {"trametinib": 10})])
    assert p.ok and r1.ok
    assert r1["pERK"] > 2 * p["pERK"]


def test_A17_selumetinib_raises_pMEK_trametinib_does_not(mpnst, condition):
    """Literature (Gilmartin 2011; Lito 2014): p-MEK accumulates under selumetinib, not trametinib.

    Checked 1 h after 100 nM (the design's time point) and at steady state.
    """
    times = np.linspace(0, 60, 61)
    selu = ms.time_course(mpnst, times, condition("S462", {"selumetinib": 100}), select=["pMEK"])
    tram = ms.time_course(mpnst, times, condition("S462", {"trametinib": 100}), select=["pMEK"])
    assert selu["pMEK"][-1] > 1.2
    assert np.max(tram["pMEK"]) <= 1.1
    ss_selu = ms.steady_state(mpnst, condition("S462", {"selumetinib": 100}))
    ss_tram = ms.steady_state(mpnst, condition("S462", {"trametinib": 100}))
    assert ss_selu["pMEK"] > 1.2 and ss_tram["pMEK"] <= 1.1


#: The design prototype's figures (biology.md 1.5 [P]) that are still met. Four that are downstream of the FAK.SRC ->
#: MAPK crosstalk are not, since the crosstalk gains were halved for A16 (R1 basal p-MEK/p-ERK, R1 p-ERK under
#: 10 nM trametinib, the rebound height, R1's trametinib IC50): their numbers are in models/mpnst.md ("Design
#: prototype figures no longer met"), no longer in strict xfails here.


def test_prototype_resistant_state_upstream(basal):
    """biology.md 1.5 [P]: R-state basal p-FAK 5.9x and p-SRC 2.6x the parental value."""
    for obs, ratio in {"pFAK": 5.9, "pSRC": 2.6}.items():
        assert basal["S462_R1"][obs] == pytest.approx(ratio, rel=0.03), obs


def test_prototype_trametinib_10nM_parental(mpnst, condition):
    """[P]: under 10 nM trametinib p-ERK is ~1 % of basal in the parental line (measured 0.77 %)."""
    (p,) = ms.steady_states(mpnst, [condition("S462", {"trametinib": 10})])
    assert p["pERK"] == pytest.approx(0.012, abs=0.005)


@pytest.fixture(scope="module")
def rebound(mpnst, condition):
    traj = ms.time_course(mpnst, np.arange(0.0, 241.0), condition("S462", {"trametinib": 3}), select=["pERK"])
    assert traj.ok
    return traj["pERK"]


def test_prototype_adaptive_rebound(rebound):
    """[P]: 3 nM trametinib on parental cells: p-ERK ~0.7 % at 15 min, then a rebound (measured 0.61 % -> 10 %)."""
    assert rebound[15] == pytest.approx(0.007, abs=0.002)
    assert rebound[240] > 10 * rebound.min()  # a rebound, not a monotone decline


def test_pre_equilibrated_untreated_stays_at_steady_state(mpnst, condition, basal):
    traj = ms.time_course(mpnst, np.linspace(0, 1440, 7), condition("S462_R1"))
    for obs in OBS:
        np.testing.assert_allclose(traj[obs], basal["S462_R1"][obs], rtol=1e-5)


def test_conservation_respected_with_cell_line_totals(mpnst, condition):
    """Regression: without conserved-moiety analysis NLEQ2 returned ITG + ITG_L = 2.17 where Itot = 4."""
    ss = ms.steady_state(mpnst, condition("S462_R1"), select=["ITG", "ITG_L", "Itot"])
    assert ss["ITG"] + ss["ITG_L"] == pytest.approx(4.0, rel=1e-9)
    assert ss["ITG_L"] == pytest.approx(2.0, rel=1e-6)  # kon*LAMA4/(kon*LAMA4 + koff) * Itot = 0.5 * 4
