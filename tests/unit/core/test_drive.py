"""core.drive: the loop that runs a sans-IO flow, sync and async."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from membrane_integrations.core.drive import Sleep, drive_async, drive_sync


def _flow(log: list[str]) -> Generator[object, object, str]:
    try:
        first = yield "a"
        yield Sleep(1.5)
        second = yield "b"
        return f"{first}+{second}"
    finally:
        log.append("closed")


def test_drive_sync_sends_sleeps_and_returns() -> None:
    log: list[str] = []
    slept: list[float] = []
    assert drive_sync(_flow(log), send=str.upper, sleep=slept.append) == "A+B"
    assert slept == [1.5] and log == ["closed"]


async def test_drive_async_sends_sleeps_and_returns() -> None:
    log: list[str] = []
    slept: list[float] = []

    async def send(step: object) -> str:
        return str(step) * 2

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    assert await drive_async(_flow(log), send=send, sleep=sleep) == "aa+bb"
    assert slept == [1.5] and log == ["closed"]


def test_an_error_in_send_closes_the_flow() -> None:
    log: list[str] = []

    def send(step: object) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        drive_sync(_flow(log), send=send, sleep=lambda s: None)
    assert log == ["closed"]
