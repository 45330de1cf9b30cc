"""The one hybrid ranking: lexical (BM25) and semantic (cosine) scores fused (pure, no I/O).

Every client-side re-rank in the package orders candidates here, and a recall index that keeps
its own lexical terms produces them with :func:`tokenize`, so BM25 here and full-text search
there see the same words.

* :func:`tokenize`: the lexical analyser (lowercase unicode words, stop words dropped, a light
  suffix stemmer that needs no data).
* :func:`lexical_scores`: BM25 (``bm25s``' scoring, for the query's terms only) over exactly
  the given texts.
* :func:`semantic_scores`: cosine of one query vector against many, vectorised.
* :func:`rank_fusion`: reciprocal-rank fusion of ranked lists of ids (for an index that runs
  its own lexical and vector searches).
* :func:`hybrid_order` / :func:`ahybrid_order`: the order of ``texts`` for a query: BM25 and,
  when an embedder, vectors or precomputed semantic scores are given, BM25 and cosine fused
  (:data:`DEFAULT_FUSION`); ties by salience, then input order. Any LangChain ``Embeddings``
  plugs in.

Example:
    >>> texts = ["We deployed on Friday.", "I drink green tea.", "Tea, always tea."]
    >>> hybrid_order("what tea does she drink?", texts)
    [1, 2, 0]
    >>> hybrid_order("tea", texts, semantic=[0.9, 0.1, 0.2])  # e.g. a server's own scores
    [2, 0, 1]
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypeVar, runtime_checkable

from .stopwords import STOP_WORDS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "BM25_B",
    "BM25_K1",
    "DEFAULT_FUSION",
    "DEFAULT_RRF_CONSTANT",
    "LEXICAL_STOP_WORDS",
    "EmbeddingsLike",
    "Fusion",
    "ahybrid_order",
    "fuse",
    "hybrid_order",
    "lexical_scores",
    "rank_fusion",
    "semantic_scores",
    "tokenize",
]

K = TypeVar("K", bound=Hashable)
Scores: TypeAlias = "npt.NDArray[np.float64]"  # numpy loads on first use: importing us stays cheap
Fusion = Literal["rrf", "linear"]

#: How :func:`hybrid_order` fuses: the mean of min-max normalised scores. On LoCoMo's development
#: conversations it recalled more than reciprocal-rank fusion (benchmarks/recall_quality.py).
DEFAULT_FUSION: Fusion = "linear"

#: Reciprocal-rank constant: small, so the first few places of each ranking weigh most.
DEFAULT_RRF_CONSTANT = 10

#: The house stop words (but "may", also a month) plus pronoun and auxiliary forms that carry
#: no topic for BM25.
_PRONOUNS_AND_LINKS = """
    am him her his hers herself himself us ours yours mine myself yourself themselves itself
    s t d ll m re ve not no nor only own same too each few more most other again further once
    both through during before after above below up down out off because until while against
    between
"""
LEXICAL_STOP_WORDS = (STOP_WORDS - {"may"}) | frozenset(_PRONOUNS_AND_LINKS.split())

#: BM25 parameters (``bm25s``' and Lucene's defaults).
BM25_K1 = 1.5
BM25_B = 0.75
# Texts whose terms are kept between queries, and the longest text kept.
_TERM_CACHE = 16384
_CACHED_LENGTH = 4096

# Unicode words, keeping inner apostrophes ("she's", "o'clock") so they can be stemmed whole.
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


@runtime_checkable
class EmbeddingsLike(Protocol):
    """What ranking needs of an embedder: LangChain ``Embeddings``' two sync methods."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def _stem(word: str) -> str:
    """A light, data-free English stemmer: possessives, plurals and a few verb endings."""
    for mark in ("'s", "\u2019s"):
        if word.endswith(mark):
            word = word[: -len(mark)]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _analyse(text: str) -> tuple[tuple[str, ...], Counter[str]]:
    """The terms of ``text`` and their counts."""
    terms = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if word in LEXICAL_STOP_WORDS:
            continue
        stem = _stem(word)
        if stem and stem not in LEXICAL_STOP_WORDS:
            terms.append(stem)
    return tuple(terms), Counter(terms)


_cached_analyse = functools.lru_cache(maxsize=_TERM_CACHE)(_analyse)


