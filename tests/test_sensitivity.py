"""Parameter sensitivity (issue 5): the pipeline against analytic indices, control coefficients and SALib itself.

Known truths used here:
* Ishigami, Y = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1 with x_i ~ U(-pi, pi) (Ishigami & Homma 1990): analytic
  first- and total-order Sobol indices (Saltelli et al. 2008, Global Sensitivity Analysis, section 4.9);
* an additive model Y = 2 log10 k1 + log10 k2 (+ 0 k3) with log-uniform k_i on [1/10, 10]: S1 = ST = 0.8 / 0.2 / 0,
  Morris mu = mu* = 2a (a = the coefficient; Morris steps are delta = levels/(2(levels - 1)) of the range), sigma = 0;
* a three-step pathway X0 -> S1 -> S2 -> (reversible mass action, then Michaelis-Menten), where the flux
  control coefficients follow from the elasticities (Heinrich & Schuster 1996; linear chain formula) and
  obey the summation theorems (sum of flux CCs = 1, of concentration CCs = 0).
Every model is an SBML model run through the engine: the outputs are steady states of species that relax to
assignment-rule targets, so the whole path (engine -> evaluation -> SALib) is exercised.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import simulator as ms
from simulator.cli import main
from simulator.engine import control_coefficients, response_coefficients
from simulator.errors import InputError
from simulator.sensitivity import (
    CombinationIndexAt,
    IC50Shift,
    ObservableAt,
    ParameterRange,
    ParameterSpace,
    ReadoutAt,
    ReadoutGrid,
    SensitivitySpec,
    analyze,
    default_ranges,
    evaluate_rows,
    load_ranges,
    parse_output,
    rank_parameters,
    run_sensitivity,
    sample_matrix,
)

ISHIGAMI = """
model ishigami()
  compartment cell = 1;
  species Y in cell; Y = 20;
  x1 = 0; x2 = 0; x3 = 0; a = 7; b = 0.1; k = 1;
  // Y relaxes to the Ishigami function + 20 (kept positive for the engine's steady-state checks)
  target := sin(x1) + a*sin(x2)^2 + b*x3^4*sin(x1) + 20;
  R: -> Y; cell*k*(target - Y);
end
"""
LINEAR = """
model linear()
  compartment cell = 1;
  species Y in cell; Y = 20;
  k1 = 1; k2 = 1; k3 = 1; a = 2; b = 1; r = 1;
  target := a*log10(k1) + b*log10(k2) + 0*k3 + 20;
  R: -> Y; cell*r*(target - Y);
end
"""
CHAIN = """
model chain()
  compartment cell = 1;
  species $X0 in cell; X0 = 2;
  species S1 in cell, S2 in cell;
  S1 = 0.1; S2 = 0.1;
  E1 = 1; E2 = 1; E3 = 1;
  k1 = 1; km1 = 0.5; k2 = 2; km2 = 0.3; V3 = 1.5; Km3 = 0.4;
  J1: X0 -> S1; cell*E1*(k1*X0 - km1*S1);
  J2: S1 -> S2; cell*E2*(k2*S1 - km2*S2);
  J3: S2 -> ; cell*E3*V3*S2/(Km3 + S2);
  J := E3*V3*S2/(Km3 + S2);
end
"""
FAILS = """
model fails()
  compartment cell = 1;
  species S in cell; S = 1;
  a = 1; b = 0.5; c = 1;
  // no steady state with S >= 0 when b < 0
  R: -> S; cell*(a*c - b*S);
