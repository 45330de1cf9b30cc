"""Membrane servers that can be stopped and started again on the same port with their data.

``DoubleServer`` wraps the in-process TEST DOUBLE (tests/support/membrane_double.py). The double
keeps records in a dict, so a "restart" hands the same dict to a new double bound to the same
port: it models a daemon whose store survives a restart, nothing more. It is what exercises the
client's recovery logic on machines where the real daemon cannot be installed.

``DaemonServer`` drives the real membraned (when ``tests/support/membraned.py`` says it is
available): SIGTERM, then the same binary again with the same ``-addr`` and ``-db``.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
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
    """The real membraned, restartable with the same address and database file."""

    label = "membraned v0.2.0 (real daemon, SIGTERM and restart)"

    def down(self) -> None:
        proc = self._proc
        assert proc is not None, "the daemon is not running"
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)
        self._proc = None

    def up(self) -> None:
        assert self._tmp is not None, "start() the daemon before restarting it"
        prefix = [self.binary] if isinstance(self.binary, str) else list(self.binary)
        tmp = Path(self._tmp)
        # the same store as start(): the SQLite file in the kept directory, or the same DSN
        dsn = getattr(self, "postgres_dsn", None)
        store = ["-postgres-dsn", dsn] if dsn else ["-db", str(tmp / "membrane.db")]
        cmd = [*prefix, "-addr", self.addr, *store, "-config", str(tmp / "membraned.yaml")]
        self._ready = threading.Event()
        self._proc = subprocess.Popen(
            cmd,
            cwd=tmp,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self._wait_ready()

    def close(self) -> None:
        self.stop()
