"""``MembraneRetriever``: Membrane records as LangChain ``Document``s (``membrane`` extra).

Example:
    >>> from membrane_integrations.membrane import MemoryRecord, MemoryType, SemanticPayload
    >>> record = MemoryRecord(id="r1", type=MemoryType.SEMANTIC, scope="p", tags=["lang"],
    ...     payload=SemanticPayload(subject="user", predicate="prefers", object="Python"))
    >>> doc = record_document(record)
    >>> doc.id, doc.page_content, doc.metadata["type"], doc.metadata["redacted"]
    ('r1', 'user prefers Python', 'semantic', False)
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.documents import Document
from pydantic import Field, SkipValidation, model_validator

from ..core.rerank import arerank, candidate_pool, rerank
from ..membrane.client import AsyncMembraneClient, MembraneClient
from ..membrane.recall_index import attach_to
from ..membrane.tenancy import MembraneView
from ..membrane.types import MemoryRecord, TrustContext
from ..tools._format_membrane import render_payload
from ._driver import Plan, call, local
from ._retriever import PlannedRetriever

__all__ = ["MembraneRetriever", "record_document"]

MemoryTypeName = Literal["episodic", "working", "semantic", "competence", "plan_graph"]


def _value(value: Any) -> Any:
    return getattr(value, "value", value)


def record_document(record: MemoryRecord) -> Document:
    """One record as a document: readable payload, and its id, type, scores and labels."""
    return Document(
        id=record.id,
        page_content=render_payload(record),
        metadata={
            "id": record.id,
            "type": _value(record.type),
            "sensitivity": _value(record.sensitivity),
            "salience": record.salience,
            "confidence": record.confidence,
            "tags": list(record.tags),
            "scope": record.scope,
            "redacted": record.redacted,
        },
    )


class MembraneRetriever(PlannedRetriever):
    """Membrane ``Retrieve`` as a LangChain retriever.

    Setup:
        ``pip install membrane-integrations[langchain,membrane]`` and a running membraned.

    Instantiate:
        ``MembraneRetriever(client=MembraneClient("localhost:9090"), trust=TrustContext(
        max_sensitivity=Sensitivity.MEDIUM), scope="project-x", k=5)``; it works under
        ``ainvoke`` too (an ``AsyncMembraneClient`` with the same settings is derived inside
        the running loop on first use, and closed by ``close()`` / ``await aclose()`` or on
        garbage collection), and so does one built with only ``async_client=``. ``memory_types`` and
        ``min_salience`` narrow the layers; ``redacted="mark"`` keeps records above the
        sensitivity ceiling as ``[redacted]`` documents (``metadata["redacted"] is True``),
        the default ``"skip"`` leaves them out. With ``scope``, only records of that scope are
        returned (and ``trust.scopes`` defaults to it).

    Ranking:
        By default the recall index ranks the records for the query (full-text plus vectors,
        see ``docs/recall-index.md``) and each is read back from the daemon by id under
        ``trust``, which alone decides what is returned. ``redacted="mark"`` (read by id, a
        record is never redacted, only refused) and ``recall_index=False`` use the
        daemon's own order (by salience whatever the query on its default SQLite store).
        ``embeddings=`` (any LangChain ``Embeddings``) further re-ranks a candidate pool
        (``candidate_pool``, default 4 x k, at least 20, at most 200) by cosine similarity of
        the query and each document's ``page_content``, ties broken by salience.

    Invoke:
        >>> from membrane_integrations.membrane import MembraneClient
        >>> retriever = MembraneRetriever(client=MembraneClient("127.0.0.1:9"), k=3)
        >>> retriever.k, retriever.redacted
        (3, 'skip')

        ``retriever.invoke("fix the login bug", k=2)`` returns at most 2 ``Document``s with
        ``id`` set and metadata ``id``, ``type``, ``sensitivity``, ``salience``,
        ``confidence``, ``tags``, ``scope``, ``redacted``.
    """

    _client_names = "client= (MembraneClient) and/or async_client="

    trust: SkipValidation[TrustContext] = Field(default_factory=TrustContext)
    scope: str = ""
    k: int = Field(default=5, ge=1, le=100)
    memory_types: list[MemoryTypeName] | None = None
    min_salience: float = Field(default=0.0, ge=0.0, le=1.0)
    redacted: Literal["skip", "mark"] = "skip"
    embeddings: SkipValidation[Any] = Field(default=None, exclude=True, repr=False)
    candidate_pool: int | None = Field(default=None, ge=1, le=10000)
    recall_index: SkipValidation[Any] = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _attach_index(self) -> Any:
        # before any client is derived, so derived clients share the index
        self.recall_index = attach_to(self.client, self.async_client, index=self.recall_index)
        return self

    @property
    def view(self) -> MembraneView:
        """The tenancy rule this retriever applies (trust sent, records kept)."""
        return MembraneView(
            base=self.trust, scope=self.scope, include_redacted=self.redacted == "mark"
        )

    def _plan(self, query: str, k: int | None) -> Plan[list[Document]]:
        size = self.k if k is None else k
        view = self.view
        pool = size if self.embeddings is None else candidate_pool(size, self.candidate_pool)
        if self.recall_index is not None and self.redacted == "skip":
            recalled: list[MemoryRecord] = yield call(
                MembraneClient.recall,
                AsyncMembraneClient.recall,
                query,
                view=view,
                limit=pool,
                min_salience=self.min_salience,
                memory_types=self.memory_types,
            )
            docs = [record_document(r) for r in recalled]
            return (yield from self._ranked(query, docs, size))
        records: list[MemoryRecord] = yield call(
            MembraneClient.retrieve,
            AsyncMembraneClient.retrieve,
            query,
            trust=view.trust,
            memory_types=self.memory_types,
            min_salience=self.min_salience,
            # ask for more: out-of-scope and redacted records are dropped afterwards
            limit=min(size * 3, 100)
            if self.embeddings is None
            else candidate_pool(size, self.candidate_pool),
        )
        docs = [record_document(r) for r in records if view.visible(r)]
        return (yield from self._ranked(query, docs, size))

    def _ranked(self, query: str, docs: list[Document], size: int) -> Plan[list[Document]]:
        if self.embeddings is None:
            return docs[:size]
        ranked: list[Document] = yield local(
            rerank,
            arerank,
            self.embeddings,
            query,
            docs,
            texts=[d.page_content for d in docs],
            salience=[float(d.metadata.get("salience") or 0.0) for d in docs],
            k=size,
        )
        return ranked
