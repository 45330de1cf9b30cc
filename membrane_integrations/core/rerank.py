"""Client-side re-ranking of a candidate pool by embedding similarity (pure, no I/O of its own).

Membrane's default SQLite store ranks ``Retrieve`` results by salience only: the query text has
no effect on the order (spec 4.10, 4.15). The retriever and the memory component can therefore
ask for a larger pool of candidates and re-order it here: embed the query and each candidate's
text with any LangChain-style ``Embeddings`` (``embed_query`` / ``embed_documents``, and
``aembed_query`` / ``aembed_documents`` when awaited), sort by cosine similarity, break ties by
salience, then by the server's order. The embedder is the only thing that talks to the outside.

Example:
    >>> class Letters:  # a toy embedder: counts of a, b, c
    ...     def embed_query(self, text: str) -> list[float]:
    ...         return [float(text.count(c)) for c in "abc"]
    ...     def embed_documents(self, texts: list[str]) -> list[list[float]]:
    ...         return [self.embed_query(t) for t in texts]
    >>> items = ["cc", "ab", "bb"]
    >>> rerank(Letters(), "b", items, texts=items, salience=[0.9, 0.5, 0.1], k=2)
    ['bb', 'ab']
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = [
    "DEFAULT_POOL_CAP",
    "EmbeddingsLike",
    "arerank",
    "candidate_pool",
    "cosine",
    "order_by_similarity",
    "rerank",
]

T = TypeVar("T")

#: Most candidates fetched for one re-ranked query (the retriever's own ``k`` cap is 100).
DEFAULT_POOL_CAP = 200
_POOL_FACTOR = 4
_POOL_FLOOR = 20


@runtime_checkable
class EmbeddingsLike(Protocol):
    """What re-ranking needs of an embedder: LangChain ``Embeddings``' two sync methods."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def candidate_pool(k: int, pool: int | None = None, *, cap: int = DEFAULT_POOL_CAP) -> int:
    """How many candidates to fetch for ``k`` results: ``pool`` if given, else 4 x k (>= 20).

    >>> candidate_pool(5), candidate_pool(30), candidate_pool(100), candidate_pool(5, 8)
    (20, 120, 200, 8)
    """
    if pool is not None:
        if pool < 1:
            raise ValueError("candidate_pool must be at least 1")
        return max(pool, k)
    return max(k, min(cap, max(k * _POOL_FACTOR, _POOL_FLOOR)))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0.0 when either vector is all zeros.

    >>> round(cosine([1.0, 0.0], [1.0, 1.0]), 3)
    0.707
    """
    if len(a) != len(b):
        raise ValueError(f"embedding sizes differ: {len(a)} vs {len(b)}")
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


def order_by_similarity(
    query: Sequence[float],
    vectors: Sequence[Sequence[float]],
    salience: Sequence[float],
) -> list[int]:
    """Indexes of ``vectors`` by cosine to ``query`` (desc), then salience (desc), then index.

    >>> order_by_similarity([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], [0.9, 0.2, 0.8])
    [2, 1, 0]
    """
    if len(vectors) != len(salience):
        raise ValueError("one salience per vector is needed")
    scores = [cosine(query, v) for v in vectors]
    return sorted(range(len(vectors)), key=lambda i: (-scores[i], -salience[i], i))


def _check(vectors: list[list[float]], count: int) -> list[list[float]]:
    if len(vectors) != count:
        raise ValueError(f"the embedder returned {len(vectors)} embeddings for {count} texts")
    return vectors


def _select(
    items: Sequence[T],
    query_vector: Sequence[float],
    vectors: list[list[float]],
    salience: Sequence[float],
    k: int | None,
) -> list[T]:
    order = order_by_similarity(query_vector, _check(vectors, len(items)), salience)
    ranked = [items[i] for i in order]
    return ranked if k is None else ranked[:k]


def _texts(items: Sequence[T], texts: Sequence[str] | Callable[[T], str]) -> list[str]:
    out = [texts(item) for item in items] if callable(texts) else list(texts)
    if len(out) != len(items):
        raise ValueError("one text per item is needed")
    return out


def rerank(
    embeddings: EmbeddingsLike,
    query: str,
    items: Sequence[T],
    *,
    texts: Sequence[str] | Callable[[T], str],
    salience: Sequence[float],
    k: int | None = None,
) -> list[T]:
    """``items`` re-ordered by similarity of their ``texts`` to ``query``, at most ``k``."""
    if not items:
        return []
    docs = _texts(items, texts)
    return _select(
        items, embeddings.embed_query(query), embeddings.embed_documents(docs), salience, k
    )


async def _maybe_async(embeddings: Any, name: str, arg: Any) -> Any:
    method = getattr(embeddings, f"a{name}", None)
    if method is not None and inspect.iscoroutinefunction(method):
        return await method(arg)
    return getattr(embeddings, name)(arg)


async def arerank(
    embeddings: EmbeddingsLike,
    query: str,
    items: Sequence[T],
    *,
    texts: Sequence[str] | Callable[[T], str],
    salience: Sequence[float],
    k: int | None = None,
) -> list[T]:
    """Like :func:`rerank`, awaiting ``aembed_query`` / ``aembed_documents`` when present."""
    if not items:
        return []
    docs = _texts(items, texts)
    query_vector = await _maybe_async(embeddings, "embed_query", query)
    vectors = await _maybe_async(embeddings, "embed_documents", docs)
    return _select(items, query_vector, vectors, salience, k)
