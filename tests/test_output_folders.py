"""Output folders: owners, atomic writes (killed at every write), messages without tracebacks, provenance, report.

The kill tests run each verb in a child process that is SIGKILLed at its k-th file write, for every k
(tests/_kill_at_write.py), starting from a folder that holds a complete earlier result: replaced with other
settings by ``--force``, or continued with ``--resume`` (a re-ranking or re-analysis that rewrites only the
final tables). After every kill the folder must be one of: the old complete result (its manifest and every file
it lists unchanged), or an unfinished run that ``mekisim report`` refuses with a message naming the folder
(exit 1, no traceback) and that ``--resume`` (screen, sensitivity) or ``--force`` (dose-response, fit)
completes to exactly the tables of an uninterrupted run. At no point may a file under its final name be cut
short, and a manifest never stands beside tables of another run.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pandas as pd
import pytest
from _report_html import parse_tables

from simulator.cli import main
from simulator.errors import InputError
from simulator.parallel import ProcessExecutor, WorkerLost, run_chunks

HERE = Path(__file__).resolve().parent

SCREEN = ["screen", "--model", "mpnst", "--cell-lines", "S462", "--drug-b", "src_inhibitor_1:100,1000",
          "--readout", "perk_suppression", "--ratio", "1:100", "--workers", "1", "--no-progress"]
SCREEN_A = [*SCREEN, "--drug-a", "trametinib:1,10"]
SCREEN_B = [*SCREEN, "--drug-a", "trametinib:1,30"]
DOSE = ["dose-response", "--model", "mpnst", "--cell-line", "S462", "--drug", "trametinib"]
DOSE_A = [*DOSE, "--doses", "1,10,100"]
DOSE_B = [*DOSE, "--doses", "1,10,100,1000"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """``mekisim ARGV`` in this process: exit code, stdout, stderr."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code: int, err: str, *fragments: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


# ------------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def sensitivity_inputs(tmp_path_factory):
    """The Ishigami model (tests/test_sensitivity.py) as an Antimony file, and its ranges."""
    from test_sensitivity import ISHIGAMI

    folder = tmp_path_factory.mktemp("ishigami")
    (folder / "ishigami.ant").write_text(ISHIGAMI)
    (folder / "ranges.tsv").write_text("param\tlow\thigh\tdist\n" + "".join(
        f"x{i}\t-3.14159\t3.14159\tuniform\n" for i in (1, 2, 3)))
    return folder