end
"""


def _ishigami_truth(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    v = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


@pytest.fixture(scope="module")
def ishigami():
    return ms.from_antimony_text(ISHIGAMI, name="ishigami")


@pytest.fixture(scope="module")
def ishigami_space(ishigami, tmp_path_factory):
    path = tmp_path_factory.mktemp("ranges") / "ishigami.tsv"
    path.write_text("param\tlow\thigh\tdist\n" + "".join(f"x{i}\t{-math.pi}\t{math.pi}\tuniform\n" for i in (1, 2, 3)))
    return load_ranges(path, ishigami, only=["x1", "x2", "x3"])


def _pivot(result, index: str) -> pd.Series:
    sub = result.indices[(result.indices["index"] == index) & (result.indices["parameter_2"] == "")]
    return sub.set_index("parameter")


# ------------------------------------------------------------------------------------- analytic indices


def test_sobol_recovers_ishigami_indices_within_their_cis(ishigami, ishigami_space, tmp_path):
    from SALib.test_functions import Ishigami

    spec = SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="sobol", n=1024, seed=11)
    result = run_sensitivity(spec, tmp_path / "sobol", workers=1, progress=False)
    assert result.rows == 1024 * 5 and result.rows_failed == 0
    # the engine path reproduces the function itself (steady state of the relaxing species, tolerance 1e-8)
    values = pd.read_parquet(tmp_path / "sobol" / "samples.parquet")[["x1", "x2", "x3"]].to_numpy()
    y = pd.read_parquet(tmp_path / "sobol" / "evaluations.parquet")["Y"].to_numpy()  # named by its spec
    np.testing.assert_allclose(y - 20.0, Ishigami.evaluate(values), atol=1e-6)
    s1, st = _ishigami_truth()
    for index, truth in (("S1", s1), ("ST", st)):
        table = _pivot(result, index).loc[["x1", "x2", "x3"]]
        inside = (table["low"].to_numpy() <= truth) & (truth <= table["high"].to_numpy())
        assert inside.all(), (index, table[["value", "low", "high"]], truth)
        assert np.all(table["conf"] < 0.1)  # the intervals are informative, not trivially wide
    ranking = result.ranking[result.ranking["column"] == "Y"]
    assert ranking["parameter"].tolist()[-1] == "x3"  # ST: x3 is the least influential


def test_additive_model_sobol_morris_efast_against_analytic_values(tmp_path):
    model = ms.from_antimony_text(LINEAR, name="linear")
    space = default_ranges(model, factor=10, only=["k1", "k2", "k3"])  # log10 k ~ U(-1, 1)
    out = (ObservableAt("Y", None),)
    sobol = run_sensitivity(SensitivitySpec(model, space, out, method="sobol", n=256, seed=5), tmp_path / "s",
                            workers=1, progress=False)
    for index in ("S1", "ST"):
        table = _pivot(sobol, index).loc[["k1", "k2", "k3"]]
        truth = np.array([0.8, 0.2, 0.0])
        assert ((table["low"] <= truth + 1e-12) & (truth - 1e-12 <= table["high"])).all(), table
        np.testing.assert_allclose(table["value"], truth, atol=2e-3)
    morris = run_sensitivity(SensitivitySpec(model, space, out, method="morris", n=10, seed=5), tmp_path / "m",
                             workers=1, progress=False)
    mu_star, mu, sigma = (_pivot(morris, i).loc[["k1", "k2", "k3"], "value"].to_numpy() for i in ("mu_star", "mu",
                                                                                                  "sigma"))
    np.testing.assert_allclose(mu_star, [4.0, 2.0, 0.0], atol=1e-6)  # 2a: a log10-unit step of delta * 2 decades
    np.testing.assert_allclose(mu, [4.0, 2.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(sigma, 0.0, atol=1e-6)
    efast = run_sensitivity(SensitivitySpec(model, space, out, method="efast", n=129, seed=5, replicates=4),
                            tmp_path / "e", workers=1, progress=False)
    # eFAST (M = 4) is slightly biased even for an additive model: within 0.005 of the truth
    np.testing.assert_allclose(_pivot(efast, "S1").loc[["k1", "k2", "k3"], "value"], [0.8, 0.2, 0.0], atol=5e-3)
    np.testing.assert_allclose(_pivot(efast, "ST").loc[["k1", "k2", "k3"], "value"], [0.8, 0.2, 0.0], atol=5e-3)


def test_morris_effects_agree_with_salib(ishigami, ishigami_space):
    """Our elementary effects (for the mu and sigma CIs) give exactly SALib's mu* and sigma."""
    from SALib.analyze import morris
    from SALib.test_functions import Ishigami

    from simulator.sensitivity._methods import _elementary_effects

    spec = SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="morris", n=30, seed=2)
    x = sample_matrix(spec)
    y = Ishigami.evaluate(spec.space.to_values(x))
    ee = _elementary_effects(spec, x, y)
    si = morris.analyze(spec.problem(), x, y, num_levels=spec.levels, seed=1)
    np.testing.assert_allclose(np.abs(ee).mean(axis=1), si["mu_star"], rtol=1e-12)
    np.testing.assert_allclose(ee.std(axis=1, ddof=1), si["sigma"], rtol=1e-12)
    table, notes = analyze(spec, x, y)
    assert not notes and table["value"].notna().all() and (table["conf"] >= 0).all()


