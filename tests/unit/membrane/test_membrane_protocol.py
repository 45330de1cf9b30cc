"""Each RPC's request building and reply parsing (pure; no channel)."""

from __future__ import annotations

import json

import pytest

from membrane_integrations.core.errors import MalformedResponseError
from membrane_integrations.membrane import (
    MemoryRecord,
    MemoryType,
    OutcomeStatus,
    Sensitivity,
    TaskState,
    TrustContext,
)
from membrane_integrations.membrane import _protocol as ops
from membrane_integrations.membrane.proto import membrane_pb2 as pb

RECORD = {
    "id": "r1",
    "type": "episodic",
    "sensitivity": "low",
    "confidence": 0.8,
    "salience": 1,
    "created_at": "2025-01-31T12:00:00Z",
    "updated_at": "2025-01-31T12:00:00Z",
    "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 3600}},
    "provenance": {"sources": []},
    "payload": {"kind": "episodic", "timeline": []},
    "audit_log": [],
}
RECORD_BYTES = json.dumps(RECORD).encode()


def test_ingest_event_request_and_defaults() -> None:
    call = ops.ingest_event("file_edit", "src/main.py", tags=["b", "a", "b"])
    r = call.request
    assert isinstance(r, pb.IngestEventRequest)
    assert (r.source, r.event_kind, r.ref, r.sensitivity, r.timestamp) == (
        "python-client",
        "file_edit",
        "src/main.py",
        "low",
        "",  # empty: the daemon's "now"
    )
    assert list(r.tags) == ["b", "a"]
    assert call.method == "IngestEvent" and not call.idempotent
    assert call.path == "/membrane.v1.MembraneService/IngestEvent"


def test_ingest_tool_output_encodes_json_bytes_compactly() -> None:
    r = ops.ingest_tool_output("t", args={"a": [1, 2]}, result={"ok": True}).request
    assert r.args == b'{"a":[1,2]}' and r.result == b'{"ok":true}'
    empty = ops.ingest_tool_output("t").request
    assert empty.args == b"" and empty.result == b""  # zero-length: absent
    zero = ops.ingest_tool_output("t", result=0).request
    assert zero.result == b"0"


def test_ingest_observation_always_encodes_object() -> None:
    r = ops.ingest_observation("s", "p", None, sensitivity=Sensitivity.HIGH).request
    assert r.object == b"null" and r.sensitivity == "high"
    assert ops.ingest_observation("s", "p", "é").request.object == '"é"'.encode()


def test_ingest_outcome_and_working_state() -> None:
    out = ops.ingest_outcome("r1", OutcomeStatus.FAILURE, timestamp="2025-01-31T12:00:00Z")
    assert (out.request.outcome_status, out.request.timestamp) == (
        "failure",
        "2025-01-31T12:00:00Z",
    )
    ws = ops.ingest_working_state(
        "t", TaskState.BLOCKED, active_constraints=[{"type": "x", "key": "k", "value": 1}]
    ).request
    assert ws.state == "blocked"
    assert json.loads(ws.active_constraints) == [{"type": "x", "key": "k", "value": 1}]
    assert ops.ingest_working_state("t", "done").request.active_constraints == b""


def test_retrieve_request_and_default_trust() -> None:
    call = ops.retrieve("task")
    assert call.idempotent and call.method == "Retrieve"
    assert call.request.HasField("trust") and call.request.trust.max_sensitivity == "low"
    assert (call.request.limit, call.request.min_salience) == (10, 0.0)
    trust = TrustContext(Sensitivity.HYPER, True, "agent", ["a", "b"])
    r = ops.retrieve_with_selection(
        "t", trust=trust, memory_types=[MemoryType.COMPETENCE, "semantic"], limit=0
    ).request
    assert (r.trust.max_sensitivity, r.trust.authenticated, r.trust.actor_id) == (
        "hyper",
        True,
        "agent",
    )
    assert list(r.trust.scopes) == ["a", "b"] and list(r.memory_types) == [
        "competence",
        "semantic",
    ]


