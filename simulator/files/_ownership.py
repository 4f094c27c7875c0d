"""Output folders with an owner: which command wrote a folder, so that no other run mixes its files in.

:func:`claim_folder` writes ``.mekisim-owner.json`` (verb, job description, command, files it writes) before a
run writes anything; a folder owned by another verb, or by the same verb without ``resume``/``force``, is
refused. The rules and why they are so: ``docs/notes/files.md``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._atomic import read_json, remove_stale_temporaries, write_text
from ._jobs import differences, normalised

OWNER_FILE = ".mekisim-owner.json"
MANIFEST = "manifest.json"


def _tables(*stems: str) -> tuple[str, ...]:
    return tuple(f"{stem}{suffix}" for stem in stems for suffix in (".parquet", ".csv"))


def _figures(*stems: str) -> tuple[str, ...]:
    return tuple(f"{stem}{suffix}" for stem in stems for suffix in (".png", ".svg"))


#: what each verb writes into its folder: file names or globs; a trailing "/" is a folder. ``--force`` deletes
#: these (and the owner's manifest and owner file) and nothing else, so a user's own files in the folder stay.
OWNS: dict[str, tuple[str, ...]] = {
    "screen": (*_tables("wells", "synergy", "ranking", "synergy_ensemble"), "wells/", "synergy/", "figures/",
               "report_tables/", "report.html"),
    "sensitivity": (*_tables("samples", "ranges", "columns", "evaluations", "indices", "ranking", "unresolved",
                             "failures"), "evaluations/", "figures/", "report_tables/", "report.html"),
    "dose-response": (*_tables("dose_response", "fit"), *_figures("dose_response"), "report.html"),
    "fit": (*_tables("starts", "parameters", "fit_vs_data", "profiles", "profile_summary"), "ensemble.csv",
            "ensemble_*.csv", *_figures("waterfall", "fit_vs_data", "profiles"), "petab/", "report.html"),
    "resistance": (*_tables("dose_response", "time_course"), *_figures("dose_response_pERK", "time_course"),
                   "summary.json"),
    "ci-convention": (*_tables("ci_convention"), "summary.json"),
    "study": ("summary.json", "report.html"),
}
#: how a verb is named in messages
_NAMES = {"screen": "screen", "sensitivity": "sensitivity analysis", "dose-response": "dose-response",
          "fit": "fit", "resistance": "resistance analysis (a part of a study)",
          "ci-convention": "CI convention table (a part of a study)", "study": "study"}
#: verbs that continue a stopped run with --resume
RESUMABLE = ("screen", "sensitivity")


@dataclass(frozen=True)
class Owner:
    """The owner record of an output folder (``.mekisim-owner.json``).

    Attributes
    ----------
    verb
        The mekisim verb that writes the folder (``screen``, ``fit``, ...).
    job
        JSON-able description of the settings that decide its results (for messages: what changed).
    command
        The command line that started the run (``["mekisim", ...]``, or ``["python", ...]`` from the API).
    started
        When the run started (UTC, ISO 8601).
    owns
        The file names and globs the verb writes there (:data:`OWNS`, plus a study's part folders).
    pid, host
        The writing process, to tell a running job from a stopped one.
    inferred
        True for a folder written before owner records existed (recognised by its manifest or chunks).
    """

    verb: str
    job: Any = None
    command: tuple[str, ...] | None = None
    started: str = ""
    owns: tuple[str, ...] = ()
    pid: int | None = None
    host: str | None = None
    inferred: bool = False

    def to_json(self) -> dict:
        """The record as written to ``.mekisim-owner.json``."""
        out = dataclasses.asdict(self)
        out.pop("inferred")
        out["command"] = list(self.command) if self.command is not None else None
        out["owns"] = list(self.owns)
        return {"mekisim_output": 1, **out}

    @property
    def name(self) -> str:
        """How the verb is named in messages."""
        return _NAMES.get(self.verb, self.verb)

    def describe(self, *, command: bool = True) -> str:
        """``a screen (started ..., by `mekisim screen ...`)`` for messages."""
        bits = []
        if self.started:
            bits.append(f"started {self.started}")
        if self.command and command:
            bits.append(f"by `{' '.join(self.command)}`")
        if self.inferred:
            bits.append("written by an earlier mekisim")
        return f"a {self.name}" + (f" ({', '.join(bits)})" if bits else "")


def cli_command(argv: Sequence[str]) -> list[str]:
    """The command line recorded in manifests and owner records: ``["mekisim", *argv]``, however it was started.

    Why one convention: the console script, ``python -m simulator.cli`` and ``main(argv)`` in a notebook or a
    test run the same command; recording ``sys.argv`` made ``command[0]`` differ between them.

    Parameters
    ----------
    argv
        The arguments after ``mekisim``.

    Returns
    -------
    list of str
        ``["mekisim", *argv]``.
    """
    return ["mekisim", *map(str, argv)]


def _api_command() -> list[str]:
    import sys

    return ["python", *sys.argv]


def read_owner(folder: str | Path) -> Owner | None:
    """The owner of ``folder``: its owner record, else one inferred from an earlier mekisim's files, else None.

    Parameters
    ----------
    folder
        An output folder.

    Returns
    -------
    Owner or None
        Who wrote it, or None when mekisim did not.
    """
    folder = Path(folder)
    path = folder / OWNER_FILE
    if path.is_file():
        doc = read_json(path, remedy=f"Pass --force to replace the folder {str(folder)!r}, or choose another --out.")
        if not isinstance(doc, dict) or "verb" not in doc:
            raise InputError(f"{path} is not a mekisim owner record; pass --force to replace the folder "
                             f"{str(folder)!r}, or choose another --out.")
        return Owner(verb=str(doc["verb"]), job=doc.get("job"),
                     command=tuple(doc["command"]) if doc.get("command") else None, started=str(doc.get("started", "")),
                     owns=tuple(doc.get("owns") or OWNS.get(str(doc["verb"]), ())), pid=doc.get("pid"),
                     host=doc.get("host"))
    return _inferred_owner(folder)


def _inferred_owner(folder: Path) -> Owner | None:
    """The owner of a folder written before owner records existed: from its manifest, or its chunk folders."""
    manifest = folder / MANIFEST
    verb = None
    if manifest.is_file():
        doc = read_json(manifest, remedy=f"Pass --force to replace the folder {str(folder)!r}, or choose another "
                                          "--out.")
        doc = doc if isinstance(doc, dict) else {}
        keys = {"screen": "screen", "sensitivity": "sensitivity", "fit": "fit", "dose_response": "dose-response",
                "study": "study", "solver": "resistance", "ci_convention": "ci-convention"}
        verb = next((v for k, v in keys.items() if k in doc), "unknown")
        command = tuple(doc["command"]) if isinstance(doc.get("command"), list) else None
        return Owner(verb=verb, command=command, started=str(doc.get("created", "")),
                     owns=OWNS.get(verb, ()), inferred=True)
    for sub, verb in (("wells", "screen"), ("evaluations", "sensitivity")):
        if (folder / sub / "parts").is_dir():
            return Owner(verb=verb, owns=OWNS[verb], inferred=True)
    return None


def _alive(owner: Owner) -> bool:
    """Whether the owner's process is running on this machine (never this process itself)."""
    if owner.pid is None or owner.host != socket.gethostname() or owner.pid == os.getpid():
        return False
    try:
        os.kill(int(owner.pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    stat = Path("/proc") / str(owner.pid) / "stat"
    try:  # a zombie (killed, not yet reaped) is not running
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _check_is_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"the output folder {str(folder)!r} is a file; give a folder for --out (a new one is "
                         "created), or rename that file.")
    blocker = next((p for p in reversed(folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise InputError(f"the output folder {str(folder)!r} cannot be created: {str(blocker)!r} is a file, not a "
                         "folder. Choose another --out, or rename that file.")


def _refusal(folder: Path, owner: Owner, verb: str, job: Any, resume_ok: bool) -> str:
    where = repr(str(folder))
    complete = (folder / MANIFEST).is_file()
    if owner.verb != verb:
        return (f"the output folder {where} holds {owner.describe()}, not a {_NAMES.get(verb, verb)}; writing there "
                "would mix the two runs' files. Choose another --out, or pass --force to replace it (the files "
                f"the {owner.name} wrote there are deleted first).")
    if not complete:
        hint = ("rerun the same command with --resume to continue it (the same settings only), --force to start "
                "again" if resume_ok else "pass --force to run it again")
        return (f"the output folder {where} holds an unfinished {owner.describe()[2:]}: it has no manifest.json, so "
                f"it was stopped before it finished. To use it, {hint} (its files are deleted first), or choose "
                "another --out.")
    if owner.job is not None and job is not None:
        changed = differences(owner.job, job)
        same = (f"with other settings ({'; '.join(changed[:4])}{'; ...' if len(changed) > 4 else ''})" if changed
                else "with the same settings")
    else:
        same = ""
    hint = ("Pass --resume to rebuild its tables from its finished chunks (same settings only), --force to replace "
            "it" if resume_ok else "Pass --force to replace it")
    return (f"the output folder {where} already holds a complete {owner.describe()[2:]}"
            f"{' ' + same if same else ''}. {hint} (its files are deleted first), or choose another --out.")


def claim_folder(
    folder: str | Path,
    verb: str,
    job: Any = None,
    *,
    command: Sequence[str] | None = None,
    resume: bool = False,
    force: bool = False,
    owns: Sequence[str] = (),
) -> Owner:
    """Claim ``folder`` for a run of ``verb`` (the rules: ``docs/notes/files.md``); return the owner record.

    Parameters
    ----------
    folder
        The output folder (created with its parents when missing).
    verb
        The writing verb, a key of :data:`OWNS`.
    job
        JSON-able description of the settings (e.g. :func:`simulator.files.fingerprint` of the spec); used in
        messages ("other settings: drug_a.doses[1] was 0.3, now 1.0").
    command
        The command line to record (:func:`cli_command`); default ``["python", *sys.argv]`` (an API call).
    resume
        Continue a stopped run of the same verb (its own checks decide whether the settings match).
    force
        Replace whatever run owns the folder: the files it wrote are deleted first (manifest first).
    owns
        File names or globs written besides those of :data:`OWNS` (a study's part folders).

    Returns
    -------
    Owner
        The record written to ``.mekisim-owner.json``; pass it to :func:`simulator.files.write_manifest`.

    Raises
    ------
    InputError
        The folder belongs to another run (see the rules), is a file, or lies below a file.
    """
    if resume and force:
        raise InputError("--resume and --force exclude each other: --resume continues the run in the folder, "
                         "--force deletes it and starts again.")
    folder = Path(folder)
    _check_is_folder(folder)
    job = normalised(job)
    owner = read_owner(folder) if folder.is_dir() else None
    record = Owner(verb=verb, job=job, command=tuple(command) if command is not None else tuple(_api_command()),
                   started=datetime.now(UTC).isoformat(timespec="seconds"), owns=(*OWNS.get(verb, ()), *owns),
                   pid=os.getpid(), host=socket.gethostname())
    if owner is not None and not (folder / MANIFEST).is_file() and _alive(owner) and not force:
        raise InputError(f"the output folder {str(folder)!r} is being written by mekisim process {owner.pid} on this "
                         f"machine ({owner.describe()}); wait for it to finish or stop it, or choose another --out "
                         "(--force if that process is not a mekisim run any more).")
    if owner is not None and not force:
        if owner.verb != verb or not (resume and verb in RESUMABLE):
            raise InputError(_refusal(folder, owner, verb, job, verb in RESUMABLE))
        # resume: the settings are checked by the verb (parts/_job.json, stored samples), which may still refuse;
        # the owner record on disk stays as it is until the run's manifest is written (record_owner)
        remove_stale_temporaries(folder)
        return record
    if owner is not None and force:
        _remove_owned(folder, owner)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    write_text(folder / OWNER_FILE, _json(record.to_json()))
    return record


def claim_file(path: str | Path, *, force: bool = False) -> Path:
    """Check the output file of ``mekisim simulate --out FILE``, remove its old manifest; return the manifest's path.

    A table's manifest is ``FILE.manifest.json`` beside it (``tc.parquet`` -> ``tc.manifest.json``). Refused: a
    file that belongs to another run's folder (a screen's ``wells.parquet``: overwriting it would corrupt that
    result; no ``--force``), and an existing file without that manifest (not written by ``mekisim simulate``:
    perhaps the user's data) unless ``force``. The old manifest is removed before the new table is written.

    Parameters
    ----------
    path
        The table file ``mekisim simulate --out`` will write.
    force
        Overwrite a file that mekisim simulate did not write.

    Returns
    -------
    pathlib.Path
        The manifest's path (``FILE.manifest.json``), to write once the table is written.
    """
    from fnmatch import fnmatch

    path = Path(path)
    folder = path.parent
    _check_is_folder(folder)
    if path.is_dir():
        raise InputError(f"--out {str(path)!r} is a folder; simulate writes one table: give a file name ending in "
                         ".csv or .parquet.")
    owner = read_owner(folder) if folder.is_dir() else None
    if owner is not None and any(fnmatch(path.name, pattern.rstrip("/").split("/")[0])
                                 for pattern in (*owner.owns, MANIFEST, OWNER_FILE)):
        raise InputError(f"--out {str(path)!r} is a file of {owner.describe()} in {str(folder)!r}; overwriting it "
                         "would corrupt that result. Choose another file name or folder.")
    manifest = path.with_name(path.stem + ".manifest.json")
    if path.exists() and not manifest.is_file() and not force:
        raise InputError(f"--out {str(path)!r} exists and was not written by mekisim simulate (there is no "
                         f"{manifest.name} beside it); pass --force to overwrite it, or choose another file name.")
    if folder.is_dir():
        manifest.unlink(missing_ok=True)
    return manifest


def _remove_owned(folder: Path, owner: Owner) -> None:
    """Delete what ``owner`` wrote in ``folder``: the manifest first, then its files, the owner record last."""
    (folder / MANIFEST).unlink(missing_ok=True)
    for pattern in owner.owns:
        for path in sorted(folder.glob(pattern.rstrip("/"))):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    (folder / OWNER_FILE).unlink(missing_ok=True)


def begin_final_writes(folder: str | Path) -> None:
    """Call before a run replaces its folder's final tables: the old manifest (a complete result) goes first.

    Why: until now the folder held the old complete result; from the first replaced table on it holds a mix,
    and a manifest must never claim that a mix is complete. A run killed from here on leaves no manifest: its
    folder is reported as unfinished, and ``--resume`` (or ``--force``) completes it.

    Parameters
    ----------
    folder
        The run's output folder.
    """
    (Path(folder) / MANIFEST).unlink(missing_ok=True)


def record_owner(folder: str | Path, owner: Owner, job: Any = None) -> None:
    """Rewrite the owner record with the job whose results the folder now holds (just before its manifest).

    Parameters
    ----------
    folder
        The run's output folder.
    owner
        The record :func:`claim_folder` returned.
    job
        The settings whose results the folder now holds.
    """
    if job is not None:
        owner = dataclasses.replace(owner, job=normalised(job))
    write_text(Path(folder) / OWNER_FILE, _json(owner.to_json()))


def unfinished_runs(root: str | Path) -> list[tuple[Path, Owner | None]]:
    """Folders at or below ``root`` whose run has not finished: an owner (or chunks) but no manifest.

    Parameters
    ----------
    root
        The folder to search (with its subfolders).

    Returns
    -------
    list of (pathlib.Path, Owner)
        Each unfinished run's folder and owner.
    """
    root = Path(root)
    found: dict[Path, Owner | None] = {}
    for record in root.rglob(OWNER_FILE):
        folder = record.parent
        if not (folder / MANIFEST).is_file():
            found[folder] = read_owner(folder)
    for sub in ("wells", "evaluations"):
        for parts in root.rglob(f"{sub}/parts"):
            folder = parts.parent.parent
            if folder not in found and not (folder / MANIFEST).is_file() and parts.is_dir():
                found[folder] = _inferred_owner(folder)
    return sorted(found.items())


def _json(doc: dict) -> str:
    import json

    return json.dumps(doc, indent=1, default=str) + "\n"
