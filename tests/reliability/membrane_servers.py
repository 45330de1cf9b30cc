"""Membrane servers that can be stopped and started again on the same port with their data.

``DaemonServer`` is the real membraned through the package launcher: ``down()`` is SIGTERM
with the data kept, ``up()`` the same binary on the same ``-addr`` and store.

``DoubleServer`` wraps the in-process TEST DOUBLE (tests/support/membrane_double.py) for what a
real daemon cannot do on demand: hold a call in flight while the server stops. The double keeps
records in a dict, so a "restart" hands the same dict to a new double bound to the same port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from tests.support.membrane_double import MembraneDouble
from tests.support.membraned import Membraned

__all__ = ["DEADLINE", "DaemonServer", "DoubleServer", "Restartable", "poll"]

DEADLINE = 30.0


def poll(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Wait for ``condition`` under a deadline (polling, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Restartable(Protocol):
    addr: str
    label: str

    def down(self) -> None: ...

    def up(self) -> None: ...

    def close(self) -> None: ...


class DoubleServer:
    """The TEST DOUBLE, restartable on its port with its records kept."""

    label = "membraned TEST DOUBLE (in-process, restarted on the same port)"

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.double = MembraneDouble(api_key=api_key).start()
        self.port = self.double.port
        self.addr = self.double.addr

    def down(self) -> None:
        # Abort running calls before the double releases its held handlers, as a dying daemon
        # would: otherwise a held call may still finish and answer during the stop.
        self.double._server.stop(grace=None)
        self.double.stop()

    def up(self) -> None:
        records = self.double.records
        self.double = MembraneDouble(api_key=self.api_key, port=self.port)
        self.double.records = records
        self.double.start()

    def close(self) -> None:
        self.double.stop()


class DaemonServer(Membraned):
    """The real membraned, restartable with the same address and store."""

    label = "membraned v0.2.0 (real daemon, SIGTERM and restart)"

    def down(self) -> None:
        assert self.running, "the daemon is not running"
        self.stop(keep_data=True)

    def up(self) -> None:
        assert self._tmp is not None, "start() the daemon before restarting it"
        self.start()

    def close(self) -> None:
        self.stop()
