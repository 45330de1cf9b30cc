"""The PostgreSQL daemon harness, wired end to end with a stand-in for membraned.

The real daemon cannot be installed here, so a small stand-in script records what the harness
gave it (``-postgres-dsn``, the config YAML, the embedding key in the environment) and then runs
the membraned TEST DOUBLE. The test checks every piece membraned would use: the DSN reaches an
empty database with ``vector``, the config names the emulator's ``/v1/embeddings`` with its native
dimension, that endpoint answers with the key from the environment, and everything is removed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.membraned_pg import EMBEDDING_MODEL, PostgresStack
from tests.support.pgvector import require_pgserver

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[3]
STAND_IN = f"""
import hashlib, json, os, sys
sys.path.insert(0, {str(ROOT)!r})
args = sys.argv[1:]
at = args.index("-postgres-dsn")
dsn = args[at + 1]
del args[at : at + 2]
key = os.environ.get("MEMBRANE_EMBEDDING_API_KEY", "")
report = {{
    "dsn": dsn,
    "argv": args,
    "config": open(args[args.index("-config") + 1]).read(),
    "key_sha": hashlib.sha256(key.encode()).hexdigest() if key else None,
    "inherited_dsn": os.environ.get("MEMBRANE_POSTGRES_DSN"),
}}
with open(os.environ["STAND_IN_REPORT"], "w") as fh:
    json.dump(report, fh)
from tests.support.membrane_double import main
raise SystemExit(main(args + ["-db", os.environ["STAND_IN_REPORT"] + ".db"]))
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[PostgresStack]:
    require_pgserver()
    with PostgresStack() as running:
        yield running


def test_daemon_gets_a_fresh_vector_database_and_the_emulator_embeddings(
    stack: PostgresStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBRANE_POSTGRES_DSN", "postgres://inherited/should-not-leak")
    script = tmp_path / "membraned_stand_in.py"
    script.write_text(STAND_IN)
    report_path = tmp_path / "report.json"
    daemon = stack.membraned(
        [sys.executable, str(script)], extra_env={"STAND_IN_REPORT": str(report_path)}
    )
    with daemon, daemon.client(timeout=5) as client:
        assert client.get_metrics()["total_records"] == 0
        report = json.loads(report_path.read_text())
    assert "-db" not in report["argv"]
    assert report["inherited_dsn"] is None

    database = report["dsn"].rsplit("/", 1)[1].split("?")[0]
    assert report["dsn"].startswith(f"postgresql://postgres@127.0.0.1:{stack.cluster.port}/")
    tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert stack.cluster.sql(tables, database=database) == "0"  # empty: a fresh database
    ext = "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
    assert stack.cluster.sql(ext, database=database) == "0.8.5"

    config = yaml.safe_load(report["config"])
    assert config["backend"] == "postgres"
    assert config["rate_limit_per_second"] == 0
    assert config["embedding_model"] == EMBEDDING_MODEL
    assert config["embedding_dimensions"] == stack.emulator.engine.native_dimensions()
    assert "embedding_api_key" not in config and stack.emulator.api_key not in report["config"]
    key = stack.emulator.api_key
    assert report["key_sha"] == hashlib.sha256(key.encode()).hexdigest()

    # what membraned will send: an OpenAI embeddings request to the configured endpoint
    reply = httpx.post(
        config["embedding_endpoint"],
        json={"model": config["embedding_model"], "input": ["deploy on Tuesday", "green tea"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert reply.status_code == 200
    data = reply.json()["data"]
    assert [d["index"] for d in data] == [0, 1]
    assert all(len(d["embedding"]) == config["embedding_dimensions"] for d in data)
    refused = httpx.post(
        config["embedding_endpoint"], json={"model": "m", "input": "x"}, timeout=10
    )
    assert refused.status_code == 401
    assert daemon._tmp is None  # the daemon's temp dir (config file) is gone


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
