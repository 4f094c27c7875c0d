"""The bundled lessons (``experiments/lessons/NN_slug/``): where they are and what each asks.

A lesson is a folder with ``lesson.ipynb`` and ``README.md``; the README's first line is
``# Lesson N — Title`` and its ``## Question`` section is the question. The folders are found the way the
study runner finds a bundled study (``simulator.files.bundled_study``): in ``simulator/_bundled_experiments``
of an installed wheel (pyproject's force-include), else in ``experiments/`` of a source checkout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

__all__ = ["Lesson", "find_lesson", "lessons", "lessons_dir"]

_HEADING = re.compile(r"^#\s+Lesson\s+(\d+)\s*[—–-]\s*(.+?)\s*$")


@dataclass(frozen=True)
class Lesson:
    """One lesson: its number, title and question (from its README) and where its files are."""

    number: int
    title: str
    question: str
    folder: Path

    @property
    def notebook(self) -> Path:
        """The lesson's notebook (committed without outputs)."""
        return self.folder / "lesson.ipynb"

    def line(self) -> str:
        """One line for ``mekisim teach list``: number, title, question."""
        return f"{self.number}  {self.title} — {self.question}"


def lessons_dir() -> Path:
    """The folder of the bundled lessons: inside an installed package, or ``experiments/lessons`` of a checkout."""
    package = Path(__file__).resolve().parents[1]  # the simulator package
    for root in (package / "_bundled_experiments", package.parent / "experiments"):
        if (root / "lessons").is_dir():
            return root / "lessons"
    raise InputError(f"the lessons were not found next to {package} (experiments/lessons); the installation is "
                     "incomplete.")


def lessons() -> tuple[Lesson, ...]:
    """Every bundled lesson, in order of its number."""
    found = [_read_lesson(folder) for folder in sorted(lessons_dir().iterdir())
             if (folder / "lesson.ipynb").is_file()]
    return tuple(sorted(found, key=lambda lesson: lesson.number))


def find_lesson(number: int) -> Lesson:
    """The lesson with this number; an :class:`~simulator.errors.InputError` lists the valid numbers."""
    every = lessons()
    for lesson in every:
        if lesson.number == number:
            return lesson
    valid = ", ".join(str(lesson.number) for lesson in every)
    raise InputError(f"there is no lesson {number}; valid: {valid} (mekisim teach list shows them).")


def _read_lesson(folder: Path) -> Lesson:
    """Number and title from the README's first line, the question from its ``## Question`` section."""
    readme = folder / "README.md"
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"lesson {folder.name!r} has no readable README.md ({exc.strerror}).") from None
    lines = text.splitlines()
    match = _HEADING.match(lines[0]) if lines else None
    if not match:
        raise InputError(f"{readme}, line 1: expected '# Lesson N — Title', found {lines[0] if lines else ''!r}.")
    question: list[str] = []
    inside = False
    for line in lines[1:]:
        if line.startswith("## "):
            if inside:
                break
            inside = line.strip() == "## Question"
        elif inside and line.strip():
            question.append(line.strip())
    if not question:
        raise InputError(f"{readme}: no '## Question' section (the question of the lesson).")
    plain = re.sub(r"\*+([^*]+)\*+|`([^`]+)`", lambda m: m.group(1) or m.group(2), " ".join(question))  # no markdown
    return Lesson(int(match.group(1)), match.group(2), plain, folder)
