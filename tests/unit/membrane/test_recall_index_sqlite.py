"""The embedded recall index store and ranking, without a daemon (pure file I/O).

Two store objects on one file stand for two processes: what one writes, the other ranks; a
removal or replacement by one reloads the other's vector matrix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from membrane_integrations.membrane.recall_index import Entry, RecallIndex, SQLiteStore
from membrane_integrations.membrane.recall_index._vectors import VectorMatrix
from membrane_integrations.membrane.types import MemoryRecord, SemanticPayload


def _unit(values: list[float]) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_two_stores_on_one_file_see_each_others_writes_and_removals(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    one, two = SQLiteStore(path), SQLiteStore(path)
    one.upsert([Entry("a", "c", "tea", "tea", _unit([1, 0]))])
    assert two.semantic("c", _unit([1, 0.1]), 5) == ["a"]
    one.upsert([Entry("b", "c", "coffee", "coffee", _unit([0, 1]))])
    assert two.semantic("c", _unit([0.1, 1]), 5) == ["b", "a"]  # appended rows picked up
    one.remove(["b"])
    assert two.semantic("c", _unit([0.1, 1]), 5) == ["a"]  # a removal reloads
    one.upsert([Entry("a", "c", "tea", "tea", _unit([0, 1]))])
    assert two.semantic("c", _unit([0, 1]), 1) == ["a"]
    assert two.lexical("c", ["tea"], 5) == ["a"] and two.lexical("other", ["tea"], 5) == []
    one.close()
    two.close()


def test_scopes_partition_every_ranking(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "i.sqlite3")
    store.upsert(
        [
            Entry("a1", "ann", "tea time", "tea time", _unit([1, 0])),
            Entry("b1", "bob", "tea party", "tea party", _unit([1, 0])),
        ]
    )
    assert store.lexical("ann", ["tea"], 5) == ["a1"]
    assert store.semantic("bob", _unit([1, 0]), 5) == ["b1"]
    assert store.recent("ann", 5) == ["a1"] and set(store.recent(None, 5)) == {"a1", "b1"}
    store.clear("ann")
    assert store.count("ann") == 0 and store.count("bob") == 1
    store.close()


def test_fts_query_text_is_never_an_operator(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "i.sqlite3")
    store.upsert([Entry("a", "c", "x", 'near OR "and" NOT *', None)])
    for hostile in (['"'], ["NEAR("], ["*"], ["a AND b"], ["col:x"], [""]):
        store.lexical("c", hostile, 5)  # never a syntax error
    store.close()


def test_vector_matrix_grows_and_ranks() -> None:
    matrix = VectorMatrix(2)
    for i in range(100):
        matrix.extend([f"r{i}"], [_unit([1.0, i / 100])])
    assert len(matrix) == 100
    assert matrix.top(_unit([1.0, 0.99]), 2) == ["r99", "r98"]
    assert matrix.top(np.zeros(2, dtype=np.float32), 5) == []


def test_retracted_or_redacted_records_are_never_indexed(tmp_path: Path) -> None:
    index = RecallIndex(SQLiteStore(tmp_path / "i.sqlite3"), embedder=None)
    fact = SemanticPayload(subject="user", predicate="said", object="hello there")
    index.on_written(MemoryRecord(id="live", scope="c", salience=1.0, payload=fact))
    index.on_written(MemoryRecord(id="dead", scope="c", salience=0.0, payload=fact))
    index.on_written(MemoryRecord(id="hidden", scope="c", salience=1.0, payload=None))
    assert index.store.known(["live", "dead", "hidden"]) == {"live"}
    assert index.add_records([MemoryRecord(id="live", scope="c", salience=1.0, payload=fact)]) == 0
    index.close()
