"""Exact gradients (issue 18 item 4): forward sensitivities, pre-equilibration by the implicit-function theorem,
and the vectorised formulas of the inner problem, each against known truth.

Truth: closed-form solutions of tiny models (their derivatives by hand), central differences of the residuals at
tight ODE tolerances (rtol 1e-12), and the reference nllh of ``petab_nllh`` (the per-row formula path).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.engine import SolverOptions
from simulator.fit import (
    FitSettings,
    fit_petab,
    latin_hypercube_starts,
    noise_sigma,
    objective_for,
    observe,
    petab_nllh,
    simulate_petab,
    to_scaled,
)
from simulator.model import antimony_to_sbml
from tests._petab_files import write_problem

PETAB = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "petab"
FIEDLER, BOEHM, FUJITA = "Fiedler_BMCSystBiol2016", "Boehm_JProteomeRes2014", "Fujita_SciSignal2010"
TIGHT = SolverOptions(rtol=1e-12, atol=1e-14, max_steps=100_000)


def yaml_of(name: str) -> Path:
    return PETAB / name / f"{name}.yaml"


def nominal_x(obj) -> np.ndarray:
    return to_scaled(np.array([obj.problem.nominal[i] for i in obj.ids]), obj.scales)


def central_jacobian(obj, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of the residuals, every column by two full evaluations (no shared code path)."""
    cols = []
    for j in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus[j] += h
        minus[j] -= h
        cols.append((obj.residuals(plus) - obj.residuals(minus)) / (2 * h))
    return np.column_stack(cols)


# ------------------------------------------------------------------ a decay with a parameter-dependent start

DECAY = """
model decay
  J0: X -> ; k * X
  X = 2 * a
  k = 0.7; a = 1.5
end
"""
DECAY_TIMES = (0.0, 0.5, 1.0, 2.0, 4.0)


def decay_problem(directory: Path) -> Path:
    data = [3.1, 2.2, 1.5, 0.75, 0.2]
    return write_problem(
        directory, DECAY,
        conditions="conditionId\nc0\n",
        observables="observableId\tobservableFormula\tnoiseFormula\ny\tscale * X\tsigma\n",
        parameters="k\tlog10\t0.01\t100\t0.7\t1\na\tlog\t0.01\t100\t1.5\t1\nscale\tlin\t0.1\t10\t1.1\t1\n"
                   "sigma\tlog10\t0.01\t10\t0.3\t1\n",
        measurements="observableId\tsimulationConditionId\ttime\tmeasurement\n"
                     + "".join(f"y\tc0\t{t}\t{m}\n" for t, m in zip(DECAY_TIMES, data, strict=True)))


def test_decay_jacobian_equals_the_closed_form(tmp_path):
    # X(t) = 2 a exp(-k t): dX/dk = -t X, dX/da = 2 exp(-k t) (the start depends on a: an initial assignment)
    obj = objective_for(decay_problem(tmp_path), gradient="exact")
    assert obj.gradient_note == ""
    x = nominal_x(obj)
    k, a, scale, sigma = 0.7, 1.5, 1.1, 0.3
    t = np.array(DECAY_TIMES)
    X = 2 * a * np.exp(-k * t)
    dy_dlog10k = scale * (-t * X) * k * math.log(10)
    dy_dloga = scale * 2 * np.exp(-k * t) * a
    jac = obj.jacobian(x)
    n = t.size
    # data residual r = (m - y) / sigma: d r = -d y / sigma
    np.testing.assert_allclose(jac[:n, 0], -dy_dlog10k / sigma, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jac[:n, 1], -dy_dloga / sigma, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jac[:n, 2], -X / sigma, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jac, central_jacobian(replace(obj, options=TIGHT), x), rtol=0, atol=1e-6)


