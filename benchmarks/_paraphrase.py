"""The labelled paraphrase set and recall@k of the emulator's search on it.

``benchmarks/data/paraphrase_recall.json`` holds facts and questions that share no content
word with their fact. Each fact is ingested through the worker's path (``Engine.ingest_now``:
embedding, near-duplicate check, linking) into one tenant; each question is searched with the
emulator's own ``Engine.search`` (raw format, ``k=20``: nodes and relationship edges ranked
together) and the rank of its fact among the returned memory nodes is recorded. Used by
``benchmarks/emulator_scale.py`` (as ``_paraphrase``) and by
``tests/unit/embeddings/test_paraphrase_recall.py`` (as ``benchmarks._paraphrase``; benchmarks
never import tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from membrane_integrations.emulator import Engine
from membrane_integrations.emulator.embeddings import EmbeddingsLike

SET_PATH = Path(__file__).resolve().parent / "data" / "paraphrase_recall.json"


@dataclass(frozen=True)
class Recall:
    at1: float
    at3: float
    misses: list[tuple[str, str]]  # (question, the fact ranked first instead)
    created: int  # facts stored as new memories (the rest were merged as duplicates)
    total: int


def load_set() -> list[tuple[str, str]]:
    """``(fact, question)`` pairs."""
    items = json.loads(SET_PATH.read_text(encoding="utf-8"))["items"]
    return [(item["fact"], item["question"]) for item in items]


def measure(embeddings: EmbeddingsLike) -> Recall:
    """Recall@1 and recall@3 of the emulator's search with ``embeddings`` on the set."""
    pairs = load_set()
    engine = Engine(embeddings)
    try:
        tenant = "paraphrase-set"
        ids: list[str] = []
        created = 0
        for fact, _ in pairs:
            memory, action = engine.ingest_now(tenant, fact, ["container.eval"], None)
            ids.append(memory["id"])
            created += action == "created"
        content = {mid: fact for mid, (fact, _) in zip(ids, pairs, strict=True)}
        hits1 = hits3 = 0
        misses: list[tuple[str, str]] = []
        for expected, (_, question) in zip(ids, pairs, strict=True):
            found = engine.search(tenant, question, k=20, scope=["^container\\.eval$"])
            nodes = [r["id"] for r in found["results"] if r.get("type") == "memory_node"]
            hits1 += nodes[:1] == [expected]
            hits3 += expected in nodes[:3]
            if nodes[:1] != [expected]:
                misses.append((question, content.get(nodes[0], "?") if nodes else "-"))
        n = len(pairs)
        return Recall(hits1 / n, hits3 / n, misses, created, n)
    finally:
        engine.close()