def _term_counts(text: str) -> tuple[tuple[str, ...], Counter[str]]:
    """:func:`_analyse`, cached for texts up to ``_CACHED_LENGTH`` characters (a pool's texts
    recur across queries; the cache's memory stays bounded)."""
    return _cached_analyse(text) if len(text) <= _CACHED_LENGTH else _analyse(text)


def tokenize(text: str) -> list[str]:
    """The lexical terms of ``text``: lowercase unicode words, stop words dropped, lightly stemmed.

    >>> tokenize("Caroline's dogs went to the LGBTQ support groups in 2023!")
    ['caroline', 'dog', 'went', 'lgbtq', 'support', 'group', '2023']
    >>> tokenize("Ünïcode cafés")
    ['ünïcode', 'café']
    """
    return list(_term_counts(text)[0])


def lexical_scores(query: str, texts: Sequence[str]) -> Scores:
    """BM25 score of each of ``texts`` for ``query``, over exactly these texts (as one corpus).

    The scoring is ``bm25s``' default (Lucene: ``k1=1.5``, ``b=0.75``, ``idf = ln(1 + (N - df +
    0.5) / (df + 0.5))``, a repeated query term counted each time), computed for the query's
    terms only: the tests hold it equal to ``bm25s`` itself, which indexes every term of every
    text and costs several times more on a re-ranked pool. All zeros when no term of the query
    occurs in any text (or there are no texts).

    >>> lexical_scores("green tea", ["green tea", "tea", "coffee"]).round(3).tolist()
    [0.474, 0.212, 0.0]
    >>> lexical_scores("the", ["the cat"]).tolist()
    [0.0]
    """
    import numpy as np

    scores = np.zeros(len(texts), dtype=np.float64)
    terms = tokenize(query)
    if not terms or not texts:
        return scores
    counts = [_term_counts(text)[1] for text in texts]
    lengths = np.fromiter((sum(c.values()) for c in counts), dtype=np.float64, count=len(texts))
    average = float(lengths.mean())
    if average == 0.0:
        return scores
    norm = BM25_K1 * (1.0 - BM25_B + BM25_B * lengths / average)
    size = float(len(texts))
    for term in terms:
        tf = np.fromiter((c.get(term, 0) for c in counts), dtype=np.float64, count=len(texts))
        df = float(np.count_nonzero(tf))
        if df:
            idf = math.log(1.0 + (size - df + 0.5) / (df + 0.5))
            scores += idf * tf / (norm + tf)
    return scores


def _matrix(vectors: Any) -> npt.NDArray[np.float64]:
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim == 1 and matrix.size == 0:
        return matrix.reshape(0, 0)
    if matrix.ndim != 2:
        raise ValueError("vectors must be a sequence of equal-length embeddings")
    return matrix


def semantic_scores(query_vector: Sequence[float] | Any, vectors: Sequence[Any] | Any) -> Scores:
    """Cosine of ``query_vector`` with each row of ``vectors``; a zero vector scores 0.

    >>> semantic_scores([1.0, 0.0], [[1.0, 1.0], [0.0, 0.0], [-2.0, 0.0]]).round(3).tolist()
    [0.707, 0.0, -1.0]
    """
    import numpy as np

    query = np.asarray(query_vector, dtype=np.float64).reshape(-1)
    matrix = _matrix(vectors)
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=np.float64)
    if matrix.shape[1] != query.shape[0]:
        raise ValueError(f"embedding sizes differ: {query.shape[0]} vs {matrix.shape[1]}")
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
    dots = matrix @ query
    out = np.zeros(matrix.shape[0], dtype=np.float64)
    np.divide(dots, norms, out=out, where=norms > 0)
    return out


def _rrf(
    ranks: Sequence[npt.NDArray[np.int64]],
    size: int,
    constant: int,
    weights: Sequence[float] | None,
) -> Scores:
    """Reciprocal-rank score of ``size`` items from index arrays in ranked order."""
    import numpy as np

    if constant < 0:
        raise ValueError("the rank-fusion constant must be zero or more")
    if weights is not None and len(weights) != len(ranks):
        raise ValueError("one weight per ranking is needed")
    fused = np.zeros(size, dtype=np.float64)
    for n, order in enumerate(ranks):
        weight = 1.0 if weights is None else float(weights[n])
        np.add.at(fused, order, weight / (constant + 1.0 + np.arange(len(order))))
    return fused


