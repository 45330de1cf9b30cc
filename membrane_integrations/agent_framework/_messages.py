"""Pure helpers on Agent Framework messages: what to recall for, what to capture, and its key.

Nothing here does I/O. The recall query is the text of the run's new user messages; the
capture candidates are the run's own input and reply messages under a policy, never a message
another provider (or this one) injected as context; the capture key names one message of one
container, so a resumed run can tell what it already stored.

Example:
    >>> from agent_framework import Message
    >>> msgs = [Message(role="user", contents=["I am vegan"], message_id="m1")]
    >>> recall_query(msgs)
    'I am vegan'
    >>> [m.text for m in capture_candidates(msgs, [], "user")]
    ['I am vegan']
    >>> capture_key("bob", msgs[0]) == capture_key("bob", msgs[0]) != capture_key("eve", msgs[0])
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from agent_framework import Message
from agent_framework._sessions import get_message_identity

from .config import CapturePolicy

__all__ = [
    "RECALL_MARK",
    "capture_candidates",
    "capture_key",
    "is_injected",
    "recall_query",
    "role_of",
]

# Set in additional_properties of the context message a provider adds: it is recalled data.
RECALL_MARK = "membrane_integrations_recalled"
_ROLES: dict[CapturePolicy, frozenset[str]] = {
    "off": frozenset(),
    "user": frozenset({"user"}),
    "user_and_assistant": frozenset({"user", "assistant"}),
}


def _role(message: Message) -> str:
    role = message.role
    return str(getattr(role, "value", role))


def is_injected(message: Message) -> bool:
    """True for context a provider added (attributed by the framework, or our recall mark)."""
    props = message.additional_properties or {}
    return RECALL_MARK in props or "_attribution" in props


def recall_query(messages: Sequence[Message]) -> str | None:
    """The text of the new user messages (text parts only), or ``None`` when there is none."""
    texts = [
        m.text.strip()
        for m in messages
        if _role(m) == "user" and not is_injected(m) and m.text and m.text.strip()
    ]
    return "\n".join(texts) if texts else None


def capture_candidates(
    inputs: Sequence[Message], replies: Sequence[Message], policy: CapturePolicy
) -> list[Message]:
    """The messages of this run that the policy stores, in order; never injected context."""
    roles = _ROLES[policy]
    return [
        m
        for m in [*inputs, *replies]
        if _role(m) in roles and not is_injected(m) and m.text and m.text.strip()
    ]


def capture_key(container: str, message: Message) -> str:
    """32 hex digits naming one message in one container.

    From the message id when it has one; otherwise (as the framework's own history does) from
    its role and contents, so an id-less message repeated word for word in the same session is
    stored once.
    """
    identity = [container, _role(message), *get_message_identity(message)]
    digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:32]


def role_of(message: Message) -> str:
    """The message's role as a plain string."""
    return _role(message)
