"""The files that let SALib reproduce a run's indices on its own: the problem, the samples, the outputs.

Why: a modeller may check mekisim's indices with SALib, or analyse the same evaluations another way. The
samples are written in the space they were drawn in (log10 of the value for a log-uniform range), because
that is the space SALib's analysis assumes (Morris' steps, Sobol's matrices); the values in model units are in
``samples.csv``. ``salib_problem.txt`` is SALib's parameter-file format (``salib analyze -p``), ``.json`` the
problem dict of its Python API plus what mekisim used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..files import write_text
from ._spec import SensitivitySpec

#: methods SALib samples and analyses (``local`` is mekisim's own central-difference stencil)
SALIB_METHODS = ("sobol", "morris", "efast")


def write_salib_files(spec: SensitivitySpec, samples: np.ndarray, y: np.ndarray, names: Sequence[str],
                      out_dir: str | Path) -> list[Path]:
    """``salib_problem.json``, ``salib_problem.txt``, ``salib_samples.txt`` and ``salib_outputs.txt``.

    Parameters
    ----------
    spec
        The run's spec (method, settings, parameter space).
    samples
        The design in the sampling space, rows as evaluated (:func:`~simulator.sensitivity.sample_matrix`).
    y
        Outputs, rows as ``samples``, one column per output (NaN for a failed run).
    names
        The outputs' column names (their specs), in column order.
    out_dir
        The run's folder.
    """
    out_dir = Path(out_dir)
    problem = spec.problem()
    logs = [r.dist == "loguniform" for r in spec.space.ranges]
    settings = {"sobol": {"N": spec.n, "calc_second_order": spec.second_order, "num_resamples": spec.resamples,
                          "conf_level": spec.conf_level},
                "morris": {"N": spec.n, "num_levels": spec.levels, "num_resamples": spec.resamples,
                           "conf_level": spec.conf_level},
                "efast": {"N": spec.n, "M": spec.harmonics, "replicates": spec.replicates}}[spec.method]
    doc = {
        **problem,
        "bounds": [list(map(float, b)) for b in problem["bounds"]],
        "sampled_space": {name: ("log10" if log else "linear") for name, log in zip(problem["names"], logs,
                                                                                      strict=True)},
        "method": spec.method, "seed": spec.seed, "settings": settings,
        "samples_file": "salib_samples.txt", "outputs_file": "salib_outputs.txt",
        "outputs": list(names),
        "note": ("bounds and samples are in the sampled space: log10(value) for log-uniform ranges; SALib's "
                 "analyze on these files gives mekisim's indices (confidence intervals depend on the bootstrap "
                 "seed: mekisim uses seed + 1). Model-unit values are in samples.csv."),
    }
    files = [write_text(out_dir / "salib_problem.json", json.dumps(doc, indent=1) + "\n")]
    lines = [f"{name} {low!r} {high!r}" for name, (low, high) in zip(problem["names"], problem["bounds"],
                                                                       strict=True)]
    files.append(write_text(out_dir / "salib_problem.txt", "\n".join(lines) + "\n"))
    files.append(write_text(out_dir / "salib_samples.txt", _matrix_text(samples)))
    outputs = np.asarray(y, dtype=float).reshape(len(y), -1)
    files.append(write_text(out_dir / "salib_outputs.txt", _matrix_text(outputs)))
    return files


def _matrix_text(matrix: np.ndarray) -> str:
    """Space-separated rows at full precision (``numpy.loadtxt`` and ``salib analyze`` read it back exactly)."""
    return "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in np.asarray(matrix, dtype=float))
