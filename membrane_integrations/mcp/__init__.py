"""An MCP server for the memory tools (the ``mcp`` extra): any MCP client gets them.

``python -m membrane_integrations mcp membrain --container ID`` (or ``mcp membrane``) serves the
same tools as the LangChain toolkits, from the same definitions
(:mod:`membrane_integrations.tools`), over stdio or streamable HTTP, with the container (and for
Membrane the trust context) fixed by the operator. In Python: :func:`membrain_server` /
:func:`membrane_server` build a :class:`MemoryServer`; :func:`serve_stdio` / :func:`serve_http`
run it; :func:`http_app` is its ASGI app. The names load on first use, so importing this package
imports no ``mcp``. See ``docs/mcp.md``.

Example:
    >>> import membrane_integrations.mcp as m
    >>> sorted(m.__all__)[:3]
    ['MemoryServer', 'http_app', 'membrain_server']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .membrain import membrain_server
    from .membrane import membrane_server
    from .server import MemoryServer
    from .transports import http_app, serve_http, serve_stdio

_LAZY = {
    "MemoryServer": ".server",
    "membrain_server": ".membrain",
    "membrane_server": ".membrane",
    "http_app": ".transports",
    "serve_http": ".transports",
    "serve_stdio": ".transports",
}
__all__ = [
    "MemoryServer",
    "http_app",
    "membrain_server",
    "membrane_server",
    "serve_http",
    "serve_stdio",
]
__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
