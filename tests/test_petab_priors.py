"""PEtab v1 objective priors: closed-form densities, posterior modes found by the fitter, refusals, the CLI's numbers.

Every expected value is written independently of ``simulator/fit/_priors.py``: scipy.stats' ``logpdf`` for the
densities, and the closed-form posterior mode of a one-parameter problem whose likelihood is quadratic.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from _petab_files import MEASUREMENT_HEADER, PRIOR_HEADER, TWO_STATE, write_prior_problem, write_problem
from petab.v1.priors import Prior as PetabPrior
from scipy import stats

from simulator.cli import main
from simulator.errors import InputError
from simulator.fit import (
    THRESHOLD_95,
    FitSettings,
    ProfileSettings,
    evaluate_nominal,
    fit_petab,
    latin_hypercube_starts,
    load_petab,
    make_objective,
    profile_parameters,
)
from simulator.fit._objective import _Hierarchical
from simulator.fit._priors import prior_starts
from simulator.parallel import SerialExecutor

DATA = np.array([1.0, 1.5, 0.7, 1.2])
SIGMA = 0.5
LN10 = math.log(10.0)


def row(pid: str, scale: str, lower: float, upper: float, nominal: float, prior: str = "", params: str = "",
        init: str = "", init_params: str = "") -> str:
    return f"{pid}\t{scale}\t{lower}\t{upper}\t{nominal}\t1\t{prior}\t{params}\t{init}\t{init_params}\n"


def closed_form(kind: str, scale: str, a: float, b: float, lin: float) -> float:
    """-log prior of the linear value ``lin`` from scipy.stats (module docstring of _priors for the conventions)."""
    scaled = {"lin": lin, "log": math.log(lin), "log10": math.log10(lin)}[scale]
    if kind == "normal":
        return -stats.norm.logpdf(lin, a, b)
    if kind == "laplace":
        return -stats.laplace.logpdf(lin, a, b)
    if kind == "uniform":
        return -stats.uniform.logpdf(lin, a, b - a)
    if kind == "logNormal":  # ln(value) ~ N(a, b): scipy's lognorm(s=b, scale=e^a)
        return -stats.lognorm.logpdf(lin, b, scale=math.exp(a))
    if kind == "logLaplace":  # ln(value) ~ Laplace(a, b): the density of the value has the 1/value factor
        return -stats.laplace.logpdf(math.log(lin), a, b) + math.log(lin)
    if kind == "parameterScaleNormal":
        return -stats.norm.logpdf(scaled, a, b)
    if kind == "parameterScaleLaplace":
        return -stats.laplace.logpdf(scaled, a, b)
    assert kind == "parameterScaleUniform"
    return -stats.uniform.logpdf(scaled, a, b - a)


CASES = [  # (type, parameterScale, prior parameters, linear value where it is evaluated)
    ("normal", "lin", (0.7, 0.3), 1.1),
    ("normal", "log10", (2.0, 1.5), 3.2),
    ("laplace", "log", (1.0, 0.4), 0.6),
    ("logNormal", "lin", (0.1, 0.6), 2.5),
    ("logNormal", "log10", (-0.5, 0.8), 0.3),
    ("logLaplace", "log", (0.2, 0.5), 2.0),
    ("logLaplace", "log10", (0.2, 0.5), 0.4),
    ("uniform", "log10", (0.5, 4.0), 2.0),
    ("parameterScaleNormal", "log10", (0.2, 0.5), 10**0.3),
    ("parameterScaleNormal", "lin", (0.2, 0.5), 0.3),
    ("parameterScaleLaplace", "log", (-0.3, 0.7), 2.0),
    ("parameterScaleUniform", "log10", (-1.0, 1.0), 2.0),
]


@pytest.mark.parametrize(("kind", "scale", "params", "lin"), CASES)
def test_prior_term_equals_the_closed_form_density(tmp_path, kind, scale, params, lin):
    """nlprior at a known point is -log of the density (scipy), and 0.5 r^2 + const of the residual is the same."""
    a, b = params
    yaml_path = write_prior_problem(tmp_path, row("theta", scale, 0.01, 100, lin, kind, f"{a};{b}"), DATA)
    objective = make_objective(load_petab(yaml_path))
    x = np.log(lin) if scale == "log" else np.log10(lin) if scale == "log10" else lin
    x = np.array([x])
    expected = closed_form(kind, scale, a, b, lin)
    assert objective.nlprior(x) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # the least-squares form: residuals after the likelihood's, 0.5 sum r^2 + const = nlprior exactly
    n = 2 * DATA.size
    res = objective.residuals(x)
    assert res.size == n + (0 if "niform" in kind else 1)
    assert 0.5 * float(res[n:] @ res[n:]) + objective.priors.constant == pytest.approx(expected, rel=1e-12)
    # the likelihood is unchanged; nlpost is the sum
    assert objective.nllh(x) == pytest.approx(float(evaluate_nominal(load_petab(yaml_path)).nllh), rel=1e-12)
    assert objective.nlpost(x) == pytest.approx(objective.nllh(x) + expected, rel=1e-12)
    # the nominal evaluation reports the same prior term at the nominal value
    assert evaluate_nominal(load_petab(yaml_path)).nlprior == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("kind", "scale", "params", "lin"), [c for c in CASES if not c[0].startswith("param")
                                                                or c[1] == "lin"])
def test_prior_term_agrees_with_petab_where_the_conventions_agree(tmp_path, kind, scale, params, lin):
    """libpetab's untruncated density of the linear value, for every type whose density is that of the value."""
    text = f"{params[0]};{params[1]}"
    yaml_path = write_prior_problem(tmp_path, row("theta", scale, 0.01, 100, lin, kind, text), DATA)
    reference = PetabPrior(kind, params, bounds=(0.01, 100), transformation=scale, _bounds_truncate=False)
    assert evaluate_nominal(load_petab(yaml_path)).nlprior == pytest.approx(float(reference.neglogprior(lin)),
                                                                            rel=1e-12)


