"""A minimal Membrain-shaped HTTP/1.1 server that answers fixed replies, for isolating client cost.

It speaks just enough HTTP/1.1 (keep-alive, ``Content-Length`` bodies) on a bare asyncio stream
server, with every reply body encoded once at start-up, so the time a request spends in the server
is a few tens of microseconds. It answers:

* ``POST /api/v1/memories/search``: the same search reply (memory nodes, related memories, edges);
* ``POST /api/v1/memories``: ``202`` with a new job id and its absolute ``status_url``;
* ``GET /api/v1/memories/jobs/{id}``: that job, already ``completed``;
* ``GET /health``: ``{"status": "ok"}``; anything else: ``404``; no API key: ``401``.

Example:
    >>> import asyncio
    >>> async def demo() -> bytes:
    ...     server = await start_fixed_server("127.0.0.1", 0, None)
    ...     port = server.sockets[0].getsockname()[1]
    ...     reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ...     writer.write(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\nX-API-Key: k\\r\\n\\r\\n")
    ...     line = await reader.readline()
    ...     writer.close()
    ...     server.close()
    ...     return line
    >>> asyncio.run(demo())
    b'HTTP/1.1 200 OK\\r\\n'
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
from typing import Any

_NOW = "2026-01-01T00:00:00.000000Z"


def _memory(i: int) -> dict[str, Any]:
    return {
        "id": f"mem-{i:04d}",
        "content": f"Fixed benchmark memory number {i}: the user prefers green tea in the morning.",
        "scope": ["container.bench", f"topic.t{i % 3}"],
        "category": "preference",
    }


def _search_reply() -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for i in range(5):
        node = _memory(i) | {
            "type": "memory_node",
            "semantic_score": round(0.9 - i * 0.05, 3),
            "related_memories": [
                {
                    "id": f"mem-{100 + i * 2 + j:04d}",
                    "content": f"Related memory {j} of hit {i}.",
                    "description": "mentions the same preference",
                    "scope": ["container.bench"],
                }
                for j in range(2)
            ],
        }
        results.append(node)
    for i in range(2):
        results.append(
            {
                "type": "relationship_edge",
                "description": "both describe the morning routine",
                "source": f"mem-{i:04d}",
                "target": f"mem-{i + 1:04d}",
                "score": 0.7,
            }
        )
    return {"results": results, "interpreted": None, "interpreted_error": None, "scope": None}


SEARCH_BODY = json.dumps(_search_reply()).encode()
HEALTH_BODY = b'{"status":"ok"}'
NOT_FOUND_BODY = b'{"detail":{"code":"NOT_FOUND","message":"No such route."}}'
UNAUTHORIZED_BODY = b'{"detail":{"code":"UNAUTHORIZED","message":"Missing API key."}}'
_REASONS = {200: "OK", 202: "Accepted", 401: "Unauthorized", 404: "Not Found"}


def _job_body(job_id: str) -> bytes:
    memory = _memory(7) | {
        "timestamp": _NOW,
        "created_at": _NOW,
        "updated_at": _NOW,
        "links": [],
        "evolution_history": [],
    }
    return json.dumps(
        {
            "job_id": job_id,
            "status": "completed",
            "result": {"memory_id": memory["id"], "action": "created", "memory": memory},
            "error": None,
            "created_at": _NOW,
            "updated_at": _NOW,
        }
    ).encode()


def _response(status: int, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _FixedApp:
    def __init__(self, scheme: str) -> None:
        self._scheme = scheme
        self._job_ids = itertools.count(1)
        self._search = _response(200, SEARCH_BODY)
        self._health = _response(200, HEALTH_BODY)
        self._not_found = _response(404, NOT_FOUND_BODY)
        self._unauthorized = _response(401, UNAUTHORIZED_BODY)

    def route(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        if path == "/health":
            return self._health
        if "x-api-key" not in headers and "authorization" not in headers:
            return self._unauthorized
        if method == "POST" and path == "/api/v1/memories/search":
            return self._search
        if method == "POST" and path == "/api/v1/memories":
            job_id = f"job-{next(self._job_ids)}"
            host = headers.get("host", "localhost")
            status_url = f"{self._scheme}://{host}/api/v1/memories/jobs/{job_id}"
            body = json.dumps(
                {"job_id": job_id, "job_status": "queued", "status_url": status_url}
            ).encode()
            return _response(202, body)
        if method == "GET" and path.startswith("/api/v1/memories/jobs/"):
            return _response(200, _job_body(path.rsplit("/", 1)[1]))
        return self._not_found

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                writer.write(self.route(method, target.split("?", 1)[0], headers))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


async def start_fixed_server(
    host: str, port: int, ssl_context: ssl.SSLContext | None
) -> asyncio.Server:
    """Start the fixed-reply server on ``host:port`` (``0`` picks a free port)."""
    app = _FixedApp("https" if ssl_context else "http")
    return await asyncio.start_server(app.handle, host, port, ssl=ssl_context, backlog=512)