def test_efast_equals_salib_and_its_ishigami_bias_is_stated(ishigami, ishigami_space, tmp_path):
    from SALib.analyze import fast
    from SALib.test_functions import Ishigami

    spec = SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="efast", n=257, seed=4)
    result = run_sensitivity(spec, tmp_path / "e", workers=1, progress=False)
    x = sample_matrix(spec)
    with pytest.warns(UserWarning, match="FAST confidence intervals"):
        si = fast.analyze(spec.problem(), Ishigami.evaluate(spec.space.to_values(x)), M=4)
    for index in ("S1", "ST"):
        np.testing.assert_allclose(_pivot(result, index).loc[["x1", "x2", "x3"], "value"], si[index], atol=1e-6)
    # eFAST's own bias on Ishigami (ST x2 0.488 vs 0.442, S1 x3 0.024 vs 0): documented, bounded
    s1, st = _ishigami_truth()
    np.testing.assert_allclose(_pivot(result, "S1").loc[["x1", "x2", "x3"], "value"], s1, atol=0.03)
    np.testing.assert_allclose(_pivot(result, "ST").loc[["x1", "x2", "x3"], "value"], st, atol=0.06)


# ---------------------------------------------------------------------------------------- local / MCA


def test_local_coefficients_agree_with_control_coefficients_and_summation(tmp_path):
    model = ms.from_antimony_text(CHAIN, name="chain")
    space = default_ranges(model, only=["E1", "E2", "E3"])
    spec = SensitivitySpec(model, space, (ObservableAt("J", None), ObservableAt("S2", None)), method="local",
                           step=0.01)
    result = run_sensitivity(spec, tmp_path / "local", workers=1, progress=False)
    table = result.indices[result.indices["index"] == "scaled"]
    local_j = table[table["column"] == "J"].set_index("parameter").loc[["E1", "E2", "E3"]]
    local_s2 = table[table["column"] == "S2"].set_index("parameter").loc[["E1", "E2", "E3"]]

    fcc = control_coefficients(model, kind="flux")
    ccc = control_coefficients(model, kind="concentration")
    rcc = response_coefficients(model, ["J3", "S2"], ["E1", "E2", "E3"])
    flux_row = [fcc["J3", r] for r in ("J1", "J2", "J3")]
    conc_row = [ccc["S2", r] for r in ("J1", "J2", "J3")]
    # E_i multiplies rate law i, so d ln J/d ln E_i is reaction i's flux control coefficient
    np.testing.assert_allclose(local_j["value"], flux_row, atol=1e-6)
    np.testing.assert_allclose(local_s2["value"], conc_row, atol=1e-6)
    np.testing.assert_allclose(rcc.values, [flux_row, conc_row], atol=1e-4)  # getCC perturbs by itself
    # the error bar (|Richardson - h/2 estimate|, conservative) covers the true error and is informative
    assert (np.abs(local_j["value"] - flux_row) <= local_j["conf"]).all() and (local_j["conf"] < 1e-4).all()
    # analytic: the linear-chain formula from elasticities at the engine's steady state
    ss = ms.steady_state(model, select=["S1", "S2"])
    s1, s2 = ss["S1"], ss["S2"]
    v = 1 * (1 * 2 - 0.5 * s1)
    e11 = -0.5 * s1 / v
    e21 = 2 * s1 / (2 * s1 - 0.3 * s2)
    e22 = -0.3 * s2 / (2 * s1 - 0.3 * s2)
    e32 = 0.4 / (0.4 + s2)
    den = e21 * e32 - e11 * e32 + e11 * e22
    np.testing.assert_allclose(flux_row, [e21 * e32 / den, -e11 * e32 / den, e11 * e22 / den], rtol=1e-6)
    # a plain central difference through the engine (h = 1e-4 in ln E, no Richardson) agrees as well
    def flux(e1: float) -> float:
        return ms.steady_state(model, {"E1": e1}, select=["J"])["J"]

    plain = (math.log(flux(math.exp(1e-4))) - math.log(flux(math.exp(-1e-4)))) / 2e-4
    assert plain == pytest.approx(local_j.loc["E1", "value"], abs=1e-5)
    # summation theorems
    assert local_j["value"].sum() == pytest.approx(1.0, abs=1e-6)
    assert local_s2["value"].sum() == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(fcc.values.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(ccc.values.sum(axis=1), 0.0, atol=1e-9)


def test_control_coefficients_failure_is_a_value():
    model = ms.from_antimony_text(FAILS, name="fails")
    record = control_coefficients(model, {"b": -0.1}, throw=False)
    assert record.status == "failed" and "no steady state" in record.message and np.isnan(record.values).all()
    with pytest.raises(ms.SimulationError):
        control_coefficients(model, {"b": -0.1})


# ------------------------------------------------------------------------------------------- failures


def test_failed_runs_are_reported_refused_or_dropped(tmp_path):
    model = ms.from_antimony_text(FAILS, name="fails")
    space = ParameterSpace((ParameterRange("a", 0.5, 2, "uniform", 1), ParameterRange("b", -0.2, 1, "uniform", 0.5),
                            ParameterRange("c", 0.5, 2, "uniform", 1.0)))
    out = (ObservableAt("S", None),)
    refused = run_sensitivity(SensitivitySpec(model, space, out, method="sobol", n=16, seed=3), tmp_path / "r",
                              workers=1, progress=False)
    samples = pd.read_parquet(tmp_path / "r" / "samples.parquet")
    negative = set(samples.loc[samples["b"] < 0, "row"])
    assert negative and set(refused.failures["row"]) == negative  # exactly the rows without a steady state
    assert refused.failures["retried"].all() and (refused.failures["status"] == "failed").all()
    merged = refused.failures.merge(samples, on="row", suffixes=("", "_s"))
    np.testing.assert_array_equal(merged[["a", "b", "c"]].to_numpy(), merged[["a_s", "b_s", "c_s"]].to_numpy())
    assert refused.indices["value"].isna().all() and refused.indices["note"].str.startswith("refused").all()
    assert any("failed or were undefined" in w for w in refused.warnings)
    assert any("not analysed" in w for w in refused.warnings)
    dropped = run_sensitivity(SensitivitySpec(model, space, out, method="sobol", n=16, seed=3, on_failure="drop"),
                              tmp_path / "d", workers=1, progress=False)
    assert dropped.indices["value"].notna().all()
    blocks = {r // (len(space.ranges) + 2) for r in negative}
    assert (dropped.indices["n_used"] == 16 - len(blocks)).all()
    assert dropped.indices["note"].str.contains(f"dropped {len(blocks)} of 16 blocks").all()


# --------------------------------------------------------------------------------- execution, resume


def test_two_workers_and_resume_reproduce_the_serial_run(ishigami, ishigami_space, tmp_path):
    spec = SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="sobol", n=64, seed=7,
                           chunk_rows=40)
    serial = run_sensitivity(spec, tmp_path / "serial", workers=1, progress=False)
    pooled = run_sensitivity(spec, tmp_path / "pool", workers=2, progress=False)
    pd.testing.assert_frame_equal(serial.indices, pooled.indices)
    parts = sorted((tmp_path / "serial" / "evaluations" / "parts").glob("*.parquet"))
    assert len(parts) == math.ceil(spec.rows / 40)
    for part in parts[1::2]:  # a killed run: half the chunks lost
        part.unlink()
    resumed = run_sensitivity(spec, tmp_path / "serial", workers=1, progress=False, resume=True)
    pd.testing.assert_frame_equal(serial.indices, resumed.indices)
    with pytest.raises(InputError, match="different design"):
        run_sensitivity(SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="sobol", n=64,
                                        seed=8, chunk_rows=40), tmp_path / "serial", workers=1, progress=False,
                        resume=True)
    with pytest.raises(InputError, match="resume"):
        run_sensitivity(spec, tmp_path / "pool", workers=1, progress=False)
    # the same design for another output: the stored samples match, the evaluations are of something else
    for part in parts[1::2]:
        part.unlink()
    changed = r"other settings \(sensitivity\.outputs\[0\]\.observable: was \"Y\", now \"x1\""
    with pytest.raises(InputError, match=changed):
        run_sensitivity(SensitivitySpec(ishigami, ishigami_space, (ObservableAt("x1", None),), method="sobol", n=64,
                                        seed=7, chunk_rows=40), tmp_path / "serial", workers=1, progress=False,
                        resume=True)
    # what only changes the analysis (bootstrap draws, CI level) resumes
    reanalysed = run_sensitivity(SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="sobol",
                                                 n=64, seed=7, chunk_rows=40, resamples=50, conf_level=0.9),
                                 tmp_path / "serial", workers=1, progress=False, resume=True)
    pd.testing.assert_frame_equal(serial.indices[["value"]], reanalysed.indices[["value"]])


