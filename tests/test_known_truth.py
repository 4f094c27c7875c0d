"""The engine against known truth: closed-form ODE solutions and two externally authored MAPK models.

* Analytic: a linear chain A -> B -> C (closed form) and steady states of production/degradation and of a
  conserved cycle A <-> B.
* Kholodenko 2000 (BIOMD0000000010): sustained oscillation of MAPK_PP, period ~1300 s, range ~35.8-296.6 nM
  (``shared/benchmarks/biomodels/SOURCES.md``).
* Huang & Ferrell 1996 (BIOMD0000000009): the MAPK stimulus-response is ultrasensitive (published Hill
  coefficient 4-5; SOURCES.md computed 4.75), steeper than MAPKK's (~1.5).
* The same Kholodenko model with an added MEK inhibitor (``simulator.drugs``): the oscillation stops.

Every tolerance is a named constant below; each assertion compares with a number fixed in advance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import find_peaks

import simulator as ms
from simulator.model import DrugTerm, add_drug_terms

BENCHMARKS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
BIOMODELS = BENCHMARKS / "biomodels"

# ------------------------------------------------------------------------------------------- tolerances

#: tight integrator settings for comparisons with closed forms
TIGHT = ms.SolverOptions(rtol=1e-10, atol=1e-12)
#: analytic time course: |sim - exact| <= ANALYTIC_RTOL * |exact| wherever |exact| > ANALYTIC_FLOOR ...
ANALYTIC_RTOL = 1e-5
ANALYTIC_FLOOR = 1e-6
#: ... and |sim - exact| <= ANALYTIC_ATOL where the exact value is below the floor (near t = 0 for B, C)
ANALYTIC_ATOL = 1e-10
#: analytic steady states, relative
STEADY_RTOL = 1e-8

#: Kholodenko 2000 (SOURCES.md, "computed here"): limit-cycle period and late-phase range of MAPK_PP (nM)
KHOLODENKO_PERIOD = 1300.0
KHOLODENKO_LOW, KHOLODENKO_HIGH = 35.8, 296.6
PERIOD_RTOL = 0.05
#: range from a 1 s-sampled time course (the peak is flat over ~10 s, so sampling costs < 0.1 nM)
RANGE_ATOL_TIME_COURSE = 2.0
#: range reported by steady_state for an oscillation (sampled more coarsely by the oscillation probe)
RANGE_ATOL_STEADY = 5.0
KHOLODENKO_OPTIONS = ms.SolverOptions(rtol=1e-8, atol=1e-10)
LATE = 2500.0  # s; the first cycle (1600 s) is a transient
MAPK_TOTAL = 300.0  # nM, MAPK + MAPK_P + MAPK_PP in the file

#: MEK inhibitor on the two MKK_PP-catalysed MAPK phosphorylations, dosed at 100 x IC50 (f = 0.99)
MEKI = DrugTerm("meki", ("J6", "J7"), 10.0)
MEKI_DOSE = 1000.0  # nM
MAPK_PP_FRACTION_MAX = 0.05
#: no sustained oscillation under the drug: late-phase swing of MAPK_PP below this fraction of the total
DRUG_SWING_MAX = 0.01

#: Huang & Ferrell 1996: published nH 4-5 for MAPK (allow up to 5.5), MAPKK clearly shallower
HF_NH_MAPK = (4.0, 5.5)
HF_NH_MAPKK_MAX = 2.5
#: regression values of SOURCES.md (computed there with libroadrunner 2.10, rtol 1e-10, atol 1e-12)
HF_NH_REGRESSION = {"K_PP_norm": 4.75, "KK_PP_norm": 1.52, "KKK_P_norm": 0.80}
HF_NH_REGRESSION_ATOL = 0.02
HF_MAX_K_PP_NORM = 0.900049  # the file's K_PP_norm_max
HF_MAX_ATOL = 1e-3
HF_DEFAULT_E1_STATE = {"K_PP_norm": 0.892, "KK_PP_norm": 0.766, "KKK_P_norm": 0.161}  # SOURCES.md, 3 digits
HF_STATE_ATOL = 1e-3
HF_E1 = np.logspace(-8, 0, 161)  # total E1, uM (the file's units)
HF_TIERS = ("KKK_P_norm", "KK_PP_norm", "K_PP_norm")


# ----------------------------------------------------------------------------------------------- helpers


def hill_coefficient(stimulus: np.ndarray, response: np.ndarray) -> float:
    """nH = ln 81 / ln(EC90/EC10) of a response normalised to its maximum, interpolated in log stimulus."""
    y = response / response.max()
    assert np.all(np.diff(y) >= -1e-9), "stimulus-response curve is not monotone"
    log_s = np.log(stimulus)
    ec10, ec90 = np.interp(0.1, y, log_s), np.interp(0.9, y, log_s)
    return float(np.log(81.0) / (ec90 - ec10))


def late_peaks(time: np.ndarray, series: np.ndarray, t_min: float) -> np.ndarray:
    """Times of the maxima above mid-swing after ``t_min`` (height, not prominence: the last peak of a
    window ending shortly after it has little prominence)."""
    keep = time > t_min
    t, y = time[keep], series[keep]
    peaks, _ = find_peaks(y, height=0.5 * (y.min() + y.max()), distance=100)
    return t[peaks]


@pytest.fixture(scope="module")
def kholodenko() -> ms.CompiledModel:
    return ms.load_sbml(BIOMODELS / "BIOMD0000000010.xml")


@pytest.fixture(scope="module")
def kholodenko_meki(kholodenko) -> ms.CompiledModel:
    return add_drug_terms(kholodenko, [MEKI])


@pytest.fixture(scope="module")
def huang_ferrell() -> ms.CompiledModel:
    """The file unchanged: its outputs are assignment-rule species, so roadrunner refuses moiety analysis
    and the engine checks conservation itself."""
    return ms.load_sbml(BIOMODELS / "BIOMD0000000009.xml")


@pytest.fixture(scope="module")
def huang_ferrell_curves(huang_ferrell) -> dict[str, np.ndarray]:
    records = ms.steady_states(huang_ferrell, [{"E1": e} for e in HF_E1], select=HF_TIERS)
    failed = [(e, r.message) for e, r in zip(HF_E1, records, strict=True) if not r.ok]
    assert not failed, f"{len(failed)} steady states failed, first: {failed[0]}"
    values = np.array([r.values for r in records])
    return {tier: values[:, j] for j, tier in enumerate(HF_TIERS)}


# -------------------------------------------------------------------------------------------- analytic

CHAIN = """
J1: A -> B; k1*A
J2: B -> C; k2*B
A = 1; B = 0; C = 0
k1 = 0.5; k2 = 0.2
"""


def assert_matches_exact(simulated: np.ndarray, exact: np.ndarray) -> None:
    """Relative error below ANALYTIC_RTOL where |exact| > ANALYTIC_FLOOR, absolute below ANALYTIC_ATOL elsewhere."""
    error = np.abs(simulated - exact)
    big = np.abs(exact) > ANALYTIC_FLOOR
    assert big.mean() > 0.9  # the relative criterion covers nearly every point
    assert (error[big] / np.abs(exact[big])).max() < ANALYTIC_RTOL
    assert error[~big].max(initial=0.0) < ANALYTIC_ATOL


def test_linear_chain_matches_closed_form():
    model = ms.from_antimony_text(CHAIN, name="chain")
    k1, k2 = 0.5, 0.2
    t = np.linspace(0.0, 20.0, 50)
    traj = ms.time_course(model, t, pre_equilibrate=False, select=["A", "B", "C"], options=TIGHT)
    assert traj.ok
    a = np.exp(-k1 * t)
    b = k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))
    assert_matches_exact(traj.values, np.column_stack([a, b, 1.0 - a - b]))


def test_linear_chain_parameter_and_initial_value_are_applied():
    model = ms.from_antimony_text(CHAIN, name="chain")
    t = np.linspace(0.0, 5.0, 50)
    traj = ms.time_course(model, t, {"k1": 2.0, "A": 3.0}, pre_equilibrate=False, select=["A"], options=TIGHT)
    assert_matches_exact(traj["A"], 3.0 * np.exp(-2.0 * t))


@pytest.mark.parametrize("k0,k", [(3.0, 0.5), (1e-3, 2.0), (50.0, 1e-2)])
def test_production_degradation_steady_state(k0, k):
    model = ms.from_antimony_text("J1: -> X; k0\nJ2: X -> ; k*X\nX = 0; k0 = 1; k = 1", name="pd")
    ss = ms.steady_state(model, {"k0": k0, "k": k}, select=["X"])
    assert ss.status == "ok"
    assert ss["X"] == pytest.approx(k0 / k, rel=STEADY_RTOL)


@pytest.mark.parametrize("volume", [1.0, 1e-3])
@pytest.mark.parametrize("a0,b0", [(3.0, 1.0), (10.0, 0.0), (0.25, 0.5)])
def test_conserved_cycle_steady_state_split(volume, a0, b0):
    """A <-> B conserves A + B: the steady state is the total split kr : kf, whatever the start.

    The total is set through the species' initial values; a compartment of size 1e-3 checks that
    concentrations, not amounts, are conserved and reported.
    """
    kf, kr = 0.7, 0.2
    text = f"compartment cell = {volume}\nA in cell; B in cell\nJ1: A -> B; cell*(kf*A - kr*B)\n"
    text += f"A = 1; B = 1; kf = {kf}; kr = {kr}"
    model = ms.from_antimony_text(text, name="cycle")
    ss = ms.steady_state(model, {"A": a0, "B": b0}, select=["A", "B"])
    assert ss.status == "ok"
    total = a0 + b0
    assert ss["A"] == pytest.approx(total * kr / (kf + kr), rel=STEADY_RTOL)
    assert ss["B"] == pytest.approx(total * kf / (kf + kr), rel=STEADY_RTOL)


# ------------------------------------------------------------------------------------ Kholodenko 2000


def test_kholodenko_time_course_oscillates_with_published_period_and_range(kholodenko):
    t = np.linspace(0.0, 6000.0, 6001)
    traj = ms.time_course(kholodenko, t, pre_equilibrate=False, select=["MAPK_PP"], options=KHOLODENKO_OPTIONS)
    assert traj.ok
    y = traj["MAPK_PP"]
    peaks = late_peaks(traj.time, y, LATE)
    assert len(peaks) >= 3, f"late-phase peaks at {peaks}"
    period = float(np.mean(np.diff(peaks)))
    assert period == pytest.approx(KHOLODENKO_PERIOD, rel=PERIOD_RTOL)
    late = y[traj.time > LATE]
    assert late.min() == pytest.approx(KHOLODENKO_LOW, abs=RANGE_ATOL_TIME_COURSE)
    assert late.max() == pytest.approx(KHOLODENKO_HIGH, abs=RANGE_ATOL_TIME_COURSE)


def test_kholodenko_steady_state_reports_the_oscillation(kholodenko):
    ss = ms.steady_state(kholodenko, select=["MAPK_PP"], throw=False)
    assert ss.status == "oscillating", ss.message
    assert np.isnan(ss["MAPK_PP"])
    assert ss.period == pytest.approx(KHOLODENKO_PERIOD, rel=PERIOD_RTOL)
    assert ss.low[0] == pytest.approx(KHOLODENKO_LOW, abs=RANGE_ATOL_STEADY)
    assert ss.high[0] == pytest.approx(KHOLODENKO_HIGH, abs=RANGE_ATOL_STEADY)


def test_kholodenko_drug_targets_are_the_mkk_pp_catalysed_steps(kholodenko):
    """J6, J7 are MAPK -> MAPK_P -> MAPK_PP with MKK_PP as modifier: what a MEK inhibitor blocks."""
    import libsbml

    doc = libsbml.readSBMLFromString(kholodenko.sbml)
    model = doc.getModel()
    for rid, substrate, product in (("J6", "MAPK", "MAPK_P"), ("J7", "MAPK_P", "MAPK_PP")):
        reaction = model.getReaction(rid)
        assert [reaction.getReactant(i).getSpecies() for i in range(reaction.getNumReactants())] == [substrate]
        assert [reaction.getProduct(i).getSpecies() for i in range(reaction.getNumProducts())] == [product]
        assert [reaction.getModifier(i).getSpecies() for i in range(reaction.getNumModifiers())] == ["MKK_PP"]


def test_kholodenko_mek_inhibitor_stops_the_oscillation(kholodenko_meki):
    condition = ms.make_condition(kholodenko_meki, None, {"meki": MEKI_DOSE})
    ss = ms.steady_state(kholodenko_meki, condition, select=["MAPK", "MAPK_P", "MAPK_PP", "f_meki"])
    assert ss.status == "ok", ss.message
    assert ss["f_meki"] == pytest.approx(MEKI_DOSE / (MEKI_DOSE + MEKI.ic50), rel=1e-12)
    total = ss["MAPK"] + ss["MAPK_P"] + ss["MAPK_PP"]
    assert total == pytest.approx(MAPK_TOTAL, rel=1e-9)  # conservation holds at the root
    assert ss["MAPK_PP"] / total < MAPK_PP_FRACTION_MAX


def test_kholodenko_mek_inhibitor_time_course_has_no_sustained_oscillation(kholodenko, kholodenko_meki):
    t = np.linspace(0.0, 6000.0, 6001)
    condition = ms.make_condition(kholodenko_meki, None, {"meki": MEKI_DOSE})
    treated = ms.time_course(
        kholodenko_meki, t, condition, pre_equilibrate=False, select=["MAPK_PP"], options=KHOLODENKO_OPTIONS
    )
    late = treated["MAPK_PP"][treated.time > LATE]
    assert late.max() - late.min() < DRUG_SWING_MAX * MAPK_TOTAL
    assert late.max() < MAPK_PP_FRACTION_MAX * MAPK_TOTAL


def test_kholodenko_with_drug_at_dose_zero_is_the_original(kholodenko, kholodenko_meki):
    t = np.linspace(0.0, 6000.0, 601)
    kwargs = {"pre_equilibrate": False, "select": ["MAPK_PP", "MKK_PP"], "options": KHOLODENKO_OPTIONS}
    original = ms.time_course(kholodenko, t, **kwargs)
    untreated = ms.time_course(kholodenko_meki, t, ms.make_condition(kholodenko_meki, None, {"meki": 0}), **kwargs)
    np.testing.assert_array_equal(untreated.values, original.values)  # the factor is exactly 1
    ss = ms.steady_state(kholodenko_meki, ms.make_condition(kholodenko_meki), select=["MAPK_PP"], throw=False)
    assert ss.status == "oscillating", ss.message
    assert ss.period == pytest.approx(KHOLODENKO_PERIOD, rel=PERIOD_RTOL)


# ------------------------------------------------------------------------------- Huang & Ferrell 1996


def test_huang_ferrell_mapk_is_ultrasensitive_and_steeper_down_the_cascade(huang_ferrell_curves):
    nh = {tier: hill_coefficient(HF_E1, curve) for tier, curve in huang_ferrell_curves.items()}
    assert HF_NH_MAPK[0] <= nh["K_PP_norm"] <= HF_NH_MAPK[1], nh
    assert nh["KK_PP_norm"] < HF_NH_MAPKK_MAX, nh
    assert nh["KKK_P_norm"] < nh["KK_PP_norm"] < nh["K_PP_norm"], nh
    for tier, expected in HF_NH_REGRESSION.items():
        assert nh[tier] == pytest.approx(expected, abs=HF_NH_REGRESSION_ATOL), (tier, nh)
    assert huang_ferrell_curves["K_PP_norm"].max() == pytest.approx(HF_MAX_K_PP_NORM, abs=HF_MAX_ATOL)


def test_huang_ferrell_steady_state_equals_long_simulation(huang_ferrell):
    """The default-E1 state from steady_state, from a 2e5 s simulation, and as SOURCES.md gives it."""
    ss = ms.steady_state(huang_ferrell, select=HF_TIERS)
    assert ss.status == "ok", ss.message
    long = ms.time_course(huang_ferrell, [0.0, 2e5], pre_equilibrate=False, select=HF_TIERS,
                          options=ms.SolverOptions(rtol=1e-10, atol=1e-16))
    np.testing.assert_allclose(ss.values, long.values[-1], rtol=1e-7)
    assert ss.as_dict() == pytest.approx(HF_DEFAULT_E1_STATE, abs=HF_STATE_ATOL)


def test_huang_ferrell_default_options_find_the_true_state(huang_ferrell):
    ss = ms.steady_state(huang_ferrell, select=HF_TIERS, throw=False)
    assert ss.status == "ok"
    assert ss.as_dict() == pytest.approx(HF_DEFAULT_E1_STATE, abs=HF_STATE_ATOL)


def test_huang_ferrell_file_loads_unchanged():
    model = ms.load_sbml(BIOMODELS / "BIOMD0000000009.xml")
    ss = ms.steady_state(model, select=HF_TIERS)
    assert ss.as_dict() == pytest.approx(HF_DEFAULT_E1_STATE, abs=HF_STATE_ATOL)
