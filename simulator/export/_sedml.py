"""A small SED-ML Level 1 Version 4 writer over the standard library's ElementTree, checked by libsedml elsewhere.

Why not libsedml in this process: python-libsedml bundles its own copy of libsbml and registers its SWIG wrappers
for libsbml's classes (``ASTNode``, ``XMLNode``, ...) in the SWIG type table it shares with python-libsbml. Once it
is imported, python-libsbml's functions hand back libsedml's proxies, whose ``ASTNode.getType()`` returns an opaque
pointer instead of the node type: mekisim's model reader then finds no time breakpoints and no ``delay()`` in any
model loaded afterwards, and a later simulation in the same process changes (Isensee 2018's PEtab conditions fail
with "more than max_steps steps" instead of matching the reference objective). So the document is built here as
plain XML (MathML from python-libsbml, which is safe), and :meth:`SedDocument.text` reads it back with libsedml in
a child interpreter: any error libsedml reports is an export bug, and mekisim's own process never imports it.

Why libsedml's reading and not phraSED-ML text: phrasedml 1.3 rejects some KiSAO ids tellurium accepts, cannot
name report columns, and drops plot axis labels; the SED-ML written here carries every element the export needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from ._sbml import SbmlInfo

__all__ = ["KISAO", "SedDocument", "check_sedml"]

SEDML_LEVEL, SEDML_VERSION = 1, 4
SEDML_NS = "http://sed-ml.org/sed-ml/level1/version4"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
XHTML_NS = "http://www.w3.org/1999/xhtml"
TIME_SYMBOL = "urn:sedml:symbol:time"
#: KiSAO ids used (https://www.ebi.ac.uk/ols4/ontologies/kisao)
KISAO = {
    "cvode": "KISAO:0000019",           # CVODE (mekisim's integrator; BDF, as roadrunner runs it)
    "steady_state": "KISAO:0000407",    # steady-state root finding; tellurium runs it with NLEQ2, phrasedml accepts it
    "rtol": "KISAO:0000209",
    "atol": "KISAO:0000211",
    "max_steps": "KISAO:0000415",
}
_LISTS = {"species": "listOfSpecies/sbml:species", "parameter": "listOfParameters/sbml:parameter",
          "compartment": "listOfCompartments/sbml:compartment"}
#: the order of the document's lists (SED-ML L1V4 schema)
_SECTIONS = ("listOfModels", "listOfSimulations", "listOfTasks", "listOfDataGenerators", "listOfOutputs")
#: run in a child interpreter: read the SED-ML on stdin with libsedml, print its errors (severity >= error) as JSON
_CHECK = """\
import json, sys
import libsedml
doc = libsedml.readSedMLFromString(sys.stdin.read())
print(json.dumps([doc.getError(i).getMessage().strip() for i in range(doc.getNumErrors())
                  if doc.getError(i).getSeverity() >= libsedml.LIBSEDML_SEV_ERROR]))
