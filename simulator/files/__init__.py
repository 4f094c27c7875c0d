"""Result files and folders: atomic writes, readers that name damaged files, tables, manifests, ownership.

Every result file is written whole or not at all (a temporary file, then a rename); ``manifest.json`` is written
last and says "this folder holds a complete result"; ``.mekisim-owner.json`` says which run owns a folder, so no
other run mixes its files in. Text inputs (CSV, TSV, TOML) are read with their encoding and separator checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "TMP_SUFFIX": "_atomic",
    "atomic_path": "_atomic",
    "damaged_error": "_atomic",
    "read_csv": "_atomic",
    "read_json": "_atomic",
    "read_parquet": "_atomic",
    "remove_stale_temporaries": "_atomic",
    "write_bytes": "_atomic",
    "write_text": "_atomic",
    "check_separator": "_text",
    "read_text": "_text",
    "ModelRecord": "_store",
    "TABLE_SUFFIXES": "_store",
    "catalogue_hashes": "_store",
    "dependency_versions": "_store",
    "fingerprint": "_store",
    "job_inputs": "_store",
    "write_manifest": "_store",
    "write_table": "_store",
    "write_tables": "_store",
    "MANIFEST": "_ownership",
    "OWNER_FILE": "_ownership",
    "OWNS": "_ownership",
    "RESUMABLE": "_ownership",
    "Owner": "_ownership",
    "begin_final_writes": "_ownership",
    "claim_file": "_ownership",
    "claim_folder": "_ownership",
    "cli_command": "_ownership",
    "read_owner": "_ownership",
    "record_owner": "_ownership",
    "unfinished_runs": "_ownership",
    "differences": "_jobs",
    "normalised": "_jobs",
    "bundled_dir": "_resources",
    "bundled_study": "_resources",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # static re-exports for type checkers and IDEs
    from ._atomic import TMP_SUFFIX as TMP_SUFFIX
    from ._atomic import atomic_path as atomic_path
    from ._atomic import damaged_error as damaged_error
    from ._atomic import read_csv as read_csv
    from ._atomic import read_json as read_json
    from ._atomic import read_parquet as read_parquet
    from ._atomic import remove_stale_temporaries as remove_stale_temporaries
    from ._atomic import write_bytes as write_bytes
    from ._atomic import write_text as write_text
    from ._jobs import differences as differences
    from ._jobs import normalised as normalised
    from ._ownership import MANIFEST as MANIFEST
    from ._ownership import OWNER_FILE as OWNER_FILE
    from ._ownership import OWNS as OWNS
    from ._ownership import RESUMABLE as RESUMABLE
    from ._ownership import Owner as Owner
    from ._ownership import begin_final_writes as begin_final_writes
    from ._ownership import claim_file as claim_file
    from ._ownership import claim_folder as claim_folder
    from ._ownership import cli_command as cli_command
    from ._ownership import read_owner as read_owner
    from ._ownership import record_owner as record_owner
    from ._ownership import unfinished_runs as unfinished_runs
    from ._resources import bundled_dir as bundled_dir
    from ._resources import bundled_study as bundled_study
    from ._store import TABLE_SUFFIXES as TABLE_SUFFIXES
    from ._store import ModelRecord as ModelRecord
    from ._store import catalogue_hashes as catalogue_hashes
    from ._store import dependency_versions as dependency_versions
    from ._store import fingerprint as fingerprint
    from ._store import job_inputs as job_inputs
    from ._store import write_manifest as write_manifest
    from ._store import write_table as write_table
    from ._store import write_tables as write_tables
    from ._text import check_separator as check_separator
    from ._text import read_text as read_text
