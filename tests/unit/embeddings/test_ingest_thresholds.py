"""Duplicate detection and linking with WordLlama: restatements merge, different facts do not.

The pairs below are the measurements behind ``selection.ingest_thresholds`` (link 0.4,
duplicate 0.95 for WordLlama): restatements score >= 0.96, a changed fact <= 0.91, unrelated
facts of the labelled set 0.27 at p95, facts about one subject 0.42-0.48.
"""

from __future__ import annotations

import pytest

from membrane_integrations.embeddings import WordLlamaEmbedder
from membrane_integrations.emulator import Engine
from membrane_integrations.emulator.selection import ingest_thresholds

pytest.importorskip("wordllama")

RESTATEMENTS = [
    ("User likes green tea", "User likes green tea."),
    ("User prefers green tea in the morning", "user prefers green tea in the morning!"),
    ("User lives in Lisbon", "The user lives in Lisbon"),
    ("User likes green tea", "User really likes green tea"),
]
DIFFERENT = [
    ("User likes green tea", "User dislikes green tea"),
    ("User lives in Lisbon", "User lives in Porto"),
    ("User has a dog named Rex", "User has a cat named Rex"),
    ("User is allergic to peanuts", "User is allergic to shellfish"),
    ("User likes green tea", "User likes black coffee"),
    ("The team deploys on Fridays", "The team meets on Fridays"),
    ("Invoice 12 was paid in March", "Invoice 13 was paid in March"),  # numbers differ
]


@pytest.fixture
def engine() -> Engine:
    eng = Engine(WordLlamaEmbedder())
    yield eng  # type: ignore[misc]
    eng.close()


def test_wordllama_gets_its_own_thresholds(engine: Engine) -> None:
    assert (engine.link_threshold, engine.duplicate_threshold) == (0.4, 0.95)
    assert ingest_thresholds(engine.embeddings) == (0.4, 0.95)
    assert Engine(WordLlamaEmbedder(), link_threshold=0.6).link_threshold == 0.6


@pytest.mark.parametrize(("first", "second"), RESTATEMENTS)
def test_a_restatement_updates_the_memory(engine: Engine, first: str, second: str) -> None:
    original, _ = engine.ingest_now("t", first, None, None)
    merged, action = engine.ingest_now("t", second, None, None)
    assert action == "updated" and merged["id"] == original["id"]
    assert merged["content"] == second


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_a_different_fact_is_a_new_memory(engine: Engine, first: str, second: str) -> None:
    original, _ = engine.ingest_now("t", first, None, None)
    other, action = engine.ingest_now("t", second, None, None)
    assert action == "created" and other["id"] != original["id"]


def test_related_facts_link_and_unrelated_ones_do_not(engine: Engine) -> None:
    tea, _ = engine.ingest_now("t", "User likes green tea", None, None)
    coffee, _ = engine.ingest_now("t", "User likes black coffee", None, None)
    rent, _ = engine.ingest_now("t", "User's monthly rent is 1200 euros", None, None)
    edges = {frozenset((e["source"], e["target"])) for e in engine.graph_export("t")["edges"]}
    assert edges == {frozenset((tea["id"], coffee["id"]))}
    assert all(rent["id"] not in edge for edge in edges)
