"""``MembrainEmulator``: the emulator served by uvicorn in a background thread on loopback.

The socket is bound before the server thread starts (port 0 picks a free port, so there is no
race for it), then ``/health`` is polled with a deadline until the server answers.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu:
    ...     with emu.client() as client:
    ...         result = client.add("User likes green tea", scope=["container.bob"])
    ...         hits = client.search("What drinks does the user like?", k=1)
    >>> hits.nodes[0].id == result.memory_id
    True
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from .app import create_app
from .embeddings import EmbeddingsLike
from .engine import Engine
from .faults import FaultConfig, FaultInjector
from .guard import Limits
from .quotas import QuotaConfig
from .selection import EmbedderChoice, describe_embedder, make_embedder

if TYPE_CHECKING:
    from ..membrain import AsyncMembrainClient, MembrainClient

__all__ = ["MembrainEmulator", "generate_key"]


def generate_key() -> str:
    """A fresh emulator key: ``emu-<random>``."""
    return "emu-" + secrets.token_urlsafe(18)


class MembrainEmulator:
    """A Membrain-compatible server on 127.0.0.1 for development, tests and demos.

    It keeps data in memory (or in the SQLite file ``db_path``), embeds with WordLlama (semantic,
    offline) when it is installed and the hashing embedder otherwise, unless ``embedder`` or
    ``embeddings`` says which, and serves each key in ``api_keys`` as its own
    tenant. It is not the hosted service; move to the hosted Membrain when you outgrow it.

    Args:
        api_keys: the accepted keys; one ``emu-<random>`` key is generated when empty.
        embeddings: any LangChain-style ``Embeddings`` object (duck-typed); overrides
            ``embedder``.
        embedder: ``"auto"`` (WordLlama if installed, else hashing), ``"wordllama"`` or
            ``"hashing"``.
        db_path: a SQLite file to keep data across runs.
        fault_injection: serve ``/_emulator/faults`` and inject faults (off by default; without
            it no tenant can switch faults on, and :meth:`set_faults` refuses).
        faults: the initial fault config (needs ``fault_injection=True``).
        limits: request body and ``/v1/embeddings`` input caps (:class:`~.guard.Limits`).
        quotas: a quota for every tenant, or one per key.
        host, port: where to listen (port 0 picks a free port).
        tls_certfile, tls_keyfile: serve HTTPS instead of HTTP.
        log_level: uvicorn's log level.

    Example:
        >>> with MembrainEmulator(api_keys=["emu-a", "emu-b"]) as emu:
        ...     emu.url.startswith("http://127.0.0.1:"), emu.api_key
        (True, 'emu-a')
    """

    def __init__(
        self,
        api_keys: Iterable[str] | None = None,
        *,
        embeddings: EmbeddingsLike | None = None,
        embedder: EmbedderChoice = "auto",
        db_path: str | None = None,
        fault_injection: bool = False,
        faults: FaultConfig | None = None,
        limits: Limits | None = None,
        quotas: QuotaConfig | Mapping[str, QuotaConfig] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_certfile: str | None = None,
        tls_keyfile: str | None = None,
        log_level: str = "warning",
        startup_timeout: float = 15.0,
    ) -> None:
        self.api_keys: list[str] = list(api_keys or []) or [generate_key()]
        self.engine = Engine(
            embeddings or make_embedder(embedder),
            db_path=db_path,
            default_quota=quotas if isinstance(quotas, QuotaConfig) else None,
        )
        if quotas is not None and not isinstance(quotas, QuotaConfig):
            for key, quota in quotas.items():
                self.engine.set_quota(self.engine.tenant_id(key), quota)
        if faults is not None and faults != FaultConfig() and not fault_injection:
            raise ValueError(
                "faults were given but fault injection is off: pass fault_injection=True"
            )
        self.fault_injection = fault_injection
        self.faults = FaultInjector(faults)
        self.limits = limits or Limits()
        self.app = create_app(
            self.engine,
            self.api_keys,
            injector=self.faults,
            fault_injection=fault_injection,
            limits=self.limits,
        )
        self._host = host
        self._port = port
        self._tls = (tls_certfile, tls_keyfile)
        self._log_level = log_level
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        state = self.url if self._server else "stopped"
        return f"MembrainEmulator({state}, tenants={len(self.api_keys)})"

    @property
    def embedder_description(self) -> str:
        """Which embedder runs, in one line (also printed at start and shown in ``/docs``)."""
        return describe_embedder(self.engine.embeddings)

    @property
    def api_key(self) -> str:
        """The first (default) API key."""
        return self.api_keys[0]

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("the emulator is not running: call start() or use 'with'")
        return self._bound_port

    @property
    def url(self) -> str:
        """Base URL without ``/api/v1`` (e.g. ``http://127.0.0.1:54321``)."""
        scheme = "https" if self._tls[0] else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def start(self) -> MembrainEmulator:
        """Bind, serve in a background thread, and return once ``/health`` answers."""
        if self._server is not None:
            return self
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it every keep-alive reply waits ~40 ms for delayed ACKs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        sock.listen(128)
        self._socket = sock
        self._bound_port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_level=self._log_level,
            ssl_certfile=self._tls[0],
            ssl_keyfile=self._tls[1],
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            daemon=True,
            name="membrain-emulator",
        )
        self._thread.start()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        last: Exception | None = None
        with httpx.Client(verify=False, timeout=2.0) as probe:
            while time.monotonic() < deadline:
                if self._thread is not None and not self._thread.is_alive():
                    break
                try:
                    if probe.get(self.url + "/health").status_code == 200:
                        return
                except httpx.HTTPError as exc:
                    last = exc
                time.sleep(0.01)  # poll interval while the server thread starts
        self.stop()
        raise RuntimeError(f"the emulator did not become ready in time: {last!r}")

    def stop(self) -> None:
        """Stop serving, wait for the thread, close the engine."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.engine.close()

    def __enter__(self) -> MembrainEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def set_faults(self, config: FaultConfig | None = None, **fields: Any) -> None:
        """Replace the fault config (``set_faults()`` turns faults off).

        Needs an emulator started with ``fault_injection=True``; on any other, turning faults
        off is a no-op and anything else raises ``RuntimeError``.
        """
        wanted = config or FaultConfig(**fields)
        if not self.fault_injection:
            if wanted == FaultConfig():
                return
            raise RuntimeError(
                "fault injection is off on this emulator: start it with fault_injection=True"
            )
        self.faults.configure(wanted)

    def set_quota(self, quota: QuotaConfig, api_key: str | None = None) -> None:
        """Set a tenant's quota (the default key's when ``api_key`` is None)."""
        self.engine.set_quota(self.engine.tenant_id(api_key or self.api_key), quota)

    def client(self, api_key: str | None = None, **kwargs: Any) -> MembrainClient:
        """A :class:`~membrane_integrations.membrain.MembrainClient` for this emulator."""
        from ..membrain import MembrainClient

        return MembrainClient(api_key or self.api_key, base_url=self.url, **kwargs)

    def async_client(self, api_key: str | None = None, **kwargs: Any) -> AsyncMembrainClient:
        """An :class:`~membrane_integrations.membrain.AsyncMembrainClient` for this emulator."""
        from ..membrain import AsyncMembrainClient

        return AsyncMembrainClient(api_key or self.api_key, base_url=self.url, **kwargs)
