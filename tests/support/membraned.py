"""The live tests' side of the daemon: gating and certificates (the launcher is the package's).

``Membraned`` is :class:`membrane_integrations.membrane.daemon.LocalMembraned` with the keywords
the tests have always used: ``tls=True`` makes a CA and a server certificate for 127.0.0.1 and
``localhost`` (``benchmarks/_tls.py``; kept in ``.cert``) and passes their paths.
``require_daemon()`` turns the outcome of ``make membraned`` (``.cache/membraned.json``, written
by ``install_membraned.py``) into the gating: run; fail under ``CI=true`` when Go is there but
no daemon could be built or started; skip, saying how to get the daemon, only when Go is
missing (or outside CI).

Example::

    with Membraned(require_daemon(), api_key="test-secret") as daemon:
        with daemon.client() as client:
            client.get_metrics()
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks._tls import TlsFiles, make_tls_files
from membrane_integrations.membrane._daemon_build import (
    INSTALL_HINT,
    MembranedNotFoundError,
    status_file,
)
from membrane_integrations.membrane.daemon import (
    READY_MARKER,
    LocalMembraned,
    MembranedStartError,
    free_port,
    resolve_membraned,
)

__all__ = [
    "READY_MARKER",
    "DaemonStartError",
    "Membraned",
    "daemon_status",
    "free_port",
    "require_daemon",
    "running_daemon",
]

ROOT = Path(__file__).resolve().parents[2]
# The launcher reads the same file (a clean environment finds the recorded binary).
STATUS_FILE = status_file()
DaemonStartError = MembranedStartError


def daemon_status() -> dict[str, str]:
    """What ``make membraned`` found: ``{"state": "ok", "path": ...}``, ``no-go`` or ``failed``.

    ``MEMBRANED_BIN`` wins; without a status file (pytest run directly) the launcher resolves
    now, building from ``MEMBRANED_SOURCE`` if it must.
    """
    explicit = os.environ.get("MEMBRANED_BIN")
    if not explicit and STATUS_FILE.is_file():
        status: dict[str, str] = json.loads(STATUS_FILE.read_text())
        if status.get("state") != "ok" or Path(status.get("path", "")).is_file():
            return status
    try:
        found = resolve_membraned(log=None)
    except MembranedNotFoundError as exc:
        return {"state": "no-go" if exc.no_go else "failed", "reason": str(exc)}
    return {"state": "ok", "path": found.path, "how": found.how, "detail": found.detail}


def require_daemon() -> str:
    """The daemon binary path, or skip/fail the calling test as the gating rules say."""
    import pytest

    status = daemon_status()
    state = status.get("state")
    if state == "ok" and Path(status.get("path", "")).is_file():
        return status["path"]
    reason = status.get("reason", f"membraned binary missing ({status})")
    if state == "no-go" and shutil.which("go") is None:
        pytest.skip(f"Go is not installed, so membraned cannot be built here. {INSTALL_HINT}")
    if os.environ.get("CI") == "true":
        pytest.fail(f"membraned could not be found or built: {reason}")
    pytest.skip(f"membraned could not be found or built: {reason}")
    raise AssertionError("unreachable")


class Membraned(LocalMembraned):
    """``LocalMembraned`` with the tests' keywords: ``tls=True`` makes a CA-signed cert."""

    def __init__(
        self,
        binary: str | Sequence[str] | None = None,
        *,
        tls: bool = False,
        api_key: str | None = None,
        ready_timeout: float = 20.0,
        extra_config: Mapping[str, str | int | float | bool] | None = None,
        postgres_dsn: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        **kwargs: object,
    ) -> None:
        self.tls = tls
        self.cert: TlsFiles | None = None
        self._cert_dir: Path | None = None
        if tls:
            self._cert_dir = Path(tempfile.mkdtemp(prefix="membraned-tls-"))
            self.cert = make_tls_files(self._cert_dir)
            cert = self.cert
            kwargs.update(tls_cert=cert.server_cert, tls_key=cert.server_key, tls_ca=cert.ca_cert)
        super().__init__(
            binary,
            api_key=api_key,
            ready_timeout=ready_timeout,
            extra_config=extra_config,
            postgres_dsn=postgres_dsn,
            extra_env=extra_env,
            **kwargs,  # type: ignore[arg-type]
        )

    def client(self, **kwargs: object):  # type: ignore[no-untyped-def]
        """A ``MembraneClient``; any keyword (``api_key=None``, ``retry_policy``) overrides."""
        from membrane_integrations.membrane import MembraneClient

        return MembraneClient(self.addr, **{**self._client_kwargs(), **kwargs})  # type: ignore[arg-type]

    def async_client(self, **kwargs: object):  # type: ignore[no-untyped-def]
        from membrane_integrations.membrane import AsyncMembraneClient

        return AsyncMembraneClient(self.addr, **{**self._client_kwargs(), **kwargs})  # type: ignore[arg-type]

    def stop(self, *, keep_data: bool = False) -> None:
        super().stop(keep_data=keep_data)
        if not keep_data and self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = None


@contextmanager
def running_daemon(**kwargs: object) -> Iterator[Membraned]:
    """Start a daemon (after the gating of :func:`require_daemon`) and stop it afterwards."""
    binary = require_daemon()
    with Membraned(binary, **kwargs) as daemon:  # type: ignore[arg-type]
        yield daemon
