"""What both AutoGen memories share: cancellation, the ``on_error`` policy and update_context.

A subclass implements ``_search`` (one backend query, already confined to the container) and
the :class:`~autogen_core.memory.Memory` methods that write. This base turns a query into
``MemoryContent`` items, renders them as one system message, and links every request to the
caller's :class:`~autogen_core.CancellationToken`.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import Awaitable
from typing import Any, TypeVar

from autogen_core import CancellationToken
from autogen_core.memory import Memory, MemoryContent, MemoryQueryResult, UpdateContextResult
from autogen_core.model_context import ChatCompletionContext
from autogen_core.models import SystemMessage

from ..core.errors import InvalidRequestError, MembraneIntegrationsError, redact
from ._render import last_user_text, query_text, render_memories
from .config import _MemoryConfig

__all__ = ["BackendMemory", "run_linked"]

T = TypeVar("T")
logger = logging.getLogger("membrane_integrations.autogen")


async def run_linked(call: Awaitable[T], token: CancellationToken | None) -> T:
    """Await ``call`` as a task linked to ``token``: cancelling the token cancels the request.

    The cancellation reaches the awaiting caller as :class:`asyncio.CancelledError`.
    """
    if token is None:
        return await call
    if token.is_cancelled():
        if asyncio.iscoroutine(call):
            call.close()
        raise asyncio.CancelledError("the cancellation token was already cancelled")
    task = asyncio.ensure_future(call)
    token.link_future(task)
    return await task


def _is_own_check(exc: MembraneIntegrationsError) -> bool:
    # Our own argument checks are programming errors: on_error="empty" must not hide them.
    return (
        isinstance(exc, InvalidRequestError) and exc.status_code is None and exc.grpc_code is None
    )


class BackendMemory(Memory):
    """Shared behaviour of :class:`MembrainMemory` and :class:`MembraneMemory`."""

    _backend_name = "memory"

    def __init__(self, config: _MemoryConfig) -> None:
        self._base_config = config

    @abstractmethod
    async def _search(
        self, text: str, limit: int, token: CancellationToken | None, **kwargs: Any
    ) -> list[MemoryContent]:
        """Query the backend within this memory's container; best first."""

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._base_config.resolve_api_key(),)

    def _warn(self, operation: str, exc: BaseException) -> None:
        # Error messages are already redacted; scrub the configured key once more regardless.
        detail = redact(f"{type(exc).__name__}: {exc}", *self._secrets())
        logger.warning(
            "%s %s failed for container %r; returning no memories (on_error='empty'): %s",
            type(self).__name__,
            operation,
            self._base_config.container,
            detail,
        )

    async def query(
        self,
        query: str | MemoryContent,
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        """Memories of this container relevant to ``query``, best first.

        Keyword arguments: ``limit`` (default: the config's ``k``) and backend-specific filters.
        Each item's metadata carries ``id`` and ``score``. Raises on failure unless the config
        says ``on_error="empty"``; an invalid query always raises.
        """
        text = query_text(query)
        limit = int(kwargs.pop("limit", kwargs.pop("k", self._base_config.k)))
        if limit < 1:
            raise InvalidRequestError("limit must be at least 1", field="limit")
        try:
            items = await self._search(text, limit, cancellation_token, **kwargs)
        except MembraneIntegrationsError as exc:
            if self._base_config.on_error != "empty" or _is_own_check(exc):
                raise
            self._warn("query", exc)
            items = []
        return MemoryQueryResult(results=items[:limit])

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Query with the last user message and add one system message listing the memories.

        The message is numbered, de-duplicated and trimmed to ``max_context_chars``; nothing is
        added when no memory is found or there is no user message. Returns the memories listed.
        """
        messages = await model_context.get_messages()
        text = last_user_text(messages)
        if text is None:
            return UpdateContextResult(memories=MemoryQueryResult(results=[]))
        result = await self.query(text)
        config = self._base_config
        message, kept = render_memories(
            result.results, budget=config.max_context_chars, header=config.context_header
        )
        if message is not None:
            await model_context.add_message(SystemMessage(content=message))
        return UpdateContextResult(memories=MemoryQueryResult(results=kept))
