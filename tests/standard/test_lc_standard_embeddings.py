"""The ``langchain-tests`` standard suites for ``WordLlamaEmbeddings`` (offline, no server)."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

pytest.importorskip("wordllama")

from membrane_integrations.langchain import WordLlamaEmbeddings


class TestWordLlamaEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[WordLlamaEmbeddings]:
        return WordLlamaEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, object]:
        return {"dimensions": 256}


class TestWordLlamaEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[WordLlamaEmbeddings]:
        return WordLlamaEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, object]:
        return {"dimensions": 128}


def test_it_is_exported_lazily_and_ranks_by_meaning() -> None:
    import numpy as np

    import membrane_integrations

    assert membrane_integrations.WordLlamaEmbeddings is WordLlamaEmbeddings
    emb = WordLlamaEmbeddings()
    assert emb.dimensions == 256 and repr(emb) == "WordLlamaEmbeddings(dimensions=256)"
    q = emb.embed_query("Which pet does the user own?")
    dog, rent = emb.embed_documents(["User has a dog named Rex", "User's rent is 1200 euros"])
    assert float(np.dot(q, dog)) > float(np.dot(q, rent))


async def test_async_variants_match() -> None:
    emb = WordLlamaEmbeddings(dimensions=64)
    docs = ["User lives in Lisbon", "User drives an electric car"]
    assert await emb.aembed_documents(docs) == emb.embed_documents(docs)
    assert await emb.aembed_query("Where?") == emb.embed_query("Where?")
