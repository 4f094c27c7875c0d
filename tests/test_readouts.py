"""Readouts (biology.md section 3) against analytic truth, fast vs full mode, and behaviours A1-A4 (section 4).

Tolerances are stated here once. Thresholds of A1-A4 are biology.md's defaults. The IC50s are
72 h viability IC50s from ``fit_logistic(normalized=True)`` (Prism's "[inhibitor] vs. normalized response
-- Variable slope", the source paper's method) on :data:`DOSES`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import simulator as ms
from simulator.errors import InputError
from simulator.readouts import READOUTS, closed_form_cells, compute_readouts, fit_logistic, with_population_layer

MEKI = ("trametinib", "tak733", "selumetinib")
#: each resistant line and the MEK inhibitor it was raised against (biology.md section 2)
RAISED_AGAINST = {"S462_R1": "trametinib", "S462_R2": "tak733", "S462_R3": "selumetinib"}
#: dose series (nM) of the IC50 fits: DMSO plus 4 doses per decade, 10 pM - 10 uM
DOSES = np.r_[0.0, np.logspace(-2, 4, 25)]
#: A1 default threshold (biology.md section 4)
A1_FOLD = 3.0
#: the dose (nM) of the 24 h cell-cycle and apoptosis checks A3/A4 (Fig. 2A/B give no dose; 10 nM is the
#: dose of biology.md's other trametinib checks, A9 and the re-sensitisation figures of section 1.5)
A34_NM = 10.0

#: fast vs full mode. The fast mode holds g and d at their steady-state values from t = 0; the full mode
#: integrates the first hours of adaptation (p-ERK dips to < 1 % within 15 min and rebounds over ~4 h),
#: during which g is lower. Bound: |ln(V_full/V_fast)| <= (gmax + dmax)*4 h = 0.15, i.e. up to ~10 pp at
#: 70 % viability; the measured maximum over the three MEK inhibitors, S462 and S462_R1, 10 pM - 10 uM is
#: 3.0 pp (TAK-733 56 nM in R1; trametinib 2.35 pp at 10 nM in R1, 0.76 pp in S462). We hold it to:
FAST_FULL_VIABILITY_PP = 4.0
#: Annexin-V+ fraction at 24 h, absolute (measured max 0.0013)
FAST_FULL_APOPTOSIS_ABS = 2e-3
#: p-ERK suppression and G0/G1 at 24 h: the adaptation is over by then (measured max 1e-6)
FAST_FULL_24H_ABS = 1e-5
#: full-mode integration (CVODE rtol 1e-6) against closed forms, relative
FULL_ANALYTIC_RTOL = 1e-4

TOY = """
model toy()
  compartment c = 1;
  species X in c;
  X = 1;
  trametinib = 0; IC50_trametinib = 1; h_trametinib = 1;
  ks = 1; kd = 1;
  f := trametinib/(trametinib + IC50_trametinib);
  kd_eff := piecewise(0, trametinib > 50, kd);
  J1: -> X; c*ks*(1 - f);
  J2: X -> ; c*kd_eff*X;
  pERK := X;
  g := 0.03*X;
  d := 0.01*(1 - X);
  unit time_unit = 3600 second;
