"""Bring a recall index up to date with the daemon: records other programs wrote reach it.

membraned v0.2.0 has no change feed, no offset and no "since" filter: the only listing is
``Retrieve`` (by salience, the newest first among equals; ``limit`` 0 means every record the
trust context sees). So a sync asks for the newest page under the view's own trust and indexes
what is missing; when every record of a page was new it asks for a larger page (256, 4096, then
all), and it stops at a page that held known ids. Every tenth scheduled round and :meth:`full`
syncs list everything. Records the sync indexes are exactly those the view may see.

Scheduling: the first recall of a view in a process registers it with the index's one sync
thread, which syncs it at once (the "open") and then every ``sync_interval`` seconds, with its
own synchronous client (a copy of the caller's settings), so no caller waits on a listing. The
views of one daemon (the same client settings) share that one client: the channels the sync
holds grow with the daemons a process talks to, never with its tenants or sessions.

Example:
    >>> pages(full=False), pages(full=True)
    ((256, 4096, 0), (0,))
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import MembraneUnavailableError
from ..tenancy import MembraneView

if TYPE_CHECKING:
    from ..client import MembraneClient
    from .index import RecallIndex

__all__ = ["Syncer", "pages", "sync_once", "syncer_for"]

logger = logging.getLogger("membrane_integrations.membrane.recall_index")

_VISIBLE = 1e-6
_FULL_EVERY = 10
_GIVE_UP = 3


def pages(*, full: bool) -> tuple[int, ...]:
    """The ``Retrieve`` limits one sync walks through (0: every record)."""
    return (0,) if full else (256, 4096, 0)


def sync_once(index: RecallIndex, client: MembraneClient, view: MembraneView, *, full: bool) -> int:
    """Index the view's records that the index lacks; returns how many were added."""
    added = 0
    for limit in pages(full=full):
        records = client.retrieve("", trust=view.trust, min_salience=_VISIBLE, limit=limit)
        own = [r for r in records if view.visible(r)]
        new = index.add_records(own)
        added += new
        if limit == 0 or len(records) < limit or new < len(own):
            break
    return added


def _key(client: Any, view: MembraneView) -> tuple[Any, ...]:
    trust = view.trust
    return (
        client.addr,
        view.scope,
        getattr(trust.max_sensitivity, "value", trust.max_sensitivity),
        tuple(trust.scopes),
    )


# A full listing is one reply (v0.2.0 has no paging): ~1 KB a record, so 100k records pass the
# clients' 64 MiB default. The sync's own client accepts any size; its deadline is the caller's.
_UNBOUNDED = (("grpc.max_receive_message_length", -1),)


def _sync_client(client: Any) -> MembraneClient:
    from ..client import MembraneClient

    config = client._config
    return MembraneClient._from_config(
        dataclasses.replace(config, channel_options=(*config.channel_options, *_UNBOUNDED))
    )


@dataclass
class _Job:
    client: MembraneClient
    view: MembraneView
    config: Any = None
    due: float = 0.0
    rounds: int = 0
    failures: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    synced: bool = False
    warned: bool = False


class Syncer:
    """One index's sync thread and the views it keeps up to date."""

    def __init__(self, index: RecallIndex) -> None:
        self._index = weakref.ref(index)
        self.interval = float(getattr(index, "sync_interval", 30.0))
        self._jobs: dict[tuple[Any, ...], _Job] = {}
        self._clients: dict[Any, MembraneClient] = {}  # one sync client per daemon config
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def watch(self, client: Any, view: MembraneView) -> _Job:
        """Keep ``view`` synced (first sync at once, on the thread); the job's ``done`` is set
        after its first round (``error`` holds why a failed first round failed)."""
        key = _key(client, view)
        with self._cond:
            job = self._jobs.get(key)
            if job is not None:
                return job
            config = client._config
            shared = self._clients.get(config)
            if shared is None:
                shared = self._clients[config] = _sync_client(client)
            job = _Job(shared, view, config)
            self._jobs[key] = job
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="membrane-recall-sync", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
            return job

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                due = [job for job in self._jobs.values() if job.due <= now]
                if not due:
                    wait = min((job.due for job in self._jobs.values()), default=now + 60) - now
                    self._cond.wait(timeout=max(wait, 0.01))
                    continue
            for job in due:
                self._round(job)

    def _round(self, job: _Job) -> None:
        index = self._index()
        if index is None:
            self.stop()
            return
        full = job.rounds > 0 and job.rounds % _FULL_EVERY == 0
        try:
            added = sync_once(index, job.client, job.view, full=full)
            job.failures = 0
            job.error = None
            job.synced = True
            if added:
                logger.debug("recall sync indexed %d record(s) of %r", added, job.view.scope)
        except Exception as exc:
            job.error = exc
            job.failures += 1
            logger.warning(
                "recall index sync failed; retrying in %.0fs", self.interval, exc_info=True
            )
            if isinstance(exc, MembraneUnavailableError) and job.failures >= _GIVE_UP:
                # the daemon is gone: forget the view (its next recall registers it again)
                self._forget(job)
        job.rounds += 1
        job.due = time.monotonic() + self.interval
        job.done.set()

    def _forget(self, job: _Job) -> None:
        with self._cond:
            for key in [k for k, v in self._jobs.items() if v is job]:
                del self._jobs[key]
            # the shared client goes when no view of its daemon is left
            orphaned = all(other.config != job.config for other in self._jobs.values())
            if orphaned:
                self._clients.pop(job.config, None)
        if orphaned:
            job.client.close()
        job.done.set()

    def stop(self) -> None:
        """Stop the thread and close the sync clients (idempotent)."""
        with self._cond:
            self._stopped = True
            clients = list(self._clients.values())
            self._jobs.clear()
            self._clients.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        for client in clients:
            client.close()


def syncer_for(index: RecallIndex) -> Syncer:
    """A new sync thread owner for ``index``."""
    return Syncer(index)
