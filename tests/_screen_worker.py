"""Chunk worker for tests/test_executor.py: Model A steady states over a dose grid.

A module (not the test file) so process-pool and Dask workers can import the function by name. The
killed-run test also runs :func:`run_job` in a subprocess: ``python -c "import _screen_worker as w; ..."``
with this folder on ``sys.path``.
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np
import pandas as pd

import simulator as ms
from simulator.parallel import make_executor, run_chunks

LINES = ("S462", "S462_R1")
DOSES = tuple(float(d) for d in np.geomspace(0.1, 1000.0, 12))  # trametinib, nM


@functools.cache
def _catalogs():
    return ms.load_drugs(), ms.load_cell_lines()


def make_chunks(per_chunk: int = 3, sleep: float = 0.0, drug: str = "trametinib", lines=LINES, doses=DOSES):
    """(chunk_id, payload) pairs: one chunk per cell line and run of ``per_chunk`` doses."""
    model = ms.load_model("mpnst")
    chunks = []
    for line in lines:
        for k in range(0, len(doses), per_chunk):
            cid = f"{line}-{k // per_chunk}"
            payload = {"chunk_id": cid, "model": model, "line": line, "drug": drug, "doses": doses[k:k + per_chunk],
                       "sleep": sleep}
            chunks.append((cid, payload))
    return chunks


def steady_state_chunk(payload) -> pd.DataFrame:
    """One row per condition: chunk id, cell line, dose, status, the observables at steady state, worker pid."""
    model = payload["model"]
    drugs, lines = _catalogs()
    conditions = [ms.make_condition(model, payload["line"], {payload["drug"]: d}, catalog=drugs, lines=lines)
                  for d in payload["doses"]]
    records = ms.steady_states(model, conditions)
    if payload["sleep"]:
        time.sleep(payload["sleep"])
    rows = [{"chunk_id": payload["chunk_id"], "cell_line": payload["line"], "drug": payload["drug"], "dose_nM": dose,
             "status": rec.status, **rec.as_dict(), "pid": os.getpid()}
            for dose, rec in zip(payload["doses"], records, strict=True)]
    return pd.DataFrame(rows)


def run_job(out_dir, workers: int = 1, sleep: float = 0.0, resume: bool = False, per_chunk: int = 3):
    """The whole job, as the killed-run test's subprocess runs it."""
    chunks = make_chunks(per_chunk=per_chunk, sleep=sleep)
    with make_executor(workers) as executor:
        return run_chunks(steady_state_chunk, chunks, executor=executor, out_dir=out_dir, resume=resume,
                          progress=False, total_rows=len(LINES) * len(DOSES))
