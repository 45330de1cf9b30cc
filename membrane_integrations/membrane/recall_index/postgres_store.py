"""The shared recall index store: PostgreSQL, ``tsvector`` for terms and pgvector for vectors.

For many agent processes or hosts sharing one daemon: every process writes the records it stores
and reads the others', so a record one process writes is a candidate for all at once. Everything
lives in its own schema (``membrane_recall`` by default), e.g. in the database the daemon already
uses; the ``vector`` extension must exist in that database or be creatable by the user.

* lexical: ``to_tsvector('simple', terms)`` (a stored generated column, GIN-indexed), ranked by
  ``ts_rank_cd`` against the OR of the query terms;
* semantic: exact cosine distance (``<=>``) over the scope's rows (no ANN index: a container's
  scan stays exact and filtered).

Needs ``psycopg`` 3 (the ``postgres`` extra). Example::

    store = PostgresStore("postgresql://user@host/db")
    store.upsert([Entry("r1", "bob", "tea", "tea")])
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from typing import Any

from ...core.errors import InvalidRequestError
from .store import Entry

__all__ = ["DEFAULT_SCHEMA", "PostgresStore", "tsquery"]

DEFAULT_SCHEMA = "membrane_recall"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_NON_WORD = re.compile(r"[^\w]+")


def tsquery(terms: Sequence[str]) -> str:
    """A ``to_tsquery('simple', ...)`` text matching any of ``terms``; only word characters.

    >>> tsquery(["tea", "o'clock", "tea", "&|!"])
    "'tea' | 'o' | 'clock'"
    """
    words: dict[str, None] = {}
    for term in terms:
        for word in _NON_WORD.split(term.lower()):
            if word:
                words[word] = None
    return " | ".join(f"'{w}'" for w in words)


def _vector_text(vector: Any) -> str:
    import numpy as np

    values = np.asarray(vector, dtype=np.float32).reshape(-1)
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


class PostgresStore:
    """A recall index in a PostgreSQL schema (created if missing)."""

    def __init__(self, dsn: str, *, schema: str = DEFAULT_SCHEMA) -> None:
        if not _IDENT.match(schema):
            raise InvalidRequestError(
                f"schema must be a plain lower-case SQL identifier, got {schema!r}", field="schema"
            )
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "the PostgreSQL recall index needs psycopg: "
                "pip install 'membrane-integrations[postgres]'"
            ) from exc
        self.schema = schema
        self._lock = threading.RLock()
        self._db = psycopg.connect(dsn, autocommit=True)
        self._closed = False
        s = schema
        with self._lock:
            self._db.execute("CREATE EXTENSION IF NOT EXISTS vector")
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {s}.records ("
                " n bigserial PRIMARY KEY, id text NOT NULL UNIQUE, scope text NOT NULL,"
                " text text NOT NULL, terms text NOT NULL,"
                " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED,"
                " status text NOT NULL DEFAULT 'active', embedding vector)"
            )
            self._db.execute(
                f"CREATE INDEX IF NOT EXISTS records_tsv ON {s}.records USING gin(tsv)"
            )
            self._db.execute(f"CREATE INDEX IF NOT EXISTS records_scope ON {s}.records(scope, n)")

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def upsert(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        rows = [
            (
                e.id,
                e.scope,
                e.text,
                e.terms,
                e.status,
                None if e.vector is None else _vector_text(e.vector),
            )
            for e in entries
        ]
        with self._lock, self._db.transaction(), self._db.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.schema}.records(id, scope, text, terms, status, embedding) "
                "VALUES (%s, %s, %s, %s, %s, %s::vector) ON CONFLICT (id) DO UPDATE SET "
                "scope = EXCLUDED.scope, text = EXCLUDED.text, terms = EXCLUDED.terms, "
                "status = EXCLUDED.status, embedding = EXCLUDED.embedding",
                rows,
            )

    def remove(self, ids: Sequence[str]) -> None:
        if ids:
            with self._lock:
                self._db.execute(
                    f"DELETE FROM {self.schema}.records WHERE id = ANY(%s)", (list(ids),)
                )

    def set_status(self, record_id: str, status: str) -> None:
        with self._lock:
            self._db.execute(
                f"UPDATE {self.schema}.records SET status = %s WHERE id = %s", (status, record_id)
            )

    def clear(self, scope: str | None) -> None:
        with self._lock:
            if scope is None:
                self._db.execute(f"DELETE FROM {self.schema}.records")
            else:
                self._db.execute(f"DELETE FROM {self.schema}.records WHERE scope = %s", (scope,))

    def known(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = self._rows(
            f"SELECT id FROM {self.schema}.records WHERE id = ANY(%s)", (list(set(ids)),)
        )
        return {r[0] for r in rows}

    def contents(self, ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
        import numpy as np

        if not ids:
            return {}
        rows = self._rows(
            f"SELECT id, text, embedding::text FROM {self.schema}.records WHERE id = ANY(%s)",
            (list(set(ids)),),
        )
        return {
            record_id: (
                text,
                None if vec is None else np.asarray(json.loads(vec), dtype=np.float32),
            )
            for record_id, text, vec in rows
        }

    def _where(self, scope: str | None) -> tuple[str, list[Any]]:
        return ("", []) if scope is None else ("AND scope = %s", [scope])

    def lexical(self, scope: str | None, terms: Sequence[str], limit: int) -> list[str]:
        query = tsquery(terms)
        if not query or limit <= 0:
            return []
        where, args = self._where(scope)
        rows = self._rows(
            f"SELECT id FROM {self.schema}.records, to_tsquery('simple', %s) q "
            f"WHERE tsv @@ q {where} ORDER BY ts_rank_cd(tsv, q) DESC, n DESC LIMIT %s",
            [query, *args, limit],
        )
        return [r[0] for r in rows]

    def semantic(self, scope: str | None, vector: Any, limit: int) -> list[str]:
        if limit <= 0:
            return []
        where, args = self._where(scope)
        text = _vector_text(vector)
        rows = self._rows(
            f"SELECT id FROM {self.schema}.records WHERE embedding IS NOT NULL "
            f"AND vector_dims(embedding) = vector_dims(%s::vector) {where} "
            "ORDER BY embedding <=> %s::vector, n DESC LIMIT %s",
            [text, *args, text, limit],
        )
        return [r[0] for r in rows]

    def recent(self, scope: str | None, limit: int) -> list[str]:
        where, args = self._where(scope)
        rows = self._rows(
            f"SELECT id FROM {self.schema}.records WHERE true {where} ORDER BY n DESC LIMIT %s",
            [*args, limit],
        )
        return [r[0] for r in rows]

    def count(self, scope: str | None) -> int:
        where, args = self._where(scope)
        rows = self._rows(f"SELECT count(*) FROM {self.schema}.records WHERE true {where}", args)
        return int(rows[0][0])

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
