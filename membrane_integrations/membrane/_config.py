"""Client configuration shared by the sync and the async Membrane client.

Applies the environment fallbacks (``addr`` from ``MEMBRANE_ADDR``, else ``localhost:9090``;
``api_key`` from ``MEMBRANE_API_KEY`` when it is ``None``; ``api_key=""`` means no key), checks
the constructor's arguments once, reads the CA certificate once, keeps the API key in a
pydantic ``SecretStr`` so it never shows in a repr, and builds what the clients need: the
channel options, the TLS credentials, the call metadata and the per-call flow
:class:`~._flows.Context`. A client's counterpart (``to_async`` / ``to_sync``) is built from the
same configuration, so both flavours talk to the same daemon in the same way.

Example:
    >>> cfg = ClientConfig.resolve("127.0.0.1:9090", api_key="k", timeout=5.0)
    >>> cfg.metadata()
    (('authorization', 'Bearer k'),)
    >>> cfg
    ClientConfig(addr='127.0.0.1:9090', tls=False, api_key='***')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

if TYPE_CHECKING:
    from pydantic import SecretStr

from ..core.retry import RetryPolicy
from ._flows import Context

__all__ = ["ADDR_ENV", "API_KEY_ENV", "DEFAULT_ADDR", "DEFAULT_OPTIONS", "ClientConfig"]

ADDR_ENV = "MEMBRANE_ADDR"
API_KEY_ENV = "MEMBRANE_API_KEY"
DEFAULT_ADDR = "localhost:9090"

# The daemon caps nothing on responses and Retrieve with limit 0 returns every record (spec 4.5);
# grpcio's default 4 MiB receive cap would turn a large result into RESOURCE_EXHAUSTED.
# After a failed connection gRPC waits 1 s (growing to 120 s) before it tries again, and calls
# made meanwhile fail at once: after a daemon restart, reads would fail for longer than any retry
# budget although the daemon is back. Reconnect after 100 ms, never waiting more than 1 s.
DEFAULT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


@dataclass(frozen=True, repr=False)
class ClientConfig:
    """Everything a Membrane client needs besides its channel."""

    addr: str
    tls: bool
    root_certificates: bytes | None
    api_key: SecretStr | None
    timeout: float | None
    retry: RetryPolicy
    channel_options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def resolve(
        cls,
        addr: str | None = None,
        *,
        tls: bool = False,
        tls_ca_cert: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        channel_options: Sequence[tuple[str, Any]] | None = None,
    ) -> ClientConfig:
        """The configuration of the reference client's constructor (plus the extras).

        ``addr=None`` reads ``MEMBRANE_ADDR`` (default ``localhost:9090``); ``api_key=None``
        reads ``MEMBRANE_API_KEY`` (unset or empty: no key); ``api_key=""`` sends no key.
        """
        if addr is None:
            addr = os.environ.get(ADDR_ENV) or DEFAULT_ADDR
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        if api_key:
            # Imported here: the package defers pydantic until it is needed (see ``_json``).
            from pydantic import SecretStr
        return cls(
            addr=addr,
            tls=tls or tls_ca_cert is not None,
            root_certificates=Path(tls_ca_cert).read_bytes() if tls_ca_cert else None,
            api_key=SecretStr(api_key) if api_key else None,
            timeout=timeout,
            retry=retry_policy or RetryPolicy(max_retries=max_retries),
            channel_options=tuple(channel_options or ()),
        )

    @cached_property
    def secrets(self) -> tuple[str, ...]:
        """The raw secrets, for redaction only."""
        return (self.api_key.get_secret_value(),) if self.api_key else ()

    @cached_property
    def _default_context(self) -> Context:
        return Context(retry=self.retry, secrets=self.secrets)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The call metadata sent with every RPC (the bearer token, when there is a key)."""
        if self.api_key is None:
            return ()
        return (("authorization", f"Bearer {self.api_key.get_secret_value()}"),)

    def options(self) -> list[tuple[str, Any]]:
        """The channel options: ours first, the caller's after them (so theirs win)."""
        return [*DEFAULT_OPTIONS, *self.channel_options]

    def credentials(self) -> grpc.ChannelCredentials:
        """TLS credentials trusting ``root_certificates`` (the system roots when None)."""
        return grpc.ssl_channel_credentials(root_certificates=self.root_certificates)

    def open_channel(self) -> grpc.Channel:
        """A new blocking channel to the daemon (TLS when configured)."""
        if self.tls:
            return grpc.secure_channel(self.addr, self.credentials(), options=self.options())
        return grpc.insecure_channel(self.addr, options=self.options())

    def open_aio_channel(self) -> grpc.aio.Channel:
        """A new ``grpc.aio`` channel; open it inside the event loop that will use it."""
        if self.tls:
            return grpc.aio.secure_channel(self.addr, self.credentials(), options=self.options())
        return grpc.aio.insecure_channel(self.addr, options=self.options())

    def context(self, timeout: float | None = None) -> Context:
        """The flow context of one call (``timeout`` overrides the client's for that call)."""
        if timeout is None:
            return self._default_context  # the common case: built once, it is immutable
        return Context(retry=self.retry, secrets=self.secrets, timeout=timeout)

    def __repr__(self) -> str:
        key = ", api_key='***'" if self.api_key else ""
        return f"ClientConfig(addr={self.addr!r}, tls={self.tls}{key})"
