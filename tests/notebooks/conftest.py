"""Fixtures of the notebook and demo tests: offline environment, the real membraned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.membraned import require_daemon

ROOT = Path(__file__).resolve().parents[2]
# The shell's choice, read before any ``offline`` fixture clears it (pytest run directly with
# MEMBRANED_BIN exported, without the status file ``make membraned`` writes).
SHELL_MEMBRANED_BIN = os.environ.get("MEMBRANED_BIN")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No model key and no hosted Membrain, whatever the developer's shell has."""
    for name in ("OPENAI_API_KEY", "MEMBRAIN_API_KEY", "MEMBRAIN_BASE_URL", "MEMBRANED_BIN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def real_membraned(monkeypatch: pytest.MonkeyPatch) -> str:
    """The real daemon (found or built by the launcher, gated as every daemon test), as
    ``MEMBRANED_BIN`` so the demo and the notebook kernels use exactly this binary."""
    if SHELL_MEMBRANED_BIN and not os.environ.get("MEMBRANED_BIN"):
        monkeypatch.setenv("MEMBRANED_BIN", SHELL_MEMBRANED_BIN)
    binary = require_daemon()
    monkeypatch.setenv("MEMBRANED_BIN", binary)
    return binary


@pytest.fixture
def clean_membraned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The real daemon found with a clean environment (no ``MEMBRANED_BIN`` or
    ``MEMBRANED_SOURCE``), as after ``make demo``: the checkout's own record or cache when it
    has one, else a cache directory holding the binary under its build name."""
    if SHELL_MEMBRANED_BIN and not os.environ.get("MEMBRANED_BIN"):
        monkeypatch.setenv("MEMBRANED_BIN", SHELL_MEMBRANED_BIN)
    binary = require_daemon()
    for name in ("MEMBRANED_BIN", "MEMBRANED_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    from membrane_integrations.membrane._daemon_build import (
        MembranedNotFoundError,
        resolve_membraned,
    )

    try:
        return resolve_membraned(search_path=False, build=False, log=None).path
    except MembranedNotFoundError:
        pass
    cache = tmp_path / "cache" / "bin"
    cache.mkdir(parents=True)
    name = Path(binary).name if Path(binary).name.startswith("membraned-") else "membraned"
    (cache / name).symlink_to(binary)
    monkeypatch.setenv("MEMBRANED_CACHE_DIR", str(cache))
    found = resolve_membraned(search_path=False, build=False, log=None)
    assert found.path == str(cache / name)
    return found.path