def test_prior_residual_jacobian_matches_central_differences(tmp_path):
    rows = (row("p1", "log10", 0.01, 100, 1, "normal", "2;1.5") + row("p2", "log", 0.01, 100, 1, "logNormal", "0.1;0.6")
            + row("p3", "lin", -5, 5, 1, "laplace", "0.5;2") + row("p4", "log10", 0.01, 100, 1, "logLaplace", "0.3;0.5")
            + row("p5", "log10", 0.01, 100, 1, "parameterScaleNormal", "0.2;0.5"))
    yaml_path = write_prior_problem(tmp_path, rows, DATA, formula="p1 + p2 + p3 + p4 + p5")
    priors = make_objective(load_petab(yaml_path)).priors
    x = np.array([0.4, 0.3, 1.7, -0.6, 0.9])
    h = 1e-6
    numeric = np.column_stack([(priors.residuals(x + h * e) - priors.residuals(x - h * e)) / (2 * h)
                               for e in np.eye(5)])
    np.testing.assert_allclose(priors.jacobian(x), numeric, rtol=1e-7, atol=1e-9)


#: How close a fitted mode must be: the posterior sd here is ~0.2; least_squares stops on ftol once cost changes
#: reach the float resolution of the cost (~1e-16 of the noise normalisation's ~100), ~1e-7 in theta (test_fit's
#: OLS checks use the same 1e-6)
MODE_ATOL = 1e-6


def fit_one(yaml_path, starts: int = 4):
    # least_squares (trf) with tight tolerances: these tests check the prior terms' modes to 1e-6; fides (the
    # default optimiser) stops on its own tolerances (f change 1e-8), which left a Laplace mode 3e-6 away
    settings = FitSettings(optimizer="trf", ftol=1e-14, xtol=1e-14, gtol=1e-14)
    return fit_petab(yaml_path, starts=starts, seed=1, executor=SerialExecutor(), settings=settings)


def test_fit_finds_the_analytic_posterior_mode_of_a_normal_prior(tmp_path):
    """y = theta, n normal measurements (sigma), prior N(mu, tau): mode = (n m/s^2 + mu/tau^2) / (n/s^2 + 1/tau^2)."""
    mu, tau = 2.0, 0.3
    yaml_path = write_prior_problem(tmp_path, row("theta", "lin", -10, 10, 1, "normal", f"{mu};{tau}"), DATA,
                                    sigma=SIGMA)
    c = DATA.size / SIGMA**2
    mode = (c * DATA.mean() + mu / tau**2) / (c + 1 / tau**2)
    fit = fit_one(yaml_path)
    assert fit.n_ok == 4
    for start in fit.starts:
        assert start.x[0] == pytest.approx(mode, abs=MODE_ATOL)
    best = fit.best
    objective = make_objective(load_petab(yaml_path))
    x = np.array(best.x)
    assert best.nllh == pytest.approx(objective.nllh(x), abs=1e-12)  # the likelihood alone, at the end point
    assert best.nlprior == pytest.approx(-stats.norm.logpdf(x[0], mu, tau), abs=1e-12)
    assert best.nlpost == pytest.approx(best.nllh + best.nlprior, abs=1e-15)
    # the likelihood's own optimum (the data mean) has a lower nllh: the fit did minimise the posterior
    assert objective.nllh(np.array([DATA.mean()])) < best.nllh - 0.1


