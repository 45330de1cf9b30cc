"""``MembraneChatMessageHistory``: a LangChain chat history on membraned's episodic records.

A chat message is an event, which is what the daemon's **episodic** records hold: each
message is one record (``IngestEvent``, event kind ``chat_message``) of the history's scope,
whose timeline summary is a JSON envelope (session id, sequence number, ``message_to_dict``),
tagged ``chat.<digest of the session id>``. Working records do not fit: one is a snapshot of a
task thread's state, not a list of turns.

What the daemon cannot do, and what the history does instead: it has no listing by tag or in
insertion order (retrieval is ranked by salience), so reading retrieves the scope's episodic
records (``limit=0``, ``min_salience=0`` so that decayed messages stay in the history), keeps
this session's, and sorts by the sequence number. Episodic records are immutable (the daemon
refuses to retract or revise them), so ``clear`` appends a ``chat_cleared`` event with the next
sequence number and reading keeps only the messages after the latest one: the daemon keeps the
cleared turns for audit, the history no longer reads them. Reads are linear in the scope's
episodic records.

Example:
    >>> from langchain_core.messages import AIMessage, HumanMessage
    >>> from membrane_integrations.membrane.daemon import LocalMembraned, find_membraned
    >>> with LocalMembraned(find_membraned(quiet=True)) as daemon, daemon.client() as client:
    ...     history = MembraneChatMessageHistory(client=client, scope="bob", session_id="s1")
    ...     history.add_messages([HumanMessage("hi, I am Bob"), AIMessage("hello Bob")])
    ...     print([m.content for m in history.messages])
    ...     history.clear()
    ...     print(history.messages)
    ['hi, I am Bob', 'hello Bob']
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from ..core.errors import InvalidRequestError
from ..membrane.tenancy import MembraneView
from ..membrane.types import EpisodicPayload, MemoryRecord, TrustContext
from ._chat_envelope import (
    Sequencer,
    check_session,
    cleared,
    envelope,
    parse,
    parse_cleared,
    session_digest,
)
from ._clients import ClientPair

__all__ = ["MembraneChatMessageHistory"]

EVENT_KIND = "chat_message"
CLEARED_KIND = "chat_cleared"
_SEQUENCER = Sequencer()


class MembraneChatMessageHistory(BaseChatMessageHistory):
    """Chat history of one session of one scope, on membraned (see the module doc).

    Args:
        client: a ``MembraneClient`` or ``AsyncMembraneClient`` (the other flavour is derived).
        async_client: the async client, when both are given.
        scope: the record scope (the application's tenant, never a model's).
        session_id: the conversation.
        actor: recorded on retractions.
        trust: the application's ``TrustContext`` (scopes default to ``[scope]``).
    """

    def __init__(
        self,
        *,
        client: Any = None,
        async_client: Any = None,
        scope: str,
        session_id: str,
        actor: str = "chat-history",
        trust: TrustContext | None = None,
    ) -> None:
        if not isinstance(scope, str) or not scope:
            raise InvalidRequestError("a Membrane chat history needs a scope", field="scope")
        self._pair = ClientPair.given(client, async_client)
        self._view = MembraneView(trust or TrustContext(), actor=actor, scope=scope)
        self.session_id = check_session(session_id)
        self._tag = f"chat.{session_digest(self.session_id)}"

    def __repr__(self) -> str:
        return (
            f"MembraneChatMessageHistory(scope={self._view.scope!r}, "
            f"session_id={self.session_id!r})"
        )

    def _retrieve_args(self) -> dict[str, Any]:
        trust = self._view.trust
        return {"trust": trust, "memory_types": ["episodic"], "min_salience": 0.0, "limit": 0}

    def _mine(self, records: list[MemoryRecord]) -> list[tuple[int, str, BaseMessage]]:
        out = []
        cut = -1
        for record in records:
            payload = record.payload
            if not self._view.visible(record) or self._tag not in record.tags:
                continue
            if not isinstance(payload, EpisodicPayload):
                continue
            for event in payload.timeline[:1]:
                if event.event_kind == CLEARED_KIND:
                    cut = max(cut, parse_cleared(event.summary, self.session_id) or -1)
                parsed = parse(event.summary, self.session_id)
                if event.event_kind == EVENT_KIND and parsed is not None:
                    out.append((parsed[0], record.id, parsed[1]))
        out.sort(key=lambda t: (t[0], t[1]))
        return [t for t in out if t[0] > cut]

    def _event(self, seq: int, message: BaseMessage) -> dict[str, Any]:
        return {
            "event_kind": EVENT_KIND,
            "ref": f"{self._tag}.{seq}",
            "summary": envelope(self.session_id, seq, message),
            "sensitivity": self._view.write_sensitivity(None),
            "tags": [self._tag],
            "scope": self._view.scope,
        }

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The session's messages, oldest first."""
        records = self._pair.for_sync().retrieve("", **self._retrieve_args())
        return [m for _, _, m in self._mine(records)]

    async def aget_messages(self) -> list[BaseMessage]:
        """The session's messages, oldest first (async client)."""
        records = await self._pair.for_async().retrieve("", **self._retrieve_args())
        return [m for _, _, m in self._mine(records)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store the messages in order, one episodic record each."""
        client = self._pair.for_sync()
        for seq, message in zip(
            _SEQUENCER.take(self.session_id, len(messages)), messages, strict=True
        ):
            client.ingest_event(**self._event(seq, message))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store the messages in order (async client)."""
        client = self._pair.for_async()
        for seq, message in zip(
            _SEQUENCER.take(self.session_id, len(messages)), messages, strict=True
        ):
            await client.ingest_event(**self._event(seq, message))

    def _cleared_event(self) -> dict[str, Any]:
        (seq,) = _SEQUENCER.take(self.session_id, 1)
        return {
            "event_kind": CLEARED_KIND,
            "ref": f"{self._tag}.{seq}",
            "summary": cleared(self.session_id, seq),
            "sensitivity": self._view.write_sensitivity(None),
            "tags": [self._tag],
            "scope": self._view.scope,
        }

    def clear(self) -> None:
        """Hide every message so far: append a ``chat_cleared`` event (see the module doc)."""
        self._pair.for_sync().ingest_event(**self._cleared_event())

    async def aclear(self) -> None:
        """Hide every message so far (async client)."""
        await self._pair.for_async().ingest_event(**self._cleared_event())
