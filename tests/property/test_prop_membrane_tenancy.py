"""Property tests on the real membraned: no input widens the trust ceiling, the actor or the scopes.

One daemon for the module. Each example draws two record scopes (Alice's and Bob's, often case
variants of each other: the daemon compares scopes exactly) made unique to the example, stores
Alice's records and, in Bob's scope, records above Bob's ceiling, then drives Bob's LangChain
tools, retriever and AutoGen memory with hostile arguments and metadata. The clients are the
real ones, subclassed only to record the ``TrustContext`` each read sends.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("grpc")
pytest.importorskip("langchain_core")
pytest.importorskip("autogen_core")

from autogen_core.memory import MemoryContent, MemoryMimeType
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from pydantic import SecretStr

from membrane_integrations.autogen import MembraneMemory, MembraneMemoryConfig
from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.langchain import MembraneRetriever, MembraneToolkit
from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    MemoryRecord,
    Sensitivity,
    TrustContext,
)
from tests.support.membraned import Membraned, require_daemon

from .strategies import ALPHABET

pytestmark = [pytest.mark.live, pytest.mark.membraned]

API_KEY = "membraned-tenancy-property-key"
LIVE = settings.get_profile("tenancy")
CEILING = Sensitivity.MEDIUM
ACTOR = "bob-agent"
ALL = TrustContext(max_sensitivity=Sensitivity.HYPER, authenticated=True)
SENSITIVITIES = ["public", "low", "medium", "high", "hyper"]


class SpyClient(MembraneClient):
    """The real client; remembers the trust of every read."""

    trusts: list[TrustContext]

    def retrieve(self, *args: Any, **kwargs: Any) -> list[MemoryRecord]:
        self.trusts.append(kwargs["trust"])
        return super().retrieve(*args, **kwargs)

    def retrieve_by_id(self, *args: Any, **kwargs: Any) -> MemoryRecord:
        self.trusts.append(kwargs["trust"])
        return super().retrieve_by_id(*args, **kwargs)


class AsyncSpyClient(AsyncMembraneClient):
    """The real async client; remembers the trust of every read."""

    trusts: list[TrustContext]

    async def retrieve(self, *args: Any, **kwargs: Any) -> list[MemoryRecord]:
        self.trusts.append(kwargs["trust"])
        return await super().retrieve(*args, **kwargs)

    async def retrieve_by_id(self, *args: Any, **kwargs: Any) -> MemoryRecord:
        self.trusts.append(kwargs["trust"])
        return await super().retrieve_by_id(*args, **kwargs)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def app(daemon: Membraned) -> Iterator[MembraneClient]:
    """The application's own client: writes the fixtures and reads with every scope."""
    with daemon.client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def spy(daemon: Membraned) -> Iterator[SpyClient]:
    client = SpyClient(daemon.addr, api_key=API_KEY, timeout=10)
    client.trusts = []
    with client:
        yield client


def _variants(base: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [base.upper(), base.swapcase(), base + " ", " " + base, base + "2", base.casefold()]
    ).filter(lambda v: v != base)


@st.composite
def scope_pairs(draw: st.DrawFn) -> tuple[str, str]:
    base = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=8))
    other = st.text(alphabet=ALPHABET, min_size=1, max_size=8)
    bob = draw(st.one_of(_variants(base), other).filter(lambda v: v != base))
    return base, bob


def _call(tool: BaseTool, **args: Any) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def _assert_trust(trusts: list[TrustContext], scope: str, actor: str) -> None:
    assert trusts, "no read was made"
    for trust in trusts:
        assert trust.max_sensitivity == CEILING
        assert trust.actor_id == actor
        assert trust.scopes == [scope]
    trusts.clear()


