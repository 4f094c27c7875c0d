"""Engine contracts: statelessness across calls, failure as a value, option validation."""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
import pytest

import simulator as ms

BISTABLE_FREE_DECAY = """
J1: -> X; k0
J2: X -> ; k*X
X = 0; k0 = 2; k = 0.5
"""


def test_results_do_not_depend_on_call_order(mpnst, condition):
    """RoadRunner is stateful; the engine must set every value on every call."""
    plain = condition("S462")
    first = ms.steady_state(mpnst, plain).as_dict()
    ms.steady_state(mpnst, condition("S462_R1", {"trametinib": 30, "src_inhibitor_1": 1000}))
    ms.time_course(mpnst, np.linspace(0, 600, 11), condition("S462_R1", {"selumetinib": 50}))
    ms.steady_state(mpnst, condition("S462", values={"kE": 8.0}))
    again = ms.steady_state(mpnst, plain).as_dict()
    assert again == pytest.approx(first, rel=1e-10)


def test_species_initial_value_is_reset_between_calls():
    model = ms.from_antimony_text(BISTABLE_FREE_DECAY + "\nJ3: Y -> ; 0.1*Y\nY = 1", name="decay")
    times = np.linspace(0, 10, 11)
    a = ms.time_course(model, times, {"Y": 5.0}, pre_equilibrate=False, select=["Y"])
    b = ms.time_course(model, times, {}, pre_equilibrate=False, select=["Y"])
    np.testing.assert_allclose(a["Y"], 5 * np.exp(-0.1 * times), rtol=1e-5)
    np.testing.assert_allclose(b["Y"], np.exp(-0.1 * times), rtol=1e-5)


def test_production_decay_steady_state_and_method():
    model = ms.from_antimony_text(BISTABLE_FREE_DECAY, name="pd")
    ss = ms.steady_state(model, {"k0": 3.0}, select=["X"])
    assert ss.status == "ok" and ss.method in ("newton", "presimulation+newton")
    assert ss["X"] == pytest.approx(6.0, rel=1e-9)


def test_unbounded_growth_is_a_failed_status_not_a_crash():
    model = ms.from_antimony_text("J1: -> X; k0\nX = 0; k0 = 1", name="growth")
    ss = ms.steady_state(model, select=["X"], throw=False)
    assert ss.status == "failed" and np.isnan(ss["X"]) and ss.message
    with pytest.raises(ms.SimulationError):
        ms.steady_state(model, select=["X"])


def test_batch_keeps_going_after_a_failure():
    model = ms.from_antimony_text("J1: -> X; k0 - k*X\nX = 0; k0 = 1; k = 1", name="maybe")
    records = ms.steady_states(model, [{"k": 1.0}, {"k": -1.0}, {"k": 2.0}], select=["X"])
    assert [r.status for r in records] == ["ok", "failed", "ok"]
    assert records[2]["X"] == pytest.approx(0.5, rel=1e-9)


def test_trajectory_frame_has_time_status_and_observables(mpnst, condition):
    traj = ms.time_course(mpnst, np.linspace(0, 60, 4), condition("S462", {"trametinib": 1}))
    frame = traj.to_frame()
    assert list(frame.columns[:2]) == ["time", "status"]
    assert set(mpnst.observable_ids) <= set(frame.columns)
    assert (frame["status"] == "ok").all()


def test_unknown_select_and_bad_times_raise_input_errors(mpnst):
    with pytest.raises(ms.InputError, match="pERK"):
        ms.steady_state(mpnst, select=["nonexistent"])
    with pytest.raises(ms.InputError, match="increasing"):
        ms.time_course(mpnst, [0.0, 10.0, 5.0])


@pytest.mark.parametrize("field,value", [("rtol", 0.0), ("atol", -1.0), ("steady_state_tol", float("nan")),
                                         ("max_steps", 0)])
def test_solver_options_validated(field, value):
    with pytest.raises(ms.InputError, match=field):
        ms.SolverOptions(**{field: value})


def test_make_condition_errors(mpnst, condition):
    with pytest.raises(ms.InputError, match="S462_R1"):
        condition("NOPE")
    with pytest.raises(ms.InputError, match="trametinib"):
        condition("S462", {"aspirin": 1})
    with pytest.raises(ms.InputError, match="negative"):
        condition("S462", {"trametinib": -1})
    with pytest.raises(ms.InputError, match="settable"):
        condition("S462", values={"pERK": 2.0})


def test_cell_line_scales_apply(mpnst, condition):
    cond = condition("S462_R1")
    assert cond.values["ksL"] == pytest.approx(5 * mpnst.parameters["ksL"])
    assert cond.values["Itot"] == pytest.approx(4 * mpnst.parameters["Itot"])
    assert cond.untreated["trametinib"] == 0.0


