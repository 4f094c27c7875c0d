"""Write the representative SKMEL30 senescence/regrowth time course as a PEtab v1 problem (data/).

REPRESENTATIVE, NOT DIGITIZED. The source (Gureghian et al. 2023, abstract and the authors' post) publishes no
time-course numbers: only that all three lines enter senescence and that SKMEL30 regrows within 33 days of
CDK4/6i + MEKi. The values below are shaped after those directions and biology.md section 5's timing (B1: a
senescent majority within 7-10 days; B3: regrowth by day 33 with the senescent fraction falling after its peak),
in a well seeded at low density and never re-plated (cells held near the seeding number, then clonal regrowth to
about 9x). They were written down by hand, with round numbers and a stated error, before any fit, and they are
there to show the fitting pipeline on Model B, not to calibrate it. (Issue 20 reshaped them: the first series
followed the design prototype's timing, a 75 % senescent majority by day 6, which B1 rules out.)

Run from the repository root: .venv/bin/python experiments/melanoma_fit/make_problem.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import petab.v1 as petab

HERE = Path(__file__).parent
DATA = HERE / "data"
NOTE = "representative, not digitized (shaped after biology.md section 5 directions and timing; see make_problem.py)"

#: day -> (senescent fraction, SEM) and (cells relative to drug addition, SEM): SKMEL30, 10 nM trametinib + 500 nM
#: palbociclib from day 0
SENESCENT = {0: (0.0, 0.03), 3: (0.12, 0.04), 6: (0.35, 0.05), 9: (0.5, 0.06), 14: (0.62, 0.06),
             21: (0.45, 0.06), 28: (0.2, 0.05), 33: (0.1, 0.04)}
CELLS = {0: (1.0, 0.1), 3: (0.95, 0.1), 6: (0.95, 0.1), 9: (0.95, 0.1), 14: (1.1, 0.15), 21: (2.0, 0.3),
         28: (5.0, 0.7), 33: (9.0, 1.3)}
#: SKMEL30 overrides (models/cell_lines.toml)
LINE = {"cIFN": 1.0, "wA": 0.3}


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    # the population is switched off while pre-equilibrating (a growing population has no steady state) and on
    # from drug addition: PEtab's own way to say what Model B's [pre_equilibration] metadata says
    conditions = pd.DataFrame([
        {"conditionId": "SKMEL30_untreated", "conditionName": "SKMEL30 before drug (population held)",
         "trametinib": 0.0, "palbociclib": 0.0, "population_on": 0.0, **LINE},
        {"conditionId": "SKMEL30_combo", "conditionName": "SKMEL30, trametinib 10 nM + palbociclib 500 nM",
         "trametinib": 10.0, "palbociclib": 500.0, "population_on": 1.0, **LINE},
    ]).set_index("conditionId")
    observables = pd.DataFrame([
        {"observableId": "obs_senescent", "observableName": "senescent fraction S/N",
         "observableFormula": "senescent_fraction", "noiseFormula": "noiseParameter1_obs_senescent",
         "noiseDistribution": "normal", "observableTransformation": "lin"},
        {"observableId": "obs_cells", "observableName": "cells relative to drug addition",
         "observableFormula": "N", "noiseFormula": "noiseParameter1_obs_cells", "noiseDistribution": "normal",
         "observableTransformation": "lin"},
    ]).set_index("observableId")
    rows = []
    for obs, table in (("obs_senescent", SENESCENT), ("obs_cells", CELLS)):
        for day, (mean, sem) in table.items():
            rows.append({"observableId": obs, "preequilibrationConditionId": "SKMEL30_untreated",
                         "simulationConditionId": "SKMEL30_combo", "time": 24.0 * day, "measurement": mean,
                         "noiseParameters": sem, "datasetId": "representative_SKMEL30"})
    measurements = pd.DataFrame(rows)
    # the escape timing is set by kesc and kEMT (biology.md section 5): the two estimated parameters
    parameters = pd.DataFrame([
        {"parameterId": "kesc", "parameterName": "escape rate from senescence (h^-1)", "parameterScale": "log10",
         "lowerBound": 0.0001, "upperBound": 0.01, "nominalValue": 0.001, "estimate": 1},
        {"parameterId": "kEMT", "parameterName": "EMT gain (h^-1)", "parameterScale": "log10",
         "lowerBound": 0.0003, "upperBound": 0.03, "nominalValue": 0.003, "estimate": 1},
    ]).set_index("parameterId")
    petab.write_condition_df(conditions, DATA / "conditions.tsv")
    petab.write_observable_df(observables, DATA / "observables.tsv")
    petab.write_measurement_df(measurements, DATA / "measurements.tsv")
    petab.write_parameter_df(parameters, DATA / "parameters.tsv")
    problem = {
        "format_version": 1, "parameter_file": "parameters.tsv",
        "problems": [{"sbml_files": ["../../../models/melanoma.xml"], "condition_files": ["conditions.tsv"],
                      "measurement_files": ["measurements.tsv"], "observable_files": ["observables.tsv"]}],
    }
    import yaml

    (DATA / "problem.yaml").write_text(f"# {NOTE}\n" + yaml.safe_dump(problem, sort_keys=False), encoding="utf-8")
    (DATA / "README.md").write_text(
        "# SKMEL30 senescence and regrowth under trametinib + palbociclib: PEtab problem\n\n"
        f"**{NOTE}.** Generated by `../make_problem.py`, which holds the numbers and why they look as they do.\n",
        encoding="utf-8")


if __name__ == "__main__":
    main()
