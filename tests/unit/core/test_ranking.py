"""Unit and property tests of the one hybrid ranking (``core.ranking``): pure, no I/O."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membrane_integrations.core.ranking import (
    ahybrid_order,
    fuse,
    hybrid_order,
    lexical_scores,
    rank_fusion,
    semantic_scores,
    tokenize,
)

WORDS = ("tea", "deploy", "piano")


class BagOfWords:
    """Counts of three words: the similarity the tests expect is obvious by reading."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def embed_query(self, text: str) -> list[float]:
        self.calls.append("query")
        return [float(text.split().count(w)) for w in WORDS]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append("documents")
        return [[float(t.split().count(w)) for w in WORDS] for t in texts]


class AsyncBagOfWords(BagOfWords):
    async def aembed_query(self, text: str) -> list[float]:
        self.calls.append("aquery")
        return self.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append("adocuments")
        return self.embed_documents(texts)


def test_tokenize_lowercases_drops_stop_words_and_stems_lightly() -> None:
    assert tokenize("The Dogs AND the cats!") == ["dog", "cat"]
    assert tokenize("Melanie's kids' paintings, 7 May 2023") == [
        "melanie",
        "kid",
        "painting",
        "7",
        "may",  # a month too: kept for BM25, though the embedders drop it
        "2023",
    ]
    assert tokenize("") == [] and tokenize("the of and") == []
    assert tokenize("glass bus analysis") == ["glass", "bus", "analysis"]  # no over-stemming
    assert tokenize("Straße café 東京") == ["straße", "café", "東京"]


def test_lexical_scores_rank_matches_and_zero_without_match() -> None:
    texts = ["green tea every morning", "tea", "deploy on friday", ""]
    scores = lexical_scores("green tea", texts)
    assert scores.shape == (4,)
    assert scores[0] > scores[1] > 0 and scores[2] == 0 and scores[3] == 0
    assert not lexical_scores("piano", texts).any()
    assert lexical_scores("tea", []).shape == (0,)
    assert not lexical_scores("the", texts).any()  # stop words only: nothing to match


def test_semantic_scores_are_cosines_and_zero_vectors_score_zero() -> None:
    out = semantic_scores([1.0, 0.0], [[2.0, 0.0], [0.0, 3.0], [0.0, 0.0], [-1.0, -1.0]])
    assert out.tolist() == pytest.approx([1.0, 0.0, 0.0, -(2**-0.5)])
    assert semantic_scores([0.0, 0.0], [[1.0, 0.0]]).tolist() == [0.0]
    assert semantic_scores([1.0], []).shape == (0,)
    with pytest.raises(ValueError, match="sizes differ"):
        semantic_scores([1.0, 0.0], [[1.0, 0.0, 0.0]])


def test_rank_fusion_sums_reciprocal_ranks_with_weights_and_stable_ties() -> None:
    assert rank_fusion([["a", "b", "c"], ["b", "c"]]) == ["b", "c", "a"]
    assert rank_fusion([["a", "b"], ["b", "a"]]) == ["a", "b"]  # tie: first seen first
    assert rank_fusion([["a", "b"], ["b", "a"]], weights=[1.0, 3.0]) == ["b", "a"]
    assert rank_fusion([[1, 1, 2]]) == [1, 2]  # a repeat counts once
    assert rank_fusion([]) == []
    with pytest.raises(ValueError, match="one weight per ranking"):
        rank_fusion([["a"]], weights=[1.0, 2.0])


def test_hybrid_order_lexical_alone_then_salience_then_input_order() -> None:
    texts = ["deploy friday", "tea and cake", "piano", "tea tea"]
    assert hybrid_order("tea", texts) == [3, 1, 0, 2]
    # no match: salience decides, then input order
    assert hybrid_order("violin", texts, salience=[0.1, 0.5, 0.5, 0.9]) == [3, 1, 2, 0]
    assert hybrid_order("tea", []) == []
    assert hybrid_order("tea", [], semantic=[]) == []
    assert hybrid_order("tea", [], semantic=[], fusion="rrf") == []


def test_hybrid_order_fuses_semantic_side_from_each_source() -> None:
    texts = ["deploy friday", "a cup of tea", "piano tea tea"]
    emb = BagOfWords()
    by_embedder = hybrid_order("tea", texts, embeddings=emb)
    assert emb.calls == ["query", "documents"]
    vectors = emb.embed_documents(texts)
    by_vectors = hybrid_order("tea", texts, query_vector=emb.embed_query("tea"), vectors=vectors)
    by_scores = hybrid_order("tea", texts, semantic=semantic_scores([1, 0, 0], vectors))
    assert by_embedder == by_vectors == by_scores
    assert by_embedder[-1] == 0
    # the semantic side can carry an item BM25 does not match at all
    assert hybrid_order("beverage", ["deploy", "tea"], semantic=[0.0, 0.8]) == [1, 0]
    with pytest.raises(ValueError, match="go together"):
        hybrid_order("tea", texts, vectors=vectors)
    with pytest.raises(ValueError, match="one semantic score per text"):
        hybrid_order("tea", texts, semantic=[0.1])


