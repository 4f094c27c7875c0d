"""Run exported files in a fresh interpreter WITHOUT mekisim: tellurium for archives, plain roadrunner for models.

Usage: python _omex_runner.py RESULT.npz omex ARCHIVE [OUTPUT_DIR]
       python _omex_runner.py RESULT.npz sbml|antimony FILE T0 T1 N [RTOL ATOL] ID...

Writes the data generators of every SED-ML of the archive (``omex``), or the time course of the ids (species as
concentrations) on the grid (``sbml``/``antimony``), to RESULT.npz. It asserts that no module of mekisim was
imported, so the numbers come from the exported files alone. Why a subprocess: tellurium changes global state
(plotting engine, warnings filters, temporary folders) that would leak into the test session.
"""

import sys
import warnings

import numpy as np


def run_archive(path, outputs=None):
    import matplotlib

    matplotlib.use("Agg")
    import tellurium as te

    te.setDefaultPlottingEngine("matplotlib")
    kwargs = {"createOutputs": outputs is not None}
    if outputs is not None:
        import os

        os.makedirs(outputs, exist_ok=True)
        kwargs.update(saveOutputs=True, outputDir=outputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = te.executeCombineArchive(path, **kwargs)
    out = {}
    for result in results.values():
        for key, value in result["dataGenerators"].items():
            out[key] = np.asarray(value, dtype=float)
    return out


def run_model(kind, path, t0, t1, n, rtol, atol, ids):
    import roadrunner

    text = open(path, encoding="utf-8").read()
    if kind == "antimony":
        import antimony

        if antimony.loadAntimonyString(text) < 0:
            raise SystemExit(antimony.getLastError())
        text = antimony.getSBMLString(antimony.getMainModuleName())
    rr = roadrunner.RoadRunner(text)
    species = set(rr.model.getFloatingSpeciesIds()) | set(rr.model.getBoundarySpeciesIds())
    rr.timeCourseSelections = ["time", *(f"[{i}]" if i in species else i for i in ids)]
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = 100_000
    values = np.asarray(rr.simulate(t0, t1, n), dtype=float)
    return {"time": values[:, 0], **{i: values[:, k + 1] for k, i in enumerate(ids)}}


if __name__ == "__main__":
    result, kind, path = sys.argv[1:4]
    if kind == "omex":
        data = run_archive(path, sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        t0, t1, n, rtol, atol = (float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]),
                                 float(sys.argv[8]))
        data = run_model(kind, path, t0, t1, n, rtol, atol, sys.argv[9:])
    leaked = sorted(m for m in sys.modules if m == "simulator" or m.startswith("simulator."))
    assert not leaked, f"mekisim was imported: {leaked}"
    np.savez(result, **data)
