"""Teaching pathway feedback: the bundled lessons and the live page (``mekisim teach list | run | serve``).

* :func:`lessons` / :func:`find_lesson`: the six lessons of ``experiments/lessons`` (bundled in the wheel).
* :func:`run_lesson`: execute a lesson notebook and write it as one self-contained HTML page (nbclient,
  nbconvert), for students without Python.
* :func:`serve`: the live page (Dash + Plotly) where a student flips the model's feedback switches and moves
  dose and time sliders; :class:`TeachPage` is its framework-free compute, :data:`PAGE_OPTIONS` the solver
  options of every number it shows; :func:`build_app` the Dash app itself.

This subpackage imports only the public names of mekisim's stage subpackages (engine, model, readouts,
synergy). Names load on first use (PEP 562, :mod:`simulator._lazy`): ``mekisim teach list`` loads neither the
engine nor Dash, and Dash and nbconvert load only when :func:`serve` / :func:`run_lesson` run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

#: public name -> the private module that defines it
_EXPORTS = {
    "PAGE_MODELS": "_compute",
    "PAGE_OPTIONS": "_compute",
    "PageState": "_compute",
    "Switch": "_compute",
    "TeachPage": "_compute",
    "dose_of_slider": "_compute",
    "model_switches": "_compute",
    "Lesson": "_lessons",
    "find_lesson": "_lessons",
    "lessons": "_lessons",
    "lessons_dir": "_lessons",
    "LessonRun": "_render",
    "run_lesson": "_render",
    "build_app": "_app",
    "serve": "_app",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._app import build_app as build_app
    from ._app import serve as serve
    from ._compute import PAGE_MODELS as PAGE_MODELS
    from ._compute import PAGE_OPTIONS as PAGE_OPTIONS
    from ._compute import PageState as PageState
    from ._compute import Switch as Switch
    from ._compute import TeachPage as TeachPage
    from ._compute import dose_of_slider as dose_of_slider
    from ._compute import model_switches as model_switches
    from ._lessons import Lesson as Lesson
    from ._lessons import find_lesson as find_lesson
    from ._lessons import lessons as lessons
    from ._lessons import lessons_dir as lessons_dir
    from ._render import LessonRun as LessonRun
    from ._render import run_lesson as run_lesson
