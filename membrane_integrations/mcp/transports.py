"""Serve a :class:`~membrane_integrations.mcp.server.MemoryServer` over stdio or streamable HTTP.

Over stdio, stdout carries the protocol (every log goes to stderr). Over HTTP the server binds
``127.0.0.1`` unless told otherwise, answers at ``/mcp``, checks the ``Host`` and ``Origin``
headers against loopback names when bound to loopback (DNS rebinding), with a ``token`` answers
only requests carrying ``Authorization: Bearer <token>`` (401 otherwise), and says on stderr,
once it accepts connections, ``MCP server ready at http://HOST:PORT/mcp`` (with the port it got
when given 0).

Example:
    >>> from membrane_integrations.mcp.membrain import membrain_server
    >>> from membrane_integrations.membrain import AsyncMembrainClient
    >>> server = membrain_server(AsyncMembrainClient("k", base_url="http://127.0.0.1:9"),
    ...                          container="c")
    >>> [route.path for route in http_app(server).routes]
    ['/mcp']
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TextIO

from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .server import MemoryServer

__all__ = ["READY_PREFIX", "http_app", "serve_http", "serve_stdio"]

READY_PREFIX = "MCP server ready at "
PATH = "/mcp"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


async def serve_stdio(server: MemoryServer[Any]) -> None:
    """Serve one client on this process's stdin/stdout until it disconnects."""
    low = server.lowlevel
    async with stdio_server() as (read, write):
        await low.run(read, write, low.create_initialization_options())


def _security(host: str, allowed_hosts: Sequence[str]) -> TransportSecuritySettings | None:
    if host not in _LOOPBACK and not allowed_hosts:
        return None
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *allowed_hosts]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    origins += [f"http://{h}" for h in allowed_hosts] + [f"https://{h}" for h in allowed_hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class _Endpoint:
    """The ASGI endpoint of ``/mcp``: checks the bearer token (if any), then hands the request
    to the session manager."""

    def __init__(self, manager: StreamableHTTPSessionManager, token: str | None) -> None:
        self.manager = manager
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.expected is not None:
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                denied = PlainTextResponse(
                    "missing or wrong bearer token", 401, {"WWW-Authenticate": "Bearer"}
                )
                await denied(scope, receive, send)
                return
        await self.manager.handle_request(scope, receive, send)


def http_app(
    server: MemoryServer[Any],
    *,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    stateless: bool = False,
    token: str | None = None,
) -> Starlette:
    """The streamable-HTTP ASGI app of ``server`` at ``/mcp`` (run it with any ASGI server).

    ``token``: when given, every request must carry ``Authorization: Bearer <token>``.
    """
    manager = StreamableHTTPSessionManager(
        app=server.lowlevel, stateless=stateless, security_settings=_security(host, allowed_hosts)
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    endpoint = _Endpoint(manager, token)
    return Starlette(routes=[Route(PATH, endpoint=endpoint)], lifespan=lifespan)


async def serve_http(
    server: MemoryServer[Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    allowed_hosts: Sequence[str] = (),
    log_level: str = "warning",
    announce: TextIO | None = None,
    token: str | None = None,
) -> None:
    """Serve ``server`` over streamable HTTP until cancelled (Ctrl-C)."""
    import uvicorn

    app = http_app(server, host=host, allowed_hosts=allowed_hosts, token=token)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    out = announce if announce is not None else sys.stderr

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and self.servers:
                bound = self.servers[0].sockets[0].getsockname()
                shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
                print(f"{READY_PREFIX}http://{shown}:{bound[1]}{PATH}", file=out, flush=True)

    await Announcing(config).serve()
