"""Time to live: the clock, the expiry arithmetic and its encoding as tokens (backend-neutral).

Anything we write can carry an :class:`Expiry`: the instant it expires and the TTL (minutes)
that set it, so that a read can push the expiry forward again (LangGraph's
``refresh_on_read``). Both backends store it beside the item as the same two short tokens
(:meth:`Expiry.tokens`): Membrain as scope tokens (``membrain.expiry``), Membrane as record
tags (``membrane.expiry``). Expiries are kept to the millisecond, so they round-trip exactly.

Time comes from a :data:`Clock` (a callable returning an aware UTC ``datetime``):
:func:`system_clock` in production, a :class:`ManualClock` wherever a test or a replay must
decide what "now" is. :class:`Sweeper` (a thread) and :class:`AsyncSweeper` (an asyncio task)
call a sweep function at a fixed interval, as LangGraph's ``start_ttl_sweeper`` does.

Example:
    >>> clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> expiry = Expiry.start(clock(), 1.5)
    >>> expiry.tokens()
    ('ttl.expires.001767225690000', 'ttl.minutes.1.5')
    >>> Expiry.from_tokens(["other", *expiry.tokens()]) == expiry
    True
    >>> expiry.expired(clock())
    False
    >>> clock.advance(minutes=1.5)
    >>> expiry.expired(clock()), expiry.refreshed(clock()).expires_at.isoformat()
    (True, '2026-01-01T00:03:00+00:00')
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .errors import InvalidRequestError

__all__ = [
    "EXPIRES_PREFIX",
    "MAX_TTL_MINUTES",
    "MINUTES_PREFIX",
    "AsyncSweeper",
    "Clock",
    "Expiry",
    "ManualClock",
    "Sweeper",
    "check_ttl",
    "is_ttl_token",
    "system_clock",
    "without_ttl_tokens",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""What "now" is: a callable returning an aware UTC ``datetime``."""

EXPIRES_PREFIX = "ttl.expires."
MINUTES_PREFIX = "ttl.minutes."
EXPIRES_DIGITS = 15  # epoch milliseconds, zero-padded: a fixed width keeps regex ranges exact
MAX_TTL_MINUTES = 100 * 366 * 24 * 60.0  # a century: far beyond any use, far inside datetime
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def system_clock() -> datetime:
    """The current UTC time."""
    return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to (thread-safe), for tests and replays.

    >>> clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> clock.advance(minutes=2, seconds=30)
    >>> clock().isoformat()
    '2026-01-01T00:02:30+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _utc(start or system_clock())
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, *, minutes: float = 0.0, seconds: float = 0.0) -> None:
        """Move the clock forward."""
        if minutes < 0 or seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += timedelta(minutes=minutes, seconds=seconds)

    def __repr__(self) -> str:
        return f"ManualClock({self().isoformat()})"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a clock must return an aware datetime")
    return moment.astimezone(timezone.utc)