def test_fit_finds_the_analytic_posterior_mode_of_a_lognormal_prior(tmp_path):
    """log observable, log-scale theta: in u = ln theta the nllh is c/2 (u - mean ln m)^2, the logNormal prior adds
    (u - mu)^2 / (2 tau^2) + u, so the mode is u* = (c ubar + mu/tau^2 - 1) / (c + 1/tau^2)."""
    mu, tau, s = 0.8, 0.5, 0.2
    yaml_path = write_prior_problem(tmp_path, row("theta", "log", 0.01, 100, 1, "logNormal", f"{mu};{tau}"), DATA,
                                    sigma=s, transformation="log")
    c = DATA.size / s**2
    mode = (c * np.log(DATA).mean() + mu / tau**2 - 1.0) / (c + 1 / tau**2)
    fit = fit_one(yaml_path)
    assert fit.n_ok == 4 and all(st.x[0] == pytest.approx(mode, abs=MODE_ATOL) for st in fit.starts)


@pytest.mark.parametrize("mu", [0.0, 1.05])
def test_fit_finds_the_analytic_posterior_mode_of_a_laplace_prior(tmp_path, mu):
    """y = theta, normal data (mean m), prior Laplace(mu, b): mode m - sign(m - mu)/(b c) when |m - mu| > 1/(b c),
    else exactly mu (the kink of |theta - mu|, where the residual's derivative is infinite)."""
    b = 0.5
    yaml_path = write_prior_problem(tmp_path, row("theta", "lin", -10, 10, 1, "parameterScaleLaplace", f"{mu};{b}"),
                                    DATA, sigma=SIGMA)
    c, m = DATA.size / SIGMA**2, DATA.mean()
    smooth = abs(m - mu) > 1 / (b * c)
    mode = m - math.copysign(1 / (b * c), m - mu) if smooth else mu
    assert smooth == (mu == 0.0)  # one case each
    fit = fit_one(yaml_path)
    assert fit.n_ok == 4
    for start in fit.starts:
        assert start.x[0] == pytest.approx(mode, abs=MODE_ATOL)
    objective = make_objective(load_petab(yaml_path))
    # no lower point: the end point's nlpost is the mode's within the cost's resolution
    assert fit.best.nlpost == pytest.approx(objective.nlpost(np.array([mode])), abs=1e-9)
    assert fit.best.nlpost >= objective.nlpost(np.array([mode])) - 1e-12


def test_uniform_prior_is_a_box_and_a_constant(tmp_path):
    """uniform(0.5, 4) on a parameter bounded [0.01, 100]: the box shrinks to the prior's support, the data mean
    (1.1) is inside it so the mode is the likelihood's, and nlprior is log(3.5) there."""
    yaml_path = write_prior_problem(tmp_path, row("theta", "log10", 0.01, 100, 1, "uniform", "0.5;4"), DATA)
    objective = make_objective(load_petab(yaml_path))
    np.testing.assert_allclose([objective.lower[0], objective.upper[0]], [math.log10(0.5), math.log10(4)])
    assert objective.n_residuals == 2 * DATA.size
    fit = fit_one(yaml_path, starts=2)
    assert 10 ** fit.best.x[0] == pytest.approx(DATA.mean(), abs=MODE_ATOL)
    assert fit.best.nlprior == pytest.approx(math.log(3.5), abs=1e-12)


