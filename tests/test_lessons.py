"""Every central claim of the six lessons (experiments/lessons/, issue 17), asserted against the models.

The lessons' notebooks compute the same numbers for display (tests/test_lesson_notebooks.py runs them); these
tests use the public API directly, so a change of a model that breaks a lesson's text fails here with the
claim's name. Each threshold leaves a margin on the value measured when the lesson was written (in the comment
"measured ..."); a claim is a direction or a size the lesson states, not a digitized number. All parameter
changes are named switches of models/mpnst.toml ``[switches]`` (or plain values), applied before
pre-equilibration.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from scipy.optimize import brentq

import simulator as ms
from tests.conftest import ROOT

LESSONS = ROOT / "experiments" / "lessons"
SWITCHES = tomllib.loads((ROOT / "models" / "mpnst.toml").read_text(encoding="utf-8"))["switches"]
T4H = np.arange(0.0, 241.0)  # min, 1-min grid
IC50 = {"trametinib": 1.0, "selumetinib": 14.0, "tak733": 3.2}  # nM, models/drugs.toml


def off(*names, **values):
    out = {}
    for name in names:
        out.update(SWITCHES[name])
    out.update(values)
    return out


OPEN_ALL = off("sos_feedback", "raf_feedback", "dusp_feedback", "erk_t292_feedback")


@pytest.fixture(scope="module")
def steady(mpnst, condition):
    def run(line="S462", doses=None, values=None, select=("pERK",)):
        rec = ms.steady_state(mpnst, condition(line, doses, values), select=list(select))
        assert rec.ok, rec.message
        return rec

    return run


@pytest.fixture(scope="module")
def course(mpnst, condition):
    def run(line="S462", doses=None, values=None, select=("pERK",), times=T4H):
        traj = ms.time_course(mpnst, times, condition(line, doses, values), select=list(select))
        assert traj.ok, traj.message
        return traj

    return run


@pytest.fixture(scope="module")
def rebound(steady, course):
    """(untreated p-ERK, p-ERK trace over 4 h, rebound = p-ERK(4 h)/minimum) after a trametinib step."""

    def run(values=None, line="S462", dose=3.0):
        basal = steady(line, {}, values, select=("pERK", "ERKpp"))
        trace = course(line, {"trametinib": dose}, values)["pERK"]
        return basal, trace, trace[-1] / trace.min()

    return run


# ------------------------------------------------------------------------------------------ lesson 1


def test_L1_trametinib_step_dips_then_rebounds(rebound):
    _, trace, fold = rebound()
    assert trace.min() < 0.01 and T4H[np.argmin(trace)] <= 20  # measured 0.58 % at 12 min
    assert fold >= 10  # measured 17.6x


def test_L1_opening_sos_raf_dusp_loops_removes_the_rebound(rebound):
    basal, _, fold = rebound(off("sos_feedback", "raf_feedback", "dusp_feedback"))
    assert fold < 1.2  # measured 1.00x: `--switch-off sos_feedback,raf_feedback,dusp_feedback` (issue 17)
    assert basal["pERK"] == pytest.approx(1.0, abs=1e-6)  # the untreated reference did not move


def test_L1_knocking_out_all_three_removes_the_rebound_but_saturates_erk(rebound, steady):
    ko = off("sos_feedback_ko", "raf_feedback_ko", "dusp_feedback_ko")
    basal, _, fold = rebound(ko)
    assert fold < 1.2  # measured 1.00x
    assert basal["pERK"] >= 5 and basal["ERKpp"] >= 0.9  # measured 9.96x, 94.1 % doubly phosphorylated
    assert steady("S462_R1", {}, ko)["pERK"] / basal["pERK"] <= 1.2  # measured 1.04: no input difference shows


def test_L1_sos_raf_knockout_leaves_a_dusp_carried_rebound(rebound, course):
    sr = off("sos_feedback_ko", "raf_feedback_ko")
    _, _, fold = rebound(sr)
    assert fold >= 3  # measured 6.12x (issue 17's "6.1x remains")
    vp = float(course("S462", {"trametinib": 3.0}, sr, select=("Vp",))["Vp"][0])
    _, _, held = rebound({**sr, "VpD": 0.0, "Vp0": vp})
    assert held < 1.2  # measured 1.00x: holding the phosphatase removes it


@pytest.mark.parametrize(("loop", "minimum"), [("sos_feedback", 1.4), ("raf_feedback", 1.4),
                                               ("dusp_feedback", 1.4)])
def test_L1_each_loop_alone_drives_a_rebound(rebound, loop, minimum):
    others = [s for s in ("sos_feedback", "raf_feedback", "dusp_feedback", "erk_t292_feedback") if s != loop]
    assert rebound(off(*others))[2] >= minimum  # measured SOS 3.73x, RAF 2.11x, DUSP 1.71x


def test_L1_t292_loop_alone_does_nothing_in_s462(rebound):
    assert rebound(off("sos_feedback", "raf_feedback", "dusp_feedback"))[2] < 1.05  # measured 1.00x


def test_L1_feedback_buffers_the_fak_src_input(steady):
    def ratios(values):
        p = steady("S462", {}, values, select=("pERK", "FS"))
        r = steady("S462_R1", {}, values, select=("pERK", "FS"))
        return r["pERK"] / p["pERK"], r["FS"] / p["FS"]

    closed, fs = ratios({})
    assert fs >= 10 and closed <= 3.5  # measured FS 15.3x, p-ERK 2.51x
    assert ratios(off("sos_feedback", "raf_feedback", "dusp_feedback"))[0] >= 6  # measured 8.71x
    assert ratios(OPEN_ALL)[0] >= 6  # measured 9.48x


# ------------------------------------------------------------------------------------------ lesson 2


def _pmek_fold(steady, course, drug, dose=100.0, values=None, line="S462"):
    base = steady(line, {}, values, select=("pMEK", "pERK"))
    traj = course(line, {drug: dose}, values, select=("pMEK", "pERK"))
    return traj["pMEK"] / base["pMEK"], traj["pERK"] / base["pERK"]


def test_L2_selumetinib_raises_pmek_trametinib_does_not(steady, course):
    """Issue 17 asks "selumetinib raises p-MEK >= 2x at 1 h": measured 2.06, 3 % above 2; asserted with the
    analysis's honest margin (>= 1.8, "about doubles")."""
    selu, selu_erk = _pmek_fold(steady, course, "selumetinib")
    tak, tak_erk = _pmek_fold(steady, course, "tak733")
    tram, tram_erk = _pmek_fold(steady, course, "trametinib")
    assert selu[60] >= 1.8  # measured 2.06x
    assert tak[60] >= 1.4  # measured 1.73x
    assert tram.max() <= 1.1 and tram[60] <= 0.7  # measured max 1.00 (t = 0), 0.48 at 1 h
    assert max(selu_erk[60], tak_erk[60], tram_erk[60]) <= 0.25  # measured 0.19, 0.0066, 1.3e-5