end
"""
"""A model in hours with only pERK, g, d: X relaxes to 1 - f at rate 1/h; at a dose > 50 nM X has no steady state."""


@pytest.fixture(scope="module")
def toy():
    return ms.from_antimony_text(TOY, name="toy")


@pytest.fixture(scope="module")
def ic50s(mpnst, condition):
    """Normalised-fit viability IC50 (nM) for each MEK inhibitor and line (fast mode)."""
    out = {}
    for drug in MEKI:
        for line in ("S462", *RAISED_AGAINST):
            records = compute_readouts(mpnst, [condition(line, {drug: x}) for x in DOSES], readouts=["viability"])
            assert all(r.ok for r in records)
            fit = fit_logistic(DOSES, [r["viability"] for r in records], normalized=True)
            assert fit.status == "ok", (drug, line, fit.message)
            out[drug, line] = fit.ic50
    return out


# ------------------------------------------------------------------------------------ model and API


def test_readout_ids():
    assert set(READOUTS) == {"perk_suppression", "viability", "apoptosis", "g0g1", "cleaved_parp"}
    for rid, r in READOUTS.items():
        assert r.id == rid and r.label and r.unit and r.description


def test_parental_untreated_readout_signals_are_the_reference(mpnst, condition):
    """E = F = 1 in S462 DMSO ([C] FS_ref), so g = gmax and d = d0 + dmax*(1 - s(1;KE,2))*(1 - phi*s(1;KF,2))."""
    p = mpnst.parameters
    ss = ms.steady_state(mpnst, condition("S462"), select=["E", "F", "g", "d"])
    assert ss["E"] == pytest.approx(1.0, rel=1e-6) and ss["F"] == pytest.approx(1.0, rel=1e-6)
    assert ss["g"] == pytest.approx(p["gmax"], rel=1e-6)
    s_e, s_f = 1 / (p["KE"] ** 2 + 1), 1 / (p["KF"] ** 2 + 1)  # sigma(1; K, 2) = 1/(K^2 + 1)
    assert ss["d"] == pytest.approx(p["d0"] + p["dmax"] * (1 - s_e) * (1 - p["phi"] * s_f), rel=1e-6)
    assert p["gmax"] * 60 * 30 == pytest.approx(math.log(2))  # per-hour design values in minutes
    assert p["dmax"] * 60 * 48 == pytest.approx(math.log(2))
    assert p["kcl"] * 60 * 12 == pytest.approx(math.log(2))


@pytest.mark.parametrize(("g", "d", "kcl"), [(0.03, 0.01, 0.06), (0.01, 0.05, 0.04), (0.02, 0.08, 0.06),
                                            (0.0, 0.0, 0.05)])
def test_closed_form_cells_against_the_ode(g, d, kcl):
    """N, A against the integrated ODE, including g - d + kcl = 0 (third case), where the formula has its limit."""
    t = np.array([0.0, 24.0, 72.0])
    sol = solve_ivp(lambda _, y: [(g - d) * y[0], d * y[0] - kcl * y[1]], (0, 72), [1.0, 0.0], t_eval=t,
                    rtol=1e-11, atol=1e-13)
    n, a = closed_form_cells(g, d, kcl, t)
    assert n == pytest.approx(sol.y[0], rel=1e-8)
    assert a == pytest.approx(sol.y[1], rel=1e-8, abs=1e-14)


def test_constant_rates_in_model_a_give_the_closed_forms_in_both_modes(mpnst, condition):
    """ng = hE = hF = 0 make s(x;K,0) = 1/2, so g = gmax and d = d0 + dmax/2*(1 - phi/2) whatever the drug does."""
    p = mpnst.parameters
    g, d = p["gmax"], p["d0"] + p["dmax"] * 0.5 * (1 - p["phi"] * 0.5)
    n24, a24 = closed_form_cells(g, d, p["kcl"], 24 * 60)
    conds = [condition(line, {"trametinib": 10}, values={"ng": 0, "hE": 0, "hF": 0}) for line in ("S462", "S462_R1")]
    for mode in ("fast", "full"):
        for r in compute_readouts(mpnst, conds, mode=mode):
            assert r.ok, r.message
            assert r["viability"] == pytest.approx(100.0, rel=FULL_ANALYTIC_RTOL)
            assert r["apoptosis"] == pytest.approx(a24 / (n24 + a24), rel=FULL_ANALYTIC_RTOL)
            assert r["g0g1"] == pytest.approx(p["G1_0"], abs=1e-9)
            assert r["cleaved_parp"] == pytest.approx(d * n24 * 60, rel=FULL_ANALYTIC_RTOL)


def test_any_model_with_perk_g_d_works_with_defaults_and_its_time_unit(toy):
    """A model in hours without kcl/G1_0/G1_max: the defaults apply and 72 h means t = 72.

    Fast: X = 0.5 at 1 nM, so g - d = 0.04*0.5 - 0.01 = 0.01/h against 0.03/h in DMSO. Full: X(t) = 0.5 +
    0.5*exp(-t), so the integral of g - d over 72 h is 0.04*36.5 - 0.72 = 0.74 (exact, transient included).
    """
    conds = [ms.make_condition(toy, None, {"trametinib": x}) for x in (0, 1)]
    dmso, fast = compute_readouts(toy, conds)
    assert dmso["viability"] == 100.0 and dmso["perk_suppression"] == 0.0
    assert fast["viability"] == pytest.approx(100 * math.exp((0.01 - 0.03) * 72), rel=1e-9)
    assert fast["perk_suppression"] == pytest.approx(0.5, rel=1e-9)
    assert fast["g0g1"] == pytest.approx(0.45 + 0.4 * 0.5, rel=1e-9)
    n24, a24 = closed_form_cells(0.015, 0.005, math.log(2) / 12, 24.0)
    assert fast["apoptosis"] == pytest.approx(a24 / (n24 + a24), rel=1e-9)
    full = compute_readouts(toy, conds, mode="full")[1]
    assert full["viability"] == pytest.approx(100 * math.exp(0.74 - 2.16), rel=FULL_ANALYTIC_RTOL)
    assert full["g0g1"] == pytest.approx(0.45 + 0.4 * 0.5 * (1 - math.exp(-24)), rel=FULL_ANALYTIC_RTOL)


def test_one_failure_does_not_stop_the_batch(toy):
    conds = [ms.make_condition(toy, None, {"trametinib": x}) for x in (1, 100, 1)]
    records = compute_readouts(toy, conds, readouts=["viability"])
    assert [r.status for r in records] == ["ok", "failed", "ok"]
    assert math.isnan(records[1]["viability"]) and "treated condition" in records[1].message
    assert records[0].values == records[2].values


def test_population_layer_keeps_the_signalling(mpnst, condition):
    ext = with_population_layer(mpnst)
    assert {"pop_N", "pop_A"} <= set(ext.species) and "pop_on" in ext.parameters
    cond = condition("S462_R1", {"trametinib": 10})
    a = ms.steady_state(mpnst, cond, select=["pERK", "g", "d"])
    b = ms.steady_state(ext, cond, select=["pERK", "g", "d", "pop_N", "pop_A"])  # pop_on = 0: N held at 1
    assert b.as_dict() == pytest.approx({**a.as_dict(), "pop_N": 1.0, "pop_A": 0.0}, rel=1e-9, abs=1e-12)


def test_bad_input_is_named(mpnst, condition, toy):
    cond = [condition("S462")]
    with pytest.raises(InputError, match="mode"):
        compute_readouts(mpnst, cond, mode="slow")
    with pytest.raises(InputError, match="valid: perk_suppression"):
        compute_readouts(mpnst, cond, readouts=["ic50"])
    with pytest.raises(InputError, match="Condition"):
        compute_readouts(mpnst, [{"trametinib": 1.0}])
    no_g = ms.from_antimony_text(TOY.replace("g := 0.03*X;", "growth := 0.03*X;"), name="no_g")
    with pytest.raises(InputError, match="'g'"):
        compute_readouts(no_g, [ms.make_condition(no_g)])
    no_unit = ms.from_antimony_text(TOY.replace("unit time_unit = 3600 second;", ""), name="no_unit")
    with pytest.raises(InputError, match="time unit"):
        compute_readouts(no_unit, [ms.make_condition(no_unit)])


# --------------------------------------------------------------------------------------- fast vs full


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_dmso_is_the_reference_in_every_line(mpnst, condition, mode):
    lines = ms.cell_lines_for(mpnst)
    records = compute_readouts(mpnst, [condition(line) for line in lines], mode=mode)
    for line, r in zip(lines, records, strict=True):
        assert r.ok, (line, r.message)
        assert r["viability"] == pytest.approx(100.0, abs=1e-9), line
        assert r["perk_suppression"] == pytest.approx(0.0, abs=1e-9), line


@pytest.mark.parametrize("drug", MEKI)
def test_fast_and_full_modes_agree_for_mek_inhibitors(mpnst, condition, drug):
    conds = [condition(line, {drug: x}) for line in ("S462", "S462_R1") for x in DOSES]
    fast = compute_readouts(mpnst, conds)
    full = compute_readouts(mpnst, conds, mode="full")
    assert all(r.ok for r in (*fast, *full))

    def gap(key):
        return max(abs(a[key] - b[key]) for a, b in zip(fast, full, strict=True))

    assert gap("viability") <= FAST_FULL_VIABILITY_PP
    assert gap("apoptosis") <= FAST_FULL_APOPTOSIS_ABS
    assert gap("perk_suppression") <= FAST_FULL_24H_ABS
    assert gap("g0g1") <= FAST_FULL_24H_ABS


# ---------------------------------------------------------------------------- behaviours A1-A4 (section 4)


@pytest.mark.parametrize(("line", "drug"), RAISED_AGAINST.items())
def test_A1_resistant_line_ic50_at_least_3x_parental(ic50s, line, drug):
    assert ic50s[drug, line] >= A1_FOLD * ic50s[drug, "S462"]


#: A2 (cross-resistance: each R line resists all three MEK inhibitors) is not tested on its own: R1-R3 share one
#: parameter set (tests/test_model_a.py::test_resistant_lines_share_one_state), so the 3 x 3 comparisons are A1's
#: three fold changes of the shared resistant state, repeated (trametinib 7.3x, TAK-733 5.7x, selumetinib 4.1x).


#: biology.md 1.5 [P]: trametinib 1.5 nM (S462), TAK-733 14 -> 80 nM, selumetinib 94 -> 370 nM. The prototype's R1
#: trametinib IC50 of 17 nM (11x) needed the design's FAK.SRC -> MAPK crosstalk gains, which were halved for A16:
#: the model gives 11.1 nM (7.3x), recorded in models/mpnst.md with the other stale prototype figures.
PROTOTYPE_IC50 = {("trametinib", "S462"): 1.5, ("tak733", "S462"): 14.0, ("tak733", "S462_R2"): 80.0,
                  ("selumetinib", "S462"): 94.0, ("selumetinib", "S462_R3"): 370.0}


@pytest.mark.parametrize("key", PROTOTYPE_IC50)
def test_ic50s_near_the_design_prototype(ic50s, key):
    """biology.md 1.5 [P], within a 20 % regression band (the prototype's dose grid and fitting are unknown).

    Measured with DOSES (fast mode, normalised fit): trametinib 1.53 -> 11.1, TAK-733 14.3 -> 81.4, selumetinib
    93.6 -> 384 nM.
    """
    assert ic50s[key] == pytest.approx(PROTOTYPE_IC50[key], rel=0.2)


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_A3_smaller_g0g1_increase_in_R1(mpnst, condition, mode):
    conds = [condition(line, doses) for line in ("S462", "S462_R1") for doses in ({}, {"trametinib": A34_NM})]
    p0, p, r0, r = (rec["g0g1"] for rec in compute_readouts(mpnst, conds, mode=mode, readouts=["g0g1"]))
    assert r - r0 < p - p0


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_A4_less_trametinib_induced_apoptosis_in_R1(mpnst, condition, mode):
    """Fig. 2B: trametinib raises the Annexin-V+ fraction less in R1 than in P (measured, fast mode: P 0.024 ->
    0.079, R1 0.023 -> 0.028 at 10 nM); R1's still rises (the paper's bars, as its text: "rescued", not abolished)."""
    conds = [condition(line, doses) for line in ("S462", "S462_R1") for doses in ({}, {"trametinib": A34_NM})]
    p0, p, r0, r = compute_readouts(mpnst, conds, mode=mode, readouts=["apoptosis", "cleaved_parp"])
    assert r["apoptosis"] - r0["apoptosis"] < p["apoptosis"] - p0["apoptosis"]
    assert r0["apoptosis"] < r["apoptosis"] < p["apoptosis"]
    assert r["cleaved_parp"] < p["cleaved_parp"]


def test_A4_cleaved_parp_rises_less_in_R1(mpnst, condition):
    """Fig. S2: "the upregulation of cleaved PARP expression after trametinib treatment was less obvious in S462 R1
    cells compared to S462 parental cells": a rise in both, smaller in R1.

    A western blot is loaded with equal protein, so it measures cleaved PARP per cell: the observable ``cPARP``
    (models/mpnst.ant: the per-cell apoptosis rate d), read as its level relative to the same line's DMSO.
    Measured at 10 nM: P 2.75x, R1 1.13x. The built-in readout ``cleaved_parp`` is the apoptotic flux per well
    d*N, which in R1 *falls* (0.0037 -> 0.0033 per h) because growth slows more than d rises; it is not what
    the blot measures (a known deviation of that readout, models/mpnst.md).
    """
    conds = [condition(line, {"trametinib": A34_NM}) for line in ("S462", "S462_R1")]
    p, r = (rec["cPARP"] for rec in compute_readouts(mpnst, conds, readouts=["cPARP"]))
    assert 1.0 < r < p


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_readout_table_equals_the_records(toy, mode):
    """compute_readout_table (a screen's path: arrays, no record per condition) holds exactly what
    compute_readouts returns, failures included (the toy has no steady state above 50 nM)."""
    from simulator.readouts import ReadoutTable, compute_readout_table

    conds = [ms.make_condition(toy, None, {"trametinib": x}) for x in (0, 1, 100, 3)]
    wanted = ("viability", "perk_suppression", "apoptosis")
    records = compute_readouts(toy, conds, mode=mode, readouts=wanted)
    table = compute_readout_table(toy, conds, mode=mode, readouts=wanted)
    assert isinstance(table, ReadoutTable) and table.readouts == wanted
    assert table.status == tuple(r.status for r in records)
    assert table.message == tuple(r.message for r in records)
    expected = np.array([[r.values[k] for k in wanted] for r in records])
    np.testing.assert_array_equal(table.values, expected)  # NaN where failed, bit for bit elsewhere
    for again, record in zip(table.records(), records, strict=True):  # NaN != NaN, so not ==
        assert (again.status, again.message, tuple(again.values)) == (record.status, record.message, wanted)
        np.testing.assert_array_equal(list(again.values.values()), list(record.values.values()))
    assert ("failed" in table.status) is (mode == "fast")
    with pytest.raises(ValueError):
        table.values[0, 0] = 1.0  # read-only, as the records are
