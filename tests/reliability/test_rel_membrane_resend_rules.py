"""Membrane: which failed calls the client sends again, and which listings it trims (no server).

The live tests (test_rel_membrane_concurrent_writers.py) show each case on the real daemon; these
pin the edges: a write is re-sent only when the daemon said it rolled the write back, and a
listing drops only the records it caught mid-write, and a garbled reply still raises.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from membrane_integrations.membrane import _protocol as _codec
from membrane_integrations.membrane._flows import (
    _rolled_back_on_lock,
    _without_half_written,
)
from membrane_integrations.membrane.proto import membrane_pb2

LOCKED = "reinforce: update record r1: update memory_records: database is locked"


class Failed(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


CALLS = {
    "Reinforce": _codec.reinforce("r1", "actor", "why"),
    "Retract": _codec.retract("r1", "actor", "why"),
    "IngestEvent": _codec.ingest_event("kind", "ref"),
    "Retrieve": _codec.retrieve("task"),
}


@pytest.mark.parametrize(
    ("method", "code", "details", "resent"),
    [
        ("Reinforce", grpc.StatusCode.INTERNAL, LOCKED, True),
        ("Retract", grpc.StatusCode.INTERNAL, "retract: update record: database is locked", True),
        ("Reinforce", grpc.StatusCode.INTERNAL, "commit transaction: database is locked", False),
        ("Reinforce", grpc.StatusCode.INTERNAL, "reinforce: get record: disk I/O error", False),
        ("Reinforce", grpc.StatusCode.UNKNOWN, LOCKED, False),
        ("IngestEvent", grpc.StatusCode.INTERNAL, "insert tags: database is locked", False),
    ],
)
def test_a_write_is_resent_only_when_the_daemon_rolled_it_back(
    method: str, code: grpc.StatusCode, details: str, resent: bool
) -> None:
    assert _rolled_back_on_lock(code, Failed(code, details), CALLS[method]) is resent


def record(curve: str) -> bytes:
    return json.dumps({"id": "r1", "lifecycle": {"decay": {"curve": curve}}}).encode()


def reply(*records: bytes) -> Any:
    return membrane_pb2.RetrieveResponse(records=list(records))


@pytest.mark.parametrize(
    ("method", "records", "kept"),
    [
        ("Retrieve", [record("exponential"), record("")], [0]),
        ("Retrieve", [record(""), record("")], []),
        ("Retrieve", [record("exponential")], None),  # nothing to drop
        ("Retrieve", [b"{not json"], None),  # garbled: stays malformed
        ("IngestEvent", [record("")], None),
    ],
)
def test_a_listing_drops_only_records_caught_mid_write(
    method: str, records: list[bytes], kept: list[int] | None
) -> None:
    trimmed = _without_half_written(CALLS[method], reply(*records))
    if kept is None:
        assert trimmed is None
    else:
        assert list(trimmed.records) == [records[i] for i in kept]


def test_a_listing_with_a_record_mid_write_parses_without_it_and_garbage_still_raises() -> None:
    from membrane_integrations.core.errors import MalformedResponseError
    from membrane_integrations.membrane._flows import _parse

    done = {
        "id": "r1",
        "type": "episodic",
        "sensitivity": "low",
        "confidence": 1,
        "salience": 1,
        "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 60}},
    }
    half = {"id": "r2", "lifecycle": {"decay": {"curve": ""}}}
    listing = reply(json.dumps(done).encode(), json.dumps(half).encode())
    assert [r.id for r in _parse(CALLS["Retrieve"], listing)] == ["r1"]
    with pytest.raises(MalformedResponseError):
        _parse(CALLS["Retrieve"], reply(json.dumps(done).encode(), b"{not json"))
