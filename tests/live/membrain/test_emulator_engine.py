"""The emulator's engine, index, embedder and synthesis, called directly (no HTTP)."""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from membrane_integrations.emulator import Engine, HashingEmbeddings
from membrane_integrations.emulator.embeddings import cosine
from membrane_integrations.emulator.graph import links_among, shortest_path, within_hops
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


def _settled_mask(idx: TenantIndex, patterns: tuple[str, ...]) -> list[bool]:
    """What the engine does: match the tokens the memo lacks, then ask for the mask."""
    missing = idx.memo.missing(patterns, idx.token_log, generation=idx.generation)
    if missing:
        idx.memo.learn(patterns, missing)
    assert idx.memo.missing(patterns, idx.token_log, generation=idx.generation) == []
    return list(idx.scope_mask(patterns).tolist())


def test_cached_scope_masks_follow_inserts_and_updates() -> None:
    idx = TenantIndex(dims=4)
    vec = np.ones(4, dtype=np.float32) / 2
    idx.add_node("a", ("container.x", "type.a"), None, vec)
    patterns = ("^container\\.x$", "type\\.(a|b)")
    assert _settled_mask(idx, patterns) == [True]
    for i in range(100):  # grows past the cached mask's first capacity
        idx.add_node(f"n{i}", ("container.x", f"type.{'b' if i % 2 else 'c'}"), None, vec)
    idx.update_node("a", ("container.y", "type.a"), None, vec)
    expected = [False] + [i % 2 == 1 for i in range(100)]
    assert _settled_mask(idx, patterns) == expected
    fresh = TenantIndex(dims=4)
    for mid, scope in zip(idx.ids, idx.scopes, strict=True):
        fresh.add_node(mid, scope, None, vec)
    assert _settled_mask(fresh, patterns) == expected


def test_an_unsettled_token_never_widens_a_scope() -> None:
    idx = TenantIndex(dims=4)
    vec = np.ones(4, dtype=np.float32) / 2
    idx.add_node("a", ("container.x",), None, vec)
    # nothing learned yet: no token counts as a hit, so nothing is in scope
    assert idx.scope_mask(("^container\\.x$",)).tolist() == [False]


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


def test_reads_and_deletes_past_one_sql_chunk() -> None:
    """Id lists go to SQLite in chunks of 500; 1,201 ids cross two chunk boundaries."""
    engine = Engine(HashingEmbeddings())
    try:
        t = engine.tenant_id("emu-chunks")
        ids = engine.bulk_load(t, [(f"Fact {i}", ["container.c"], None) for i in range(1201)])
        many = engine.get_many(t, [*ids, "missing", ids[0]])
        assert [m["id"] for m in many["memories"]] == ids
        assert many["missing_ids"] == ["missing"]
        assert [n["id"] for n in engine.graph_export(t)["nodes"]] == ids
        deleted = engine.delete_bulk(t, scope=["^container\\.c$"])
        assert deleted["deleted_count"] == 1201
        assert engine.count(t) == 0 and engine.get_many(t, ids)["memories"] == []
    finally:
        engine.close()


def test_graph_searches_on_a_small_graph() -> None:
    adjacency = {
        "a": {"b": "a-b", "c": "a-c"},
        "b": {"a": "a-b", "d": "b-d"},
        "c": {"a": "a-c", "d": "c-d"},
        "d": {"b": "b-d", "c": "c-d"},
        "lone": {},
    }
    assert shortest_path(adjacency, "a", "d") == ["a", "b", "d"]  # ties: neighbours in id order
    assert shortest_path(adjacency, "a", "lone") is None
    assert within_hops(adjacency, "a", 1) == {"a": 0, "b": 1, "c": 1}
    assert within_hops(adjacency, "a", 2) == {"a": 0, "b": 1, "c": 1, "d": 2}
    assert links_among(adjacency, ["a", "b", "d"]) == [("a", "b", "a-b"), ("b", "d", "b-d")]


class _PoisonedLinks(HashingEmbeddings):
    """Fails to embed a link description that mentions "poison" (after the memory row is in)."""

    def embed_matrix(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if any(t.startswith("How") and "poison" in t for t in texts):
            raise RuntimeError("embedder down")
        return super().embed_matrix(texts)


def test_a_job_that_fails_midway_leaves_nothing_and_the_worker_goes_on() -> None:
    engine = Engine(_PoisonedLinks())
    try:
        t = engine.tenant_id("emu-job-failure")
        first = engine.submit_ingest(t, "User likes green tea", ["container.j"], None)
        assert engine.wait_idle()
        assert engine.get_job(t, first["job_id"])["status"] == "completed"
        failed = engine.submit_ingest(t, "User likes green tea with poison", ["container.j"], None)
        done = engine.submit_ingest(t, "The deploy is on Friday", ["container.j"], None)
        assert engine.wait_idle()
        bad = engine.get_job(t, failed["job_id"])
        assert bad["status"] == "failed" and "embedder down" in bad["error"]["message"]
        assert engine.get_job(t, done["job_id"])["status"] == "completed"
        # The memory row written before the link failed was rolled back, index included.
        contents = [n["content"] for n in engine.graph_export(t)["nodes"]]
        assert contents == ["User likes green tea", "The deploy is on Friday"]
        hits = engine.search(t, "poison", k=10)["results"]
        assert all("poison" not in r.get("content", "") for r in hits)
    finally:
        engine.close()


def test_scope_patterns_are_never_matched_with_the_store_lock_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every entry point that matches caller patterns does it with the lock free: another
    thread can take the lock at that moment (checked without waiting)."""
    from membrane_integrations.emulator.scope_memo import ScopeMemo

    eng = Engine(HashingEmbeddings())
    free: list[bool] = []
    learn = ScopeMemo.learn

    def watched(self: ScopeMemo, patterns: tuple[str, ...], tokens: object) -> None:
        import threading

        seen: list[bool] = []

        def probe() -> None:
            got = eng.store.lock.acquire(blocking=False)
            seen.append(got)
            if got:
                eng.store.lock.release()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        free.append(seen[0])
        learn(self, patterns, tokens)  # type: ignore[arg-type]

    monkeypatch.setattr(ScopeMemo, "learn", watched)
    t = eng.tenant_id("emu-lock-free")
    try:
        a, _ = eng.ingest_now(t, "Invoice 12 baits the matcher", ["a" * 30 + "!"], None)
        job = eng.submit_ingest(t, "Receipt 7 through the worker", ["(a+)+$", "b.c"], None)
        assert eng.wait_idle()
        assert eng.get_job(t, job["job_id"])["status"] == "completed"
        eng.search(t, "invoice", scope=["(a+)+$"])
        eng.count(t, ["(x+)+y"])
        eng.graph_traverse(t, a["id"], "invoice", scope=["a{2,255}"])
        eng.update(t, a["id"], None, ["c+d", "(e|f)+"])
        eng.delete_bulk(t, scope=["^nothing(x+)+$"])
    finally:
        eng.close()
    assert len(free) >= 6 and all(free), free