def rank_fusion(
    rankings: Sequence[Sequence[K]],
    *,
    constant: int = DEFAULT_RRF_CONSTANT,
    weights: Sequence[float] | None = None,
) -> list[K]:
    """Reciprocal-rank fusion of ranked lists of ids: the ids by ``sum(w / (constant + rank))``.

    An id may appear in some lists only (a repeat within one list counts once, at its best
    place). Ties keep the order in which ids first appear, reading the lists in turn.

    >>> rank_fusion([["a", "b", "c"], ["b", "c"]])
    ['b', 'c', 'a']
    >>> rank_fusion([["a", "b"], ["b", "a"]])
    ['a', 'b']
    >>> rank_fusion([["a", "b"], ["b", "a"]], weights=[1.0, 2.0])
    ['b', 'a']
    """
    import numpy as np

    position: dict[K, int] = {}
    ranks = []
    for ranking in rankings:
        seen: set[K] = set()
        order = []
        for key in ranking:
            if key in seen:
                continue
            seen.add(key)
            order.append(position.setdefault(key, len(position)))
        ranks.append(np.asarray(order, dtype=np.int64))
    fused = _rrf(ranks, len(position), constant, weights)
    keys = list(position)
    return [keys[i] for i in sorted(range(len(keys)), key=lambda i: (-fused[i], i))]


def _salience(salience: Sequence[float] | None, size: int) -> Scores:
    import numpy as np

    if salience is None:
        return np.zeros(size, dtype=np.float64)
    values = np.asarray(salience, dtype=np.float64).reshape(-1)
    if values.shape[0] != size:
        raise ValueError("one salience per text is needed")
    return values


def _ranked(scores: Scores, salience: Scores, positive_only: bool = False) -> Any:
    """Indexes by score (desc), then salience (desc), then index; optionally scores > 0 only."""
    import numpy as np

    order = np.lexsort((np.arange(scores.shape[0]), -salience, -scores))
    return order[scores[order] > 0] if positive_only else order


def _minmax(scores: Scores) -> Scores:
    import numpy as np

    if scores.shape[0] == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores)


def fuse(
    lexical: Scores,
    semantic: Scores | None,
    salience: Sequence[float] | None = None,
    *,
    fusion: Fusion = DEFAULT_FUSION,
    constant: int = DEFAULT_RRF_CONSTANT,
    lexical_weight: float = 0.5,
) -> list[int]:
    """The order of items from their lexical and (optional) semantic scores.

    Without semantic scores: by lexical score. With them: the weighted mean of the two min-max
    normalised scores (``fusion="linear"``, the default; ``lexical_weight`` on the lexical side,
    the rest on the semantic one), or reciprocal-rank fusion of the lexical ranking (matching
    items only) and the semantic ranking (``fusion="rrf"``). Ties by salience, then input order.

    >>> import numpy as np
    >>> fuse(np.array([0.0, 2.0, 1.0]), np.array([0.2, 0.1, 0.5]))
    [2, 1, 0]
    >>> fuse(np.array([0.0, 2.0, 1.0]), np.array([0.2, 0.1, 0.5]), fusion="rrf")
    [2, 1, 0]
    >>> fuse(np.array([0.0, 0.0, 0.0]), None, [0.1, 0.9, 0.5])
    [1, 2, 0]
    >>> fuse(np.array([1.0, 0.0]), np.array([0.0, 1.0]), lexical_weight=0.4)
    [1, 0]
    """
    import numpy as np

    size = lexical.shape[0]
    weights = _salience(salience, size)
    if semantic is None:
        return [int(i) for i in _ranked(lexical, weights)]
    if semantic.shape[0] != size:
        raise ValueError("one semantic score per text is needed")
    if not 0.0 <= lexical_weight <= 1.0:
        raise ValueError("lexical_weight must be between 0 and 1")
    if fusion == "linear":
        fused = lexical_weight * _minmax(lexical) + (1.0 - lexical_weight) * _minmax(semantic)
    elif fusion == "rrf":
        ranks = [_ranked(lexical, weights, positive_only=True), _ranked(semantic, weights)]
        fused = _rrf(ranks, size, constant, None)
    else:
        raise ValueError(f"unknown fusion {fusion!r}: use 'rrf' or 'linear'")
    return [int(i) for i in np.lexsort((np.arange(size), -weights, -fused))]


