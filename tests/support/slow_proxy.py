"""A loopback TCP proxy that passes, delays or swallows traffic: a slow or hung backend on demand.

It works below HTTP, so it serves the Membrain emulator (HTTP/1.1) and membraned (gRPC over
HTTP/2) alike. ``mode`` can change at any time and applies to new bytes:

* ``"pass"``: bytes go through as they come;
* ``"delay"``: every chunk the client sends reaches the server ``delay_s`` after it arrived (a
  request is one chunk or a few, so each request waits about ``delay_s``; replies are not held);
* ``"hang"``: the proxy reads what the client sends and never forwards it, so no reply ever
  comes (a backend that accepted the connection and stopped answering).

Example:
    >>> with SlowProxy(("127.0.0.1", 9), mode="hang") as proxy:  # doctest: +SKIP
    ...     client = MembrainClient("k", base_url=proxy.url)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

MODES = ("pass", "delay", "hang")


class SlowProxy:
    """Proxy ``upstream`` (host, port) on an ephemeral loopback port (``addr``, ``url``)."""

    def __init__(
        self, upstream: tuple[str, int], *, mode: str = "pass", delay_s: float = 2.0
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.upstream = upstream
        self.mode = mode
        self.delay_s = delay_s
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10.0):
            raise RuntimeError("the proxy did not start within 10 s")
        self.addr = f"127.0.0.1:{self._port}"
        self.url = f"http://{self.addr}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self._port = self._server.sockets[0].getsockname()[1]

        self._loop.run_until_complete(start())
        ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            if self.mode == "hang":
                while await reader.read(65536):
                    pass
                return
            up_reader, upstream = await asyncio.open_connection(*self.upstream)
            await asyncio.gather(
                self._pipe(reader, upstream, delayed=True),
                self._pipe(up_reader, writer, delayed=False),
            )
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    w.close()
            self._tasks.discard(task)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, delayed: bool
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    writer.write_eof() if writer.can_write_eof() else None
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                data = await reader.read(65536)
                while self.mode == "hang" and data:  # swallowed: never forwarded
                    data = await reader.read(65536)
                extra = self.delay_s if delayed and self.mode == "delay" else 0.0
                await queue.put((time.monotonic() + extra, data))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10.0)

    def __enter__(self) -> SlowProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
