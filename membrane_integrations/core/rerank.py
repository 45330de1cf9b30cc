"""Client-side re-ranking of a candidate pool (thin wrappers over :mod:`.ranking`).

Membrane's default SQLite store ranks ``Retrieve`` results by salience only: the query text has
no effect on the order (spec 4.10, 4.15). The retriever and the memory component can therefore
ask for a larger pool of candidates and re-order it with the package's one hybrid ranking
(:func:`membrane_integrations.core.ranking.hybrid_order`): BM25 over the candidates' texts fused
with the cosine of their embeddings by any LangChain-style ``Embeddings`` (``embed_query`` /
``embed_documents``, and ``aembed_query`` / ``aembed_documents`` when awaited); ties by
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

from collections.abc import Callable, Sequence
from typing import TypeVar

from .ranking import (
    EmbeddingsLike,
    ahybrid_order,
    fuse,
    hybrid_order,
    semantic_scores,
)

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
    return float(semantic_scores(a, [b])[0]) if len(a) else 0.0


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
    if not vectors:
        return []
    semantic = semantic_scores(query, vectors)
    return fuse(semantic, None, salience)


def _texts(items: Sequence[T], texts: Sequence[str] | Callable[[T], str]) -> list[str]:
    out = [texts(item) for item in items] if callable(texts) else list(texts)
    if len(out) != len(items):
        raise ValueError("one text per item is needed")
    return out


def _cut(items: Sequence[T], order: list[int], k: int | None) -> list[T]:
    ranked = [items[i] for i in order]
    return ranked if k is None else ranked[:k]


def rerank(
    embeddings: EmbeddingsLike,
    query: str,
    items: Sequence[T],
    *,
    texts: Sequence[str] | Callable[[T], str],
    salience: Sequence[float],
    k: int | None = None,
) -> list[T]:
    """``items`` re-ordered for ``query`` by :func:`.ranking.hybrid_order`, at most ``k``."""
    if not items:
        return []
    docs = _texts(items, texts)
    return _cut(items, hybrid_order(query, docs, embeddings=embeddings, salience=salience), k)


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
    order = await ahybrid_order(query, docs, embeddings=embeddings, salience=salience)
    return _cut(items, order, k)
