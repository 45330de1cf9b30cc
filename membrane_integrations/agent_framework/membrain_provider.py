"""``MembrainContextProvider``: long-term memory for an Agent Framework agent, from Membrain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agent_framework import Message

from ..core.errors import IngestTimeoutError
from ..core.scope import escape_literal
from ..membrain import AsyncMembrainClient
from ..membrain.recall import arecall
from ..membrain.tenancy import Tenancy
from ._base import BackendContextProvider, logger
from ._messages import role_of
from .config import MembrainContextConfig
from .identity import MembrainIdentity

__all__ = ["MembrainContextProvider"]


class MembrainContextProvider(BackendContextProvider[MembrainContextConfig, MembrainIdentity]):
    """An Agent Framework context provider that recalls from and captures into Membrain.

    * **Before each run** it searches the identity's container for the run's new user input
      (``k`` hits, ``min_score`` floor, anchored container filter first, then the config's
      ``scope``), drops duplicates, fits them into ``max_context_chars`` and adds one context
      message that says it is recalled data, not instructions. A failed or slow
      (``recall_timeout``) recall is logged and the run goes on.
    * **After each run** it stores the run's messages under ``capture`` (``off``, ``user``,
      ``user_and_assistant``), each with the tokens ``role.<role>`` and ``msg.<key>``; the key
      names the message (its id, else its contents) in the container, and a message already in
      the session's ledger or already on the server is not stored again. The recalled context is
      never stored. A failed capture is logged (with the ingest job id when there is one) and the
      reply is returned as usual.
    * **Identity** comes from the application: ``provider.identity(container=...)`` for a run,
      ``provider.bind_session(session, container=...)`` for a thread, else the config's
      ``container`` (see :mod:`membrane_integrations.agent_framework.identity`).
    * ``to_dict()`` / ``from_dict()`` (the framework's serialisation) round-trip the provider
      without the API key; it is read again from ``MEMBRAIN_API_KEY`` or passed in the config.

    Example (an offline agent against the bundled emulator):
        >>> import asyncio
        >>> from agent_framework import Agent
        >>> from pydantic import SecretStr
        >>> from membrane_integrations.agent_framework.testing import ScriptedChatClient
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> async def demo(url: str, key: str) -> str:
        ...     config = MembrainContextConfig(base_url=url, api_key=SecretStr(key))
        ...     async with MembrainContextProvider(config) as memory:
        ...         chat = ScriptedChatClient(["Noted.", "You are vegan."])
        ...         agent = Agent(client=chat, context_providers=[memory])
        ...         with memory.identity(container="bob"):
        ...             await agent.run("I am vegan.")
        ...             await agent.run("What do I eat?", session=agent.create_session())
        ...         return chat.requests[1][0].text.splitlines()[1]
        >>> with MembrainEmulator() as emu:
        ...     asyncio.run(demo(emu.url, emu.api_key))
        '1. I am vegan.'
    """

    DEFAULT_SOURCE_ID: ClassVar[str] = "membrain"
    _config_type = MembrainContextConfig
    _identity_type = MembrainIdentity

    def __init__(
        self,
        config: MembrainContextConfig | Mapping[str, Any] | None = None,
        *,
        client: AsyncMembrainClient | None = None,
        source_id: str | None = None,
    ) -> None:
        """Use ``client`` if given (this provider will not close it), else build one."""
        super().__init__(config, source_id=source_id)
        self._owns_client = client is None
        if client is None:
            client = AsyncMembrainClient(
                self._config.resolve_api_key(),
                base_url=self._config.base_url,
                timeout=self._config.timeout,
                max_retries=self._config.max_retries,
            )
        self._client = client

    @property
    def client(self) -> AsyncMembrainClient:
        """The async Membrain client this provider sends through."""
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client if this provider created it."""
        if self._owns_client:
            await self._client.aclose()

    async def _recall(self, identity: MembrainIdentity, query: str) -> list[str]:
        found = await arecall(
            self._client,
            Tenancy(identity.container),
            query,
            self._config.k,
            scope=self._config.scope,
            min_score=self._config.min_score,
        )
        # arecall keeps only hits with our container token: never another tenant's.
        return [node.content for node in found.nodes]

    async def _capture(self, identity: MembrainIdentity, message: Message, key: str) -> None:
        tenancy = Tenancy(identity.container)
        token = f"msg.{key}"
        # The session ledger may be gone (a new process, a session never saved): ask the server.
        found = await self._client.count(scope=tenancy.read_scope([f"^{escape_literal(token)}$"]))
        if found:
            return
        role = role_of(message)
        try:
            await self._client.add(
                message.text,
                scope=tenancy.write_tokens([f"role.{role}", token]),
                category=self._config.category,
                wait=True,
                wait_timeout=self._config.wait_timeout,
            )
        except IngestTimeoutError as exc:
            # Queued, not lost: sending it again would store it twice.
            logger.warning(
                "MembrainContextProvider capture for container %r is still ingesting as job "
                "%s; it is not sent again",
                identity.container,
                exc.job_id,
            )
