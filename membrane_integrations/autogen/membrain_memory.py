"""``MembrainMemory``: an AutoGen memory backed by the Membrain HTTP API."""

from __future__ import annotations

from typing import Any

from autogen_core import CancellationToken, Component
from autogen_core.memory import MemoryContent
from typing_extensions import Self

from ..core.errors import InvalidRequestError
from ..membrain import AsyncMembrainClient
from ..membrain._add_token import is_add_token
from ..membrain.recall import arecall
from ..membrain.tenancy import Tenancy
from ._base import BackendMemory, run_linked
from ._membrain_scope import format_of, metadata_to_scope
from ._render import content_to_text, text_to_content
from .config import MembrainMemoryConfig

__all__ = ["MembrainMemory"]


class MembrainMemory(BackendMemory, Component[MembrainMemoryConfig]):
    """Long-term memory for an AutoGen agent, stored in Membrain and confined to one container.

    * ``add`` stores text, markdown or JSON (as readable JSON text) with the container token
      ``container.<id>`` first; metadata becomes scope tokens and the category (see
      :mod:`membrane_integrations.autogen._membrain_scope`). It waits for the ingest job.
    * ``query`` searches with the anchored container filter first, then the config's ``scope``
      and a per-call ``scope=[...]``; each item's metadata has ``id``, ``score``, ``scope`` and
      ``category``.
    * ``update_context`` adds one numbered system message with the memories relevant to the last
      user message; ``clear`` bulk-deletes by the container filter only; ``close`` closes the
      HTTP client if this memory created it.

    Every request runs as a task linked to the ``CancellationToken`` passed in, so cancelling the
    token cancels the request. The API key is read from the config or ``MEMBRAIN_API_KEY`` and is
    never dumped: ``dump_component()`` leaves it out.

    Example (runs against the bundled emulator):
        >>> import asyncio
        >>> from autogen_core.memory import MemoryContent, MemoryMimeType
        >>> from pydantic import SecretStr
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> async def demo(url: str, key: str) -> list[str]:
        ...     memory = MembrainMemory(MembrainMemoryConfig(
        ...         container="bob", base_url=url, api_key=SecretStr(key)))
        ...     await memory.add(MemoryContent(content="Bob is vegan",
        ...                                    mime_type=MemoryMimeType.TEXT,
        ...                                    metadata={"type": "preference"}))
        ...     hits = await memory.query("what does bob eat?")
        ...     await memory.clear()
        ...     await memory.close()
        ...     return [str(item.content) for item in hits.results]
        >>> with MembrainEmulator() as emu:
        ...     asyncio.run(demo(emu.url, emu.api_key))
        ['Bob is vegan']
    """

    component_type = "memory"
    component_config_schema = MembrainMemoryConfig
    component_provider_override = "membrane_integrations.autogen.MembrainMemory"

    def __init__(
        self,
        config: MembrainMemoryConfig,
        *,
        client: AsyncMembrainClient | None = None,
    ) -> None:
        """Use ``client`` if given (this memory will not close it), else build one from config."""
        super().__init__(config)
        self._config = config
        self._tenancy = Tenancy(config.container)
        self._owns_client = client is None
        if client is None:
            client = AsyncMembrainClient(
                config.resolve_api_key(),
                base_url=config.base_url,
                timeout=config.timeout,
                max_retries=config.max_retries,
            )
        self._client = client

    @property
    def config(self) -> MembrainMemoryConfig:
        """This memory's config (the API key inside stays a ``SecretStr``)."""
        return self._config

    @property
    def client(self) -> AsyncMembrainClient:
        """The async Membrain client this memory sends through."""
        return self._client

    def __repr__(self) -> str:
        return f"MembrainMemory(container={self._config.container!r})"

    async def add(
        self, content: MemoryContent, cancellation_token: CancellationToken | None = None
    ) -> None:
        """Store ``content`` in this container and wait until Membrain has ingested it.

        Raises on any failure (including :class:`IngestTimeoutError`, whose ``job_id`` lets the
        caller resume with ``memory.client.wait_for_job``).
        """
        stored = content_to_text(content)
        tokens, category = metadata_to_scope(self._tenancy, content.metadata, stored.fmt)
        await run_linked(
            self._client.add(
                stored.text,
                scope=tokens,
                category=category if category is not None else self._config.category,
                wait=True,
                wait_timeout=self._config.wait_timeout,
            ),
            cancellation_token,
        )

    async def _search(
        self, text: str, limit: int, token: CancellationToken | None, **kwargs: Any
    ) -> list[MemoryContent]:
        extra = kwargs.pop("scope", None)
        if kwargs:
            raise InvalidRequestError(
                f"unknown query argument(s): {', '.join(sorted(kwargs))}; use limit= or scope=",
                field="query",
            )
        found = await run_linked(
            arecall(
                self._client,
                self._tenancy,
                text,
                limit,
                scope=[*self._config.scope, *(extra or [])],
                min_score=self._config.min_score,
            ),
            token,
        )
        items: list[MemoryContent] = []
        # arecall keeps only hits with our container token, at least min_score, k at most.
        for node in found.nodes:
            metadata: dict[str, Any] = {
                "id": node.id,
                "score": node.semantic_score,
                "scope": [t for t in node.scope if not is_add_token(t)],
                "backend": "membrain",
            }
            if node.category is not None:
                metadata["category"] = node.category
            items.append(text_to_content(node.content, format_of(node.scope), metadata))
        return items

    async def clear(self) -> None:
        """Delete every memory of this container (bulk delete by the anchored container filter)."""
        await self._client.delete_bulk(scope=self._tenancy.read_scope(None))

    async def close(self) -> None:
        """Close the HTTP client if this memory created it."""
        if self._owns_client:
            await self._client.aclose()

    def _to_config(self) -> MembrainMemoryConfig:
        return self._config.model_copy()

    @classmethod
    def _from_config(cls, config: MembrainMemoryConfig) -> Self:
        return cls(config)
