"""Run the real Membrane daemon (membraned v0.2.0) for live tests (spec section 5).

``Membraned`` starts the binary on 127.0.0.1 on a free port with a throwaway SQLite database in a
temporary directory, a ``-config`` YAML with ``rate_limit_per_second: 0`` (plus TLS when asked),
``MEMBRANE_API_KEY`` set or explicitly unset, and ``MEMBRANE_ENCRYPTION_KEY`` unset (also the
inherited ``MEMBRANE_POSTGRES_DSN`` and embedding/LLM keys; ``extra_env`` sets what a test needs).
With ``postgres_dsn=`` it passes ``-postgres-dsn`` instead of ``-db`` (the PostgreSQL store; see
``tests/support/membraned_pg.py`` for the whole pgvector + embeddings stack). It waits for
the ready line on stderr (``membraned: listening on ...``) and then for a successful GetMetrics,
both under one deadline; an early exit raises with the daemon's stderr. ``stop()`` sends SIGTERM,
escalates to SIGKILL after 5 s, and removes the temporary directory.

``daemon_status()`` reads ``.cache/membraned.json`` (written by ``install_membraned.py``) and
``require_daemon()`` turns it into the documented gating: run, skip, or fail under ``CI=true``.

Example::

    with Membraned(binary, api_key="test-secret") as daemon:
        with MembraneClient(daemon.addr, api_key="test-secret") as client:
            client.get_metrics()
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATUS_FILE = ROOT / ".cache" / "membraned.json"
READY_MARKER = "membraned: listening on "
# Inherited values of these change the daemon's behaviour (spec 4.1): never passed through.
_CONTROLLED_ENV = (
    "MEMBRANE_API_KEY",
    "MEMBRANE_ENCRYPTION_KEY",
    "MEMBRANE_POSTGRES_DSN",
    "MEMBRANE_EMBEDDING_API_KEY",
    "MEMBRANE_LLM_API_KEY",
)


def daemon_status() -> dict[str, str]:
    """What ``install_membraned.py`` found: ``{"state": ok|no-go|unavailable|failed, ...}``."""
    explicit = os.environ.get("MEMBRANED_BIN")
    if explicit and Path(explicit).is_file():
        return {"state": "ok", "path": explicit}
    if not STATUS_FILE.is_file():
        cached = ROOT / ".cache" / "bin" / "membraned"
        if cached.is_file():
            return {"state": "ok", "path": str(cached)}
        return {
            "state": "failed",
            "reason": "membraned status unknown: run `make membraned` "
            "(python -m tests.support.install_membraned) first",
        }
    status: dict[str, str] = json.loads(STATUS_FILE.read_text())
    return status


def require_daemon() -> str:
    """The daemon binary path, or skip/fail the calling test as the gating rules say."""
    import pytest

    status = daemon_status()
    state = status.get("state")
    if state == "ok" and Path(status.get("path", "")).is_file():
        return status["path"]
    if state == "no-go":
        pytest.skip("Go is not installed; membraned cannot be built here")
    if state == "unavailable":
        pytest.skip(f"membraned v0.2.0 cannot be had on this machine: {status.get('reason')}")
    reason = status.get("reason", f"membraned binary missing ({status})")
    if os.environ.get("CI") == "true":
        pytest.fail(f"membraned could not be installed or found: {reason}")
    pytest.skip(f"membraned could not be installed: {reason}")
    raise AssertionError("unreachable")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the daemon cannot report its own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class SelfSignedCert:
    """A self-signed server certificate for 127.0.0.1 / localhost, written to ``directory``."""

    cert_path: Path
    key_path: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert_path.read_bytes()

    @property
    def key_pem(self) -> bytes:
        return self.key_path.read_bytes()


def make_self_signed_cert(directory: Path) -> SelfSignedCert:
    """Create a self-signed certificate (also its own CA) valid for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / "server.pem"
    key_path = directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return SelfSignedCert(cert_path, key_path)


class DaemonStartError(RuntimeError):
    """membraned exited or did not become ready before the deadline."""


