"""Type-independent JSON helpers of the record codec: cached pydantic adapters and clean-up.

The daemon's record parser rejects an empty timestamp string and has no use for ``null`` keys
(spec 2.11), so a document we send is cleaned first; user data inside it is left as given.

pydantic is imported when the first adapter is built, not with this module: importing it costs
more than the rest of the adapter, and the record dataclasses need none of it until a reply is
parsed. The ``Annotated`` markers below say how the daemon's ``null`` reads; they build their
pydantic-core schema only then.

Example:
    >>> clean({"id": "", "tags": None, "payload": {"args": {"x": None}}, "created_at": ""})
    {'payload': {'args': {'x': None}}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, TypeAdapter, ValidationError
    from pydantic_core import CoreSchema

__all__ = [
    "NULL_AS_BLANK",
    "NullAsEmpty",
    "adapter",
    "clean",
    "lazy_pydantic",
    "short_errors",
    "validation_error",
]

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
        from pydantic import TypeAdapter

        found = _ADAPTERS[kind] = TypeAdapter(kind)
    return found


def validation_error() -> type[ValidationError]:
    """pydantic's ``ValidationError``, for an ``except`` clause (evaluated only on an error)."""
    from pydantic_core import ValidationError

    return ValidationError


class _LazyPydantic:
    """The ``pydantic`` module, imported on first attribute access.

    String annotations of the record dataclasses (``Field(alias=...)``) are evaluated when their
    adapter is built, so they can name pydantic through this without importing it up front.
    """

    def __getattr__(self, name: str) -> Any:
        import pydantic

        return getattr(pydantic, name)


lazy_pydantic = _LazyPydantic()


class NullAsEmpty:
    """``Annotated`` metadata: a JSON ``null`` list or object reads as ``empty()`` (spec 2.1).

    The same validation as a pydantic ``BeforeValidator`` mapping ``None`` to ``empty()``.
    """

    __slots__ = ("_empty",)

    def __init__(self, empty: Callable[[], Any]) -> None:
        self._empty = empty

    def _read(self, value: Any) -> Any:
        return self._empty() if value is None else value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self._read, handler(source))


def _blank(value: Any) -> str:
    return ""


class _NullAsBlank:
    """``Annotated`` metadata for a ``str`` field: a JSON ``null`` reads as ``""`` (spec 2.1).

    It accepts, returns and rejects what a ``BeforeValidator`` mapping ``None`` to ``""`` does
    (a non-string fails with the same ``string_type`` error), but the string, the common case,
    is checked by pydantic-core alone: only a ``null`` calls back into Python.
    """

    __slots__ = ()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        null = core_schema.chain_schema(
            [core_schema.none_schema(), core_schema.no_info_plain_validator_function(_blank)]
        )
        return core_schema.union_schema(
            [handler(source), null], mode="left_to_right", custom_error_type="string_type"
        )


NULL_AS_BLANK = _NullAsBlank()


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