def sensitivity_args(folder: Path, seed: int) -> list[str]:
    return ["sensitivity", "--model", folder / "ishigami.ant", "--method", "morris", "--n", "2",
            "--ranges", folder / "ranges.tsv", "--params", "x1,x2,x3", "--output", "Y", "--seed", str(seed),
            "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def petab_toy(tmp_path_factory):
    """The linear-Gaussian PEtab problem of tests/test_fit.py."""
    from test_fit import write_linear_toy

    folder = tmp_path_factory.mktemp("toy")
    return write_linear_toy(folder)[0]


def fit_args(problem: Path, seed: int) -> list[str]:
    return ["fit", "--petab", problem, "--starts", "2", "--seed", str(seed), "--workers", "1"]


def assert_whole(folder: Path) -> None:
    """Every file under its final name is complete: Parquet, CSV, JSON, PNG and SVG files all parse."""
    import pyarrow.parquet as pq
    from PIL import Image

    for path in folder.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        suffix = path.suffix
        if suffix == ".parquet":
            pq.read_table(path)
        elif suffix == ".csv":
            pd.read_csv(path)
        elif suffix == ".json":
            json.loads(path.read_text())
        elif suffix == ".png":
            with Image.open(path) as image:
                image.load()
        elif suffix == ".svg":
            ElementTree.parse(path)


class Zygote:
    """tests/_kill_at_write.py: forks a child per run, SIGKILLed at its k-th write."""

    def __init__(self, cwd: Path) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, str(HERE / "_kill_at_write.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=cwd, env=env)

    def run(self, argv: list, kill_at: int | None = None) -> dict:
        self.proc.stdin.write(json.dumps({"argv": [str(a) for a in argv], "kill_at": kill_at}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the kill helper died"
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    helper = Zygote(tmp_path_factory.mktemp("zygote"))
    yield helper
    helper.close()


KILL_CASES = {
    # case: (the old result's args, the new run's args, how a killed new run is completed, tables compared)
    "screen --force": (lambda _: SCREEN_A, lambda _: [*SCREEN_B, "--force"], "--resume",
                       ("wells", "synergy", "ranking")),
    # --resume of a complete screen with a new target re-ranks: only its final tables are rewritten, and the old
    # manifest must be gone before the first of them is replaced
    "screen --resume": (lambda _: SCREEN_A, lambda _: [*SCREEN_A, "--target-suppression", "0.9", "--resume"],
                        "--resume", ("wells", "synergy", "ranking")),
    "sensitivity --force": (lambda i: sensitivity_args(i, 1), lambda i: [*sensitivity_args(i, 2), "--force"],
                            "--resume", ("evaluations", "indices", "ranking")),
    "sensitivity --resume": (lambda i: sensitivity_args(i, 1),
                             lambda i: [*sensitivity_args(i, 1), "--resamples", "50", "--resume"], "--resume",
                             ("evaluations", "indices", "ranking")),
    "dose-response --force": (lambda _: DOSE_A, lambda _: [*DOSE_B, "--force"], "--force", ("dose_response", "fit")),
    "fit --force": (lambda p: fit_args(p, 0), lambda p: [*fit_args(p, 1), "--force"], "--force",
                    ("parameters", "fit_vs_data")),
}


@pytest.mark.parametrize("case", list(KILL_CASES))
def test_a_kill_at_every_write_leaves_the_old_result_or_a_refused_resumable_folder(
        case, zygote, sensitivity_inputs, petab_toy, tmp_path, capsys):
    old_args, new_args, complete, tables = KILL_CASES[case]
    inputs = {"sensitivity": sensitivity_inputs, "fit": petab_toy}.get(case.split()[0])
    base = tmp_path / "base"
    assert run([*old_args(inputs), "--out", base], capsys)[0] == 0
    old_manifest = json.loads((base / "manifest.json").read_text())
    new = new_args(inputs)

    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    done = zygote.run([*new, "--out", reference])
    assert not done["killed"] and done["code"] == 0 and done["writes"] > 5, done
    assert json.loads((reference / "manifest.json").read_text())["command"][-1] == str(reference)

    outcomes = []
    for k in range(1, done["writes"] + 1):
        work = tmp_path / f"kill{k:02d}"
        shutil.copytree(base, work)
        reply = zygote.run([*new, "--out", work], kill_at=k)
        assert reply["killed"], (k, reply)
        assert_whole(work)
        if (work / "manifest.json").is_file():  # then it is still the old complete result, untouched
            assert json.loads((work / "manifest.json").read_text()) == old_manifest, k
            for name in old_manifest["files"]:
                assert (work / name).read_bytes() == (base / name).read_bytes(), (k, name)
            outcomes.append("old")
            shutil.rmtree(work)
            continue
        code, _, err = run(["report", work], capsys)
        assert_refused(code, err, str(work))
        outcomes.append("refused")
        if complete == "--force" and k not in (1, done["writes"] // 2, done["writes"]):
            shutil.rmtree(work)  # a --force rerun starts from scratch: three points are enough to check it
            continue
        again = [a for a in new if a not in ("--force", "--resume")] + [complete, "--out", work]
        code, _, err = run(again, capsys)
        assert code == 0, (k, err)
        for table in tables:
            got, expected = (pd.read_parquet(folder / f"{table}.parquet") for folder in (work, reference))
            pd.testing.assert_frame_equal(got, expected, obj=f"{table} after a kill at write {k}")
        assert not list(work.rglob("*.tmp")), "temporary files of the killed run were left behind"
        shutil.rmtree(work)
    # a kill at the last write (the manifest's) leaves the folder unfinished, never claiming completeness
    assert outcomes[-1] == "refused"


# ------------------------------------------------------------------------------------ owners, --force


def test_owner_conflicts_are_refused_naming_the_folder_and_its_owner(tmp_path, capsys, sensitivity_inputs):
    screen, dose = tmp_path / "screen", tmp_path / "dose"
    assert run([*SCREEN_A, "--out", screen], capsys)[0] == 0
    assert run([*DOSE_A, "--out", dose], capsys)[0] == 0
    before = {p: p.read_bytes() for p in dose.iterdir() if p.is_file()}
    # screen --resume into a dose-response folder: refused, nothing written
    code, _, err = run([*SCREEN_A, "--resume", "--out", dose], capsys)
    assert_refused(code, err, f"'{dose}'", "holds a dose-response", "mekisim dose-response", "--force")
    assert {p: p.read_bytes() for p in dose.iterdir() if p.is_file()} == before
    # sensitivity into a screen folder
    code, _, err = run([*sensitivity_args(sensitivity_inputs, 1), "--resume", "--out", screen], capsys)
    assert_refused(code, err, f"'{screen}'", "holds a screen", "not a sensitivity analysis")
    # rerunning dose-response (same or other settings) needs --force, as screen does
    code, _, err = run([*DOSE_A, "--out", dose], capsys)
    assert_refused(code, err, f"'{dose}'", "already holds a complete dose-response", "with the same settings",
                   "--force")
    code, _, err = run([*DOSE_B, "--out", dose], capsys)
    assert_refused(code, err, "with other settings (dose_response.doses_nM")
    code, _, err = run([*SCREEN_A, "--out", screen], capsys)
    assert_refused(code, err, "already holds a complete screen", "--resume", "--force")
    # --resume and --force exclude each other (a usage error)
    assert main([*SCREEN_A, "--resume", "--force", "--out", str(screen)]) == 2


def test_force_replaces_only_the_files_the_old_owner_wrote(tmp_path, capsys):
    out = tmp_path / "out"
    assert run([*SCREEN_A, "--out", out], capsys)[0] == 0
    (out / "notes.txt").write_text("my notes")
    code, _, err = run([*DOSE_A, "--force", "--out", out], capsys)
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert "notes.txt" in names and (out / "notes.txt").read_text() == "my notes"
    assert not names & {"wells.parquet", "synergy.csv", "ranking.csv", "wells", "synergy"}
    manifest = json.loads((out / "manifest.json").read_text())
    owner = json.loads((out / ".mekisim-owner.json").read_text())
    assert manifest["verb"] == owner["verb"] == "dose-response" and "dose_response" in manifest
    assert owner["command"] == manifest["command"] == ["mekisim", *map(str, DOSE_A), "--force", "--out", str(out)]


def test_a_folder_of_an_earlier_mekisim_without_owner_record_is_recognised(tmp_path, capsys):
    out = tmp_path / "out"
    assert run([*DOSE_A, "--out", out], capsys)[0] == 0
    (out / ".mekisim-owner.json").unlink()
    code, _, err = run([*SCREEN_A, "--out", out], capsys)
    assert_refused(code, err, "holds a dose-response", "written by an earlier mekisim")


def test_a_refused_resume_leaves_the_complete_result_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    assert run([*SCREEN_A, "--out", out], capsys)[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = run([*SCREEN_B, "--resume", "--out", out], capsys)
    assert_refused(code, err, "other settings", "--force")
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_simulate_out_never_overwrites_another_runs_file_or_a_users_file(tmp_path, capsys):
    screen = tmp_path / "screen"
    assert run([*SCREEN_A, "--out", screen], capsys)[0] == 0
    simulate = ["simulate", "--model", "mpnst", "--steady-state"]
    code, _, err = run([*simulate, "--out", screen / "wells.csv"], capsys)
    assert_refused(code, err, str(screen / "wells.csv"), "is a file of a screen")
    data = tmp_path / "my_data.csv"
    data.write_text("a,b\n1,2\n")
    code, _, err = run([*simulate, "--out", data], capsys)
    assert_refused(code, err, str(data), "was not written by mekisim simulate", "--force")
    assert data.read_text() == "a,b\n1,2\n"
    assert run([*simulate, "--force", "--out", data], capsys)[0] == 0
    assert run([*simulate, "--out", data], capsys)[0] == 0  # its own output: replaced
    manifest = json.loads((tmp_path / "my_data.manifest.json").read_text())
    assert manifest["command"] == ["mekisim", *simulate, "--out", str(data)]


# ------------------------------------------------------------------------------ bad inputs, no traceback


def _screen_folder(tmp_path: Path, capsys) -> Path:
    out = tmp_path / "screen"
    assert run([*SCREEN_A, "--out", out], capsys)[0] == 0
    return out


def _corrupt_manifest(out: Path) -> tuple[list, Path, str]:
    (out / "manifest.json").write_text('{"created": "2026-01-01", ')
    return ["report", out], out / "manifest.json", "is not valid JSON"


def _truncated_table(out: Path) -> tuple[list, Path, str]:
    path = out / "wells.parquet"
    path.write_bytes(path.read_bytes()[:4])
    return ["report", out], path, "is not a readable Parquet file"


def _truncated_csv(out: Path) -> tuple[list, Path, str]:
    path = out / "ranking.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    return ["report", out], path, "is not a readable CSV file"


def _missing_table(out: Path) -> tuple[list, Path, str]:
    (out / "synergy.csv").unlink()
    return ["report", out], out / "manifest.json", "synergy.csv"


def _unfinished(out: Path) -> tuple[list, Path, str]:
    (out / "manifest.json").unlink()
    return ["report", out], out, "--resume"


def _damaged_part(out: Path) -> tuple[list, Path, str]:
    part = next((out / "wells" / "parts").glob("*.parquet"))
    part.write_bytes(b"PAR1")
    return [*SCREEN_A, "--resume", "--out", out], part, "Delete it and rerun the same command with --resume"


def _corrupt_owner(out: Path) -> tuple[list, Path, str]:
    (out / ".mekisim-owner.json").write_text("{not json")
    return [*SCREEN_A, "--resume", "--out", out], out / ".mekisim-owner.json", "--force"


def _out_is_a_file(out: Path) -> tuple[list, Path, str]:
    target = out / "wells.csv"
    return [*DOSE_A, "--out", target], target, "is a file; give a folder"


def _out_below_a_file(out: Path) -> tuple[list, Path, str]:
    return [*DOSE_A, "--out", out / "wells.csv" / "sub"], out / "wells.csv", "is a file, not a folder"


def _file_where_parts_go(out: Path) -> tuple[list, Path, str]:
    fresh = out.parent / "exs"
    (fresh / "wells").mkdir(parents=True)
    (fresh / "wells" / "parts").write_text("")
    return [*SCREEN_A, "--out", fresh], fresh / "wells" / "parts", "a file of that name exists"


def _resume_other_verb(out: Path) -> tuple[list, Path, str]:
    return [*DOSE_A, "--out", out], out, "holds a screen"


BAD_CASES = {"corrupt manifest": _corrupt_manifest, "truncated parquet": _truncated_table,
             "garbage csv": _truncated_csv, "file listed but missing": _missing_table,
             "unfinished run": _unfinished, "damaged part on --resume": _damaged_part,
             "corrupt owner record": _corrupt_owner, "--out is a file": _out_is_a_file,
             "--out below a file": _out_below_a_file, "file where parts/ goes": _file_where_parts_go,
             "owner conflict": _resume_other_verb}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_output_folders_are_a_message_naming_the_path(case, tmp_path, capsys):
    out = _screen_folder(tmp_path, capsys)
    argv, path, fragment = BAD_CASES[case](out)
    code, _, err = run(argv, capsys)
    assert_refused(code, err, str(path), fragment)


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs a folder no user may write to (Linux /sys)")
def test_unwritable_out_is_permission_denied_naming_the_path(capsys):
    target = Path("/sys/mekisim-test-output")
    code, _, err = run([*DOSE_A, "--out", target], capsys)
    assert_refused(code, err, f"permission denied for '{target}'", "another --out")


def test_a_full_disk_is_a_sentence_with_the_path_and_the_resume_hint(tmp_path, capsys, monkeypatch):
    from simulator.files import _atomic

    original = _atomic.commit

    def full(tmp, path):
        if Path(path).name == "wells.parquet":
            raise OSError("[errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device")
        original(tmp, path)

    monkeypatch.setattr(_atomic, "commit", full)
    out = tmp_path / "out"
    code, _, err = run([*SCREEN_A, "--out", out], capsys)
    assert_refused(code, err, f"no space left on the disk holding '{out / 'wells.parquet'}'",
                   f"The finished chunks are kept in {out}", "--resume")
    assert "errno" not in err.lower() and not (out / "manifest.json").exists()
    monkeypatch.undo()
    assert run([*SCREEN_A, "--resume", "--out", out], capsys)[0] == 0


@pytest.mark.parametrize(("number", "fragment"), [
    (errno.ENOTDIR, "is a file, not a folder"), (errno.EEXIST, "a file of that name exists"),
    (errno.EACCES, "permission denied"), (errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"),
    (errno.EDQUOT, "quota exceeded"), (errno.EIO, "input/output error")])
def test_os_errors_are_sentences_without_errno_jargon(number, fragment, tmp_path):
    from simulator.errors import describe_os_error

    (tmp_path / "exs" / "wells").mkdir(parents=True)
    (tmp_path / "exs" / "wells" / "parts").write_text("")
    path = tmp_path / "exs" / "wells" / "parts" / "x.parquet"
    text = describe_os_error(OSError(number, os.strerror(number), str(path)))
    assert fragment in text and "Errno" not in text and str(tmp_path) in text


def _kill_the_worker(item: int) -> pd.DataFrame:
    if item == 1:
        os.kill(os.getpid(), 9)
    return pd.DataFrame({"item": [item]})


def test_a_dead_worker_names_the_stage_and_chunk_and_gives_the_resume_hint(tmp_path):
    with ProcessExecutor(1) as executor, pytest.raises(WorkerLost) as caught:
        run_chunks(_kill_the_worker, [("c0", 0), ("c1", 1), ("c2", 2)], executor=executor, out_dir=tmp_path,
                   progress=False, label="wells")
    text = str(caught.value)
    assert "during the wells stage" in text and "c1" in text and "--resume" in text
    assert str(tmp_path / "parts") in text and "partial" not in text and "<function" not in text


# --------------------------------------------------------------------------------------------- provenance


def test_every_verb_records_the_command_the_same_way_and_its_timings(tmp_path, capsys, sensitivity_inputs,
                                                                     petab_toy):
    ensemble = tmp_path / "ensemble.csv"
    ensemble.write_text("kE\n3.9\n4.1\n")
    runs = {
        "screen": [*SCREEN_A, "--ensemble", ensemble],
        "dose-response": DOSE_A,
        "sensitivity": sensitivity_args(sensitivity_inputs, 1),
        "fit": fit_args(petab_toy, 0),
    }
    for verb, argv in runs.items():
        out = tmp_path / verb
        code, _, err = run([*argv, "--out", out], capsys)
        assert code == 0, err
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["command"] == ["mekisim", *map(str, argv), "--out", str(out)], verb
        assert manifest["verb"] == verb and manifest["timings_s"] and all(
            v >= 0 for v in manifest["timings_s"].values()), verb
    info = json.loads((tmp_path / "screen" / "manifest.json").read_text())["screen"]["ensemble"]
    import hashlib

    assert info["file"] == str(ensemble) and info["members"] == 2
    assert info["file_sha256"] == hashlib.sha256(ensemble.read_bytes()).hexdigest()
    dose = json.loads((tmp_path / "dose-response" / "manifest.json").read_text())["timings_s"]
    assert {"simulation_and_fit", "write", "total"} <= set(dose)
    # the same values in another file: the same screen (values hash), another file hash
    other = tmp_path / "ensemble.tsv"
    other.write_text("member\tkE\n0\t3.9\n1\t4.1\n")
    assert run([*SCREEN_A, "--ensemble", other, "--out", tmp_path / "other"], capsys)[0] == 0
    second = json.loads((tmp_path / "other" / "manifest.json").read_text())["screen"]["ensemble"]
    assert second["values_sha256"] == info["values_sha256"] and second["file_sha256"] != info["file_sha256"]


# ------------------------------------------------------------------------------------------------ report


def test_report_of_a_two_line_screen_shows_both_lines_rankings(tmp_path, capsys):
    out = tmp_path / "screen"
    argv = ["screen", "--model", "mpnst", "--cell-lines", "S462,S462_R1", "--drug-a", "trametinib:1:100:4",
            "--drug-b", "src_inhibitor_1:100:10000:4", "--readout", "perk_suppression", "--workers", "1",
            "--no-progress", "--out", out]
    assert run(argv, capsys)[0] == 0
    assert run(["report", out, "--workers", "1"], capsys)[0] == 0
    tables = parse_tables((out / "report.html").read_text())
    ranking = pd.read_csv(out / "ranking.csv")
    assert set(ranking["cell_line"]) == {"S462", "S462_R1"}
    for line, expected in ranking.groupby("cell_line"):
        shown = [t for t in tables if t.get("h3", "").startswith("Combinations reaching") and t.get("h4") == line]
        assert len(shown) == 1, line
        rows = shown[0]["rows"][1:]
        assert [r[0] for r in rows] == [line] * min(len(expected), 25)
        assert [float(r[1]) for r in rows] == pytest.approx(expected["dose_a_nM"].head(25).tolist(), rel=1e-3)
        if len(expected) > 25:
            assert shown[0]["note"].startswith(f"showing 25 of {len(expected)} rows for {line}")
            assert shown[0]["href"] == "ranking.csv"


def test_a_cut_table_says_how_many_rows_it_shows_and_links_the_whole_table(tmp_path, capsys):
    out = tmp_path / "dr"
    assert run([*DOSE, "--doses", "0.01:1000:40", "--out", out], capsys)[0] == 0
    assert run(["report", out], capsys)[0] == 0
    tables = parse_tables((out / "report.html").read_text())
    (dose,) = [t for t in tables if t.get("h3") == "dose_response"]
    assert dose["note"] == "showing 25 of 41 rows; every row: dose_response.csv" and dose["href"] == "dose_response.csv"
    assert len(dose["rows"]) == 26  # the header and 25 rows
    (fit,) = [t for t in tables if t.get("h3") == "fit"]
    assert fit["note"] == "" and len(fit["rows"]) == 2  # short tables are whole, without a note


def test_study_force_removes_the_old_studys_parts_and_nothing_else(tmp_path):
    """The demo itself is checked in tests/test_cli.py (its manifest, parts, report, refusal of a second run)."""
    from simulator.files import claim_folder

    out = tmp_path / "study"
    (out / "old_part").mkdir(parents=True)
    (out / "old_part" / "wells.csv").write_text("x\n1\n")
    (out / "keep.txt").write_text("mine")
    (out / "manifest.json").write_text("{}")
    (out / ".mekisim-owner.json").write_text(json.dumps({"verb": "study", "owns": ["old_part/", "summary.json"]}))
    with pytest.raises(InputError, match="already holds a complete study"):
        claim_folder(out, "study", {"config": "x"}, owns=["new_part/"])
    assert (out / "old_part" / "wells.csv").is_file()
    owner = claim_folder(out, "study", {"config": "x"}, owns=["new_part/"], force=True)
    assert sorted(p.name for p in out.iterdir()) == [".mekisim-owner.json", "keep.txt"]
    assert owner.owns[-1] == "new_part/" and json.loads((out / ".mekisim-owner.json").read_text())["verb"] == "study"
