"""TEST DOUBLE of membraned v0.2.0: an in-process ``grpc.server`` for client tests. Not shipped.

Every test that a real membraned can serve runs on the real daemon (the package launcher finds or
builds it). This double stays for what a daemon cannot do on demand: inject a status on the next
calls (``fail_next``), hold a call in flight (``hold``), corrupt a reply (``corrupt``). It
implements the 15 RPCs of ``membrane.v1.MembraneService`` by the behaviour documented in
``shared/spec/membrane-grpc-v1.md`` (records kept in a dict; ingestion, trust gating and redaction,
salience filter, selection and ranking, revisions with their audit entries, reinforce/penalize,
metrics, the documented status codes and messages) closely enough for client tests. It is NOT the
daemon: anything not covered by the spec (background decay, storage CHECK failures, rate limiting)
is not modelled, and tests that must prove daemon behaviour live in
``tests/live/membrane/test_membraned.py``.

Test hooks: ``fail_next(method, code, n)`` injects statuses, ``hold(method)`` blocks a handler
until released (for deadline tests), ``corrupt(method)`` returns invalid JSON in the reply's
bytes field, and ``calls`` logs every call with its metadata.

Example::

    with MembraneDouble(api_key="k") as double:
        with MembraneClient(double.addr, api_key="k") as client:
            client.ingest_event("file_edit", "src/main.py")
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import grpc

from membrane_integrations.membrane.proto import membrane_pb2 as pb
from membrane_integrations.membrane.proto import membrane_pb2_grpc as pb_grpc

SENSITIVITY = ["public", "low", "medium", "high", "hyper"]
MEMORY_TYPES = ["episodic", "working", "semantic", "competence", "plan_graph"]
OUTCOMES = ["success", "failure", "partial"]
TASK_STATES = ["planning", "executing", "blocked", "waiting", "done"]
MAX_STRING = 100_000
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: str) -> datetime | None:
    if not value or value.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


def _enc(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _invalid(message: str) -> _Abort:
    return _Abort(grpc.StatusCode.INVALID_ARGUMENT, message)


def _check_len(**fields: str) -> None:
    for name, value in fields.items():
        if len(value.encode()) > MAX_STRING:
            raise _invalid(f"{name} exceeds maximum length of {MAX_STRING}")


def _check_tags(tags: list[str]) -> None:
    if len(tags) > 100:
        raise _invalid(f"too many tags: {len(tags)} (max 100)")
    if any(len(t.encode()) > 256 for t in tags):
        raise _invalid("tag exceeds maximum length of 256")
    if len(set(tags)) != len(tags):
        raise _Abort(grpc.StatusCode.INTERNAL, "UNIQUE constraint failed: tags")


def _check_sensitivity(value: str) -> None:
    if value and value not in SENSITIVITY:
        raise _invalid("sensitivity must be one of: public, low, medium, high, hyper")


def _check_timestamp(value: str) -> str:
    if not value:
        return _now()
    if not _TIMESTAMP.match(value):
        raise _invalid(f"invalid timestamp: parsing time {value!r}")
    return value


def _json_field(name: str, data: bytes, default: Any = None) -> Any:
    if not data:
        return default
    try:
        return json.loads(data)
    except ValueError as exc:
        raise _invalid(f"invalid {name} JSON: {exc}") from None


def _require(**fields: str) -> None:
    for name, value in fields.items():
        if not value:
            raise _invalid(f"ingestion: classify: ingestion policy: {name} is required")


@dataclass
class RecordedCall:
    """One call the double received."""

    method: str
    metadata: dict[str, str]
    request: Any


@dataclass
class _Faults:
    fail: dict[str, list[tuple[grpc.StatusCode, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    holds: dict[str, threading.Event] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)


class _Servicer(pb_grpc.MembraneServiceServicer):  # type: ignore[misc]
    def __init__(self, double: MembraneDouble) -> None:
        self.d = double

    def __getattribute__(self, name: str) -> Any:
        # Every RPC goes through _handle (auth, faults, call log, status mapping).
        if name[:1].isupper() and hasattr(MembraneDouble, f"_rpc_{name}"):
            d = object.__getattribute__(self, "d")
            return lambda request, context: d._handle(name, request, context)
        return object.__getattribute__(self, name)


class MembraneDouble:
    """TEST DOUBLE of membraned on 127.0.0.1 (plaintext or TLS). Not the real daemon."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        tls_cert: bytes | None = None,
        tls_key: bytes | None = None,
        selection_threshold: float = 0.7,
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[RecordedCall] = []
        self.selection_threshold = selection_threshold
        self._faults = _Faults()
        self._lock = threading.RLock()
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=32), options=[("grpc.so_reuseport", 0)]
        )
        pb_grpc.add_MembraneServiceServicer_to_server(_Servicer(self), self._server)
        if tls_cert is not None and tls_key is not None:
            creds = grpc.ssl_server_credentials([(tls_key, tls_cert)])
            self.port = self._server.add_secure_port(f"127.0.0.1:{port}", creds)
        else:
            self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        self.addr = f"127.0.0.1:{self.port}"

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> MembraneDouble:
        self._server.start()
        return self

    def stop(self) -> None:
        for event in self._faults.holds.values():
            event.set()
        self._server.stop(grace=None).wait(5)

    def __enter__(self) -> MembraneDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test hooks --------------------------------------------------------------------------

    def fail_next(
        self, method: str, code: grpc.StatusCode, times: int = 1, message: str = "injected"
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``code``."""
        self._faults.fail[method].extend([(code, message)] * times)

    def hold(self, method: str) -> threading.Event:
        """Block ``method`` handlers until the returned event is set (or the double stops)."""
        event = threading.Event()
        self._faults.holds[method] = event
        return event

    def corrupt(self, method: str) -> None:
        """Answer ``method`` with invalid JSON in the reply's bytes field."""
        self._faults.corrupt.add(method)

    def calls_of(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    # --- dispatch ----------------------------------------------------------------------------

    def _handle(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.calls.append(RecordedCall(method, metadata, request))
        if self.api_key is not None and metadata.get("authorization") != f"Bearer {self.api_key}":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or missing API key")
        hold = self._faults.holds.get(method)
        if hold is not None:
            hold.wait(10)
        if self._faults.fail[method]:
            code, message = self._faults.fail[method].pop(0)
            context.abort(code, message)
        handler: Callable[[Any], Any] = getattr(self, f"_rpc_{method}")
        try:
            with self._lock:
                reply = handler(request)
        except _Abort as exc:
            context.abort(exc.code, exc.message)
        if method in self._faults.corrupt:
            for name in ("record", "snapshot"):
                if hasattr(reply, name):
                    setattr(reply, name, b"{not json")
            if hasattr(reply, "records"):
                del reply.records[:]
                reply.records.append(b"[1, 2")
        return reply

    # --- helpers -----------------------------------------------------------------------------

    def _new_record(
        self,
        *,
        type_: str,
        confidence: float,
        half_life: int,
        sensitivity: str,
        scope: str,
        tags: list[str],
        source_kind: str,
        source_ref: str,
        source: str,
        timestamp: str,
        payload: dict[str, Any],
        what: str,
    ) -> dict[str, Any]:
        now = _now()
        record: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": type_,
            "sensitivity": sensitivity or "low",
            "confidence": confidence,
            "salience": 1,
            "created_at": now,
            "updated_at": now,
            "lifecycle": {
                "decay": {"curve": "exponential", "half_life_seconds": half_life},
                "last_reinforced_at": now,
                "deletion_policy": "auto_prune",
            },
            "provenance": {
                "sources": [
                    {
                        "kind": source_kind,
                        "ref": source_ref,
                        "created_by": source,
                        "timestamp": timestamp,
                    }
                ],
                "created_by": "ingestion-service",
            },
            "payload": payload,
            "audit_log": [
                {
                    "action": "create",
                    "actor": "ingestion-service",
                    "timestamp": now,
                    "rationale": f"Ingested {what} from {source}",
                }
            ],
        }
        if scope:
            record["scope"] = scope
        if tags:
            record["tags"] = list(tags)
        self.records[record["id"]] = record
        return record

    def _get(self, record_id: str) -> dict[str, Any]:
        record = self.records.get(record_id)
        if record is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"record not found: {record_id}")
        return record

    def _revisable(self, record_id: str) -> dict[str, Any]:
        record = self._get(record_id)
        if record["type"] == "episodic":
            raise _Abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"episodic memory is immutable and cannot be revised: record {record_id}",
            )
        return record

    @staticmethod
    def _audit(record: dict[str, Any], action: str, actor: str, rationale: str) -> None:
        record["audit_log"].append(
            {"action": action, "actor": actor, "timestamp": _now(), "rationale": rationale}
        )

    @staticmethod
    def _set_revision_status(record: dict[str, Any], status: str) -> None:
        payload = record.get("payload") or {}
        if payload.get("kind") == "semantic":
            payload.setdefault("revision", {})["status"] = status

    def _parse_record(self, name: str, data: bytes) -> dict[str, Any]:
        if len(data) > 10_485_760:
            raise _invalid(f"{name} exceeds maximum payload size of 10485760 bytes")
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise _invalid(f"invalid {name}: {exc}") from None
        if not isinstance(doc, dict):
            raise _invalid(f"invalid {name}: not an object")
        doc = {k.lower(): v for k, v in doc.items()}
        if "payload" not in doc:
            raise _invalid(f"invalid {name}: unexpected end of JSON input")
        if not doc.get("type"):
            raise _invalid("validation error for type: type is required")
        if doc.get("sensitivity") not in SENSITIVITY:
            raise _invalid("validation error for sensitivity: invalid sensitivity")
        confidence = doc.get("confidence", 0)
        if not 0 <= confidence <= 1:
            raise _invalid("validation error for confidence: must be between 0 and 1")
        if doc.get("salience", 0) < 0:
            raise _invalid("validation error for salience: must be non-negative")
        payload = doc.get("payload")
        if not isinstance(payload, dict) or payload.get("kind") not in MEMORY_TYPES:
            raise _invalid("validation error for payload: payload is required")
        record_id = doc.get("id") or str(uuid.uuid4())
        if record_id in self.records:
            raise _Abort(grpc.StatusCode.ALREADY_EXISTS, f"record already exists: {record_id}")
        provenance = doc.get("provenance") or {"sources": None}
        semantic = doc["type"] == "semantic" and payload["kind"] == "semantic"
        if semantic and not payload.get("evidence") and not (provenance.get("sources") or []):
            raise _invalid("semantic revision requires evidence")
        now = _now()
        record = {
            "id": record_id,
            "type": doc["type"],
            "sensitivity": doc["sensitivity"],
            "confidence": confidence,
            "salience": doc.get("salience", 0),
            "created_at": now,
            "updated_at": now,
            "lifecycle": doc.get("lifecycle")
            or {"decay": {"curve": "exponential", "half_life_seconds": 0}},
            "provenance": provenance,
            "payload": payload,
            "audit_log": list(doc.get("audit_log") or []),
        }
        record["lifecycle"].setdefault("last_reinforced_at", "0001-01-01T00:00:00Z")
        record["lifecycle"].setdefault("deletion_policy", "auto_prune")
        for key in ("scope", "tags", "relations"):
            if doc.get(key):
                record[key] = doc[key]
        return record

    @staticmethod
    def _relation(predicate: str, target: str) -> dict[str, Any]:
        return {"predicate": predicate, "target_id": target, "weight": 1, "created_at": _now()}

    @staticmethod
    def _trust(trust: pb.TrustContext, has_trust: bool) -> tuple[int, list[str]]:
        if not has_trust:
            raise _invalid("trust context is required")
        if not trust.max_sensitivity:
            raise _invalid("trust.max_sensitivity is required")
        if trust.max_sensitivity not in SENSITIVITY:
            raise _invalid("trust.max_sensitivity must be one of: public, low, medium, high, hyper")
        return SENSITIVITY.index(trust.max_sensitivity), list(trust.scopes)

    @staticmethod
    def _visible(record: dict[str, Any], level: int, scopes: list[str]) -> bool:
        scope = record.get("scope", "")
        return SENSITIVITY.index(record["sensitivity"]) <= level and (
            not scopes or not scope or scope in scopes
        )

    @staticmethod
    def _redacted(record: dict[str, Any]) -> dict[str, Any]:
        copy = {
            k: record[k]
            for k in (
                "id",
                "type",
                "sensitivity",
                "confidence",
                "salience",
                "scope",
                "tags",
                "created_at",
                "updated_at",
            )
            if k in record
        }
        copy["lifecycle"] = {
            "decay": {"curve": "exponential", "half_life_seconds": 0},
            "last_reinforced_at": "0001-01-01T00:00:00Z",
            "deletion_policy": "auto_prune",
        }
        copy["provenance"] = {"sources": []}
        copy["payload"] = None
        copy["audit_log"] = []
        return copy

    @staticmethod
    def _score(record: dict[str, Any]) -> float:
        payload = record.get("payload")
        if payload is None:
            return 0.5
        applicability = float(record.get("confidence", 0))
        success = 0.5
        if payload.get("kind") == "competence":
            perf = payload.get("performance") or {}
            total = perf.get("success_count", 0) + perf.get("failure_count", 0)
            if total:
                success = perf.get("success_count", 0) / total
        elif payload.get("kind") == "plan_graph":
            metrics = payload.get("metrics") or {}
            if metrics.get("execution_count", 0) > 0:
                success = 1 - metrics.get("failure_rate", 0)
        last = _parse_time(record.get("lifecycle", {}).get("last_reinforced_at", ""))
        if last is None:
            recency = 0.5
        else:
            age = (datetime.now(timezone.utc) - last).total_seconds()
            recency = 1.0 if age < 0 else 0.5 ** (age / 2_592_000)
        return (applicability + success + recency) / 3

    # --- ingestion ---------------------------------------------------------------------------

    def _rpc_IngestEvent(self, r: pb.IngestEventRequest) -> pb.IngestResponse:
        _check_len(source=r.source, event_kind=r.event_kind, ref=r.ref, summary=r.summary)
        _check_tags(list(r.tags))
        _check_sensitivity(r.sensitivity)
        ts = _check_timestamp(r.timestamp)
        _require(source=r.source, event_kind=r.event_kind, ref=r.ref)
        event = {"t": ts, "event_kind": r.event_kind, "ref": r.ref}
        if r.summary:
            event["summary"] = r.summary
        record = self._new_record(
            type_="episodic",
            confidence=0.8,
            half_life=3600,
            sensitivity=r.sensitivity,
            scope=r.scope,
            tags=list(r.tags),
            source_kind="event",
            source_ref=r.ref,
            source=r.source,
            timestamp=ts,
            payload={"kind": "episodic", "timeline": [event]},
            what="event",
        )
        return pb.IngestResponse(record=_enc(record))

    def _rpc_IngestToolOutput(self, r: pb.IngestToolOutputRequest) -> pb.IngestResponse:
        _check_len(source=r.source, tool_name=r.tool_name)
        _check_tags(list(r.tags))
        _check_sensitivity(r.sensitivity)
        ts = _check_timestamp(r.timestamp)
        args = _json_field("args", r.args)
        if r.args and args is not None and not isinstance(args, dict):
            raise _invalid("invalid args JSON: not an object")
        result = _json_field("result", r.result)
        _require(source=r.source, tool_name=r.tool_name)
        node_id = str(uuid.uuid4())
        node: dict[str, Any] = {"id": node_id, "tool": r.tool_name, "timestamp": ts}
        if args:
            node["args"] = args
        if result is not None:
            node["result"] = result
        if r.depends_on:
            node["depends_on"] = list(r.depends_on)
        payload = {
            "kind": "episodic",
            "timeline": [
                {
                    "t": ts,
                    "event_kind": "tool_call",
                    "ref": node_id,
                    "summary": f"tool_call: {r.tool_name}",
                }
            ],
            "tool_graph": [node],
        }
        record = self._new_record(
            type_="episodic",
            confidence=0.9,
            half_life=3600,
            sensitivity=r.sensitivity,
            scope=r.scope,
            tags=list(r.tags),
            source_kind="tool_call",
            source_ref="",
            source=r.source,
            timestamp=ts,
            payload=payload,
            what="tool_output",
        )
        return pb.IngestResponse(record=_enc(record))

    def _rpc_IngestObservation(self, r: pb.IngestObservationRequest) -> pb.IngestResponse:
        _check_len(source=r.source, subject=r.subject, predicate=r.predicate)
        _check_tags(list(r.tags))
        _check_sensitivity(r.sensitivity)
        ts = _check_timestamp(r.timestamp)
        obj = _json_field("object", r.object)
        _require(source=r.source, subject=r.subject, predicate=r.predicate)
        payload = {
            "kind": "semantic",
            "subject": r.subject,
            "predicate": r.predicate,
            "object": obj,
            "validity": {"mode": "global"},
            "evidence": [{"source_type": "observation", "source_id": r.source, "timestamp": ts}],
            "revision_policy": "replace",
        }
        record = self._new_record(
            type_="semantic",
            confidence=0.7,
            half_life=2_592_000,
            sensitivity=r.sensitivity,
            scope=r.scope,
            tags=list(r.tags),
            source_kind="observation",
            source_ref="",
            source=r.source,
            timestamp=ts,
            payload=payload,
            what="observation",
        )
        return pb.IngestResponse(record=_enc(record))

    def _rpc_IngestOutcome(self, r: pb.IngestOutcomeRequest) -> pb.IngestResponse:
        _check_len(
            source=r.source, target_record_id=r.target_record_id, outcome_status=r.outcome_status
        )
        if not r.outcome_status:
            raise _invalid("outcome_status is required")
        if r.outcome_status not in OUTCOMES:
            raise _invalid("outcome_status must be one of: success, failure, partial")
        ts = _check_timestamp(r.timestamp)
        record = self._get(r.target_record_id)
        if (record.get("payload") or {}).get("kind") != "episodic":
            raise _invalid(f"record {r.target_record_id} is not episodic")
        record["payload"]["outcome"] = r.outcome_status
        record["updated_at"] = ts
        record["provenance"]["sources"].append(
            {
                "kind": "outcome",
                "ref": f"outcome:{record['id']}:{r.outcome_status}",
                "created_by": r.source,
                "timestamp": ts,
            }
        )
        # As the daemon: the revise entry is in the reply but not persisted (spec 4.9).
        reply = json.loads(json.dumps(record))
        reply["audit_log"].append(
            {
                "action": "revise",
                "actor": r.source,
                "timestamp": ts,
                "rationale": f"Outcome recorded: {r.outcome_status}",
            }
        )
        return pb.IngestResponse(record=_enc(reply))

    def _rpc_IngestWorkingState(self, r: pb.IngestWorkingStateRequest) -> pb.IngestResponse:
        _check_len(source=r.source, thread_id=r.thread_id, context_summary=r.context_summary)
        _check_tags(list(r.tags))
        _check_sensitivity(r.sensitivity)
        if not r.state:
            raise _invalid("state is required")
        if r.state not in TASK_STATES:
            raise _invalid("state must be one of: planning, executing, blocked, waiting, done")
        ts = _check_timestamp(r.timestamp)
        constraints = _json_field("active_constraints", r.active_constraints)
        _require(source=r.source, thread_id=r.thread_id)
        payload: dict[str, Any] = {"kind": "working", "thread_id": r.thread_id, "state": r.state}
        if constraints:
            payload["active_constraints"] = constraints
        if r.next_actions:
            payload["next_actions"] = list(r.next_actions)
        if r.open_questions:
            payload["open_questions"] = list(r.open_questions)
        if r.context_summary:
            payload["context_summary"] = r.context_summary
        record = self._new_record(
            type_="working",
            confidence=1,
            half_life=86400,
            sensitivity=r.sensitivity,
            scope=r.scope,
            tags=list(r.tags),
            source_kind="event",
            source_ref="",
            source=r.source,
            timestamp=ts,
            payload=payload,
            what="working_state",
        )
        return pb.IngestResponse(record=_enc(record))

    # --- retrieval ---------------------------------------------------------------------------

    def _rpc_Retrieve(self, r: pb.RetrieveRequest) -> pb.RetrieveResponse:
        level, scopes = self._trust(r.trust, r.HasField("trust"))
        if r.min_salience < 0 or not math.isfinite(r.min_salience):
            raise _invalid("min_salience must be non-negative and finite")
        if not 0 <= r.limit <= 10000:
            raise _invalid("limit must be between 0 and 10000")
        for i, kind in enumerate(r.memory_types):
            if kind not in MEMORY_TYPES:
                raise _invalid(
                    f"memory_types[{i}] must be one of: episodic, working, semantic, "
                    "competence, plan_graph"
                )
        layers = list(r.memory_types) or ["working", "semantic", "competence", "plan_graph"]
        if not r.memory_types:
            layers.append("episodic")
        found: list[dict[str, Any]] = []
        for layer in layers:
            for record in self.records.values():
                if record["type"] != layer:
                    continue
                if self._visible(record, level, scopes):
                    found.append(record)
                elif SENSITIVITY.index(record["sensitivity"]) == level + 1:
                    found.append(self._redacted(record))
        if r.min_salience > 0:
            found = [rec for rec in found if rec["salience"] >= r.min_salience]
        candidates = [rec for rec in found if rec["type"] in ("competence", "plan_graph")]
        scores = {rec["id"]: self._score(rec) for rec in candidates}
        selected = sorted(candidates, key=lambda rec: scores[rec["id"]], reverse=True)
        selection = b""
        if selected:
            ranked = [scores[rec["id"]] for rec in selected]
            if len(ranked) == 1:
                confidence = min(ranked[0], 1.0)
            else:
                confidence = (ranked[0] - ranked[1]) / ranked[0] if ranked[0] else 0.0
            selection = _enc(
                {
                    "Selected": selected,
                    "Confidence": confidence,
                    "NeedsMore": confidence < self.selection_threshold,
                    "Scores": scores,
                }
            )
        if selected and r.task_descriptor:
            chosen = {rec["id"] for rec in selected}
            rest = sorted(
                (rec for rec in found if rec["id"] not in chosen),
                key=lambda rec: rec["salience"],
                reverse=True,
            )
            ordered = selected + rest
        else:
            ordered = sorted(found, key=lambda rec: rec["salience"], reverse=True)
        if r.limit > 0:
            ordered = ordered[: r.limit]
        return pb.RetrieveResponse(records=[_enc(rec) for rec in ordered], selection=selection)

    def _rpc_RetrieveByID(self, r: pb.RetrieveByIDRequest) -> pb.MemoryRecordResponse:
        level, scopes = self._trust(r.trust, r.HasField("trust"))
        record = self._get(r.id)
        if not self._visible(record, level, scopes):
            raise _Abort(grpc.StatusCode.PERMISSION_DENIED, "access denied by trust context")
        return pb.MemoryRecordResponse(record=_enc(record))

    # --- revision ----------------------------------------------------------------------------

    def _rpc_Supersede(self, r: pb.SupersedeRequest) -> pb.MemoryRecordResponse:
        new = self._parse_record("new_record", r.new_record)
        old = self._revisable(r.old_id)
        now = _now()
        old["salience"] = 0
        old["updated_at"] = now
        self._set_revision_status(old, "retracted")
        if (old.get("payload") or {}).get("kind") == "semantic":
            old["payload"]["revision"]["superseded_by"] = new["id"]
        sources = new["provenance"].get("sources") or []
        sources.append({"kind": "event", "ref": r.old_id, "created_by": r.actor, "timestamp": now})
        new["provenance"]["sources"] = sources
        if new["payload"].get("kind") == "semantic":
            new["payload"]["revision"] = {"supersedes": r.old_id, "status": "active"}
        new.setdefault("relations", []).append(self._relation("supersedes", r.old_id))
        self._audit(old, "revise", r.actor, f"superseded by {new['id']}: {r.rationale}")
        self._audit(new, "create", r.actor, f"supersedes {r.old_id}: {r.rationale}")
        self.records[new["id"]] = new
        return pb.MemoryRecordResponse(record=_enc(new))

    def _rpc_Fork(self, r: pb.ForkRequest) -> pb.MemoryRecordResponse:
        new = self._parse_record("forked_record", r.forked_record)
        source = self._revisable(r.source_id)
        new.setdefault("relations", []).append(self._relation("derived_from", r.source_id))
        self._audit(source, "fork", r.actor, f"forked to {new['id']}: {r.rationale}")
        self._audit(new, "create", r.actor, f"forked from {r.source_id}: {r.rationale}")
        self.records[new["id"]] = new
        return pb.MemoryRecordResponse(record=_enc(new))

    def _rpc_Merge(self, r: pb.MergeRequest) -> pb.MemoryRecordResponse:
        if not r.ids:
            raise _invalid("ids must not be empty")
        if len(r.ids) > 10000:
            raise _invalid(f"too many ids: {len(r.ids)} (max 10000)")
        new = self._parse_record("merged_record", r.merged_record)
        sources = [self._revisable(i) for i in r.ids]
        for source in sources:
            source["salience"] = 0
            self._set_revision_status(source, "retracted")
            self._audit(source, "merge", r.actor, f"merged into {new['id']}: {r.rationale}")
        new.setdefault("relations", []).extend(self._relation("derived_from", i) for i in r.ids)
        self._audit(new, "create", r.actor, f"merged from [{' '.join(r.ids)}]: {r.rationale}")
        self.records[new["id"]] = new
        return pb.MemoryRecordResponse(record=_enc(new))

    def _rpc_Retract(self, r: pb.RetractRequest) -> pb.RetractResponse:
        record = self._revisable(r.id)
        record["salience"] = 0
        record["updated_at"] = _now()
        self._set_revision_status(record, "retracted")
        self._audit(record, "delete", r.actor, r.rationale)
        return pb.RetractResponse()

    def _rpc_Contest(self, r: pb.ContestRequest) -> pb.ContestResponse:
        _check_len(actor=r.actor, rationale=r.rationale)
        record = self._revisable(r.id)
        if r.contesting_ref and r.contesting_ref not in self.records:
            raise _Abort(grpc.StatusCode.INTERNAL, "FOREIGN KEY constraint failed")
        self._set_revision_status(record, "contested")
        record["updated_at"] = _now()
        if r.contesting_ref:
            record.setdefault("relations", []).append(
                self._relation("contested_by", r.contesting_ref)
            )
        self._audit(record, "revise", r.actor, r.rationale)
        return pb.ContestResponse()

    # --- reinforcement -----------------------------------------------------------------------

    def _rpc_Reinforce(self, r: pb.ReinforceRequest) -> pb.ReinforceResponse:
        _check_len(actor=r.actor, rationale=r.rationale)
        record = self._get(r.id)
        gain = record["lifecycle"]["decay"].get("reinforcement_gain", 0)
        now = _now()
        record["salience"] = min(1.0, record["salience"] + gain)
        record["lifecycle"]["last_reinforced_at"] = now
        record["updated_at"] = now
        self._audit(record, "reinforce", r.actor, r.rationale)
        return pb.ReinforceResponse()

    def _rpc_Penalize(self, r: pb.PenalizeRequest) -> pb.PenalizeResponse:
        if r.amount < 0 or not math.isfinite(r.amount):
            raise _invalid("amount must be non-negative and finite")
        _check_len(actor=r.actor, rationale=r.rationale)
        record = self._get(r.id)
        floor = record["lifecycle"]["decay"].get("min_salience", 0)
        record["salience"] = max(floor, record["salience"] - r.amount)
        record["updated_at"] = _now()
        self._audit(record, "decay", r.actor, f"penalty: {r.rationale}")
        return pb.PenalizeResponse()

    def _rpc_GetMetrics(self, r: pb.GetMetricsRequest) -> pb.MetricsResponse:
        records = list(self.records.values())
        n = len(records)
        by_type: dict[str, int] = defaultdict(int)
        buckets = dict.fromkeys(("0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0"), 0)
        for rec in records:
            by_type[rec["type"]] += 1
            index = min(int(rec["salience"] / 0.2), 4)
            buckets[list(buckets)[index]] += 1
        audits = [entry["action"] for rec in records for entry in rec["audit_log"]]
        snapshot = {
            "collected_at": _now(),
            "total_records": n,
            "records_by_type": dict(by_type),
            "avg_salience": sum(r["salience"] for r in records) / n if n else 0,
            "avg_confidence": sum(r["confidence"] for r in records) / n if n else 0,
            "salience_distribution": buckets,
            "active_records": sum(1 for r in records if r["salience"] > 0),
            "pinned_records": sum(1 for r in records if r["lifecycle"].get("pinned")),
            "total_audit_entries": len(audits),
            "memory_growth_rate": 1 if n else 0,
            "retrieval_usefulness": audits.count("reinforce") / len(audits) if audits else 0,
            "competence_success_rate": 0,
            "plan_reuse_frequency": 0,
            "revision_rate": (
                sum(audits.count(a) for a in ("revise", "fork", "merge")) / len(audits)
                if audits
                else 0
            ),
        }
        return pb.MetricsResponse(snapshot=_enc(snapshot))