def test_L2_pmek_rise_is_sos_raf_feedback_relief(steady, course):
    selu, _ = _pmek_fold(steady, course, "selumetinib", values=off("sos_feedback", "raf_feedback"))
    assert selu.max() <= 1.1  # measured 1.02


def test_L2_trametinib_without_its_raf_block_behaves_like_selumetinib(steady, course):
    tram, _ = _pmek_fold(steady, course, "trametinib", values=off("trametinib_raf_block"))
    assert tram[60] >= 1.8  # measured 2.21x


def test_L2_same_efficacy_different_pmek(steady):
    def at_10_percent(drug):
        dose = np.exp(brentq(lambda x: np.log(steady("S462", {drug: np.exp(x)})["pERK"] / 0.1), np.log(1e-3),
                             np.log(1e5), xtol=1e-8))
        return steady("S462", {drug: dose}, select=("pMEK",))["pMEK"]

    assert at_10_percent("selumetinib") >= 2 * at_10_percent("trametinib")  # measured 2.38 vs 0.94


def test_L2_caveat_trametinib_raises_pmek_in_the_resistant_line(steady):
    fold = steady("S462_R1", {"trametinib": 100.0}, select=("pMEK",))["pMEK"] / \
        steady("S462_R1", {}, select=("pMEK",))["pMEK"]
    assert fold >= 1.2  # measured 1.32x at steady state


# ------------------------------------------------------------------------------------------ lesson 3


def _perk_fraction(steady, course, drug, dose, values=None, minutes=None):
    base = steady("S462", {}, values)["pERK"]
    if minutes is None:
        return steady("S462", {drug: dose}, values)["pERK"] / base
    return course("S462", {drug: dose}, values, times=[0.0, minutes])["pERK"][-1] / base


