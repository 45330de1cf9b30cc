"""An in-memory Membrain behind ``httpx.MockTransport``: the unit tests of the AutoGen memories
exercise the real client and the real scope semantics without any socket."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from membrane_integrations.core.scope import token_matches

API_KEY = "mb_test_unit_secret_key_0001"
BASE_URL = "http://membrain.test"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


class FakeMembrain:
    """Just enough of ``/api/v1`` for the memory component: ingest, jobs, search, bulk delete."""

    def __init__(self) -> None:
        self.memories: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.fail_status: int | None = None
        self.extra_hits: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.cancelled = False

    def json_bodies(self, path: str) -> list[Any]:
        import json

        return [json.loads(r.content) for r in self.requests if r.url.path == path]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        import json

        self.requests.append(request)
        if request.headers.get("x-api-key") != API_KEY:
            return httpx.Response(401, json={"detail": {"code": "UNAUTHORIZED", "message": "no"}})
        if self.gate is not None:
            self.entered.set()
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if self.fail_status is not None:
            return httpx.Response(
                self.fail_status,
                json={"detail": {"code": "BOOM", "message": f"failed, key was {API_KEY}"}},
            )
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "POST" and path == "/memories":
            body = json.loads(request.content)
            mid = f"m{len(self.memories) + 1}"
            memory = {
                "id": mid,
                "content": body["content"],
                "scope": body.get("scope", []),
                "category": body.get("category"),
            }
            self.memories[mid] = memory
            job = f"j{mid}"
            self.jobs[job] = {
                "job_id": job,
                "status": "completed",
                "result": {"memory_id": mid, "action": "created", "memory": memory},
            }
            return httpx.Response(
                202,
                json={"job_id": job, "job_status": "queued", "status_url": f"{BASE_URL}/x/{job}"},
            )
        if request.method == "GET" and path.startswith("/memories/jobs/"):
            return httpx.Response(200, json=self.jobs[path.rsplit("/", 1)[1]])
        if request.method == "POST" and path == "/memories/search":
            body = json.loads(request.content)
            patterns = body.get("scope") or []
            query = _words(body["query"])
            hits = []
            for memory in self.memories.values():
                if not token_matches(patterns, memory["scope"]):
                    continue
                overlap = len(query & _words(memory["content"])) / max(len(query), 1)
                hits.append({"type": "memory_node", **memory, "semantic_score": overlap})
            hits.sort(key=lambda h: -h["semantic_score"])
            results = [*self.extra_hits, *hits][: body["k"]]
            return httpx.Response(200, json={"results": results, "scope": patterns or None})
        if request.method == "DELETE" and path == "/memories/bulk":
            patterns = request.url.params.get_list("scope")
            gone = [mid for mid, m in self.memories.items() if token_matches(patterns, m["scope"])]
            for mid in gone:
                del self.memories[mid]
            return httpx.Response(200, json={"deleted_count": len(gone), "memory_ids": gone})
        return httpx.Response(404, json={"detail": {"code": "NOT_FOUND", "message": path}})