def _check_vectors(vectors: Any, count: int) -> Any:
    if len(vectors) != count:
        raise ValueError(f"the embedder returned {len(vectors)} embeddings for {count} texts")
    return vectors


def _semantic(
    texts: Sequence[str],
    query_vector: Any,
    vectors: Any,
    semantic: Sequence[float] | Any | None,
) -> Scores | None:
    """Semantic scores from what the caller gave (precomputed scores, or vectors), else None."""
    import numpy as np

    if semantic is not None:
        return np.asarray(semantic, dtype=np.float64).reshape(-1)
    if (query_vector is None) != (vectors is None):
        raise ValueError("query_vector and vectors go together")
    if vectors is None:
        return None
    return semantic_scores(query_vector, _check_vectors(vectors, len(texts)))


def hybrid_order(
    query: str,
    texts: Sequence[str],
    *,
    embeddings: EmbeddingsLike | None = None,
    query_vector: Sequence[float] | Any | None = None,
    vectors: Sequence[Any] | Any | None = None,
    semantic: Sequence[float] | Any | None = None,
    salience: Sequence[float] | None = None,
    fusion: Fusion = DEFAULT_FUSION,
    lexical_weight: float = 0.5,
) -> list[int]:
    """Indexes of ``texts`` best first for ``query``: BM25 fused with the semantic side.

    The semantic side, first given wins: ``semantic`` (precomputed scores, e.g. a server's),
    ``query_vector`` + ``vectors``, or ``embeddings`` (any LangChain ``Embeddings``: the query
    and the texts are embedded in one batch). With none of them, BM25 alone. ``fusion`` and
    ``lexical_weight`` are :func:`fuse`'s. Ties by
    ``salience`` (higher first), then input order. The result is a permutation of the indexes.

    >>> class Letters:  # a toy embedder: counts of a, b, c
    ...     def embed_query(self, text):
    ...         return [float(text.count(c)) for c in "abc"]
    ...     def embed_documents(self, texts):
    ...         return [self.embed_query(t) for t in texts]
    >>> hybrid_order("b", ["cc", "ab", "bb"], embeddings=Letters())
    [2, 1, 0]
    >>> hybrid_order("nothing matches", ["x", "y"], salience=[0.1, 0.5])
    [1, 0]
    """
    lexical = lexical_scores(query, texts)
    semantic_side = _semantic(texts, query_vector, vectors, semantic)
    if semantic_side is None and embeddings is not None and texts:
        qv = embeddings.embed_query(query)
        semantic_side = semantic_scores(
            qv, _check_vectors(embeddings.embed_documents(list(texts)), len(texts))
        )
    return fuse(lexical, semantic_side, salience, fusion=fusion, lexical_weight=lexical_weight)


async def _maybe_async(embeddings: Any, name: str, arg: Any) -> Any:
    method = getattr(embeddings, f"a{name}", None)
    if method is not None and inspect.iscoroutinefunction(method):
        return await method(arg)
    return getattr(embeddings, name)(arg)


async def ahybrid_order(
    query: str,
    texts: Sequence[str],
    *,
    embeddings: EmbeddingsLike | None = None,
    query_vector: Sequence[float] | Any | None = None,
    vectors: Sequence[Any] | Any | None = None,
    semantic: Sequence[float] | Any | None = None,
    salience: Sequence[float] | None = None,
    fusion: Fusion = DEFAULT_FUSION,
    lexical_weight: float = 0.5,
) -> list[int]:
    """Like :func:`hybrid_order`, awaiting ``aembed_query`` / ``aembed_documents`` when present.

    >>> import asyncio
    >>> asyncio.run(ahybrid_order("tea", ["coffee", "tea"]))
    [1, 0]
    """
    lexical = lexical_scores(query, texts)
    semantic_side = _semantic(texts, query_vector, vectors, semantic)
    if semantic_side is None and embeddings is not None and texts:
        qv = await _maybe_async(embeddings, "embed_query", query)
        docs = await _maybe_async(embeddings, "embed_documents", list(texts))
        semantic_side = semantic_scores(qv, _check_vectors(docs, len(texts)))
    return fuse(lexical, semantic_side, salience, fusion=fusion, lexical_weight=lexical_weight)
