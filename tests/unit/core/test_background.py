"""The background writer: ordered per container, bounded, every failure reported with its key."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from membrane_integrations.core.background import BackgroundWriter, remaining
from membrane_integrations.core.errors import InvalidRequestError

WAIT = 30.0  # a generous deadline for a test's own waits, never a pass criterion


def _poll(condition: object, deadline: float = WAIT) -> None:
    end = time.monotonic() + deadline
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.005)


def test_writes_of_a_container_run_in_order_and_each_gets_a_deadline() -> None:
    done: list[tuple[str, int]] = []
    left: list[float] = []
    with BackgroundWriter(workers=3, write_timeout=5.0) as writer:
        for i in range(40):
            for container in ("a", "b", "c"):

                def write(deadline: float, c: str = container, n: int = i) -> None:
                    left.append(remaining(deadline))
                    done.append((c, n))

                assert writer.submit(container, f"{container}{i}", write)
        assert writer.flush(WAIT) == []
    for container in ("a", "b", "c"):
        assert [n for c, n in done if c == container] == list(range(40))
    assert all(0 < s <= 5.0 for s in left)


def test_a_failure_is_reported_once_with_its_key_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(deadline: float) -> None:
        raise ConnectionError("backend gone, key sk-123")

    writer = BackgroundWriter(name="w", describe=lambda e: str(e).replace("sk-123", "***"))
    with caplog.at_level(logging.WARNING, "membrane_integrations.writer"):
        writer.submit("bob", "k1", fail)
        writer.submit("bob", "k2", lambda d: None)
        [failed] = writer.flush(WAIT)
    assert (failed.container, failed.key, failed.reason) == ("bob", "k1", "backend gone, key ***")
    assert "could not write k1 for container 'bob'" in caplog.text and "sk-123" not in caplog.text
    assert writer.flush(WAIT) == []  # reported once
    assert writer.close() == []


def test_a_full_queue_refuses_and_reports_instead_of_blocking() -> None:
    started, release = threading.Event(), threading.Event()
    writer = BackgroundWriter(max_pending=1)
    assert writer.submit("c", "running", lambda d: (started.set(), release.wait(WAIT)))
    assert started.wait(WAIT)
    assert writer.submit("c", "queued", lambda d: None)
    assert writer.submit("c", "refused", lambda d: None) is False
    release.set()
    [refused] = writer.flush(WAIT)
    assert refused.key == "refused" and "queue is full" in refused.reason
    writer.close()


def test_a_hung_write_cannot_hold_flush_or_close_and_nothing_goes_silently() -> None:
    release = threading.Event()
    writer = BackgroundWriter(flush_timeout=0.2)
    writer.submit("c", "hung", lambda d: release.wait(WAIT))
    writer.submit("c", "behind", lambda d: None)
    pending = writer.flush()  # times out: both are reported as still pending
    assert [(p.key, "still pending" in p.reason) for p in pending] == [
        ("hung", True),
        ("behind", True),
    ]
    unwritten = writer.close()
    assert sorted((u.key, u.reason.split(":")[0]) for u in unwritten) == [
        ("behind", "dropped"),
        ("hung", "unconfirmed"),
    ]
    assert writer.submit("c", "late", lambda d: None) is False
    assert [u.key for u in writer.flush()] == ["late"]
    release.set()


def test_async_code_flushes_and_closes_without_blocking_the_loop() -> None:
    stored: list[str] = []

    async def main() -> list[object]:
        async with BackgroundWriter() as writer:
            writer.submit("c", "k", lambda d: stored.append("x"))
            return list(await writer.aflush(WAIT))

    assert asyncio.run(main()) == [] and stored == ["x"]


def test_bad_settings_are_refused() -> None:
    for kwargs in ({"write_timeout": 0}, {"max_pending": 0}, {"workers": 0}, {"flush_timeout": -1}):
        with pytest.raises(InvalidRequestError):
            BackgroundWriter(**kwargs)  # type: ignore[arg-type]


def test_an_idle_worker_ends_and_a_new_one_starts_on_the_next_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from membrane_integrations.core import background

    monkeypatch.setattr(background, "IDLE_EXIT", 0.05)
    stored: list[int] = []
    writer = BackgroundWriter()
    writer.submit("c", "k1", lambda d: stored.append(1))
    assert writer.flush(WAIT) == []
    first = writer._workers[0]
    assert first is not None
    _poll(lambda: not first.thread.is_alive())  # no thread kept for an idle writer
    writer.submit("c", "k2", lambda d: stored.append(2))
    assert writer.flush(WAIT) == [] and stored == [1, 2]
    assert writer.close() == []