def test_pre_equilibration_flag(mpnst, condition):
    from tests.conftest import BENCHMARKS

    traj = ms.time_course(mpnst, [0.0, 60.0], condition("S462", {"trametinib": 3}))
    assert traj.pre_equilibrated and traj.message == ""
    oscillator = ms.load_sbml(BENCHMARKS / "biomodels" / "BIOMD0000000010.xml")
    traj = ms.time_course(oscillator, [0.0, 100.0], select=["MAPK_PP"], throw=False)
    assert traj.status == "not_pre_equilibrated" and not traj.pre_equilibrated and "oscillating" in traj.message
    traj = ms.time_course(mpnst, [0.0, 60.0], condition("S462"), pre_equilibrate=False)
    assert not traj.pre_equilibrated


def test_steady_states_do_not_depend_on_solve_order(mpnst, condition):
    """Bit for bit: roadrunner keeps one KINSOL memory block per solver across solves, and what it carried moved
    the root found from the same start by up to 1.3e-11; the engine gives KINSOL a new block for every solve."""
    conds = [condition(line, {"trametinib": t, "src_inhibitor_1": s}) for line in ("S462", "S462_R1", "ST8814")
             for t in (0.0, 1.0, 10.0) for s in (0.0, 1000.0)]
    forward = np.array([r.values for r in ms.steady_states(mpnst, conds)])
    backward = np.array([r.values for r in ms.steady_states(mpnst, conds[::-1])[::-1]])
    twice = np.array([ms.steady_states(mpnst, [c, c])[1].values for c in conds])
    np.testing.assert_array_equal(backward, forward)
    np.testing.assert_array_equal(twice, forward)


def test_a_time_course_gives_the_same_bits_whatever_ran_before(mpnst, condition):
    """The same condition before and after a sequence of other runs: bit-identical. Model A, S462_R3 under
    selumetinib at the default rtol 1e-6, where the history used to show as 2e-8..6e-6 relative differences
    (a pre-equilibrated steady state differing in its last bits, amplified by CVODE). The sequence mixes other
    lines, steady states, a failing integration, an NLEQ2 fallback and control coefficients."""
    times = np.linspace(0, 240, 121)
    target = condition("S462_R3", {"selumetinib": 30.0})
    first = ms.time_course(mpnst, times, target)
    for line, dose in (("S462", 3.0), ("S462_R1", 300.0), ("ST8814", 10.0)):
        ms.time_course(mpnst, times, condition(line, {"selumetinib": dose, "src_inhibitor_1": 100.0}))
        ms.steady_states(mpnst, [condition(line, {"trametinib": d}) for d in (0.1, 1.0, 10.0)])
    ms.time_course(mpnst, times, condition("S462", values={"kE": 1e9}), throw=False)  # a stiff, failing run
    ms.control_coefficients(mpnst, condition("S462_R1"), throw=False)  # fails (roadrunner), also before this change
    again = ms.time_course(mpnst, times, target)
    assert first.ok and again.ok
    np.testing.assert_array_equal(again.values, first.values)


def test_models_conditions_and_results_pickle(mpnst, condition, lines):
    """They cross process boundaries (process pools, Dask workers)."""
    import pickle

    cond = condition("S462_R1", {"trametinib": 3})
    for obj in (mpnst, cond, lines["S462_R1"]):
        back = pickle.loads(pickle.dumps(obj))
        assert back == obj
    model2 = pickle.loads(pickle.dumps(mpnst))
    cond2 = pickle.loads(pickle.dumps(cond))
    after_pickle, original = ms.steady_state(model2, cond2).as_dict(), ms.steady_state(mpnst, cond).as_dict()
    assert after_pickle.keys() == original.keys()
    assert after_pickle == original  # same model, same runner, same bits
    ss = ms.steady_state(mpnst, cond)
    assert pickle.loads(pickle.dumps(ss)).as_dict() == ss.as_dict()


def test_initial_values_change_within_a_batch():
    """steady_states sets initial values only when they change after a clean solve: a change in the middle of a
    batch must still reach the solve. A <-> B conserves A + B, so A* = (A0 + B0)·k2/(k1 + k2) exactly."""
    model = ms.from_antimony_text("J1: A -> B; k1*A\nJ2: B -> A; k2*B\nA = 1; B = 0; k1 = 1; k2 = 3", name="ab")
    totals = (1.0, 1.0, 4.0, 4.0, 1.0, 2.5)
    batch = ms.steady_states(model, [{"A": t} for t in totals], select=["A"])
    assert [r.method for r in batch] == ["newton"] * len(totals)
    np.testing.assert_allclose([r["A"] for r in batch], [0.75 * t for t in totals], rtol=1e-9)


