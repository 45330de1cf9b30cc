"""The emulator's SQLite store: schema, rows, jobs table, and the per-tenant index cache.

One connection guarded by one re-entrant lock (:attr:`Store.lock`; the engine holds it around
every operation). On a file the database runs in WAL mode with ``synchronous=NORMAL``, which
survives a killed process; an operating-system crash may lose the last transactions. Rows come
back as :class:`Brief` / :class:`Row` records; turning them into JSON is :mod:`~.wire`'s job.

Each tenant's :class:`~.index.TenantIndex` is built from SQLite on first use and cached until
:meth:`Store.invalidate`.

Example:
    >>> import numpy as np
    >>> from .embeddings import HashingEmbeddings
    >>> store = Store(None, HashingEmbeddings())
    >>> vector = np.zeros(384, dtype=np.float32)
    >>> store.insert_memories("t", [("m1", "tea", ["container.a"], None, vector)], now_iso())
    >>> store.brief("t", ["m1", "missing"])["m1"].scope
    ['container.a']
    >>> store.close()
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import numpy.typing as npt

from .embeddings import EmbeddingsLike, embed_matrix
from .errors import EmulatorBusy
from .index import TenantIndex
from .scope_memo import ScopeMemo
from .selection import embedder_dimensions

__all__ = ["Brief", "JobRow", "Row", "Store", "iso", "now", "now_iso"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL, id TEXT NOT NULL UNIQUE, content TEXT NOT NULL,
    scope TEXT NOT NULL, category TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    evolution TEXT NOT NULL, embedding BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, description TEXT NOT NULL,
    embedding BLOB NOT NULL, UNIQUE (tenant, a, b)
);
CREATE INDEX IF NOT EXISTS links_a ON links (a);
CREATE INDEX IF NOT EXISTS links_b ON links (b);
CREATE TABLE IF NOT EXISTS jobs (
    tenant TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL,
    result TEXT, error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (tenant, created_at);
"""

# SQLite limits the number of ``?`` in one statement; id lists are sent in chunks of this size.
_CHUNK = 500

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Brief:
    """id, content, scope and category of a memory (what search hits and graph nodes show)."""

    id: str
    content: str
    scope: list[str]
    category: str | None


@dataclass(frozen=True)
class Row(Brief):
    """A whole memory row."""

    created_at: str
    updated_at: str
    evolution: list[dict[str, Any]]


@dataclass(frozen=True)
class JobRow:
    """An ingest job row (``result`` and ``error`` decoded)."""

    id: str
    status: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: str
    updated_at: str


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(when: datetime) -> str:
    """The stored and served timestamp form: ISO 8601 with ``Z``."""
    return when.isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    return iso(now())


