"""Suite-wide settings: the Membrane recall index of every test lives in this run's temp dir.

Membrane memory surfaces recall through a recall index by default, stored under the user's cache
directory; tests must neither read nor leave one there, so the whole run shares one SQLite file
in pytest's temp dir (``MEMBRANE_RECALL_INDEX``) unless the caller set the variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _recall_index_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    name = "MEMBRANE_RECALL_INDEX"
    if os.environ.get(name):
        yield
        return
    os.environ[name] = str(tmp_path_factory.mktemp("recall-index") / "recall.sqlite3")
    try:
        yield
    finally:
        os.environ.pop(name, None)