@settings(LIVE)
@given(
    pair=scope_pairs(),
    tags=st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=12), max_size=3, unique=True),
    asked=st.sampled_from(SENSITIVITIES),
    smuggled=st.sampled_from(["scope", "trust", "actor", "max_sensitivity", "source"]),
)
def test_langchain_tools_never_widen_trust_actor_or_scope(
    app: MembraneClient,
    spy: SpyClient,
    pair: tuple[str, str],
    tags: list[str],
    asked: str,
    smuggled: str,
) -> None:
    n = uuid.uuid4().hex[:8]
    alice, bob = pair[0] + n, pair[1] + n
    secret = f"alice secret {n}"
    theirs = [
        app.ingest_observation("alice", "knows", secret, scope=alice, tags=[alice]),
        app.ingest_observation("anyone", "knows", secret, scope=""),  # unscoped: daemon shows all
        app.ingest_observation("bob", "hides", secret, scope=bob, sensitivity="high"),
        app.ingest_observation("bob", "hides", secret, scope=bob, sensitivity="hyper"),
    ]
    trust = TrustContext(max_sensitivity=CEILING, authenticated=True, actor_id=ACTOR)
    kit = MembraneToolkit(
        client=spy, trust=trust, actor=ACTOR, scope=bob, include_revision_tools=True
    )
    t = {tool.name: tool for tool in kit.get_tools()}

    # a smuggled identity argument is refused before any call
    refused = _call(t["membrane_ingest_event"], event_kind="x", ref="r", **{smuggled: alice})
    assert refused.status == "error"

    stored = _call(
        t["membrane_ingest_observation"],
        subject=alice,
        predicate="scope",
        object={"scope": alice, "trust": {"max_sensitivity": "hyper", "scopes": [alice]}},
        tags=[alice, *tags],
        sensitivity=asked,
    )
    record = app.retrieve_by_id(stored.artifact.id, trust=ALL)
    assert record.scope == bob
    floor = SENSITIVITIES.index("low")
    assert record.sensitivity.value == SENSITIVITIES[max(floor, SENSITIVITIES.index(asked))]

    seen = [
        _call(t["membrane_retrieve"], task_descriptor=f"what does alice know {alice}", limit=100),
        _call(t["membrane_retrieve"], task_descriptor=secret, memory_types=["semantic"]),
    ]
    for message in seen:
        assert secret not in str(message.content)
        assert all(r.scope == bob for r in message.artifact)
    docs = MembraneRetriever(client=spy, trust=trust, scope=bob, k=100).invoke(secret)
    assert all(d.metadata["scope"] == bob and secret not in d.page_content for d in docs)
    if SENSITIVITIES.index(record.sensitivity.value) <= SENSITIVITIES.index(CEILING.value):
        assert any(d.id == record.id for d in docs)  # Bob's own record, under his ceiling

    for foreign in theirs:
        before = app.retrieve_by_id(foreign.id, trust=ALL)
        for name, args in (
            ("membrane_reinforce", {"record_id": foreign.id, "rationale": "r"}),
            ("membrane_penalize", {"record_id": foreign.id, "rationale": "r", "amount": 1.0}),
            ("membrane_retract", {"record_id": foreign.id, "rationale": "r"}),
            (
                "membrane_contest",
                {"record_id": foreign.id, "rationale": "r", "contesting_ref": "x"},
            ),
            (
                "membrane_supersede",
                {"record_id": foreign.id, "rationale": "r", "payload_changes": {"object": "x"}},
            ),
            (
                "membrane_ingest_outcome",
                {"target_record_id": foreign.id, "outcome_status": "failure"},
            ),
            ("membrane_ingest_tool_output", {"tool_name": "t", "depends_on": [foreign.id]}),
        ):
            message = _call(t[name], **args)
            assert message.status == "error" and "not found" in str(message.content), name
            assert secret not in str(message.content)
        after = app.retrieve_by_id(foreign.id, trust=ALL)
        assert (after.salience, after.lifecycle, after.audit_log) == (
            before.salience,
            before.lifecycle,
            before.audit_log,
        )
    _assert_trust(spy.trusts, bob, ACTOR)


@settings(LIVE)
@given(
    pair=scope_pairs(),
    metadata=st.dictionaries(
        st.sampled_from(["scope", "Scope", "SCOPE", "container", "Container", "CONTAINER"]),
        st.text(alphabet=ALPHABET, min_size=1, max_size=6),
        min_size=1,
        max_size=2,
    )
    | st.fixed_dictionaries(
        {"actor_id": st.just("root"), "trust": st.just("hyper"), "scopes": st.just(["*"])}
    ),
)
def test_autogen_memory_never_widens_trust_actor_or_scope(
    daemon: Membraned,
    app: MembraneClient,
    pair: tuple[str, str],
    metadata: dict[str, Any],
) -> None:
    n = uuid.uuid4().hex[:8]
    alice, bob = pair[0] + n, pair[1] + n
    secret = f"alice secret {n}"
    theirs = [
        app.ingest_observation("alice", "knows", secret, scope=alice),
        app.ingest_observation("anyone", "knows", secret, scope=""),
    ]
    # in Bob's scope but above his ceiling: never shown (clear may retract it: it is his)
    app.ingest_observation("bob", "hides", secret, scope=bob, sensitivity="high")
    asyncio.run(_autogen_example(daemon, bob, secret, metadata))
    for record in theirs:
        after = app.retrieve_by_id(record.id, trust=ALL)
        assert after.salience == record.salience
        assert [e.action for e in after.audit_log] == [e.action for e in record.audit_log]


async def _autogen_example(
    daemon: Membraned, bob: str, secret: str, metadata: dict[str, Any]
) -> None:
    client = AsyncSpyClient(daemon.addr, api_key=API_KEY, timeout=10)
    client.trusts = []
    config = MembraneMemoryConfig(
        container=bob,
        addr=daemon.addr,
        api_key=SecretStr(API_KEY),
        max_sensitivity=CEILING.value,
        actor_id=ACTOR,
    )
    memory = MembraneMemory(config, client=client)
    try:
        content = MemoryContent(
            content=f"bob note {secret[-8:]}", mime_type=MemoryMimeType.TEXT, metadata=metadata
        )
        try:
            await memory.add(content)
        except InvalidRequestError as exc:
            assert exc.field == "metadata"
            assert {k.casefold() for k in metadata} & {"scope", "container"}
            await memory.add(MemoryContent(content=content.content, mime_type=MemoryMimeType.TEXT))
        hits = await memory.query(secret, limit=100)
        assert [str(h.content) for h in hits.results if "bob note" in str(h.content)]
        assert all(secret not in str(h.content) for h in hits.results)
        _assert_trust(client.trusts, bob, ACTOR)
        await memory.clear()
        assert (await memory.query(secret, limit=100)).results == []
    finally:
        await memory.close()
        await client.close()
