"""Headless Chromium for the teaching tests (test_teach.py, test_teach_browser.py), through Playwright.

Debian's ``chromium`` is driven directly (``executable_path``): ``playwright install`` downloads its own
browser builds, which this project's machines cannot fetch. Without Playwright or Chromium the tests skip
with the install command; with the environment variable ``CI`` set they fail instead, so CI proves they ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: no sandbox (root in a container), no GPU, no traffic of the browser's own (updates, sync, QUIC probes)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """Debian's Chromium (``MEKISIM_CHROMIUM`` overrides), or None."""
    for candidate in (os.environ.get("MEKISIM_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test must run, but {what}. .ci/run installs Chromium with apt-get.")
    pytest.skip(what)


def playwright_and_chromium():
    """``(sync_playwright, chromium path)``, or skip (fail under CI) naming the install command."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is missing: pip install playwright (or install mekisim's test extra); "
                 "no `playwright install` is needed")
    path = chromium_path()
    if path is None:
        _missing("Chromium is not installed: apt-get install chromium (Debian/Ubuntu)")
    return sync_playwright, path


def launch(playwright, chromium: str, profile: Path, **kwargs):
    """A persistent context of ``chromium`` with a fresh profile (``--user-data-dir``) in ``profile``."""
    return playwright.chromium.launch_persistent_context(str(profile), executable_path=chromium, headless=True,
                                                         args=FLAGS, **kwargs)


def watch(page) -> dict:
    """Record on ``page``: requests leaving this machine, failed requests, console errors, page errors."""
    seen: dict[str, list] = {"outside": [], "failed": [], "console": [], "errors": []}
    local = ("http://127.0.0.1:", "data:", "blob:", "file://", "about:")
    page.on("request", lambda r: None if r.url.startswith(local) else seen["outside"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url}: {r.failure}"))
    page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen
