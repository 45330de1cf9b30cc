"""Fixtures of the notebook and demo tests: offline environment, a membraned stand-in."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = ROOT / "tests" / "support" / "membrane_double.py"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No model key and no hosted Membrain, whatever the developer's shell has."""
    for name in ("OPENAI_API_KEY", "MEMBRAIN_API_KEY", "MEMBRAIN_BASE_URL", "MEMBRANED_BIN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def standin_membraned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An executable that runs the TEST DOUBLE with membraned's command line, as MEMBRANED_BIN.

    The real daemon cannot be installed here; this lets the daemon code paths of the demo and
    the notebooks run end to end. It proves our code, not the daemon's behaviour.
    """
    script = tmp_path / "membraned"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{DOUBLE}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("MEMBRANED_BIN", str(script))
    return str(script)
