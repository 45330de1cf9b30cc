"""Bookkeeping for the fault-injection runs: what the client saw, checked against the server.

Every add ends in exactly one bucket of :class:`Ledger`:

* ``created``: the client got the memory id;
* ``pending``: a typed error carrying the job id (``IngestTimeoutError``: polling gave up or
  failed for good); :func:`reconcile` resumes it with ``wait_for_job``;
* ``failed``: the job itself failed (``IngestFailedError``, job id known): nothing stored;
* ``refused``: the create got a 5xx (``ServerError``) and was not re-sent; the emulator fails
  such requests before the route runs, so nothing may be stored;
* ``cut``: the 202 reply was cut off (``MalformedResponseError``): the job exists but its id
  never reached the client. The client must not re-send, so at most one memory may exist.
  ``AddOutcomeUnknownError`` lands here too: every create failed ambiguously and the add token
  did not show up before ``wait_timeout``, so at most one memory may exist.

With add tokens on (the default), ``refused`` and ``cut`` stay empty except for that last case:
the client resolves an ambiguous create by looking its token up (``membrain/_resolve.py``).

:func:`reconcile` then reads the server's own table (the engine, not the API) and checks that no
content is stored twice and that the server count equals what the client accounts for.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from membrane_integrations.core.errors import (
    AddOutcomeUnknownError,
    IngestFailedError,
    IngestTimeoutError,
    MalformedResponseError,
    MembraneIntegrationsError,
    ServerError,
)
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain.models import IngestResult

__all__ = ["Ledger", "facts", "reconcile"]

_THINGS = ["anvil", "banjo", "cactus", "drone", "easel", "fiddle", "gazebo", "harp", "igloo"]
_COLOURS = ["amber", "cobalt", "crimson", "jade", "ochre", "slate", "teal", "violet"]
_PLACES = ["Lisbon", "Oslo", "Quito", "Hanoi", "Dakar", "Perth", "Tromso", "Cusco", "Accra"]


def facts(count: int, seed: int, label: str) -> list[str]:
    """``count`` distinct facts (each names its own number, so none is a near-duplicate)."""
    rng = random.Random(seed)
    return [
        f"{label} fact {i:04d}: the {rng.choice(_COLOURS)} {rng.choice(_THINGS)} number "
        f"{i * 7919 % 10007} is kept in {rng.choice(_PLACES)} and weighs {rng.randint(1, 999)} g"
        for i in range(count)
    ]


@dataclass
class Ledger:
    """What the client saw, per content (adds) and per kind (searches)."""

    created: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    cut: dict[str, str] = field(default_factory=dict)
    searches: Counter[str] = field(default_factory=Counter)
    seen_ids: set[str] = field(default_factory=set)

    def add_result(self, content: str, result: IngestResult) -> None:
        assert result.action == "created", f"distinct facts must not merge: {result}"
        self.created[content] = result.memory_id

    def add_error(self, content: str, error: MembraneIntegrationsError) -> None:
        """File an add that raised; anything not in the documented set fails the test."""
        if isinstance(error, IngestTimeoutError):
            self.pending[content] = error.job_id
        elif isinstance(error, IngestFailedError):
            self.failed[content] = error.job_id
        elif isinstance(error, ServerError) and "POST /api/v1/memories " in str(error):
            self.refused[content] = f"{error.status_code}"
        elif isinstance(error, MalformedResponseError) and "POST /api/v1/memories " in str(error):
            self.cut[content] = "truncated 202"
        elif isinstance(error, AddOutcomeUnknownError):
            self.cut[content] = "outcome unknown"
        else:
            raise AssertionError(f"undocumented add outcome: {error!r}") from error

    def search_result(self, node_ids: list[str]) -> None:
        self.searches["ok"] += 1
        self.seen_ids.update(node_ids)

    def search_error(self, error: MembraneIntegrationsError) -> None:
        self.searches[type(error).__name__] += 1

    @property
    def adds(self) -> int:
        return sum(map(len, (self.created, self.pending, self.failed, self.refused, self.cut)))

    def summary(self, resumed: int, resumed_failed: int, stored: int, cut_landed: int) -> str:
        return (
            f"{self.adds} adds: {len(self.created)} created, {len(self.pending)} typed errors "
            f"with job id (resumed: {resumed} created, {resumed_failed} failed), "
            f"{len(self.failed)} failed jobs (job id known), {len(self.refused)} refused by a "
            f"5xx (nothing stored), {len(self.cut)} cut-off 202 or outcome unknown "
            f"({cut_landed} stored once); "
            f"0 duplicates; server count {stored}. {sum(self.searches.values())} searches: "
            + ", ".join(f"{n} {k}" for k, n in sorted(self.searches.items()))
        )


def _table(emu: MembrainEmulator, api_key: str) -> list[dict[str, Any]]:
    tenant = emu.engine.tenant_id(api_key)
    nodes: list[dict[str, Any]] = emu.engine.graph_export(tenant)["nodes"]
    return nodes


def reconcile(emu: MembrainEmulator, api_key: str, ledger: Ledger, resume: Any) -> str:
    """Check the server against the ledger (faults must be off); return the summary line.

    ``resume(job_id)`` is the client's ``wait_for_job`` (sync callable).
    """
    assert emu.engine.wait_idle(), "ingest jobs still running after 10 s"
    resumed: dict[str, str] = {}
    resumed_failed = 0
    for content, job_id in ledger.pending.items():
        try:
            resumed[content] = resume(job_id).memory_id
        except IngestFailedError as exc:
            assert exc.job_id == job_id
            resumed_failed += 1
    rows = _table(emu, api_key)
    contents = Counter(row["content"] for row in rows)
    duplicates = {c: n for c, n in contents.items() if n > 1}
    assert not duplicates, f"stored more than once: {duplicates}"
    stored = {row["content"]: row["id"] for row in rows}
    for content, memory_id in {**ledger.created, **resumed}.items():
        assert stored.get(content) == memory_id, f"client's id for {content!r} not stored"
    for content in (*ledger.failed, *ledger.refused):
        assert content not in stored, f"{content!r} stored although the client saw no job"
    cut_landed = sum(content in stored for content in ledger.cut)
    accounted = len(ledger.created) + len(resumed) + cut_landed
    assert len(rows) == accounted, f"server has {len(rows)}, the client accounts for {accounted}"
    assert set(stored) <= {*ledger.created, *resumed, *ledger.cut}, "a memory nobody added"
    assert ledger.seen_ids <= set(stored.values()), "a search returned an id not in the table"
    return ledger.summary(len(resumed), resumed_failed, len(rows), cut_landed)
