"""The emulator's storage, search and graph logic. No web code: the routes in ``app.py`` call it.

Memories, links and ingest jobs live in SQLite (WAL mode when on a file; in memory by default)
behind one connection guarded by a lock. On a file the emulator keeps what it acknowledged: a
job's memory, links and ``completed`` status commit in one transaction, so a process killed at
any point (SIGKILL included) leaves every job it reported ``completed`` stored and no half-done
ingest; at the next start, jobs left ``queued`` or ``processing`` are queued again and run
(``Engine.recovered_jobs`` says how many). ``synchronous=NORMAL`` in WAL mode survives a killed
process; an operating-system crash or power loss may lose the last transactions.

Each tenant (an API key, stored only as a SHA-256 digest) has a :class:`~.index.TenantIndex` of
float32 embeddings built from SQLite on first use, updated in place on insert and rebuilt after a
delete.

Example:
    >>> engine = Engine()
    >>> t = engine.tenant_id("emu-example")
    >>> mem, action = engine.ingest_now(t, "User likes green tea", ["container.bob"], None)
    >>> action
    'created'
    >>> engine.search(t, "What drinks does the user like?", k=1)["results"][0]["id"] == mem["id"]
    True
    >>> engine.close()
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import re
import sqlite3
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
import numpy.typing as npt

from .embeddings import EmbeddingsLike, embed_matrix, embed_query_vector
from .errors import EmulatorBadRequest, EmulatorNotFound, EmulatorQuotaExceeded
from .index import TenantIndex, compile_patterns
from .quotas import QuotaConfig, next_weekly_reset, week_start
from .selection import embedder_dimensions, ingest_thresholds, make_embedder
from .synthesis import EdgeHit, Hit, interpret, link_description, shorten

__all__ = ["Engine"]

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

JobHook = Callable[[str, dict[str, Any]], None]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> list[str]:
    return sorted(_NUMBER.findall(text))


def _as_regex(token: str) -> str:
    """A stored token used as a candidate filter during ingest (literal if not a valid regex)."""
    try:
        re.compile(token)
    except re.error:
        return re.escape(token)
    return token


class Engine:
    """Storage, search and graph operations of the emulator (see the module doc).

    Args:
        embeddings: any object with ``embed_documents`` / ``embed_query``; defaults to
            WordLlama (256 dimensions) when installed, else the hashing embedder (384); see
            :mod:`~.selection`.
        db_path: a SQLite file (WAL mode); ``None`` keeps everything in memory.
        link_threshold: cosine at or above which ingest links a new memory to a neighbour
            (default: tuned per embedder, :func:`~.selection.ingest_thresholds`).
        duplicate_threshold: cosine at or above which ingest updates instead of creating
            (default: tuned per embedder).
        max_links: at most this many links made per ingest.
        job_hook: called by the worker before a job runs (fault injection uses it).
    """

    def __init__(
        self,
        embeddings: EmbeddingsLike | None = None,
        *,
        db_path: str | None = None,
        link_threshold: float | None = None,
        duplicate_threshold: float | None = None,
        max_links: int = 5,
        default_quota: QuotaConfig | None = None,
        job_hook: JobHook | None = None,
    ) -> None:
        self.embeddings: EmbeddingsLike = embeddings or make_embedder()
        tuned_link, tuned_duplicate = ingest_thresholds(self.embeddings)
        self.link_threshold = tuned_link if link_threshold is None else link_threshold
        self.duplicate_threshold = (
            tuned_duplicate if duplicate_threshold is None else duplicate_threshold
        )
        self.max_links = max_links
        self.default_quota = default_quota or QuotaConfig()
        self.job_hook = job_hook
        self._quotas: dict[str, QuotaConfig] = {}
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            db_path or ":memory:", check_same_thread=False, isolation_level=None
        )
        if db_path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._reembed_if_the_embedder_changed()
        self._indexes: dict[str, TenantIndex] = {}
        self._jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._worker = threading.Thread(target=self._work, name="emulator-ingest", daemon=True)
        self.recovered_jobs = self._recover() if db_path else 0
        self._worker.start()

    # ---------------------------------------------------------------- lifecycle, tenants

    def close(self) -> None:
        """Stop the ingest worker and close the database."""
        self._jobs.put(None)
        self._worker.join(timeout=5)
        with self._lock:
            self._db.close()

    @staticmethod
    def tenant_id(api_key: str) -> str:
        """The tenant of an API key: a digest, so the database never holds a key."""
        return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]

    def set_quota(self, tenant: str, quota: QuotaConfig) -> None:
        with self._lock:
            self._quotas[tenant] = quota

    def quota(self, tenant: str) -> QuotaConfig:
        return self._quotas.get(tenant, self.default_quota)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued ingest job has run (for tests and the benchmark)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    # ---------------------------------------------------------------- index

    def _index(self, tenant: str) -> TenantIndex:
        idx = self._indexes.get(tenant)
        if idx is not None:
            return idx
        rows = self._db.execute(
            "SELECT id, scope, category, embedding FROM memories WHERE tenant=? ORDER BY seq",
            (tenant,),
        ).fetchall()
        dims = len(np.frombuffer(rows[0][3], dtype=np.float32)) if rows else self._dims()
        idx = TenantIndex(dims)
        for mid, scope, category, blob in rows:
            idx.add_node(mid, tuple(json.loads(scope)), category, np.frombuffer(blob, np.float32))
        for a, b, desc, blob in self._db.execute(
            "SELECT a, b, description, embedding FROM links WHERE tenant=? ORDER BY seq",
            (tenant,),
        ):
            idx.add_edge(a, b, desc, np.frombuffer(blob, np.float32))
        self._indexes[tenant] = idx
        return idx

    def _dims(self) -> int:
        return embedder_dimensions(self.embeddings)

    def _reembed_if_the_embedder_changed(self) -> None:
        """A database written with another embedder size (e.g. hashing's 384 before WordLlama's
        256) is re-embedded once, so an old ``--db`` file keeps working."""
        row = self._db.execute("SELECT embedding FROM memories LIMIT 1").fetchone()
        if row is None or len(row[0]) == self._dims() * 4:  # float32 bytes
            return
        self._db.execute("BEGIN")
        for table, text in (("memories", "content"), ("links", "description")):
            rows = self._db.execute(f"SELECT seq, {text} FROM {table}").fetchall()
            for start in range(0, len(rows), 1000):
                chunk = rows[start : start + 1000]
                vectors = embed_matrix(self.embeddings, [t for _, t in chunk])
                self._db.executemany(
                    f"UPDATE {table} SET embedding=? WHERE seq=?",
                    [(v.tobytes(), seq) for (seq, _), v in zip(chunk, vectors, strict=True)],
                )
        self._db.execute("COMMIT")

    def native_dimensions(self) -> int:
        """The embedding size the emulator produces (256 with WordLlama, 384 with hashing)."""
        return self._dims()

    def _invalidate(self, tenant: str) -> None:
        self._indexes.pop(tenant, None)

    # ---------------------------------------------------------------- rows

    def _row_to_memory(self, tenant: str, row: Sequence[Any]) -> dict[str, Any]:
        mid, content, scope, category, created, updated, evolution = row
        idx = self._index(tenant)
        links = [
            {"memory_id": other, "description": desc}
            for other, desc in idx.adjacency.get(mid, {}).items()
        ]
        return {
            "id": mid,
            "content": content,
            "scope": json.loads(scope),
            "category": category,
            "timestamp": created,
            "created_at": created,
            "updated_at": updated,
            "links": links,
            "evolution_history": json.loads(evolution),
        }

    _COLUMNS = "id, content, scope, category, created_at, updated_at, evolution"

    def _fetch(self, tenant: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT {self._COLUMNS} FROM memories WHERE tenant=? AND id IN ({marks})",
                (tenant, *chunk),
            ):
                out[row[0]] = self._row_to_memory(tenant, row)
        return out

    def _brief(self, tenant: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """id, content, scope and category only (no links): for search hits and graph nodes."""
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for mid, content, scope, category in self._db.execute(
                "SELECT id, content, scope, category FROM memories "
                f"WHERE tenant=? AND id IN ({marks})",
                (tenant, *chunk),
            ):
                out[mid] = {
                    "id": mid,
                    "content": content,
                    "scope": json.loads(scope),
                    "category": category,
                }
        return out

    def _require(self, tenant: str, memory_id: str) -> dict[str, Any]:
        found = self._fetch(tenant, [memory_id]).get(memory_id)
        if found is None:
            raise EmulatorNotFound(f"memory {memory_id!r} was not found")
        return found

    # ---------------------------------------------------------------- ingest

    def submit_ingest(
        self, tenant: str, content: str, scope: Sequence[str] | None, category: str | None
    ) -> dict[str, Any]:
        """Check quotas, queue an ingest job and return it (status ``queued``)."""
        with self._lock:
            self._check_quota(tenant)
            job_id = "job_" + uuid.uuid4().hex
            stamp = _iso(_now())
            payload = json.dumps(
                {"content": content, "scope": list(scope or []), "category": category}
            )
            self._db.execute(
                "INSERT INTO jobs (tenant, id, status, payload, created_at, updated_at) "
                "VALUES (?, ?, 'queued', ?, ?, ?)",
                (tenant, job_id, payload, stamp, stamp),
            )
            self._pending += 1
        self._jobs.put((tenant, job_id))
        return self.get_job(tenant, job_id)

    def _check_quota(self, tenant: str) -> None:
        quota = self.quota(tenant)
        if quota.memory_cap is not None:
            stored = self._db.execute(
                "SELECT COUNT(*) FROM memories WHERE tenant=?", (tenant,)
            ).fetchone()[0]
            queued = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE tenant=? AND status IN ('queued','processing')",
                (tenant,),
            ).fetchone()[0]
            if stored + queued >= quota.memory_cap:
                raise EmulatorQuotaExceeded(
                    f"memory cap of {quota.memory_cap} reached: delete memories or upgrade "
                    "the plan before creating more",
                    status=403,
                    code="TIER_MEMORY_CAP_REACHED",
                    memory_cap=quota.memory_cap,
                )
        if quota.weekly_creates is not None:
            now = _now()
            used = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE tenant=? AND created_at >= ?",
                (tenant, _iso(week_start(now))),
            ).fetchone()[0]
            if used >= quota.weekly_creates:
                raise EmulatorQuotaExceeded(
                    f"weekly create quota of {quota.weekly_creates} reached; it resets at "
                    f"next_weekly_reset_at",
                    status=429,
                    code="TIER_WEEKLY_QUOTA_REACHED",
                    next_weekly_reset_at=_iso(next_weekly_reset(now)),
                    weekly_creates=quota.weekly_creates,
                )

    def get_job(self, tenant: str, job_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._db.execute(
                "SELECT id, status, result, error, created_at, updated_at FROM jobs "
                "WHERE tenant=? AND id=?",
                (tenant, job_id),
            ).fetchone()
        if row is None:
            raise EmulatorNotFound(f"ingest job {job_id!r} was not found")
        return {
            "job_id": row[0],
            "status": row[1],
            "result": json.loads(row[2]) if row[2] else None,
            "error": json.loads(row[3]) if row[3] else None,
            "created_at": row[4],
            "updated_at": row[5],
        }

    def _set_job(self, tenant: str, job_id: str, status: str, **fields: Any) -> None:
        self._db.execute(
            "UPDATE jobs SET status=?, result=?, error=?, updated_at=? WHERE tenant=? AND id=?",
            (
                status,
                json.dumps(fields["result"]) if fields.get("result") else None,
                json.dumps(fields["error"]) if fields.get("error") else None,
                _iso(_now()),
                tenant,
                job_id,
            ),
        )

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            tenant, job_id = item
            try:
                self._run_job(tenant, job_id)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _run_job(self, tenant: str, job_id: str) -> None:
        with self._lock:
            row = self._db.execute(
                "SELECT payload FROM jobs WHERE tenant=? AND id=?", (tenant, job_id)
            ).fetchone()
            if row is None:
                return
            payload = json.loads(row[0])
            self._set_job(tenant, job_id, "processing")
        try:
            if self.job_hook is not None:
                self.job_hook(tenant, payload)
            with self._lock:
                # One transaction: the memory, its links and the job's ``completed`` are written
                # together, so a crash leaves either all of them or none (the job is then re-run
                # at the next start, see ``_recover``).
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    memory, action = self.ingest_now(
                        tenant,
                        payload["content"],
                        payload["scope"],
                        payload["category"],
                        job_id=job_id,
                    )
                    self._set_job(
                        tenant,
                        job_id,
                        "completed",
                        result={"memory_id": memory["id"], "action": action, "memory": memory},
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    self._invalidate(tenant)  # the index may hold what was rolled back
                    raise
        except Exception as exc:  # the job records the failure; the worker keeps running
            with self._lock:
                self._set_job(
                    tenant,
                    job_id,
                    "failed",
                    error={
                        "code": getattr(exc, "code", "INGEST_FAILED"),
                        "message": f"ingest failed: {exc}",
                        "retryable": bool(getattr(exc, "retryable", True)),
                    },
                )
            return

    def _recover(self) -> int:
        """Queue again every job a previous process left ``queued`` or ``processing``.

        A ``processing`` job wrote nothing (its writes commit with its ``completed``), so running
        it again is safe. Returns how many jobs were queued.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT tenant, id FROM jobs WHERE status IN ('queued','processing') "
                "ORDER BY created_at, rowid"
            ).fetchall()
            self._db.execute("UPDATE jobs SET status='queued' WHERE status='processing'")
            self._pending += len(rows)
        for tenant, job_id in rows:
            self._jobs.put((tenant, job_id))
        return len(rows)

    def ingest_now(
        self,
        tenant: str,
        content: str,
        scope: Sequence[str] | None,
        category: str | None,
        *,
        job_id: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Run one ingest synchronously: merge into a near-duplicate or create and link."""
        tokens = list(dict.fromkeys(scope or []))
        vec = embed_query_vector(self.embeddings, content)
        with self._lock:
            idx = self._index(tenant)
            candidates = np.ones(len(idx.ids), dtype=np.bool_)
            if tokens:
                candidates = idx.scope_mask(tuple(_as_regex(t) for t in tokens))
            sims = np.where(candidates, idx.node_scores(vec), -1.0) if idx.ids else np.zeros(0)
            order = np.argsort(-sims)[: self.max_links] if len(sims) else np.zeros(0, np.int64)
            if len(order) and self._is_duplicate(tenant, idx.ids[int(order[0])], content, sims):
                target = idx.ids[int(order[0])]
                merged = self._merge(tenant, target, content, tokens, category, vec, job_id)
                return merged, "updated"
            memory_id = str(uuid.uuid4())
            stamp = _iso(_now())
            self._db.execute(
                "INSERT INTO memories (tenant, id, content, scope, category, created_at, "
                "updated_at, evolution, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?)",
                (
                    tenant,
                    memory_id,
                    content,
                    json.dumps(tokens),
                    category,
                    stamp,
                    stamp,
                    vec.astype(np.float32).tobytes(),
                ),
            )
            neighbours = [idx.ids[int(i)] for i in order if sims[int(i)] >= self.link_threshold]
            idx.add_node(memory_id, tuple(tokens), category, vec)
            self._link(tenant, memory_id, content, neighbours)
            return self._require(tenant, memory_id), "created"

    def _is_duplicate(
        self, tenant: str, candidate: str, content: str, sims: npt.NDArray[np.float64]
    ) -> bool:
        """Near enough to merge, and no number changed (a static embedder barely sees digits,
        so "Invoice 12 paid" and "Invoice 13 paid" would otherwise merge)."""
        idx = self._index(tenant)
        if float(sims[idx.pos[candidate]]) < self.duplicate_threshold:
            return False
        existing = self._brief(tenant, [candidate])[candidate]["content"]
        return _numbers(existing) == _numbers(content)

    def _link(self, tenant: str, memory_id: str, content: str, neighbours: Sequence[str]) -> None:
        if not neighbours:
            return
        idx = self._index(tenant)
        others = self._brief(tenant, neighbours)
        pairs = [(n, link_description(content, others[n]["content"])) for n in neighbours]
        vectors = embed_matrix(self.embeddings, [d for _, d in pairs])
        for (other, desc), dvec in zip(pairs, vectors, strict=True):
            a, b = _pair(memory_id, other)
            self._db.execute(
                "INSERT OR IGNORE INTO links (tenant, a, b, description, embedding) "
                "VALUES (?, ?, ?, ?, ?)",
                (tenant, a, b, desc, dvec.tobytes()),
            )
            idx.add_edge(a, b, desc, dvec)

    def _merge(
        self,
        tenant: str,
        target: str,
        content: str,
        tokens: list[str],
        category: str | None,
        vec: np.ndarray[Any, Any],
        job_id: str | None,
    ) -> dict[str, Any]:
        current = self._require(tenant, target)
        merged_scope = list(dict.fromkeys([*current["scope"], *tokens]))
        entry = {
            "action": "merged_duplicate",
            "at": _iso(_now()),
            "previous_content": current["content"],
            "new_content": content,
            "job_id": job_id,
        }
        self._write_update(
            tenant,
            target,
            content,
            merged_scope,
            category or current["category"],
            vec,
            [*current["evolution_history"], entry],
            relink=False,
        )
        return self._require(tenant, target)

    def _write_update(
        self,
        tenant: str,
        memory_id: str,
        content: str,
        scope: list[str],
        category: str | None,
        vec: np.ndarray[Any, Any],
        evolution: list[dict[str, Any]],
        *,
        relink: bool,
    ) -> None:
        self._db.execute(
            "UPDATE memories SET content=?, scope=?, category=?, updated_at=?, evolution=?, "
            "embedding=? WHERE tenant=? AND id=?",
            (
                content,
                json.dumps(scope),
                category,
                _iso(_now()),
                json.dumps(evolution),
                vec.astype(np.float32).tobytes(),
                tenant,
                memory_id,
            ),
        )
        if not relink:
            self._index(tenant).update_node(memory_id, tuple(scope), category, vec)
            return
        self._db.execute(
            "DELETE FROM links WHERE tenant=? AND (a=? OR b=?)", (tenant, memory_id, memory_id)
        )
        self._invalidate(tenant)
        idx = self._index(tenant)
        candidates = idx.scope_mask(tuple(_as_regex(t) for t in scope)) if scope else None
        sims = idx.node_scores(vec).copy()
        sims[idx.pos[memory_id]] = -1.0
        if candidates is not None:
            sims = np.where(candidates, sims, -1.0)
        order = np.argsort(-sims)[: self.max_links]
        neighbours = [idx.ids[int(i)] for i in order if sims[int(i)] >= self.link_threshold]
        self._link(tenant, memory_id, content, neighbours)

    def bulk_load(
        self, tenant: str, items: Iterable[tuple[str, Sequence[str], str | None]]
    ) -> list[str]:
        """Insert many memories at once, without linking or duplicate checks (benchmarks)."""
        batch = list(items)
        vectors = embed_matrix(self.embeddings, [c for c, _, _ in batch])
        stamp = _iso(_now())
        ids = [str(uuid.uuid4()) for _ in batch]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO memories (tenant, id, content, scope, category, created_at, "
                "updated_at, evolution, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?)",
                [
                    (tenant, mid, c, json.dumps(list(s)), cat, stamp, stamp, v.tobytes())
                    for mid, (c, s, cat), v in zip(ids, batch, vectors, strict=True)
                ],
            )
            self._db.execute("COMMIT")
            idx = self._indexes.get(tenant)
            if idx is not None:
                for mid, (_, s, cat), v in zip(ids, batch, vectors, strict=True):
                    idx.add_node(mid, tuple(s), cat, v)
        return ids

    # ---------------------------------------------------------------- reads and writes

    def get(self, tenant: str, memory_id: str) -> dict[str, Any]:
        with self._lock:
            return self._require(tenant, memory_id)

    def get_many(self, tenant: str, memory_ids: Sequence[str]) -> dict[str, Any]:
        with self._lock:
            found = self._fetch(tenant, list(dict.fromkeys(memory_ids)))
        return {
            "memories": [found[m] for m in dict.fromkeys(memory_ids) if m in found],
            "missing_ids": [m for m in dict.fromkeys(memory_ids) if m not in found],
        }

    def update(
        self, tenant: str, memory_id: str, content: str | None, scope: Sequence[str] | None
    ) -> dict[str, Any]:
        if content is None and scope is None:
            raise EmulatorBadRequest(
                "give at least one of content or scope", code="NOTHING_TO_UPDATE"
            )
        with self._lock:
            current = self._require(tenant, memory_id)
            new_content = current["content"] if content is None else content
            new_scope = current["scope"] if scope is None else list(dict.fromkeys(scope))
            vec = (
                embed_query_vector(self.embeddings, new_content)
                if content is not None
                else self._index(tenant).nodes.view()[self._index(tenant).pos[memory_id]].copy()
            )
            entry = {
                "action": "updated",
                "at": _iso(_now()),
                "previous_content": current["content"],
                "previous_scope": current["scope"],
            }
            self._write_update(
                tenant,
                memory_id,
                new_content,
                new_scope,
                current["category"],
                vec,
                [*current["evolution_history"], entry],
                relink=True,
            )
            return self._require(tenant, memory_id)

    def delete(self, tenant: str, memory_id: str) -> dict[str, Any]:
        with self._lock:
            self._require(tenant, memory_id)
            self._delete_ids(tenant, [memory_id])
        return {"deleted": True, "memory_id": memory_id}

    def _delete_ids(self, tenant: str, ids: Sequence[str]) -> None:
        self._db.execute("BEGIN")
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            self._db.execute(
                f"DELETE FROM memories WHERE tenant=? AND id IN ({marks})", (tenant, *chunk)
            )
            self._db.execute(
                f"DELETE FROM links WHERE tenant=? AND (a IN ({marks}) OR b IN ({marks}))",
                (tenant, *chunk, *chunk),
            )
        self._db.execute("COMMIT")
        self._invalidate(tenant)

    def _select(self, tenant: str, scope: Sequence[str], category: str | None) -> list[str]:
        idx = self._index(tenant)
        mask = idx.scope_mask(tuple(self.check_patterns(scope))) if scope else None
        return [
            mid
            for i, mid in enumerate(idx.ids)
            if (mask is None or mask[i]) and (category is None or idx.categories[i] == category)
        ]

    def delete_bulk(
        self,
        tenant: str,
        *,
        memory_id: str | None = None,
        scope: Sequence[str] = (),
        category: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            if memory_id:
                ids = [memory_id] if self._brief(tenant, [memory_id]) else []
            elif scope or category is not None:
                ids = self._select(tenant, scope, category)
            else:
                raise EmulatorBadRequest(
                    "bulk delete needs memory_id, scope or category; refusing to delete everything",
                    code="MISSING_FILTER",
                )
            if ids:
                self._delete_ids(tenant, ids)
        return {"deleted_count": len(ids), "memory_ids": ids}

    def unlink(self, tenant: str, first: str, second: str) -> dict[str, Any]:
        with self._lock:
            self._require(tenant, first)
            self._require(tenant, second)
            a, b = _pair(first, second)
            removed = self._db.execute(
                "DELETE FROM links WHERE tenant=? AND a=? AND b=?", (tenant, a, b)
            ).rowcount
            if removed:
                self._invalidate(tenant)
        return {"unlinked": bool(removed), "memory_id_1": first, "memory_id_2": second}

    def stats(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            idx = self._index(tenant)
            tokens: Counter[str] = Counter(t for s in idx.scopes for t in s)
            total, links = len(idx.ids), len(idx.edge_keys)
        return {
            "total_memories": total,
            "total_links": links,
            "avg_links_per_memory": round(2 * links / total, 3) if total else 0.0,
            "top_scope": [{"token": t, "count": c} for t, c in tokens.most_common(10)],
        }

    def count(self, tenant: str, scope: Sequence[str] = (), category: str | None = None) -> int:
        with self._lock:
            return len(self._select(tenant, scope, category))

    @staticmethod
    def check_patterns(patterns: Sequence[str]) -> list[str]:
        """Compile every scope pattern; an invalid one is a 400 naming it."""
        for pattern in patterns:
            try:
                compile_patterns([pattern])
            except re.error as exc:
                raise EmulatorBadRequest(
                    f"invalid scope pattern {pattern!r}: {exc}; escape literal dots as '\\.'",
                    code="INVALID_SCOPE_PATTERN",
                ) from exc
        return list(patterns)

    # ---------------------------------------------------------------- search

    def _previews(
        self, tenant: str, ids: Sequence[str], patterns: tuple[str, ...], limit: int = 5
    ) -> dict[str, list[dict[str, Any]]]:
        """``related_memories`` of each id: linked neighbours that pass the scope filter."""
        idx = self._index(tenant)
        chosen = {
            mid: list(
                itertools.islice(
                    (
                        (other, desc)
                        for other, desc in idx.adjacency.get(mid, {}).items()
                        if idx.matches(other, patterns)
                    ),
                    limit,
                )
            )
            for mid in ids
        }
        brief = self._brief(tenant, list({o for pairs in chosen.values() for o, _ in pairs}))
        return {
            mid: [
                {
                    "id": o,
                    "content": shorten(brief[o]["content"], 200),
                    "description": d,
                    "scope": brief[o]["scope"],
                }
                for o, d in pairs
                if o in brief
            ]
            for mid, pairs in chosen.items()
        }

    def search(
        self,
        tenant: str,
        query: str,
        *,
        k: int = 5,
        scope: Sequence[str] | None = None,
        response_format: str = "raw",
        rerank: bool = False,
        full_scope: bool = False,
        synthesis_fails: bool = False,
    ) -> dict[str, Any]:
        """Unified search over memory nodes and relationship edges (guide section 4.2)."""
        patterns = tuple(self.check_patterns(scope or []))
        if full_scope and not patterns:
            raise EmulatorBadRequest(
                "full_scope needs a non-empty scope filter", code="SCOPE_REQUIRED"
            )
        with self._lock:
            results, node_hits, edge_hits = self._retrieve(
                tenant, query, k, patterns, rerank=rerank, full_scope=full_scope
            )
        reply: dict[str, Any] = {
            "results": [] if response_format == "interpreted" else results,
            "interpreted": None,
            "interpreted_error": None,
            "scope": list(patterns) if patterns else None,
        }
        if response_format in ("interpreted", "both"):
            if synthesis_fails:
                reply["interpreted_error"] = "interpreted synthesis failed (injected fault)"
            else:
                reply["interpreted"] = interpret(query, node_hits, edge_hits)
        return reply

    def _retrieve(
        self,
        tenant: str,
        query: str,
        k: int,
        patterns: tuple[str, ...],
        *,
        rerank: bool,
        full_scope: bool,
    ) -> tuple[list[dict[str, Any]], list[Hit], list[EdgeHit]]:
        idx = self._index(tenant)
        if not idx.ids:
            return [], [], []
        mask = idx.scope_mask(patterns) if patterns else None
        if full_scope:
            assert mask is not None
            ids = [mid for i, mid in enumerate(idx.ids) if mask[i]]
            rows = self._brief(tenant, ids)
            results = [self._node(rows[m], 1.0, []) for m in ids]
            return results, [Hit(m, rows[m]["content"], 1.0) for m in ids[:20]], []
        qvec = embed_query_vector(self.embeddings, query)
        node_scores = idx.node_scores(qvec)
        if mask is not None:
            node_scores = np.where(mask, node_scores, -np.inf)
        top_nodes = _top(node_scores, k)
        edge_list: list[tuple[int, float]] = []
        if idx.edge_keys:
            edge_scores = idx.edge_scores(qvec)
            if mask is not None:
                ends_a, ends_b = idx.edge_endpoints()
                edge_scores = np.where(mask[ends_a] & mask[ends_b], edge_scores, -np.inf)
            edge_list = _top(edge_scores, k)
        node_ids = [idx.ids[i] for i, _ in top_nodes]
        node_score = {idx.ids[i]: s for i, s in top_nodes}
        edges = [EdgeHit(*idx.edge_keys[i], idx.edge_descriptions[i], s) for i, s in edge_list]
        if rerank:
            for edge in edges:
                for end in (edge.source, edge.target):
                    if end not in node_score:
                        own = float(node_scores[idx.pos[end]])
                        node_score[end] = max(own, edge.score)
                        node_ids.append(end)
                    else:
                        node_score[end] = max(node_score[end], edge.score)
            node_ids = sorted(dict.fromkeys(node_ids), key=lambda m: -node_score[m])[:k]
        rows = self._brief(tenant, node_ids)
        previews = self._previews(tenant, node_ids, patterns)
        items: list[tuple[float, dict[str, Any]]] = [
            (node_score[m], self._node(rows[m], node_score[m], previews[m])) for m in node_ids
        ]
        if rerank:
            for edge in edges:
                for end, other in ((edge.source, edge.target), (edge.target, edge.source)):
                    node = next((n for _, n in items if n["id"] == end), None)
                    if node is not None and all(r["id"] != other for r in node["related_memories"]):
                        extra = self._previews(tenant, [end], patterns, limit=100)[end]
                        node["related_memories"].extend(r for r in extra if r["id"] == other)
        else:
            items.extend(
                (
                    e.score,
                    {
                        "type": "relationship_edge",
                        "description": e.description,
                        "source": e.source,
                        "target": e.target,
                        "score": round(e.score, 6),
                    },
                )
                for e in edges
            )
            items.sort(key=lambda pair: -pair[0])
            items = items[:k]
        hits = [Hit(m, rows[m]["content"], node_score[m]) for m in node_ids]
        return [item for _, item in items], hits, edges

    @staticmethod
    def _node(
        memory: dict[str, Any], score: float, related: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "type": "memory_node",
            "id": memory["id"],
            "content": memory["content"],
            "scope": memory["scope"],
            "category": memory["category"],
            "semantic_score": round(float(score), 6),
            "related_memories": related,
        }

    # ---------------------------------------------------------------- graph

    def _graph_node(self, memory: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "id": memory["id"],
            "content": memory["content"],
            "scope": memory["scope"],
            "category": memory["category"],
            **extra,
        }

    def graph_path(self, tenant: str, from_id: str, to_id: str) -> dict[str, Any]:
        with self._lock:
            self._require(tenant, from_id)
            self._require(tenant, to_id)
            adjacency = self._index(tenant).adjacency
            parent: dict[str, str | None] = {from_id: None}
            frontier = deque([from_id])
            while frontier and to_id not in parent:
                current = frontier.popleft()
                for other in sorted(adjacency.get(current, {})):
                    if other not in parent:
                        parent[other] = current
                        frontier.append(other)
            if to_id not in parent:
                return {
                    "from_id": from_id,
                    "to_id": to_id,
                    "found": False,
                    "path": [],
                    "hops": None,
                    "nodes": [],
                }
            path: list[str] = []
            step: str | None = to_id
            while step is not None:
                path.append(step)
                step = parent[step]
            path.reverse()
            rows = self._brief(tenant, path)
            return {
                "from_id": from_id,
                "to_id": to_id,
                "found": True,
                "path": path,
                "hops": len(path) - 1,
                "nodes": [self._graph_node(rows[m]) for m in path],
            }

    def graph_hubs(self, tenant: str, limit: int = 10) -> dict[str, Any]:
        with self._lock:
            idx = self._index(tenant)
            ranked = sorted(idx.ids, key=lambda m: (-len(idx.adjacency.get(m, {})), idx.pos[m]))[
                :limit
            ]
            rows = self._brief(tenant, ranked)
            return {
                "hubs": [
                    self._graph_node(rows[m], degree=len(idx.adjacency.get(m, {}))) for m in ranked
                ]
            }

    def graph_neighborhood(self, tenant: str, memory_id: str, hops: int = 1) -> dict[str, Any]:
        with self._lock:
            self._require(tenant, memory_id)
            adjacency = self._index(tenant).adjacency
            distance = {memory_id: 0}
            frontier = [memory_id]
            for hop in range(1, hops + 1):
                nxt = []
                for current in frontier:
                    for other in adjacency.get(current, {}):
                        if other not in distance:
                            distance[other] = hop
                            nxt.append(other)
                frontier = nxt
            rows = self._brief(tenant, list(distance))
            edges = [
                {"source": a, "target": b, "description": d}
                for a in distance
                for b, d in adjacency.get(a, {}).items()
                if b in distance and a < b
            ]
            return {
                "memory_id": memory_id,
                "hops": hops,
                "nodes": [self._graph_node(rows[m], distance=d) for m, d in distance.items()],
                "edges": edges,
            }

    def graph_export(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            idx = self._index(tenant)
            rows = self._brief(tenant, idx.ids)
            return {
                "nodes": [self._graph_node(rows[m]) for m in idx.ids],
                "edges": [
                    {"source": a, "target": b, "description": d}
                    for (a, b), d in zip(idx.edge_keys, idx.edge_descriptions, strict=True)
                ],
            }

    def graph_traverse(
        self,
        tenant: str,
        start_memory_id: str,
        query: str,
        *,
        max_hops: int = 2,
        edge_similarity_threshold: float = 0.7,
        scope: Sequence[str] = (),
    ) -> dict[str, Any]:
        patterns = tuple(self.check_patterns(scope))
        with self._lock:
            self._require(tenant, start_memory_id)
            idx = self._index(tenant)
            reply: dict[str, Any] = {"start_memory_id": start_memory_id, "query": query}
            if not idx.matches(start_memory_id, patterns):
                return {**reply, "visited": [], "edges": [], "visited_count": 0, "edge_count": 0}
            qvec = embed_query_vector(self.embeddings, query)
            similarity = {
                key: float(s) for key, s in zip(idx.edge_keys, idx.edge_scores(qvec), strict=True)
            }
            hop_of = {start_memory_id: 0}
            followed: list[dict[str, Any]] = []
            frontier = [start_memory_id]
            for hop in range(1, max_hops + 1):
                nxt = []
                for current in frontier:
                    for other, desc in idx.adjacency.get(current, {}).items():
                        sim = similarity.get(_pair(current, other), 0.0)
                        if other in hop_of or sim < edge_similarity_threshold:
                            continue
                        if not idx.matches(other, patterns):
                            continue
                        hop_of[other] = hop
                        nxt.append(other)
                        followed.append(
                            {
                                "source": current,
                                "target": other,
                                "description": desc,
                                "similarity": round(sim, 6),
                            }
                        )
                frontier = nxt
            rows = self._brief(tenant, list(hop_of))
            visited = [self._graph_node(rows[m], hop=h) for m, h in hop_of.items()]
            return {
                **reply,
                "visited": visited,
                "edges": followed,
                "visited_count": len(visited),
                "edge_count": len(followed),
            }


def _top(scores: np.ndarray[Any, Any], k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best finite scores, best first."""
    if len(scores) == 0:
        return []
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    ordered = part[np.argsort(-scores[part], kind="stable")]
    return [(int(i), float(scores[i])) for i in ordered if np.isfinite(scores[i])]
