"""``MembrainChatMessageHistory``: LangChain chat history on Membrain (container + session).

Each message is one memory of the container (written through
:class:`~membrane_integrations.membrain.tenancy.Tenancy`) whose content is a JSON envelope
(session id, sequence number, ``message_to_dict``); its scope tokens are the session's
``lgchat.<digest>`` and a per-message ``lgmsg.<uuid>`` with its anchored guard
``^lgmsg\\.<uuid>$``, which keeps Membrain's near-duplicate merge (guide 4.1) from folding two
equal messages ("ok", "ok") into one. Reading lists the session by scope, never by query
(search results are ranked), and sorts by the sequence number; ``clear`` is one bulk delete by
the session's anchored scope. Writes wait for their ingest jobs, so a message added is a message
read.

Example:
    >>> from langchain_core.messages import AIMessage, HumanMessage
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     history = MembrainChatMessageHistory(client=client, container="bob", session_id="s1")
    ...     history.add_messages([HumanMessage("hi, I am Bob"), AIMessage("hello Bob")])
    ...     print([m.content for m in history.messages])
    ...     history.clear()
    ...     print(history.messages)
    ['hi, I am Bob', 'hello Bob']
    []
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from ..membrain.tenancy import Tenancy
from ._chat_envelope import Sequencer, check_session, envelope, parse, session_digest
from ._clients import ClientPair
from ._membrain_listing import Listed, alisted, listed

__all__ = ["MembrainChatMessageHistory"]

_SEQUENCER = Sequencer()


class MembrainChatMessageHistory(BaseChatMessageHistory):
    """Chat history of one session of one container, on Membrain (see the module doc).

    Args:
        client: a ``MembrainClient`` or ``AsyncMembrainClient`` (the other flavour is derived).
        async_client: the async client, when both are given.
        container: the container (the application's tenant, never a model's).
        session_id: the conversation.
        wait_timeout: seconds to wait for each message's ingest job.
    """

    def __init__(
        self,
        *,
        client: Any = None,
        async_client: Any = None,
        container: str,
        session_id: str,
        wait_timeout: float = 60.0,
    ) -> None:
        self._pair = ClientPair.given(client, async_client)
        self._tenancy = Tenancy(container)
        self.container = container
        self.session_id = check_session(session_id)
        self._wait_timeout = wait_timeout
        digest = session_digest(self.session_id)
        self._session_token = f"lgchat.{digest}"
        self._pattern = f"^lgchat\\.{digest}$"

    def __repr__(self) -> str:
        return (
            f"MembrainChatMessageHistory(container={self.container!r}, "
            f"session_id={self.session_id!r})"
        )

    def _tokens(self) -> list[str]:
        mark = uuid.uuid4().hex
        return self._tenancy.write_tokens(
            [self._session_token, f"lgmsg.{mark}", f"^lgmsg\\.{mark}$"]
        )

    def _sorted(self, found: list[Listed]) -> list[BaseMessage]:
        parsed = [(p, m.id) for m in found if (p := parse(m.content, self.session_id)) is not None]
        parsed.sort(key=lambda pair: (pair[0][0], pair[1]))
        return [message for (_, message), _ in parsed]

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The session's messages, oldest first."""
        return self._sorted(listed(self._pair.for_sync(), self._tenancy, self._pattern))

    async def aget_messages(self) -> list[BaseMessage]:
        """The session's messages, oldest first (async client)."""
        return self._sorted(await alisted(self._pair.for_async(), self._tenancy, self._pattern))

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store the messages in order; returns once every ingest job has finished."""
        client = self._pair.for_sync()
        seqs = _SEQUENCER.take(self.session_id, len(messages))
        jobs = [
            client.add(envelope(self.session_id, seq, m), scope=self._tokens(), wait=False)
            for seq, m in zip(seqs, messages, strict=True)
        ]
        for job in jobs:
            client.wait_for_job(job.job_id, wait_timeout=self._wait_timeout)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store the messages in order (async client)."""
        client = self._pair.for_async()
        seqs = _SEQUENCER.take(self.session_id, len(messages))
        jobs = [
            await client.add(envelope(self.session_id, seq, m), scope=self._tokens(), wait=False)
            for seq, m in zip(seqs, messages, strict=True)
        ]
        for job in jobs:
            await client.wait_for_job(job.job_id, wait_timeout=self._wait_timeout)

    def clear(self) -> None:
        """Delete every message of the session (one bulk delete by its scope)."""
        scope = self._tenancy.read_scope([self._pattern])
        self._pair.for_sync().delete_bulk(scope=scope)

    async def aclear(self) -> None:
        """Delete every message of the session (async client)."""
        scope = self._tenancy.read_scope([self._pattern])
        await self._pair.for_async().delete_bulk(scope=scope)
