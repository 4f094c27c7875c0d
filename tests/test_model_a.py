"""Model A (MPNST) against the behaviours of biology.md section 4 and the design prototype [P].

Thresholds are biology.md's defaults. The [P] figures (biology.md 1.5) are what the design prototype
gave; we reproduce them within 3 % as a regression check of the model's equations.
"""

from __future__ import annotations

import numpy as np
import pytest

import simulator as ms
from tests.conftest import REFERENCE_RTOL

R_LINES = ("S462_R1", "S462_R2", "S462_R3")
OBS = ("pERK", "pMEK", "pFAK", "pSRC", "pAKT", "LAMA4_level", "ITGB1_level")


@pytest.fixture(scope="module")
def basal(mpnst, condition):
    return {line: ms.steady_state(mpnst, condition(line)) for line in ("S462", *R_LINES)}


def test_parental_untreated_is_the_reference(basal):
    ss = basal["S462"]
    assert ss.status == "ok"
    for obs in OBS:
        assert ss[obs] == pytest.approx(1.0, rel=REFERENCE_RTOL), obs


@pytest.mark.parametrize("line", R_LINES)
def test_A5_basal_pMEK_pERK_up_in_resistant_lines(basal, line):
    for obs in ("pMEK", "pERK"):
        assert basal[line][obs] / basal["S462"][obs] >= 1.5, obs


@pytest.mark.parametrize("line", R_LINES)
def test_A6_pAKT_not_increased(basal, line):
    assert basal[line]["pAKT"] / basal["S462"]["pAKT"] <= 1.2


@pytest.mark.parametrize("line", R_LINES)
def test_A7_LAMA4_and_integrin_up(basal, line):
    assert basal[line]["LAMA4_level"] > 1.0 and basal[line]["ITGB1_level"] > 1.0


@pytest.mark.parametrize("line", R_LINES)
def test_A8_pFAK_pSRC_up(basal, line):
    for obs in ("pFAK", "pSRC"):
        assert basal[line][obs] / basal["S462"][obs] >= 1.5, obs


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


#: Why some design-prototype figures (biology.md 1.5 [P]) are no longer met: the three FAK.SRC -> MAPK crosstalk
#: gains (sFS, aSRC, aPAK) are half the design's, so that the paper's behaviour A16 holds (mpnst.ant). What is
#: upstream of the crosstalk (p-FAK, p-SRC) keeps the prototype's values; what is downstream moves.
HALVED_CROSSTALK = "FAK.SRC -> MAPK crosstalk gains halved for A16 (models/mpnst.ant); "


def test_prototype_resistant_state_upstream(basal):
    """biology.md 1.5 [P]: R-state basal p-FAK 5.9x and p-SRC 2.6x the parental value."""
    for obs, ratio in {"pFAK": 5.9, "pSRC": 2.6}.items():
        assert basal["S462_R1"][obs] == pytest.approx(ratio, rel=0.03), obs


@pytest.mark.xfail(strict=True, reason=HALVED_CROSSTALK + "R-state basal p-MEK 2.08x and p-ERK 2.51x (prototype "
                   "2.4x, 3.1x); A5 (>= 1.5x) holds")
def test_prototype_resistant_state_downstream(basal):
    """biology.md 1.5 [P]: R-state basal p-MEK 2.4x and p-ERK 3.1x the parental value."""
    for obs, ratio in {"pMEK": 2.4, "pERK": 3.1}.items():
        assert basal["S462_R1"][obs] == pytest.approx(ratio, rel=0.03), obs


def test_prototype_trametinib_10nM_parental(mpnst, condition):
    """[P]: under 10 nM trametinib p-ERK is ~1 % of basal in the parental line (measured 0.77 %)."""
    (p,) = ms.steady_states(mpnst, [condition("S462", {"trametinib": 10})])
    assert p["pERK"] == pytest.approx(0.012, abs=0.005)


@pytest.mark.xfail(strict=True, reason=HALVED_CROSSTALK + "R1 keeps 31 % of the parental basal p-ERK under 10 nM "
                   "trametinib (prototype 55 %); still a 40-fold reactivation over the parental 0.77 % (A9)")
def test_prototype_trametinib_10nM_resistant(mpnst, condition):
    """[P]: under 10 nM trametinib p-ERK in R1 is ~55 % of the parental basal value."""
    (r1,) = ms.steady_states(mpnst, [condition("S462_R1", {"trametinib": 10})])
    assert r1["pERK"] == pytest.approx(0.55, rel=0.03)


@pytest.fixture(scope="module")
def rebound(mpnst, condition):
    traj = ms.time_course(mpnst, np.arange(0.0, 241.0), condition("S462", {"trametinib": 3}), select=["pERK"])
    assert traj.ok
    return traj["pERK"]


def test_prototype_adaptive_rebound(rebound):
    """[P]: 3 nM trametinib on parental cells: p-ERK ~0.7 % at 15 min, then a rebound (measured 0.61 % -> 10 %)."""
    assert rebound[15] == pytest.approx(0.007, abs=0.002)
    assert rebound[240] > 10 * rebound.min()  # a rebound, not a monotone decline


@pytest.mark.xfail(strict=True, reason=HALVED_CROSSTALK + "the rebound reaches 10.2 % at 4 h (prototype 13 %)")
def test_prototype_adaptive_rebound_height(rebound):
    """[P]: the rebound reaches ~13 % of basal p-ERK by 4 h."""
    assert rebound[240] == pytest.approx(0.13, abs=0.01)


def test_pre_equilibrated_untreated_stays_at_steady_state(mpnst, condition, basal):
    traj = ms.time_course(mpnst, np.linspace(0, 1440, 7), condition("S462_R1"))
    for obs in OBS:
        np.testing.assert_allclose(traj[obs], basal["S462_R1"][obs], rtol=1e-5)


def test_conservation_respected_with_cell_line_totals(mpnst, condition):
    """Regression: without conserved-moiety analysis NLEQ2 returned ITG + ITG_L = 2.17 where Itot = 4."""
    ss = ms.steady_state(mpnst, condition("S462_R1"), select=["ITG", "ITG_L", "Itot"])
    assert ss["ITG"] + ss["ITG_L"] == pytest.approx(4.0, rel=1e-9)
    assert ss["ITG_L"] == pytest.approx(2.0, rel=1e-6)  # kon*LAMA4/(kon*LAMA4 + koff) * Itot = 0.5 * 4
