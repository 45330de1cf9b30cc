"""Offline text embeddings: WordLlama (semantic, weights inside the ``wordllama`` wheel).

Needs the ``embeddings`` extra (``pip install 'membrane-integrations[embeddings]'``; the
``emulator`` extra includes it). Nothing here downloads. The LangChain ``Embeddings`` over the
same model is :class:`membrane_integrations.langchain.WordLlamaEmbeddings`.

Example:
    >>> from membrane_integrations.embeddings import WordLlamaEmbedder
    >>> len(WordLlamaEmbedder().embed_query("What does the user drink?"))
    256
"""

from .._extras import requires_extra

with requires_extra("embeddings"):
    from .stopwords import STOP_WORDS
    from .wordllama import (
        WORDLLAMA_DIMENSIONS,
        WORDLLAMA_MODEL,
        WordLlamaEmbedder,
        packaged_files,
        wordllama_available,
    )

__all__ = [
    "STOP_WORDS",
    "WORDLLAMA_DIMENSIONS",
    "WORDLLAMA_MODEL",
    "WordLlamaEmbedder",
    "packaged_files",
    "wordllama_available",
]