def _hill_free_mek(steady, course, drug, values=None, minutes=None):
    """n_H = ln81/ln(u90/u10) of p-ERK versus the drug-free MEK fraction u = IC50/(IC50 + D)."""
    def dose_at(level):
        return np.exp(brentq(lambda x: np.log(_perk_fraction(steady, course, drug, np.exp(x), values, minutes) / level),
                             np.log(1e-4), np.log(1e5), xtol=1e-8))

    u90, u10 = IC50[drug] / (IC50[drug] + dose_at(0.9)), IC50[drug] / (IC50[drug] + dose_at(0.1))
    return np.log(81) / np.log(u90 / u10)


@pytest.fixture(scope="module")
def hills(steady, course):
    out = {}
    for drug in IC50:
        out[drug, "closed"] = _hill_free_mek(steady, course, drug)
        out[drug, "opened"] = _hill_free_mek(steady, course, drug, OPEN_ALL)
        out[drug, "15 min"] = _hill_free_mek(steady, course, drug, minutes=15.0)
    return out


def test_L3_same_occupancy_different_depth(steady, course):
    tram = _perk_fraction(steady, course, "trametinib", 10 * IC50["trametinib"])  # occupancy 0.909
    selu = _perk_fraction(steady, course, "selumetinib", 10 * IC50["selumetinib"])
    assert tram <= 0.02 and selu >= 0.10  # measured 0.77 % and 19.1 %


def test_L3_trametinib_is_ultrasensitive_on_the_free_mek_axis(hills):
    """Issue 17: "the effective Hill coefficient of p-ERK versus MEK occupancy is >= 3": true for trametinib,
    closed loops, read against the drug-free MEK fraction (measured 3.34; 2.07 against occupancy itself)."""
    assert hills["trametinib", "closed"] >= 3
    assert hills["selumetinib", "closed"] < 2  # measured 1.64: the claim is trametinib's


@pytest.mark.parametrize("drug", list(IC50))
def test_L3_feedback_flattens_the_response(hills, drug):
    assert hills[drug, "opened"] >= 2 * hills[drug, "closed"]  # measured 2.83x, 2.48x, 2.82x
    assert hills[drug, "15 min"] >= 1.5 * hills[drug, "closed"]  # measured 2.22x, 2.01x, 2.21x


def test_L3_feedback_makes_erk_robust_to_partial_inhibition(steady, course):
    closed = _perk_fraction(steady, course, "selumetinib", IC50["selumetinib"])  # occupancy 0.5
    opened = _perk_fraction(steady, course, "selumetinib", IC50["selumetinib"], OPEN_ALL)
    assert closed >= 0.6 and opened <= 0.35  # measured 71 % and 24 %


def test_L3_exercise_zero_order_tiers_steepen_trametinib_only(steady, course):
    zero_order = {"KmM": 0.05, "KpM": 0.05, "KmE": 0.05, "KpE": 0.05}
    assert _hill_free_mek(steady, course, "trametinib", zero_order) >= 6  # measured 7.65
    assert _hill_free_mek(steady, course, "selumetinib", zero_order) < 2  # measured 1.60


def test_L3_huang_ferrell_cascade_is_ultrasensitive():
    hf = ms.load_model(LESSONS / "03_ultrasensitivity" / "BIOMD0000000009.xml")
    e1 = np.logspace(-8, 0, 161)
    recs = ms.steady_states(hf, [{"E1": x} for x in e1], select=["KKK_P_norm", "KK_PP_norm", "K_PP_norm"])
    assert all(r.ok for r in recs)
    hill = {}
    for sid in ("KKK_P_norm", "KK_PP_norm", "K_PP_norm"):
        y = np.array([r[sid] for r in recs])
        y = y / y.max()
        assert np.all(np.diff(y) >= 0)
        x90, x10 = (np.exp(np.interp(level, y, np.log(e1))) for level in (0.9, 0.1))
        hill[sid] = np.log(81) / np.log(x90 / x10)
    assert 4.0 <= hill["K_PP_norm"] <= 5.5  # measured 4.75 (published 4-5, SOURCES.md)
    assert hill["KKK_P_norm"] < hill["KK_PP_norm"] < hill["K_PP_norm"]  # measured 0.80 < 1.52 < 4.75


