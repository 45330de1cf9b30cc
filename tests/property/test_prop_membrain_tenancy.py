"""Property tests: no Membrain read, write, update, delete or unlink crosses containers.

First the rule itself (``membrain.tenancy``), checked with the emulator's own matcher, the way
the server compares. Then every LangChain tool and retriever and the AutoGen memory, against
one running emulator: Alice and Bob (generated ids, often case variants or regex look-alikes of
each other) share one tenant; each example gets a fresh tenant (its own API key), so examples
cannot see each other. Bob's input is hostile (tokens, patterns and metadata aimed at Alice's
container); afterwards Alice's memory must be exactly as it was and invisible to every one of
Bob's outputs, and the same with the roles reversed.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.membrain.tenancy import (
    Tenancy,
    container_filter,
    container_write_tokens,
    is_reserved_token,
)

from .strategies import (
    container_pairs,
    hostile_metadata,
    hostile_tokens,
    model_patterns,
    tokens_naming,
)

emulator_module = pytest.importorskip("membrane_integrations.emulator")
pytest.importorskip("langchain_core")
pytest.importorskip("autogen_core")

from autogen_core.memory import MemoryContent, MemoryMimeType  # noqa: E402
from autogen_core.model_context import UnboundedChatCompletionContext  # noqa: E402
from autogen_core.models import SystemMessage, UserMessage  # noqa: E402
from langchain_core.messages import ToolMessage  # noqa: E402
from langchain_core.tools import BaseTool  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from membrane_integrations.autogen import MembrainMemory, MembrainMemoryConfig  # noqa: E402
from membrane_integrations.core.scope import token_matches  # noqa: E402
from membrane_integrations.emulator.ingest import candidate_patterns  # noqa: E402
from membrane_integrations.langchain import MembrainRetriever, MembrainToolkit  # noqa: E402
from membrane_integrations.membrain import MembrainClient  # noqa: E402

pytestmark = [
    pytest.mark.live,
]

LIVE = settings.get_profile("tenancy")
KEYS = [f"prop-tenancy-key-{i}" for i in range(400)]


def server_reads_as(container: str, tokens: list[str]) -> bool:
    """The emulator's matcher (RE2, as the client's): would a read of ``container`` select a
    memory with ``tokens``?"""
    return token_matches([container_filter(container)], tokens)


# ---------------------------------------------------------------- the rule, no server


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(pair=container_pairs(), data=st.data())
def test_a_write_is_never_read_as_another_containers(pair: tuple[str, str], data: Any) -> None:
    alice, bob = pair
    tenancy = Tenancy(bob)
    # distinct ids never collide, ignoring case and with regex reading of the stored tokens
    assert not server_reads_as(alice, container_write_tokens(bob))
    # a stored token is read as a pattern when ingest looks for merge candidates
    assert not token_matches(candidate_patterns([container_write_tokens(bob)[1]]), [alice])
    assert server_reads_as(bob, container_write_tokens(bob))
    tokens = data.draw(st.lists(hostile_tokens(alice), min_size=1, max_size=3))
    try:
        stored = tenancy.write_tokens(tokens)
    except InvalidRequestError as exc:
        assert exc.field == "scope"
        assert any(is_reserved_token(t) for t in tokens) or len(max(tokens, key=len)) > 256
        return
    assert stored[:2] == container_write_tokens(bob)
    assert not server_reads_as(alice, stored)
    patterns = data.draw(model_patterns(alice))
    try:
        scope = tenancy.read_scope(patterns)
    except InvalidRequestError:
        return
    assert scope is not None and scope[0] == container_filter(bob)
    assert not token_matches(scope, container_write_tokens(alice))


# ---------------------------------------------------------------- live, against the emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with emulator_module.MembrainEmulator(api_keys=KEYS) as emu:
        yield emu


_fresh = itertools.count()


def _fresh_key() -> str:
    return KEYS[next(_fresh) % len(KEYS)]


def _tools(client: MembrainClient, container: str) -> dict[str, BaseTool]:
    kit = MembrainToolkit(client=client, container=container, include_graph_tools=True)
    return {t.name: t for t in kit.get_tools()}


def _call(tool: BaseTool, **args: Any) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def _assert_hidden(message: ToolMessage | str, secret: str, memory_id: str) -> None:
    text = message if isinstance(message, str) else f"{message.content} {message.artifact!r}"
    assert secret not in text
    assert memory_id not in text


def _add(tool: BaseTool, content: str, scope: list[str]) -> tuple[ToolMessage, str | None]:
    message = _call(tool, content=content, scope=scope)
    if message.status == "error":
        return message, None
    return message, message.artifact.memory_id


@settings(LIVE)
@given(pair=container_pairs(), data=st.data())
def test_langchain_tools_and_retriever_never_cross_containers(
    emulator: Any, pair: tuple[str, str], data: Any
) -> None:
    alice, bob = pair
    with MembrainClient(_fresh_key(), base_url=emulator.url) as client:
        a, b = _tools(client, alice), _tools(client, bob)
        n = uuid.uuid4().hex[:8]
        secret, note, query = f"alice secret {n}", f"bob note {n}", f"secret {n}"
        _, alice_id = _add(a["membrain_add"], secret, ["s"])
        assert alice_id is not None
        before = client.get(alice_id)

        # Bob writes with tokens aimed at Alice: refused, or stored where Alice cannot read it
        # the hard ones: not literally "container." (case variants, Unicode folding, anchors)
        hard = tokens_naming(alice).filter(lambda t: not t.startswith(("container.", "^container")))
        naming = data.draw(hard, "naming token")
        tokens = data.draw(st.lists(hostile_tokens(alice), min_size=1, max_size=3), "tokens")
        bob_id: str | None = None
        for scope in ([naming], tokens):
            message, stored_id = _add(b["membrain_add"], note, scope)
            if stored_id is None:
                assert "reserved" in str(message.content) or "characters" in str(message.content)
            bob_id = bob_id or stored_id
            assert client.count(scope=[container_filter(alice)]) == 1
        if bob_id is None:
            _, bob_id = _add(b["membrain_add"], note, ["s"])
        assert bob_id is not None and bob_id != alice_id

        # Bob reads with patterns aimed at Alice, and names her id in every by-id tool
        patterns = data.draw(model_patterns(alice), "patterns")
        reads = [
            _call(b["membrain_search"], query=query, k=100, scope=patterns),
            _call(b["membrain_search"], query="all", scope=patterns or [".*"], full_scope=True),
            _call(b["membrain_search"], query=query, scope=patterns, rerank=True),
            _call(b["membrain_stats"], scope=patterns),
            _call(b["membrain_graph_neighborhood"], memory_id=bob_id, hops=5),
            _call(b["membrain_graph_hubs"], limit=100),
            _call(
                b["membrain_graph_traverse"],
                start_memory_id=bob_id,
                query=query,
                edge_similarity_threshold=0.0,
                max_hops=5,
                scope=patterns,
            ),
        ]
        for read in reads:
            _assert_hidden(read, secret, alice_id)
        # Bob names Alice's id himself: it may be echoed as "not found", never her content
        for read in (
            _call(b["membrain_get"], memory_ids=[alice_id, bob_id]),
            _call(b["membrain_graph_neighborhood"], memory_id=alice_id, hops=5),
            _call(b["membrain_graph_path"], from_id=bob_id, to_id=alice_id),
            _call(b["membrain_graph_traverse"], start_memory_id=alice_id, query=query),
        ):
            _assert_hidden(read, secret, "\x00")
            assert "not found" in str(read.content).lower()
        try:
            retriever = MembrainRetriever(client=client, container=bob, scope=patterns, k=50)
            docs = retriever.invoke(query)
        except InvalidRequestError:
            docs = []
        assert all(d.id != alice_id and secret not in d.page_content for d in docs)
        if patterns == []:
            assert [n.id for n in reads[1].artifact.nodes] == [bob_id]

        # Bob's writes on Alice's memory change nothing
        _call(b["membrain_update"], memory_id=alice_id, content="pwned", scope=["s"])
        _call(b["membrain_unlink"], memory_id_1=bob_id, memory_id_2=alice_id)
        _call(b["membrain_delete"], memory_id=alice_id)
        _call(b["membrain_delete"], scope=patterns or [".*"])
        after = client.get(alice_id)
        assert (after.content, after.scope, after.links) == (
            before.content,
            before.scope,
            before.links,
        )
        assert client.count(scope=[container_filter(alice)]) == 1

        # The reverse: Alice's update, unlink and bulk delete never touch Bob's memories
        _, bob_id = _add(b["membrain_add"], note, ["s"])
        assert bob_id is not None
        bob_before = client.get(bob_id)
        reverse = data.draw(model_patterns(bob), "reverse patterns")
        _call(a["membrain_update"], memory_id=bob_id, content="pwned")
        retag = data.draw(st.lists(hostile_tokens(bob), max_size=2), "retag")
        _call(a["membrain_update"], memory_id=alice_id, scope=retag)
        seen = _call(b["membrain_search"], query="all", scope=[".*"], full_scope=True)
        _assert_hidden(seen, secret, alice_id)
        _call(a["membrain_unlink"], memory_id_1=alice_id, memory_id_2=bob_id)
        _call(a["membrain_delete"], scope=reverse or [".*"])
        _call(a["membrain_delete"], scope=[".*"])
        bob_after = client.get(bob_id)
        assert (bob_after.content, bob_after.scope) == (bob_before.content, bob_before.scope)
        assert client.count(scope=[container_filter(alice)]) == 0
        assert client.count(scope=[container_filter(bob)]) >= 1


@settings(LIVE)
@given(pair=container_pairs(), data=st.data())
def test_autogen_memory_never_crosses_containers(
    emulator: Any, pair: tuple[str, str], data: Any
) -> None:
    alice, bob = pair
    key = _fresh_key()
    metadata = data.draw(hostile_metadata(alice), "metadata")
    patterns = data.draw(model_patterns(alice), "patterns")
    reverse = data.draw(model_patterns(bob), "reverse patterns")
    asyncio.run(_autogen_example(emulator.url, key, alice, bob, metadata, patterns, reverse))


def _text(value: str, metadata: dict[str, Any] | None = None) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT, metadata=metadata)


async def _autogen_example(
    url: str,
    key: str,
    alice: str,
    bob: str,
    metadata: dict[str, Any],
    patterns: list[str],
    reverse: list[str],
) -> None:
    def memory(container: str) -> MembrainMemory:
        config = MembrainMemoryConfig(container=container, base_url=url, api_key=SecretStr(key))
        return MembrainMemory(config)

    n = uuid.uuid4().hex[:8]
    secret, note = f"alice secret {n}", f"bob note {n}"
    a, b = memory(alice), memory(bob)
    try:
        await a.add(_text(secret))
        try:
            await b.add(_text(note, metadata))
        except InvalidRequestError as exc:
            assert exc.field is not None and exc.field.startswith("metadata")
        await b.add(_text(note))
        with MembrainClient(key, base_url=url) as raw:
            assert raw.count(scope=[container_filter(alice)]) == 1

        for ask, own, foreign, pats in ((b, note, secret, patterns), (a, secret, note, reverse)):
            try:
                hits = await ask.query(foreign, scope=pats, limit=50)
            except InvalidRequestError:
                hits = await ask.query(foreign, limit=50)
            assert all(str(h.content) == own for h in hits.results)
            context = UnboundedChatCompletionContext()
            await context.add_message(UserMessage(content=foreign, source="user"))
            await ask.update_context(context)
            added = [m for m in await context.get_messages() if isinstance(m, SystemMessage)]
            assert all(foreign not in str(m.content) for m in added)

        await a.clear()  # Alice's bulk delete leaves Bob's memories alone
        with MembrainClient(key, base_url=url) as raw:
            assert raw.count(scope=[container_filter(alice)]) == 0
            assert raw.count(scope=[container_filter(bob)]) >= 1
        await a.add(_text(secret))
        await b.clear()  # Bob's bulk delete leaves Alice's memory alone
        with MembrainClient(key, base_url=url) as raw:
            assert raw.count(scope=[container_filter(alice)]) == 1
            assert raw.count(scope=[container_filter(bob)]) == 0
        hits = await a.query(secret, limit=10)
        assert [h.content for h in hits.results] == [secret]
    finally:
        await a.clear()
        await a.close()
        await b.close()