def test_exact_and_difference_jacobians_agree_on_the_decay(tmp_path):
    obj = objective_for(decay_problem(tmp_path), options=TIGHT, gradient="exact")
    x = nominal_x(obj) + np.array([0.2, -0.3, 0.4, 0.1])
    fd = replace(obj, gradient_method="fd", central=True)
    np.testing.assert_allclose(obj.jacobian(x), fd.jacobian(x), rtol=0, atol=1e-6)


# ------------------------------------------------ pre-equilibration: steady-state sensitivities by the IFT

EXCHANGE = """
model exchange
  J0: A -> B; kf * A
  J1: B -> A; kr * B
  J2: -> A; p
  J3: A -> ; d * A
  A = T; B = 0
  kf = 1; kr = 0.5; p = 0.2; d = 0.1; T = 2
end
"""


def exchange_problem(directory: Path) -> Path:
    """A <-> B with production and loss of A: pre-equilibrated with kf = kf_pre, simulated with kf = kf_sim.

    The second pair keeps only exchange (p = d = 0) in both phases: a conservation law A + B = T (the initial
    assignment A = T), so the steady state depends on the start and the IFT needs its conservation constraint.
    """
    times = (0.0, 0.3, 1.0, 3.0)
    rows = "".join(f"obsB\t{pre}\t{cond}\t{t}\t{0.5 + 0.1 * i + 0.05 * t}\n"
                   for i, (pre, cond) in enumerate((("pre", "sim"), ("pre_closed", "closed"))) for t in times)
    return write_problem(
        directory, EXCHANGE,
        conditions="conditionId\tkf\tp\td\npre\tkf_pre\tp_est\t0.1\nsim\tkf_sim\tp_est\t0.1\n"
                   "pre_closed\tkf_pre\t0\t0\nclosed\tkf_sim\t0\t0\n",
        observables="observableId\tobservableFormula\tnoiseFormula\nobsB\toffset + B\t0.1\n",
        parameters="kf_pre\tlog10\t0.01\t100\t1.0\t1\nkf_sim\tlog10\t0.01\t100\t3.0\t1\nkr\tlog10\t0.01\t100\t0.5\t1\n"
                   "p_est\tlog10\t0.01\t100\t0.2\t1\nT\tlog10\t0.01\t100\t2.0\t1\noffset\tlin\t-1\t1\t0.05\t1\n",
        measurements="observableId\tpreequilibrationConditionId\tsimulationConditionId\ttime\tmeasurement\n" + rows)


def test_preequilibrated_jacobian_by_the_implicit_function_theorem(tmp_path):
    obj = objective_for(exchange_problem(tmp_path), options=TIGHT, gradient="exact")
    assert obj.gradient_note == ""
    x = nominal_x(obj) + np.array([0.1, -0.2, 0.05, 0.1, -0.1, 0.0])
    jac = obj.jacobian(x)
    # Richardson-extrapolated central differences with larger steps: the engine's steady states carry errors of
    # ~1e-8 relative, which steps of 1e-5 would amplify to 1e-3
    ref = (4 * central_jacobian(obj, x, h=1e-3) - central_jacobian(obj, x, h=2e-3)) / 3
    assert np.abs(ref).max() > 1.0
    np.testing.assert_allclose(jac, ref, rtol=0, atol=2e-6 * np.abs(ref).max())
    # every estimated parameter matters somewhere (so each column is really checked); T only in the closed pair
    assert np.all(np.abs(ref).max(axis=0) > 1e-2)
    n = ref.shape[0] // 2
    assert np.abs(ref[:4, 4]).max() < 1e-6 < np.abs(ref[4:n, 4]).max()


