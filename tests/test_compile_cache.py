"""The on-disk cache of compiled models: a model loaded from it computes exactly what a fresh compile does."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import roadrunner

import simulator as ms
import simulator.engine._compile_cache as cc
import simulator.engine._roadrunner as engine
from tests.conftest import BENCHMARKS

DOSES = [(0.0, 0.0), (1.0, 0.0), (0.0, 1000.0), (3.0, 300.0), (30.0, 10000.0)]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache folder and an empty runner cache, so every build below is this test's."""
    folder = tmp_path / "compiled"
    monkeypatch.setenv(cc.CACHE_ENV_VAR, str(folder))
    monkeypatch.setattr(engine, "_RUNNERS", {})
    return folder


def _entries(folder):
    return sorted(folder.glob("*.rrstate")) if folder.exists() else []


def _forbid_compiling(monkeypatch):
    """Make a compile raise: only loading from the cache (an empty RoadRunner, then loadStateS) can build one now."""
    original = roadrunner.RoadRunner

    def refuse(*args, **kwargs):
        if args or kwargs:
            raise AssertionError("the model was compiled although the cache holds it")
        return original()

    monkeypatch.setattr(roadrunner, "RoadRunner", refuse)


def _results(model, conditions, select=None):
    states = ms.steady_states(model, conditions, select=select)
    courses = ms.time_courses(model, np.linspace(0, 600, 13), conditions[:3], select=select)
    return ([(s.status, s.values.tobytes()) for s in states],
            [(t.status, t.values.tobytes()) for t in courses])


def test_a_cached_model_gives_bit_identical_results(cache_dir, monkeypatch, condition, mpnst):
    conditions = [condition(line, {"trametinib": a, "src_inhibitor_1": b})
                  for line in ("S462", "S462_R1") for a, b in DOSES]
    compiled = _results(mpnst, conditions)
    assert len(_entries(cache_dir)) == 1  # stored when compiled (the full model only when a run needs it)

    monkeypatch.setattr(engine, "_RUNNERS", {})
    _forbid_compiling(monkeypatch)
    assert _results(mpnst, conditions) == compiled  # every status and every bit of every value
    assert engine._RUNNERS[(mpnst.sha256, True)].rr.conservedMoietyAnalysis
    assert (mpnst.sha256, False) not in engine._RUNNERS  # the full model is built only for a run that needs it


def test_a_model_without_moiety_analysis_is_cached_as_such(cache_dir, monkeypatch):
    """Huang-Ferrell 1996: roadrunner refuses moiety analysis, so the engine checks conservation itself."""
    model = ms.load_sbml(BENCHMARKS / "biomodels" / "BIOMD0000000009.xml")
    conditions = [{"E1": e} for e in (1e-6, 3e-5, 1e-4)]
    compiled = _results(model, conditions, select=["K_PP_norm"])
    # the plain model, and a marker saying the analysis was refused (so no process tries it again)
    assert engine._RUNNERS[(model.sha256, True)].laws is not None and len(_entries(cache_dir)) == 2
    assert engine._RUNNERS[(model.sha256, True)] is engine._RUNNERS[(model.sha256, False)]  # one runner serves both

    monkeypatch.setattr(engine, "_RUNNERS", {})
    _forbid_compiling(monkeypatch)
    assert _results(model, conditions, select=["K_PP_norm"]) == compiled
    runner = engine._RUNNERS[(model.sha256, True)]
    assert runner.laws is not None and not runner.rr.conservedMoietyAnalysis


def test_a_damaged_entry_is_compiled_again_and_replaced(cache_dir, monkeypatch, condition, mpnst):
    conditions = [condition("S462", {"trametinib": 1.0})]
    expected = _results(mpnst, conditions)
    (entry,) = _entries(cache_dir)
    full = engine._runner(mpnst, moieties=False)  # the full model (built when a reduced run fails) is cached too
    assert not full.rr.conservedMoietyAnalysis
    (full_entry,) = set(_entries(cache_dir)) - {entry}

    def rebuilt():
        monkeypatch.setattr(engine, "_RUNNERS", {})
        engine._runner(mpnst, moieties=False)
        return _results(mpnst, conditions)

    for item in (entry, full_entry):
        good = item.read_bytes()
        for damaged in (good[: len(good) // 2], good[:-10] + b"x" * 10, b"not a state at all"):
            item.write_bytes(damaged)
            assert cc.CompileCache(cache_dir).load(item.stem) is None  # the checksum catches it
            assert rebuilt() == expected
            assert cc.CompileCache(cache_dir).load(item.stem) is not None  # rewritten whole by the compile
        # intact on disk but not a state roadrunner reads (another roadrunner wrote it, say): compiled again
        cc.CompileCache(cache_dir).store(item.stem, b"not a roadrunner state")
        assert rebuilt() == expected


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch, condition, mpnst):
    monkeypatch.setattr(engine, "_RUNNERS", {})
    monkeypatch.chdir(tmp_path)
    for off in ("off", "0", ""):
        monkeypatch.setenv(cc.CACHE_ENV_VAR, off)
        assert cc.CompileCache.from_environment().folder is None
    assert ms.steady_states(mpnst, [condition("S462")])[0].ok
    assert not list(tmp_path.rglob("*.rrstate"))


def test_the_key_names_everything_the_machine_code_depends_on(tmp_path, monkeypatch):
    cache = cc.CompileCache(tmp_path)
    base = ("sha-of-the-sbml", "moieties", "2.10.0", "123", "456")
    key = cache.key(*base)
    assert key is not None and key == cache.key(*base)
    for i in range(len(base)):
        changed = list(base)
        changed[i] += "'"
        assert cache.key(*changed) != key
    monkeypatch.setattr(cc, "host_fingerprint", lambda: "another CPU")
    assert cache.key(*base) != key
    monkeypatch.setattr(cc, "host_fingerprint", lambda: None)  # CPU unknown: nothing is cached
    assert cache.key(*base) is None
    cache.store(None, b"state")
    assert not list(tmp_path.iterdir())
    assert cc.CompileCache(None).key(*base) is None


def test_the_folder_keeps_the_most_recently_used_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(cc, "MAX_ENTRIES", 2)
    cache = cc.CompileCache(tmp_path)
    keys = [cache.key(str(i)) for i in range(3)]
    cache.store(keys[0], b"zero")
    cache.store(keys[1], b"one")
    for age, key in enumerate(keys[:2]):  # entry 0 older than entry 1 ...
        os.utime(tmp_path / f"{key}.rrstate", (1000 + age, 1000 + age))
    assert cache.load(keys[0]) == b"zero"  # ... until entry 0 is used again
    cache.store(keys[2], b"two")
    assert [cache.load(k) for k in keys] == [b"zero", None, b"two"]


def test_the_host_fingerprint_names_this_cpu():
    host = cc.host_fingerprint()
    assert host is not None and host == cc.host_fingerprint()  # this machine's CPU is known, and stable
    assert host.startswith(f"{sys.platform}|")
