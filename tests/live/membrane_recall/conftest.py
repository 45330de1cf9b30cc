"""Fixtures for the recall index tests: a real membraned, and an index on each store.

``store_kind`` runs a test on the embedded SQLite store and on PostgreSQL + pgvector (the
cluster of ``tests/support/pgvector.py``, one per module, a fresh schema per test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from membrane_integrations.membrane import MembraneClient
from membrane_integrations.membrane.recall_index import (
    RecallIndex,
    SQLiteStore,
    default_embedder,
)
from membrane_integrations.membrane.recall_index.postgres_store import PostgresStore
from membrane_integrations.membrane.tenancy import MembraneView
from membrane_integrations.membrane.types import Sensitivity, TrustContext
from tests.support.membraned import Membraned, require_daemon
from tests.support.pgvector import PgVectorCluster, require_pgserver

API_KEY = "recall-index-key"
STORES = ("sqlite", "postgres")


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def pg() -> Iterator[PgVectorCluster]:
    require_pgserver()
    with PgVectorCluster(database="recall") as cluster:
        yield cluster


def open_store(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> SQLiteStore | PostgresStore:
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "recall.sqlite3")
    cluster: PgVectorCluster = request.getfixturevalue("pg")
    return PostgresStore(cluster.uri(), schema=f"recall_{uuid.uuid4().hex[:10]}")


@pytest.fixture(params=STORES)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecallIndex]:
    """A fresh index on each store, WordLlama vectors when installed, a 1 s sync interval."""
    built = RecallIndex(
        open_store(request.param, tmp_path, request), embedder=default_embedder(), sync_interval=1.0
    )
    yield built
    built.close()


@pytest.fixture
def client(daemon: Membraned, index: RecallIndex) -> Iterator[MembraneClient]:
    """A sync client of the daemon whose writes update ``index``."""
    with daemon.client(timeout=10) as c:
        c.recall_index = index
        yield c


def view_of(scope: str, ceiling: Sensitivity = Sensitivity.MEDIUM) -> MembraneView:
    """The view a memory surface of container ``scope`` reads as."""
    return MembraneView(
        TrustContext(max_sensitivity=ceiling, actor_id="tester", scopes=[scope]), scope=scope
    )


def container() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"