def test_steady_state_sensitivity_matches_the_closed_form(tmp_path):
    # at rest: A* = p / (d + kf kr'...) -- solve the 2x2 linear system: kf A = kr B, p = d A  ->  A* = p/d,
    # B* = kf p / (kr d); at t = 0 of "sim" B = B*, so dB/dlog10 kf_pre = B* ln10, dB/dlog10 kr = -B* ln10,
    # and B* does not depend on T (the production/loss steady state forgets the start)
    obj = objective_for(exchange_problem(tmp_path), options=TIGHT, gradient="exact")
    x = nominal_x(obj)
    jac = obj.jacobian(x)
    b_star = 1.0 * 0.2 / (0.5 * 0.1)
    row = 0  # obsB, sim, t = 0 ; residual (m - y) / 0.1
    assert obs_value(obj, x, row) == pytest.approx(0.05 + b_star, rel=1e-9)
    assert jac[row, 0] == pytest.approx(-b_star * math.log(10) / 0.1, rel=1e-7)
    assert jac[row, 2] == pytest.approx(b_star * math.log(10) / 0.1, rel=1e-7)
    assert jac[row, 1] == pytest.approx(0.0, abs=1e-9)  # kf_sim acts only after t = 0
    assert jac[row, 4] == pytest.approx(0.0, abs=1e-9)
    # closed pair: A + B = T conserved, B* = T kf / (kf + kr): d B*/d log10 T = B* ln10 (the conservation law),
    # d B*/d log10 kf = T kf kr / (kf + kr)^2 ln10
    row = 4
    b_closed = 2.0 * 1.0 / 1.5
    assert obs_value(obj, x, row) == pytest.approx(0.05 + b_closed, rel=1e-9)
    assert jac[row, 4] == pytest.approx(-b_closed * math.log(10) / 0.1, rel=1e-7)
    assert jac[row, 0] == pytest.approx(-2.0 * 1.0 * 0.5 / 1.5**2 * math.log(10) / 0.1, rel=1e-7)


def obs_value(obj, x, row):
    return float(obj.simulation(x)[row])


# ------------------------------------------------------------------------------ the benchmark problems


@pytest.mark.parametrize("name", [FIEDLER, BOEHM])
@pytest.mark.parametrize("point", ["nominal", 1, 7])
def test_exact_jacobian_matches_central_differences_on_benchmarks(name, point):
    obj = objective_for(yaml_of(name), options=TIGHT, gradient="exact")
    assert obj.gradient_note == ""
    x = nominal_x(obj) if point == "nominal" else latin_hypercube_starts(obj.lower, obj.upper, 10, 0)[point]
    jac = obj.jacobian(x)
    ref = central_jacobian(obj, x, h=1e-4)
    assert np.all(np.isfinite(ref)) and np.abs(ref).max() > 1.0
    scale = np.abs(ref).max()
    np.testing.assert_allclose(jac, ref, rtol=0, atol=2e-5 * scale)
    big = np.abs(ref).max(axis=0) > 1e-2 * scale  # columns that matter: each within 1e-4 of its own size
    col_err = np.abs(jac - ref).max(axis=0)[big] / np.abs(ref).max(axis=0)[big]
    assert col_err.max() < 1e-4, col_err


@pytest.mark.parametrize("name", [FIEDLER, BOEHM, FUJITA])
def test_vectorised_formulas_reproduce_the_per_row_reference(name):
    obj = objective_for(yaml_of(name))
    x = nominal_x(obj)
    values = obj.values(x)
    solutions = obj.solve(x)
    sim_ref = observe(obj.problem, solutions, values)
    sigma_ref = noise_sigma(obj.problem, sim_ref, values)
    _, sim, _ = obj._residual_parts(obj._states(solutions), obj._formulas.value_vector(values))
    fv = obj._formulas.evaluate(obj._states(solutions), obj._formulas.value_vector(values))
    np.testing.assert_allclose(sim, sim_ref, rtol=1e-14, atol=0)
    np.testing.assert_allclose(fv.sigma, sigma_ref, rtol=1e-14, atol=0)
    expected = petab_nllh(obj.problem, simulate_petab(obj.problem, values, options=obj.options), values)
    assert obj.nllh(x) == pytest.approx(expected, abs=1e-9)


