"""Type-independent JSON helpers of the record codec: cached pydantic adapters and clean-up.

The daemon's record parser rejects an empty timestamp string and has no use for ``null`` keys
(spec 2.11), so a document we send is cleaned first; user data inside it is left as given.

Example:
    >>> clean({"id": "", "tags": None, "payload": {"args": {"x": None}}, "created_at": ""})
    {'payload': {'args': {'x': None}}}
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

__all__ = ["adapter", "clean", "short_errors"]

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


def adapter(kind: Any) -> TypeAdapter[Any]:
    """The pydantic adapter of ``kind``, built once (building one costs milliseconds)."""
    found = _ADAPTERS.get(kind)
    if found is None:
        found = _ADAPTERS[kind] = TypeAdapter(kind)
    return found


def clean(value: Any) -> Any:
    """``value`` without ``None`` values and blank time keys (user data is kept as given)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None or (key in _OMIT_WHEN_BLANK and item == ""):
                continue
            out[key] = item if key in _USER_DATA_KEYS else clean(item)
        return out
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def short_errors(exc: ValidationError) -> str:
    """The first three validation errors, one line (for a ``MalformedResponseError``)."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
