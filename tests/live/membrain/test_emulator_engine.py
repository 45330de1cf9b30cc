"""The emulator's engine, index, embedder and synthesis, called directly (no HTTP)."""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Iterator

import numpy as np
import pytest

from membrane_integrations.emulator import Engine, HashingEmbeddings
from membrane_integrations.emulator.embeddings import cosine
from membrane_integrations.emulator.index import TenantIndex, matvec
from membrane_integrations.emulator.synthesis import Hit, interpret

MODULES = [
    "membrane_integrations.emulator.embeddings",
    "membrane_integrations.emulator.engine",
    "membrane_integrations.emulator.errors",
    "membrane_integrations.emulator.faults",
    "membrane_integrations.emulator.graph",
    "membrane_integrations.emulator.index",
    "membrane_integrations.emulator.ingest",
    "membrane_integrations.emulator.jobs",
    "membrane_integrations.emulator.quotas",
    "membrane_integrations.emulator.search",
    "membrane_integrations.emulator.storage",
    "membrane_integrations.emulator.synthesis",
    "membrane_integrations.emulator.wire",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.fixture
def engine() -> Iterator[Engine]:
    eng = Engine()
    yield eng
    eng.close()


def test_related_wording_scores_above_unrelated_wording() -> None:
    emb = HashingEmbeddings()
    query = emb.embed_query("What drinks does the user like?")
    tea, deploy = emb.embed_documents(["User likes green tea", "The deploy is on Friday"])
    assert cosine(query, tea) > cosine(query, deploy) + 0.2
    again = HashingEmbeddings().embed_query("What drinks does the user like?")
    assert again == query  # deterministic across instances (no salted hash)
    assert np.isclose(np.linalg.norm(query), 1.0)
    negated = emb.embed_query("User does not like green tea")
    assert cosine(tea, negated) < 0.95  # a negation is not a near-duplicate


def test_blocked_matvec_equals_the_plain_product() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((2500, 16)).astype(np.float32)
    vec = rng.standard_normal(16).astype(np.float32)
    assert np.allclose(matvec(matrix, vec), matrix @ vec, atol=1e-5)


def test_cached_scope_masks_follow_inserts_and_updates() -> None:
    idx = TenantIndex(dims=4)
    vec = np.ones(4, dtype=np.float32) / 2
    idx.add_node("a", ("container.x", "type.a"), None, vec)
    patterns = ("^container\\.x$", "type\\.(a|b)")
    assert idx.scope_mask(patterns).tolist() == [True]
    for i in range(100):  # grows past the cached mask's first capacity
        idx.add_node(f"n{i}", ("container.x", f"type.{'b' if i % 2 else 'c'}"), None, vec)
    idx.update_node("a", ("container.y", "type.a"), None, vec)
    expected = [False] + [i % 2 == 1 for i in range(100)]
    assert idx.scope_mask(patterns).tolist() == expected
    fresh = TenantIndex(dims=4)
    for mid, scope in zip(idx.ids, idx.scopes, strict=True):
        fresh.add_node(mid, scope, None, vec)
    assert fresh.scope_mask(patterns).tolist() == expected


def test_ingest_links_merges_and_search_sees_deletes(engine: Engine) -> None:
    t = engine.tenant_id("emu-engine")
    tea, action = engine.ingest_now(t, "User likes green tea", ["container.e"], None)
    assert action == "created"
    tea2, _ = engine.ingest_now(t, "User likes green tea every morning", ["container.e"], None)
    assert [link["memory_id"] for link in tea2["links"]] == [tea["id"]]
    assert "green" in tea2["links"][0]["description"]
    merged, action = engine.ingest_now(t, "User likes green tea!", ["container.e"], None)
    assert action == "updated" and merged["id"] == tea["id"]
    engine.delete(t, tea["id"])
    ids = [r["id"] for r in engine.search(t, "green tea", k=10)["results"] if "id" in r]
    assert tea["id"] not in ids and tea2["id"] in ids


def test_bulk_load_is_searchable_without_links(engine: Engine) -> None:
    t = engine.tenant_id("emu-bulk")
    ids = engine.bulk_load(
        t, [(f"Fact number {i} about tea", ["container.b"], None) for i in range(50)]
    )
    assert engine.count(t) == 50 and engine.stats(t)["total_links"] == 0
    top = engine.search(t, "Fact number 7 about tea", k=1)["results"][0]
    assert top["id"] == ids[7]


def test_the_ingest_worker_runs_queued_jobs(engine: Engine) -> None:
    t = engine.tenant_id("emu-worker")
    jobs = [engine.submit_ingest(t, f"Queued fact {i} about boats", None, None) for i in range(5)]
    assert engine.wait_idle(timeout=10)
    states = [engine.get_job(t, j["job_id"]) for j in jobs]
    assert all(s["status"] == "completed" for s in states)
    assert len({s["result"]["memory_id"] for s in states}) == 5


def test_synthesis_flags_numbers_that_disagree() -> None:
    hits = [
        Hit("m1", "The office has 12 desks.", 0.8),
        Hit("m2", "The office has 15 desks.", 0.7),
    ]
    block = interpret("How many desks does the office have?", hits, [])
    assert any("different numbers" in c for c in block["conflicts_or_uncertainties"])
    assert block["supporting_memory_ids"] == ["m1", "m2"]
    empty = interpret("anything", [], [])
    assert empty["confidence"] == 0.0 and empty["supporting_memory_ids"] == []
