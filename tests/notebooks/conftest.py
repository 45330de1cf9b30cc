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
