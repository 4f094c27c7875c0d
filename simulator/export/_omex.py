"""Write a COMBINE archive (OMEX) with libcombine: the files, their formats, the master SED-ML and metadata."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Entry", "write_archive"]

#: format URIs of the files an export writes (COMBINE specifications and media types)
FORMATS = {
    # unversioned: tellurium (libcombine's KnownFormats) finds no SED-ML under ...sed-ml.level-1.version-4
    "sedml": "http://identifiers.org/combine.specifications/sed-ml",
    "csv": "http://purl.org/NET/mediatypes/text/csv",
    "text": "http://purl.org/NET/mediatypes/text/plain",
}


@dataclass(frozen=True)
class Entry:
    """One file of an archive: where it goes, its text, its format URI, what it is, and whether it is the master."""

    location: str
    text: str
    format: str
    description: str
    master: bool = False


def write_archive(path: str | Path, entries: Sequence[Entry], *, description: str, creator: str) -> Path:
    """Write ``entries`` as a COMBINE archive at ``path`` (replaced atomically: a partial archive never remains).

    ``description`` goes into the archive's OMEX metadata (``metadata.rdf``, with the creation date and
    ``creator``) and each entry's description into the metadata of its file.
    """
    import libcombine

    path = Path(path)
    archive = libcombine.CombineArchive()
    with tempfile.TemporaryDirectory(prefix="mekisim-export-") as tmp:
        for entry in entries:
            local = Path(tmp) / entry.location
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_text(entry.text, encoding="utf-8")
            if not archive.addFile(str(local), f"./{entry.location}", entry.format, entry.master):
                raise RuntimeError(f"libcombine could not add {entry.location} to the archive")
            archive.addMetadata(f"./{entry.location}", _description(f"./{entry.location}", entry.description, creator))
        archive.addMetadata(".", _description(".", description, creator))
        partial = path.with_name(f".{path.name}.partial")
        partial.unlink(missing_ok=True)
        if not archive.writeToFile(str(partial)):
            raise OSError(f"could not write the archive {str(path)!r}")
        archive.cleanUp()
    os.replace(partial, path)
    return path


def _description(about: str, text: str, creator: str):
    import libcombine

    desc = libcombine.OmexDescription()
    desc.setAbout(about)
    desc.setDescription(text)
    desc.setCreated(libcombine.OmexDescription.getCurrentDateAndTime())
    card = libcombine.VCard()
    card.setFamilyName(creator)
    card.setGivenName("")
    card.setOrganization("mekisim export")
    desc.addCreator(card)
    return desc