# ------------------------------------------------------------------------------------------ lesson 4


@pytest.fixture(scope="module")
def k10():
    return ms.load_model(LESSONS / "04_oscillations" / "BIOMD0000000010.xml")


def _k10(k10, **values):
    return ms.steady_state(k10, values, select=["MAPK_PP"], throw=False)


def test_L4_kholodenko_oscillates_with_period_1300s(k10):
    rec = _k10(k10)
    assert rec.status == "oscillating"
    assert rec.period == pytest.approx(1300.0, abs=60.0)  # measured 1300.1 s
    # an independent period: peak-to-peak of a simulated time course after the transient
    t = np.arange(0.0, 30001.0)
    y = ms.time_course(k10, t, {}, select=["MAPK_PP"], pre_equilibrate=False)["MAPK_PP"][10000:]
    i = np.where((y[1:-1] > y[:-2]) & (y[1:-1] >= y[2:]))[0] + 1
    shift = 0.5 * (y[i - 1] - y[i + 1]) / (y[i - 1] - 2 * y[i] + y[i + 1])
    assert len(i) >= 10
    assert np.mean(np.diff(i + shift)) == pytest.approx(rec.period, rel=0.01)  # measured 1299.8 s


def test_L4_promoted_local_parameters_are_settable(k10):
    assert k10.parameters["J0_Ki"] == 9.0 and k10.parameters["J0_n"] == 1.0


@pytest.mark.parametrize(("n", "oscillating", "stable"), [(1.0, (9.0, 20.0), 30.0), (2.0, (9.0, 60.0), 100.0)])
def test_L4_ki_n_map_upper_edge_rises_with_n(k10, n, oscillating, stable):
    for ki in oscillating:
        assert _k10(k10, J0_Ki=ki, J0_n=n).status == "oscillating", ki
    assert _k10(k10, J0_Ki=stable, J0_n=n).status == "ok"  # measured upper edges 23.6 (n = 1), 81.5 (n = 2)


def test_L4_oscillation_dies_in_a_supercritical_hopf(k10):
    at9, at23, at235 = _k10(k10, J0_Ki=9.0), _k10(k10, J0_Ki=23.0), _k10(k10, J0_Ki=23.5)
    amplitude = {k: float(r.high[0] - r.low[0]) for k, r in (("9", at9), ("23", at23), ("23.5", at235))}
    assert amplitude["23"] < 0.5 * amplitude["9"]  # measured 60 vs 262 nM
    assert amplitude["23.5"] < amplitude["23"] and at235.period > 1000  # amplitude -> 0 at a finite period
    assert _k10(k10, J0_Ki=24.0).status == "ok"


def test_L4_too_strong_feedback_also_stops_it(k10):
    assert _k10(k10, J0_Ki=0.05).status == "ok" and _k10(k10, J0_Ki=0.06).status == "oscillating"


def test_L4_exercise_period_is_set_by_the_lower_tiers(k10):
    v1 = _k10(k10, J0_V1=1.25)
    slow = _k10(k10, J2_k3=0.0125, J3_k4=0.0125, J6_k7=0.0125, J7_k8=0.0125, J4_V5=0.375, J5_V6=0.375,
                J8_V9=0.25, J9_V10=0.25)
    assert v1.status == slow.status == "oscillating"
    assert abs(v1.period / 1300 - 1) < 0.1 and slow.period / 1300 >= 1.4  # measured 1249 s and 2117 s


@pytest.mark.parametrize(("line", "doses", "values"), [
    ("S462", {}, {}), ("S462", {"trametinib": 3.0}, {}), ("S462_R1", {"trametinib": 10.0}, {}),
    ("S462", {}, {"kfbS": 50.0, "kfbR": 20.0})])
def test_L4_model_a_does_not_oscillate(mpnst, condition, line, doses, values):
    assert ms.steady_state(mpnst, condition(line, doses, values), select=["pERK"], throw=False).status == "ok"


# ------------------------------------------------------------------------------------------ lesson 5


