"""An on-disk cache of compiled models, so a process loads a model's machine code instead of compiling it.

An entry's key holds everything that makes it valid (the SBML's sha256, the load options, the roadrunner build,
the platform and the CPU); files carry a checksum and are written atomically; any error means "compile". Location:
``MEKISIM_CACHE_DIR`` (``off`` disables it) or the user cache folder. Why and measurements: ``docs/notes/engine.md``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV_VAR = "MEKISIM_CACHE_DIR"
#: files kept in the cache folder (~0.2-2 MB each); the least recently used go first
MAX_ENTRIES = 128
_OFF = {"", "0", "off", "false", "no", "none"}
_MAGIC = b"mekisim compiled model 1\n"
_SUFFIX = ".rrstate"


def host_fingerprint() -> str | None:
    """Identify this machine's CPU and platform for the key, or None when the CPU cannot be identified.

    On Linux the first processor's model name and feature flags from ``/proc/cpuinfo`` (what LLVM's host
    detection sees); on macOS the CPU's brand string (``platform.processor()`` only says "arm" there);
    elsewhere ``platform.processor()`` (on Windows: family, model and stepping).

    Returns
    -------
    str or None
        A text identifying the CPU and platform, or None (then nothing is cached).
    """
    cpu = ""
    if sys.platform == "darwin":
        try:
            cpu = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                 timeout=5, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        return f"{sys.platform}|{platform.machine()}|{cpu}" if cpu else None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            wanted = ("model name", "flags", "features", "cpu implementer", "cpu part", "cpu variant", "isa")
            seen: dict[str, str] = {}
            for line in handle:
                if not line.strip():
                    break  # the first processor's block is enough: the others are alike
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in wanted:
                    seen[key] = " ".join(value.split())
            cpu = ";".join(f"{k}={seen[k]}" for k in sorted(seen))
    except OSError:
        cpu = platform.processor()
    if not cpu:
        return None
    return f"{sys.platform}|{platform.machine()}|{cpu}"


@dataclass(frozen=True)
class CompileCache:
    """Compiled-model states on disk, by key; ``folder=None`` is a cache that stores nothing."""

    folder: Path | None

    @classmethod
    def from_environment(cls) -> CompileCache:
        """The folder ``MEKISIM_CACHE_DIR`` names, or the user cache folder; off when the CPU is unknown."""
        setting = os.environ.get(CACHE_ENV_VAR)
        if setting is not None and setting.strip().lower() in _OFF:
            return cls(None)
        if setting is not None:
            return cls(Path(setting).expanduser())
        try:
            import platformdirs

            return cls(Path(platformdirs.user_cache_dir("mekisim")) / "compiled")
        except Exception:  # no home folder (a locked-down worker): compile every time
            return cls(None)

    def key(self, *parts: str) -> str | None:
        """The entry name for these facts about a model and its compiler, or None when caching is off."""
        host = host_fingerprint()
        if self.folder is None or host is None:
            return None
        return hashlib.sha256("\0".join((host, *parts)).encode("utf-8")).hexdigest()

    def load(self, key: str | None) -> bytes | None:
        """The stored state for ``key``, or None (absent, unreadable or damaged)."""
        if key is None or self.folder is None:
            return None
        path = self.folder / f"{key}{_SUFFIX}"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        header_end = len(_MAGIC) + 65
        if not data.startswith(_MAGIC) or len(data) < header_end:
            return None
        digest, payload = data[len(_MAGIC):header_end - 1].decode("ascii", "replace"), data[header_end:]
        if hashlib.sha256(payload).hexdigest() != digest:
            return None
        try:
            os.utime(path)  # recently used: kept when the folder is pruned
        except OSError:
            pass
        return payload

    def store(self, key: str | None, state: bytes) -> None:
        """Keep ``state`` under ``key`` (atomically); errors are ignored: the cache is an optimisation."""
        if key is None or self.folder is None:
            return
        path = self.folder / f"{key}{_SUFFIX}"
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(_MAGIC + hashlib.sha256(state).hexdigest().encode("ascii") + b"\n" + state)
            os.replace(tmp, path)
            self._prune()
        except OSError:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass

    def _prune(self) -> None:
        entries = sorted(self.folder.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[MAX_ENTRIES:]:
            old.unlink(missing_ok=True)