def test_linear_fusion_and_unknown_fusion() -> None:
    lexical, semantic = np.array([3.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.9])
    assert fuse(lexical, semantic, fusion="linear") == [2, 0, 1]
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse(lexical, semantic, fusion="max")  # type: ignore[arg-type]


def test_lexical_weight_tilts_the_linear_fusion_and_is_bounded() -> None:
    # normalised: lexical [1, 0, 1/3], semantic [0, 1, 0.9]
    lexical, semantic = np.array([3.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.9])
    assert fuse(lexical, semantic, lexical_weight=0.9) == [0, 2, 1]
    assert fuse(lexical, semantic, lexical_weight=0.1) == [1, 2, 0]
    texts = ["tea tea tea", "coffee", "tea"]
    assert hybrid_order("tea", texts, semantic=[0.0, 1.0, 0.9], lexical_weight=1.0)[0] == 0
    for weight in (-0.1, 1.5):
        with pytest.raises(ValueError, match="lexical_weight"):
            fuse(lexical, semantic, lexical_weight=weight)


async def test_ahybrid_order_awaits_async_methods_and_matches_sync() -> None:
    texts = ["deploy friday", "a cup of tea", "piano tea tea"]
    emb = AsyncBagOfWords()
    assert await ahybrid_order("tea", texts, embeddings=emb) == hybrid_order(
        "tea", texts, embeddings=BagOfWords()
    )
    assert emb.calls[:2] == ["aquery", "query"] and "adocuments" in emb.calls
    assert (await ahybrid_order("tea", texts, embeddings=BagOfWords()))[-1] == 0


texts_strategy = st.lists(
    st.text(alphabet=st.sampled_from("tea deploy piano Ünï 42 \n"), max_size=30), max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    query=st.text(alphabet=st.sampled_from("tea deploy piano x"), max_size=20),
    texts=texts_strategy,
    data=st.data(),
)
def test_order_is_a_deterministic_permutation_lexical_only_without_embedder(
    query: str, texts: list[str], data: st.DataObject
) -> None:
    salience = data.draw(
        st.lists(st.floats(0, 1), min_size=len(texts), max_size=len(texts)), label="salience"
    )
    plain = hybrid_order(query, texts, salience=salience)
    assert sorted(plain) == list(range(len(texts)))
    assert plain == hybrid_order(query, list(texts), salience=list(salience))
    # lexical only: never a text with a lower BM25 score before one with a higher score
    lexical = lexical_scores(query, texts)
    assert all(lexical[a] >= lexical[b] for a, b in itertools.pairwise(plain))
    fused = hybrid_order(query, texts, embeddings=BagOfWords(), salience=salience)
    assert sorted(fused) == list(range(len(texts)))
    assert fused == hybrid_order(query, texts, embeddings=BagOfWords(), salience=salience)


@settings(max_examples=150, deadline=None)
@given(
    query=st.text(alphabet=st.sampled_from("tea deploy piano x"), max_size=20), texts=texts_strategy
)
def test_lexical_scores_equal_bm25s_over_the_same_terms(query: str, texts: list[str]) -> None:
    bm25s = pytest.importorskip("bm25s")
    ours = lexical_scores(query, texts)
    terms = tokenize(query)
    corpus = [tokenize(t) for t in texts]
    vocabulary = {t for doc in corpus for t in doc}
    if not texts or not any(t in vocabulary for t in terms):
        assert not ours.any()
        return
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    expected = reference.get_scores([t for t in terms if t in vocabulary])
    assert ours == pytest.approx(expected.astype(float), rel=1e-5, abs=1e-6)


def test_rrf_fusion_is_available_in_hybrid_order() -> None:
    texts = ["deploy friday", "a cup of tea", "piano tea tea"]
    rrf = hybrid_order("tea", texts, semantic=[0.2, 0.1, 0.5], fusion="rrf")
    assert sorted(rrf) == [0, 1, 2] and rrf[0] == 2


def test_importing_the_ranking_or_a_membrain_retriever_loads_no_numpy() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import membrane_integrations.core.ranking, membrane_integrations.core.rerank\n"
        "from membrane_integrations.langchain import MembrainRetriever\n"
        "import membrane_integrations.langchain.membrain_retriever\n"
        "print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
