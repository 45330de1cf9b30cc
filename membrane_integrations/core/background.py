"""The background writer: memory writes that never hold an agent's reply.

Every capture path (the LangChain middlewares, the Agent Framework providers) hands its writes
to a :class:`BackgroundWriter` instead of sending them on the reply path. The writer keeps a
bounded queue per worker thread and runs each write with a deadline; writes of one container
always go to the same worker, so they reach the backend in the order they were submitted.

* ``submit`` never blocks: a full queue (or a closed writer) refuses the write, logs it and
  reports it from the next :meth:`~BackgroundWriter.flush`; nothing the writer accepted is
  dropped silently.
* Each write is a callable given its deadline (a :func:`time.monotonic` instant); it passes the
  time left (:func:`remaining`) to the client as the call's timeout, so a hung backend costs at
  most the deadline per write. A write is sent once: retrying is the client's call (its retry
  policy never re-sends a create that may have arrived).
* :meth:`~BackgroundWriter.flush` waits (at most ``flush_timeout``) for what was submitted and
  returns what could not be written, each with its key and reason, and logs it;
  :meth:`~BackgroundWriter.close` flushes, then stops the workers (``aflush`` / ``aclose`` for
  async code wait in a thread, so the event loop is never blocked). Writers still open at
  interpreter exit are closed then.

Example:
    >>> stored = []
    >>> with BackgroundWriter(name="doc") as writer:
    ...     writer.submit("bob", "k1", lambda deadline: stored.append("I am vegan."))
    ...     writer.submit("bob", "k2", lambda deadline: 1 / 0)
    ...     failed = writer.flush()
    True
    True
    >>> stored, [(f.key, f.reason) for f in failed]
    (['I am vegan.'], [('k2', 'ZeroDivisionError: division by zero')])
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import queue
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from .errors import InvalidRequestError

__all__ = ["BackgroundWriter", "Unwritten", "Write", "remaining"]

logger = logging.getLogger("membrane_integrations.writer")

Write = Callable[[float], object]
"""One write: called with its deadline (a ``time.monotonic()`` instant); raises on failure."""

_STOP = object()
_LIVE: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


def remaining(deadline: float, *, floor: float = 0.001) -> float:
    """Seconds left before ``deadline`` (a ``time.monotonic()`` instant), at least ``floor``.

    >>> remaining(time.monotonic() - 5)
    0.001
    """
    return max(deadline - time.monotonic(), floor)


@dataclass(frozen=True)
class Unwritten:
    """A write the backend did not confirm: its container, key and why."""

    container: str
    key: str
    reason: str


@dataclass(frozen=True)
class _Job:
    container: str
    key: str
    write: Write


IDLE_EXIT = (
    5.0  # seconds a worker thread waits for work before it ends (a new one starts on demand)
)


class _Worker:
    """One thread and its queue; it runs the writes of the containers hashed to it, in order."""

    def __init__(self, owner: BackgroundWriter, index: int, max_pending: int) -> None:
        self.owner = owner
        self.index = index
        self.queue: queue.Queue[object] = queue.Queue(maxsize=max_pending)
        self.current: _Job | None = None
        self.alive = True
        self.thread = threading.Thread(target=self._loop, name=f"{owner.name}-{index}", daemon=True)
        self.thread.start()

    def _idle(self) -> bool:
        """End this worker if nothing came (under the owner's lock, so no submit races it)."""
        with self.owner._lock:
            if self.queue.empty():
                self.alive = False
                if self.owner._workers[self.index] is self:
                    self.owner._workers[self.index] = None
                return True
        return False

    def _loop(self) -> None:
        while True:
            try:
                item = self.queue.get(timeout=IDLE_EXIT)
            except queue.Empty:
                if self._idle():
                    return
                continue
            if item is _STOP:
                return
            assert isinstance(item, _Job)
            self.current = item
            try:
                item.write(time.monotonic() + self.owner.write_timeout)
            except BaseException as exc:
                self.owner._failed(item, self.owner.describe(exc))
            finally:
                self.current = None
                self.owner._done()


class BackgroundWriter:
    """A bounded, ordered-per-container queue of memory writes, run off the reply path.

    Args:
        name: names the worker threads and the log lines.
        write_timeout: the deadline of each write, in seconds.
        flush_timeout: how long ``flush()`` / ``close()`` wait by default.
        max_pending: writes queued per worker before ``submit`` refuses more.
        workers: threads; a container's writes always go to the same one.
        describe: turns a failure into the reason reported (e.g. redacting a key).
    """

    def __init__(
        self,
        *,
        name: str = "memory-writer",
        write_timeout: float = 10.0,
        flush_timeout: float = 30.0,
        max_pending: int = 1000,
        workers: int = 1,
        describe: Callable[[BaseException], str] | None = None,
    ) -> None:
        if write_timeout <= 0:
            raise InvalidRequestError("write_timeout must be positive", field="write_timeout")
        if flush_timeout < 0:
            raise InvalidRequestError("flush_timeout must be >= 0", field="flush_timeout")
        if max_pending < 1:
            raise InvalidRequestError("max_pending must be at least 1", field="max_pending")
        if workers < 1:
            raise InvalidRequestError("workers must be at least 1", field="workers")
        self.name = name
        self.write_timeout = write_timeout
        self.flush_timeout = flush_timeout
        self.describe = describe or _describe
        self._lock = threading.Condition()
        self._unfinished = 0
        self._failures: list[Unwritten] = []
        self._closed = False
        self._max_pending = max_pending
        self._count = workers
        self._workers: list[_Worker | None] = [None] * workers
        self._started = itertools.count()
        _LIVE.add(self)

    # -- submitting ---------------------------------------------------------------------------

    def _worker_for(self, container: str) -> _Worker:
        # under self._lock: a thread starts on the first write and ends when idle
        index = zlib.crc32(container.encode("utf-8")) % self._count
        worker = self._workers[index]
        if worker is None or not worker.alive:
            worker = self._workers[index] = _Worker(self, index, self._max_pending)
        return worker

    def submit(self, container: str, key: str, write: Write) -> bool:
        """Queue ``write`` for ``container``; ``False`` when refused (logged, and reported by
        the next :meth:`flush`). Never blocks."""
        job = _Job(container, key, write)
        with self._lock:
            if self._closed:
                reason = "the writer is closed"
            else:
                try:
                    self._worker_for(container).queue.put_nowait(job)
                except queue.Full:
                    reason = f"the queue is full ({self._max_pending} writes pending)"
                else:
                    self._unfinished += 1
                    return True
            self._failures.append(Unwritten(container, key, reason))
        logger.warning(
            "%s refused the write %s for container %r: %s", self.name, key, container, reason
        )
        return False

    @property
    def pending(self) -> int:
        """Writes accepted and not finished yet (queued or running)."""
        with self._lock:
            return self._unfinished

    # -- what the workers report --------------------------------------------------------------

    def _failed(self, job: _Job, reason: str) -> None:
        with self._lock:
            self._failures.append(Unwritten(job.container, job.key, reason))
        logger.warning(
            "%s could not write %s for container %r: %s", self.name, job.key, job.container, reason
        )

    def _done(self) -> None:
        with self._lock:
            self._unfinished -= 1
            self._lock.notify_all()

    # -- flushing and closing -----------------------------------------------------------------

    def _wait(self, timeout: float | None) -> bool:
        limit = self.flush_timeout if timeout is None else timeout
        end = time.monotonic() + limit
        with self._lock:
            while self._unfinished:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def _take(self, still: list[Unwritten]) -> list[Unwritten]:
        with self._lock:
            failures, self._failures = self._failures, []
        return [*failures, *still]

    def _in_flight(self, reason: str) -> list[Unwritten]:
        jobs: list[_Job] = []
        for worker in self._live_workers():
            current = worker.current
            if current is not None:
                jobs.append(current)
            jobs.extend(j for j in list(worker.queue.queue) if isinstance(j, _Job))
        return [Unwritten(j.container, j.key, reason) for j in jobs]

    def flush(self, timeout: float | None = None) -> list[Unwritten]:
        """Wait (at most ``timeout``, default ``flush_timeout``) for every accepted write.

        Returns the writes that failed or were refused since the last flush, and, when the
        time ran out, those still pending (which go on in the background); each is logged.
        """
        if self._closed:  # close() already reported what it left behind
            return self._take([])
        done = self._wait(timeout)
        still: list[Unwritten] = []
        if not done:
            still = self._in_flight("not written yet when the flush timed out (still pending)")
            logger.warning(
                "%s: %d write(s) still pending after the flush timed out", self.name, len(still)
            )
        return self._take(still)

    def close(self, timeout: float | None = None) -> list[Unwritten]:
        """Flush (at most ``timeout``, default ``flush_timeout``), then stop the workers.

        Returns what could not be written, as :meth:`flush` does; writes still queued when
        the time ran out are dropped *and reported*, each logged with its key.
        """
        with self._lock:
            if self._closed:
                return self._take([])
            self._closed = True
        done = self._wait(timeout)
        still: list[Unwritten] = []
        for worker in self._live_workers():
            if not done:
                dropped = _drain(worker.queue)
                with self._lock:
                    self._unfinished -= len(dropped)
                still.extend(
                    Unwritten(j.container, j.key, "dropped: not written before close timed out")
                    for j in dropped
                )
            worker.queue.put(_STOP)
        if not done:
            still.extend(self._in_flight("unconfirmed: still being written when close timed out"))
            for item in still:
                logger.warning(
                    "%s: write %s for container %r %s",
                    self.name,
                    item.key,
                    item.container,
                    item.reason,
                )
        _LIVE.discard(self)
        return self._take(still)

    def _live_workers(self) -> list[_Worker]:
        with self._lock:
            return [w for w in self._workers if w is not None]

    async def aflush(self, timeout: float | None = None) -> list[Unwritten]:
        """:meth:`flush` for async code (waits in a thread)."""
        return await asyncio.to_thread(self.flush, timeout)

    async def aclose(self, timeout: float | None = None) -> list[Unwritten]:
        """:meth:`close` for async code (waits in a thread)."""
        return await asyncio.to_thread(self.close, timeout)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> BackgroundWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"BackgroundWriter(name={self.name!r}, pending={self.pending})"


def _drain(pending: queue.Queue[object]) -> list[_Job]:
    jobs: list[_Job] = []
    while True:
        try:
            item = pending.get_nowait()
        except queue.Empty:
            return jobs
        if isinstance(item, _Job):
            jobs.append(item)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@atexit.register
def _close_live_writers() -> None:  # pragma: no cover - runs at interpreter exit
    for writer in list(_LIVE):
        writer.close()
