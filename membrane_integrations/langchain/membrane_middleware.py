"""``MembraneMemoryMiddleware``: long-term memory for a LangChain 1.x agent, from Membrane.

Needs the ``membrane`` extra (grpc) and a running membraned.
"""

from __future__ import annotations

from typing import Any

from ..core.context_text import DEFAULT_HEADER
from ..core.notes import Extractor, Note
from ..core.rerank import EmbeddingsLike, arerank, candidate_pool, rerank
from ..core.ttl import Expiry
from ..membrain.tenancy import Tenancy
from ..membrane.capture import write_note
from ..membrane.recall import arecall_records, recall_records, record_text
from ..membrane.recall_index import RecallIndex, attach_to
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, Sensitivity, TrustContext
from ._clients import ClientPair
from ._middleware import CapturePolicy, MemoryMiddlewareBase, Placement

__all__ = ["MembraneMemoryMiddleware"]

_SENSITIVITIES = ("public", "low", "medium", "high", "hyper")


class MembraneMemoryMiddleware(MemoryMiddlewareBase[MembraneView]):
    """Recall before each model call and capture after each run, from and into Membrane.

    Add it to an existing agent: ``create_agent(model, tools, middleware=[memory])``.

    * **Identity** comes from the application, never the model: a fixed ``container=``, or
      (the default, multi-tenant) one read per run from the runtime context,
      ``agent.invoke(..., context={"user_id": "alice"})`` (``context_key`` names the key). A
      run without one is refused with
      :class:`~membrane_integrations.core.errors.InvalidRequestError`. The container is the
      record ``scope`` of every capture and the only trust scope of every recall, sent with
      ``actor_id`` and the ``max_sensitivity`` ceiling; only records whose scope equals it are
      shown (:class:`~membrane_integrations.membrane.tenancy.MembraneView`).
    * **Recall** (``wrap_model_call``): a retrieve for the latest human message, ``k``
      records of the container with a salience of at least ``min_salience``, de-duplicated
      and cut to ``max_context_chars``, handed to the model as ONE block fenced in
      ``<recalled_memories>`` (placement as in
      :class:`~membrane_integrations.langchain.MembrainMemoryMiddleware`); the agent state
      never holds it. On membraned's default SQLite store the order is by salience whatever
      the query, so records are ranked for the message by the recall index (``recall_index``,
      on by default) and read back from the daemon under the run's trust; ``embeddings=``
      (any LangChain ``Embeddings``) further re-ranks a candidate pool by similarity. A failed
      or slow (``recall_timeout``) recall is logged and the model is called without it.
    * **Capture** (``after_agent``, ``capture="off" | "user" | "user_and_assistant"``): notes,
      not a transcript (statements by default, or ``extractor=`` facts), written by a
      background writer with a deadline per write (``write_timeout``; the client's own
      default is none), flushed by ``flush()`` / ``close()`` within ``flush_timeout``. A
      message's statements become a semantic record ``<role> said <text>``, an extracted
      fact a record shown as the fact alone; both are tagged ``msg.<key>`` and
      ``role.<role>``. A fact the extractor says replaces a recalled memory supersedes that
      record. The ledger in the agent state keeps a resumed run from storing anything twice
      (membraned v0.2.0 cannot look a record up by tag). A failure is logged and reported by
      ``flush()``; it never breaks the reply.
    * Either client is enough (``MembraneClient`` and/or ``AsyncMembraneClient``); the other
      flavour is derived on first use and closed by ``close()`` / ``aclose()``.

    Example (needs a running daemon at ``addr``):
        >>> from langchain.agents import create_agent
        >>> from membrane_integrations.membrane import MembraneClient
        >>> from membrane_integrations.testing import ScriptedChatModel
        >>> def demo(addr: str) -> str:  # doctest: +SKIP
        ...     with MembraneClient(addr) as client:
        ...         memory = MembraneMemoryMiddleware(client=client)
        ...         model = ScriptedChatModel(responses=["Ok.", "Vegan."])
        ...         agent = create_agent(model, middleware=[memory])
        ...         agent.invoke({"messages": [("user", "I am vegan.")]},
        ...                      context={"user_id": "bob"})
        ...         memory.flush()  # captured in the background: wait for it
        ...         agent.invoke({"messages": [("user", "What do I eat?")]},
        ...                      context={"user_id": "bob"})
        ...         memory.close()
        ...         return model.requests[-1][0].text.splitlines()[2]
        >>> demo("localhost:9090")  # doctest: +SKIP
        '1. user said: I am vegan.'
    """

    def __init__(
        self,
        client: Any = None,
        *,
        async_client: Any = None,
        container: str | None = None,
        context_key: str = "user_id",
        k: int = 5,
        min_salience: float = 0.0,
        max_context_chars: int = 2000,
        context_header: str = DEFAULT_HEADER,
        placement: Placement = "before_human",
        capture: CapturePolicy = "user",
        recall_timeout: float = 5.0,
        actor_id: str = "langchain-agent",
        max_sensitivity: str = "medium",
        capture_sensitivity: str = "low",
        source: str = "langchain-agent",
        embeddings: EmbeddingsLike | None = None,
        candidate_pool: int | None = None,
        extractor: Extractor | Any | None = None,
        write_timeout: float = 10.0,
        flush_timeout: float = 30.0,
        max_pending: int = 1000,
        note_ttl: float | None = None,
        recall_index: RecallIndex | bool | None = None,
    ) -> None:
        """Build from a ``MembraneClient`` and/or an ``AsyncMembraneClient``.

        ``recall_index``: the default (``None``) recalls through the client's recall index or
        the default one for its address (``docs/recall-index.md``); ``False`` recalls in the
        daemon's order; or a :class:`~membrane_integrations.membrane.recall_index.RecallIndex`.
        """
        if client is None and async_client is None:
            raise ValueError("give client= (MembraneClient) and/or async_client=")
        clients = ClientPair.given(client, async_client)
        self.recall_index = attach_to(clients.given_sync, clients.given_async, index=recall_index)
        if not 0.0 <= min_salience <= 1.0:
            raise ValueError("min_salience must be between 0 and 1")
        for name, value in (
            ("max_sensitivity", max_sensitivity),
            ("capture_sensitivity", capture_sensitivity),
        ):
            if value not in _SENSITIVITIES:
                raise ValueError(f"{name} must be one of {', '.join(_SENSITIVITIES)}")
        if not actor_id:
            raise ValueError("actor_id must not be empty")
        if candidate_pool is not None and candidate_pool < 1:
            raise ValueError("candidate_pool must be at least 1")
        self.min_salience = min_salience
        self.actor_id = actor_id
        self.max_sensitivity = max_sensitivity
        self.capture_sensitivity = capture_sensitivity
        self.source = source
        self.embeddings = embeddings
        self.candidate_pool = candidate_pool
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

    def _identity(self, container: str) -> MembraneView:
        Tenancy(container)  # the same container id rule on both backends
        return MembraneView(
            base=TrustContext(
                max_sensitivity=Sensitivity(self.max_sensitivity),
                authenticated=True,
                actor_id=self.actor_id,
                scopes=[container],
            ),
            scope=container,
        )

    def _limit(self) -> int:
        return self.k if self.embeddings is None else candidate_pool(self.k, self.candidate_pool)

    @staticmethod
    def _pairs(records: list[MemoryRecord]) -> list[tuple[str, float]]:
        return [(text, r.salience) for r in records if (text := record_text(r)) is not None]

    def _recall(self, identity: MembraneView, query: str) -> list[str]:
        client = self.clients.for_sync()
        records = recall_records(client, identity, query, self._limit(), self.min_salience)
        pairs = self._pairs(records)
        if self.embeddings is None:
            return [text for text, _ in pairs]
        ranked = rerank(self.embeddings, query, pairs, **self._rerank_args(pairs))
        return [text for text, _ in ranked]

    async def _arecall(self, identity: MembraneView, query: str) -> list[str]:
        client = self.clients.for_async()
        records = await arecall_records(client, identity, query, self._limit(), self.min_salience)
        pairs = self._pairs(records)
        if self.embeddings is None:
            return [text for text, _ in pairs]
        ranked = await arerank(self.embeddings, query, pairs, **self._rerank_args(pairs))
        return [text for text, _ in ranked]

    def _rerank_args(self, pairs: list[tuple[str, float]]) -> dict[str, Any]:
        """How both recalls re-rank ``pairs``: by their texts, salience breaking ties, top k."""
        return {"texts": [t for t, _ in pairs], "salience": [s for _, s in pairs], "k": self.k}

    def _write(
        self,
        identity: MembraneView,
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
            sensitivity=self.capture_sensitivity,
            source=self.source,
            actor=self.actor_id,
            expiry=expiry,
        )