@pytest.mark.parametrize(("prior", "params", "match"), [
    ("gaussian", "0;1", r"row 'theta'.*'gaussian' is not a PEtab v1 prior type; valid: uniform, normal, laplace, "
                        r"logNormal, logLaplace, parameterScaleUniform, parameterScaleNormal, parameterScaleLaplace"),
    ("normal", "0", r"row 'theta'.*two numbers"),
    ("laplace", "0;-1", r"row 'theta'.*scale > 0"),
    ("logLaplace", "0;2", r"row 'theta'.*logLaplace.*scale 2.0 >= 1"),
])
def test_invalid_priors_are_refused_naming_the_row(tmp_path, prior, params, match):
    yaml_path = write_prior_problem(tmp_path, row("theta", "lin", 0.1, 10, 1, prior, params), DATA)
    problem = load_petab(yaml_path)
    with pytest.raises(InputError, match=match):
        make_objective(problem)
    with pytest.raises(InputError, match=match):
        evaluate_nominal(problem)
    assert main(["fit", "--petab", str(yaml_path), "--starts", "1", "--out", str(tmp_path / "out")]) == 1


def test_initialization_prior_draws_the_starts_and_others_stay_latin_hypercube(tmp_path):
    """A normal initialization prior N(1, 0.5) on a lin parameter bounded [-10, 10]: the starts are its stratified
    sample (mean and sd within sampling error; the bounds are 22 sd away); a parameter without one keeps the plain
    Latin hypercube column, and the starts are reproducible by the seed."""
    rows = (row("theta", "lin", -10, 10, 1, init="normal", init_params="1;0.5")
            + row("other", "log10", 0.01, 100, 1))
    yaml_path = write_prior_problem(tmp_path, rows, DATA, formula="theta + other")
    objective = make_objective(load_petab(yaml_path))
    n = 400
    points = prior_starts(objective.problem.parameter_df, objective.ids, objective.scales, objective.lower,
                          objective.upper, n, 3)
    plain = latin_hypercube_starts(objective.lower, objective.upper, n, 3)
    np.testing.assert_array_equal(points[:, 1], plain[:, 1])
    assert abs(points[:, 0].mean() - 1.0) < 3 * 0.5 / math.sqrt(n)
    assert points[:, 0].std() == pytest.approx(0.5, rel=0.05)  # stratified: far tighter than iid sampling error
    # the quantiles of a Latin hypercube column: exactly one point per 1/n stratum of the prior's CDF
    strata = np.sort(np.floor(stats.norm.cdf(points[:, 0], 1.0, 0.5) * n))
    np.testing.assert_array_equal(strata, np.arange(n))
    again = prior_starts(objective.problem.parameter_df, objective.ids, objective.scales, objective.lower,
                         objective.upper, n, 3)
    np.testing.assert_array_equal(points, again)


