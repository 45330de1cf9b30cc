"""``MembraneMemory``: an AutoGen memory backed by the Membrane gRPC daemon."""

from __future__ import annotations

import json
from typing import Any

from autogen_core import CancellationToken, Component
from autogen_core.memory import MemoryContent
from typing_extensions import Self

from ..core.errors import InvalidRequestError
from ..core.rerank import EmbeddingsLike, arerank, candidate_pool
from ..membrane import AsyncMembraneClient
from ..membrane.recall import arecall_records
from ..membrane.recall_index import RecallIndex, attach_to
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, MemoryType, Sensitivity, TrustContext
from ._base import BackendMemory, run_linked
from ._membrane_records import build_ingest, record_to_content
from .config import MembraneMemoryConfig

__all__ = ["MembraneMemory"]


def _item_text(item: MemoryContent) -> str:
    return item.content if isinstance(item.content, str) else json.dumps(item.content)


# Retracted and cleared records have salience 0; any positive floor hides them server-side.
_VISIBLE = 1e-6
_MAX_LIMIT = 10000
_OVERFETCH = 4


class MembraneMemory(BackendMemory, Component[MembraneMemoryConfig]):
    """Long-term memory for an AutoGen agent, stored in Membrane and confined to one container.

    The container is the record ``scope``: every add stores it, every query passes it as the only
    trust scope *and* keeps only records whose scope equals it (the daemon also returns unscoped
    records and redacted copies from other scopes, which this memory never shows).

    * ``add``: ``metadata["kind"]`` picks ``observation`` (default, a durable semantic record),
      ``event``, ``tool_output`` or ``working_state``; ``tags`` map directly; ``sensitivity``
      may raise the record's sensitivity above ``default_sensitivity`` (the floor), never lower
      it; other scalar metadata become ``key.value`` tags (see
      :mod:`membrane_integrations.autogen._membrane_records`).
    * ``query``: each item's metadata has ``id``, ``score`` (the salience), ``type``, ``kind``,
      ``tags`` and ``sensitivity``. Keyword arguments: ``limit``, ``memory_types``.
      Records are ranked for the query by the recall index (on by default: full-text plus
      vectors, see ``docs/recall-index.md``) and each is read back from the daemon under this
      memory's trust; with ``recall_index=False`` the order is the daemon's (by salience,
      whatever the query). ``embeddings=`` (any LangChain ``Embeddings``) further re-ranks:
      the memory then fetches a candidate pool (``candidate_pool``, default 4 x limit, at least 20,
      at most 200) of the container's most salient records, embeds the query and each item's
      text, and returns the closest by cosine similarity (ties by salience). The embeddings
      object is not part of the dumped config (it may hold its own credentials): pass it again
      after ``load_component``.
    * ``clear``: the daemon has no bulk delete, so every live record of the container is
      retracted; episodic records (events, tool outputs) are immutable, so they are penalised to
      salience 0 instead, which hides them at once and lets the decay pass prune them.
    * ``close`` closes the gRPC channel if this memory opened it.

    Example (needs a running daemon at ``addr``):
        >>> import asyncio
        >>> from autogen_core.memory import MemoryContent
        >>> async def demo(addr: str) -> list[str]:  # doctest: +SKIP
        ...     memory = MembraneMemory(MembraneMemoryConfig(container="bob", addr=addr))
        ...     await memory.add(MemoryContent(content="Bob is vegan", mime_type="text/plain",
        ...                                    metadata={"predicate": "diet"}))
        ...     hits = await memory.query("what does bob eat?")
        ...     await memory.clear()
        ...     await memory.close()
        ...     return [str(item.content) for item in hits.results]
        >>> asyncio.run(demo("localhost:9090"))  # doctest: +SKIP
        ['user diet Bob is vegan']
    """

    component_type = "memory"
    component_config_schema = MembraneMemoryConfig
    component_provider_override = "membrane_integrations.autogen.MembraneMemory"

    def __init__(
        self,
        config: MembraneMemoryConfig,
        *,
        client: AsyncMembraneClient | None = None,
        embeddings: EmbeddingsLike | None = None,
        candidate_pool: int | None = None,
        recall_index: RecallIndex | bool | None = None,
    ) -> None:
        """Use ``client`` if given (this memory will not close it), else connect per config.

        ``embeddings`` turns on client-side re-ranking of ``candidate_pool`` records per query.
        ``recall_index``: ``None`` (default) queries through the client's recall index or the
        default one (``docs/recall-index.md``), ``False`` in the daemon's order.
        """
        super().__init__(config)
        if candidate_pool is not None and candidate_pool < 1:
            raise ValueError("candidate_pool must be at least 1")
        self._config = config
        # The container is both the only trust scope and the only scope in view.
        self._view = MembraneView(
            base=TrustContext(
                max_sensitivity=Sensitivity(config.max_sensitivity),
                authenticated=True,
                actor_id=config.actor_id,
                scopes=[config.container],
            ),
            scope=config.container,
            floor=config.default_sensitivity,
        )
        self._embeddings = embeddings
        self._candidate_pool = candidate_pool
        self._owns_client = client is None
        if client is None:
            client = AsyncMembraneClient(
                config.addr,
                tls=config.tls,
                tls_ca_cert=config.tls_ca_cert,
                api_key=config.resolve_api_key(),
                timeout=config.timeout,
            )
        self._client = client
        self._recall_index = attach_to(client, index=recall_index)

    @property
    def config(self) -> MembraneMemoryConfig:
        """This memory's config (the API key inside stays a ``SecretStr``)."""
        return self._config

    @property
    def client(self) -> AsyncMembraneClient:
        """The async Membrane client this memory sends through."""
        return self._client

    def __repr__(self) -> str:
        return f"MembraneMemory(container={self._config.container!r})"

    def _own(self, record: MemoryRecord) -> bool:
        # salience 0 is a cleared (penalized) episodic record: gone for this memory
        return self._view.visible(record) and record.salience > 0.0

    async def add(
        self, content: MemoryContent, cancellation_token: CancellationToken | None = None
    ) -> None:
        """Store ``content`` in this container with the ingest RPC its ``kind`` picks."""
        call = build_ingest(self._config.container, content, self._config)
        method = getattr(self._client, f"ingest_{call.kind}")
        await run_linked(method(**call.kwargs), cancellation_token)

    async def _records(
        self,
        text: str,
        limit: int,
        token: CancellationToken | None,
        *,
        max_sensitivity: str,
        memory_types: list[MemoryType] | None,
    ) -> list[MemoryRecord]:
        """This container's live records, in daemon order, at most ``limit`` (0: all)."""
        fetch = 0 if limit == 0 else min(_MAX_LIMIT, max(limit * _OVERFETCH, 20))
        while True:
            records = await run_linked(
                self._client.retrieve(
                    text,
                    trust=self._view.trust_with(max_sensitivity=Sensitivity(max_sensitivity)),
                    memory_types=memory_types,
                    min_salience=max(self._config.min_salience, _VISIBLE),
                    limit=fetch,
                ),
                token,
            )
            own = [r for r in records if self._own(r)]
            # Foreign unscoped records may have taken places under the limit: fetch them all.
            if fetch == 0 or len(own) >= limit or len(records) < fetch:
                return own if limit == 0 else own[:limit]
            fetch = 0

    async def _search(
        self, text: str, limit: int, token: CancellationToken | None, **kwargs: Any
    ) -> list[MemoryContent]:
        types = kwargs.pop("memory_types", None)
        if kwargs:
            raise InvalidRequestError(
                f"unknown query argument(s): {', '.join(sorted(kwargs))}; "
                "use limit= or memory_types=",
                field="query",
            )
        try:
            memory_types = [MemoryType(t) for t in types] if types is not None else None
        except ValueError as exc:
            raise InvalidRequestError(f"invalid memory_types: {exc}", field="query") from exc
        fetch = limit
        if self._embeddings is not None and limit > 0:
            fetch = candidate_pool(limit, self._candidate_pool)
        if self._recall_index is not None and limit > 0:
            records = await run_linked(
                arecall_records(
                    self._client,
                    self._view,
                    text,
                    fetch,
                    self._config.min_salience,
                    memory_types=memory_types,
                ),
                token,
            )
        else:
            records = await self._records(
                text,
                fetch,
                token,
                max_sensitivity=self._config.max_sensitivity,
                memory_types=memory_types,
            )
        items = [item for item in (record_to_content(r, self._config) for r in records) if item]
        if self._embeddings is None:
            return items
        return await arerank(
            self._embeddings,
            text,
            items,
            texts=_item_text,
            salience=[float((i.metadata or {}).get("salience") or 0.0) for i in items],
            k=limit or None,
        )

    async def clear(self) -> None:
        """Retract (or, for immutable episodic records, zero) every live record of the container."""
        records = await self._records(
            "", 0, None, max_sensitivity=Sensitivity.HYPER.value, memory_types=None
        )
        rationale = f"cleared by MembraneMemory for container {self._config.container!r}"
        for record in records:
            if record.type is MemoryType.EPISODIC:
                await self._client.penalize(
                    record.id,
                    amount=max(1.0, record.salience),
                    actor=self._config.actor_id,
                    rationale=rationale,
                )
            else:
                await self._client.retract(
                    record.id, actor=self._config.actor_id, rationale=rationale
                )

    async def close(self) -> None:
        """Close the gRPC channel if this memory opened it."""
        if self._owns_client:
            await self._client.close()

    def _to_config(self) -> MembraneMemoryConfig:
        return self._config.model_copy()

    @classmethod
    def _from_config(cls, config: MembraneMemoryConfig) -> Self:
        return cls(config)
