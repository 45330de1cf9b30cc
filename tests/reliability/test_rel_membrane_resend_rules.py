"""Membrane: which failed calls the client sends again (pure rules, no server).

The live tests (test_rel_membrane_concurrent_writers.py) show each case on the real daemon; these
pin the edges: a write is re-sent only when the daemon said it rolled the write back, and a
listing is read again only when it caught a record mid-write, never for a garbled reply.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from membrane_integrations.membrane import _codec
from membrane_integrations.membrane.client import (
    _lists_a_half_written_record,
    _rolled_back_on_lock,
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
    ("method", "records", "again"),
    [
        ("Retrieve", [record("exponential"), record("")], True),
        ("Retrieve", [record("exponential")], False),
        ("Retrieve", [b"{not json", record("")], False),  # garbled: not a reason to resend
        ("IngestEvent", [record("")], False),
    ],
)
def test_a_listing_is_read_again_only_when_it_caught_a_record_mid_write(
    method: str, records: list[bytes], again: bool
) -> None:
    assert _lists_a_half_written_record(CALLS[method], reply(*records)) is again
