"""One retry policy for both adapters.

The policy decides *whether* and *how long to wait*; the clients own the loop, so the sync and
the async client differ only in how they sleep. Exponential backoff with full jitter and a cap,
and a server's ``Retry-After`` (seconds or an HTTP date) honoured when it is sent.

Which operations may be retried is the adapter's call, not the policy's: reads are idempotent,
but a create that may have reached the server is never sent twice.

Example:
    >>> policy = RetryPolicy(max_retries=2, initial_backoff=0.1, jitter=0.0)
    >>> attempts = policy.start()
    >>> attempts.next_delay(retryable=True)
    0.1
    >>> attempts.next_delay(retryable=True)
    0.2
    >>> attempts.next_delay(retryable=True) is None  # retries used up
    True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["Attempts", "RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT",
    ...                   now=datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc))
    5.0
    >>> parse_retry_after("soon") is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a delay
    # email.utils is imported only for an HTTP-date value: the gRPC adapter never needs it.
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max((when - current).total_seconds(), 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    Attributes:
        max_retries: retries after the first attempt (so ``2`` means at most 3 sends).
        initial_backoff: the first wait in seconds, before jitter.
        max_backoff: the cap on any computed wait.
        multiplier: growth factor between waits.
        jitter: fraction of each wait that is randomised (0 disables it).
        max_retry_after: a server-advised wait longer than this is not waited out;
            the error is raised instead so the caller can decide.
    """

    max_retries: int = 2
    initial_backoff: float = 0.25
    max_backoff: float = 8.0
    multiplier: float = 2.0
    jitter: float = 0.25
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff values must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def backoff(self, retry_number: int) -> float:
        """The wait before retry number ``retry_number`` (1-based), jittered and capped."""
        base = min(self.initial_backoff * self.multiplier ** (retry_number - 1), self.max_backoff)
        if self.jitter:
            base -= base * self.jitter * random.random()
        return base

    def start(self) -> Attempts:
        """A fresh attempt counter for one logical operation."""
        return Attempts(self)


@dataclass
class Attempts:
    """Counts the retries of one operation and says how long to wait before the next one."""

    policy: RetryPolicy
    retries: int = field(default=0)

    def next_delay(self, *, retryable: bool, retry_after: float | None = None) -> float | None:
        """The delay before the next try, or ``None`` when the error should be raised."""
        if not retryable or self.retries >= self.policy.max_retries:
            return None
        if retry_after is not None and retry_after > self.policy.max_retry_after:
            return None
        self.retries += 1
        if retry_after is not None:
            return retry_after
        return self.policy.backoff(self.retries)