"""


class SedDocument:
    """Builds one SED-ML document; :meth:`text` returns it after libsedml (in a child process) read it back."""

    def __init__(self, info: SbmlInfo, notes: str = "") -> None:
        self.root = ET.Element("sedML", {"xmlns": SEDML_NS, "xmlns:sbml": info.namespace,
                                         "level": str(SEDML_LEVEL), "version": str(SEDML_VERSION)})
        if notes:
            self.root.append(_xhtml(notes))
        self._lists = {name: ET.SubElement(self.root, name) for name in _SECTIONS}
        self.info = info
        self._kinds: dict[str, Mapping[str, str]] = {}

    def _add(self, section: str, tag: str, **attrs: str) -> ET.Element:
        return ET.SubElement(self._lists[section], tag, attrs)

    def target(self, model: str, sid: str) -> str:
        """The XPath of ``sid`` in model ``model``."""
        kind = self._kinds[model].get(sid)
        if kind is None:
            raise RuntimeError(f"{sid!r} is not a species, parameter or compartment of SED-ML model {model!r}")
        return f"/sbml:sbml/sbml:model/sbml:{_LISTS[kind]}[@id='{sid}']"

    def model(self, mid: str, source: str, info: SbmlInfo, name: str) -> None:
        """A model read from ``source`` (a file of the archive)."""
        self._add("listOfModels", "model", id=mid, name=name, language=info.language, source=source)
        self._kinds[mid] = info.kinds

    @staticmethod
    def _algorithm(sim: ET.Element, kisao: str, name: str, params: Mapping[str, float | int]) -> None:
        alg = ET.SubElement(sim, "algorithm", {"name": name, "kisaoID": kisao})
        if params:
            listed = ET.SubElement(alg, "listOfAlgorithmParameters")
            for key, value in params.items():
                ET.SubElement(listed, "algorithmParameter",
                              {"name": key, "kisaoID": KISAO[key], "value": _number(value)})

    def uniform_time_course(self, sid: str, t0: float, t1: float, steps: int, *, rtol: float, atol: float,
                            max_steps: int, name: str) -> None:
        """CVODE from ``t0`` to ``t1`` in ``steps`` equal steps (``steps + 1`` output rows)."""
        sim = self._add("listOfSimulations", "uniformTimeCourse", id=sid, name=name, initialTime=_number(float(t0)),
                        outputStartTime=_number(float(t0)), outputEndTime=_number(float(t1)),
                        numberOfSteps=str(int(steps)))
        self._algorithm(sim, KISAO["cvode"], "CVODE (BDF)", {"rtol": rtol, "atol": atol, "max_steps": max_steps})

    def steady_state(self, sid: str, name: str) -> None:
        """A steady-state search (root finding; the executing tool picks its Newton method)."""
        sim = self._add("listOfSimulations", "steadyState", id=sid, name=name)
        self._algorithm(sim, KISAO["steady_state"], "steady-state root finding", {})

    def task(self, tid: str, model: str, simulation: str, name: str) -> None:
        """Run ``simulation`` on ``model``."""
        self._add("listOfTasks", "task", id=tid, name=name, modelReference=model, simulationReference=simulation)

    def repeated_task(self, tid: str, ranges: Mapping[str, Sequence[float]], set_values: Mapping[str, str],
                      model: str, subtask: str, name: str) -> None:
        """Repeat ``subtask`` once per value of the lock-step vector ranges, the model reset before each.

        ``ranges``: range id -> values (the first is the master range); ``set_values``: model id (a parameter of
        ``model``) -> range id whose current value it takes. ``resetModel`` is true: every iteration starts from
        the model as written (its initial assignments evaluated with the file's values), then the changes apply.
        """
        if not ranges:
            raise RuntimeError(f"repeated task {tid!r} needs at least one range")
        rt = self._add("listOfTasks", "repeatedTask", id=tid, name=name, range=next(iter(ranges)),
                       resetModel="true")
        listed = ET.SubElement(rt, "listOfRanges")
        for rid, values in ranges.items():
            vector = ET.SubElement(listed, "vectorRange", {"id": rid})
            for value in values:
                ET.SubElement(vector, "value").text = _number(float(value))
        changes = ET.SubElement(rt, "listOfChanges")
        for target, rid in set_values.items():
            change = ET.SubElement(changes, "setValue", {"modelReference": model,
                                                         "target": self.target(model, target), "range": rid})
            change.append(_mathml(rid, {}))
        subs = ET.SubElement(rt, "listOfSubTasks")
        ET.SubElement(subs, "subTask", {"order": "1", "task": subtask})

    def variable(self, dgid: str, task: str, model: str, target: str, name: str) -> None:
        """A data generator that is one model quantity (``target="time"``: the time) of one task."""
        self.formula(dgid, "x", {"x": (task, model, target)}, name)

    def formula(self, dgid: str, math: str, variables: Mapping[str, tuple[str, str, str]], name: str) -> None:
        """A data generator computed by ``math`` (SED-ML/SBML L3 infix) over ``variables``.

        ``variables``: variable id in ``math`` -> (task, model, target id or ``"time"``). Variable ids are made
        unique in the document as ``<dgid>_<id>``.
        """
        dg = self._add("listOfDataGenerators", "dataGenerator", id=dgid, name=name)
        dg.append(_mathml(math, {vid: f"{dgid}_{vid}" for vid in variables}))
        listed = ET.SubElement(dg, "listOfVariables")
        for vid, (task, model, target) in variables.items():
            attrs = {"id": f"{dgid}_{vid}", "taskReference": task}
            if target == "time":
                attrs["symbol"] = TIME_SYMBOL
            else:
                attrs.update(modelReference=model, target=self.target(model, target))
            ET.SubElement(listed, "variable", attrs)

    def report(self, rid: str, columns: Sequence[tuple[str, str]], name: str) -> None:
        """A report whose columns are (label, data generator id)."""
        rep = self._add("listOfOutputs", "report", id=rid, name=name)
        listed = ET.SubElement(rep, "listOfDataSets")
        for k, (label, dg) in enumerate(columns):
            ET.SubElement(listed, "dataSet", {"id": f"{rid}_{k}", "name": label, "label": label,
                                              "dataReference": dg})

    def plot(self, pid: str, x: str, ys: Sequence[tuple[str, str]], *, name: str, x_label: str, y_label: str) -> None:
        """A 2-D plot of the data generators ``ys`` = (curve name, id) against ``x``, with titled axes."""
        plot = self._add("listOfOutputs", "plot2D", id=pid, name=name)
        ET.SubElement(plot, "xAxis", {"name": x_label, "type": "linear"})
        ET.SubElement(plot, "yAxis", {"name": y_label, "type": "linear"})
        curves = ET.SubElement(plot, "listOfCurves")
        for k, (label, y) in enumerate(ys):
            ET.SubElement(curves, "curve", {"id": f"{pid}_curve{k}", "name": label, "logX": "false",
                                            "xDataReference": x, "logY": "false", "yDataReference": y})

    def text(self) -> str:
        """The document as XML, read back with libsedml (in a child process): any error it reports is an export bug."""
        root = _without_empty_lists(self.root)
        ET.indent(root, space="  ")
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
        errors = check_sedml(text)
        if errors:
            raise RuntimeError(f"the exported SED-ML is not valid: {'; '.join(errors[:3])}")
        return text


def check_sedml(text: str) -> list[str]:
    """The errors (severity error or fatal) libsedml reports reading ``text``, read in a child interpreter.

    Why a child: importing libsedml changes python-libsbml in the importing process (see the module docstring).
    """
    done = subprocess.run([sys.executable, "-c", _CHECK], input=text, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"could not check the SED-ML with libsedml: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def _without_empty_lists(root: ET.Element) -> ET.Element:
    out = ET.Element(root.tag, root.attrib)
    out.extend(child for child in root if not (child.tag in _SECTIONS and len(child) == 0))
    return out


def _number(value: float | int) -> str:
    """A number as SED-ML writes it: integers as integers, floats round-trip exactly (``repr``)."""
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def _mathml(formula: str, rename: Mapping[str, str]) -> ET.Element:
    """MathML of an SBML L3 infix ``formula``, its ids renamed by ``rename`` (python-libsbml: safe to import)."""
    import libsbml

    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise RuntimeError(f"libsbml could not parse {formula!r}: {libsbml.getLastParseL3Error().strip()}")
    for old, new in rename.items():
        ast.renameSIdRefs(old, new)
    math = ET.fromstring(libsbml.writeMathMLToString(ast))
    for node in math.iter():
        if any(key.startswith("{") for key in node.attrib):
            raise RuntimeError(f"the MathML of {formula!r} has namespaced attributes the export does not carry")
        node.tag = node.tag.rpartition("}")[2]  # plain tags: the xmlns attribute below gives their namespace
    math.set("xmlns", MATHML_NS)
    return math


def _xhtml(text: str) -> ET.Element:
    notes = ET.Element("notes")
    body = ET.SubElement(notes, "body", {"xmlns": XHTML_NS})
    for paragraph in text.split("\n\n"):
        if paragraph.strip():
            ET.SubElement(body, "p").text = paragraph
    return notes