def test_model_with_events_falls_back_to_differences_and_says_why(tmp_path):
    model = DECAY.replace("end", "  E1: at time > 1: k = 0.1\nend")
    path = decay_problem(tmp_path)
    (tmp_path / "model.xml").write_text(antimony_to_sbml(model))
    obj = objective_for(path, options=TIGHT, gradient="exact")
    assert "events" in obj.gradient_note
    x = nominal_x(obj)
    np.testing.assert_allclose(obj.jacobian(x), replace(obj, gradient_method="fd").jacobian(x),
                               rtol=0, atol=0)


# ------------------------------------- piecewise switches that move with the states or an estimated parameter

SWITCH_TIMES = (0.5, 1.0, 2.0, 3.0)


def switch_problem(directory: Path, model: str, parameters: str) -> Path:
    return write_problem(
        directory, model,
        conditions="conditionId\nc0\n",
        observables="observableId\tobservableFormula\tnoiseFormula\ny\tX\t0.1\n",
        parameters=parameters,
        measurements="observableId\tsimulationConditionId\ttime\tmeasurement\n"
                     + "".join(f"y\tc0\t{t}\t0.4\n" for t in SWITCH_TIMES))


def test_state_switch_that_jumps_falls_back_to_differences_and_says_why(tmp_path):
    # X' = -k X while X > c, then -k2 X: X switches at t* = ln(1/c)/k (~1.20), after which X = c exp(-k2 (t - t*))
    # and dX/dk = X k2 (-ln(1/c)/k^2); the sensitivity equations (no jump term) gave X (-ln(1/c)/k): 5x too small
    model = "model sw\n  J0: X -> ; piecewise(k*X, X > c, k2*X)\n  X = 1\n  k = 1; k2 = 5; c = 0.3\nend\n"
    path = switch_problem(tmp_path, model, "k\tlog10\t0.01\t100\t1\t1\nk2\tlog10\t0.01\t100\t5\t1\n"
                                           "c\tlin\t0.01\t1\t0.3\t0\n")
    obj = objective_for(path, options=TIGHT, gradient="exact")
    assert "reaction 'J0'" in obj.gradient_note and "piecewise on X" in obj.gradient_note
    jac = replace(obj, central=True).jacobian(nominal_x(obj))  # central: the closed form to 1e-5, not ~1e-4
    t = np.array(SWITCH_TIMES)
    t_star = math.log(1 / 0.3)
    X = np.where(t < t_star, np.exp(-t), 0.3 * np.exp(-5 * (t - t_star)))
    dx_dk = np.where(t < t_star, -t * X, X * 5 * -t_star)
    dx_dk2 = np.where(t < t_star, 0.0, -X * (t - t_star))
    np.testing.assert_allclose(jac[:4, 0], -dx_dk * math.log(10) / 0.1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(jac[:4, 1], -dx_dk2 * 5 * math.log(10) / 0.1, rtol=1e-5, atol=1e-7)


def test_state_switch_that_only_kinks_keeps_exact_gradients(tmp_path):
    # both branches agree at X = c (a kink, no jump): the sensitivities have no jump term and stay exact
    model = ("model kink\n  J0: X -> ; piecewise(k*X, X > c, k*c + k2*(X - c))\n  X = 1\n  k = 1; k2 = 5; c = 0.3\n"
             "end\n")
    path = switch_problem(tmp_path, model, "k\tlog10\t0.01\t100\t1\t1\nk2\tlog10\t0.01\t100\t5\t1\n"
                                           "c\tlin\t0.01\t1\t0.3\t0\n")
    obj = objective_for(path, options=TIGHT, gradient="exact")
    assert obj.gradient_note == ""
    x = nominal_x(obj)
    ref = central_jacobian(replace(obj, options=TIGHT), x)
    np.testing.assert_allclose(obj.jacobian(x), ref, rtol=0, atol=1e-5 * np.abs(ref).max())


def test_time_switch_at_an_estimated_time_falls_back_to_differences(tmp_path):
    # X' = -k X until t = tau, then 0: X(T) = exp(-k min(T, tau)), dX/dtau = -k X after tau (the jump term the
    # sensitivity equations lack: they gave 0)
    model = "model dose\n  J0: X -> ; piecewise(k*X, time < tau, 0)\n  X = 1\n  k = 0.8; tau = 1.5\nend\n"
    path = switch_problem(tmp_path, model, "k\tlog10\t0.01\t100\t0.8\t1\ntau\tlin\t0.1\t2.5\t1.5\t1\n")
    obj = objective_for(path, options=TIGHT, gradient="exact")
    assert "reaction 'J0'" in obj.gradient_note and "piecewise on tau, time" in obj.gradient_note
    jac = replace(obj, central=True).jacobian(nominal_x(obj))
    t = np.array(SWITCH_TIMES)
    X = np.exp(-0.8 * np.minimum(t, 1.5))
    dx_dk = -np.minimum(t, 1.5) * X
    dx_dtau = np.where(t > 1.5, -0.8 * X, 0.0)
    np.testing.assert_allclose(jac[:4, 0], -dx_dk * 0.8 * math.log(10) / 0.1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(jac[:4, 1], -dx_dtau / 0.1, rtol=1e-5, atol=1e-7)


def test_time_switch_at_a_fixed_time_keeps_exact_gradients(tmp_path):
    # the same switch at a time that is not estimated: no jump term is needed (the switch does not move)
    model = "model dose\n  J0: X -> ; piecewise(k*X, time < tau, 0)\n  X = 1\n  k = 0.8; tau = 1.5\nend\n"
    path = switch_problem(tmp_path, model, "k\tlog10\t0.01\t100\t0.8\t1\ntau\tlin\t0.1\t2.5\t1.5\t0\n")
    obj = objective_for(path, options=TIGHT, gradient="exact")
    assert obj.gradient_note == ""
    t = np.array(SWITCH_TIMES)
    X = np.exp(-0.8 * np.minimum(t, 1.5))
    dx_dk = -np.minimum(t, 1.5) * X
    np.testing.assert_allclose(obj.jacobian(nominal_x(obj))[:4, 0], -dx_dk * 0.8 * math.log(10) / 0.1,
                               rtol=1e-5, atol=1e-7)


def test_exact_gradient_fit_reaches_the_decay_optimum_as_differences_do(tmp_path):
    path = decay_problem(tmp_path)
    exact = fit_petab(path, starts=3, seed=1, settings=FitSettings(gradient="exact"))
    fd = fit_petab(path, starts=3, seed=1, settings=FitSettings(gradient="fd"))
    assert exact.best.ok and fd.best.ok
    assert exact.best.nllh == pytest.approx(fd.best.nllh, abs=1e-6)
    assert exact.best.n_solves < fd.best.n_solves  # no solves for difference columns


@pytest.mark.parametrize("name", [FIEDLER, BOEHM, FUJITA])
def test_newton_inner_optimum_is_at_least_as_good_as_least_squares(name):
    # the inner problem (scales, offsets, sigmas at fixed ODE solutions): Newton with the exact Hessian against
    # scipy's trust-region least squares on the residual form, from the same cold start points
    from simulator.fit._objective import _Hierarchical

    obj = objective_for(yaml_of(name))
    checked = 0
    for x in latin_hypercube_starts(obj.lower, obj.upper, 6, 0):
        solutions = obj.solve(x)
        if any(isinstance(s, str) for s in solutions):
            continue
        reduced = _Hierarchical(obj, x)
        assert reduced.newton
        newton = x.copy()
        newton[reduced.inner] = reduced._inner_optimum(solutions, x.copy())
        reduced.newton = False
        trf = x.copy()
        trf[reduced.inner] = reduced._inner_optimum(solutions, x.copy())
        # (relative 1e-8: at a start where a scale has almost no data (Fujita), both stop on a flat ridge 2e-9 apart)
        assert obj.nllh(newton) <= obj.nllh(trf) + 1e-8 * max(1.0, abs(obj.nllh(trf)))
        # stationary: the gradient of the nllh in the free inner parameters is ~0 (J^T r, exact Jacobian)
        grad = (obj.jacobian(newton).T @ obj.residuals(newton))[reduced.inner]
        span = obj.upper[reduced.inner] - obj.lower[reduced.inner]
        free = (newton[reduced.inner] - obj.lower[reduced.inner] > 1e-6 * span) & (
            obj.upper[reduced.inner] - newton[reduced.inner] > 1e-6 * span)
        assert np.abs(grad[free]).max(initial=0.0) < 1e-6
        checked += 1
    assert checked >= 3


def test_steady_state_measurements_get_ift_sensitivities(tmp_path):
    # time = inf rows: the steady state of the simulation condition from its initial conditions (PEtab v1); the
    # open system's B* = kf p / (kr d), so d B*/d log10 kf = B* ln10 and d B*/d log10 kr = -B* ln10
    rows = "".join(f"obsB\tsim\t{t}\t{0.6 + 0.1 * t if math.isfinite(t) else 4.2}\n" for t in (0.0, 1.0, math.inf))
    path = write_problem(
        tmp_path, EXCHANGE,
        conditions="conditionId\tkf\tp\td\nsim\tkf_sim\tp_est\t0.1\n",
        observables="observableId\tobservableFormula\tnoiseFormula\nobsB\toffset + B\t0.1\n",
        parameters="kf_sim\tlog10\t0.01\t100\t3.0\t1\nkr\tlog10\t0.01\t100\t0.5\t1\np_est\tlog10\t0.01\t100\t0.2\t1\n"
                   "offset\tlin\t-1\t1\t0.05\t1\n",
        measurements="observableId\tsimulationConditionId\ttime\tmeasurement\n" + rows)
    obj = objective_for(path, options=TIGHT, gradient="exact")
    assert obj.gradient_note == ""
    x = nominal_x(obj)
    jac = obj.jacobian(x)
    b_star = 3.0 * 0.2 / (0.5 * 0.1)
    assert obs_value(obj, x, 2) == pytest.approx(0.05 + b_star, rel=1e-8)
    assert jac[2, 0] == pytest.approx(-b_star * math.log(10) / 0.1, rel=1e-7)
    assert jac[2, 1] == pytest.approx(b_star * math.log(10) / 0.1, rel=1e-7)
    assert jac[2, 2] == pytest.approx(-b_star * math.log(10) / 0.1, rel=1e-7)
    ref = (4 * central_jacobian(obj, x, h=1e-3) - central_jacobian(obj, x, h=2e-3)) / 3
    np.testing.assert_allclose(jac, ref, rtol=0, atol=2e-6 * np.abs(ref).max())


def test_cli_fit_takes_the_gradient_method(tmp_path, capsys):
    from simulator.cli import main
    from simulator.cli._parser import build_parser

    assert build_parser().parse_args(["fit", "--petab", "p.yaml", "--out", "o"]).gradient == FitSettings().gradient
    path = decay_problem(tmp_path)
    solves = {}
    for method in ("exact", "fd"):
        code = main(["fit", "--petab", str(path), "--starts", "2", "--workers", "1", "--gradient", method,
                     "--out", str(tmp_path / method)])
        assert code == 0, capsys.readouterr().err
        assert f'"gradient": "{method}"' in (tmp_path / method / ".mekisim-owner.json").read_text()  # the job
        starts = pd.read_csv(tmp_path / method / "starts.csv")
        solves[method] = int(starts["n_solves"].sum())
    assert solves["exact"] < solves["fd"]  # central differences: 2 solves per ODE parameter per Jacobian
    assert main(["fit", "--petab", str(path), "--gradient", "adjoint", "--out", str(tmp_path / "x")]) == 2
