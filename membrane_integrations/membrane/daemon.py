"""Find and run a local Membrane daemon (membraned) for notebooks, the demo and development.

:func:`find_membraned` looks for the binary in ``MEMBRANED_BIN``, then ``.cache/bin/membraned``
(where ``make membraned`` installs it), then ``membraned`` on ``PATH``. :class:`LocalMembraned`
starts it on 127.0.0.1 on a free port with a throwaway database in a temporary directory, waits
for its ready line and a successful ``GetMetrics`` under one deadline, and on ``stop()`` sends
SIGTERM (SIGKILL after 5 s) and removes the directory. When the binary is absent,
:data:`INSTALL_HINT` says how to get it.

Example:
    >>> print(INSTALL_HINT.splitlines()[0])
    membraned (the Membrane daemon) is not installed. Install it with Go 1.22+:
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from ..core.errors import BackendUnavailableError, MembraneIntegrationsError
from .client import AsyncMembraneClient, MembraneClient

__all__ = ["INSTALL_HINT", "LocalMembraned", "find_membraned"]

MODULE = "github.com/GustyCube/membrane/cmd/membraned@v0.2.0"
INSTALL_HINT = (
    "membraned (the Membrane daemon) is not installed. Install it with Go 1.22+:\n"
    f"    GOBIN=$PWD/.cache/bin go install {MODULE}\n"
    "(or `make membraned`), or point MEMBRANED_BIN at an existing binary."
)
READY_MARKER = "membraned: listening on "


def find_membraned(*, search_path: bool = True, cache_dir: str | Path | None = None) -> str | None:
    """The path of a membraned binary, or ``None`` when none is installed.

    Order: ``MEMBRANED_BIN`` (if it names an executable file), ``<cache_dir>/membraned``
    (default: ``.cache/bin`` under the working directory, then under the project checkout),
    then ``membraned`` on ``PATH`` when ``search_path``.
    """
    explicit = os.environ.get("MEMBRANED_BIN")
    if explicit and os.path.isfile(explicit) and os.access(explicit, os.X_OK):
        return explicit
    if cache_dir is not None:
        dirs = [Path(cache_dir)]
    else:
        dirs = [
            Path.cwd() / ".cache" / "bin",
            Path(__file__).resolve().parents[2] / ".cache" / "bin",
        ]
    for candidate in (d / "membraned" for d in dirs):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("membraned") if search_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalMembraned:
    """One throwaway membraned on 127.0.0.1 (see the module docstring).

    ``binary`` is a path or a command prefix (a list). ``api_key``, when given, is passed as
    ``MEMBRANE_API_KEY`` and filled into :meth:`client`; an inherited ``MEMBRANE_API_KEY`` or
    ``MEMBRANE_ENCRYPTION_KEY`` is never passed on.

    Example::

        binary = find_membraned()
        if binary is None:
            print(INSTALL_HINT)
        else:
            with LocalMembraned(binary) as daemon, daemon.client() as client:
                print(client.get_metrics()["total_records"])
    """

    def __init__(
        self,
        binary: str | Sequence[str],
        *,
        api_key: str | None = None,
        ready_timeout: float = 20.0,
    ) -> None:
        self.binary = binary
        self.ready_timeout = ready_timeout
        self.addr = ""
        self._api_key = api_key
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._ready = threading.Event()
        self._pump: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LocalMembraned(addr={self.addr!r}, running={self.running})"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def stderr(self) -> str:
        """What the daemon has written to stderr so far."""
        return "".join(self._stderr)

    def start(self) -> LocalMembraned:
        """Start the daemon and wait until it answers; raises ``BackendUnavailableError``."""
        self._tmp = Path(tempfile.mkdtemp(prefix="membraned-"))
        config = self._tmp / "membraned.yaml"
        config.write_text("rate_limit_per_second: 0\n")
        self.addr = f"127.0.0.1:{_free_port()}"
        prefix = [self.binary] if isinstance(self.binary, str) else list(self.binary)
        command = [*prefix, "-addr", self.addr, "-db", str(self._tmp / "membrane.db")]
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("MEMBRANE_API_KEY", "MEMBRANE_ENCRYPTION_KEY")
        }
        if self._api_key:
            env["MEMBRANE_API_KEY"] = self._api_key
        try:
            self._proc = subprocess.Popen(
                [*command, "-config", str(config)],
                cwd=self._tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            self.stop()
            raise BackendUnavailableError(f"could not start membraned: {exc}") from None
        self._pump = threading.Thread(target=self._read_stderr, daemon=True)
        self._pump.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)
            if READY_MARKER in line:
                self._ready.set()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        assert self._proc is not None
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None:
                raise BackendUnavailableError(
                    f"membraned exited with status {self._proc.returncode}: {self.stderr.strip()}"
                )
            if time.monotonic() > deadline:
                raise BackendUnavailableError(
                    f"membraned was not ready within {self.ready_timeout}s: {self.stderr.strip()}"
                )
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with self.client(timeout=1.0, max_retries=0) as client:
                    client.get_metrics()
                return
            except MembraneIntegrationsError as exc:
                last = exc
                time.sleep(0.1)  # pacing between readiness probes, bounded by the deadline
        raise BackendUnavailableError(f"membraned did not answer GetMetrics: {last}")

    def client(self, *, timeout: float | None = 10.0, max_retries: int = 2) -> MembraneClient:
        """A synchronous client for this daemon (the caller closes it)."""
        return MembraneClient(
            self.addr, api_key=self._api_key, timeout=timeout, max_retries=max_retries
        )

    def async_client(self, *, timeout: float | None = 10.0) -> AsyncMembraneClient:
        """An asyncio client for this daemon (the caller closes it)."""
        return AsyncMembraneClient(self.addr, api_key=self._api_key, timeout=timeout)

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL after 5 s) and delete its directory."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None
        self._proc = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LocalMembraned:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
