"""The hashing embedder (the emulator's fallback) and helpers shared by every embedder.

The emulator's default is WordLlama (:mod:`membrane_integrations.embeddings`) when it is
installed; this module's :class:`HashingEmbeddings` runs when it is not, or when asked for
(``--embedder hashing``).

A text becomes a sparse bag of hashed features, then a dense L2-normalised ``float32`` vector of
:data:`NATIVE_DIMENSIONS` (384) dimensions:

* content words (lowercased, punctuation stripped, stop words dropped, a tiny stemmer that
  drops plural ``s`` and a few suffixes), weight 1.0;
* word bigrams, weight 0.5;
* character 3- to 5-grams of each word, weight 0.25 in total per word (so typos and inflections
  still overlap).

Each feature is hashed with CRC-32 (stable across processes, unlike ``hash()``) into a bucket
and a sign. Related wording therefore scores above unrelated wording, but it matches words, not
meaning ("What does the user drink?" does not find "User prefers green tea"). Any object with
LangChain's ``embed_documents`` / ``embed_query`` can replace it (see :class:`EmbeddingsLike`).

Example:
    >>> emb = HashingEmbeddings()
    >>> q = emb.embed_query("What drinks does the user like?")
    >>> tea, deploy = emb.embed_documents(["User likes green tea", "The deploy is on Friday"])
    >>> cosine(q, tea) > cosine(q, deploy)
    True
"""

from __future__ import annotations

import functools
import itertools
import re
import zlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..embeddings.stopwords import STOP_WORDS

__all__ = [
    "NATIVE_DIMENSIONS",
    "STOP_WORDS",
    "EmbeddingsLike",
    "HashingEmbeddings",
    "MatrixEmbedder",
    "content_words",
    "cosine",
    "embed_matrix",
    "embed_query_vector",
    "stem",
]

NATIVE_DIMENSIONS = 384

Vector = npt.NDArray[np.float32]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SUFFIXES = (("ies", "y"), ("s", ""))


@runtime_checkable
class EmbeddingsLike(Protocol):
    """The two methods of LangChain's ``Embeddings`` the emulator uses (duck-typed)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


@runtime_checkable
class MatrixEmbedder(Protocol):
    """An embedder that returns a whole L2-normalised float32 matrix (skips list conversions)."""

    def embed_matrix(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


def stem(word: str) -> str:
    """A deliberately tiny stemmer that folds plurals: ``likes`` -> ``like``.

    >>> [stem(w) for w in ["likes", "drinks", "cities", "glass", "was"]]
    ['like', 'drink', 'city', 'glass', 'was']
    """
    if len(word) <= 3 or word.endswith("ss"):
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


def content_words(text: str) -> list[str]:
    """Lowercased, stemmed words of ``text`` without stop words.

    >>> content_words("The user LIKES green tea!")
    ['user', 'like', 'green', 'tea']
    """
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return [
        stem(w.split("'")[0]) for w in words if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())
    ]


def _bucket(feature: str, dims: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    return h % dims, (1.0 if (h >> 31) & 1 else -1.0)


@functools.lru_cache(maxsize=65_536)
def _word_features(word: str, dims: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Buckets and weights of one word and its character n-grams (words repeat, so cached)."""
    idx, sign = _bucket("w:" + word, dims)
    buckets, weights = [idx], [sign]
    padded = f"<{word}>"
    grams = [padded[i : i + n] for n in (3, 4, 5) for i in range(max(1, len(padded) - n + 1))]
    for gram in grams:
        idx, sign = _bucket("c:" + gram, dims)
        buckets.append(idx)
        weights.append(sign * 0.25 / len(grams))
    return np.asarray(buckets, dtype=np.int64), np.asarray(weights, dtype=np.float32)


class HashingEmbeddings:
    """Hashed word, bigram and character n-gram features, L2-normalised (see the module doc).

    Example:
        >>> emb = HashingEmbeddings(dimensions=64)
        >>> len(emb.embed_query("hello world"))
        64
    """

    def __init__(self, dimensions: int = NATIVE_DIMENSIONS) -> None:
        if dimensions < 8:
            raise ValueError("dimensions must be at least 8")
        self.dimensions = dimensions

    def embed_array(self, text: str) -> Vector:
        """The embedding of one text as a float32 numpy vector."""
        vec = np.zeros(self.dimensions, dtype=np.float32)
        words = content_words(text)
        for word in words:
            buckets, weights = _word_features(word, self.dimensions)
            np.add.at(vec, buckets, weights)
        for first, second in itertools.pairwise(words):
            idx, sign = _bucket(f"b:{first} {second}", self.dimensions)
            vec[idx] += sign * 0.5
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            # A text with no content words still gets a stable, non-zero vector.
            idx, sign = _bucket("empty:" + text.strip().lower(), self.dimensions)
            vec[idx] = sign
            return vec
        vec /= norm
        return vec

    def embed_matrix(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """An ``(n, dimensions)`` L2-normalised float32 matrix."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self.embed_array(t) for t in texts])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain-compatible: one embedding per text."""
        return [[float(x) for x in self.embed_array(t)] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """LangChain-compatible: the embedding of a query."""
        return [float(x) for x in self.embed_array(text)]


def embed_matrix(embedder: EmbeddingsLike, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Embed ``texts`` with any embedder into an L2-normalised ``(n, d)`` float32 matrix."""
    if isinstance(embedder, MatrixEmbedder):
        return embedder.embed_matrix(list(texts))
    rows = np.asarray(embedder.embed_documents(list(texts)), dtype=np.float32)
    if rows.ndim != 2 or rows.shape[0] != len(texts):
        raise ValueError("the embedder returned a malformed batch of embeddings")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    normalised: npt.NDArray[np.float32] = (rows / norms).astype(np.float32)
    return normalised


def embed_query_vector(embedder: EmbeddingsLike, text: str) -> Vector:
    """Embed one query with any embedder, L2-normalised."""
    if isinstance(embedder, MatrixEmbedder):
        row: Vector = embedder.embed_matrix([text])[0]
        return row
    vec = np.asarray(embedder.embed_query(text), dtype=np.float32)
    norm = float(np.linalg.norm(vec))
    return (vec / norm).astype(np.float32) if norm else vec


def cosine(a: Sequence[float] | Vector, b: Sequence[float] | Vector) -> float:
    """Cosine similarity of two vectors.

    >>> round(cosine([1.0, 0.0], [1.0, 1.0]), 3)
    0.707
    """
    x = np.asarray(a, dtype=np.float32)
    y = np.asarray(b, dtype=np.float32)
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y) / denom if denom else 0.0
