"""Pure parsing of the daemon's JSON ``bytes`` fields into our record types (spec section 2).

The dict-level wire form of a record (``record_to_dict``, ``record_from_dict``, ...) lives with
the types in ``models.py``, because ``MemoryRecord.to_dict`` needs it; it is re-exported here.
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

import json
from typing import Any

from ..core.errors import MalformedResponseError
from ._json import adapter, short_errors, validation_error
from .models import (
    MemoryRecord,
    Payload,
    PayloadField,
    RetrieveResult,
    SelectionResult,
    encode_json,
    payload_to_dict,
    record_from_dict,
    record_to_dict,
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
    "retrieve_result",
    "selection_from_bytes",
]


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


def payload_from_dict(data: Any) -> Payload | dict[str, Any] | None:
    """The typed payload for a payload object; unknown kinds stay a dict, null stays None."""
    try:
        payload: Payload | dict[str, Any] | None = adapter(PayloadField).validate_python(data)
    except validation_error() as exc:
        raise MalformedResponseError(
            f"membraned sent a payload that does not parse: {short_errors(exc)}"
        ) from None
    return payload


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
        record: MemoryRecord = adapter(MemoryRecord).validate_json(data)
    except validation_error() as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise MalformedResponseError(
                f"membraned sent invalid JSON in {what} ({short_errors(exc)}); the daemon and "
                "this client may disagree on the protocol version (expected membraned v0.2.0)"
            ) from None
        raise MalformedResponseError(
            f"membraned sent a {what} that does not parse: {short_errors(exc)}"
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