def _chunks(ids: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """``ids`` in chunks, each with its ``?,?,...`` placeholder list."""
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def _blob(vec: npt.NDArray[Any]) -> bytes:
    return vec.astype(np.float32).tobytes()


# Attempts at matching a scope filter before the tenant's own new tokens make it give up.
_SETTLE_ROUNDS = 32


class Store:
    """SQLite tables of memories, links and jobs, plus the tenant index cache (see the module doc).

    Args:
        db_path: a SQLite file (WAL mode); ``None`` keeps everything in memory.
        embeddings: the embedder, for the index size of an empty tenant and for re-embedding a
            database written with another embedder size.
    """

    def __init__(self, db_path: str | None, embeddings: EmbeddingsLike) -> None:
        self.lock = threading.RLock()
        self.embeddings = embeddings
        self.on_file = bool(db_path)
        self._db = sqlite3.connect(
            db_path or ":memory:", check_same_thread=False, isolation_level=None
        )
        if db_path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._indexes: dict[str, TenantIndex] = {}
        # Known scope hits per tenant, kept when an index is rebuilt (see scope_memo).
        self._memos: dict[str, ScopeMemo] = {}
        self._reembed_if_the_embedder_changed()

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def dimensions(self) -> int:
        return embedder_dimensions(self.embeddings)

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[None]:
        """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""
        self._db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _reembed_if_the_embedder_changed(self) -> None:
        """A database written with another embedder size (e.g. hashing's 384 before WordLlama's
        256) is re-embedded once, so an old ``--db`` file keeps working."""
        row = self._db.execute("SELECT embedding FROM memories LIMIT 1").fetchone()
        if row is None or len(row[0]) == self.dimensions() * 4:  # float32 bytes
            return
        with self.transaction():
            for table, text in (("memories", "content"), ("links", "description")):
                rows = self._db.execute(f"SELECT seq, {text} FROM {table}").fetchall()
                for start in range(0, len(rows), 1000):
                    chunk = rows[start : start + 1000]
                    vectors = embed_matrix(self.embeddings, [t for _, t in chunk])
                    self._db.executemany(
                        f"UPDATE {table} SET embedding=? WHERE seq=?",
                        [(v.tobytes(), seq) for (seq, _), v in zip(chunk, vectors, strict=True)],
                    )

    # ---------------------------------------------------------------- index cache

    def index(self, tenant: str) -> TenantIndex:
        """The tenant's index, built from SQLite on first use."""
        idx = self._indexes.get(tenant)
        if idx is not None:
            return idx
        first = self._db.execute(
            "SELECT embedding FROM memories WHERE tenant=? LIMIT 1", (tenant,)
        ).fetchone()
        idx = TenantIndex(
            len(first[0]) // 4 if first else self.dimensions(),  # float32 bytes
            memo=self.memo(tenant),
            nodes=self.count_memories(tenant),
            edges=self.count_links(tenant),
        )
        # Row by row from the cursor: a list of every row would hold all the blobs at once.
        for mid, scope, category, blob in self._db.execute(
            "SELECT id, scope, category, embedding FROM memories WHERE tenant=? ORDER BY seq",
            (tenant,),
        ):
            idx.add_node(mid, tuple(json.loads(scope)), category, np.frombuffer(blob, np.float32))
        for a, b, desc, blob in self._db.execute(
            "SELECT a, b, description, embedding FROM links WHERE tenant=? ORDER BY seq",
            (tenant,),
        ):
            idx.add_edge(a, b, desc, np.frombuffer(blob, np.float32))
        self._indexes[tenant] = idx
        return idx

    def memo(self, tenant: str) -> ScopeMemo:
        """The tenant's known scope hits (see :mod:`~.scope_memo`)."""
        memo = self._memos.get(tenant)
        if memo is None:
            memo = self._memos.setdefault(tenant, ScopeMemo())
        return memo

    @contextmanager
    def scoped(
        self,
        tenant: str,
        pattern_lists: Iterable[tuple[str, ...]],
        extra_tokens: Sequence[str] = (),
    ) -> Iterator[TenantIndex]:
        """Hold :attr:`lock` once every token of the tenant (and ``extra_tokens``, a scope about
        to be written) has known hits for each pattern list; yield the tenant's index.

        The matching runs between attempts, without the lock (call this without holding it):
        under the lock only lookups say what is missing. A tenant that keeps adding new tokens
        faster than its own filter settles gets a retryable 503 after ``_SETTLE_ROUNDS``.
        """
        lists = [p for p in dict.fromkeys(pattern_lists) if p]
        memo = self.memo(tenant)
        for _ in range(_SETTLE_ROUNDS):
            with self.lock:
                idx = self.index(tenant)
                todo = [
                    (p, memo.missing(p, idx.token_log, generation=idx.generation)) for p in lists
                ]
                todo = [(p, [*t, *memo.unknown(p, extra_tokens)]) for p, t in todo]
                if not any(t for _, t in todo):
                    yield idx
                    return
            for patterns, tokens in todo:
                if tokens:
                    memo.learn(patterns, tokens)
        raise EmulatorBusy("the scope filter did not settle while memories kept changing; retry")

    def cached_index(self, tenant: str) -> TenantIndex | None:
        """The tenant's index if it is built (a bulk insert then extends it in place)."""
        return self._indexes.get(tenant)

    def invalidate(self, tenant: str) -> None:
        """Drop the tenant's index; the next :meth:`index` rebuilds it from SQLite."""
        self._indexes.pop(tenant, None)

    # ---------------------------------------------------------------- memory rows

    def rows(self, tenant: str, ids: Sequence[str]) -> dict[str, Row]:
        """The whole rows of the ids that exist."""
        out: dict[str, Row] = {}
        for chunk, marks in _chunks(ids):
            for mid, content, scope, category, created, updated, evolution in self._db.execute(
                "SELECT id, content, scope, category, created_at, updated_at, evolution "
                f"FROM memories WHERE tenant=? AND id IN ({marks})",
                (tenant, *chunk),
            ):
                out[mid] = Row(
                    mid,
                    content,
                    json.loads(scope),
                    category,
                    created,
                    updated,
                    json.loads(evolution),
                )
        return out

    def brief(self, tenant: str, ids: Sequence[str]) -> dict[str, Brief]:
        """id, content, scope and category of the ids that exist (no timestamps, no history)."""
        out: dict[str, Brief] = {}
        for chunk, marks in _chunks(ids):
            for mid, content, scope, category in self._db.execute(
                "SELECT id, content, scope, category FROM memories "
                f"WHERE tenant=? AND id IN ({marks})",
                (tenant, *chunk),
            ):
                out[mid] = Brief(mid, content, json.loads(scope), category)
        return out

    def insert_memories(
        self,
        tenant: str,
        items: Iterable[tuple[str, str, Sequence[str], str | None, npt.NDArray[Any]]],
        stamp: str,
    ) -> None:
        """Insert ``(id, content, scope, category, vector)`` rows created at ``stamp``."""
        self._db.executemany(
            "INSERT INTO memories (tenant, id, content, scope, category, created_at, "
            "updated_at, evolution, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?)",
            [
                (tenant, mid, content, json.dumps(list(scope)), category, stamp, stamp, _blob(v))
                for mid, content, scope, category, v in items
            ],
        )

    def update_memory(
        self,
        tenant: str,
        memory_id: str,
        *,
        content: str,
        scope: Sequence[str],
        category: str | None,
        stamp: str,
        evolution: list[dict[str, Any]],
        vec: npt.NDArray[Any],
    ) -> None:
        self._db.execute(
            "UPDATE memories SET content=?, scope=?, category=?, updated_at=?, evolution=?, "
            "embedding=? WHERE tenant=? AND id=?",
            (
                content,
                json.dumps(list(scope)),
                category,
                stamp,
                json.dumps(evolution),
                _blob(vec),
                tenant,
                memory_id,
            ),
        )

    def delete_memories(self, tenant: str, ids: Sequence[str]) -> None:
        """Delete the memories and every link touching them, in one transaction."""
        with self.transaction():
            for chunk, marks in _chunks(ids):
                self._db.execute(
                    f"DELETE FROM memories WHERE tenant=? AND id IN ({marks})", (tenant, *chunk)
                )
                self._db.execute(
                    f"DELETE FROM links WHERE tenant=? AND (a IN ({marks}) OR b IN ({marks}))",
                    (tenant, *chunk, *chunk),
                )

    def count_memories(self, tenant: str) -> int:
        return int(
            self._db.execute("SELECT COUNT(*) FROM memories WHERE tenant=?", (tenant,)).fetchone()[
                0
            ]
        )

    # ---------------------------------------------------------------- links

    def count_links(self, tenant: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM links WHERE tenant=?", (tenant,)).fetchone()
        return int(row[0])

    def insert_link(
        self, tenant: str, a: str, b: str, description: str, vec: npt.NDArray[Any]
    ) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO links (tenant, a, b, description, embedding) "
            "VALUES (?, ?, ?, ?, ?)",
            (tenant, a, b, description, _blob(vec)),
        )

    def delete_links_of(self, tenant: str, memory_id: str) -> None:
        self._db.execute(
            "DELETE FROM links WHERE tenant=? AND (a=? OR b=?)", (tenant, memory_id, memory_id)
        )

    def delete_link(self, tenant: str, a: str, b: str) -> int:
        """Delete the link ``a``-``b`` (``a < b``); how many rows went (0 or 1)."""
        cursor = self._db.execute(
            "DELETE FROM links WHERE tenant=? AND a=? AND b=?", (tenant, a, b)
        )
        return int(cursor.rowcount)

    # ---------------------------------------------------------------- jobs

    def insert_job(self, tenant: str, job_id: str, payload: dict[str, Any]) -> None:
        """A new ``queued`` job."""
        stamp = now_iso()
        self._db.execute(
            "INSERT INTO jobs (tenant, id, status, payload, created_at, updated_at) "
            "VALUES (?, ?, 'queued', ?, ?, ?)",
            (tenant, job_id, json.dumps(payload), stamp, stamp),
        )

    def job(self, tenant: str, job_id: str) -> JobRow | None:
        row = self._db.execute(
            "SELECT id, status, result, error, created_at, updated_at FROM jobs "
            "WHERE tenant=? AND id=?",
            (tenant, job_id),
        ).fetchone()
        if row is None:
            return None
        return JobRow(
            row[0],
            row[1],
            json.loads(row[2]) if row[2] else None,
            json.loads(row[3]) if row[3] else None,
            row[4],
            row[5],
        )

    def job_payload(self, tenant: str, job_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT payload FROM jobs WHERE tenant=? AND id=?", (tenant, job_id)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def set_job(
        self,
        tenant: str,
        job_id: str,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE jobs SET status=?, result=?, error=?, updated_at=? WHERE tenant=? AND id=?",
            (
                status,
                json.dumps(result) if result else None,
                json.dumps(error) if error else None,
                now_iso(),
                tenant,
                job_id,
            ),
        )

    def count_open_jobs(self, tenant: str) -> int:
        """Jobs ``queued`` or ``processing``."""
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE tenant=? AND status IN ('queued','processing')",
                (tenant,),
            ).fetchone()[0]
        )

    def count_jobs_since(self, tenant: str, stamp: str) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE tenant=? AND created_at >= ?", (tenant, stamp)
            ).fetchone()[0]
        )

    def requeue_open_jobs(self) -> list[tuple[str, str]]:
        """Mark every ``processing`` job ``queued``; every open job's ``(tenant, id)``, oldest
        first."""
        rows = self._db.execute(
            "SELECT tenant, id FROM jobs WHERE status IN ('queued','processing') "
            "ORDER BY created_at, rowid"
        ).fetchall()
        self._db.execute("UPDATE jobs SET status='queued' WHERE status='processing'")
        return [(tenant, job_id) for tenant, job_id in rows]
