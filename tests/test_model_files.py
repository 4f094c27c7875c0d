"""The committed model files agree with each other and every number carries its provenance."""

from __future__ import annotations

import re

import libsbml
import pytest

import simulator as ms
from simulator.files import bundled_dir
from simulator.model import antimony_to_sbml, bundled_model_names

TAG = re.compile(r"\[(V|L|A|P|C)\]")


def _semantics(sbml: str) -> dict:
    """What an SBML model means (math, units, annotations), independent of the generating tool's version or element
    order."""
    doc = libsbml.readSBMLFromString(sbml)
    m = doc.getModel()
    formula = libsbml.formulaToL3String
    return {
        "species": {
            s.getId(): (
                s.getCompartment(),
                s.getInitialConcentration() if s.isSetInitialConcentration()
                else s.getInitialAmount() if s.isSetInitialAmount() else None,  # None, not NaN: NaN != NaN
            )
            for s in m.getListOfSpecies()
        },
        "parameters": {p.getId(): (p.getValue() if p.isSetValue() else None) for p in m.getListOfParameters()},
        "rules": {r.getVariable(): formula(r.getMath()) for r in m.getListOfRules()},
        "initial": {a.getSymbol(): formula(a.getMath()) for a in m.getListOfInitialAssignments()},
        "reactions": {
            r.getId(): (
                sorted((x.getSpecies(), x.getStoichiometry()) for x in r.getListOfReactants()),
                sorted((x.getSpecies(), x.getStoichiometry()) for x in r.getListOfProducts()),
                formula(r.getKineticLaw().getMath()),
            )
            for r in m.getListOfReactions()
        },
        "time_units": m.getTimeUnits(),
        # units and annotations (issue 19): the committed SBML must carry the .ant file's, not only its math
        "model_units": (m.getSubstanceUnits(), m.getExtentUnits(), m.getVolumeUnits()),
        "unit_definitions": {u.getId(): libsbml.UnitDefinition.printUnits(u) for u in m.getListOfUnitDefinitions()},
        "units": {e.getId(): e.getUnits() for e in (*m.getListOfParameters(), *m.getListOfCompartments())}
        | {s.getId(): s.getSubstanceUnits() for s in m.getListOfSpecies()},
        "sbo": {e.getId(): e.getSBOTermID() for e in (*m.getListOfSpecies(), *m.getListOfReactions())
                if e.isSetSBOTerm()},
        "annotations": {e.getId(): sorted((t.getQualifierType(), t.getBiologicalQualifierType(),
                                           t.getResources().getValue(k))
                                          for t in (e.getCVTerm(i) for i in range(e.getNumCVTerms()))
                                          for k in range(t.getResources().getLength()))
                        for e in (m, *m.getListOfSpecies(), *m.getListOfParameters()) if e.getNumCVTerms()},
    }


@pytest.mark.parametrize("name", ms.model.bundled_model_names())
def test_committed_sbml_matches_antimony(name):
    ant = bundled_dir() / f"{name}.ant"
    xml = ant.with_suffix(".xml")
    assert xml.is_file(), f"{xml} missing: run `make sbml`"
    generated = _semantics(antimony_to_sbml(ant.read_text()))
    committed = _semantics(xml.read_text())
    assert committed == generated, f"{xml.name} is out of date with {ant.name}: run `make sbml`"


def test_sbml_and_antimony_simulate_identically(mpnst, condition):
    from_xml = ms.load_sbml(bundled_dir() / "mpnst.xml")
    cond = condition("S462_R1", {"trametinib": 10})
    a = ms.steady_state(mpnst, cond)
    b = ms.steady_state(from_xml, ms.make_condition(from_xml, None, {"trametinib": 10}, values=dict(
        (k, v) for k, v in cond.values.items())))
    assert a.as_dict() == pytest.approx(b.as_dict(), rel=1e-9)


