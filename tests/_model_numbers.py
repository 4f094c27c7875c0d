"""The bundled models' numbers, recorded once and compared bit for bit (tests/test_model_numbers.py).

Why: units, SBO terms, MIRIAM annotations, comments and observables added to ``models/*.ant`` must not move a
single number a user gets. This module computes a fixed set of results (steady states, pre-equilibrated time
courses, fast- and full-mode readouts of Model A; 33-day courses of Model B) in a fixed order in a fresh
process, so that roadrunner's solver state (KINSOL starts from the previous solution, which shows in the last
digits) is the same every time.

Record (only after a deliberate change of a model's numbers, and say why in the commit)::

    .venv/bin/python -m tests._model_numbers --record

Compute into a file (what the test does, in a subprocess)::

    .venv/bin/python -m tests._model_numbers --out numbers.npz
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "data" / "model_numbers.npz"

#: Model A ids read everywhere (the species, the observables and the readout layer's rates as of main 4194f44;
#: ids added later are not read, so adding an observable does not change this set)
A_IDS = ("LAMA4", "ITG", "ITG_L", "FAK", "FAKp", "SRC", "SRCp", "SOS", "SOSp", "RasGDP", "RasGTP", "RAF", "RAFa",
         "RAFi", "MEK", "MEKp", "MEKpp", "ERK", "ERKp", "ERKpp", "DUSP", "AKT", "AKTp", "pERK", "pMEK", "pFAK", "pSRC",
         "pAKT", "LAMA4_level", "ITGB1_level", "g", "d")
A_LINES = ("S462", "S462_R1", "S462_R2", "S462_R3", "ST8814", "S462TY")
A_DOSES = ({}, {"trametinib": 3.0}, {"trametinib": 10.0}, {"selumetinib": 100.0}, {"tak733": 30.0},
           {"src_inhibitor_1": 1000.0}, {"gsk2256098": 1000.0}, {"obtustatin": 20.0},
           {"trametinib": 1.0, "src_inhibitor_1": 1000.0})
A_COURSES = (("S462", {"trametinib": 3.0}), ("S462_R1", {"trametinib": 10.0}), ("S462", {"selumetinib": 100.0}))
A_TIMES = np.linspace(0.0, 240.0, 25)  # min
A_READOUT_CONDITIONS = (("S462", {}), ("S462", {"trametinib": 10.0}), ("S462_R1", {"trametinib": 10.0}),
                        ("S462_R1", {"trametinib": 10.0, "src_inhibitor_1": 1000.0}))
A_READOUTS = ("perk_suppression", "viability", "apoptosis", "g0g1", "cleaved_parp")
B_IDS = ("ERK", "RTK", "ERK5a", "AKT", "IFN", "EMT", "P", "Q", "S", "R", "N", "senescent_fraction",
         "escaped_fraction", "STAT1", "E2F", "apoptosis")
B_COURSES = (("MELJUSO", {"trametinib": 10.0, "palbociclib": 500.0}),
             ("SKMEL30", {"trametinib": 10.0, "palbociclib": 500.0}), ("IPC298", {"trametinib": 10.0}))
B_TIMES = np.linspace(0.0, 792.0, 34)  # h: daily for 33 days


def platform_key() -> str:
    """This machine's CPU and the roadrunner build: bit identity is promised on the same key only."""
    import roadrunner

    from simulator.engine import host_fingerprint

    return hashlib.sha256(f"{host_fingerprint()}|{roadrunner.__version__}".encode()).hexdigest()


def compute() -> dict[str, np.ndarray]:
    """Every recorded result, by name (one fresh process per call: see the module docstring)."""
    import simulator as ms

    out: dict[str, np.ndarray] = {}
    a = ms.load_model("mpnst")
    conds = [ms.make_condition(a, line, doses) for line in A_LINES for doses in A_DOSES]
    states = ms.steady_states(a, conds, select=list(A_IDS))
    assert all(s.ok for s in states), [s.message for s in states if not s.ok]
    out["A_steady_states"] = np.array([s.values for s in states])
    for k, (line, doses) in enumerate(A_COURSES):
        traj = ms.time_course(a, A_TIMES, ms.make_condition(a, line, doses), select=list(A_IDS))
        out[f"A_course_{k}"] = np.asarray(traj.values)
    conds = [ms.make_condition(a, line, doses) for line, doses in A_READOUT_CONDITIONS]
    for mode in ("fast", "full"):
        records = ms.compute_readouts(a, conds, mode=mode, readouts=list(A_READOUTS))
        out[f"A_readouts_{mode}"] = np.array([[r[k] for k in A_READOUTS] for r in records])
    b = ms.load_model("melanoma")
    for k, (line, doses) in enumerate(B_COURSES):
        traj = ms.time_course(b, B_TIMES, ms.make_condition(b, line, doses), select=list(B_IDS))
        out[f"B_course_{k}"] = np.asarray(traj.values)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", action="store_true", help=f"write {RECORDED.relative_to(ROOT)}")
    group.add_argument("--out", type=Path, help="write the numbers to this .npz file")
    args = parser.parse_args(argv)
    path = RECORDED if args.record else args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, platform_key=np.array(platform_key()), **compute())
    print(path)


if __name__ == "__main__":
    main()
