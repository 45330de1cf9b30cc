# ruff: noqa: E501  (one row per line keeps the table of probes readable)
"""Hostile requests (issue 24) answer in bounded time, and other tenants keep being served.

Against a real emulator on loopback, one tenant sends the requests that used to hang the whole
server or answer 500: scope patterns with catastrophic backtracking on a token built for them
(search, ``full_scope`` search, count, traverse, update, create through the ingest worker, bulk
delete), a repeat count that overflows, an unpaired surrogate, a number beyond float range, bad
JSON, 10 MB bodies and a 30,000-character content. Each must come back as a correct answer or a
bounded 4xx. Meanwhile another tenant searches and ``/health`` is polled; the test asserts that
they answered *while* the hostile requests were in flight (the other tenant's searches finish
before the hostile batch does) and gave the right results. Nothing here is a timing threshold:
the only clock is the generous client timeout that turns a hang into a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from membrane_integrations.core.scope import token_matches
from membrane_integrations.emulator import MembrainEmulator

pytestmark = pytest.mark.live

BAD = "emu-hostile-bad"
OTHER = "emu-hostile-other"
CATASTROPHIC = "(a+)+$"
EVIL_TOKEN = "a" * 40 + "!"  # what (a+)+$ backtracks on forever in a backtracking engine
WRITES = ("update", "create", "bulk-delete")
HANG = 30.0  # seconds: a request not answered by then is a hang (the test fails)


@dataclass
class World:
    emu: MembrainEmulator
    evil: str  # the memory holding EVIL_TOKEN
    plain: str  # a memory whose token (a+)+$ does match
    theirs: str  # the other tenant's memory
    log: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with MembrainEmulator(api_keys=[BAD, OTHER]) as emu:
        with emu.client(BAD) as bad:
            # different numbers: ingest never merges the two (a static embedder barely sees them)
            evil = bad.add("Invoice 12 carries the backtracking bait", scope=[EVIL_TOKEN]).memory_id
            plain = bad.add("The user climbed 7 mountains in May", scope=["aaaa"]).memory_id
            assert evil != plain
        with emu.client(OTHER) as other:
            theirs = other.add("User likes green tea", scope=["container.other"]).memory_id
        yield World(emu, evil, plain, theirs)


def _json(body: bytes) -> dict[str, object]:
    return {"content": body, "headers": {"content-type": "application/json"}}


def _hostile(
    w: World,
) -> list[tuple[str, str, str, dict[str, object], Callable[[httpx.Response], None]]]:
    big = "m" * (10 << 20)

    def ok_with(ids: set[str]) -> Callable[[httpx.Response], None]:
        def check(r: httpx.Response) -> None:
            assert r.status_code == 200, r.text[:300]
            got = {x["id"] for x in r.json()["results"] if "id" in x}
            assert got == ids, (got, ids)

        return check

    def status(code: int, limit: int = 1000) -> Callable[[httpx.Response], None]:
        def check(r: httpx.Response) -> None:
            assert r.status_code == code, r.text[:300]
            assert len(r.content) < limit, "an error reply echoes the input"
            if code >= 400:
                assert r.json()["detail" if "/v1/embeddings" not in str(r.url) else "error"]

        return check

    def count_is(n: int) -> Callable[[httpx.Response], None]:
        def check(r: httpx.Response) -> None:
            assert r.status_code == 200 and r.json() == {"count": n}, r.text[:300]

        return check

    matching = {w.plain}  # token_matches is the rule: the evil token ends in "!"
    assert token_matches([CATASTROPHIC], ["aaaa"]) and not token_matches(
        [CATASTROPHIC], [EVIL_TOKEN]
    )
    search = "/api/v1/memories/search"
    return [
        ("search", "POST", search, {"json": {"query": "memory", "k": 10, "scope": [CATASTROPHIC]}}, ok_with(matching)),
        ("full_scope", "POST", search, {"json": {"query": "m", "scope": [CATASTROPHIC], "full_scope": True}}, ok_with(matching)),
        ("count", "GET", "/api/v1/memories/count", {"params": {"scope": CATASTROPHIC}}, count_is(1)),
        ("traverse", "GET", "/api/v1/graph/traverse", {"params": {"start_memory_id": w.evil, "query": "q", "scope": CATASTROPHIC}}, status(200)),
        ("update", "PUT", f"/api/v1/memories/{w.evil}", {"json": {"scope": [EVIL_TOKEN, CATASTROPHIC]}}, status(200)),
        ("create", "POST", "/api/v1/memories", {"json": {"content": "another backtracking bait", "scope": [CATASTROPHIC, EVIL_TOKEN]}}, status(202)),
        ("overflow", "POST", search, {"json": {"query": "q", "scope": ["a{99999999999}"]}}, status(400)),
        ("surrogate", "POST", "/api/v1/memories", _json(b'{"content": "tea \\ud800"}'), status(400)),
        ("surrogate-embeddings", "POST", "/v1/embeddings", _json(b'{"input": "tea \\ud800"}'), status(400)),
        ("1e999", "POST", search, _json(b'{"query": "q", "k": 1e999}'), status(422)),
        ("bad-json", "POST", search, _json(b'{"query": '), status(400)),
        ("10MB-batch", "POST", "/api/v1/memories/batch", {"json": {"memory_ids": [big]}}, status(413)),
        ("10MB-embeddings", "POST", "/v1/embeddings", {"json": {"input": big}}, status(413)),
        ("30k-content", "POST", "/api/v1/memories", {"json": {"content": "c" * 30_000}}, status(422)),
        ("bulk-delete", "DELETE", "/api/v1/memories/bulk", {"params": {"scope": CATASTROPHIC}}, status(200)),
    ]  # fmt: skip


def test_hostile_requests_answer_while_other_tenants_are_served(world: World) -> None:
    hostile = _hostile(world)
    started = threading.Event()
    hostile_done = threading.Event()
    other_results: list[tuple[float, set[str]]] = []
    health: list[int] = []
    failures: list[BaseException] = []

    def other_tenant() -> None:
        try:
            with httpx.Client(
                base_url=world.emu.url, headers={"X-API-Key": OTHER}, timeout=HANG
            ) as c:
                started.wait(HANG)
                while not hostile_done.is_set() or len(other_results) < 3:
                    r = c.post("/api/v1/memories/search", json={"query": "tea", "k": 3})
                    ids = {x["id"] for x in r.json()["results"] if "id" in x}
                    other_results.append((time.monotonic(), ids))
                    health.append(c.get("/health").status_code)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    thread = threading.Thread(target=other_tenant, daemon=True)
    thread.start()
    answered: list[str] = []
    with httpx.Client(base_url=world.emu.url, headers={"X-API-Key": BAD}, timeout=HANG) as raw:
        started.set()
        # a batch long enough for the other tenant to interleave; the writes go last, once
        reads = [p for p in hostile if p[0] not in WRITES]
        writes = [p for p in hostile if p[0] in WRITES]
        for batch in (reads, reads, reads + writes):
            for name, method, path, kwargs, check in batch:
                reply = raw.request(method, path, **kwargs)  # type: ignore[arg-type]
                check(reply)
                answered.append(name)
        finished = time.monotonic()
    hostile_done.set()
    thread.join(HANG)
    assert not failures, failures
    assert len(answered) == 2 * len(reads) + len(hostile)
    # the other tenant was served during the hostile batch, and saw only its own memory
    assert any(at < finished for at, _ in other_results)
    assert all(ids == {world.theirs} for _, ids in other_results)
    assert health and set(health) == {200}


def test_a_create_with_a_catastrophic_token_completes_through_the_ingest_worker(
    world: World,
) -> None:
    with world.emu.client(BAD) as bad:
        added = bad.add("Receipt 99 baits the ingest worker", scope=[EVIL_TOKEN, CATASTROPHIC])
        stored = bad.get(added.memory_id).scope
        assert stored[:2] == [EVIL_TOKEN, CATASTROPHIC]  # then the client's add token
    with httpx.Client(base_url=world.emu.url) as c:
        assert c.get("/health").status_code == 200