# ------------------------------------------------------------------------------------ ranges and specs


def test_default_range_rule_on_model_a(mpnst):
    space = default_ranges(mpnst)
    ids = set(space.ids)
    assert {"kF", "aSRC", "kfbS", "VpD", "KF", "phi", "gmax", "kcl"} <= ids
    excluded = {"trametinib", "IC50_trametinib", "h_src_inhibitor_1", "theta_trametinib", "ERKpp_ref", "FS_ref",
                "NF1", "Itot", "MEKtot"}  # doses, drug constants, normalisers, zero, totals (initial assignments)
    assert not ids & excluded
    for r in space.ranges:
        assert r.dist == "loguniform" and r.low == pytest.approx(r.nominal / 2) and r.high == pytest.approx(
            2 * r.nominal)
        assert r.nominal == mpnst.parameters[r.id]
    with pytest.raises(InputError, match="Itot"):
        default_ranges(mpnst, only=["kF", "Itot"])


def test_range_files_report_every_problem_with_file_row_field(mpnst, tmp_path):
    good = tmp_path / "ranges.toml"
    good.write_text('factor = 3\n[parameters.phi]\nlow = 0.5\nhigh = 1.0\ndist = "uniform"\n'
                    '[parameters.Itot]\nlow = 0.5\nhigh = 4\n[parameters.kNF1]\ndist = "fixed"\n')
    space = load_ranges(good, mpnst)
    by_id = {r.id: r for r in space.ranges}
    assert by_id["phi"].dist == "uniform" and by_id["phi"].high == 1.0
    assert by_id["Itot"].dist == "loguniform" and "Itot" in space.ids  # added: not in the default rule
    assert "kNF1" not in by_id and by_id["kF"].high == pytest.approx(3 * 0.05)  # fixed; file factor used
    bad = tmp_path / "bad.tsv"
    bad.write_text("param\tlow\thigh\tdist\nkF\t0.1\t0.01\tloguniform\nnope\t1\t2\tuniform\n"
                   "phi\t-1\t1\tloguniform\nkS\tx\t1\tuniform\nkdS\t1\t2\tnormal\n")
    with pytest.raises(InputError) as err:
        load_ranges(bad, mpnst)
    text = str(err.value)
    for fragment in ("line 2, fields 'low'/'high'", "line 3, field 'param': 'nope'", "line 4, field 'low'",
                     "line 5, field 'low'", "line 6, field 'dist': 'normal'", "5 problem(s)"):
        assert fragment in text, fragment
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('factr = 2\n[parameters.kF]\nlow = 1\nhigh = 2\nwidth = 3\n')
    with pytest.raises(InputError, match=r"factr.*\[parameters.kF\], field 'width'"):
        load_ranges(bad_toml, mpnst)


