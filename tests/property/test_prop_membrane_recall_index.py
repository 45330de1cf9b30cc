"""Property: whatever the recall index holds, recall through it never widens what a caller sees.

A real membraned holds records of two containers and of no container, at every sensitivity, some
retracted. For generated callers (container, ceiling, extra trust scopes), generated index
contents (any mix of real ids, of any container or sensitivity, and ids the daemon never had,
filed under the caller's container) and generated queries, every record recalled, sync or async,
is of the caller's container, at or under its ceiling, live, and one the daemon has.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from membrane_integrations.membrane.recall_index import Entry, RecallIndex, SQLiteStore
from membrane_integrations.membrane.tenancy import MembraneView
from membrane_integrations.membrane.types import MemoryRecord, Sensitivity, TrustContext
from tests.support.membraned import Membraned, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]

LIVE = settings.get_profile("tenancy")
API_KEY = "prop-recall-index"
LEVELS = [s for s in Sensitivity]
SCOPES = ("ann", "bob", "")
WORDS = ["tea", "launch", "code", "garden", "invoice", "meeting", "falcon", "printer"]


@pytest.fixture(scope="module")
def daemon() -> Iterator[Membraned]:
    with Membraned(require_daemon(), api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def corpus(daemon: Membraned) -> dict[str, MemoryRecord]:
    """Every record the daemon holds, by id, as written (retracted ones with salience 0)."""
    records: dict[str, MemoryRecord] = {}
    with daemon.client(timeout=10) as plain:
        for i, (scope, level) in enumerate((s, lv) for s in SCOPES for lv in LEVELS):
            text = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 3) % len(WORDS)]} note {i}"
            rec = plain.ingest_observation("user", "said", text, scope=scope, sensitivity=level)
            if i % 4 == 3:
                plain.retract(rec.id, "tester", "gone")
                rec = plain.retrieve_by_id(rec.id, trust=TrustContext(Sensitivity.HYPER))
            records[rec.id] = rec
    return records


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecallIndex]:
    path: Path = tmp_path_factory.mktemp("prop-recall") / "recall.sqlite3"
    built = RecallIndex(SQLiteStore(path), embedder=None, sync_interval=60.0)
    yield built
    built.close()


def _level(value: Any) -> int:
    return LEVELS.index(Sensitivity(getattr(value, "value", value)))


@settings(LIVE)
@given(
    scope=st.sampled_from(SCOPES[:2]),
    ceiling=st.sampled_from(LEVELS),
    extra_scopes=st.lists(st.sampled_from([*SCOPES, "zed"]), max_size=2),
    stuffed=st.lists(st.integers(0, 10_000), max_size=12),
    bogus=st.integers(0, 3),
    query=st.lists(st.sampled_from(WORDS), min_size=0, max_size=3).map(" ".join),
    limit=st.integers(1, 20),
    run_async=st.booleans(),
)
async def test_recall_never_returns_beyond_ceiling_scope_or_container(
    daemon: Membraned,
    corpus: dict[str, MemoryRecord],
    index: RecallIndex,
    scope: str,
    ceiling: Sensitivity,
    extra_scopes: list[str],
    stuffed: list[int],
    bogus: int,
    query: str,
    limit: int,
    run_async: bool,
) -> None:
    ids = sorted(corpus)
    # whatever the index holds: real records of any container or sensitivity, and ghosts,
    # all filed under the caller's container
    chosen = [corpus[ids[i % len(ids)]] for i in stuffed]
    entries = index.entries(chosen)
    entries = [Entry(e.id, scope, e.text, e.terms, e.vector) for e in entries]
    ghosts = [f"ghost-{uuid.uuid4().hex}" for _ in range(bogus)]
    entries += [Entry(g, scope, query or "tea", query or "tea") for g in ghosts]
    index.store.upsert(entries)
    trust = TrustContext(max_sensitivity=ceiling, actor_id="prop", scopes=[scope, *extra_scopes])
    view = MembraneView(trust, scope=scope)
    if run_async:
        async with daemon.async_client(timeout=10) as aclient:
            assert isinstance(aclient, AsyncMembraneClient)
            aclient.recall_index = index
            got = await aclient.recall(query, view=view, limit=limit)
    else:
        with daemon.client(timeout=10) as client:
            assert isinstance(client, MembraneClient)
            client.recall_index = index
            got = client.recall(query, view=view, limit=limit)
    assert len(got) <= limit
    for record in got:
        assert record.id in corpus, "a record the daemon never had"
        assert record.scope == scope, "a record of another container"
        assert _level(record.sensitivity) <= _level(ceiling), "a record above the ceiling"
        assert record.salience > 0.0 and not record.redacted
    assert not index.store.known(ghosts) & {r.id for r in got}
