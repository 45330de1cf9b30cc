# ruff: noqa: E501  (one row per line keeps the table of cases readable)
"""Bad input against a live emulator: each row is refused with its documented typed error, and
the server's state (every memory in full, every link, the stats; ingest jobs drained first) is
unchanged afterwards.

``sends`` says whether the request may reach the server: client-side checks cost no round trip
(``False``), the server's own refusals, unknown ids and bad credentials do (``True``). The
``server:`` rows send what a careless or hostile caller would, bypassing the client's checks, to
prove the server refuses it too and that the client maps the refusal to the same error class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import (
    AuthenticationError,
    InvalidRequestError,
    MembraneIntegrationsError,
    NotFoundError,
)
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.membrain._errors import error_from_response

pytestmark = pytest.mark.live

KEY, OTHER = "emu-rel-bad-input", "emu-rel-bad-other"
WRONG_KEY = "mb_test_WrongKeyThatMustNotLeak"


class Env:
    """The emulator, a client whose requests are counted, and two stored memories per tenant."""

    def __init__(self, emu: MembrainEmulator) -> None:
        self.emu = emu
        self.sent = 0
        self.http = httpx.Client(event_hooks={"request": [self._count]})
        self.client = MembrainClient(KEY, base_url=emu.url, http_client=self.http)
        self.other = MembrainClient(OTHER, base_url=emu.url, http_client=self.http)
        self.raw = httpx.Client(base_url=emu.url + "/api/v1", headers={"X-API-Key": KEY})
        self.a = self.client.add("User keeps bees in the garden", scope=["box.a"]).memory_id
        self.b = self.client.add("User sells honey at the market", scope=["box.a"]).memory_id
        self.theirs = self.other.add("Other tenant's secret recipe", scope=["box.z"]).memory_id

    def _count(self, request: httpx.Request) -> None:
        self.sent += 1

    def raw_call(self, method: str, path: str, **kwargs: Any) -> None:
        """Send a raw request; raise what the client would raise for its reply."""
        reply = self.raw.request(method, path, **kwargs)
        self.sent += 1
        assert not reply.is_success, f"the server accepted {method} {path}: {reply.text[:200]}"
        raise error_from_response(reply)

    def snapshot(self) -> dict[str, Any]:
        assert self.emu.engine.wait_idle()
        state: dict[str, Any] = {}
        for key in (KEY, OTHER):
            tenant = self.emu.engine.tenant_id(key)
            graph = self.emu.engine.graph_export(tenant)
            ids = sorted(node["id"] for node in graph["nodes"])
            state[key] = {
                "memories": [self.emu.engine.get(tenant, i) for i in ids],
                "edges": sorted(map(str, graph["edges"])),
                "stats": self.emu.engine.stats(tenant),
            }
        return state

    def close(self) -> None:
        for closable in (self.client, self.other, self.raw, self.http):
            closable.close()


@dataclass(frozen=True)
class Case:
    id: str
    act: Callable[[Env], Any]
    error: type[MembraneIntegrationsError]
    sends: bool
    field: str | None = None


def _c(
    id: str, act: Callable[[Env], Any], error: type[MembraneIntegrationsError], **kw: Any
) -> Any:
    case = Case(id, act, error, **kw)
    return pytest.param(case, id=id)


LONG = "x" * 20_001
TOKENS_51 = [f"t.{i}" for i in range(51)]
TOKEN_257 = ["t" * 257]
INVALID = InvalidRequestError

CASES = [
    # --- client-side checks: refused before sending ------------------------------------------
    _c("add-oversized-content", lambda e: e.client.add(LONG), INVALID, sends=False, field="content"),
    _c("add-empty-content", lambda e: e.client.add(""), INVALID, sends=False, field="content"),
    _c("add-blank-content", lambda e: e.client.add(" \n\t"), INVALID, sends=False, field="content"),
    _c("add-content-int", lambda e: e.client.add(42), INVALID, sends=False, field="content"),
    _c("add-51-tokens", lambda e: e.client.add("f", scope=TOKENS_51), INVALID, sends=False, field="scope"),
    _c("add-257-char-token", lambda e: e.client.add("f", scope=TOKEN_257), INVALID, sends=False, field="scope"),
    _c("add-empty-token", lambda e: e.client.add("f", scope=[""]), INVALID, sends=False, field="scope"),
    _c("add-scope-as-string", lambda e: e.client.add("f", scope="box.a"), INVALID, sends=False, field="scope"),
    _c("add-long-category", lambda e: e.client.add("f", category="c" * 257), INVALID, sends=False, field="category"),
    _c("add-negative-wait", lambda e: e.client.add("f", wait_timeout=-1), INVALID, sends=False, field="wait_timeout"),
    _c("search-empty-query", lambda e: e.client.search(""), INVALID, sends=False, field="query"),
    _c("search-long-query", lambda e: e.client.search("q" * 10_001), INVALID, sends=False, field="query"),
    _c("search-k-0", lambda e: e.client.search("q", k=0), INVALID, sends=False, field="k"),
    _c("search-k-101", lambda e: e.client.search("q", k=101), INVALID, sends=False, field="k"),
    _c("search-k-bool", lambda e: e.client.search("q", k=True), INVALID, sends=False, field="k"),
    _c("search-k-str", lambda e: e.client.search("q", k="5"), INVALID, sends=False, field="k"),
    _c("search-invalid-regex", lambda e: e.client.search("q", scope=["("]), INVALID, sends=False, field="scope"),
    _c("search-bad-format", lambda e: e.client.search("q", response_format="xml"), INVALID, sends=False, field="response_format"),
    _c("count-invalid-regex", lambda e: e.client.count(scope=["[a-"]), INVALID, sends=False, field="scope"),
    _c("neighborhood-hops-0", lambda e: e.client.graph_neighborhood(e.a, hops=0), INVALID, sends=False, field="hops"),
    _c("neighborhood-hops-6", lambda e: e.client.graph_neighborhood(e.a, hops=6), INVALID, sends=False, field="hops"),
    _c("traverse-max-hops-0", lambda e: e.client.graph_traverse(e.a, "q", max_hops=0), INVALID, sends=False, field="max_hops"),
    _c("traverse-max-hops-6", lambda e: e.client.graph_traverse(e.a, "q", max_hops=6), INVALID, sends=False, field="max_hops"),
    _c("traverse-threshold-neg", lambda e: e.client.graph_traverse(e.a, "q", edge_similarity_threshold=-0.1), INVALID, sends=False, field="edge_similarity_threshold"),
    _c("traverse-threshold-1.5", lambda e: e.client.graph_traverse(e.a, "q", edge_similarity_threshold=1.5), INVALID, sends=False, field="edge_similarity_threshold"),
    _c("traverse-threshold-nan", lambda e: e.client.graph_traverse(e.a, "q", edge_similarity_threshold=math.nan), INVALID, sends=False, field="edge_similarity_threshold"),
    _c("traverse-empty-query", lambda e: e.client.graph_traverse(e.a, ""), INVALID, sends=False, field="query"),
    _c("hubs-limit-0", lambda e: e.client.graph_hubs(0), INVALID, sends=False, field="limit"),
    _c("get-empty-id", lambda e: e.client.get(""), INVALID, sends=False, field="memory_id"),
    _c("get-control-char-id", lambda e: e.client.get("m\n1"), INVALID, sends=False, field="memory_id"),
    _c("get-many-empty", lambda e: e.client.get_many([]), INVALID, sends=False, field="memory_ids"),
    _c("update-nothing", lambda e: e.client.update(e.a), INVALID, sends=False, field="content"),
    _c("update-oversized", lambda e: e.client.update(e.a, content=LONG), INVALID, sends=False, field="content"),
    _c("update-51-tokens", lambda e: e.client.update(e.a, scope=TOKENS_51), INVALID, sends=False, field="scope"),
    _c("delete-bulk-no-filter", lambda e: e.client.delete_bulk(), INVALID, sends=False),
    _c("delete-bulk-invalid-regex", lambda e: e.client.delete_bulk(scope=["(?P<"]), INVALID, sends=False, field="scope"),
    _c("no-credentials", lambda e: MembrainClient("", base_url=e.emu.url), INVALID, sends=False, field="api_key"),
    # --- the server refuses what the client would have caught --------------------------------
    _c("server:add-oversized", lambda e: e.raw_call("POST", "/memories", json={"content": LONG}), INVALID, sends=True, field="content"),
    _c("server:add-51-tokens", lambda e: e.raw_call("POST", "/memories", json={"content": "f", "scope": TOKENS_51}), INVALID, sends=True, field="scope"),
    _c("server:add-257-char-token", lambda e: e.raw_call("POST", "/memories", json={"content": "f", "scope": TOKEN_257}), INVALID, sends=True, field="scope.0"),
    _c("server:add-content-int", lambda e: e.raw_call("POST", "/memories", json={"content": 5}), INVALID, sends=True, field="content"),
    _c("server:add-invalid-json", lambda e: e.raw_call("POST", "/memories", content=b'{"content": "cut', headers={"content-type": "application/json"}), INVALID, sends=True),
    _c("server:search-k-0", lambda e: e.raw_call("POST", "/memories/search", json={"query": "q", "k": 0}), INVALID, sends=True, field="k"),
    _c("server:search-k-101", lambda e: e.raw_call("POST", "/memories/search", json={"query": "q", "k": 101}), INVALID, sends=True, field="k"),
    _c("server:search-invalid-regex", lambda e: e.raw_call("POST", "/memories/search", json={"query": "q", "scope": ["("]}), INVALID, sends=True),
    _c("server:hops-6", lambda e: e.raw_call("GET", "/graph/neighborhood", params={"memory_id": e.a, "hops": 6}), INVALID, sends=True, field="hops"),
    _c("server:threshold-1.5", lambda e: e.raw_call("GET", "/graph/traverse", params={"start_memory_id": e.a, "query": "q", "edge_similarity_threshold": 1.5}), INVALID, sends=True, field="edge_similarity_threshold"),
    _c("server:update-oversized", lambda e: e.raw_call("PUT", f"/memories/{e.a}", json={"content": LONG}), INVALID, sends=True, field="content"),
    _c("server:bulk-no-filter", lambda e: e.raw_call("DELETE", "/memories/bulk"), INVALID, sends=True),
    # --- unknown ids and other tenants' ids ----------------------------------------------------
    _c("get-unknown-id", lambda e: e.client.get("no-such-memory"), NotFoundError, sends=True),
    _c("update-unknown-id", lambda e: e.client.update("no-such-memory", content="x"), NotFoundError, sends=True),
    _c("delete-unknown-id", lambda e: e.client.delete("no-such-memory"), NotFoundError, sends=True),
    _c("unlink-unknown-ids", lambda e: e.client.unlink(e.a, "no-such-memory"), NotFoundError, sends=True),
    _c("path-unknown-ids", lambda e: e.client.graph_path("nope-1", "nope-2"), NotFoundError, sends=True),
    _c("traverse-unknown-start", lambda e: e.client.graph_traverse("nope", "q"), NotFoundError, sends=True),
    _c("job-unknown-id", lambda e: e.client.wait_for_job("job_nope"), NotFoundError, sends=True),
    _c("path-traversal-id", lambda e: e.client.get("../stats"), NotFoundError, sends=True),
    _c("other-tenant-get", lambda e: e.client.get(e.theirs), NotFoundError, sends=True),
    _c("other-tenant-update", lambda e: e.client.update(e.theirs, content="overwritten"), NotFoundError, sends=True),
    _c("other-tenant-delete", lambda e: e.client.delete(e.theirs), NotFoundError, sends=True),
    # --- credentials --------------------------------------------------------------------------
    _c("wrong-key-add", lambda e: MembrainClient(WRONG_KEY, base_url=e.emu.url, http_client=e.http).add("f"), AuthenticationError, sends=True),
    _c("wrong-bearer-delete", lambda e: MembrainClient(bearer_token=WRONG_KEY, base_url=e.emu.url, http_client=e.http).delete_bulk(scope=["."]), AuthenticationError, sends=True),
    _c("missing-key-add", lambda e: e.raw_call("POST", "/memories", json={"content": "f"}, headers={"X-API-Key": ""}), AuthenticationError, sends=True),
]  # fmt: skip


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    with MembrainEmulator(api_keys=[KEY, OTHER]) as emu:
        environment = Env(emu)
        yield environment
        environment.close()


def test_the_table_is_at_least_forty_rows() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_and_nothing_is_written(env: Env, case: Case) -> None:
    before = env.snapshot()
    sent = env.sent
    with pytest.raises(case.error) as info:
        case.act(env)
    err = info.value
    assert type(err) is case.error, f"{type(err).__name__} is not exactly {case.error.__name__}"
    if case.field is not None:
        assert isinstance(err, InvalidRequestError) and err.field == case.field
    assert (env.sent > sent) is case.sends, f"sent {env.sent - sent} request(s)"
    assert WRONG_KEY not in f"{err} {err!r} {err.server_message} {err.body}"
    assert KEY not in f"{err} {err!r} {err.server_message} {err.body}"
    assert env.snapshot() == before