def test_spec_validation(ishigami, ishigami_space):
    out = (ObservableAt("Y", None),)
    with pytest.raises(InputError, match="power of 2"):
        SensitivitySpec(ishigami, ishigami_space, out, method="sobol", n=100)
    with pytest.raises(InputError, match="N > 4"):
        SensitivitySpec(ishigami, ishigami_space, out, method="efast", n=60)
    with pytest.raises(InputError, match="Sobol and Morris only"):
        SensitivitySpec(ishigami, ishigami_space, out, method="efast", n=129, on_failure="drop")
    with pytest.raises(InputError, match="not an id"):
        SensitivitySpec(ishigami, ishigami_space, (ObservableAt("nope", None),))
    assert SensitivitySpec(ishigami, ishigami_space, out, method="sobol", n=8, second_order=True).rows == 8 * 8


def test_rank_parameters_flags_overlaps_but_not_exact_ties():
    rows = [("p1", 0.6, 0.05), ("p2", 0.5, 0.08), ("p3", 0.1, 0.01), ("p4", 0.0, 0.0), ("p5", 0.0, 0.0)]
    table = pd.DataFrame([{"column": "y0000", "parameter": p, "parameter_2": "", "index": "ST", "value": v,
                           "conf": c, "low": v - c, "high": v + c, "n_used": 8, "note": ""} for p, v, c in rows])
    ranking, unresolved = rank_parameters(table, "sobol", top=5)
    assert ranking["parameter"].tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert ranking["resolved"].tolist() == [False, True, True, False, True]
    assert ranking["exact_tie"].tolist() == [False, False, False, True, False]
    assert unresolved["pairs"].tolist() == ["p1 vs p2"]


# ---------------------------------------------------------------------------- Model A outputs of interest


