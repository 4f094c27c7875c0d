"""Small PEtab problems written from text, for tests with closed-form answers (one writer for every test file)."""

from __future__ import annotations

from pathlib import Path

from simulator.model import antimony_to_sbml

PARAMETER_HEADER = "parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
MEASUREMENT_HEADER = ("observableId\tpreequilibrationConditionId\tsimulationConditionId\ttime\tmeasurement\t"
                      "observableParameters\tnoiseParameters\n")

#: A <-> B (total 1): pre-equilibrated at k1 = 1, then k1 = k1_stim, B = 0.75 - 0.25 exp(-4 t) at k1_stim = 3
TWO_STATE = """
model two_state
  A -> B; k1*A
  B -> A; k2*B
  A = 1; B = 0
  k1 = 1; k2 = 1
end
"""


def write_problem(directory: Path, antimony: str, *, conditions: str, observables: str, parameters: str,
                  measurements: str, parameter_header: str = PARAMETER_HEADER) -> Path:
    """Write a one-model PEtab v1 problem into ``directory``; ``parameters`` are rows below the header."""
    files = {
        "model.xml": antimony_to_sbml(antimony),
        "conditions.tsv": conditions,
        "observables.tsv": observables,
        "parameters.tsv": parameter_header + parameters,
        "measurements.tsv": measurements,
        "problem.yaml": "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n- condition_files: "
                        "[conditions.tsv]\n  measurement_files: [measurements.tsv]\n  observable_files: "
                        "[observables.tsv]\n  sbml_files: [model.xml]\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory / "problem.yaml"


def write_two_state(directory: Path, measurements: str, noise: str = "noiseParameter1_obs_B",
                    model: str = TWO_STATE) -> Path:
    """:data:`TWO_STATE` observed as ``scale * B``; ``measurements`` are rows below the header."""
    return write_problem(
        directory, model,
        conditions="conditionId\tk1\nbasal\t1\nstim\tk1_stim\n",
        observables=f"observableId\tobservableFormula\tnoiseFormula\nobs_B\tobservableParameter1_obs_B * B\t{noise}\n",
        parameters="k2\tlog10\t0.01\t100\t1\t1\nk1_stim\tlog10\t0.01\t100\t3\t1\nscale\tlog10\t0.01\t100\t2\t1\n",
        measurements=MEASUREMENT_HEADER + measurements,
    )


#: The parameter table's header with PEtab v1's prior columns
PRIOR_HEADER = (PARAMETER_HEADER.rstrip("\n") + "\tobjectivePriorType\tobjectivePriorParameters"
                "\tinitializationPriorType\tinitializationPriorParameters\n")


def write_prior_problem(directory: Path, parameters: str, data, *, formula: str = "theta", sigma: float = 0.5,
                        transformation: str = "lin") -> Path:
    """``y = formula`` of parameter-table parameters (no model state), measured once per value of ``data``.

    Normal noise ``sigma`` on the ``transformation`` scale, so the nllh is quadratic in the (transformed) observable
    and a posterior mode has a closed form. ``parameters`` are rows below :data:`PRIOR_HEADER` (9 columns). The
    model (:data:`TWO_STATE`) is simulated but not read.
    """
    rows = "".join(f"y\t\tc0\t{t + 1}\t{float(m)!r}\t\t\n" for t, m in enumerate(data))
    return write_problem(
        directory, TWO_STATE,
        conditions="conditionId\tconditionName\nc0\tonly\n",
        observables="observableId\tobservableFormula\tobservableTransformation\tnoiseFormula\n"
                    f"y\t{formula}\t{transformation}\t{sigma}\n",
        parameters=parameters, measurements=MEASUREMENT_HEADER + rows, parameter_header=PRIOR_HEADER,
    )
