"""Executors and chunked, resumable runs (simulator/executor.py) on a real workload: Model A steady states.

The chunk worker lives in tests/_screen_worker.py so process-pool and Dask workers can import it.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import _screen_worker as w
import pandas as pd
import pandas.testing as pdt
import pytest
from _processes import children, running

from simulator.errors import InputError
from simulator.parallel import (
    ChunkRun,
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    WorkerLost,
    default_workers,
    make_executor,
    read_parts,
    run_chunks,
)

TESTS = Path(__file__).resolve().parent
N_ROWS = len(w.LINES) * len(w.DOSES)


def _run(executor, out, chunks=None, **kwargs) -> ChunkRun:
    chunks = w.make_chunks() if chunks is None else chunks
    return run_chunks(w.steady_state_chunk, chunks, executor=executor, out_dir=out, progress=False, **kwargs)


def _table(out) -> pd.DataFrame:
    return read_parts(out).drop(columns="pid")


@pytest.fixture(scope="module")
def pool():
    """One 2-worker process pool for the module: start-up (~1 s + a model compile per worker) is paid once."""
    with ProcessExecutor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    """The job run serially in this process."""
    out = tmp_path_factory.mktemp("serial")
    with SerialExecutor() as executor:
        run = _run(executor, out)
    assert run.complete and run.chunks_done == 8 and run.rows_written == N_ROWS and not run.failures
    frame = read_parts(out)
    assert set(frame["pid"]) == {os.getpid()}
    assert (frame["status"] == "ok").all()
    assert frame["pERK"].is_monotonic_decreasing is False  # two cell lines, each decreasing with dose
    for _, group in frame.groupby("cell_line"):
        assert group["pERK"].is_monotonic_decreasing
    return frame.drop(columns="pid")


# ------------------------------------------------------------------------- same table on every backend


def test_process_pool_gives_the_serial_table(pool, reference, tmp_path):
    run = _run(pool, tmp_path)
    assert (run.chunks_done, run.chunks_skipped, run.chunks_failed, run.rows_written) == (8, 0, 0, N_ROWS)
    frame = read_parts(tmp_path)
    assert os.getpid() not in set(frame["pid"])  # computed in the worker processes
    pdt.assert_frame_equal(frame.drop(columns="pid"), reference)


@pytest.fixture(scope="module")
def shared():
    """``--workers 2`` as make_executor builds it: this process plus one pool process."""
    with make_executor(2) as executor:
        yield executor


def test_main_process_and_pool_give_the_serial_table(shared, reference, tmp_path):
    assert isinstance(shared, ProcessExecutor) and shared.use_main_process
    assert (shared.workers, shared.pool_processes) == (2, 1)
    run = _run(shared, tmp_path)
    assert (run.chunks_done, run.chunks_skipped, run.chunks_failed, run.rows_written) == (8, 0, 0, N_ROWS)
    pdt.assert_frame_equal(_table(tmp_path), reference)


def _pid_slowly(_) -> int:
    time.sleep(0.02)
    return os.getpid()


def _both_at_work(executor) -> bool:
    """Whether the pool process takes tasks within 2 minutes (it gets none before it has started)."""
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if len(set(executor.map(_pid_slowly, range(8)))) == 2:
            return True
    return False


def test_main_process_takes_tasks_beside_one_pool_process(shared):
    assert _both_at_work(shared)
    pids = shared.map(_pid_slowly, range(60))
    counts = {pid: pids.count(pid) for pid in set(pids)}
    assert len(counts) == 2 and os.getpid() in counts  # this process and exactly one other
    assert min(counts.values()) >= 10  # both kept busy (each ~30 if evenly shared)


def test_main_process_mode_keeps_in_flight_bounded_and_stops_early(shared):
    pulled = []

    def items():
        for k in range(200):
            pulled.append(k)
            yield k

    results = shared.map_unordered(_pid_slowly, items())
    next(results)
    time.sleep(0.5)  # the caller is busy: the pool may finish what it holds, but takes no more
    assert len(pulled) <= 1 + shared.max_in_flight
    results.close()  # stops the feeder thread; the pool stays usable
    assert shared.map(abs, [-1, -2]) == [1, 2]
    assert shared.map(abs, iter(range(-30, 0))) == list(range(30, 0, -1))  # lazy items, in order


def test_a_short_job_is_done_here_without_waiting_for_the_pool_to_start():
    with ProcessExecutor(2, use_main_process=True) as executor:
        assert executor.map(_pid, range(3)) == [os.getpid()] * 3  # the pool process is still starting


def _die_in_a_worker(item: tuple[int, str]) -> int:
    """In the pool process: leave a mark and die. Here: wait for the mark (at most a minute), then return."""
    main_pid, mark = item
    if os.getpid() != main_pid:
        Path(mark).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    deadline = time.perf_counter() + 60
    while not Path(mark).exists() and time.perf_counter() < deadline:
        time.sleep(0.01)
    return main_pid


def test_dead_pool_process_is_worker_lost_with_the_main_process_working(tmp_path):
    with ProcessExecutor(2, use_main_process=True) as executor:
        with pytest.raises(WorkerLost, match="a worker process died"):
            executor.map(_die_in_a_worker, [(os.getpid(), str(tmp_path / "mark"))] * 4)
        assert executor.map(abs, [-1, -2]) == [1, 2]  # usable at once, while a new pool starts
        assert _both_at_work(executor)  # and the new pool process takes tasks
    assert ProcessExecutor(1, use_main_process=True).map(_pid, [0, 1]) == [os.getpid()] * 2  # no pool at all


def test_dask_cluster_gives_the_serial_table(reference, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        with make_executor(workers=1, scheduler=cluster.scheduler_address) as executor:  # the scheduler wins
            assert isinstance(executor, DaskExecutor) and executor.workers == 2
            run = _run(executor, tmp_path)
            worker_pids = set(executor.map(_pid, range(4)))
    assert (run.chunks_done, run.chunks_failed, run.rows_written) == (8, 0, N_ROWS)
    frame = read_parts(tmp_path)
    assert set(frame["pid"]) <= worker_pids and os.getpid() not in worker_pids
    pdt.assert_frame_equal(frame.drop(columns="pid"), reference)


def _pid(_) -> int:
    return os.getpid()


def test_make_executor_choices():
    assert isinstance(make_executor(1), SerialExecutor)
    with make_executor(2) as executor:
        assert isinstance(executor, ProcessExecutor) and executor.workers == 2 and executor.pool_processes == 1
        assert isinstance(executor, Executor)
    assert make_executor().workers == default_workers() >= 1
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="--workers"):
            make_executor(bad)
    with pytest.raises(InputError, match="fork"):
        ProcessExecutor(2, start_method="fork")


def test_unreachable_scheduler_is_an_input_error():
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="could not connect to the Dask scheduler at 'tcp://127.0.0.1:9'"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)
    assert time.perf_counter() - t0 < 10
    # a malformed address is refused at once (a half-built Client used to block 20 s at garbage collection)
    for bad, fragment in (("nonsense", "missing port"), ("tcp://host", "missing port"), ("tcp://h:abc", "invalid")):
        t0 = time.perf_counter()
        with pytest.raises(InputError, match=rf"scheduler address '{bad}' is not valid \({fragment}"):
            DaskExecutor(bad, timeout=1)
        assert time.perf_counter() - t0 < 1


def test_process_pool_refuses_what_workers_cannot_import(pool):
    with pytest.raises(InputError, match="top level of an importable module"):
        pool.map(lambda x: x, [1])
    assert pool.map(_pid, range(2))  # the pool is still usable


def _die(_):
    os.kill(os.getpid(), signal.SIGKILL)


def test_dead_worker_is_worker_lost_and_the_executor_recovers():
    with ProcessExecutor(1) as executor:
        with pytest.raises(WorkerLost, match="a worker process died"):
            executor.map(_die, [0, 1])
        assert executor.map(_pid, [0])[0] != os.getpid()  # a new pool


class _PoolBrokenOnSecondSubmit:
    """A pool whose worker died before any future reported it: the second ``submit`` raises."""

    def __init__(self, pool) -> None:
        self.pool, self.calls = pool, 0

    def submit(self, fn, *args):
        self.calls += 1
        if self.calls == 2:
            raise BrokenProcessPool("A child process terminated abruptly")
        return self.pool.submit(fn, *args)

    def __getattr__(self, name):
        return getattr(self.pool, name)


def test_a_pool_broken_at_submit_is_worker_lost_naming_the_running_tasks(monkeypatch):
    """Under load a dead worker can surface in ``submit`` before any future fails: the same WorkerLost (with the
    tasks in flight), not a raw BrokenProcessPool traceback; the executor recovers with a new pool."""
    with ProcessExecutor(1) as executor:
        real = executor._get_pool()
        broken = _PoolBrokenOnSecondSubmit(real)
        monkeypatch.setattr(executor, "_get_pool", lambda: broken)
        with pytest.raises(WorkerLost, match="a worker process died") as caught:
            executor.map(_pid, [0, 1, 2])
        assert caught.value.indices == (0, 1)
        monkeypatch.undo()
        assert executor.map(_pid, [0])[0] != os.getpid()  # a new pool


def _ignores_ctrl_c(_) -> bool:
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_pool_processes_leave_ctrl_c_to_the_main_process(pool):
    """The main process turns Ctrl-C into a message (cli.py) and terminates the pool; workers stay quiet."""
    assert pool.map(_ignores_ctrl_c, range(4)) == [True] * 4
    assert not _ignores_ctrl_c(0)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes in /proc (Linux)")
def test_pool_processes_exit_when_their_parent_is_killed():
    code = ("import time; from simulator.parallel import ProcessExecutor\n"
            "pool = ProcessExecutor(2).__enter__(); pool.map(abs, range(8)); print('ready', flush=True)\n"
            "time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        workers = children(proc.pid)  # the pool processes and multiprocessing's resource tracker
        assert len(workers) >= 2
    finally:
        proc.kill()  # the parent alone, as the out-of-memory killer would
        proc.wait(timeout=30)
        proc.stdout.close()
    deadline = time.monotonic() + 30
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "pool processes outlived their killed parent"


def test_executors_map_in_order_and_return_exceptions(pool, shared):
    for executor in (SerialExecutor(), pool, shared):
        assert executor.map(abs, [-3, 2, -1]) == [3, 2, 1]
        with pytest.raises(TypeError):
            executor.map(abs, [1, "x"])
        pairs = dict(executor.map_unordered(abs, [-1, "x", -2], return_exceptions=True))
        assert pairs[0] == 1 and pairs[2] == 2 and isinstance(pairs[1], TypeError)


# ---------------------------------------------------------------------------------- resume after a kill


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path):
    """SIGKILL the run (parent and workers) mid-way, resume in-process, compare with an uninterrupted run."""
    per_chunk, n_chunks = 1, N_ROWS
    w.run_job(tmp_path / "whole", per_chunk=per_chunk)
    expected = _table(tmp_path / "whole")

    out = tmp_path / "killed"
    parts = out / "parts"
    code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); import _screen_worker as w; "
            f"w.run_job({str(out)!r}, workers=2, sleep=0.2, per_chunk={per_chunk})")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(list(parts.glob("*.parquet"))) < 4:
            assert proc.poll() is None, f"the job ended before it was killed: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no part files after 60 s"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the job's session: the parent and its worker processes
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    survived = {p.stem for p in parts.glob("*.parquet")}
    assert 4 <= len(survived) < n_chunks
    half_written = parts / ".S462-7.parquet.999999.tmp"  # what a kill during a write leaves behind
    half_written.write_bytes(b"PAR1\x15\x04")

    with pytest.raises(InputError, match="--resume"):
        w.run_job(out, per_chunk=per_chunk)
    run = w.run_job(out, per_chunk=per_chunk, resume=True)
    assert (run.chunks_skipped, run.chunks_done, run.chunks_failed) == (len(survived), n_chunks - len(survived), 0)
    assert run.rows_written == N_ROWS - len(survived)
    assert not half_written.exists() and not list(parts.glob(".*"))
    resumed = _table(out)
    assert not resumed.duplicated(["cell_line", "dose_nM"]).any()
    pdt.assert_frame_equal(resumed, expected)

    again = w.run_job(out, per_chunk=per_chunk, resume=True)  # nothing left to do
    assert (again.chunks_skipped, again.chunks_done, again.rows_written) == (n_chunks, 0, 0)


# ------------------------------------------------------------------------------- failures and refusals


def test_failed_chunk_is_recorded_and_the_rest_complete(pool, reference, tmp_path):
    chunks = w.make_chunks()
    bad_id, good_payload = chunks[5]
    chunks[5] = (bad_id, {**good_payload, "drug": "aspirin"})  # make_condition raises InputError in the worker
    run = _run(pool, tmp_path, chunks)
    assert (run.chunks_done, run.chunks_failed, run.rows_written) == (7, 1, N_ROWS - 3)
    assert not run.complete and run.counts()["chunks_failed"] == 1
    failure = run.failures[0]
    assert failure.chunk_id == bad_id
    assert failure.message.startswith("InputError: model 'mpnst' does not accept drug 'aspirin'")
    assert "make_condition" in failure.traceback
    recorded = json.loads((tmp_path / "parts" / "_failed.json").read_text())
    assert [f["chunk_id"] for f in recorded["failed"]] == [bad_id]
    assert recorded["failed"][0]["message"] == failure.message
    pdt.assert_frame_equal(_table(tmp_path), reference[reference["chunk_id"] != bad_id].reset_index(drop=True))

    # nothing computed is overwritten without resume
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "parts").iterdir()}
    with pytest.raises(InputError, match=r"pass --resume \(resume=True\) to continue it, or choose another"):
        _run(pool, tmp_path)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "parts").iterdir()} == stamps

    # resuming retries the failed chunk only
    fixed = _run(pool, tmp_path, resume=True)
    assert (fixed.chunks_skipped, fixed.chunks_done, fixed.chunks_failed, fixed.rows_written) == (7, 1, 0, 3)
    assert fixed.complete and not (tmp_path / "parts" / "_failed.json").exists()
    pdt.assert_frame_equal(_table(tmp_path), reference)


def _frame(i):
    return pd.DataFrame({"i": [i, i], "x": [0.5, 1.5]})


def _not_a_frame(i):
    return [i]


def test_bad_results_and_chunk_ids(tmp_path):
    ex = SerialExecutor()
    run = run_chunks(_not_a_frame, [("a", 1)], executor=ex, out_dir=tmp_path / "a", progress=False)
    assert run.failures[0].message.startswith("TypeError: the chunk function returned list")
    unstorable = run_chunks(lambda i: pd.DataFrame({"x": [object()]}), [("a", 1)], executor=ex,
                            out_dir=tmp_path / "b", progress=False)
    assert "could not be written as Parquet" in unstorable.failures[0].message
    assert not list((tmp_path / "b" / "parts").glob(".*"))
    for bad in ([("a", 1), ("A", 2)], [("../x", 1)], [(".hidden", 1)], [("", 1)], [(1.5, 1)]):
        with pytest.raises(InputError, match="chunk id"):
            run_chunks(_frame, bad, executor=ex, out_dir=tmp_path / "c", progress=False)
    assert not (tmp_path / "c").exists()


def test_parts_read_in_natural_chunk_order_and_stray_parts_refused(tmp_path):
    ids = ["c10", "c2", "c1", 3]  # natural order: 3, c1, c2, c10
    run_chunks(_frame, [(cid, k) for k, cid in enumerate(ids)], executor=SerialExecutor(), out_dir=tmp_path,
               progress=False)
    assert read_parts(tmp_path)["i"].tolist() == [3, 3, 2, 2, 1, 1, 0, 0]
    assert read_parts(tmp_path, columns=["x"]).columns.tolist() == ["x"]
    with pytest.raises(InputError, match=r"not in this job \(c10\)"):
        run_chunks(_frame, [(cid, 0) for cid in ids[1:]], executor=SerialExecutor(), out_dir=tmp_path,
                   resume=True, progress=False)
    with pytest.raises(InputError, match="does not exist"):
        read_parts(tmp_path / "nowhere")


def test_resume_only_continues_the_same_job(tmp_path):
    """Chunk ids alone do not identify a job: parts computed under other settings are refused, never reused."""
    chunks = [(f"c{k}", k) for k in range(4)]
    job = {"model": {"sha256": "abc"}, "doses": [0.0, 1.0, float("nan")]}
    run_chunks(_frame, chunks[:2], executor=SerialExecutor(), out_dir=tmp_path / "a", progress=False, job=job)
    assert json.loads((tmp_path / "a" / "parts" / "_job.json").read_text())["model"] == {"sha256": "abc"}
    # the same description (NaN included) resumes
    same = run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "a", progress=False,
                      resume=True, job={"doses": [0.0, 1.0, float("nan")], "model": {"sha256": "abc"}})
    assert (same.chunks_skipped, same.chunks_done) == (2, 2)
    # another one is refused, naming what changed, and nothing is touched
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "a" / "parts").iterdir()}
    with pytest.raises(InputError, match=r"other settings \(doses\[1\]: was 1\.0, now 2\.0\)"):
        run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "a", progress=False, resume=True,
                   job={**job, "doses": [0.0, 2.0, float("nan")]})
    with pytest.raises(InputError, match=r"model\.sha256: was \"abc\", now \"abd\""):
        run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "a", progress=False, resume=True,
                   job={**job, "model": {"sha256": "abd"}})
    with pytest.raises(InputError, match=r"doses: was \[0\.0, 1\.0, NaN\], now \[0\.0, 1\.0\]"):  # other length
        run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "a", progress=False, resume=True,
                   job={**job, "doses": [0.0, 1.0]})
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "a" / "parts").iterdir()} == stamps
    # parts without a job file (an older mekisim) are not resumed under a job
    run_chunks(_frame, chunks[:1], executor=SerialExecutor(), out_dir=tmp_path / "b", progress=False)
    with pytest.raises(InputError, match="no _job.json"):
        run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "b", progress=False, resume=True,
                   job=job)
    # a job file with no parts beside it (killed before the first part) is replaced by the new job's
    (tmp_path / "c" / "parts").mkdir(parents=True)
    (tmp_path / "c" / "parts" / "_job.json").write_text('{"old": 1}')
    run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "c", progress=False, resume=True, job=job)
    assert "old" not in json.loads((tmp_path / "c" / "parts" / "_job.json").read_text())
    assert len(read_parts(tmp_path / "c")) == 8


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(tmp_path, monkeypatch, capsys):
    chunks = [(k, k) for k in range(5)]
    run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "a", total_rows=10)
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal: no bar in CI logs
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run_chunks(_frame, chunks[:2], executor=SerialExecutor(), out_dir=tmp_path / "b", total_rows=10, label="screen")
    run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "b", total_rows=10, resume=True)
    text = terminal.getvalue()
    assert "screen" in text and "4/10" in text and "10/10" in text and "row/s" in text
    terminal.truncate(0)
    run_chunks(_frame, chunks, executor=SerialExecutor(), out_dir=tmp_path / "c", progress=False)
    assert terminal.getvalue() == ""


def test_read_parts_joins_parts_of_differing_types_like_pandas(tmp_path):
    """Parts are joined as Arrow tables; where their schemas differ (an int column that is float in another part,
    a column that is all-null in one) the result is what ``pandas.concat`` of the frames gives."""
    parts = tmp_path / "parts"
    parts.mkdir()
    frames = {
        "a1": pd.DataFrame({"k": [1, 2], "x": [1, 2], "s": ["u", "v"]}),
        "a2": pd.DataFrame({"k": [3], "x": [0.5], "s": [None]}),
        "a3": pd.DataFrame({"k": pd.Series([], dtype="int64"), "x": pd.Series([], dtype="float64"),
                            "s": pd.Series([], dtype="str")}),
        "a10": pd.DataFrame({"k": [4], "x": [3.0], "s": ["w"]}),
    }
    for cid, frame in frames.items():
        frame.to_parquet(parts / f"{cid}.parquet", index=False)
    expected = pd.concat([pd.read_parquet(parts / f"{c}.parquet") for c in ("a1", "a2", "a10")], ignore_index=True)
    got = read_parts(tmp_path)
    pd.testing.assert_frame_equal(got, expected)
    assert got["k"].tolist() == [1, 2, 3, 4]  # chunk-id order is natural: a10 after a3
    # same types: the Arrow path (the parts of a run), still equal to pandas.concat
    other = tmp_path / "same"
    (other / "parts").mkdir(parents=True)
    same = {"b1": frames["a1"], "b2": pd.DataFrame({"k": [5], "x": [7], "s": ["z"]})}
    for cid, frame in same.items():
        frame.to_parquet(other / "parts" / f"{cid}.parquet", index=False)
    pd.testing.assert_frame_equal(read_parts(other), pd.concat(list(same.values()), ignore_index=True))


def _square(x: int) -> int:
    return x * x


def test_dask_scheduler_without_workers_warns_then_runs_when_one_connects(capsys):
    """A scheduler with no worker: a warning on stderr within the set delay (default < 30 s), then the map
    finishes once a worker joins (the warning does not end the run)."""
    import threading
    import time

    from distributed import LocalCluster

    from simulator.parallel._dask import NO_WORKER_WARNING_S

    assert NO_WORKER_WARNING_S <= 30
    with LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        with DaskExecutor(cluster.scheduler_address, no_worker_warning_s=1.0) as executor:
            results: list = []
            runner = threading.Thread(target=lambda: results.extend(executor.map(_square, range(3))))
            started = time.monotonic()
            runner.start()
            while "no workers" not in capsys.readouterr().err and time.monotonic() - started < 20:
                time.sleep(0.2)
            warned_after = time.monotonic() - started
            assert warned_after < 10 and not results  # warned, and nothing could run
            cluster.scale(1)
            runner.join(timeout=60)
    assert results == [0, 1, 4]


def test_progress_executor_counts_every_task_on_a_terminal(monkeypatch):
    """fit and profiles: a bar n/N over the tasks when stderr is a terminal, and the inner results unchanged."""
    import io

    from simulator.parallel import ProgressExecutor, SerialExecutor

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    wrapped = ProgressExecutor(SerialExecutor(), "fit starts")
    assert wrapped.map(_square, range(5)) == [0, 1, 4, 9, 16]
    assert "fit starts" in screen.getvalue() and "5/5" in screen.getvalue()
    quiet = Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    assert ProgressExecutor(SerialExecutor(), "x", enabled=False).map(_square, [3]) == [9] and not quiet.getvalue()