def test_L5_bypass_is_unmasked_by_the_drug(steady):
    def ratio(dose, values=None):
        return steady("S462_R1", {"trametinib": dose}, values)["pERK"] / steady("S462", {"trametinib": dose}, values)[
            "pERK"]

    assert ratio(0.0) <= 3.5 and ratio(10.0) / ratio(0.0) >= 5  # measured 2.51 -> 40.0 (16x)
    only = {"SOS": off("src_raf_crosstalk", "pak_crosstalk"), "RAF": off("fak_sos_crosstalk", "pak_crosstalk"),
            "PAK": off("fak_sos_crosstalk", "src_raf_crosstalk")}
    at10 = {k: ratio(10.0, v) for k, v in only.items()}
    assert at10["PAK"] >= 3 * max(at10["RAF"], at10["SOS"])  # measured 17.6 vs 3.86, 1.80


def test_L5_relief_then_power_law_down_the_tiers(steady):
    sel = ("SOSact", "RAFa", "kRM", "MEKpp", "ERKpp")

    def tiers(dose):
        p, r = steady("S462", {"trametinib": dose}, select=sel), steady("S462_R1", {"trametinib": dose}, select=sel)
        return {k: r[k] / p[k] for k in sel}

    untreated, drug = tiers(0.0), tiers(10.0)
    assert untreated["SOSact"] < 1 and untreated["RAFa"] < 1  # measured 0.82, 0.94: feedback cancels the crosstalk
    assert drug["kRM"] >= 1.3 * untreated["kRM"]  # measured 1.77 -> 2.59 (relief)
    assert drug["ERKpp"] >= 10 * drug["kRM"]  # measured 40 vs 2.6 (two squaring tiers)


@pytest.mark.parametrize("partner", [{"obtustatin": 20.0}, {"gsk2256098": 1000.0}, {"src_inhibitor_1": 1000.0}])
def test_L5_partners_act_on_the_unmasked_bypass(steady, partner):
    alone = steady("S462_R1")["pERK"] / steady("S462_R1", partner)["pERK"]
    tram = {"trametinib": 10.0}
    combined = steady("S462_R1", tram)["pERK"] / steady("S462_R1", {**tram, **partner})["pERK"]
    assert combined >= 10 and combined >= 5 * alone  # measured 17.7/73/17.9 vs 2.1/2.9/2.1


@pytest.fixture(scope="module")
def viability_ic50(mpnst, condition):
    """Trametinib dose leaving 50 % of the line's DMSO viability at 72 h (root-finding on the model, no fit)."""

    def ic50(line, values=None):
        def gap(x):
            (rec,) = ms.compute_readouts(mpnst, [condition(line, {"trametinib": np.exp(x)}, values)],
                                         readouts=["viability"])
            assert rec.ok, rec.message
            return rec["viability"] - 50.0

        return float(np.exp(brentq(gap, np.log(1e-3), np.log(1e4), xtol=1e-8)))

    return ic50


@pytest.mark.parametrize(("switches", "low", "high"), [
    ((), 3.0, None),                                       # measured 6.90x (A1: >= 3x)
    (("fak_src_bypass",), None, 1.2),                      # measured 1.04x
    (("fak_src_survival",), 3.0, None),                    # measured 6.73x: the shift is signalling
    (("fak_src_bypass", "fak_src_survival"), 0.999, 1.001),  # measured 1.000x
])
def test_L5_ic50_shift_is_carried_by_the_bypass(viability_ic50, switches, low, high):
    values = off(*switches)
    shift = viability_ic50("S462_R1", values) / viability_ic50("S462", values)
    assert (low is None or shift >= low) and (high is None or shift <= high)


def test_L5_exercise_feedback_is_itself_a_resistance_mechanism(viability_ic50):
    assert viability_ic50("S462") >= 3 * viability_ic50("S462", OPEN_ALL)  # measured 1.43 vs 0.285 nM
    closed = viability_ic50("S462_R1") / viability_ic50("S462")
    assert viability_ic50("S462_R1", OPEN_ALL) / viability_ic50("S462", OPEN_ALL) > closed  # measured 12.7 > 6.9


# ------------------------------------------------------------------------------------------ lesson 6

TRAM, SRCI = "trametinib", "src_inhibitor_1"
A6 = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 30.0])
B6 = np.array([0.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0])
CA = np.r_[0.0, np.geomspace(0.1, 10.0, 9)]
CB = np.r_[0.0, np.geomspace(10.0, 10000.0, 13)]
ABLATIONS = {"as written": (), "crosstalk off": ("fak_src_bypass",), "survival off": ("fak_src_survival",),
             "both off": ("fak_src_bypass", "fak_src_survival")}