def test_model_a_outputs_match_the_library_at_nominal_values(mpnst, drugs, lines, condition):
    from scipy.optimize import brentq

    grid = ReadoutGrid("viability", "S462_R1", "trametinib", (0.0, 3.0, 30.0), "src_inhibitor_1", (0.0, 1000.0))
    ci = CombinationIndexAt("S462", "trametinib", "src_inhibitor_1", 1 / 1000, tuple(np.geomspace(0.1, 10, 9)),
                            tuple(np.geomspace(100, 10000, 9)), (0.5,))
    doses = tuple(np.geomspace(0.01, 1000, 21))
    shift = IC50Shift("trametinib", "S462", "S462_R1", doses)
    outputs = [grid, ci, shift, ReadoutAt("perk_suppression", "S462_R1", {"trametinib": 10.0})]
    space = default_ranges(mpnst, only=["kF", "aSRC"])
    y, status, message = evaluate_rows(mpnst, space.ids, space.nominal[None, :], outputs)
    assert status == ["ok"], message
    direct = ms.compute_readouts(mpnst, [condition("S462_R1", {"trametinib": a, "src_inhibitor_1": b})
                                         for a in grid.doses_a for b in grid.doses_b], readouts=["viability"])
    np.testing.assert_allclose(y[0, :6], [r["viability"] for r in direct], rtol=1e-12)
    # the CI convention of experiments/fit_line_ci, recomputed through the synergy module (A14: S462 0.578)
    from simulator.synergy import combination_index_at, median_effect_fit

    series = ([(a, 0.0) for a in ci.doses_a] + [(0.0, b) for b in ci.doses_b]
              + [(a, 1000 * a) for a in ci.doses_a])
    fa = 1 - np.array([r["viability"] for r in ms.compute_readouts(
        mpnst, [condition("S462", {"trametinib": a, "src_inhibitor_1": b}) for a, b in series],
        readouts=["viability"])]) / 100
    fits = (median_effect_fit(ci.doses_a, fa[:9]), median_effect_fit(ci.doses_b, fa[9:18]),
            median_effect_fit(np.asarray(ci.doses_a) * 1001, fa[18:]))
    assert y[0, 6] == pytest.approx(float(combination_index_at(*fits, (1, 1000), [0.5]).ci[0]), rel=1e-9)
    # ... by the one constant-ratio path, so its quality flags come along: SRC inhibitor 1 alone plateaus (its
    # median-effect fit has r < 0.95), and the row says so while keeping the value
    from simulator.sensitivity._evaluate import CI_FLAGGED

    assert fits[1].r < 0.95 and CI_FLAGGED in message[0] and "b_low_r" in message[0]
    # IC50 shift against the exact crossings of the model's own curve (Brent on log dose): PCHIP on 5 doses per
    # decade is within 1 % (measured 0.8 %; 0.02 % at 10 per decade)
    def viability(line, dose):
        return ms.compute_readouts(mpnst, [condition(line, {"trametinib": dose})], readouts=["viability"])[0][
            "viability"]

    exact = [10 ** brentq(lambda x, ln=line: viability(ln, 10**x) - 50.0, -2, 3, xtol=1e-10)
             for line in ("S462", "S462_R1")]
    assert y[0, 7] == pytest.approx(exact[1] / exact[0], rel=0.01)
    assert y[0, 7] > 3  # A1: >= 3x
    # the "curve" CI estimator against exact crossings: CI = d_T/Dx_T (SRCi alone never halves viability, so
    # its term is 0, as the row's message says). It interpolates the dose series, so it converges to the exact
    # ratio as the series gets denser: measured error 0.72 % at 4 doses per decade, 0.16 % at 8, 0.009 % at 16
    curve = CombinationIndexAt("S462", "trametinib", "src_inhibitor_1", 1 / 1000, tuple(np.geomspace(0.01, 1000, 41)),
                               tuple(np.geomspace(10, 1e5, 17)), (0.5,), estimator="curve")
    yc, status_c, message_c = evaluate_rows(mpnst, space.ids, space.nominal[None, :], [curve])
    assert status_c == ["ok"] and "taken as 0" in message_c[0]

    def mixture(total):
        return viability_mix(total / 1001.0, total * 1000.0 / 1001.0)

    def viability_mix(tram, srci):
        cond = condition("S462", {"trametinib": tram, "src_inhibitor_1": srci})
        return ms.compute_readouts(mpnst, [cond], readouts=["viability"])[0]["viability"]

    dx_t = 10 ** brentq(lambda x: viability("S462", 10**x) - 50.0, -2, 3, xtol=1e-10)
    dx_mix = 10 ** brentq(lambda x: mixture(10**x) - 50.0, -1, 5, xtol=1e-10)
    assert yc[0, 0] == pytest.approx((dx_mix / 1001.0) / dx_t, rel=0.005)
    ref = ms.compute_readouts(mpnst, [condition("S462_R1", {"trametinib": 10.0})], readouts=["perk_suppression"])
    assert y[0, 8] == pytest.approx(ref[0]["perk_suppression"], rel=1e-12)
    # a sampled value replaces the default, and the line's scale applies to it (R1: ksL x5 of the sample)
    space2 = default_ranges(mpnst, only=["ksL"])
    y2, _, _ = evaluate_rows(mpnst, space2.ids, np.array([[2e-4]]), [ReadoutAt("viability", "S462_R1",
                                                                                {"trametinib": 10.0})])
    ref2 = ms.compute_readouts(mpnst, [condition("S462_R1", {"trametinib": 10.0}, values={"ksL": 1e-3})],
                               readouts=["viability"])
    assert y2[0, 0] == pytest.approx(ref2[0]["viability"], rel=1e-12)


