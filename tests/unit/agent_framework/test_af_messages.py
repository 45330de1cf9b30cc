"""The pure message helpers: what is recalled for, what is captured, and the capture key."""

from __future__ import annotations

import pytest

pytest.importorskip("agent_framework")

from agent_framework import Message, SessionContext

from membrane_integrations.agent_framework._messages import (
    RECALL_MARK,
    capture_candidates,
    capture_key,
    is_injected,
    recall_query,
)


def _msg(role: str, text: str, message_id: str | None = None, **props: object) -> Message:
    return Message(role=role, contents=[text], message_id=message_id, additional_properties=props)


def test_recall_query_is_the_new_user_text_only() -> None:
    messages = [
        _msg("system", "be nice"),
        _msg("user", "  I am vegan  "),
        _msg("assistant", "ok"),
        _msg("user", "   "),
        _msg("user", "and I live in Oslo"),
        _msg("user", "old memory", **{RECALL_MARK: True}),
    ]
    assert recall_query(messages) == "I am vegan\nand I live in Oslo"
    assert recall_query([_msg("assistant", "hi")]) is None
    assert recall_query([]) is None


def test_context_added_by_any_provider_is_never_captured() -> None:
    context = SessionContext(input_messages=[_msg("user", "hello")])
    context.extend_messages("history", [_msg("user", "from another provider")])
    [injected] = context.context_messages["history"]
    assert is_injected(injected)
    inputs = [*context.input_messages, injected, _msg("user", "x", **{RECALL_MARK: True})]
    replies = [_msg("assistant", "hi there"), _msg("tool", "42")]
    assert [m.text for m in capture_candidates(inputs, replies, "user")] == ["hello"]
    assert [m.text for m in capture_candidates(inputs, replies, "user_and_assistant")] == [
        "hello",
        "hi there",
    ]
    assert capture_candidates(inputs, replies, "off") == []


def test_the_capture_key_names_one_message_in_one_container() -> None:
    a = _msg("user", "same words", "id-1")
    assert capture_key("bob", a) == capture_key("bob", _msg("user", "other words", "id-1"))
    assert capture_key("bob", a) != capture_key("bob", _msg("user", "same words", "id-2"))
    assert capture_key("bob", a) != capture_key("Bob", a)
    # without an id, the role and the contents name the message
    plain = _msg("user", "same words")
    assert capture_key("bob", plain) == capture_key("bob", _msg("user", "same words"))
    assert capture_key("bob", plain) != capture_key("bob", _msg("assistant", "same words"))
    assert len(capture_key("bob", plain)) == 32
    int(capture_key("bob", plain), 16)
