"""The base of both retrievers: a search written once as a plan, run sync or async.

A retriever writes ``_plan(query, k)``, a generator of adapter calls returning the documents
(see :mod:`._driver`); ``invoke`` drives it over the sync client and ``ainvoke`` over the async
one, each derived from the other when only one was given (see :mod:`._clients`).
"""

from __future__ import annotations

from abc import abstractmethod

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from ._clients import WithClients
from ._driver import Plan, drive_async, drive_sync

__all__ = ["PlannedRetriever"]


class PlannedRetriever(WithClients, BaseRetriever):
    """A retriever whose one search is a plan; ``invoke(query, k=3)`` overrides ``k``."""

    @abstractmethod
    def _plan(self, query: str, k: int | None) -> Plan[list[Document]]:
        """The calls one search makes, returning the documents."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return drive_sync(self._plan(query, k), self.clients.for_sync())

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        return await drive_async(self._plan(query, k), self.clients.for_async())