@pytest.fixture(scope="module")
def fa(mpnst, condition):
    def run(pairs, values=None, line="S462"):
        recs = ms.compute_readouts(mpnst, [condition(line, {TRAM: a, SRCI: b}, values) for a, b in pairs],
                                   readouts=["viability"])
        assert all(r.ok for r in recs)
        return np.array([1.0 - r["viability"] / 100.0 for r in recs])

    return run


def _matrix(fa, a, b, values=None, line="S462"):
    return fa([(x, y) for x in a for y in b], values, line).reshape(len(a), len(b))


@pytest.fixture(scope="module")
def mean_bliss(fa):
    return {k: float(np.nanmean(ms.synergy_scores(A6, B6, _matrix(fa, A6, B6, off(*v))).bliss))
            for k, v in ABLATIONS.items()}


def test_L6_combination_is_bliss_synergistic_by_two_couplings(mean_bliss):
    assert mean_bliss["as written"] >= 0.04  # measured 0.068
    assert mean_bliss["crosstalk off"] > 0.01 and mean_bliss["survival off"] > 0.01  # measured 0.046, 0.028
    assert abs(mean_bliss["both off"]) < 1e-6  # measured 2e-15: exactly independent


def _exact_ci(fa, target, k, values=None):
    def dose(share_a):
        def gap(x):
            d = np.exp(x)
            return fa([(share_a * d, (1 - share_a) * d)], values)[0] - target

        return float(np.exp(brentq(gap, np.log(1e-4), np.log(1e6), xtol=1e-9))) if gap(np.log(1e6)) > 0 else np.inf

    dm, xa, xb = dose(1 / (1 + k)), dose(1.0), dose(0.0)
    if np.isinf(xa) and np.isinf(xb):
        return np.nan
    return (0.0 if np.isinf(xa) else dm / (1 + k) / xa) + (0.0 if np.isinf(xb) else dm * k / (1 + k) / xb)


@pytest.fixture(scope="module")
def ci_design(fa):
    e = _matrix(fa, CA, CB)
    return {k: ms.synergy_scores(CA, CB, e, ratio=(1, k), fa_levels=(0.5, 0.9)) for k in (100, 1000)}, e


def test_L6_ci_depends_on_the_ratio(ci_design):
    res, _ = ci_design
    ci100, ci1000 = res[100].constant_ratio.ci[0], res[1000].constant_ratio.ci[0]
    assert ci1000 < 0.9  # measured 0.578: synergy (A14's convention, 1:1000 at fa 0.5)
    assert ci1000 <= ci100 - 0.1  # measured 0.578 vs 0.758


def test_L6_ci_depends_on_the_method(ci_design, fa):
    res, _ = ci_design
    assert abs(_exact_ci(fa, 0.5, 1000) - res[1000].constant_ratio.ci[0]) >= 0.05  # measured 0.671 vs 0.578


def test_L6_weak_partner_gives_a_poor_fit(ci_design):
    res, e = ci_design
    assert e[0, :].max() < 0.1  # measured fa <= 0.057 for SRC inhibitor 1 alone up to 10 uM
    assert res[1000].median_b.status == "ok" and res[1000].median_b.r < 0.95  # measured r 0.874


def test_L6_saturated_wells_make_the_ci_an_extrapolation(ci_design, fa):
    res, e = ci_design
    assert e[:, 0].max() < 0.9  # measured 0.857: trametinib alone plateaus
    assert np.isfinite(res[1000].constant_ratio.ci[1])  # the median-effect fit still prints 0.519 at fa 0.9
    assert np.isnan(_exact_ci(fa, 0.9, 1000))  # ... where Loewe's CI is undefined


def test_L6_null_check_both_couplings_off_is_additive(fa):
    assert _exact_ci(fa, 0.5, 1000, off("fak_src_bypass", "fak_src_survival")) == pytest.approx(1.0, abs=1e-3)


def test_L6_exercise_bliss_ranks_the_lines_like_the_papers_ci(fa):
    mean = {line: float(np.nanmean(ms.synergy_scores(A6, B6, _matrix(fa, A6, B6, line=line)).bliss))
            for line in ("ST8814", "S462", "S462TY")}
    assert mean["ST8814"] > mean["S462"] > mean["S462TY"]  # measured 0.099 > 0.068 > 0.060 (CI 0.44 < 0.52 < 0.62)
