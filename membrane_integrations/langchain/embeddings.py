"""``WordLlamaEmbeddings``: a LangChain ``Embeddings`` over WordLlama, offline.

The same model and preprocessing as the Membrain emulator's default embedder
(:class:`membrane_integrations.embeddings.WordLlamaEmbedder`): weights from the ``wordllama``
wheel, nothing downloaded. Use it for the client-side re-rank of Membrane results
(``MembraneRetriever(..., embeddings=WordLlamaEmbeddings())``), a vector store, or any RAG
example that must run without a network. Needs the ``embeddings`` extra.

Example:
    >>> from membrane_integrations.langchain import WordLlamaEmbeddings
    >>> emb = WordLlamaEmbeddings()
    >>> len(emb.embed_query("Where is the user based?"))
    256
"""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from ..embeddings.wordllama import WORDLLAMA_DIMENSIONS, WordLlamaEmbedder

__all__ = ["WordLlamaEmbeddings"]


class WordLlamaEmbeddings(Embeddings):
    """LangChain embeddings from WordLlama ``l2_supercat_256`` (L2-normalised floats).

    Args:
        dimensions: 256 (native), 128 or 64 (Matryoshka truncations).
        drop_stop_words: pool content words only (as the emulator does); see
            :class:`~membrane_integrations.embeddings.WordLlamaEmbedder`.

    Example:
        >>> emb = WordLlamaEmbeddings(dimensions=128)
        >>> [len(v) for v in emb.embed_documents(["User prefers green tea", "User has a dog"])]
        [128, 128]
    """

    def __init__(
        self, dimensions: int = WORDLLAMA_DIMENSIONS, *, drop_stop_words: bool = True
    ) -> None:
        self._embedder = WordLlamaEmbedder(dimensions, drop_stop_words=drop_stop_words)

    @property
    def dimensions(self) -> int:
        """The size of every vector."""
        return self._embedder.dimensions

    def __repr__(self) -> str:
        return f"WordLlamaEmbeddings(dimensions={self.dimensions})"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One embedding per text."""
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """The embedding of a query."""
        return self._embedder.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` (in a worker thread; the model is CPU-bound)."""
        return await self._embedder.aembed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        return await self._embedder.aembed_query(text)