def test_parse_output_grammar_and_errors(mpnst):
    out = parse_output("viability@line=S462_R1,trametinib=10nM,src_inhibitor_1=1uM", mpnst)
    assert isinstance(out, ReadoutAt) and dict(out.doses) == {"trametinib": 10.0, "src_inhibitor_1": 1000.0}
    tc = parse_output("pERK@trametinib=3,t=0:4h:5", mpnst, cell_line="S462")
    assert isinstance(tc, ObservableAt) and tc.times == (0.0, 60.0, 120.0, 180.0, 240.0) and tc.cell_line == "S462"
    g = parse_output("perk_suppression@a=trametinib:1:100:3,b=gsk2256098:10:1000:2", mpnst, cell_line="S462")
    assert isinstance(g, ReadoutGrid) and g.doses_a == (0.0, 1.0, 10.0, 100.0) and len(g.columns(mpnst)) == 12
    c = parse_output("ci@a=trametinib:0.1:10:5,b=src_inhibitor_1:100:10000:5,ratio=1:1000,fa=0.5;0.75", mpnst,
                     cell_line="S462")
    assert isinstance(c, CombinationIndexAt) and c.ratio == pytest.approx(1e-3) and c.fa == (0.5, 0.75)
    s = parse_output("ic50_shift@a=trametinib:0.01:1000:9,from=S462,to=S462_R1", mpnst)
    assert isinstance(s, IC50Shift) and s.resistant == "S462_R1"
    for text, match in (("viability@trametinib=10,bogus=1", "unknown key"), ("nope", "not a readout"),
                        ("ci@a=trametinib:0.1:10:5", "needs a="), ("viability@a=trametinib:1:10:3", "both a="),
                        ("pERK@t=0:4h", "T0:T1:N"), ("viability@trametinib", "KEY=VALUE")):
        with pytest.raises(InputError, match=match):
            parse_output(text, mpnst)


def test_cli_sensitivity_and_report_section(tmp_path):
    out = tmp_path / "sens"
    code = main(["sensitivity", "--model", "mpnst", "--method", "morris", "--n", "3", "--params", "kF,aSRC,kfbS,VpD",
                 "--cell-line", "S462_R1", "--output", "viability@trametinib=10nM,src_inhibitor_1=1uM",
                 "--output", "pERK@trametinib=10nM,t=0:24h:4", "--workers", "1", "--no-progress", "--out", str(out)])
    assert code == 0
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    info = manifest["sensitivity"]
    assert info["method"] == "morris" and info["parameters"] == ["kF", "aSRC", "kfbS", "VpD"]
    assert manifest["counts"]["rows"] == 3 * 5 and manifest["seed"] == 0 and "NaN" in info["nan_policy"]
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "Sensitivity (morris)" in html and "mu*" in html
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == ["output00_bars.png", "output00_morris.png", "output01_heatmap.png"]
    assert main(["sensitivity", "--model", "mpnst", "--method", "sobol", "--n", "100", "--out", str(tmp_path / "x"),
                 "--params", "kF"]) == 1  # N not a power of 2: a one-paragraph error, exit 1
    assert main(["sensitivity", "--model", "mpnst", "--method", "bogus", "--out", str(tmp_path / "y")]) == 2


@pytest.mark.slow
def test_sobol_ishigami_converges_with_large_n(ishigami, ishigami_space, tmp_path):
    spec = SensitivitySpec(ishigami, ishigami_space, (ObservableAt("Y", None),), method="sobol", n=16384, seed=1)
    result = run_sensitivity(spec, tmp_path / "big", workers=2, progress=False)
    s1, st = _ishigami_truth()
    np.testing.assert_allclose(_pivot(result, "S1").loc[["x1", "x2", "x3"], "value"], s1, atol=0.02)
    np.testing.assert_allclose(_pivot(result, "ST").loc[["x1", "x2", "x3"], "value"], st, atol=0.02)
    assert (_pivot(result, "ST")["conf"] < 0.03).all()


