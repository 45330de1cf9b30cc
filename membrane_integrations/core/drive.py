"""Run a sans-IO flow: the one loop behind both adapters' sync and async drivers.

An adapter writes each call as a generator (its ``_flows.py``) that yields what to do next: a
send step of its own kind, or a :class:`Sleep`. The adapter's driver (its ``_transport.py``)
only says how to perform one send; :func:`drive_sync` and :func:`drive_async` feed each outcome
back into the flow, sleep when it asks, and return the flow's result.

Example:
    >>> def flow():
    ...     reply = yield "ping"
    ...     yield Sleep(0.5)
    ...     return reply.upper()
    >>> slept = []
    >>> drive_sync(flow(), send=lambda step: step + " pong", sleep=slept.append), slept
    ('PING PONG', [0.5])
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Sleep", "drive_async", "drive_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the next step."""

    seconds: float


def drive_sync(
    flow: Generator[Any, Any, T],
    send: Callable[[Any], Any],
    sleep: Callable[[float], None],
) -> T:
    """Execute ``flow`` with a blocking ``send`` (which returns errors as outcomes)."""
    received: Any = None
    try:
        while True:
            step = flow.send(received)
            if isinstance(step, Sleep):
                sleep(step.seconds)
                received = None
            else:
                received = send(step)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()


async def drive_async(
    flow: Generator[Any, Any, T],
    send: Callable[[Any], Awaitable[Any]],
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Execute ``flow`` with an async ``send`` (which returns errors as outcomes)."""
    received: Any = None
    try:
        while True:
            step = flow.send(received)
            if isinstance(step, Sleep):
                await sleep(step.seconds)
                received = None
            else:
                received = await send(step)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()
