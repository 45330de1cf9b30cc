"""The PostgreSQL daemon harness, end to end with the real membraned.

The harness gives the daemon a fresh database with ``vector`` (``-postgres-dsn``; an inherited
``MEMBRANE_POSTGRES_DSN`` never reaches it), a config naming the emulator's ``/v1/embeddings`` with
the emulator's own dimension, and the embedding key in the environment only. The daemon proves
each piece: it creates its schema in *our* database, records the configured model and dimension
in ``embedding_metadata``, and its start-time backfill embeds a record through the emulator
(which answers 401 without the key).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.support.membraned_pg import EMBEDDING_MODEL, PostgresStack, require_postgres_stack

pytestmark = [pytest.mark.live, pytest.mark.membraned]
DEADLINE = 30.0


@pytest.fixture(scope="module")
def daemon_bin() -> str:
    return require_postgres_stack()


@pytest.fixture(scope="module")
def stack(daemon_bin: str) -> Iterator[PostgresStack]:
    with PostgresStack() as running:
        yield running


def test_daemon_gets_a_fresh_vector_database_and_the_emulator_embeddings(
    stack: PostgresStack, daemon_bin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBRANE_POSTGRES_DSN", "postgres://inherited/should-not-leak")
    daemon = stack.membraned(daemon_bin)
    with daemon, daemon.client(timeout=30) as client:
        assert daemon._tmp is not None
        config = yaml.safe_load((daemon._tmp / "membraned.yaml").read_text())
        assert config["backend"] == "postgres" and config["rate_limit_per_second"] == 0
        assert config["embedding_model"] == EMBEDDING_MODEL
        assert config["embedding_dimensions"] == stack.dimensions > 0
        assert stack.emulator.api_key not in (daemon._tmp / "membraned.yaml").read_text()
        assert daemon._env()["MEMBRANE_EMBEDDING_API_KEY"] == stack.emulator.api_key
        assert "MEMBRANE_POSTGRES_DSN" not in daemon._env()
        # the daemon made its schema in the database we gave it, with our model and dimension
        meta = dict(stack.sql(daemon, "SELECT key, value FROM embedding_metadata"))
        assert meta == {"dimensions": str(stack.dimensions), "model": EMBEDDING_MODEL}
        record = client.ingest_observation("harness", "checks", "the embedding key")
        daemon.restart(keep_data=True)  # the start-time backfill embeds it, with the key
        deadline = time.monotonic() + DEADLINE
        count = "SELECT count(*) FROM trigger_embeddings"
        while stack.sql(daemon, count) != [["1"]]:
            assert time.monotonic() < deadline, "the backfill never embedded the record"
            time.sleep(0.05)  # polling the database under the deadline
        [[embedded_id, model]] = stack.sql(
            daemon, "SELECT record_id, model FROM trigger_embeddings"
        )
        assert (embedded_id, model) == (record.id, EMBEDDING_MODEL)
    assert daemon._tmp is None  # the daemon's temp dir (config file) is gone
    refused = httpx.post(
        config["embedding_endpoint"], json={"model": "m", "input": "x"}, timeout=10
    )
    assert refused.status_code == 401  # so the backfill above did use the key


def test_every_daemon_gets_its_own_database(stack: PostgresStack) -> None:
    first, second = stack.fresh_dsn(), stack.fresh_dsn()
    assert first != second
    for dsn in (first, second):
        name = dsn.rsplit("/", 1)[1].split("?")[0]
        assert (
            stack.cluster.sql(
                "SELECT count(*) FROM pg_extension WHERE extname = 'vector'", database=name
            )
            == "1"
        )