class Membraned:
    """One throwaway membraned process on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        binary: str | Sequence[str],
        *,
        api_key: str | None = None,
        tls: bool = False,
        ready_timeout: float = 20.0,
        extra_config: dict[str, str | int | float | bool] | None = None,
        postgres_dsn: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.binary = binary
        self.api_key = api_key
        self.tls = tls
        self.ready_timeout = ready_timeout
        self.extra_config = dict(extra_config or {})
        self.postgres_dsn = postgres_dsn
        self.extra_env = dict(extra_env or {})
        self.port = 0
        self.addr = ""
        self.cert: SelfSignedCert | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._ready = threading.Event()
        self._pump_thread: threading.Thread | None = None

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def _write_config(self, tmp: Path) -> Path:
        lines = ["rate_limit_per_second: 0"]
        if self.tls:
            self.cert = make_self_signed_cert(tmp / "tls")
            lines += [
                f"tls_cert_file: {json.dumps(str(self.cert.cert_path))}",
                f"tls_key_file: {json.dumps(str(self.cert.key_path))}",
            ]
        lines += [f"{k}: {json.dumps(v)}" for k, v in self.extra_config.items()]
        path = tmp / "membraned.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _CONTROLLED_ENV}
        if self.api_key:
            env["MEMBRANE_API_KEY"] = self.api_key
        env.update(self.extra_env)
        return env

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)
            if READY_MARKER in line:
                self._ready.set()

    def start(self) -> Membraned:
        self._tmp = Path(tempfile.mkdtemp(prefix="membraned-"))
        config = self._write_config(self._tmp)
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        prefix = [self.binary] if isinstance(self.binary, str) else list(self.binary)
        store = (
            ["-postgres-dsn", self.postgres_dsn]
            if self.postgres_dsn
            else ["-db", str(self._tmp / "membrane.db")]
        )
        cmd = [*prefix, "-addr", self.addr, *store, "-config", str(config)]
        self._proc = subprocess.Popen(
            cmd,
            cwd=self._tmp,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        assert self._proc is not None
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None:
                raise DaemonStartError(
                    f"membraned exited with status {self._proc.returncode}: {self.stderr.strip()}"
                )
            if time.monotonic() > deadline:
                raise DaemonStartError(
                    f"membraned printed no ready line within {self.ready_timeout}s: "
                    f"{self.stderr.strip()}"
                )
        # The socket is bound before the ready line; confirm the RPC path too.
        from membrane_integrations.core.errors import MembraneIntegrationsError

        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with self.client(timeout=1.0, max_retries=0) as client:
                    client.get_metrics()
                return
            except MembraneIntegrationsError as exc:
                last = exc
                time.sleep(0.1)  # pacing between probes under the deadline, not a fixed wait
        raise DaemonStartError(f"membraned did not answer GetMetrics: {last}")

    def client(self, **kwargs: object):  # type: ignore[no-untyped-def]
        """A ``MembraneClient`` for this daemon (API key and TLS CA filled in)."""
        from membrane_integrations.membrane import MembraneClient

        return MembraneClient(self.addr, **self._client_kwargs(kwargs))  # type: ignore[arg-type]

    def async_client(self, **kwargs: object):  # type: ignore[no-untyped-def]
        from membrane_integrations.membrane import AsyncMembraneClient

        return AsyncMembraneClient(self.addr, **self._client_kwargs(kwargs))  # type: ignore[arg-type]

    def _client_kwargs(self, kwargs: dict[str, object]) -> dict[str, object]:
        out: dict[str, object] = {"api_key": self.api_key}
        if self.cert is not None:
            out["tls_ca_cert"] = str(self.cert.cert_path)
        out.update(kwargs)
        return out

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)  # ends at EOF once the process has exited
            self._pump_thread = None
        self._proc = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Membraned:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running_daemon(**kwargs: object) -> Iterator[Membraned]:
    """Start a daemon (after the gating of :func:`require_daemon`) and stop it afterwards."""
    binary = require_daemon()
    with Membraned(binary, **kwargs) as daemon:  # type: ignore[arg-type]
        yield daemon
