"""``MembraneContextProvider``: long-term memory for an Agent Framework agent, from Membrane."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, cast

from ..core.notes import Extractor, Note
from ..core.rerank import EmbeddingsLike, arerank, candidate_pool
from ..core.ttl import Expiry
from ..membrane import AsyncMembraneClient
from ..membrane.capture import write_note
from ..membrane.recall import arecall_records, record_text
from ..membrane.recall_index import RecallIndex, attach_to
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, Sensitivity, TrustContext
from ._base import BackendContextProvider
from .config import MembraneContextConfig
from .identity import MembraneIdentity

__all__ = ["MembraneContextProvider", "record_text"]


async def _close(client: AsyncMembraneClient) -> None:
    # AsyncMembraneClient gains aclose() (the one shape across adapters); close() until then.
    closer = getattr(client, "aclose", None) or client.close
    await cast(Callable[[], Awaitable[None]], closer)()


class MembraneContextProvider(BackendContextProvider[MembraneContextConfig, MembraneIdentity]):
    """An Agent Framework context provider that recalls from and captures into Membrane.

    The identity's container is the record ``scope``: every capture stores it, every recall
    sends it as the only trust scope with the identity's actor and sensitivity ceiling, and
    keeps only records whose scope equals it (:class:`~membrane_integrations.membrane.tenancy.
    MembraneView`; the daemon also returns unscoped records and redacted copies, never shown).

    * **Before each run**: retrieve for the run's new user input, keep ``k`` records of the
      container above ``min_salience``, drop duplicates, fit ``max_context_chars`` and add one
      context message marked as recalled data. The recall index (on by default) ranks the
      container's records for the input and the daemon returns them under the identity's
      trust; ``embeddings=`` (any LangChain ``Embeddings``) further re-ranks a candidate pool.
      A failed or slow (``recall_timeout``) recall is logged and the run goes on.
    * **After each run**: each message the ``capture`` policy selects becomes a semantic record
      ``<role> said <text>`` with the tags ``msg.<key>`` and ``role.<role>``, stored once per
      session ledger (a resumed run stores nothing twice); the recalled context is never stored.
      A failed capture is logged and never breaks the reply.
    * **Identity**: ``provider.identity(container=..., actor_id=..., max_sensitivity=...)`` for a
      run, ``provider.bind_session(session, ...)`` for a thread, else the config's defaults.
    * ``to_dict()`` / ``from_dict()`` round-trip it without the API key (nor ``embeddings``).

    Example (needs a running daemon at ``addr``):
        >>> import asyncio
        >>> from agent_framework import Agent
        >>> from membrane_integrations.agent_framework.testing import ScriptedChatClient
        >>> async def demo(addr: str) -> str:  # doctest: +SKIP
        ...     config = MembraneContextConfig(addr=addr, container="bob")
        ...     async with MembraneContextProvider(config) as memory:
        ...         chat = ScriptedChatClient()
        ...         agent = Agent(client=chat, context_providers=[memory])
        ...         await agent.run("I am vegan.")
        ...         await memory.aflush()  # captured in the background: wait for it
        ...         await agent.run("What do I eat?", session=agent.create_session())
        ...         return chat.requests[1][0].text.splitlines()[1]
        >>> asyncio.run(demo("localhost:9090"))  # doctest: +SKIP
        '1. user said: I am vegan.'
    """

    DEFAULT_SOURCE_ID: ClassVar[str] = "membrane"
    INJECTABLE: ClassVar[set[str]] = {"client", "embeddings", "recall_index"}
    _config_type = MembraneContextConfig
    _identity_type = MembraneIdentity

    def __init__(
        self,
        config: MembraneContextConfig | Mapping[str, Any] | None = None,
        *,
        client: AsyncMembraneClient | None = None,
        embeddings: EmbeddingsLike | None = None,
        candidate_pool: int | None = None,
        source_id: str | None = None,
        extractor: Extractor | Any | None = None,
        recall_index: RecallIndex | bool | None = None,
    ) -> None:
        """Use ``client`` if given (this provider will not close it), else connect per config.

        ``embeddings`` turns on client-side re-ranking of ``candidate_pool`` records per recall;
        ``extractor`` (a callable, or a LangChain chat model) turns each turn into notes.
        ``recall_index``: ``None`` (default) recalls through the client's recall index or the
        default one (``docs/recall-index.md``), ``False`` in the daemon's order.
        """
        super().__init__(config, source_id=source_id, extractor=extractor)
        if candidate_pool is not None and candidate_pool < 1:
            raise ValueError("candidate_pool must be at least 1")
        self._embeddings = embeddings
        self._candidate_pool = candidate_pool
        self._owns_client = client is None
        if client is None:
            client = AsyncMembraneClient(
                self._config.addr,
                tls=self._config.tls,
                tls_ca_cert=self._config.tls_ca_cert,
                api_key=self._config.resolve_api_key(),
                timeout=self._config.timeout,
            )
        self._client = client
        self._recall_index = attach_to(client, index=recall_index)

    @property
    def client(self) -> AsyncMembraneClient:
        """The async Membrane client this provider sends through."""
        return self._client

    async def _aclose_client(self) -> None:
        """Close the gRPC channel if this provider opened it."""
        if self._owns_client:
            await _close(self._client)

    def view(self, identity: MembraneIdentity) -> MembraneView:
        """The tenancy view of ``identity``: its trust context and the one scope it sees."""
        config = self._config
        return MembraneView(
            base=TrustContext(
                max_sensitivity=Sensitivity(identity.max_sensitivity or config.max_sensitivity),
                authenticated=True,
                actor_id=identity.actor_id or config.actor_id,
                scopes=[identity.container],
            ),
            scope=identity.container,
        )

    async def _records(self, view: MembraneView, query: str, limit: int) -> list[MemoryRecord]:
        return await arecall_records(self._client, view, query, limit, self._config.min_salience)

    async def _recall(self, identity: MembraneIdentity, query: str) -> list[str]:
        k = self._config.k
        limit = k if self._embeddings is None else candidate_pool(k, self._candidate_pool)
        records = await self._records(self.view(identity), query, limit)
        pairs = [(text, r.salience) for r in records if (text := record_text(r)) is not None]
        if self._embeddings is None:
            return [text for text, _ in pairs]
        ranked = await arerank(
            self._embeddings,
            query,
            pairs,
            texts=[text for text, _ in pairs],
            salience=[salience for _, salience in pairs],
            k=k,
        )
        return [text for text, _ in ranked]

    def _write(
        self,
        identity: MembraneIdentity,
        role: str,
        note: Note,
        key: str,
        deadline: float,
        expiry: Expiry | None = None,
    ) -> None:
        write_note(
            self._sync_client(),
            self.view(identity),
            role,
            note,
            key,
            deadline,
            sensitivity=self._config.capture_sensitivity,
            source=self._config.source,
            actor=identity.actor_id or self._config.actor_id,
            expiry=expiry,
        )
