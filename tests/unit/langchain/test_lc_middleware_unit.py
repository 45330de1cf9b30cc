"""The middlewares' pure parts: which messages form a turn, capture keys, the fenced text, args."""

from __future__ import annotations

import pytest
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


def test_the_update_keeps_exactly_one_fenced_message(memory: MembrainMemoryMiddleware) -> None:
    state = {"messages": [SystemMessage("sys", id="s"), HumanMessage("q", id="h")]}
    update = memory._update(state, ["Likes tea", "likes  TEA", "Lives in Oslo"], "h")  # type: ignore[arg-type]
    remove_all, *messages = update["messages"]
    assert remove_all.type == "remove"
    assert [m.id for m in messages] == ["s", f"{RECALL_ID}.MembrainMemoryMiddleware", "h"]
    text = messages[1].text
    assert text.splitlines()[0] == "<recalled_memories>"
    assert "1. Likes tea\n2. Lives in Oslo" in text and text.count("tea") == 1
    # nothing recalled: the stale message goes, no new one comes
    stale = {"messages": [messages[1], HumanMessage("q2", id="h2")]}
    assert [m.type for m in memory._update(stale, [], "h2")["messages"]] == ["remove"]  # type: ignore[arg-type]
    assert memory._update({"messages": [HumanMessage("q")]}, None, "q") == {}  # type: ignore[arg-type]


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
