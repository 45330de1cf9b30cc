"""WordLlama: the emulator's default semantic embedder, loaded offline from the wheel's own files.

`WordLlama <https://github.com/dleemiller/WordLlama>`_ (MIT) is a static token-embedding model
distilled from an LLM: a text's vector is the mean of its tokens' vectors, so it ranks by
meaning ("What does the user drink?" finds "User prefers green tea") at numpy speed. The
default weights, ``l2_supercat_256`` (16 MB), and their tokenizer ship inside the ``wordllama``
wheel; this module loads exactly those two files and never downloads. (``WordLlama.load()``
looks for the tokenizer under ``wordllama/tokenizer/`` while the wheel ships it under
``wordllama/tokenizers/``, and would then try the network, so it is not used.)

The model is loaded once per process and shared (loading takes ~0.2 s).

Example:
    >>> import numpy as np
    >>> emb = WordLlamaEmbedder()
    >>> q = emb.embed_query("What does the user drink?")
    >>> tea, nuts = emb.embed_documents(["User prefers green tea", "User is allergic to peanuts"])
    >>> bool(np.dot(q, tea) > np.dot(q, nuts))
    True
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .stopwords import STOP_WORDS

__all__ = [
    "WORDLLAMA_DIMENSIONS",
    "WORDLLAMA_MODEL",
    "WordLlamaEmbedder",
    "packaged_files",
    "wordllama_available",
]

WORDLLAMA_MODEL = "l2_supercat_256"
WORDLLAMA_DIMENSIONS = 256
_TRUNCATIONS = (64, 128, 256)
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
_LOAD_LOCK = threading.Lock()
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")

Vector = npt.NDArray[np.float32]


def wordllama_available() -> bool:
    """True when the ``wordllama`` package (and so its packaged weights) is installed."""
    return importlib.util.find_spec("wordllama") is not None


def packaged_files() -> tuple[Path, Path]:
    """The weights and tokenizer files inside the installed ``wordllama`` package."""
    root = resources.files("wordllama")
    weights = Path(str(root.joinpath(_WEIGHTS[0]).joinpath(_WEIGHTS[1])))
    tokenizer = Path(str(root.joinpath(_TOKENIZER[0]).joinpath(_TOKENIZER[1])))
    for path in (weights, tokenizer):
        if not path.is_file():
            raise FileNotFoundError(f"the wordllama package does not ship {path}")
    return weights, tokenizer


def _import_inference() -> Any:
    # wordllama.inference calls logging.basicConfig(level=INFO) at import time, which would
    # install a root handler in the user's process; a placeholder handler makes it a no-op.
    root = logging.getLogger()
    placeholder = None if root.handlers else logging.NullHandler()
    if placeholder is not None:
        root.addHandler(placeholder)
    try:
        from wordllama.inference import WordLlamaInference  # type: ignore[import-untyped]
    finally:
        if placeholder is not None:
            root.removeHandler(placeholder)
    return WordLlamaInference


def _without_stop_words(text: str) -> str:
    """``text`` with stop words and punctuation removed (itself if nothing would remain)."""
    kept = [w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS]
    return " ".join(kept) if kept else text


@functools.cache
def _model(dimensions: int) -> Any:
    """The loaded model (one per truncation, shared by every embedder in the process)."""
    with _LOAD_LOCK:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        inference = _import_inference()
        weights, tokenizer_file = packaged_files()
        with safe_open(str(weights), framework="np", device="cpu") as f:
            matrix = f.get_tensor("embedding.weight")[:, :dimensions]
        return inference(matrix, Tokenizer.from_file(str(tokenizer_file)))


class WordLlamaEmbedder:
    """WordLlama ``l2_supercat_256`` embeddings, L2-normalised ``float32`` (see the module doc).

    Duck-typed like LangChain's ``Embeddings`` (``embed_documents``, ``embed_query`` and their
    async variants) without importing LangChain; the LangChain subclass is
    :class:`membrane_integrations.langchain.WordLlamaEmbeddings`; the emulator uses this one.

    Args:
        dimensions: 256 (native), or a Matryoshka truncation to 128 or 64.
        drop_stop_words: pool only the content words. A mean of static token vectors is
            dominated by function words ("the", "what", "does"); dropping them raised recall@1
            on ``benchmarks/data/paraphrase_recall.json`` from 0.75 to 0.81 and recall@3 from
            0.94 to 1.0. A text made only of stop words is embedded as it is.

    Example:
        >>> emb = WordLlamaEmbedder(dimensions=64)
        >>> len(emb.embed_query("hello world"))
        64
    """

    model_name = WORDLLAMA_MODEL

    def __init__(
        self, dimensions: int = WORDLLAMA_DIMENSIONS, *, drop_stop_words: bool = True
    ) -> None:
        if dimensions not in _TRUNCATIONS:
            raise ValueError(f"dimensions must be one of {_TRUNCATIONS}")
        self.dimensions = dimensions
        self.drop_stop_words = drop_stop_words
        self._model = _model(dimensions)

    def __repr__(self) -> str:
        return f"WordLlamaEmbedder(model={self.model_name!r}, dimensions={self.dimensions})"

    def embed_matrix(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """An ``(n, dimensions)`` L2-normalised float32 matrix (zero rows stay zero)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        prepared = [_without_stop_words(t) for t in texts] if self.drop_stop_words else list(texts)
        rows = np.asarray(self._model.embed(prepared, norm=False), dtype=np.float32)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0.0] = 1.0
        out: npt.NDArray[np.float32] = (rows / norms).astype(np.float32)
        return out

    def embed_array(self, text: str) -> Vector:
        """The embedding of one text as a float32 numpy vector."""
        row: Vector = self.embed_matrix([text])[0]
        return row

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain-compatible: one embedding per text."""
        return [[float(x) for x in row] for row in self.embed_matrix(texts)]

    def embed_query(self, text: str) -> list[float]:
        """LangChain-compatible: the embedding of a query."""
        return [float(x) for x in self.embed_array(text)]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` (runs in a worker thread)."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query` (runs in a worker thread)."""
        return await asyncio.to_thread(self.embed_query, text)