def test_cli_reports_nllh_nlprior_and_nlpost_at_nominal_and_after_a_fit(tmp_path, capsys):
    mu, tau = 2.0, 0.3
    yaml_path = write_prior_problem(tmp_path, row("theta", "lin", -10, 10, 1, "normal", f"{mu};{tau}"), DATA,
                                    sigma=SIGMA)
    nominal_llh = float(np.sum(-stats.norm.logpdf(DATA, 1.0, SIGMA)))
    nominal_prior = float(-stats.norm.logpdf(1.0, mu, tau))
    out = tmp_path / "nominal"
    assert main(["fit", "--petab", str(yaml_path), "--starts", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    record = json.loads((out / "nominal.json").read_text())
    assert record["nllh"] == pytest.approx(nominal_llh, rel=1e-10)
    assert record["nlprior"] == pytest.approx(nominal_prior, rel=1e-12)
    assert record["nlpost"] == pytest.approx(nominal_llh + nominal_prior, rel=1e-10)
    assert f"nlprior {record['nlprior']:.10g}" in printed and f"nominal nllh {record['nllh']:.10g}" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fit"]["nlprior"] == pytest.approx(nominal_prior, rel=1e-12)

    out = tmp_path / "fit"
    assert main(["fit", "--petab", str(yaml_path), "--starts", "2", "--workers", "1", "--out", str(out)]) == 0
    starts = pd.read_csv(out / "starts.csv")
    c = DATA.size / SIGMA**2
    mode = (c * DATA.mean() + mu / tau**2) / (c + 1 / tau**2)
    best = starts.iloc[0]
    assert best["theta"] == pytest.approx(mode, abs=MODE_ATOL)
    theta = best["theta"]
    assert best["nllh"] == pytest.approx(float(np.sum(-stats.norm.logpdf(DATA, theta, SIGMA))), abs=1e-9)
    assert best["nlprior"] == pytest.approx(float(-stats.norm.logpdf(theta, mu, tau)), abs=1e-9)
    assert best["nlpost"] == pytest.approx(best["nllh"] + best["nlprior"], abs=1e-12)
    fit = json.loads((out / "manifest.json").read_text())["fit"]
    assert fit["best_nllh"] == pytest.approx(best["nllh"], abs=1e-12)
    assert fit["best_nlpost"] == pytest.approx(best["nlpost"], abs=1e-12)
    assert fit["priors"] == [{"parameterId": "theta", "type": "normal", "parameters": [mu, tau], "scale": "lin"}]
    assert "nlpost" in fit["objective"]


def test_profile_of_a_gaussian_posterior_is_its_exact_parabola(tmp_path):
    """y = theta + eta, normal priors on both: the posterior is Gaussian with precision P = c 11^T + diag(1/tau^2),
    and the profile of theta (eta re-optimised, theta's own prior included) is (theta - theta*)^2 / (2 Sigma_tt)."""
    rows = row("theta", "lin", -10, 10, 1, "normal", "2;0.3") + row("eta", "lin", -10, 10, 0, "normal", "-0.5;0.4")
    yaml_path = write_prior_problem(tmp_path, rows, DATA, formula="theta + eta", sigma=SIGMA)
    c = DATA.size / SIGMA**2
    precision = c * np.ones((2, 2)) + np.diag([1 / 0.3**2, 1 / 0.4**2])
    cov = np.linalg.inv(precision)
    mode = cov @ (c * DATA.sum() / DATA.size * np.ones(2) + np.array([2 / 0.3**2, -0.5 / 0.4**2]))
    fit = fit_one(yaml_path, starts=2)
    np.testing.assert_allclose(fit.best.x, mode, atol=MODE_ATOL)
    (profile,), errors = profile_parameters(fit, ["theta"], settings=ProfileSettings(first_step=0.01))
    assert not errors
    expected = (profile.values - mode[0]) ** 2 / (2 * cov[0, 0])
    np.testing.assert_allclose(profile.delta, expected, atol=1e-7)
    half = math.sqrt(2 * THRESHOLD_95 * cov[0, 0])
    assert profile.ci_low == pytest.approx(mode[0] - half, abs=0.02 * math.sqrt(cov[0, 0]))


def test_hierarchical_fit_keeps_a_scale_with_a_prior_in_the_outer_problem(tmp_path):
    """TWO_STATE observed as scale * B: scale is formula-only (inner) unless it has a prior; with one, the variable
    projection's Jacobian still equals central differences of the profiled residuals, and a fit converges."""

    rows = (row("k2", "log10", 0.01, 100, 1) + row("k1_stim", "log10", 0.01, 100, 3)
            + row("scale", "log10", 0.01, 100, 2, "parameterScaleNormal", "0.2;0.1")
            + row("sd", "log10", 0.001, 10, 0.1))
    measurements = MEASUREMENT_HEADER + "".join(f"obs_B\tbasal\tstim\t{t}\t{v}\tscale\tsd\n" for t, v in
                                                [(0.5, 1.0), (1.0, 1.2), (2.0, 1.4), (4.0, 1.5)])
    yaml_path = write_problem(
        tmp_path, TWO_STATE, conditions="conditionId\tk1\nbasal\t1\nstim\tk1_stim\n",
        observables="observableId\tobservableFormula\tnoiseFormula\n"
                    "obs_B\tobservableParameter1_obs_B * B\tnoiseParameter1_obs_B\n",
        parameters=rows, measurements=measurements, parameter_header=PRIOR_HEADER)
    objective = make_objective(load_petab(yaml_path), gradient="exact")
    assert list(objective.ids) == ["k2", "k1_stim", "scale", "sd"]
    np.testing.assert_array_equal(objective.outer_mask, [True, True, True, False])
    x0 = np.array([0.1, 0.4, 0.25, -1.0])
    hier = _Hierarchical(objective, x0)
    xo = x0[hier.outer]
    jac = hier.jacobian(xo)
    h = 1e-5
    numeric = np.column_stack([(hier.residuals(xo + h * e) - hier.residuals(xo - h * e)) / (2 * h)
                               for e in np.eye(xo.size)])
    np.testing.assert_allclose(jac.T @ hier.residuals(xo), numeric.T @ hier.residuals(xo), rtol=1e-4, atol=1e-6)
    fit = fit_one(yaml_path, starts=2)
    assert fit.n_ok >= 1 and math.isfinite(fit.best.nlpost)
    assert fit.best.nlprior == pytest.approx(float(-stats.norm.logpdf(fit.best.x[2], 0.2, 0.1)), rel=1e-12)
