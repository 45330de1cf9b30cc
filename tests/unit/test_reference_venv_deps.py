"""The reference client's throwaway venv gets exactly the package's base dependencies.

``scripts/reference_client_venv.py`` installs them beside the reference client so one process
can import both; a base dependency added to pyproject.toml but not there breaks that process at
import (as google-re2 once did).
"""

from __future__ import annotations

from pathlib import Path

import tomllib

from scripts.reference_client_venv import OUR_RUNTIME_DEPS

ROOT = Path(__file__).resolve().parents[2]


def test_reference_venv_installs_the_base_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert sorted(OUR_RUNTIME_DEPS) == sorted(project["dependencies"])