def test_model_ic50s_equal_the_catalogue(mpnst, drugs):
    """drugs.toml is the truth; the model file's own defaults must not drift from it."""
    for drug_id in ms.accepted_drugs(mpnst, drugs):
        assert mpnst.parameters[f"IC50_{drug_id}"] == pytest.approx(drugs[drug_id].ic50_nM), drug_id
        assert mpnst.parameters[f"h_{drug_id}"] == pytest.approx(drugs[drug_id].hill), drug_id


def test_all_catalogue_drugs_enter_model_a(mpnst, drugs):
    expected = {"trametinib", "selumetinib", "tak733", "gsk2256098", "src_inhibitor_1", "obtustatin",
                "dasatinib", "defactinib"}
    assert expected <= set(drugs)
    assert expected <= set(ms.accepted_drugs(mpnst, drugs))


@pytest.mark.parametrize("name", bundled_model_names())
def test_every_number_in_a_bundled_model_has_provenance(name):
    """Each line of a bundled .ant file that assigns a number carries a provenance tag, on the line itself or
    in a comment line above it within the same paragraph (paragraphs are separated by blank lines)."""
    lines = (bundled_dir() / f"{name}.ant").read_text().splitlines()
    number = re.compile(r"\b[A-Za-z_]\w*\s*=\s*[-+]?\d")
    missing = []
    for i, line in enumerate(lines):
        code = line.split("//")[0]
        if not number.search(code) or ":=" in code or "->" in code:
            continue
        context = [line]
        j = i - 1
        while j >= 0 and lines[j].strip():
            if lines[j].strip().startswith("//"):
                context.append(lines[j])
            j -= 1
        if not any(TAG.search(c) for c in context):
            missing.append(f"line {i + 1}: {line.strip()}")
    assert not missing, "numbers without a provenance tag:\n" + "\n".join(missing)


def test_catalogue_and_cell_lines_have_provenance(drugs, lines):
    for drug in drugs.values():
        assert TAG.search(drug.provenance), drug.id
    for line in lines.values():
        assert line.provenance.strip(), line.id


@pytest.mark.parametrize("name", bundled_model_names())
def test_bundled_files_validate_clean(name):
    from simulator.validate import validate_files

    files = [bundled_dir() / n for n in (f"{name}.ant", f"{name}.xml", f"{name}.toml", "drugs.toml",
                                         "cell_lines.toml")]
    issues = validate_files(files)
    assert [str(i) for i in issues if i.level == "error"] == []


def test_metadata_hash_follows_the_metadata_not_the_sbml(tmp_path):
    """The manifest's model hash covers the metadata too: an edit of <model>.toml (observables, readouts, fixed
    parameters) changes it while the SBML hash stays; here an observable's unit."""
    import hashlib
    import json
    import tomllib

    folder = bundled_dir()
    bundled = ms.load_model("mpnst")
    meta = tomllib.loads((folder / "mpnst.toml").read_text(encoding="utf-8"))
    expected = hashlib.sha256(json.dumps(meta, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
    assert bundled.metadata_sha256 == expected
    # the same content given as text hashes the same; no metadata hashes as ""
    text = (folder / "mpnst.ant").read_text(encoding="utf-8")
    assert ms.from_antimony_text(text, metadata=meta).metadata_sha256 == expected
    assert ms.from_antimony_text(text).metadata_sha256 == ""
    # an edited copy: same SBML, another metadata hash
    (tmp_path / "mpnst.ant").write_text(text, encoding="utf-8")
    edited = (folder / "mpnst.toml").read_text(encoding="utf-8").replace('unit = "relative to S462 DMSO"',
                                                                         'unit = "relative to ST8814 DMSO"', 1)
    assert edited != (folder / "mpnst.toml").read_text(encoding="utf-8")
    (tmp_path / "mpnst.toml").write_text(edited, encoding="utf-8")
    copy = ms.load_model(str(tmp_path / "mpnst.ant"))
    assert copy.sha256 == bundled.sha256 and copy.metadata_sha256 not in ("", expected)