def test_sensitivity_benchmark_quick():
    """benchmarks/sensitivity.py still runs (N = 8, prints only, RESULTS.md untouched)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    results = ROOT / "benchmarks" / "RESULTS.md"
    before = results.read_text()
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sensitivity.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Model evaluations per second" in proc.stdout and "1 vs 2 workers" in proc.stdout
    assert results.read_text() == before


# ------------------------------------------------------------------------- SALib reproduces the indices


def test_salib_analyze_on_the_written_files_reproduces_the_indices(tmp_path):
    """The run writes SALib's problem, the samples in the sampled (log10) space and the outputs; SALib's own
    analyze (Python API and the ``salib`` command line) on those files gives mekisim's indices, and Morris' the
    analytic mu* of the additive model (2a per decade-step)."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from SALib.analyze import morris as salib_morris
    from SALib.analyze import sobol as salib_sobol
    from SALib.util import read_param_file

    model = ms.from_antimony_text(LINEAR, name="linear")
    space = default_ranges(model, factor=10, only=["k1", "k2", "k3"])  # log-uniform: sampled as log10 k
    outputs = (ObservableAt("Y", None), ObservableAt("Y", None, times=(0.5, 2.0)))
    sobol = run_sensitivity(SensitivitySpec(model, space, outputs, method="sobol", n=64, seed=3),
                            tmp_path / "s", workers=1, progress=False)
    folder = tmp_path / "s"
    evaluations = pd.read_csv(folder / "evaluations.csv")
    names = sobol.columns["column"].tolist()
    assert names == ["Y", "Y@t=0.5", "Y@t=2"] and names == list(evaluations.columns[4:])  # specs as names
    problem = json.loads((folder / "salib_problem.json").read_text())
    assert problem["sampled_space"] == {"k1": "log10", "k2": "log10", "k3": "log10"}
    assert problem["outputs"] == names
    np.testing.assert_allclose(problem["bounds"], [[-1.0 + np.log10(1), 1.0]] * 3, atol=1e-15)
    x = np.loadtxt(folder / problem["samples_file"])
    y = np.loadtxt(folder / problem["outputs_file"], ndmin=2)
    np.testing.assert_array_equal(10 ** x, pd.read_csv(folder / "samples.csv")[["k1", "k2", "k3"]].to_numpy())
    np.testing.assert_array_equal(y, evaluations[names].to_numpy())
    for j, name in enumerate(names):
        si = salib_sobol.analyze(problem, y[:, j], calc_second_order=False, num_resamples=10, seed=1)
        ours = sobol.indices[sobol.indices["column"] == name].set_index(["index", "parameter"])["value"]
        for index in ("S1", "ST"):
            np.testing.assert_allclose(ours.loc[index].loc[["k1", "k2", "k3"]], si[index], rtol=0, atol=1e-12)
    # the command line, as a modeller would run it, on the parameter file
    salib = shutil.which("salib", path=str(Path(sys.executable).parent))
    assert read_param_file(str(folder / "salib_problem.txt"))["names"] == ["k1", "k2", "k3"]
    if salib is not None:
        text = subprocess.run([salib, "analyze", "sobol", "-p", str(folder / "salib_problem.txt"), "-Y",
                               str(folder / "salib_outputs.txt"), "-c", "0", "--max-order", "1", "-r", "10"],
                              capture_output=True, text=True, check=True).stdout
        st: dict[str, float] = {}  # its first table is ST (then S1): the first value per parameter
        for line in text.splitlines():
            if line.split() and line.split()[0] in ("k1", "k2", "k3"):
                st.setdefault(line.split()[0], float(line.split()[1]))
        ours = sobol.indices[(sobol.indices["column"] == "Y") & (sobol.indices["index"] == "ST")]
        np.testing.assert_allclose([st[p] for p in ("k1", "k2", "k3")], ours["value"], rtol=1e-6, atol=1e-6)

    morris = run_sensitivity(SensitivitySpec(model, space, outputs[:1], method="morris", n=8, seed=3),
                             tmp_path / "m", workers=1, progress=False)
    folder = tmp_path / "m"
    problem = json.loads((folder / "salib_problem.json").read_text())
    x, y = np.loadtxt(folder / "salib_samples.txt"), np.loadtxt(folder / "salib_outputs.txt")
    si = salib_morris.analyze(problem, x, y, num_levels=problem["settings"]["num_levels"], num_resamples=10, seed=1)
    ours = morris.indices.set_index(["index", "parameter"])["value"]
    np.testing.assert_allclose(si["mu_star"], ours.loc["mu_star"].loc[["k1", "k2", "k3"]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(si["mu_star"], [4.0, 2.0, 0.0], atol=1e-6)  # and the analytic values


def test_flagged_median_effect_cis_are_counted_in_the_warnings(mpnst, tmp_path):
    # SRC inhibitor 1 alone plateaus in S462, so every row's median-effect CI is flagged (b_low_r): the values are
    # analysed, and the run says how many rows rest on flagged CIs
    ci = CombinationIndexAt("S462", "trametinib", "src_inhibitor_1", 1 / 1000, tuple(np.geomspace(0.1, 10, 5)),
                            tuple(np.geomspace(100, 10000, 5)), (0.5,))
    space = default_ranges(mpnst, only=["kF"])
    result = run_sensitivity(SensitivitySpec(mpnst, space, (ci,), method="local"), tmp_path / "ci", workers=1,
                             progress=False)
    rows = len(result.evaluations)
    assert (result.evaluations["status"] == "ok").all() and rows >= 2
    assert any(w.startswith(f"{rows} of {rows} rows have a flagged median-effect CI") and "b_low_r" in w
               for w in result.warnings), result.warnings
