"""The middlewares' pure parts: which messages form a turn, capture keys, the fenced text, args."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents.middleware import ModelRequest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.langchain import MembrainMemoryMiddleware
from membrane_integrations.langchain._middleware import (
    RECALL_ID,
    RECALL_MARK,
    capture_key,
    is_recalled,
    latest_human,
    turn_messages,
)
from membrane_integrations.membrain import MembrainClient
from membrane_integrations.testing import ScriptedChatModel


@pytest.fixture
def memory() -> MembrainMemoryMiddleware:
    return MembrainMemoryMiddleware(client=MembrainClient("k", base_url="http://127.0.0.1:9"))


def test_the_turn_is_the_latest_human_run_and_final_answers_never_recalled_context() -> None:
    recall = HumanMessage(
        "<recalled_memories>x", id=RECALL_ID, additional_kwargs={RECALL_MARK: "h2"}
    )
    messages = [
        HumanMessage("old", id="h0"),
        AIMessage("old answer", id="a0"),
        recall,
        HumanMessage("one", id="h1"),
        HumanMessage("two", id="h2"),
        AIMessage("", id="a1", tool_calls=[{"name": "t", "args": {}, "id": "c1"}]),
        ToolMessage("tool out", tool_call_id="c1", id="t1"),
        AIMessage("answer", id="a2"),
    ]
    assert [m.id for m in turn_messages(messages, "user")] == ["h1", "h2"]
    assert [m.id for m in turn_messages(messages, "user_and_assistant")] == ["h1", "h2", "a2"]
    assert turn_messages(messages, "off") == []
    assert latest_human(messages).id == "h2"  # type: ignore[union-attr]
    assert is_recalled(recall) and not is_recalled(messages[0])
    assert turn_messages([recall], "user") == []


def test_capture_keys_name_one_message_of_one_container() -> None:
    msg = HumanMessage("I am vegan", id="m1")
    assert capture_key("bob", msg) == capture_key("bob", HumanMessage("other", id="m1"))
    assert capture_key("bob", msg) != capture_key("eve", msg)
    assert capture_key("bob", msg) != capture_key("bob", AIMessage("I am vegan", id="m1"))
    assert capture_key("bob", HumanMessage("x")) == capture_key("bob", HumanMessage("x"))


def _request(messages: list[Any], system: str | None = None) -> ModelRequest[Any]:
    return ModelRequest(
        model=ScriptedChatModel(responses=[]),
        messages=messages,
        system_message=SystemMessage(system) if system else None,
    )


def test_the_model_request_gets_exactly_one_fenced_block(memory: MembrainMemoryMiddleware) -> None:
    stale = HumanMessage("<recalled_memories>old", id=memory.recall_id)
    request = _request([stale, HumanMessage("a", id="h0"), HumanMessage("q", id="h")], "sys")
    seen = memory._with_recall(request, ["Likes tea", "likes  TEA", "Lives in Oslo"])
    assert [m.id for m in seen.messages] == ["h0", memory.recall_id, "h"]
    text = seen.messages[1].text
    assert text.splitlines()[0] == "<recalled_memories>"
    assert "1. Likes tea\n2. Lives in Oslo" in text and text.count("tea") == 1
    assert seen.system_message is not None and seen.system_message.text == "sys"
    # the request it came from is unchanged: nothing reaches the state
    assert [m.id for m in request.messages] == [memory.recall_id, "h0", "h"]
    # nothing recalled: a stale block from an old thread goes, no new one comes
    assert [m.id for m in memory._with_recall(request, []).messages] == ["h0", "h"]
    plain = _request([HumanMessage("q", id="h")])
    assert memory._with_recall(plain, None) is plain


def test_system_placement_extends_the_one_system_message() -> None:
    client = MembrainClient("k", base_url="http://127.0.0.1:9")
    memory = MembrainMemoryMiddleware(client=client, placement="system")
    seen = memory._with_recall(_request([HumanMessage("q", id="h")], "Be brief."), ["Likes tea"])
    assert seen.system_message is not None
    assert seen.system_message.text.startswith("Be brief.\n\n<recalled_memories>")
    assert [m.id for m in seen.messages] == ["h"]
    client.close()


def test_bad_settings_fail_at_construction() -> None:
    client = MembrainClient("k", base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="client"):
        MembrainMemoryMiddleware()
    with pytest.raises(InvalidRequestError):
        MembrainMemoryMiddleware(client=client, container="")
    with pytest.raises(InvalidRequestError, match="placement"):
        MembrainMemoryMiddleware(client=client, placement="middle")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="capture"):
        MembrainMemoryMiddleware(client=client, capture="all")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="max_context_chars must be at least"):
        MembrainMemoryMiddleware(client=client, max_context_chars=150)
    with pytest.raises(ValueError, match="min_score"):
        MembrainMemoryMiddleware(client=client, min_score=2.0)
    with pytest.raises(InvalidRequestError):
        MembrainMemoryMiddleware(client=client, scope=["("])
    client.close()


def test_a_model_cannot_set_the_container(memory: MembrainMemoryMiddleware) -> None:
    class Runtime:
        context = {"user_id": 42}

    with pytest.raises(InvalidRequestError, match="must be a string"):
        memory.resolve_container(Runtime())  # type: ignore[arg-type]
    assert "user_id" in repr(memory) and "k" not in repr(memory).split("(")[0]
