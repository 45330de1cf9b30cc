"""Run a local Membrane daemon (membraned v0.2.0): the one launcher of the package.

:func:`find_membraned` finds or builds the binary (the order is in
:mod:`~membrane_integrations.membrane._daemon_build`). :class:`LocalMembraned` starts it on
127.0.0.1 (a free port unless ``port`` is given) with a SQLite file or a PostgreSQL DSN, a config
YAML (``rate_limit_per_second: 0``, TLS, ``extra_config``) and an environment scrubbed of every
variable the daemon reads (:data:`DAEMON_ENV`), waits for its ready line *and* a successful
``GetMetrics`` under one deadline, and raises :class:`MembranedStartError` with the daemon's
stderr when it exits or does not answer. ``stop()`` sends SIGTERM (SIGKILL after 5 s);
``restart(keep_data=True)`` brings it back on the same address with the same store.

Example:
    >>> print(INSTALL_HINT.splitlines()[0])
    membraned (the Membrane daemon) is not installed. Install it with Go 1.22+:
    >>> sorted(DAEMON_ENV)[:2]
    ['MEMBRANE_API_KEY', 'MEMBRANE_EMBEDDING_API_KEY']
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ..core.errors import BackendUnavailableError, MembraneIntegrationsError
from ._daemon_build import (
    INSTALL_HINT,
    MODULE,
    MembranedNotFoundError,
    Resolution,
    install_hint,
    resolve_membraned,
)
from .client import AsyncMembraneClient, MembraneClient

__all__ = [
    "DAEMON_ENV",
    "INSTALL_HINT",
    "MODULE",
    "READY_MARKER",
    "LocalMembraned",
    "MembranedNotFoundError",
    "MembranedStartError",
    "Resolution",
    "find_membraned",
    "free_port",
    "install_hint",
    "resolve_membraned",
]

READY_MARKER = "membraned: listening on "
# Every variable membraned v0.2.0 reads (pkg/membrane/membrane.go, cmd/membraned/main.go): an
# inherited value would change the daemon under test, so none is passed on unless asked for.
DAEMON_ENV = frozenset(
    {
        "MEMBRANE_API_KEY",
        "MEMBRANE_ENCRYPTION_KEY",
        "MEMBRANE_POSTGRES_DSN",
        "MEMBRANE_EMBEDDING_API_KEY",
        "MEMBRANE_LLM_API_KEY",
    }
)
_STOP_GRACE = 5.0
ConfigValue = str | int | float | bool


class MembranedStartError(BackendUnavailableError):
    """membraned could not be started, exited early, or did not answer before the deadline."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (membraned cannot report its own).

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_membraned(
    *,
    search_path: bool = True,
    cache_dir: str | Path | None = None,
    build: bool = True,
    quiet: bool = False,
) -> str | None:
    """The path of a membraned binary (found, cached or built), or ``None`` when there is none.

    Prints which step supplied it unless ``quiet``; see :func:`resolve_membraned`.
    """
    try:
        return resolve_membraned(
            cache_dir=cache_dir,
            search_path=search_path,
            build=build,
            log=None if quiet else print,
        ).path
    except MembranedNotFoundError:
        return None


