"""TTL building blocks: expiry arithmetic and tokens, the Membrain expiry regex, the sweepers.

The regex is checked against the arithmetic for generated instants: a token matches some
pattern exactly when its expiry has been reached; every pattern fits a scope token and passes
the client's pattern validation.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.core.scope import MAX_SCOPE_TOKEN_LENGTH, validate_patterns
from membrane_integrations.core.ttl import (
    AsyncSweeper,
    Expiry,
    ManualClock,
    Sweeper,
    check_ttl,
    without_ttl_tokens,
)
from membrane_integrations.membrain.expiry import expired_patterns, with_expiry

INSTANTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2400, 1, 1), timezones=st.just(timezone.utc)
)
TTLS = st.floats(min_value=0.001, max_value=1e6, allow_nan=False)


@given(now=INSTANTS, ttl=TTLS, offset_ms=st.integers(-5000, 5000))
def test_the_expiry_regex_matches_exactly_the_expired_tokens(
    now: datetime, ttl: float, offset_ms: int
) -> None:
    expiry = Expiry.start(now, ttl)
    moment = expiry.expires_at + timedelta(milliseconds=offset_ms, microseconds=offset_ms % 997)
    patterns = expired_patterns(moment)
    assert validate_patterns(patterns) == patterns
    assert all(len(p) <= MAX_SCOPE_TOKEN_LENGTH for p in patterns)
    token = expiry.tokens()[0]
    hit = any(re.search(p, token, re.IGNORECASE) for p in patterns)
    assert hit == expiry.expired(moment)
    assert not any(re.search(p, expiry.tokens()[1], re.IGNORECASE) for p in patterns)


@given(now=INSTANTS, ttl=TTLS)
def test_expiry_tokens_round_trip_and_refresh_counts_from_the_read(
    now: datetime, ttl: float
) -> None:
    expiry = Expiry.start(now, ttl)
    assert Expiry.from_tokens(["container.x", *expiry.tokens()]) == expiry
    assert not expiry.expired(now) or ttl * 60_000 < 1
    later = now + timedelta(minutes=ttl / 2)
    assert expiry.refreshed(later).expires_at >= expiry.expires_at
    assert with_expiry(["a", *expiry.tokens()], None) == ["a"]
    assert without_ttl_tokens(with_expiry(["a"], expiry)) == ["a"]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5", None, 1e12])
def test_bad_ttls_are_refused(bad: object) -> None:
    with pytest.raises(InvalidRequestError) as info:
        check_ttl(bad)
    assert info.value.field == "ttl"


def test_malformed_tokens_carry_no_expiry() -> None:
    assert Expiry.from_tokens(["ttl.expires.12", "ttl.minutes.5.0"]) is None
    assert Expiry.from_tokens(["ttl.expires.001772366460000", "ttl.minutes.-1"]) is None
    assert Expiry.from_tokens(["ttl.expires.001772366460000"]) is None


def test_a_manual_clock_only_moves_forward() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    clock.advance(seconds=90)
    assert clock() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        clock.advance(minutes=-1)


def _poll(check: object, what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_the_sweeper_thread_keeps_going_after_a_failed_sweep_and_stops() -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def sweep() -> int:
        with lock:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("backend down")
        return 1

    sweeper = Sweeper(sweep, interval_minutes=0.0002)
    future = sweeper.start()
    _poll(lambda: len(calls) >= 3, "three sweeps")
    assert sweeper.stop(timeout=10)
    assert future.done() and not sweeper.running


async def test_the_async_sweeper_keeps_going_after_a_failed_sweep_and_stops() -> None:
    calls: list[int] = []

    async def sweep() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("backend down")
        return 0

    sweeper = AsyncSweeper(sweep, interval_minutes=0.0002)
    task = sweeper.start()
    deadline = time.monotonic() + 30
    while len(calls) < 3:
        assert time.monotonic() < deadline, "timed out waiting for three sweeps"
        await asyncio.sleep(0.01)
    assert await sweeper.stop(timeout=10)
    assert task.done() and not sweeper.running
