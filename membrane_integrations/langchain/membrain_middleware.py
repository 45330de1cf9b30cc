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
    ...     out = agent.invoke({"messages": [("user", "What do I eat?")]},
    ...                        context={"user_id": "bob"})
    ...     print(out["messages"][0].text.splitlines()[2])
    1. I am vegan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.context_text import DEFAULT_HEADER
from ..core.errors import IngestTimeoutError
from ..core.scope import escape_literal, validate_patterns
from ..membrain.recall import arecall, recall
from ..membrain.tenancy import Tenancy
from ._clients import ClientPair
from ._middleware import CapturePolicy, MemoryMiddlewareBase, Placement, logger

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
    * **Recall** (``before_model``): a search for the latest human message, ``k`` hits, those
      with a semantic score below ``min_score`` dropped, de-duplicated and cut to
      ``max_context_chars``, kept in the state as ONE message fenced in
      ``<recalled_memories>`` that says it is retrieved data, not instructions. Its id is
      stable: a new human message replaces it, a tool loop does not search again. Placement:
      ``"before_human"`` (default: a human-role message just before the latest human
      message), ``"first"`` (the first message after any system prompt) or ``"system"`` (a
      system-role message there). A failed or slow (``recall_timeout``) recall is logged as
      a warning and the model is called without it.
    * **Capture** (``after_agent``, ``capture="off" | "user" | "user_and_assistant"``): each
      message of the turn becomes a memory with the tokens ``role.<role>`` and
      ``msg.<key>`` (a hash of container and message id). A ledger in the agent state and a
      count of ``msg.<key>`` on the server make it idempotent: a resumed or replayed run (a
      LangGraph checkpointer, the same thread) stores nothing twice. The recalled context is
      never captured. A failure is logged (with the ingest job id when there is one) and
      never breaks the reply; a job still running past ``wait_timeout`` is not sent again.
    * Either client is enough (``client=`` sync or async, or ``async_client=``): sync agents
      (``invoke``) use the sync one, async agents (``ainvoke``) the async one, the other being
      derived on first use and closed by ``close()`` / ``aclose()``.

    Example:
        >>> from langchain.agents import create_agent
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> from membrane_integrations.testing import ScriptedChatModel
        >>> with MembrainEmulator() as emu, emu.client() as client:
        ...     memory = MembrainMemoryMiddleware(client=client, container="eve")
        ...     agent = create_agent(ScriptedChatModel(responses=["Ok.", "Tea."]),
        ...                          middleware=[memory])
        ...     _ = agent.invoke({"messages": [("user", "I drink tea.")]})
        ...     out = agent.invoke({"messages": [("user", "What do I drink?")]})
        ...     print(out["messages"][0].text.splitlines()[0], client.count())
        <recalled_memories> 2
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

    @staticmethod
    def _token_filter(tenancy: Tenancy, key: str) -> list[str] | None:
        return tenancy.read_scope([f"^{escape_literal(f'msg.{key}')}$"])

    def _add_args(self, tenancy: Tenancy, role: str, key: str) -> dict[str, Any]:
        return {
            "scope": tenancy.write_tokens([f"role.{role}", f"msg.{key}"]),
            "category": self.category,
            "wait": True,
            "wait_timeout": self.wait_timeout,
        }

    def _queued(self, tenancy: Tenancy, exc: IngestTimeoutError) -> None:
        # Queued, not lost: sending it again would store it twice.
        logger.warning(
            "MembrainMemoryMiddleware capture for container %r is still ingesting as job %s; "
            "it is not sent again",
            tenancy.container,
            exc.job_id,
        )

    def _capture(self, identity: Tenancy, role: str, text: str, key: str) -> None:
        client = self.clients.for_sync()
        # The state ledger may be gone (a new thread replaying a message): ask the server.
        if client.count(scope=self._token_filter(identity, key)):
            return
        try:
            client.add(text, **self._add_args(identity, role, key))
        except IngestTimeoutError as exc:
            self._queued(identity, exc)

    async def _acapture(self, identity: Tenancy, role: str, text: str, key: str) -> None:
        client = self.clients.for_async()
        if await client.count(scope=self._token_filter(identity, key)):
            return
        try:
            await client.add(text, **self._add_args(identity, role, key))
        except IngestTimeoutError as exc:
            self._queued(identity, exc)
