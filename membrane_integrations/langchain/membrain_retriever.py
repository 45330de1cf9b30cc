"""``MembrainRetriever``: Membrain search hits as LangChain ``Document``s.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     _ = client.add("The team deploys on Fridays", scope=["container.doc-ops"])
    ...     retriever = MembrainRetriever(client=client, container="doc-ops", k=1)
    ...     docs = retriever.invoke("When does the team deploy?")
    ...     print(docs[0].page_content, docs[0].metadata["type"])
    The team deploys on Fridays memory_node
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.documents import Document
from pydantic import Field, model_validator

from ..membrain._add_token import is_add_token
from ..membrain.models import MemoryNode, SearchResponse
from ..membrain.recall import recall_plan
from ..membrain.tenancy import Tenancy
from ._driver import Plan
from ._retriever import PlannedRetriever

__all__ = ["MembrainRetriever", "search_documents"]


def search_documents(
    response: SearchResponse, *, k: int, include_edges: bool, include_related: bool
) -> list[Document]:
    """Turn a search reply into at most ``k`` documents (memory nodes first in server order).

    An interpreted summary, when present, becomes one extra leading document of type
    ``interpreted`` (it does not count towards ``k``).
    """
    docs: list[Document] = []
    if response.interpreted is not None and response.interpreted.answer_summary:
        docs.append(
            Document(
                page_content=response.interpreted.answer_summary,
                metadata={
                    "type": "interpreted",
                    "key_facts": list(response.interpreted.key_facts),
                    "supporting_memory_ids": list(response.interpreted.supporting_memory_ids),
                    "confidence": response.interpreted.confidence,
                },
            )
        )
    hits: list[Document] = []
    for hit in response.results:
        if isinstance(hit, MemoryNode):
            metadata: dict[str, Any] = {
                "type": hit.type,
                "memory_id": hit.id,
                "scope": [t for t in hit.scope if not is_add_token(t)],
                "category": hit.category,
                "semantic_score": hit.semantic_score,
            }
            if include_related:
                metadata["related_memories"] = [
                    r.model_dump(mode="json", exclude_none=True) for r in hit.related_memories
                ]
            hits.append(Document(id=hit.id, page_content=hit.content, metadata=metadata))
        elif include_edges:
            hits.append(
                Document(
                    id=f"edge:{hit.source.id}:{hit.target.id}",
                    page_content=hit.description,
                    metadata={
                        "type": hit.type,
                        "source": hit.source.id,
                        "target": hit.target.id,
                        "semantic_score": hit.score,
                    },
                )
            )
    return docs + hits[:k]


class MembrainRetriever(PlannedRetriever):
    """Membrain semantic search as a LangChain retriever.

    Setup:
        ``pip install membrane-integrations[langchain]``; a Membrain URL and API key, or the
        bundled emulator (``python -m membrane_integrations emulator``).

    Instantiate:
        ``MembrainRetriever(client=MembrainClient(key), container="bob", k=5)``. It works under
        ``invoke`` and ``ainvoke`` alike: the missing flavour is derived from the given client
        on first use (``to_async()`` inside the running loop) and closed by ``close()`` /
        ``await aclose()`` or on garbage collection. ``scope`` adds regex patterns ANDed after
        the container filter.

    Invoke:
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> with MembrainEmulator() as emu, emu.client() as client:
        ...     _ = client.add("User's favourite colour is teal", scope=["container.doc-di"])
        ...     retriever = MembrainRetriever(client=client, container="doc-di", k=2)
        ...     doc = retriever.invoke("What colour does the user like?")[0]
        ...     print(doc.id == doc.metadata["memory_id"], doc.metadata["scope"])
        True ['container.doc-di']

    Documents carry ``id`` (the memory id) and metadata ``memory_id``, ``scope``,
    ``category``, ``semantic_score``, ``related_memories`` (when ``include_related``) and
    ``type``. Relationship edges become documents (``type="relationship_edge"``) only with
    ``include_edges=True``. ``invoke(query, k=3)`` overrides ``k`` per call.

    Recall (:mod:`membrane_integrations.membrain.recall`, shared by every Membrain surface):
    Membrain's ``k`` counts nodes *and* edges, so the retriever asks for a larger pool, keeps
    the container's memory nodes, orders them by the package's hybrid ranking (BM25 over their
    texts fused with the server's scores) and returns ``k`` memories; with
    ``include_edges=True`` the edges touching them follow (they never take a memory's place).
    ``rerank`` defaults to ``None``, meaning "a server-reranked pool unless edges are wanted";
    ``False`` asks for the raw graph ranking, where edges share the pool with the memories
    (fewer memories to choose from).
    """

    _client_names = "client= (MembrainClient) and/or async_client="

    k: int = Field(default=5, ge=1, le=100)
    scope: list[str] | None = None
    container: str | None = None
    response_format: Literal["raw", "interpreted", "both"] = "raw"
    rerank: bool | None = None
    include_edges: bool = False
    include_related: bool = True

    @model_validator(mode="after")
    def _check(self) -> MembrainRetriever:
        Tenancy(self.container).read_scope(self.scope)  # fail early on bad ids or patterns
        return self

    def _plan(self, query: str, k: int | None) -> Plan[list[Document]]:
        size = self.k if k is None else k
        tenancy = Tenancy(self.container)
        chosen = yield from recall_plan(
            tenancy,
            query,
            size,
            scope=self.scope,
            rerank=(not self.include_edges) if self.rerank is None else self.rerank,
            response_format=self.response_format,
        )
        # k memories; with include_edges, the edges touching them come after (not counted)
        return search_documents(
            chosen,
            k=len(chosen.results),
            include_edges=self.include_edges,
            include_related=self.include_related,
        )