def test_a_clean_solve_leaves_the_initial_values_as_set(mpnst, condition):
    """What the skipped set relies on (see steady_states): KINSOL and the checks do not touch init values."""
    from simulator.engine._roadrunner import _runner

    runner = _runner(mpnst)
    c = condition("S462_R1", {"trametinib": 10.0, "src_inhibitor_1": 100.0}, values={"DUSP": 0.7})
    record = ms.steady_state(mpnst, c)
    assert record.method == "newton" and runner.first_solver_ok
    np.testing.assert_array_equal(np.asarray(runner.m.getFloatingSpeciesInitConcentrations())[runner.init_idx],
                                  runner.vectors(c.values)[1])


def test_parameter_vectors_follow_the_mapping_whatever_its_order(mpnst, condition):
    from simulator.engine._roadrunner import _runner

    runner = _runner(mpnst)
    values = dict(condition("S462", {"trametinib": 3.0}, values={"kE": 2.5, "DUSP": 0.3}).values)
    params, init = runner.vectors(values)
    again = runner.vectors(dict(reversed(list(values.items()))))
    np.testing.assert_array_equal(params, again[0])
    np.testing.assert_array_equal(init, again[1])
    for key, value in values.items():
        if key in runner.param_ids:
            assert params[runner.param_ids.index(key)] == value
        else:
            assert init[runner.init_ids.index(key)] == value
    untouched = [i for i, p in enumerate(runner.param_ids) if p not in values]
    np.testing.assert_array_equal(params[untouched], runner.param_default[untouched])
    with pytest.raises(ms.InputError, match="'nope' is not a settable parameter"):
        runner.vectors({**values, "nope": 1.0})


#: SBML whose initial assignments a wrong call order gets wrong (tests/... research ia_order.py): parameters
#: chained through initial assignments (b := 2a, c := b + 1), a compartment (V := a/10), a species (S := a) and a
#: plain initial concentration in that compartment (T = 5). Setting a = 3 must give b = 6, c = 7, V = 0.3,
#: [S](0) = 3 and [T](0) = 5, and [S](t) = 3 exp(-6 t), [T](t) = 5 exp(-7 t) (amount rates b S V, c T V).
INITIAL_ASSIGNMENTS = """
model ia_order
  compartment V
  species S in V, T in V
  a = 1
  b = 2*a
  c = b + 1
  V = a/10
  S = a
  T = 5
  J1: S -> ; b*S*V
  J2: T -> ; c*T*V
end
"""


def _ia_truth(a: float, t: np.ndarray) -> np.ndarray:
    b, c = 2 * a, 2 * a + 1
    return np.column_stack([np.full_like(t, b), np.full_like(t, c), np.full_like(t, a / 10), a * np.exp(-b * t),
                            5 * np.exp(-c * t)])


@pytest.mark.parametrize("pre_equilibrate", [False, True])
def test_initial_assignments_of_parameters_and_compartments_are_re_evaluated(pre_equilibrate):
    """roadrunner's reset() re-evaluates species assignments only: before the fix b, c and V kept their SBML
    values (2, 3, 0.1) and [S](0) came out as 9. Every value, at t = 0 and after, at two values of a set in turn
    (the second run must not keep anything of the first), with and without pre-equilibration (the steady state of
    this model is 0 for S and T, so the pre-equilibrated run checks the parameters only)."""
    model = ms.from_antimony_text(INITIAL_ASSIGNMENTS, name="ia_order")
    times = np.linspace(0.0, 0.5, 6)
    for a in (3.0, 2.0, 3.0):
        traj = ms.time_course(model, times, {"a": a}, pre_equilibrate=pre_equilibrate,
                              select=["b", "c", "V", "S", "T"], options=ms.SolverOptions(rtol=1e-10, atol=1e-14))
        assert traj.ok
        truth = _ia_truth(a, times)
        if pre_equilibrate:
            np.testing.assert_allclose(traj.values[:, :3], truth[:, :3], rtol=1e-12)
            np.testing.assert_allclose(traj.values[:, 3:], 0.0, atol=1e-9)
        else:
            np.testing.assert_allclose(traj.values, truth, rtol=1e-7)


