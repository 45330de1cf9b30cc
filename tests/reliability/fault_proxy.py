"""An HTTP/1.1 fault-injecting TCP proxy: a real socket between a client and a server.

It runs an asyncio loop in its own thread (so sync and async clients can both use it), accepts
connections on 127.0.0.1, opens one upstream connection per client connection, and reads each
request whole (headers and ``Content-Length`` body) before it decides, with a seeded RNG, what
to do with it:

* ``unavailable``: answer a ``503`` HTML page itself, as a load balancer would; nothing is
  forwarded;
* ``drop``: forward the request, read the server's whole reply, then close the client's
  connection without a byte of it (the server did the work; the client never hears);
* ``truncate``: forward, then send the reply's status and headers with half of its body,
  ``Content-Length`` adjusted (a complete but garbled reply);
* ``cut``: forward, then send the headers with the original ``Content-Length`` and close half way
  through the body;
* ``delay``: wait ``delay_s`` before forwarding (the reply is intact).

Bounded: at most ``max_connections`` client connections at once, every read has a timeout, and
:meth:`FaultProxy.close` closes every socket and stops the loop. ``counts`` tallies what was
done, per fault and ``forwarded``. Only ``Content-Length`` and chunked replies are understood,
which is what uvicorn sends.

Example:
    >>> proxy = FaultProxy(("127.0.0.1", 9), rate=0.0, seed=1)
    >>> proxy.url.startswith("http://127.0.0.1:")
    True
    >>> proxy.close()
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FAULTS", "FaultProxy"]

FAULTS = ("unavailable", "drop", "truncate", "cut", "delay")
_READ_TIMEOUT = 30.0
_PAGE = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


@dataclass
class _Message:
    head: bytes  # start line and headers, with the blank line
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.encode():
                return value.strip().decode("latin-1")
        return None

    def with_body(self, body: bytes) -> bytes:
        lines = [
            line
            for line in self.head.split(b"\r\n")
            if line and not line.lower().startswith((b"content-length:", b"transfer-encoding:"))
        ]
        lines.append(b"content-length: " + str(len(body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _read_message(reader: asyncio.StreamReader, *, reply: bool) -> _Message | None:
    """One HTTP message, or ``None`` when the peer closed before sending one."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    message = _Message(head, b"")
    length = message.header("content-length")
    if length is not None:
        message.body = await asyncio.wait_for(reader.readexactly(int(length)), _READ_TIMEOUT)
    elif reply and (message.header("transfer-encoding") or "").lower() == "chunked":
        chunks = []
        while True:
            size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), _READ_TIMEOUT)
            size = int(size_line.split(b";")[0], 16)
            data = await asyncio.wait_for(reader.readexactly(size + 2), _READ_TIMEOUT)
            if size == 0:
                break
            chunks.append(data[:-2])
        message.body = b"".join(chunks)
        message.head = message.with_body(message.body).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    return message


class FaultProxy:
    """Proxy ``upstream`` (host, port), breaking ``rate`` of the requests (see the module doc).

    ``faults`` picks which kinds are drawn (uniformly); ``rate`` can be changed at any time
    (``proxy.rate = 0`` to reconcile through it).
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        rate: float = 0.2,
        seed: int = 0,
        faults: Sequence[str] = FAULTS,
        delay_s: float = 0.02,
        max_connections: int = 64,
    ) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; choose from {FAULTS}")
        self.upstream = upstream
        self.rate = rate
        self.faults = tuple(faults)
        self.delay_s = delay_s
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._gate: asyncio.Semaphore | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._max = max_connections
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="fault-proxy", daemon=True
        )
        self._thread.start()
        if not ready.wait(10.0):
            raise RuntimeError("the fault proxy did not start within 10 s")
        self.url = f"http://127.0.0.1:{self._port}"

    # ------------------------------------------------------------------ lifecycle

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._gate = asyncio.Semaphore(self._max)
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self._port = self._server.sockets[0].getsockname()[1]

        self._loop.run_until_complete(start())
        ready.set()
        self._loop.run_forever()

    def close(self) -> None:
        """Close the listener and every connection, and stop the loop's thread."""

        async def stop() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()

        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10.0)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ proxying

    def _draw(self) -> str | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.faults)

    def _tally(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._gate is not None
        async with self._gate:
            self._writers.add(writer)
            up_writer: asyncio.StreamWriter | None = None
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
                self._writers.add(up_writer)
                while await self._one(reader, writer, up_reader, up_writer):
                    pass
            except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
                pass
            finally:
                for w in (writer, up_writer):
                    if w is not None:
                        self._writers.discard(w)
                        w.close()

    async def _one(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> bool:
        """Relay one request; ``False`` when this connection is finished."""
        request = await _read_message(reader, reply=False)
        if request is None:
            return False
        fault = self._draw()
        if fault == "unavailable":
            self._tally(fault)
            page = _Message(b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\n", b"")
            writer.write(page.with_body(_PAGE))
            await writer.drain()
            return True
        if fault == "delay":
            self._tally(fault)
            await asyncio.sleep(self.delay_s)
        up_writer.write(request.head + request.body)
        await up_writer.drain()
        reply = await _read_message(up_reader, reply=True)
        if reply is None:
            return False
        if fault == "drop":
            self._tally(fault)
            return False
        if fault == "truncate":
            self._tally(fault)
            writer.write(reply.with_body(reply.body[: len(reply.body) // 2]))
            await writer.drain()
            return False
        if fault == "cut":
            self._tally(fault)
            writer.write(reply.head + reply.body[: len(reply.body) // 2])
            await writer.drain()
            return False
        self._tally("forwarded")
        writer.write(reply.head + reply.body)
        await writer.drain()
        return True
