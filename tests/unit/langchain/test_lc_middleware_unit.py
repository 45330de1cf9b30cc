"""The middlewares' pure parts: which messages form a turn, capture keys, the fenced text, args."""

from __future__ import annotations

import logging
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


class _Runtime:
    context = {"user_id": "bob"}


def _recording(memory: MembrainMemoryMiddleware) -> list[tuple[str, str, str | None]]:
    written: list[tuple[str, str, str | None]] = []

    def write(
        identity: Any, role: str, note: Any, key: str, deadline: float, expiry: Any = None
    ) -> None:
        written.append((role, note.text, note.replaces))

    memory._write = write  # type: ignore[method-assign]
    return written


def test_capture_queues_statements_only_and_the_reply_state_just_the_ledger() -> None:
    client = MembrainClient("k", base_url="http://127.0.0.1:9")
    memory = MembrainMemoryMiddleware(client=client, capture="user_and_assistant")
    written = _recording(memory)
    state = {
        "messages": [
            HumanMessage("Hi! I am vegan. What can I cook?", id="h1"),
            AIMessage("Sure! Lentils are great.", id="a1"),
        ]
    }
    update = memory.after_agent(state, _Runtime())  # type: ignore[arg-type]
    assert memory.flush(30.0) == []
    assert written == [("user", "I am vegan.", None), ("assistant", "Lentils are great.", None)]
    assert update is not None and len(update["memory_captured"]) == 2
    # replayed with the ledger: nothing queued again
    assert memory.after_agent({**state, **update}, _Runtime()) is None  # type: ignore[arg-type]
    memory.close()
    client.close()


def test_a_failing_or_babbling_extractor_falls_back_to_the_statements(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = MembrainClient("k", base_url="http://127.0.0.1:9")
    babbling = ScriptedChatModel(responses=["I cannot do JSON today."])
    for extractor in (babbling, lambda turn: 1 / 0):
        memory = MembrainMemoryMiddleware(client=client, extractor=extractor)
        written = _recording(memory)
        state = {"messages": [HumanMessage("I moved to Oslo. Any tips?", id="h")]}
        with caplog.at_level(logging.WARNING, "membrane_integrations.langchain.middleware"):
            memory.after_agent(state, _Runtime())  # type: ignore[arg-type]
            assert memory.flush(30.0) == []
        assert written == [("note", "I moved to Oslo.", None)]
        assert "extractor failed; storing the turn's statements instead" in caplog.text
        memory.close()
    client.close()


def test_an_extractor_reads_the_recall_of_its_turn() -> None:
    client = MembrainClient("k", base_url="http://127.0.0.1:9")
    turns: list[Any] = []
    memory = MembrainMemoryMiddleware(
        client=client,
        extractor=lambda turn: turns.append(turn) or ["User lives in Oslo."],
    )
    written = _recording(memory)
    human = HumanMessage("I moved to Oslo.", id="h")
    memory._remember(("bob", "h"), ["User lives in Bergen."])
    memory.after_agent({"messages": [human]}, _Runtime())  # type: ignore[arg-type]
    assert memory.flush(30.0) == []
    assert turns[0].recalled == ("User lives in Bergen.",)
    assert turns[0].messages == (("user", "I moved to Oslo."),)
    assert written == [("note", "User lives in Oslo.", None)]
    memory.close()
    client.close()


def test_hung_sync_recalls_are_bounded_per_middleware(caplog: pytest.LogCaptureFixture) -> None:
    import threading

    from membrane_integrations.langchain._middleware import RECALL_THREADS

    client = MembrainClient("k", base_url="http://127.0.0.1:9")
    memory = MembrainMemoryMiddleware(client=client, recall_timeout=0.05)
    release = threading.Event()
    memory._recall = lambda identity, query: release.wait(30.0) and ["late"]  # type: ignore[method-assign]

    def ask(n: int) -> list[str] | None:
        request = ModelRequest(
            model=ScriptedChatModel(responses=[]),
            messages=[HumanMessage(f"q{n}", id=f"h{n}")],
            runtime=_Runtime(),  # type: ignore[arg-type]
        )
        return memory._recall_now(request)

    with caplog.at_level(logging.WARNING, "membrane_integrations.langchain.middleware"):
        assert [ask(n) for n in range(RECALL_THREADS)] == [None] * RECALL_THREADS
        assert caplog.text.count("took longer than 0.05s") == RECALL_THREADS
        assert ask(99) is None  # no slot left: skipped at once, no thread started
        assert "earlier recalls are still waiting" in caplog.text
    release.set()
    end = threading.Event()
    for _ in range(600):  # the stuck recalls finish and give their slots back
        if memory._recall_slots.acquire(blocking=False):
            memory._recall_slots.release()
            break
        end.wait(0.05)
    memory._recall = lambda identity, query: ["I am vegan."]  # type: ignore[method-assign]
    assert ask(100) == ["I am vegan."]
    client.close()
