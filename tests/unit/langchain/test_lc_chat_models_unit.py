"""The no-network chat models used by agent tests, notebooks and the demo."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from membrane_integrations.testing import MemoryRuleChatModel, ScriptedChatModel, third_person

TOOLS = ["membrain_search", "membrain_add"]


def test_rules_pick_add_search_or_answer() -> None:
    model = MemoryRuleChatModel(search_args={"k": 3})
    add = model.decide([HumanMessage("Please remember that I'm allergic to nuts")], TOOLS)
    assert add.tool_calls[0]["name"] == "membrain_add"
    assert add.tool_calls[0]["args"] == {"content": "User is allergic to nuts."}
    search = model.decide([HumanMessage("What am I allergic to?")], TOOLS)
    assert search.tool_calls[0]["args"] == {"query": "What am I allergic to?", "k": 3}
    assert model.decide([HumanMessage("What am I allergic to?")], []).content == "OK."
    assert model.decide([HumanMessage("hello")], TOOLS).content == "OK."
    membrane = MemoryRuleChatModel(search_tool="membrane_retrieve", query_arg="task_descriptor")
    asked = membrane.decide([HumanMessage("How did we fix the login bug?")], ["membrane_retrieve"])
    assert asked.tool_calls[0]["args"] == {"task_descriptor": "How did we fix the login bug?"}


def test_answers_from_the_last_tool_result() -> None:
    model = MemoryRuleChatModel()
    history = [
        HumanMessage("What am I allergic to?"),
        AIMessage(content="", tool_calls=[{"name": "membrain_search", "args": {}, "id": "1"}]),
        ToolMessage(
            "1 result.\n1. [memory m1] score 0.90: User is allergic to nuts.",
            tool_call_id="1",
            name="membrain_search",
        ),
    ]
    assert model.decide(history, TOOLS).content == "From memory: User is allergic to nuts."
    history[-1] = ToolMessage("Memory error (Server): boom", tool_call_id="1", status="error")
    assert "could not use my memory" in str(model.decide(history, TOOLS).content)
    history[-1] = ToolMessage("No memories matched. Nothing", tool_call_id="1")
    assert "nothing about that is stored" in str(model.decide(history, TOOLS).content)


def test_rag_prompt_is_answered_from_context() -> None:
    model = MemoryRuleChatModel()
    prompt = "Context:\nThe team deploys on Fridays\nOther\n\nQuestion: when?"
    assert model.invoke(prompt).content == "Based on the context: The team deploys on Fridays"


def test_scripted_model_replays_then_stops() -> None:
    model = ScriptedChatModel(responses=["a", AIMessage(content="b")])
    bound = model.bind_tools([])
    assert [bound.invoke("x").content, bound.invoke("y").content] == ["a", "b"]
    with pytest.raises(ValueError, match="ran out"):
        model.invoke("z")


def test_third_person() -> None:
    assert third_person("my cat likes me") == "User's cat likes the user."
    assert third_person("I live in Oslo.") == "User live in Oslo."
