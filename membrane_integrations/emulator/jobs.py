"""The ingest job queue: one worker thread runs the jobs in order, each in one transaction.

A job's writes and its ``completed`` status commit together, so a process killed at any point
(SIGKILL included) leaves every job it reported ``completed`` stored and no half-done ingest.
:meth:`JobQueue.recover` queues again the jobs a previous process left ``queued`` or
``processing`` (a ``processing`` job wrote nothing, so running it again is safe). A job that
raises is recorded ``failed`` with the error's ``code`` and ``retryable``; the worker goes on.
The work on the payload that needs no lock (embedding, matching scope patterns) runs first,
in ``prepare``, before the store's lock and the job's transaction are taken.

Example:
    >>> from .embeddings import HashingEmbeddings
    >>> from .storage import Store
    >>> store = Store(None, HashingEmbeddings())
    >>> jobs = JobQueue(store, lambda tenant, job_id, payload: {"echo": payload["text"]})
    >>> jobs.start()
    >>> with store.lock:
    ...     job_id = jobs.submit("t", {"text": "hi"})
    >>> jobs.wait_idle()
    True
    >>> store.job("t", job_id).result
    {'echo': 'hi'}
    >>> jobs.close(); store.close()
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

from .storage import Store

__all__ = ["JobHook", "JobPrepare", "JobQueue", "JobRunner"]

JobHook = Callable[[str, dict[str, Any]], None]
"""Called with ``(tenant, payload)`` before a job runs; raising fails the job (fault injection)."""

JobRunner = Callable[[str, str, dict[str, Any]], dict[str, Any]]
"""Runs ``(tenant, job_id, payload)`` inside the job's transaction; returns the job's result."""

JobPrepare = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Works on ``(tenant, payload)`` without the lock; what it returns is added to the payload
the runner gets (never stored)."""


class JobQueue:
    """Queued ingest jobs of a :class:`~.storage.Store` and the worker that runs them."""

    def __init__(
        self,
        store: Store,
        run: JobRunner,
        hook: JobHook | None = None,
        *,
        prepare: JobPrepare | None = None,
    ) -> None:
        self.store = store
        self.run = run
        self.hook = hook
        self.prepare = prepare
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._idle = threading.Condition(store.lock)
        self._pending = 0
        self._worker = threading.Thread(target=self._work, name="emulator-ingest", daemon=True)

    def start(self) -> None:
        self._worker.start()

    def close(self) -> None:
        """Stop the worker (after the job it is running)."""
        self._queue.put(None)
        self._worker.join(timeout=5)

    def submit(self, tenant: str, payload: dict[str, Any]) -> str:
        """Store a ``queued`` job and queue it; its id (call with the store lock held)."""
        job_id = "job_" + uuid.uuid4().hex
        self.store.insert_job(tenant, job_id, payload)
        self._pending += 1
        self._queue.put((tenant, job_id))
        return job_id

    def recover(self) -> int:
        """Queue again every job a previous process left open; how many."""
        with self.store.lock:
            open_jobs = self.store.requeue_open_jobs()
            self._pending += len(open_jobs)
        for item in open_jobs:
            self._queue.put(item)
        return len(open_jobs)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued job has run (for tests and the benchmark)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._run(*item)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _run(self, tenant: str, job_id: str) -> None:
        store = self.store
        with store.lock:
            payload = store.job_payload(tenant, job_id)
            if payload is None:
                return
            store.set_job(tenant, job_id, "processing")
        try:
            if self.hook is not None:
                self.hook(tenant, payload)
            prepared = self.prepare(tenant, payload) if self.prepare is not None else {}
            with store.lock:
                try:
                    with store.transaction(immediate=True):
                        result = self.run(tenant, job_id, {**payload, **prepared})
                        store.set_job(tenant, job_id, "completed", result=result)
                except BaseException:
                    store.invalidate(tenant)  # the index may hold what was rolled back
                    raise
        except Exception as exc:  # the job records the failure; the worker keeps running
            with store.lock:
                store.set_job(
                    tenant,
                    job_id,
                    "failed",
                    error={
                        "code": getattr(exc, "code", "INGEST_FAILED"),
                        "message": f"ingest failed: {exc}",
                        "retryable": bool(getattr(exc, "retryable", True)),
                    },
                )