def test_rate_rule_variables_are_carried_through_pre_equilibration():
    """y has a rate rule (y' = k (1 - f) - y), X follows it (X' = y - X). Untreated, y = X = k = 5; the drug
    (f = 0.8) makes the target 1 from t = 0, so X(t) = 1 + 4 (1 + t) exp(-t) exactly. Pre-equilibration used to
    carry X but restart y from its initial value 1 (X(1) = 2.47 instead of 3.94, status ok)."""
    model = ms.from_antimony_text(
        "model rr()\n compartment c = 1; species X in c; X = 1; y = 1; k = 5; drug = 0;\n"
        " R: -> X; c*(y - X);\n y' = k*(1 - drug/(drug + 1)) - y;\nend\n", name="rate_rule")
    assert model.rate_ruled == ("y",) and "y" in model.readable_ids()
    times = np.linspace(0, 2, 5)
    cond = ms.Condition(cell_line=None, doses=MappingProxyType({"drug": 4.0}), values=MappingProxyType({"drug": 4.0}),
                        untreated=MappingProxyType({"drug": 0.0}))
    traj = ms.time_course(model, times, cond, select=["X", "y"], options=ms.SolverOptions(rtol=1e-10, atol=1e-12))
    assert traj.ok and traj.pre_equilibrated
    np.testing.assert_allclose(traj["X"], 1 + 4 * (1 + times) * np.exp(-times), rtol=1e-8)
    np.testing.assert_allclose(traj["y"], 1 + 4 * np.exp(-times), rtol=1e-8)
    steady = ms.steady_state(model, {"drug": 0.0}, select=["X", "y"])
    assert steady.ok and steady["y"] == pytest.approx(5.0, rel=1e-9) and steady["X"] == pytest.approx(5.0, rel=1e-9)


def test_steady_state_of_a_species_set_by_a_rate_rule_in_a_compartment_of_size_two():
    """roadrunner builds a new ExecutableModel inside steadyState() for such a model; reading the state through the
    wrapper taken before segfaulted the process. Now: the exact steady state, S = k_eff = 5/(1 + drug), X = S."""
    text = """
    model rrs()
      compartment c = 2; species X in c, S in c; X = 1; S = 1; k = 5; drug = 0;
      R: -> X; c*(S - X);
      S' = k/(1 + drug) - S;
    end
    """
    model = ms.from_antimony_text(text, name="rrs")
    for drug in (0.0, 4.0):
        ss = ms.steady_state(model, ms.make_condition(model, None, values={"drug": drug}), select=["X", "S"])
        assert ss.status == "ok", ss.message
        np.testing.assert_allclose(ss.values, [5 / (1 + drug)] * 2, rtol=1e-9)


EVENTS_AND_A_SWITCH = """model ev
  J0: -> X; u
  u := piecewise(0, time < t_on, 1)
  X = 0; Y = 0; t_on = 1
  E1: at time > 0.5: X = X + 2
  E2: at time > 2.5: X = 2*X
  E3: at X > 4: Y = Y + 1
end
"""


