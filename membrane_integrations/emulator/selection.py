"""Which embedder the emulator runs: WordLlama when installed, the hashing embedder otherwise.

``"auto"`` (the default) picks :class:`~membrane_integrations.embeddings.WordLlamaEmbedder`
when the ``wordllama`` package is installed (it is in the ``emulator`` extra) and
:class:`~.embeddings.HashingEmbeddings` when it is not; ``"wordllama"`` and ``"hashing"``
force one. Ingest thresholds are per embedder because cosines of the two models live on
different scales (measured in
``tests/unit/embeddings/test_wordllama.py``).

Example:
    >>> describe_embedder(make_embedder("hashing"))
    'hashing (HashingEmbeddings, 384 dimensions; matches shared words, not meaning)'
    >>> ingest_thresholds(make_embedder("hashing"))
    (0.3, 0.95)
"""

from __future__ import annotations

from typing import Literal

from ..embeddings.wordllama import WordLlamaEmbedder, wordllama_available
from .embeddings import EmbeddingsLike, HashingEmbeddings

__all__ = [
    "EMBEDDER_CHOICES",
    "EmbedderChoice",
    "describe_embedder",
    "embedder_dimensions",
    "embedding_model_name",
    "ingest_thresholds",
    "make_embedder",
]

EmbedderChoice = Literal["auto", "wordllama", "hashing"]
EMBEDDER_CHOICES: tuple[EmbedderChoice, ...] = ("auto", "wordllama", "hashing")

# (link, duplicate): link a new memory to neighbours at or above the first cosine, merge it into
# the nearest one ("updated") at or above the second. WordLlama: pairs of unrelated facts of the
# labelled set score 0.14 at the median, 0.27 at p95 and 0.41 at most (all share "User"); facts
# sharing a subject ("Alice manages the billing team" / "The billing team owns the invoice
# service") score 0.42-0.48; restatements (case, articles, punctuation, an adverb) >= 0.96,
# a changed fact ("likes" -> "dislikes") ~0.91. Numbers barely move a static embedding, so the
# engine also refuses to merge texts whose numbers differ.
_THRESHOLDS: dict[type, tuple[float, float]] = {
    HashingEmbeddings: (0.3, 0.95),
    WordLlamaEmbedder: (0.4, 0.95),
}
_DEFAULT_THRESHOLDS = (0.3, 0.95)


def make_embedder(choice: EmbedderChoice = "auto") -> EmbeddingsLike:
    """The embedder for ``choice`` (see the module doc); ``"wordllama"`` needs the package."""
    if choice == "hashing":
        return HashingEmbeddings()
    if choice == "wordllama" or wordllama_available():
        if not wordllama_available():
            raise RuntimeError(
                "the WordLlama embedder needs the 'wordllama' package: "
                "pip install 'membrane-integrations[emulator]'"
            )
        return WordLlamaEmbedder()
    return HashingEmbeddings()


def embedder_dimensions(embedder: EmbeddingsLike) -> int:
    """The size of ``embedder``'s vectors (probes with one query if it does not say)."""
    dims = getattr(embedder, "dimensions", None)
    if isinstance(dims, int):
        return dims
    return len(embedder.embed_query("dimension probe"))


def describe_embedder(embedder: EmbeddingsLike) -> str:
    """One line for the start banner and ``/docs``."""
    dims = embedder_dimensions(embedder)
    if isinstance(embedder, WordLlamaEmbedder):
        return (
            f"wordllama ({embedder.model_name}, {dims} dimensions; semantic, offline, "
            "weights from the wordllama wheel)"
        )
    if isinstance(embedder, HashingEmbeddings):
        return f"hashing (HashingEmbeddings, {dims} dimensions; matches shared words, not meaning)"
    return f"custom ({type(embedder).__name__}, {dims} dimensions)"


def embedding_model_name(embedder: EmbeddingsLike) -> str:
    """The ``model`` the emulator's ``/v1/embeddings`` reports when the caller names none."""
    dims = embedder_dimensions(embedder)
    if isinstance(embedder, WordLlamaEmbedder):
        return f"wordllama-{embedder.model_name}"
    if isinstance(embedder, HashingEmbeddings):
        return f"membrain-emulator-hash-{dims}"
    return f"custom-{type(embedder).__name__}-{dims}"


def ingest_thresholds(embedder: EmbeddingsLike) -> tuple[float, float]:
    """``(link_threshold, duplicate_threshold)`` tuned for ``embedder``'s cosine scale."""
    for kind, thresholds in _THRESHOLDS.items():
        if isinstance(embedder, kind):
            return thresholds
    return _DEFAULT_THRESHOLDS
