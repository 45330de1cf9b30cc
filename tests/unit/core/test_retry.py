"""core.retry: Retry-After parsing, backoff growth, jitter, cap and the retry budget."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from membrane_integrations.core.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 3, 14, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("Sat, 14 Mar 2026 12:00:30 GMT", 30.0),
        ("Sat, 14 Mar 2026 11:59:00 GMT", 0.0),
        ("Sat, 14 Mar 2026 12:01:00", 60.0),  # no zone: read as UTC
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("nan", None),
        ("Sat, 99 Foo 2026", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_defaults_to_the_current_time() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    seconds = parse_retry_after(when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    assert seconds is not None and 115 <= seconds <= 120


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=3.0, multiplier=2.0, jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_only_shortens_within_its_fraction() -> None:
    policy = RetryPolicy(initial_backoff=1.0, jitter=0.25)
    delays = [policy.backoff(1) for _ in range(200)]
    assert all(0.75 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 1


def test_attempts_budget() -> None:
    attempts = RetryPolicy(max_retries=2, initial_backoff=0.1, jitter=0.0).start()
    assert attempts.next_delay(retryable=True) == 0.1
    assert attempts.next_delay(retryable=True) == 0.2
    assert attempts.next_delay(retryable=True) is None
    assert attempts.retries == 2


def test_not_retryable_does_not_spend_the_budget() -> None:
    attempts = RetryPolicy(max_retries=1, jitter=0.0).start()
    assert attempts.next_delay(retryable=False) is None
    assert attempts.retries == 0
    assert attempts.next_delay(retryable=True) is not None


def test_retry_after_overrides_backoff_within_the_cap() -> None:
    policy = RetryPolicy(max_retries=3, max_retry_after=10.0, jitter=0.0)
    attempts = policy.start()
    assert attempts.next_delay(retryable=True, retry_after=7.0) == 7.0
    assert attempts.next_delay(retryable=True, retry_after=0.0) == 0.0
    # longer than the caller is willing to wait: give up and let the caller decide
    assert attempts.next_delay(retryable=True, retry_after=11.0) is None


def test_zero_retries() -> None:
    assert RetryPolicy(max_retries=0).start().next_delay(retryable=True) is None


def test_each_operation_gets_a_fresh_budget() -> None:
    policy = RetryPolicy(max_retries=1, jitter=0.0)
    first = policy.start()
    assert first.next_delay(retryable=True) is not None
    assert first.next_delay(retryable=True) is None
    assert policy.start().next_delay(retryable=True) is not None


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"initial_backoff": -0.1}, {"max_backoff": -1}, {"jitter": 1.5}],
)
def test_invalid_policies_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