def test_events_survive_the_segments_of_a_time_breakpoint():
    """The engine restarts the integrator at t_on = 1 (a time switch); an event fired before the restart must not
    fire again (E1's trigger stays true), and those after it fire once. X' = u: X = 0 until 0.5, then 2; from t = 1
    X = 2 + (t - 1); at 2.5 X doubles to 7 (E3 fires there: X > 4, so Y = 1), then 7 + (t - 2.5)."""
    model = ms.from_antimony_text(EVENTS_AND_A_SWITCH, name="events_and_a_switch")
    assert model.breakpoints == ("t_on",) and model.events == ("E1", "E2", "E3")
    times = np.array([0.0, 0.25, 0.75, 1.0, 1.5, 2.0, 2.75, 3.0, 4.0])
    traj = ms.time_course(model, times, pre_equilibrate=False, select=["X", "Y"],
                          options=ms.SolverOptions(rtol=1e-10, atol=1e-12))
    assert traj.ok
    x = np.select([times < 0.5, times <= 1.0, times < 2.5], [0.0, 2.0, 1.0 + times], 4.5 + times)
    np.testing.assert_allclose(traj["X"], x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(traj["Y"], np.where(times > 2.5, 1.0, 0.0), atol=0)


def test_pre_equilibrating_a_model_with_events_is_refused_naming_them():
    """Pre-equilibrated, X' = k - X with "at time > 5: k = 3" started at X = 3 (after the event) with k = 1 again."""
    model = ms.from_antimony_text("model ev2\n  J0: -> X; k\n  J1: X -> ; X\n  X = 0; k = 1\n"
                                  "  E1: at time > 5: k = 3\nend\n", name="ev2")
    with pytest.raises(ms.InputError, match=r"event\(s\) E1: a pre-equilibrated time course"):
        ms.time_course(model, [0.0, 1.0], select=["X"])
    traj = ms.time_course(model, [0.0, 6.0], pre_equilibrate=False, select=["X"],
                          options=ms.SolverOptions(rtol=1e-10, atol=1e-12))
    assert traj["X"][1] == pytest.approx(3 - 2 * math.exp(-1) - math.exp(-6), rel=1e-8)


def test_a_switch_on_a_state_is_root_found_like_an_event():
    """X' = -k X while X > c, then -k2 X: a piecewise on a state with no SBML event. roadrunner (>= 2.6) root-finds
    the switch of a piecewise as it does an event's trigger, so the engine simulates it without a note: the result
    is the closed form X = c exp(-k2 (t - t*)) after t* = ln(1/c)/k, as close as the same switch written as an event
    (measured at rtol 1e-6 / 1e-10: 1.7e-5 / 9.0e-8 relative for both, against 5e-6 / 1.6e-8 for a plain decay)."""
    switch = ms.from_antimony_text("model sw\n  J0: X -> ; piecewise(k*X, X > c, k2*X)\n  X = 1\n"
                                   "  k = 1; k2 = 5; c = 0.3\nend\n", name="state_switch")
    event = ms.from_antimony_text("model ev\n  J0: X -> ; keff*X\n  X = 1; keff = 1; k2 = 5; c = 0.3\n"
                                  "  E1: at X < c: keff = k2\nend\n", name="state_switch_event")
    from simulator.engine._roadrunner import _runner

    assert _runner(switch).m.getNumPiecewiseTriggers() == 2  # roadrunner's root functions for the switch
    times = np.array([0.0, 0.5, 1.0, 1.2, 1.5, 2.0, 3.0])
    t_star = math.log(1 / 0.3)
    exact = np.where(times < t_star, np.exp(-times), 0.3 * np.exp(-5 * (times - t_star)))
    for options, bound in ((ms.SolverOptions(), 1e-4), (ms.SolverOptions(rtol=1e-10, atol=1e-12), 1e-6)):
        errors = [np.abs(ms.time_course(m, times, pre_equilibrate=False, select=["X"], options=options)["X"] - exact)
                  for m in (switch, event)]
        assert (errors[0] / exact).max() <= 1.5 * (errors[1] / exact).max()
        assert (errors[0] / exact).max() < bound


@pytest.mark.parametrize("rtol", [1e-6, 1e-8])
def test_closed_exchange_steady_states_to_machine_precision(rtol):
    """A <-> B, total T: A* = T k2/(k1 + k2), pre-equilibrated and as a steady state, to < 1e-12 relative.

    Two ways to be closed: a moiety roadrunner sees (A <-> B alone: Newton on the reduced system), and one it does
    not (production and loss of A switched off by their parameters: singular Jacobian, Newton refused, the state
    integrated to rest was 2-6e-12 off until the singular-direction polish of engine._steady._polish)."""
    options = ms.SolverOptions(rtol=rtol, atol=1e-12)
    closed = ms.from_antimony_text("model ab\n  J0: A -> B; k1*A\n  J1: B -> A; k2*B\n  A = T; B = 0\n"
                                   "  k1 = 1; k2 = 1; T = 1\nend\n", name="closed_ab")
    open_ = ms.from_antimony_text("model ex\n  J0: A -> B; k1*A\n  J1: B -> A; k2*B\n  J2: -> A; p\n  J3: A -> ; d*A\n"
                                  "  A = T; B = 0\n  k1 = 1; k2 = 1; p = 0.2; d = 0.1; T = 1\nend\n",
                                  name="switched_off")
    for model, extra in ((closed, {}), (open_, {"p": 0.0, "d": 0.0})):
        for k1, k2, total in ((1.0, 0.5, 2.0), (3.0, 1.0, 1.0), (0.2, 7.0, 5.0)):
            a_star = total * k2 / (k1 + k2)
            values = {"k1": k1, "k2": k2, "T": total, **extra}
            ss = ms.steady_state(model, values, select=["A", "B"], options=options)
            assert ss.ok
            assert ss["A"] == pytest.approx(a_star, rel=1e-12, abs=0)
            assert ss["B"] == pytest.approx(total - a_star, rel=1e-12, abs=0)
            cond = ms.Condition(cell_line=None, doses=MappingProxyType({}),
                                values=MappingProxyType({**values, "k1": 2 * k1}), untreated=MappingProxyType(values))
            traj = ms.time_course(model, [0.0, 1.0], cond, select=["A"], options=options)
            assert traj.ok and traj["A"][0] == pytest.approx(a_star, rel=1e-12, abs=0)
