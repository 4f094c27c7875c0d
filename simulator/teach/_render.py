"""``mekisim teach run N --out DIR``: execute a lesson notebook and write it as one self-contained HTML page.

The notebook runs in a fresh kernel (nbclient, the ``python3`` kernel of this interpreter) in the lesson's
own folder (lessons 3 and 4 read the BioModels file stored there), with ``MEKISIM_SMOKE`` set to choose the
full or the coarse grids. The page is nbconvert's HTML export through the ``mekisim_lesson`` template
(``templates/``), which drops the lab template's CDN scripts: figures are embedded as data URIs, the CSS is
inlined, and the exercise answers stay in closed ``<details>``. Nothing on the page is fetched from outside
the file.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..errors import InputError, MekisimError
from ._lessons import find_lesson, lessons

__all__ = ["LessonRun", "run_lesson"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: seconds one cell may take (a full-grid lesson takes 5-60 s in all)
CELL_TIMEOUT_S = 600


@dataclass(frozen=True)
class LessonRun:
    """What ``run_lesson`` wrote: the page, the executed notebook, and how long the notebook ran."""

    number: int
    html: Path
    notebook: Path
    seconds: float
    smoke: bool


def run_lesson(number: int, out_dir: str | Path, *, smoke: bool = False, force: bool = False) -> LessonRun:
    """Execute lesson ``number`` and write ``out_dir/lesson_N.html`` (self-contained) and ``lesson_N.ipynb``.

    Parameters
    ----------
    number
        The lesson (``mekisim teach list``).
    out_dir
        Folder of the outputs (created). Several lessons can share it.
    smoke
        Coarse grids (``MEKISIM_SMOKE=1``): seconds instead of up to a minute; every claim of the lesson
        still holds, but its numbers differ slightly from the full run (the page says which it is).
    force
        Replace ``lesson_N.html``/``.ipynb`` already in ``out_dir``; without it they are refused.

    Raises
    ------
    InputError
        Unknown lesson, or outputs that exist without ``force``.
    MekisimError
        A cell failed (the message names it); the notebook executed up to that cell is still written.
    """
    import nbclient  # imported here: only this command needs the notebook machinery
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    lesson = find_lesson(number)
    out_dir = Path(out_dir)
    page, executed = out_dir / f"lesson_{number}.html", out_dir / f"lesson_{number}.ipynb"
    existing = [p for p in (page, executed) if p.exists()]
    if existing and not force:
        raise InputError(f"{', '.join(map(str, existing))} already exist; pass --force to replace them, or choose "
                         "another --out.")
    out_dir.mkdir(parents=True, exist_ok=True)

    nb = nbformat.read(lesson.notebook, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "MEKISIM_LESSON_FIGURES"}  # figures go into the page only
    env["MEKISIM_SMOKE"] = "1" if smoke else "0"
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(lesson.folder)}})
    started = time.perf_counter()
    # The kernel's own stderr (e.g. ipykernel's "running over TCP without encryption" notice) goes to a
    # temporary log, shown only if the kernel fails; the notebook's stderr output is in the cells as usual.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as kernel_log:
        try:
            client.execute(env=env, stderr=kernel_log)
        except CellExecutionError as exc:
            nbformat.write(nb, executed)
            raise MekisimError(f"lesson {number} failed in a cell; the notebook run up to it is in {executed}. "
                               f"{_first_lines(str(exc))}") from None
        except Exception as exc:  # no kernel (ipykernel missing), kernel died, ...: say so, keep no traceback
            if isinstance(exc, MekisimError):
                raise
            kernel_log.seek(0)
            raise MekisimError(f"lesson {number} could not be run: {type(exc).__name__}: {exc}. The lessons need "
                               "ipykernel in the same environment as mekisim (pip install ipykernel). Kernel log: "
                               f"{_first_lines(kernel_log.read()) or '(empty)'}") from None
    seconds = time.perf_counter() - started

    executed_at = datetime.now(UTC).replace(microsecond=0)
    nb.metadata["title"] = f"Lesson {lesson.number} — {lesson.title}"
    nb.metadata["mekisim"] = {"lesson": lesson.number, "folder": lesson.folder.name, "smoke": smoke,
                              "version": __version__, "executed": executed_at.isoformat(),
                              "seconds": round(seconds, 1)}
    nbformat.write(nb, executed)

    exporter = HTMLExporter(template_name="mekisim_lesson", extra_template_basedirs=[str(TEMPLATES)])
    body, _ = exporter.from_notebook_node(nb, resources={"mekisim_banner": _banner(lesson, smoke, seconds,
                                                                                   executed_at)})
    page.write_text(body, encoding="utf-8")
    return LessonRun(lesson.number, page, executed, seconds, smoke)


def _banner(lesson, smoke: bool, seconds: float, executed_at: datetime) -> str:
    """The line above the lesson: what this page is and how it was made (HTML, escaped)."""
    grids = ("smoke mode: coarse grids, so the numbers differ slightly from the full lesson (every claim still "
             "holds)" if smoke else "full grids")
    return (f"<b>Lesson {lesson.number} of {len(lessons())}</b> · every number on this page is simulated "
            f"(representative, not measured) · executed with mekisim {html.escape(__version__)} on "
            f"{executed_at:%Y-%m-%d %H:%M} UTC in {seconds:.0f} s, {grids} · answers to the exercises are hidden: "
            "click <i>Answers</i> to open them.")


def _first_lines(text: str, n: int = 12) -> str:
    """The start of nbclient's message (the failing cell and the error), without ANSI colour codes."""
    clean = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines()
    return "\n".join(clean[:n] + (["..."] if len(clean) > n else []))