class LocalMembraned:
    """One membraned on 127.0.0.1 (see the module docstring).

    ``binary`` is a path or a command prefix (a list); ``None`` resolves one with
    :func:`resolve_membraned`. ``api_key`` is passed as ``MEMBRANE_API_KEY`` and filled into
    :meth:`client`. ``tls_cert``/``tls_key`` are PEM paths for the server (``tls_ca`` is what
    clients trust; default ``tls_cert``, right for a self-signed certificate). The store is
    ``postgres_dsn`` if given, else ``db_path`` (kept after ``stop``), else a SQLite file in a
    temporary directory removed by ``stop``. ``extra_config`` adds YAML keys; ``extra_env`` adds
    variables after the scrubbing.

    Example::

        with LocalMembraned() as daemon, daemon.client() as client:
            print(client.get_metrics()["total_records"])
    """

    def __init__(
        self,
        binary: str | Sequence[str] | None = None,
        *,
        api_key: str | None = None,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        tls_ca: str | Path | None = None,
        db_path: str | Path | None = None,
        postgres_dsn: str | None = None,
        extra_config: Mapping[str, ConfigValue] | None = None,
        extra_env: Mapping[str, str] | None = None,
        port: int = 0,
        ready_timeout: float = 20.0,
    ) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if isinstance(binary, str) and os.sep in binary:
            # The daemon runs in a temporary directory: a relative path must be fixed now.
            binary = os.path.abspath(binary)
        self.binary = binary
        self.api_key = api_key
        self.tls_cert = Path(tls_cert) if tls_cert is not None else None
        self.tls_key = Path(tls_key) if tls_key is not None else None
        self.tls_ca = Path(tls_ca) if tls_ca is not None else self.tls_cert
        self.db_path = Path(db_path) if db_path is not None else None
        self.postgres_dsn = postgres_dsn
        self.extra_config = dict(extra_config or {})
        self.extra_env = dict(extra_env or {})
        self.port = port
        self.ready_timeout = ready_timeout
        self.addr = f"127.0.0.1:{port}" if port else ""
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._ready = threading.Event()
        self._pump: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(addr={self.addr!r}, running={self.running})"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def stderr(self) -> str:
        """What the daemon has written to stderr so far (all starts)."""
        return "".join(self._stderr)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file of this daemon (``None`` on PostgreSQL or before the first start)."""
        if self.postgres_dsn:
            return None
        if self.db_path is not None:
            return self.db_path
        return self._tmp / "membrane.db" if self._tmp is not None else None

    def _command_prefix(self) -> list[str]:
        if self.binary is None:
            self.binary = resolve_membraned().path
        return [self.binary] if isinstance(self.binary, str) else list(self.binary)

    def _write_config(self, tmp: Path) -> Path:
        # JSON scalars are valid YAML scalars, and json.dumps quotes paths safely.
        config: dict[str, ConfigValue] = {"rate_limit_per_second": 0}
        if self.tls_cert is not None and self.tls_key is not None:
            config["tls_cert_file"] = str(self.tls_cert)
            config["tls_key_file"] = str(self.tls_key)
        config.update(self.extra_config)
        path = tmp / "membraned.yaml"
        path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()))
        return path

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in DAEMON_ENV}
        if self.api_key:
            env["MEMBRANE_API_KEY"] = self.api_key
        env.update(self.extra_env)
        return env

    def start(self) -> LocalMembraned:
        """Start the daemon and wait until it answers; raises :class:`MembranedStartError`.

        After ``stop(keep_data=True)`` it starts on the same address with the same store.
        """
        if self.running:
            raise RuntimeError("membraned is already running")
        try:
            prefix = self._command_prefix()
        except MembranedNotFoundError as exc:
            raise MembranedStartError(str(exc)) from None
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="membraned-"))
        if not self.port:
            self.port = free_port()
            self.addr = f"127.0.0.1:{self.port}"
        config = self._write_config(self._tmp)
        store = (
            ["-postgres-dsn", self.postgres_dsn]
            if self.postgres_dsn
            else ["-db", str(self.sqlite_path)]
        )
        command = [*prefix, "-addr", self.addr, *store, "-config", str(config)]
        self._ready = threading.Event()
        try:
            self._proc = subprocess.Popen(
                command,
                cwd=self._tmp,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            self.stop()
            raise MembranedStartError(f"could not start membraned: {exc}") from None
        self._pump = threading.Thread(target=self._read_stderr, args=(self._proc,), daemon=True)
        self._pump.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stderr(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self._stderr.append(line)
            if READY_MARKER in line:
                self._ready.set()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        proc = self._proc
        assert proc is not None
        while not self._ready.wait(0.05):
            if proc.poll() is not None:
                if self._pump is not None:
                    self._pump.join(timeout=2)  # the last lines of stderr, for the message
                raise MembranedStartError(
                    f"membraned exited with status {proc.returncode}: {self.stderr.strip()}"
                )
            if time.monotonic() > deadline:
                raise MembranedStartError(
                    f"membraned printed no ready line within {self.ready_timeout}s: "
                    f"{self.stderr.strip()}"
                )
        # The ready line is printed before Serve; confirm the RPC path under the same deadline.
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with self.client(timeout=1.0, max_retries=0) as client:
                    client.get_metrics()
                return
            except MembraneIntegrationsError as exc:
                last = exc
                time.sleep(0.05)  # pacing between readiness probes, bounded by the deadline
        raise MembranedStartError(
            f"membraned did not answer GetMetrics within {self.ready_timeout}s: {last}; "
            f"stderr: {self.stderr.strip()}"
        )

    def _client_kwargs(self) -> dict[str, str | None]:
        return {
            "api_key": self.api_key or "",
            "tls_ca_cert": str(self.tls_ca) if self.tls_ca is not None else None,
        }

    @property
    def _ca(self) -> str | None:
        return str(self.tls_ca) if self.tls_ca is not None else None

    def client(self, *, timeout: float | None = 10.0, max_retries: int = 2) -> MembraneClient:
        """A synchronous client for this daemon, key and CA filled in (the caller closes it)."""
        return MembraneClient(
            self.addr,
            api_key=self.api_key or "",  # "" = no key, never MEMBRANE_API_KEY of this process
            tls_ca_cert=self._ca,
            timeout=timeout,
            max_retries=max_retries,
        )

    def async_client(
        self, *, timeout: float | None = 10.0, max_retries: int = 2
    ) -> AsyncMembraneClient:
        """An asyncio client for this daemon (the caller closes it)."""
        return AsyncMembraneClient(
            self.addr,
            api_key=self.api_key or "",
            tls_ca_cert=self._ca,
            timeout=timeout,
            max_retries=max_retries,
        )

    def _terminate(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=_STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=_STOP_GRACE)
        if self._pump is not None:
            self._pump.join(timeout=_STOP_GRACE)  # ends at EOF once the process has exited
            self._pump = None
        self._proc = None

    def stop(self, *, keep_data: bool = False) -> None:
        """SIGTERM (SIGKILL after 5 s); unless ``keep_data``, delete the temporary directory."""
        self._terminate()
        if not keep_data and self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def restart(self, *, keep_data: bool = True) -> LocalMembraned:
        """Stop and start again on the same address; ``keep_data=False`` starts from no records.

        A fresh store is only possible for SQLite (the DSN names a database we did not create).
        """
        if not keep_data and self.postgres_dsn:
            raise ValueError("restart(keep_data=False) needs a SQLite store; use a new DSN")
        self.stop(keep_data=True)
        if not keep_data and self.sqlite_path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
        return self.start()

    def __enter__(self) -> LocalMembraned:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