def main(argv: list[str] | None = None) -> int:
    """Run the double as a stand-in *process* with membraned's command line (spec 4.1, 5.3).

    Used only to test the daemon harness (tests/support/membraned.py) where the real daemon is
    not installed: ``python -m tests.support.membrane_double -addr H:P -db PATH -config YAML``.
    """
    import argparse
    import os
    import signal
    import sys
    import time
    from pathlib import Path

    import yaml

    parser = argparse.ArgumentParser(prog="membraned (TEST DOUBLE)")
    parser.add_argument("-addr", default="127.0.0.1:9090")
    parser.add_argument("-db", default="membrane.db")
    parser.add_argument("-config")
    ns = parser.parse_args(argv)
    config = yaml.safe_load(Path(ns.config).read_text()) if ns.config else {}
    port = ns.addr.rpartition(":")[2]
    Path(ns.db).touch()
    cert = key = None
    if config.get("tls_cert_file") and config.get("tls_key_file"):
        cert = Path(config["tls_cert_file"]).read_bytes()
        key = Path(config["tls_key_file"]).read_bytes()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        double = MembraneDouble(
            api_key=os.environ.get("MEMBRANE_API_KEY") or config.get("api_key") or None,
            tls_cert=cert,
            tls_key=key,
            port=int(port),
        ).start()
    except RuntimeError as exc:
        print(f"failed to create grpc server: {exc}", file=sys.stderr, flush=True)
        return 1
    stamp = time.strftime("%Y/%m/%d %H:%M:%S")
    print(f"{stamp} membraned: listening on {ns.addr}", file=sys.stderr, flush=True)
    stop.wait()
    print(f"{stamp} membraned: received signal terminated, shutting down", file=sys.stderr)
    double.stop()
    print(f"{stamp} membraned: shutdown complete", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
