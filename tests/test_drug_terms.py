"""simulator.drugs: parsing drug terms, adding them to models, and the errors users see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulator as ms
from simulator.model import DrugTerm, add_drug_terms

BENCHMARKS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
KHOLODENKO = BENCHMARKS / "biomodels" / "BIOMD0000000010.xml"

#: steady states of the production/degradation model are compared with closed forms to this tolerance
STEADY_RTOL = 1e-8

PRODUCTION_DECAY = """
J1: -> X; k0
J2: X -> ; k*X
X = 0; k0 = 4; k = 0.5
"""


@pytest.fixture(scope="module")
def kholodenko() -> ms.CompiledModel:
    return ms.load_sbml(KHOLODENKO)


@pytest.fixture(scope="module")
def pd_model() -> ms.CompiledModel:
    return ms.from_antimony_text(PRODUCTION_DECAY, name="pd")


# ------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("text,expected", [
    ("meki:J6:10", DrugTerm("meki", ("J6",), 10.0, 1.0)),
    ("meki:J6,J7:10nM", DrugTerm("meki", ("J6", "J7"), 10.0, 1.0)),
    ("meki:J6,J7:1uM:2", DrugTerm("meki", ("J6", "J7"), 1000.0, 2.0)),
    (" meki : J6 , J7 : 0.5 µM : 0.8 ", DrugTerm("meki", ("J6", "J7"), 500.0, 0.8)),
    ("d_2:R1:250pM", DrugTerm("d_2", ("R1",), 0.25, 1.0)),
])
def test_parse_good_specs(text, expected):
    assert DrugTerm.parse(text) == expected


@pytest.mark.parametrize("text,fragment", [
    ("meki", "NAME:REACTION"),                    # missing parts
    ("meki:J6", "NAME:REACTION"),
    ("meki:J6:10:1:extra", "NAME:REACTION"),
    ("meki::10", "NAME:REACTION"),                # empty reaction list
    (":J6:10", "NAME:REACTION"),                  # empty name
    ("meki:J6,,J7:10", "empty reaction id"),
    ("meki:J6:0", "> 0"),                         # zero IC50
    ("meki:J6:-5nM", "negative"),                 # negative IC50
    ("meki:J6:ten", "not a number"),
    ("meki:J6:10furlongs", "unknown unit"),
    ("meki:J6:10:steep", "Hill coefficient"),
    ("meki:J6:10:0", "Hill coefficient"),
    ("meki:J6:10:-1", "Hill coefficient"),
    ("2meki:J6:10", "not a valid SBML id"),
    ("me-ki:J6:10", "not a valid SBML id"),
    ("meki:J6,J6:10", "more than once"),
])
def test_parse_bad_specs_raise_input_error_quoting_the_text(text, fragment):
    with pytest.raises(ms.InputError, match=fragment) as info:
        DrugTerm.parse(text)
    assert repr(text) in str(info.value)  # the message names the text the user typed


@pytest.mark.parametrize("kwargs,fragment", [
    ({"name": "x", "reactions": (), "ic50": 1.0}, "names no reaction"),
    ({"name": "x", "reactions": "J6", "ic50": 1.0}, "sequence of reaction ids"),
    ({"name": "x", "reactions": ("J6",), "ic50": float("inf")}, "finite number > 0"),
    ({"name": "x", "reactions": ("J6",), "ic50": float("nan")}, "finite number > 0"),
    ({"name": "x", "reactions": ("J6",), "ic50": 1.0, "hill": 0.0}, "finite number > 0"),
    ({"name": "", "reactions": ("J6",), "ic50": 1.0}, "not a valid SBML id"),
    ({"name": "x", "reactions": ("J 6",), "ic50": 1.0}, "not valid SBML ids"),
])
def test_drug_term_validation(kwargs, fragment):
    with pytest.raises(ms.InputError, match=fragment):
        DrugTerm(**kwargs)


def test_drug_term_freezes_a_reaction_list_into_a_tuple():
    term = DrugTerm("x", ["J6", "J7"], 3)
    assert term.reactions == ("J6", "J7") and isinstance(term.ic50, float)
    hash(term)


# ------------------------------------------------------------------------------------ adding to models


@pytest.mark.parametrize("dose,ic50,hill,fraction", [
    (0.0, 10.0, 1.0, 0.0),
    (10.0, 10.0, 1.0, 0.5),     # dose = IC50: half occupancy for any Hill coefficient
    (10.0, 10.0, 3.0, 0.5),
    (30.0, 10.0, 2.0, 0.9),     # 3^2 / (3^2 + 1)
    (90.0, 10.0, 1.0, 0.9),
])
def test_drug_scales_the_rate_by_one_minus_occupancy(pd_model, dose, ic50, hill, fraction):
    """X_ss = (1 - f) k0 / k with f = D^h / (D^h + IC50^h), in closed form."""
    model = add_drug_terms(pd_model, [DrugTerm("inh", ("J1",), ic50, hill)])
    condition = ms.make_condition(model, None, {"inh": dose})
    ss = ms.steady_state(model, condition, select=["X", "f_inh"])
    assert ss.status == "ok"
    assert ss["f_inh"] == pytest.approx(fraction, rel=1e-12, abs=1e-15)
    assert ss["X"] == pytest.approx((1.0 - fraction) * 4.0 / 0.5, rel=STEADY_RTOL)


def test_two_drugs_on_one_reaction_multiply(pd_model):
    model = add_drug_terms(pd_model, [DrugTerm("a", ("J1",), 1.0), DrugTerm("b", ("J1", "J2"), 2.0)])
    ss = ms.steady_state(model, ms.make_condition(model, None, {"a": 1.0, "b": 6.0}), select=["X"])
    # J1 scaled by (1 - 1/2)(1 - 3/4); J2 by (1 - 3/4)
    assert ss["X"] == pytest.approx(0.5 * 0.25 * 4.0 / (0.25 * 0.5), rel=STEADY_RTOL)


def test_added_drug_is_accepted_and_dose_units_parse(kholodenko):
    model = add_drug_terms(kholodenko, [DrugTerm.parse("meki:J6,J7:10nM")])
    assert "meki" in ms.accepted_drugs(model)
    assert {"meki": 0.0, "IC50_meki": 10.0, "h_meki": 1.0}.items() <= dict(model.parameters).items()
    assert "f_meki" in model.assigned
    condition = ms.make_condition(model, None, {"meki": "1uM"})
    assert condition.values["meki"] == 1000.0 and condition.untreated["meki"] == 0.0
    assert "IC50_meki" not in condition.values  # not a catalogue drug: the term's IC50 (model default) holds


def test_original_model_is_unchanged(kholodenko):
    before = kholodenko.sha256
    model = add_drug_terms(kholodenko, [DrugTerm("meki", ("J6",), 10.0)])
    assert kholodenko.sha256 == before and "meki" not in kholodenko.parameters
    assert model.sha256 != before


def test_name_title_time_unit_and_observables_are_kept(mpnst):
    model = add_drug_terms(mpnst, [DrugTerm("extra_inh", ("R5",), 15.0)])
    assert model.name == mpnst.name and model.title == mpnst.title and model.time_unit == mpnst.time_unit
    assert model.observables == mpnst.observables
    assert ms.cell_lines_for(model) == ms.cell_lines_for(mpnst)  # cell lines match by model name


def test_default_observables_stay_default(kholodenko):
    model = add_drug_terms(kholodenko, [DrugTerm("meki", ("J6",), 10.0)])
    assert model.observables == kholodenko.observables
    assert model.observable_ids == model.species


def test_no_terms_returns_the_model(kholodenko):
    assert add_drug_terms(kholodenko, []) is kholodenko


def test_added_drug_time_course_runs_with_pre_equilibration(pd_model):
    """The dose is 0 in the untreated state, so the cell starts at k0/k and relaxes to the treated level."""
    model = add_drug_terms(pd_model, [DrugTerm("inh", ("J1",), 5.0)])
    t = np.linspace(0.0, 10.0, 11)
    traj = ms.time_course(model, t, ms.make_condition(model, None, {"inh": 5.0}), select=["X"],
                          options=ms.SolverOptions(rtol=1e-10, atol=1e-12))
    np.testing.assert_allclose(traj["X"], 4.0 + 4.0 * np.exp(-0.5 * t), rtol=1e-6)


# ---------------------------------------------------------------------------------------------- errors


def test_unknown_reaction_lists_the_valid_ids(kholodenko):
    with pytest.raises(ms.InputError, match="'J99'") as info:
        add_drug_terms(kholodenko, [DrugTerm("meki", ("J6", "J99"), 10.0)])
    message = str(info.value)
    assert "valid reaction ids: J0, J1, J2" in message and "J9" in message


@pytest.mark.parametrize("name,clash", [
    ("MAPK", "MAPK"),         # a species
    ("uVol", "uVol"),         # the compartment
    ("J0_Ki", "J0_Ki"),       # J0's local parameter Ki, made global when the model loads
    ("J3", "J3"),             # a reaction
])
def test_name_collision_with_existing_id(kholodenko, name, clash):
    with pytest.raises(ms.InputError, match=f"would add id\\(s\\) {clash}") as info:
        add_drug_terms(kholodenko, [DrugTerm(name, ("J6",), 10.0)])
    assert "already has" in str(info.value)


def test_derived_id_collision_is_reported(pd_model):
    model = ms.from_antimony_text(PRODUCTION_DECAY + "\nIC50_inh = 3", name="pd2")
    with pytest.raises(ms.InputError, match="IC50_inh"):
        add_drug_terms(model, [DrugTerm("inh", ("J1",), 1.0)])


def test_same_drug_added_twice_collides(pd_model):
    with pytest.raises(ms.InputError, match="'inh' is added more than once.*inh:J1,J2:IC50"):
        add_drug_terms(pd_model, [DrugTerm("inh", ("J1",), 1.0), DrugTerm("inh", ("J2",), 1.0)])
    once = add_drug_terms(pd_model, [DrugTerm("inh", ("J1",), 1.0)])
    with pytest.raises(ms.InputError, match="already has"):
        add_drug_terms(once, [DrugTerm("inh", ("J2",), 1.0)])


def test_existing_catalogue_drug_name_collides(mpnst):
    with pytest.raises(ms.InputError, match="trametinib"):
        add_drug_terms(mpnst, [DrugTerm("trametinib", ("R5",), 1.0)])


def test_non_drug_term_is_refused(pd_model):
    with pytest.raises(ms.InputError, match="DrugTerm.parse"):
        add_drug_terms(pd_model, ["inh:J1:1"])


def test_reaction_without_kinetic_law_is_refused():
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    comp = model.createCompartment()
    comp.setId("c"), comp.setSize(1.0), comp.setConstant(True)
    species = model.createSpecies()
    species.setId("S"), species.setCompartment("c"), species.setInitialConcentration(1.0)
    species.setHasOnlySubstanceUnits(False), species.setBoundaryCondition(False), species.setConstant(False)
    reaction = model.createReaction()
    reaction.setId("R"), reaction.setReversible(False)
    ref = reaction.createReactant()
    ref.setSpecies("S"), ref.setStoichiometry(1.0), ref.setConstant(True)
    compiled = ms.from_sbml_text(libsbml.writeSBMLToString(doc), name="nolaw")
    with pytest.raises(ms.InputError, match="no kinetic law"):
        add_drug_terms(compiled, [DrugTerm("inh", ("R",), 1.0)])


def test_catalogue_drug_names_are_refused_because_the_catalogue_ic50_would_win():
    model = ms.from_antimony_text("J1: A -> B; k*A\nA = 1; k = 1", name="tiny")
    with pytest.raises(ms.InputError, match="trametinib_custom"):
        add_drug_terms(model, [DrugTerm("trametinib", ("J1",), 5.0)])
