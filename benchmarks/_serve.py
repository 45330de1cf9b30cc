"""Run one benchmark server in this process until standard input closes.

``python benchmarks/_serve.py fixed|emulator --host H [--tls-cert C --tls-key K] [--seed N]``
prints one JSON line, ``{"url": ..., "api_key": ...}``, once the server answers, then serves until
its standard input reaches end of file (the benchmark closes it, or ends the process). It is a
separate process so that it can run inside a network namespace and so that the server's work
never shares a GIL with the client being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from pathlib import Path

BENCH_API_KEY = "mb_bench_fixed_key"

SEED_FACTS = [
    "The user prefers green tea in the morning and coffee after lunch.",
    "The user's daughter Maya starts school in September.",
    "The user is allergic to peanuts.",
    "The user works as a structural engineer in Lisbon.",
    "The user runs five kilometres every Saturday.",
    "The user's favourite author is Ursula K. Le Guin.",
    "The user is learning Japanese with a tutor on Tuesdays.",
    "The user drives an electric car and charges it at work.",
    "The user's partner Sam is a nurse who works night shifts.",
    "The user plans a trip to Kyoto in April.",
]


def _wait_for_stdin_eof() -> None:
    sys.stdin.read()


def _serve_fixed(host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _fixed_server import start_fixed_server

    async def main() -> None:
        server = await start_fixed_server(host, port, ssl_context)
        bound = server.sockets[0].getsockname()[1]
        scheme = "https" if ssl_context else "http"
        print(json.dumps({"url": f"{scheme}://{host}:{bound}", "api_key": BENCH_API_KEY}))
        sys.stdout.flush()
        await asyncio.to_thread(_wait_for_stdin_eof)
        server.close()

    asyncio.run(main())


def _serve_emulator(
    host: str, cert: str | None, key: str | None, ca_bundle: str | None, seed: int
) -> None:
    import httpx

    from membrane_integrations.emulator import MembrainEmulator

    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    with MembrainEmulator(host=host, tls_certfile=cert, tls_keyfile=key) as emu:
        with httpx.Client(verify=verify) as http, emu.client(http_client=http) as client:
            for i in range(seed):
                client.add(SEED_FACTS[i % len(SEED_FACTS)], scope=["container.bench"])
        print(json.dumps({"url": emu.url, "api_key": emu.api_key}))
        sys.stdout.flush()
        # The server runs in its own thread; this one only waits to be told to stop.
        _wait_for_stdin_eof()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["fixed", "emulator"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--ca-bundle", help="trust store for seeding over TLS")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    if args.kind == "fixed":
        ctx = None
        if args.tls_cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
        _serve_fixed(args.host, args.port, ctx)
    else:
        _serve_emulator(args.host, args.tls_cert, args.tls_key, args.ca_bundle, args.seed)


if __name__ == "__main__":
    main()
