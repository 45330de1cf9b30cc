"""``MembrainMemoryMiddleware``: long-term memory for a LangChain 1.x agent, with no tool call.

Example:
    >>> from langchain.agents import create_agent
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> from membrane_integrations.testing import ScriptedChatModel
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     memory = MembrainMemoryMiddleware(client=client, capture="user")
    ...     model = ScriptedChatModel(responses=["Noted.", "You eat no meat."])
    ...     agent = create_agent(model, middleware=[memory])
    ...     _ = agent.invoke({"messages": [("user", "I am vegan.")]}, context={"user_id": "bob"})
    ...     memory.flush()  # the capture is written in the background: wait for it here
    ...     out = agent.invoke({"messages": [("user", "What do I eat?")]},
    ...                        context={"user_id": "bob"})
    ...     print(model.requests[-1][0].text.splitlines()[2])  # what the model was shown
    ...     print(len(out["messages"]), memory.close())  # the thread: the conversation only
    []
    1. I am vegan.
    2 []
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.context_text import DEFAULT_HEADER
from ..core.notes import Extractor, Note
from ..core.scope import validate_patterns
from ..core.ttl import Expiry
from ..membrain.capture import write_note
from ..membrain.recall import arecall, recall
from ..membrain.tenancy import Tenancy
from ._clients import ClientPair
from ._middleware import CapturePolicy, MemoryMiddlewareBase, Placement

__all__ = ["MembrainMemoryMiddleware"]


class MembrainMemoryMiddleware(MemoryMiddlewareBase[Tenancy]):
    """Recall before each model call and capture after each run, from and into Membrain.

    Add it to an existing agent: ``create_agent(model, tools, middleware=[memory])``.

    * **Identity** comes from the application, never the model: a fixed ``container=``, or
      (the default, multi-tenant) one read per run from the runtime context,
      ``agent.invoke(..., context={"user_id": "alice"})`` (``context_key`` names the key; a
      dict, a dataclass or a pydantic ``context_schema`` all work). A run without one is
      refused with :class:`~membrane_integrations.core.errors.InvalidRequestError`. The
      container is the anchored, escaped first filter of every search and the token of every
      write (:class:`~membrane_integrations.membrain.tenancy.Tenancy`); ``scope`` patterns
      are ANDed after it.
    * **Recall** (``wrap_model_call``): a search for the latest human message, ``k`` hits,
      those with a semantic score below ``min_score`` dropped, de-duplicated and cut to
      ``max_context_chars``, handed to the model as ONE block fenced in
      ``<recalled_memories>`` that says it is retrieved data, not instructions. The block is
      part of the model request only: the agent state (and a checkpointer) holds just the
      conversation. A tool loop of the same turn reuses the recall. Placement:
      ``"before_human"`` (default: a human-role message just before the latest human
      message), ``"first"`` (the first message) or ``"system"`` (appended to the one system
      message). A failed or slow (``recall_timeout``) recall is logged as a warning and the
      model is called without it.
    * **Capture** (``after_agent``, ``capture="off" | "user" | "user_and_assistant"``): the
      turn becomes notes, never a transcript: by default each message's statements (no
      questions, greetings, acknowledgements or recalled block,
      :func:`~membrane_integrations.core.notes.statements`); with ``extractor=`` (a callable
      or a chat model, see :class:`~membrane_integrations.langchain.ChatModelExtractor`) the
      facts it extracts. Notes go to a background writer
      (:class:`~membrane_integrations.core.background.BackgroundWriter`): the reply never
      waits; each write has ``write_timeout``; ``flush()`` / ``close()`` (or ``with``) wait
      up to ``flush_timeout`` and return what could not be written, with its key. A note
      carries the tokens ``role.<role>`` and ``msg.<key>``; the ledger in the agent state and
      a count of ``msg.<key>`` on the server make it idempotent (a resumed or replayed run
      stores nothing twice); the add waits for its ingest job on the writer's thread and an
      ambiguous add is resolved through its add token there. A job still running past
      ``wait_timeout`` is not sent again.
    * Either client is enough (``client=`` sync or async, or ``async_client=``): sync agents
      (``invoke``) use the sync one, async agents (``ainvoke``) the async one, the other being
      derived on first use and closed by ``close()`` / ``aclose()``.

    Example:
        >>> from langchain.agents import create_agent
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> from membrane_integrations.testing import ScriptedChatModel
        >>> with MembrainEmulator() as emu, emu.client() as client:
        ...     memory = MembrainMemoryMiddleware(client=client, container="eve")
        ...     agent_model = ScriptedChatModel(responses=["Ok.", "Tea."])
        ...     agent = create_agent(agent_model, middleware=[memory])
        ...     _ = agent.invoke({"messages": [("user", "I drink tea.")]})
        ...     _ = memory.flush()
        ...     _ = agent.invoke({"messages": [("user", "What do I drink?")]})
        ...     _ = memory.close()  # flushes: the question was not stored
        ...     print(agent_model.requests[-1][0].text.splitlines()[0], client.count())
        <recalled_memories> 1
    """

    def __init__(
        self,
        client: Any = None,
        *,
        async_client: Any = None,
        container: str | None = None,
        context_key: str = "user_id",
        k: int = 5,
        min_score: float = 0.0,
        max_context_chars: int = 2000,
        context_header: str = DEFAULT_HEADER,
        placement: Placement = "before_human",
        capture: CapturePolicy = "user",
        recall_timeout: float = 5.0,
        scope: Sequence[str] | None = None,
        category: str | None = None,
        wait_timeout: float = 30.0,
        extractor: Extractor | Any | None = None,
        write_timeout: float = 10.0,
        flush_timeout: float = 30.0,
        max_pending: int = 1000,
        note_ttl: float | None = None,
    ) -> None:
        """Build from a ``MembrainClient`` and/or an ``AsyncMembrainClient``."""
        if client is None and async_client is None:
            raise ValueError("give client= (MembrainClient) and/or async_client=")
        clients = ClientPair.given(client, async_client)
        if not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must be between 0 and 1")
        if wait_timeout <= 0:
            raise ValueError("wait_timeout must be positive")
        self.min_score = min_score
        self.scope = validate_patterns(list(scope or []))
        self.category = category
        self.wait_timeout = wait_timeout
        super().__init__(
            clients=clients,
            container=container,
            context_key=context_key,
            k=k,
            max_context_chars=max_context_chars,
            context_header=context_header,
            placement=placement,
            capture=capture,
            recall_timeout=recall_timeout,
            extractor=extractor,
            write_timeout=write_timeout,
            flush_timeout=flush_timeout,
            max_pending=max_pending,
            note_ttl=note_ttl,
        )

    def _identity(self, container: str) -> Tenancy:
        return Tenancy(container)

    def _recall_args(self) -> dict[str, Any]:
        return {"k": self.k, "scope": self.scope, "min_score": self.min_score}

    def _recall(self, identity: Tenancy, query: str) -> list[str]:
        found = recall(self.clients.for_sync(), identity, query, **self._recall_args())
        return [node.content for node in found.nodes]

    async def _arecall(self, identity: Tenancy, query: str) -> list[str]:
        found = await arecall(self.clients.for_async(), identity, query, **self._recall_args())
        return [node.content for node in found.nodes]

    def _write(
        self,
        identity: Tenancy,
        role: str,
        note: Note,
        key: str,
        deadline: float,
        expiry: Expiry | None = None,
    ) -> None:
        write_note(
            self.clients.for_sync(),
            identity,
            role,
            note,
            key,
            deadline,
            category=self.category,
            wait_timeout=self.wait_timeout,
            expiry=expiry,
        )
