"""How a chat message is stored: a JSON envelope with its session and sequence number (pure).

Search results are ranked, not ordered, so every message carries a sequence number: the
wall clock in nanoseconds when the batch was written, plus its place in the batch, and never
below the last number this process handed out for the session. Reading sorts by it.

Example:
    >>> from langchain_core.messages import HumanMessage
    >>> seq = Sequencer()
    >>> a, b = seq.take("s1", 2)
    >>> b == a + 1
    True
    >>> text = envelope("s1", a, HumanMessage("hi"))
    >>> parsed = parse(text, "s1")
    >>> parsed is not None and parsed[0] == a and parsed[1].content
    'hi'
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from ..core.errors import InvalidRequestError

__all__ = [
    "Sequencer",
    "check_session",
    "cleared",
    "envelope",
    "parse",
    "parse_cleared",
    "session_digest",
]


def check_session(session_id: object) -> str:
    """A session id is a non-empty string."""
    if not isinstance(session_id, str) or not session_id:
        raise InvalidRequestError("session_id must be a non-empty string", field="session_id")
    return session_id


def session_digest(session_id: str) -> str:
    """A fixed-length token-safe digest of a session id (128 bits of SHA-256)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:32]


class Sequencer:
    """Hands out increasing sequence numbers per session (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}

    def take(self, session_id: str, count: int) -> list[int]:
        with self._lock:
            start = max(time.time_ns(), self._last.get(session_id, 0) + 1)
            self._last[session_id] = start + count - 1
        return list(range(start, start + count))


def envelope(session_id: str, seq: int, message: BaseMessage) -> str:
    """The stored text of one message."""
    data = {
        "chat_message": 1,
        "session": session_id,
        "seq": seq,
        "message": message_to_dict(message),
    }
    return json.dumps(data, ensure_ascii=False)


def parse(text: Any, session_id: str) -> tuple[int, BaseMessage] | None:
    """``(seq, message)`` from a stored text of this session; ``None`` if it is not one."""
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("chat_message") != 1:
        return None
    if data.get("session") != session_id or not isinstance(data.get("seq"), int):
        return None
    try:
        (message,) = messages_from_dict([data["message"]])
    except (KeyError, TypeError, ValueError):
        return None
    return data["seq"], message


def cleared(session_id: str, seq: int) -> str:
    """The stored text of a "history cleared up to here" marker.

    >>> parse_cleared(cleared("s1", 7), "s1"), parse_cleared(cleared("s1", 7), "s2")
    (7, None)
    """
    return json.dumps({"chat_cleared": 1, "session": session_id, "seq": seq}, ensure_ascii=False)


def parse_cleared(text: Any, session_id: str) -> int | None:
    """The sequence number of a clear marker of this session, else ``None``."""
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("chat_cleared") != 1:
        return None
    seq = data.get("seq")
    return seq if data.get("session") == session_id and isinstance(seq, int) else None
