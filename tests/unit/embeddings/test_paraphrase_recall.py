"""Recall of the emulator's search on the labelled paraphrase set (questions share no content word
with their facts): WordLlama must clear the floor; the hashing figure is printed for contrast."""

from __future__ import annotations

import pytest

from benchmarks._paraphrase import load_set, measure
from membrane_integrations.emulator import HashingEmbeddings, WordLlamaEmbedder

pytest.importorskip("wordllama")


def test_the_set_shares_no_content_words_between_fact_and_question() -> None:
    from membrane_integrations.emulator.embeddings import content_words

    ignored = {"user", "user's"}
    pairs = load_set()
    assert len(pairs) >= 30
    for fact, question in pairs:
        shared = (set(content_words(fact)) & set(content_words(question))) - ignored
        assert not shared, (fact, question, shared)


def test_wordllama_recall_floor(capsys: pytest.CaptureFixture[str]) -> None:
    semantic = measure(WordLlamaEmbedder())
    hashing = measure(HashingEmbeddings())
    with capsys.disabled():
        print(
            f"\nparaphrase set ({semantic.total} facts): wordllama recall@1={semantic.at1:.2f} "
            f"recall@3={semantic.at3:.2f}; hashing recall@1={hashing.at1:.2f} "
            f"recall@3={hashing.at3:.2f}"
        )
    assert semantic.created == semantic.total, "no fact of the set may be merged into another"
    assert semantic.at1 >= 0.75, semantic.misses
    assert semantic.at3 >= 0.95, semantic.misses