def test_retrieve_parses_records_and_selection() -> None:
    reply = pb.RetrieveResponse(records=[RECORD_BYTES, RECORD_BYTES], selection=b"")
    records = ops.retrieve("t").parse(reply)
    assert [r.id for r in records] == ["r1", "r1"]
    result = ops.retrieve_with_selection("t").parse(reply)
    assert result.selection is None and len(result.records) == 2


def test_revision_requests_accept_dicts_and_records() -> None:
    rec = MemoryRecord.from_dict(RECORD)
    sup = ops.supersede("old", rec, "a", "why").request
    assert json.loads(sup.new_record)["id"] == "r1"
    given = {"type": "semantic", "payload": {}, "sensitivity": "high", "lifecycle": {"x": 1}}
    fork = ops.fork("src", given, "a", "why").request
    assert json.loads(fork.forked_record) == {
        **given,
        "lifecycle": {
            "x": 1,
            "decay": {"curve": "exponential", "half_life_seconds": 2592000},
            "deletion_policy": "auto_prune",
        },
    }
    assert given["lifecycle"] == {"x": 1}  # the caller's dict is not modified


def test_revision_records_drop_a_copied_source_id_and_get_ingest_defaults() -> None:
    copied = {"id": "src", "type": "episodic", "payload": {"kind": "episodic"}}
    sent = json.loads(ops.fork("src", copied, "a", "r").request.forked_record)
    assert "id" not in sent and copied["id"] == "src"
    assert sent["sensitivity"] == "low"
    assert sent["lifecycle"] == {
        "decay": {"curve": "exponential", "half_life_seconds": 3600},
        "deletion_policy": "auto_prune",
    }
    own = {"id": "new-id", "type": "working", "sensitivity": "medium"}
    sent = json.loads(ops.supersede("old", own, "a", "r").request.new_record)
    assert (sent["id"], sent["sensitivity"]) == ("new-id", "medium")
    assert sent["lifecycle"]["decay"]["half_life_seconds"] == 86400
    merged = json.loads(ops.merge(["a", "b"], {"id": "b"}, "x", "y").request.merged_record)
    assert merged == {"sensitivity": "low"}  # no type: no lifecycle guess
    merge = ops.merge(("a", "b"), {"type": "semantic"}, "actor", "r").request
    assert list(merge.ids) == ["a", "b"] and merge.actor == "actor"
    assert ops.merge(["a"], {}, "x", "y").method == "Merge"


@pytest.mark.parametrize(
    ("call", "method", "fields"),
    [
        (ops.retract("r", "a", "why"), "Retract", {"id": "r", "actor": "a"}),
        (ops.contest("r", "c", "a", "why"), "Contest", {"contesting_ref": "c"}),
        (ops.reinforce("r", "a", "why"), "Reinforce", {"rationale": "why"}),
        (ops.penalize("r", 0.2, "a", "why"), "Penalize", {"amount": 0.2}),
        (ops.retrieve_by_id("r"), "RetrieveByID", {"id": "r"}),
        (ops.get_metrics(), "GetMetrics", {}),
    ],
)
def test_other_rpcs(call: ops.Call[object], method: str, fields: dict[str, object]) -> None:
    assert call.method == method
    assert call.idempotent == (method in {"RetrieveByID", "GetMetrics"})
    for name, value in fields.items():
        assert getattr(call.request, name) == value


def test_empty_replies_parse_to_none_and_metrics_to_dict() -> None:
    assert ops.retract("r", "a", "b").parse(pb.RetractResponse()) is None
    snap = pb.MetricsResponse(snapshot=b'{"total_records": 3}')
    assert ops.get_metrics().parse(snap) == {"total_records": 3}
    with pytest.raises(MalformedResponseError):
        ops.get_metrics().parse(pb.MetricsResponse(snapshot=b"[]"))
    with pytest.raises(MalformedResponseError):
        ops.retrieve_by_id("r").parse(pb.MemoryRecordResponse(record=b"\xff\xfe"))
