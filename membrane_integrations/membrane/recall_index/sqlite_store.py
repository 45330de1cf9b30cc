"""The embedded recall index store: one SQLite file (FTS5 for terms, a numpy matrix for vectors).

Records live in ``records`` (id, scope, text, terms, status, vector blob); an external-content
FTS5 table over ``terms`` ranks lexically with SQLite's ``bm25``. Vectors are scanned from an
in-memory matrix per scope, loaded from the file on first use and brought up to date on each
query: rows added since (by any process sharing the file, WAL mode) are appended; a removal or
replacement anywhere (a counter in ``meta``) reloads the matrix.

Example:
    >>> import tempfile, os
    >>> store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "recall.sqlite3"))
    >>> store.upsert([Entry("r1", "bob", "tea", "tea"), Entry("r2", "bob", "coffee", "coffee")])
    >>> store.lexical("bob", ["tea"], 5), store.recent("bob", 5), store.count(None)
    (['r1'], ['r2', 'r1'], 2)
    >>> store.remove(["r1"]); store.known(["r1", "r2"])
    {'r2'}
    >>> store.close()
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .store import Entry

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('removals', 0);
CREATE TABLE IF NOT EXISTS records (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    text TEXT NOT NULL,
    terms TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    vector BLOB
);
CREATE INDEX IF NOT EXISTS records_scope ON records(scope, n);
CREATE VIRTUAL TABLE IF NOT EXISTS terms_fts USING fts5(
    terms, content='records', content_rowid='n', tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS records_ai AFTER INSERT ON records BEGIN
    INSERT INTO terms_fts(rowid, terms) VALUES (new.n, new.terms);
END;
CREATE TRIGGER IF NOT EXISTS records_ad AFTER DELETE ON records BEGIN
    INSERT INTO terms_fts(terms_fts, rowid, terms) VALUES ('delete', old.n, old.terms);
END;
CREATE TRIGGER IF NOT EXISTS records_au AFTER UPDATE OF terms ON records BEGIN
    INSERT INTO terms_fts(terms_fts, rowid, terms) VALUES ('delete', old.n, old.terms);
    INSERT INTO terms_fts(rowid, terms) VALUES (new.n, new.terms);
END;
"""


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of ``terms`` (each quoted, so no term is an operator).

    >>> fts_query(["tea", 'a"b', "tea"])
    '"tea" OR "a""b"'
    """
    unique = dict.fromkeys(t for t in terms if t)
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)


class _Cache:
    def __init__(self, matrix: Any, high: int, removals: int) -> None:
        self.matrix = matrix
        self.high = high
        self.removals = removals


class SQLiteStore:
    """A recall index in one SQLite file (created with its folders if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._caches: dict[str | None, _Cache] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- writes ----------------------------------------------------------------------------

    def upsert(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        with self._tx() as db:
            replaced = 0
            for e in entries:
                blob = None if e.vector is None else _blob(e.vector)
                row = db.execute("SELECT n FROM records WHERE id = ?", (e.id,)).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO records(id, scope, text, terms, status, vector) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (e.id, e.scope, e.text, e.terms, e.status, blob),
                    )
                else:
                    replaced += 1
                    db.execute(
                        "UPDATE records SET scope=?, text=?, terms=?, status=?, vector=? WHERE n=?",
                        (e.scope, e.text, e.terms, e.status, blob, row[0]),
                    )
            if replaced:
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'removals'")

    def remove(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._tx() as db:
            gone = 0
            for record_id in ids:
                gone += db.execute("DELETE FROM records WHERE id = ?", (record_id,)).rowcount
            if gone:
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'removals'")

    def set_status(self, record_id: str, status: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE records SET status = ? WHERE id = ?", (status, record_id))

    def clear(self, scope: str | None) -> None:
        with self._tx() as db:
            if scope is None:
                db.execute("DELETE FROM records")
            else:
                db.execute("DELETE FROM records WHERE scope = ?", (scope,))
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'removals'")

    # --- reads -----------------------------------------------------------------------------

    def _select(self, sql: str, args: Sequence[Any]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def known(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._select(f"SELECT id FROM records WHERE id IN ({marks})", chunk)
            found.update(r[0] for r in rows)
        return found

    def contents(self, ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
        import numpy as np

        found: dict[str, tuple[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._select(
                f"SELECT id, text, vector FROM records WHERE id IN ({marks})", chunk
            )
            for record_id, text, blob in rows:
                vector = None if blob is None else np.frombuffer(blob, dtype=np.float32)
                found[record_id] = (text, vector)
        return found

    def lexical(self, scope: str | None, terms: Sequence[str], limit: int) -> list[str]:
        query = fts_query(terms)
        if not query or limit <= 0:
            return []
        where = "" if scope is None else "AND r.scope = ?"
        args: list[Any] = [query] + ([] if scope is None else [scope]) + [limit]
        rows = self._select(
            "SELECT r.id FROM terms_fts JOIN records r ON r.n = terms_fts.rowid "
            f"WHERE terms_fts MATCH ? {where} ORDER BY bm25(terms_fts), r.n DESC LIMIT ?",
            args,
        )
        return [r[0] for r in rows]

    def recent(self, scope: str | None, limit: int) -> list[str]:
        if scope is None:
            rows = self._select("SELECT id FROM records ORDER BY n DESC LIMIT ?", [limit])
        else:
            rows = self._select(
                "SELECT id FROM records WHERE scope = ? ORDER BY n DESC LIMIT ?", [scope, limit]
            )
        return [r[0] for r in rows]

    def count(self, scope: str | None) -> int:
        if scope is None:
            rows = self._select("SELECT count(*) FROM records", [])
        else:
            rows = self._select("SELECT count(*) FROM records WHERE scope = ?", [scope])
        return int(rows[0][0])

    def semantic(self, scope: str | None, vector: Any, limit: int) -> list[str]:
        import numpy as np

        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        cache = self._matrix(scope, query.shape[0])
        found: list[str] = cache.matrix.top(query, limit)
        return found

    def _matrix(self, scope: str | None, dimensions: int) -> _Cache:
        from ._vectors import VectorMatrix

        with self._lock:
            removals = int(self._select("SELECT value FROM meta WHERE key='removals'", [])[0][0])
            high = int(self._select("SELECT coalesce(max(n), 0) FROM records", [])[0][0])
            cache = self._caches.get(scope)
            if cache is None or cache.removals != removals or cache.matrix.dimensions != dimensions:
                cache = _Cache(VectorMatrix(dimensions), 0, removals)
                self._caches[scope] = cache
            if high > cache.high:
                self._load(cache, scope, high)
            return cache

    def _load(self, cache: _Cache, scope: str | None, high: int) -> None:
        import numpy as np

        where = "" if scope is None else "AND scope = ?"
        args: list[Any] = [cache.high, high] + ([] if scope is None else [scope])
        rows = self._select(
            "SELECT id, vector FROM records WHERE n > ? AND n <= ? AND vector IS NOT NULL "
            f"{where} ORDER BY n",
            args,
        )
        width = cache.matrix.dimensions * 4
        good = [(i, v) for i, v in rows if len(v) == width]
        if good:
            block = np.frombuffer(b"".join(v for _, v in good), dtype=np.float32)
            cache.matrix.extend([i for i, _ in good], block)
        cache.high = high

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()


def _blob(vector: Any) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).reshape(-1).tobytes()
