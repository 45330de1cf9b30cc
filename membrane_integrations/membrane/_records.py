"""Pure conversions between the daemon's JSON documents and our record types (spec section 2).

Parsing is lenient where the daemon is (``null`` lists, whole-valued floats, unknown keys) and
raises :class:`MalformedResponseError` when a document is not the documented shape. Encoding
produces what the daemon's record parser accepts (spec 2.11): unset times are omitted rather
than sent as ``""``, integer fields stay integers, the relation key is ``predicate``.

Example:
    >>> from membrane_integrations.membrane._records import payload_from_dict, payload_to_dict
    >>> p = payload_from_dict({"kind": "working", "thread_id": "t1", "state": "executing"})
    >>> type(p).__name__, p.state.value
    ('WorkingPayload', 'executing')
    >>> payload_to_dict(p)["kind"], payload_to_dict(p)["state"]
    ('working', 'executing')
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from typing import Any

from pydantic import TypeAdapter, ValidationError

from membrane_integrations.core.errors import MalformedResponseError
from membrane_integrations.membrane.types import (
    CompetencePayload,
    EpisodicPayload,
    MemoryRecord,
    Payload,
    PayloadField,
    PlanGraphPayload,
    RetrieveResult,
    SelectionResult,
    SemanticPayload,
    WorkingPayload,
)

__all__ = [
    "decode_json",
    "encode_json",
    "metrics_from_bytes",
    "payload_from_dict",
    "payload_to_dict",
    "record_from_bytes",
    "record_from_dict",
    "record_to_dict",
    "record_to_json",
    "selection_from_bytes",
]

_PAYLOAD_CLASSES = (
    EpisodicPayload,
    WorkingPayload,
    SemanticPayload,
    CompetencePayload,
    PlanGraphPayload,
)

# Keys whose values are user data: never walked when cleaning up a document we send.
_USER_DATA_KEYS = frozenset(
    {
        "args",
        "result",
        "object",
        "value",
        "conditions",
        "context",
        "params",
        "guards",
        "constraints",
        "inputs_schema",
        "outputs_schema",
        "args_schema",
        "tool_versions",
    }
)
# Time-typed keys (plus the optional record id): omitted when unset, because the daemon rejects
# an empty timestamp string (spec 2.11).
_OMIT_WHEN_BLANK = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "timestamp",
        "last_reinforced_at",
        "t",
        "start",
        "end",
        "last_used_at",
        "last_executed_at",
    }
)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the way the daemon's bytes fields expect it.

    Enums become their values and our dataclasses their wire dicts.

    >>> encode_json({"a": [1, 2], "b": None})
    b'{"a":[1,2],"b":null}'
    """
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, MemoryRecord):
        return record_to_dict(value)
    if isinstance(value, _PAYLOAD_CLASSES):
        return payload_to_dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _clean(_adapter(type(value)).dump_python(value, mode="json", by_alias=True))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def decode_json(data: bytes, what: str) -> Any:
    """Parse a JSON bytes field of a reply; ``what`` names it in the error."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedResponseError(
            f"membraned sent invalid JSON in {what} ({exc}); the daemon and this client may "
            "disagree on the protocol version (expected membraned v0.2.0)",
            grpc_code=None,
        ) from None


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None or (key in _OMIT_WHEN_BLANK and item == ""):
                continue
            out[key] = item if key in _USER_DATA_KEYS else _clean(item)
        return out
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def payload_from_dict(data: Any) -> Payload | dict[str, Any] | None:
    """The typed payload for a payload object; unknown kinds stay a dict, null stays None."""
    try:
        payload: Payload | dict[str, Any] | None = _adapter(PayloadField).validate_python(data)
    except ValidationError as exc:
        raise MalformedResponseError(
            f"membraned sent a payload that does not parse: {_short_errors(exc)}"
        ) from None
    return payload


def payload_to_dict(payload: Any) -> Any:
    """The wire JSON of a payload: typed payloads get their ``kind`` key first."""
    if isinstance(payload, _PAYLOAD_CLASSES):
        body = _adapter(type(payload)).dump_python(payload, mode="json", by_alias=True)
        return {"kind": payload.kind.value, **_clean(body)}
    if isinstance(payload, dict):
        return json.loads(encode_json(payload))
    return payload


def record_from_dict(data: Any) -> MemoryRecord:
    """Parse one MemoryRecord JSON object (already decoded)."""
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"membraned sent a record that is not a JSON object: {type(data).__name__}"
        )
    try:
        record: MemoryRecord = _adapter(MemoryRecord).validate_python(data)
    except ValidationError as exc:
        raise MalformedResponseError(
            f"membraned sent a record that does not parse: {_short_errors(exc)}"
        ) from None
    return record


def record_to_dict(record: MemoryRecord) -> dict[str, Any]:
    """The wire JSON of a record (for Supersede, Fork and Merge)."""
    body = _adapter(MemoryRecord).dump_python(
        dataclasses.replace(record, payload=None), mode="json", by_alias=True
    )
    doc: dict[str, Any] = _clean(body)
    doc["payload"] = payload_to_dict(record.payload)
    return doc


def record_to_json(record: dict[str, Any] | MemoryRecord) -> bytes:
    """Encode a record argument of a revision RPC (a dict passes through as given)."""
    if isinstance(record, MemoryRecord):
        return encode_json(record_to_dict(record))
    return encode_json(record)


def record_from_bytes(data: bytes, what: str = "record") -> MemoryRecord:
    """Parse a ``bytes`` field that holds one MemoryRecord.

    pydantic-core parses the JSON and validates in one pass (the hot path of every reply).
    """
    if not data:
        raise MalformedResponseError(f"membraned sent an empty {what}")
    try:
        record: MemoryRecord = _adapter(MemoryRecord).validate_json(data)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise MalformedResponseError(
                f"membraned sent invalid JSON in {what} ({_short_errors(exc)}); the daemon and "
                "this client may disagree on the protocol version (expected membraned v0.2.0)"
            ) from None
        raise MalformedResponseError(
            f"membraned sent a {what} that does not parse: {_short_errors(exc)}"
        ) from None
    return record


def selection_from_bytes(data: bytes) -> SelectionResult | None:
    """Parse ``RetrieveResponse.selection`` (zero-length means no selection).

    The daemon writes Go field names (``Selected``); the lower-case names are accepted too.
    """
    if not data:
        return None
    doc = decode_json(data, "selection")
    if not isinstance(doc, dict):
        raise MalformedResponseError("membraned sent a selection that is not a JSON object")

    def pick(*names: str) -> Any:
        for name in names:
            if name in doc:
                return doc[name]
        return None

    selected = pick("Selected", "selected") or []
    scores = pick("Scores", "scores") or {}
    confidence = pick("Confidence", "confidence") or 0.0
    needs_more = pick("NeedsMore", "needs_more", "needsMore") or False
    if not isinstance(selected, list) or not isinstance(scores, dict):
        raise MalformedResponseError("membraned sent a selection of the wrong shape")
    try:
        return SelectionResult(
            selected=[record_from_dict(item) for item in selected],
            confidence=float(confidence),
            needs_more=bool(needs_more),
            scores={str(k): float(v) for k, v in scores.items()},
        )
    except (TypeError, ValueError) as exc:
        raise MalformedResponseError(
            f"membraned sent a selection that does not parse: {exc}"
        ) from None


def retrieve_result(records: list[bytes], selection: bytes) -> RetrieveResult:
    """Parse the two fields of a RetrieveResponse."""
    return RetrieveResult(
        records=[record_from_bytes(item, f"records[{i}]") for i, item in enumerate(records)],
        selection=selection_from_bytes(selection),
    )


def metrics_from_bytes(data: bytes) -> dict[str, Any]:
    """Parse ``MetricsResponse.snapshot``."""
    doc = decode_json(data, "metrics snapshot") if data else None
    if not isinstance(doc, dict):
        raise MalformedResponseError("membraned sent a metrics snapshot that is not an object")
    return doc


def _short_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
