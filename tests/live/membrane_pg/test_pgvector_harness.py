"""The PostgreSQL + pgvector harness works here: a cluster on 127.0.0.1 with ``vector``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pgvector import PgVectorCluster, require_pgserver

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgVectorCluster]:
    require_pgserver()
    with PgVectorCluster() as pg:
        yield pg


def test_vector_extension_and_nearest_neighbour(cluster: PgVectorCluster) -> None:
    assert cluster.sql("SELECT extversion FROM pg_extension WHERE extname = 'vector'") == "0.8.5"
    cluster.sql(
        "CREATE TABLE items (id int PRIMARY KEY, embedding vector(3));"
        "INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.7,0.7,0]');"
        "CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops);"
    )
    nearest = cluster.sql("SELECT id FROM items ORDER BY embedding <=> '[0.9,0.2,0]' LIMIT 2")
    assert nearest.split() == ["1", "3"]
    distance = cluster.sql(
        "SELECT round((embedding <=> '[0,1,0]')::numeric, 3) FROM items WHERE id = 1"
    )
    assert distance == "1.000"


def test_listens_on_loopback_tcp_with_the_documented_dsn(cluster: PgVectorCluster) -> None:
    assert cluster.dsn == f"postgresql://postgres@127.0.0.1:{cluster.port}/membrane?sslmode=disable"
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=5):
        pass
    assert cluster.sql("SHOW listen_addresses", database="postgres") == "127.0.0.1"
    assert cluster.sql("SELECT current_database()") == "membrane"


def test_stop_removes_everything() -> None:
    require_pgserver()
    pg = PgVectorCluster(database="scratch").start()
    data, port = pg.data_dir, pg.port
    assert (data / "PG_VERSION").is_file()
    pg.stop()
    assert not Path(data).exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    pg.stop()  # idempotent
