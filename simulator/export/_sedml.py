"""A small SED-ML Level 1 Version 4 writer over libsedml that checks every step.

Why libsedml and not phraSED-ML text: phrasedml 1.3 rejects some KiSAO ids tellurium accepts, cannot name
report columns, and drops plot axis labels; libsedml writes any element of the specification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._sbml import SbmlInfo

__all__ = ["KISAO", "SedDocument"]

SEDML_LEVEL, SEDML_VERSION = 1, 4
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


class SedDocument:
    """Builds one SED-ML document; :meth:`text` returns it after reading it back for errors."""

    def __init__(self, info: SbmlInfo, notes: str = "") -> None:
        import libsedml

        self._sed = libsedml
        self.doc = libsedml.SedDocument(SEDML_LEVEL, SEDML_VERSION)
        self.doc.getNamespaces().add(info.namespace, "sbml")
        self.info = info
        self._kinds: dict[str, Mapping[str, str]] = {}
        if notes:
            self._check(self.doc.setNotes(_xhtml(notes)), "set the document notes")

    def _check(self, status: int, what: str) -> None:
        if status != self._sed.LIBSEDML_OPERATION_SUCCESS:
            raise RuntimeError(f"libsedml could not {what}: {self._sed.OperationReturnValue_toString(status)}")

    def target(self, model: str, sid: str) -> str:
        """The XPath of ``sid`` in model ``model``."""
        kind = self._kinds[model].get(sid)
        if kind is None:
            raise RuntimeError(f"{sid!r} is not a species, parameter or compartment of SED-ML model {model!r}")
        return f"/sbml:sbml/sbml:model/sbml:{_LISTS[kind]}[@id='{sid}']"

    def model(self, mid: str, source: str, info: SbmlInfo, name: str) -> None:
        """A model read from ``source`` (a file of the archive)."""
        m = self.doc.createModel()
        self._check(m.setId(mid), f"set model id {mid}")
        self._check(m.setName(name), "set a model name")
        self._check(m.setSource(source), "set a model source")
        self._check(m.setLanguage(info.language), "set a model language")
        self._kinds[mid] = info.kinds

    def _algorithm(self, sim, kisao: str, name: str, params: Mapping[str, float | int]) -> None:
        alg = sim.createAlgorithm()
        self._check(alg.setKisaoID(kisao), f"set algorithm {kisao}")
        self._check(alg.setName(name), "name an algorithm")
        for key, value in params.items():
            p = alg.createAlgorithmParameter()
            self._check(p.setKisaoID(KISAO[key]), f"set algorithm parameter {key}")
            self._check(p.setName(key), "name an algorithm parameter")
            self._check(p.setValue(repr(float(value)) if isinstance(value, float) else str(value)),
                        f"set {key}")

    def uniform_time_course(self, sid: str, t0: float, t1: float, steps: int, *, rtol: float, atol: float,
                            max_steps: int, name: str) -> None:
        """CVODE from ``t0`` to ``t1`` in ``steps`` equal steps (``steps + 1`` output rows)."""
        sim = self.doc.createUniformTimeCourse()
        self._check(sim.setId(sid), f"set simulation id {sid}")
        self._check(sim.setName(name), "name a simulation")
        self._check(sim.setInitialTime(float(t0)), "set the initial time")
        self._check(sim.setOutputStartTime(float(t0)), "set the output start time")
        self._check(sim.setOutputEndTime(float(t1)), "set the output end time")
        self._check(sim.setNumberOfSteps(int(steps)), "set the number of steps")
        self._algorithm(sim, KISAO["cvode"], "CVODE (BDF)", {"rtol": rtol, "atol": atol, "max_steps": max_steps})

    def steady_state(self, sid: str, name: str) -> None:
        """A steady-state search (root finding; the executing tool picks its Newton method)."""
        sim = self.doc.createSteadyState()
        self._check(sim.setId(sid), f"set simulation id {sid}")
        self._check(sim.setName(name), "name a simulation")
        self._algorithm(sim, KISAO["steady_state"], "steady-state root finding", {})

    def task(self, tid: str, model: str, simulation: str, name: str) -> None:
        """Run ``simulation`` on ``model``."""
        t = self.doc.createTask()
        self._check(t.setId(tid), f"set task id {tid}")
        self._check(t.setName(name), "name a task")
        self._check(t.setModelReference(model), "set a task's model")
        self._check(t.setSimulationReference(simulation), "set a task's simulation")

    def repeated_task(self, tid: str, ranges: Mapping[str, Sequence[float]], set_values: Mapping[str, str],
                      model: str, subtask: str, name: str) -> None:
        """Repeat ``subtask`` once per value of the lock-step vector ranges, the model reset before each.

        ``ranges``: range id -> values (the first is the master range); ``set_values``: model id (a parameter of
        ``model``) -> range id whose current value it takes. ``resetModel`` is true: every iteration starts from
        the model as written (its initial assignments evaluated with the file's values), then the changes apply.
        """
        libsedml = self._sed
        rt = self.doc.createRepeatedTask()
        self._check(rt.setId(tid), f"set task id {tid}")
        self._check(rt.setName(name), "name a task")
        self._check(rt.setResetModel(True), "set resetModel")
        for k, (rid, values) in enumerate(ranges.items()):
            r = rt.createVectorRange()
            self._check(r.setId(rid), f"set range id {rid}")
            for value in values:
                self._check(r.addValue(float(value)), f"add a value to range {rid}")
            if k == 0:
                self._check(rt.setRangeId(rid), "set the master range")
        for target, rid in set_values.items():
            change = rt.createTaskChange()
            self._check(change.setModelReference(model), "set a change's model")
            self._check(change.setTarget(self.target(model, target)), f"target {target}")
            self._check(change.setRange(rid), "set a change's range")
            self._check(change.setMath(libsedml.parseL3Formula(rid)), "set a change's value")
        sub = rt.createSubTask()
        self._check(sub.setTask(subtask), "set a subtask")
        self._check(sub.setOrder(1), "order a subtask")

    def variable(self, dgid: str, task: str, model: str, target: str, name: str) -> None:
        """A data generator that is one model quantity (``target="time"``: the time) of one task."""
        self.formula(dgid, "x", {"x": (task, model, target)}, name)

    def formula(self, dgid: str, math: str, variables: Mapping[str, tuple[str, str, str]], name: str) -> None:
        """A data generator computed by ``math`` (SED-ML/SBML L3 infix) over ``variables``.

        ``variables``: variable id in ``math`` -> (task, model, target id or ``"time"``). Variable ids are made
        unique in the document as ``<dgid>_<id>``.
        """
        libsedml = self._sed
        dg = self.doc.createDataGenerator()
        self._check(dg.setId(dgid), f"set data generator id {dgid}")
        self._check(dg.setName(name), "name a data generator")
        ast = libsedml.parseL3Formula(math)
        if ast is None:
            raise RuntimeError(f"libsedml could not parse {math!r}")
        for vid, (task, model, target) in variables.items():
            v = dg.createVariable()
            self._check(v.setId(f"{dgid}_{vid}"), f"set variable id {vid}")
            self._check(v.setTaskReference(task), "set a variable's task")
            if target == "time":
                self._check(v.setSymbol(TIME_SYMBOL), "set the time symbol")
            else:
                self._check(v.setModelReference(model), "set a variable's model")
                self._check(v.setTarget(self.target(model, target)), f"target {target}")
            ast.renameSIdRefs(vid, f"{dgid}_{vid}")
        self._check(dg.setMath(ast), f"set the math of {dgid}")

    def report(self, rid: str, columns: Sequence[tuple[str, str]], name: str) -> None:
        """A report whose columns are (label, data generator id)."""
        rep = self.doc.createReport()
        self._check(rep.setId(rid), f"set report id {rid}")
        self._check(rep.setName(name), "name a report")
        for k, (label, dg) in enumerate(columns):
            ds = rep.createDataSet()
            self._check(ds.setId(f"{rid}_{k}"), "set a data set id")
            self._check(ds.setLabel(label), "label a data set")
            self._check(ds.setName(label), "name a data set")
            self._check(ds.setDataReference(dg), "set a data set's data")

    def plot(self, pid: str, x: str, ys: Sequence[tuple[str, str]], *, name: str, x_label: str, y_label: str) -> None:
        """A 2-D plot of the data generators ``ys`` = (curve name, id) against ``x``, with titled axes."""
        plot = self.doc.createPlot2D()
        self._check(plot.setId(pid), f"set plot id {pid}")
        self._check(plot.setName(name), "name a plot")
        for k, (label, y) in enumerate(ys):
            curve = plot.createCurve()
            self._check(curve.setId(f"{pid}_curve{k}"), "set a curve id")
            self._check(curve.setName(label), "name a curve")
            self._check(curve.setXDataReference(x), "set a curve's x")
            self._check(curve.setYDataReference(y), "set a curve's y")
            self._check(curve.setLogX(False), "set a curve's x scale")
            self._check(curve.setLogY(False), "set a curve's y scale")
        for create, label in ((plot.createXAxis, x_label), (plot.createYAxis, y_label)):
            axis = create()
            self._check(axis.setName(label), "name an axis")
            self._check(axis.setType("linear"), "set an axis type")

    def text(self) -> str:
        """The document as XML, read back with libsedml: any error it reports is an export bug."""
        libsedml = self._sed
        text = libsedml.writeSedMLToString(self.doc)
        back = libsedml.readSedMLFromString(text)
        errors = [back.getError(i).getMessage().strip() for i in range(back.getNumErrors())
                  if back.getError(i).getSeverity() >= libsedml.LIBSEDML_SEV_ERROR]
        if errors:
            raise RuntimeError(f"the exported SED-ML is not valid: {'; '.join(errors[:3])}")
        return text


def _xhtml(text: str) -> str:
    body = "".join(f"<p>{p.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</p>"
                   for p in text.split("\n\n") if p.strip())
    return f'<notes><body xmlns="http://www.w3.org/1999/xhtml">{body}</body></notes>'
