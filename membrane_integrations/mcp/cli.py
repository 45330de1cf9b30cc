"""``python -m membrane_integrations mcp {membrain,membrane} --container ID ...``.

The operator fixes the tenancy on the command line: the container (Membrain) or the scope,
trust ceiling and trust scopes (Membrane). Keys come from the environment only
(``MEMBRAIN_API_KEY``, ``MEMBRANE_API_KEY``), never from a flag, so they stay out of process
listings and shell history; so does the HTTP bearer token (``MEMBRANE_MCP_TOKEN``), without
which the server will not listen beyond loopback unless ``--no-auth`` says a proxy
authenticates. Building the parser imports nothing of ``mcp``.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_mcp_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["mcp", "membrane", "--container", "p", "--trust-scope", "q"])
    >>> args.backend, args.container, args.transport, args.max_sensitivity, args.trust_scope
    ('membrane', 'p', 'stdio', 'low', ['q'])
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["TOKEN_ENV", "add_mcp_parser", "run_mcp"]

TOKEN_ENV = "MEMBRANE_MCP_TOKEN"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_LEVELS = ["public", "low", "medium", "high", "hyper"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--container",
        required=True,
        help="the one container (user, session, bot) every tool call of this server is confined to",
    )
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default loopback)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (0 picks a free one)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        help="an extra Host header value accepted over HTTP (e.g. behind a proxy), repeatable",
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help=f"listen beyond loopback without {TOKEN_ENV} (a proxy in front authenticates)",
    )
    parser.add_argument("--max-chars", type=int, default=4000, help="text budget of a tool reply")
    parser.add_argument("--log-level", default="warning")


def add_mcp_parser(sub: Any) -> None:
    """Add ``mcp membrain`` and ``mcp membrane`` to the command line's subparsers."""
    mcp = sub.add_parser("mcp", help="serve the memory tools over MCP (stdio or streamable HTTP)")
    backends = mcp.add_subparsers(dest="backend", required=True)

    brain = backends.add_parser(
        "membrain", help="the Membrain tools for one container (key: MEMBRAIN_API_KEY)"
    )
    _common(brain)
    brain.add_argument("--base-url", help="Membrain URL (default: MEMBRAIN_BASE_URL)")
    brain.add_argument("--read-only", action="store_true", help="no add/update/delete/unlink")
    brain.add_argument("--graph-tools", action="store_true", help="serve the graph tools too")
    brain.add_argument("--wait-timeout", type=float, default=60.0, help="membrain_add's wait")

    brane = backends.add_parser(
        "membrane",
        help="the Membrane tools for one scope and trust context (key: MEMBRANE_API_KEY)",
    )
    _common(brane)
    brane.add_argument("--addr", help="membraned HOST:PORT (default: MEMBRANE_ADDR or :9090)")
    brane.add_argument("--tls", action="store_true", help="connect with TLS")
    brane.add_argument("--tls-ca-cert", help="CA certificate file for --tls")
    brane.add_argument(
        "--max-sensitivity",
        choices=_LEVELS,
        default="low",
        help="the trust ceiling of every read (default low)",
    )
    brane.add_argument(
        "--trust-scope",
        action="append",
        default=[],
        help="a scope the trust context may read, repeatable (default: the container)",
    )
    brane.add_argument("--actor", help="the actor recorded on revisions (default mcp:<container>)")
    brane.add_argument(
        "--sensitivity",
        choices=_LEVELS,
        default="low",
        help="the lowest sensitivity of new records (default low)",
    )
    brane.add_argument(
        "--revision-tools", action="store_true", help="serve supersede, retract, contest"
    )


def _membrain(args: argparse.Namespace) -> Any:
    from ..membrain import AsyncMembrainClient
    from .membrain import membrain_server

    client = AsyncMembrainClient(base_url=args.base_url)  # key: MEMBRAIN_API_KEY
    server = membrain_server(
        client,
        container=args.container,
        write=not args.read_only,
        graph=args.graph_tools,
        max_chars=args.max_chars,
        wait_timeout=args.wait_timeout,
    )
    return client, server


def _membrane(args: argparse.Namespace) -> Any:
    from ..membrane import AsyncMembraneClient, Sensitivity, TrustContext
    from ..tools.membrane import MembraneIdentity
    from .membrane import membrane_server

    client = AsyncMembraneClient(
        args.addr or os.environ.get("MEMBRANE_ADDR") or "localhost:9090",
        api_key=os.environ.get("MEMBRANE_API_KEY") or None,
        tls=args.tls,
        tls_ca_cert=args.tls_ca_cert,
    )
    identity = MembraneIdentity(
        trust=TrustContext(
            max_sensitivity=Sensitivity(args.max_sensitivity),
            authenticated=True,
            scopes=list(args.trust_scope),
        ),
        actor=args.actor or f"mcp:{args.container}",
        scope=args.container,
        source="mcp",
        sensitivity=Sensitivity(args.sensitivity),
        max_chars=args.max_chars,
    )
    return client, membrane_server(client, identity, revisions=args.revision_tools)


async def _serve(args: argparse.Namespace) -> None:
    from .transports import serve_http, serve_stdio

    # the async client is made inside the loop it will run on
    client, server = _membrain(args) if args.backend == "membrain" else _membrane(args)
    try:
        if args.transport == "stdio":
            await serve_stdio(server)
        else:
            await serve_http(
                server,
                host=args.host,
                port=args.port,
                allowed_hosts=args.allowed_host,
                log_level=args.log_level,
                token=os.environ.get(TOKEN_ENV) or None,
            )
    finally:
        await client.aclose()


def run_mcp(args: argparse.Namespace) -> int:
    """Run the server the arguments describe until the client leaves (stdio) or Ctrl-C."""
    import logging

    from ..core.errors import MembraneIntegrationsError

    try:
        import anyio
        import mcp  # noqa: F401  (the SDK: say how to get it before anything starts)
    except ImportError:
        print(
            'error: the MCP server needs the mcp extra: pip install "membrane-integrations[mcp]"',
            file=sys.stderr,
        )
        return 2

    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper())
    open_to_all = args.host not in _LOOPBACK and not os.environ.get(TOKEN_ENV)
    if args.transport == "http" and open_to_all and not args.no_auth:
        print(
            f"error: --host {args.host} would let anyone who reaches it act as container "
            f"{args.container!r}: set {TOKEN_ENV} (clients then send 'Authorization: Bearer "
            "<token>'), or pass --no-auth when an authenticating proxy is in front",
            file=sys.stderr,
        )
        return 2
    try:
        anyio.run(_serve, args)
    except KeyboardInterrupt:
        return 0
    except MembraneIntegrationsError as exc:  # bad configuration: say what, exit non-zero
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