def _to_ms(moment: datetime) -> int:
    delta = _utc(moment) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since 1970 (floored), the unit the expiry token holds.

    >>> epoch_ms(datetime(1970, 1, 1, 0, 0, 1, 999999, tzinfo=timezone.utc))
    1999
    """
    return _to_ms(moment)


def check_ttl(minutes: object, *, field: str = "ttl") -> float:
    """A TTL in minutes: a finite number above 0 (at most a century); else a clear error.

    >>> check_ttl(5), check_ttl(0.5)
    (5.0, 0.5)
    >>> try:
    ...     check_ttl(-1)
    ... except InvalidRequestError as exc:
    ...     print(exc.field, exc.message.split(",")[0])
    ttl ttl must be a number of minutes above 0 and at most 52704000
    """
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not math.isfinite(minutes)
        or not 0 < minutes <= MAX_TTL_MINUTES
    ):
        raise InvalidRequestError(
            f"{field} must be a number of minutes above 0 and at most {MAX_TTL_MINUTES:.0f}, "
            f"not {minutes!r}",
            field=field,
        )
    return float(minutes)


@dataclass(frozen=True)
class Expiry:
    """When an item expires (UTC, whole milliseconds) and the TTL in minutes that set it."""

    expires_at: datetime
    ttl_minutes: float

    @classmethod
    def start(cls, now: datetime, ttl_minutes: float) -> Expiry:
        """The expiry of an item written (or read, when refreshing) at ``now``."""
        minutes = check_ttl(ttl_minutes)
        return cls(_from_ms(_to_ms(now + timedelta(minutes=minutes))), minutes)

    def refreshed(self, now: datetime) -> Expiry:
        """The same TTL counted again from ``now``."""
        return Expiry.start(now, self.ttl_minutes)

    def expired(self, now: datetime) -> bool:
        """True once ``now`` has reached the expiry."""
        return self.expires_at <= _utc(now)

    def tokens(self) -> tuple[str, str]:
        """The two tokens stored with the item: the expiry (epoch ms) and the TTL."""
        ms = _to_ms(self.expires_at)
        return f"{EXPIRES_PREFIX}{ms:0{EXPIRES_DIGITS}d}", f"{MINUTES_PREFIX}{self.ttl_minutes!r}"

    @classmethod
    def from_tokens(cls, tokens: Iterable[str]) -> Expiry | None:
        """The expiry the tokens carry; ``None`` when they carry none (or a malformed one)."""
        ms: int | None = None
        minutes: float | None = None
        for token in tokens:
            if token.startswith(EXPIRES_PREFIX):
                digits = token[len(EXPIRES_PREFIX) :]
                if len(digits) == EXPIRES_DIGITS and digits.isdigit() and digits.isascii():
                    ms = int(digits)
            elif token.startswith(MINUTES_PREFIX):
                try:
                    minutes = check_ttl(float(token[len(MINUTES_PREFIX) :]))
                except (ValueError, InvalidRequestError):
                    minutes = None
        if ms is None or minutes is None:
            return None
        return cls(_from_ms(ms), minutes)


def is_ttl_token(token: str) -> bool:
    """True for the tokens :meth:`Expiry.tokens` writes.

    >>> is_ttl_token("ttl.minutes.5.0"), is_ttl_token("topic.ttl")
    (True, False)
    """
    return token.startswith((EXPIRES_PREFIX, MINUTES_PREFIX))


def without_ttl_tokens(tokens: Iterable[str]) -> list[str]:
    """The tokens with any expiry removed (before another is added, or none).

    >>> without_ttl_tokens(["a", "ttl.minutes.5.0", "b"])
    ['a', 'b']
    """
    return [t for t in tokens if not is_ttl_token(t)]


def _report(swept: int) -> None:
    if swept:
        logger.info("TTL sweep removed %d expired items", swept)


class Sweeper:
    """Call ``sweep`` every ``interval_minutes`` on a daemon thread until stopped.

    A failed sweep is logged and the next one runs on time. ``start`` returns a future that
    completes when the thread ends (cancelling it stops the thread).
    """

    def __init__(self, sweep: Callable[[], int], interval_minutes: float) -> None:
        self._sweep = sweep
        self._interval = check_ttl(interval_minutes, field="sweep_interval_minutes") * 60
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> concurrent.futures.Future[None]:
        """Start the thread (no-op if running); the future completes when it ends."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        future.add_done_callback(lambda f: self._stop.set() if f.cancelled() else None)
        if self.running:
            return future
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(self._interval):
                try:
                    _report(self._sweep())
                except Exception:  # a sweep failure must not end the sweeper
                    logger.exception("TTL sweep failed; the next one runs on schedule")
            if not future.done():
                future.set_result(None)

        self._thread = threading.Thread(target=loop, daemon=True, name="ttl-sweeper")
        self._thread.start()
        return future

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the thread; ``True`` once it has ended (or was not running)."""
        if not self.running:
            return True
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout)
        return not self._thread.is_alive()


class AsyncSweeper:
    """Await ``sweep`` every ``interval_minutes`` in an asyncio task until stopped."""

    def __init__(self, sweep: Callable[[], Awaitable[int]], interval_minutes: float) -> None:
        self._sweep = sweep
        self._interval = check_ttl(interval_minutes, field="sweep_interval_minutes") * 60
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """True while the task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> asyncio.Task[None]:
        """Start the task in the running loop (the running one if already started)."""
        if self._task is not None and not self._task.done():
            return self._task

        async def loop() -> None:
            while True:
                await asyncio.sleep(self._interval)
                try:
                    _report(await self._sweep())
                except Exception:  # a sweep failure must not end the sweeper
                    logger.exception("TTL sweep failed; the next one runs on schedule")

        self._task = asyncio.get_running_loop().create_task(loop(), name="ttl-sweeper")
        return self._task

    async def stop(self, timeout: float | None = None) -> bool:
        """Cancel the task; ``True`` once it has ended (or was not running)."""
        if self._task is None or self._task.done():
            return True
        self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        return bool(done)
