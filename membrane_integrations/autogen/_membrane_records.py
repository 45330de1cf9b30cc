"""Pure mapping between ``MemoryContent`` and Membrane ingest calls / records.

On add, ``metadata["kind"]`` (default: the config's ``default_kind``, itself ``observation`` by
default) picks the ingest RPC:

========================  ==================================  ==================================
kind                      the text or JSON becomes            other metadata keys it reads
========================  ==================================  ==================================
``observation``           the object of a semantic triple     ``subject``, ``predicate``
``event``                 the summary of an episodic event    ``event_kind`` (``note``), ``ref``
``tool_output``           the result of a tool call           ``tool_name`` (required), ``args``,
                                                              ``depends_on``
``working_state``         the thread's context summary        ``thread_id`` (the container),
                                                              ``state`` (``executing``),
                                                              ``next_actions``, ``open_questions``
========================  ==================================  ==================================

``sensitivity`` raises the record's sensitivity above the config's ``default_sensitivity`` (the
floor: it never lowers it, the rule of :meth:`MembraneView.write_sensitivity`); ``tags`` (a
list) are stored as tags; every other scalar entry ``key: value`` becomes the tag ``key.value``;
the text format is the tag ``mime.json`` or ``mime.markdown``.
The record's scope is always the container; the keys
``scope`` and ``container`` are refused. The result-only keys (``id``, ``score``, ``salience``,
``confidence``, ``type``, ``backend``) are ignored, so a queried item can be added again.

Example:
    >>> from autogen_core.memory import MemoryContent
    >>> call = build_ingest("bob", MemoryContent(content="likes tea", mime_type="text/plain",
    ...     metadata={"predicate": "prefers", "topic": "drinks"}), _Defaults())
    >>> call.kind, call.kwargs["obj"], call.kwargs["predicate"], call.kwargs["tags"]
    ('observation', 'likes tea', 'prefers', ['topic.drinks'])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from autogen_core.memory import MemoryContent, MemoryMimeType

from ..core.errors import InvalidRequestError
from ..membrane.tenancy import MembraneView, check_metadata_key
from ..membrane.types import (
    EpisodicPayload,
    MemoryRecord,
    SemanticPayload,
    WorkingPayload,
)
from ._render import TextFormat, content_to_text, text_to_content
from .config import MemoryKind

__all__ = ["IngestCall", "build_ingest", "record_to_content"]

_KINDS: tuple[MemoryKind, ...] = ("observation", "event", "tool_output", "working_state")
_KIND_KEYS: dict[MemoryKind, frozenset[str]] = {
    "observation": frozenset({"subject", "predicate"}),
    "event": frozenset({"event_kind", "ref"}),
    "tool_output": frozenset({"tool_name", "args", "depends_on"}),
    "working_state": frozenset({"thread_id", "state", "next_actions", "open_questions"}),
}
_RESULT_KEYS = frozenset({"id", "score", "salience", "confidence", "type", "backend"})
_SENSITIVITIES = ("public", "low", "medium", "high", "hyper")
_MIME_TAGS: dict[TextFormat, str] = {"json": "mime.json", "markdown": "mime.markdown"}


@dataclass(frozen=True)
class _Defaults:
    """The config values the mapping needs (a subset of ``MembraneMemoryConfig``)."""

    default_kind: MemoryKind = "observation"
    default_sensitivity: str = "low"
    source: str = "autogen"
    subject: str = "user"
    predicate: str = "noted"


@dataclass(frozen=True)
class IngestCall:
    """Which ingest method to call (``ingest_<kind>``) and its keyword arguments."""

    kind: MemoryKind
    kwargs: dict[str, Any] = field(default_factory=dict)


def _str_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidRequestError(f"metadata[{key!r}] must be a list of strings", field="metadata")
    if not all(isinstance(v, str) and v for v in value):
        raise InvalidRequestError(
            f"metadata[{key!r}] must contain non-empty strings", field="metadata"
        )
    return list(value)


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)) and str(value):
        return str(value)
    raise InvalidRequestError(
        f"metadata[{key!r}] must be a non-empty string, number or boolean (or a list of them) "
        f"to become a tag, not {type(value).__name__}",
        field="metadata",
    )


def _kind(metadata: Mapping[str, Any], default: MemoryKind) -> MemoryKind:
    kind = metadata.get("kind", default)
    if kind not in _KINDS:
        raise InvalidRequestError(
            f"metadata['kind'] must be one of {', '.join(_KINDS)}, not {kind!r}", field="metadata"
        )
    return cast(MemoryKind, kind)


def _sensitivity(metadata: Mapping[str, Any], floor: str) -> str:
    value = metadata.get("sensitivity")
    value = getattr(value, "value", value)
    if value is not None and value not in _SENSITIVITIES:
        raise InvalidRequestError(
            f"metadata['sensitivity'] must be one of {', '.join(_SENSITIVITIES)}, not {value!r}",
            field="metadata",
        )
    # The write floor of every layer: metadata may ask for more sensitive, never for less.
    return MembraneView(floor=floor).write_sensitivity(value)


def _tags(metadata: Mapping[str, Any], kind: MemoryKind, fmt: TextFormat) -> list[str]:
    tags: list[str] = []
    if fmt in _MIME_TAGS:
        tags.append(_MIME_TAGS[fmt])
    consumed = _KIND_KEYS[kind] | {"kind", "sensitivity", "tags"}
    for key, value in metadata.items():
        check_metadata_key(key)
        if isinstance(key, str) and key.casefold() == "mime":
            raise InvalidRequestError(
                f"metadata key {key!r} is reserved: the format comes from the MIME type",
                field="metadata",
            )
        if key in consumed or key in _RESULT_KEYS or value is None:
            continue
        if isinstance(value, (list, tuple)):
            tags.extend(f"{key}.{_scalar(key, v)}" for v in value)
        else:
            tags.append(f"{key}.{_scalar(key, value)}")
    if metadata.get("tags") is not None:
        tags.extend(t for t in _str_list("tags", metadata["tags"]) if not t.startswith("mime."))
    # The daemon fails with INTERNAL on duplicate tags, so they are removed here.
    return list(dict.fromkeys(tags))


def build_ingest(container: str, content: MemoryContent, defaults: Any) -> IngestCall:
    """The ingest call that stores ``content`` in ``container`` (see the module table)."""
    stored = content_to_text(content)
    metadata: Mapping[str, Any] = content.metadata or {}
    kind = _kind(metadata, defaults.default_kind)
    value: Any = json.loads(stored.text) if stored.fmt == "json" else stored.text
    common: dict[str, Any] = {
        "sensitivity": _sensitivity(metadata, defaults.default_sensitivity),
        "source": defaults.source,
        "tags": _tags(metadata, kind, stored.fmt),
        "scope": container,
    }
    if kind == "observation":
        kwargs = {
            "subject": str(metadata.get("subject") or defaults.subject),
            "predicate": str(metadata.get("predicate") or defaults.predicate),
            "obj": value,
        }
    elif kind == "event":
        kwargs = {
            "event_kind": str(metadata.get("event_kind") or "note"),
            "ref": str(metadata.get("ref") or container),
            "summary": stored.text,
        }
    elif kind == "tool_output":
        tool_name = metadata.get("tool_name")
        if not isinstance(tool_name, str) or not tool_name:
            raise InvalidRequestError(
                "metadata['tool_name'] is required for kind 'tool_output'", field="metadata"
            )
        args = metadata.get("args")
        if args is not None and not isinstance(args, dict):
            raise InvalidRequestError("metadata['args'] must be a dict", field="metadata")
        depends = metadata.get("depends_on")
        kwargs = {
            "tool_name": tool_name,
            "args": args,
            "result": value,
            "depends_on": _str_list("depends_on", depends) if depends is not None else None,
        }
    else:
        lists = {
            key: _str_list(key, metadata[key]) if metadata.get(key) is not None else None
            for key in ("next_actions", "open_questions")
        }
        kwargs = {
            "thread_id": str(metadata.get("thread_id") or container),
            "state": str(metadata.get("state") or "executing"),
            "context_summary": stored.text,
            **lists,
        }
    return IngestCall(kind=kind, kwargs={**kwargs, **common})


def _format(tags: list[str]) -> TextFormat:
    for fmt, tag in _MIME_TAGS.items():
        if tag in tags:
            return fmt
    return "text"


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def record_to_content(record: MemoryRecord, defaults: Any) -> MemoryContent | None:
    """A retrieved record as ``MemoryContent``; ``None`` for a record with nothing to show."""
    payload = record.payload
    fmt = _format(record.tags)
    metadata: dict[str, Any] = {
        "id": record.id,
        "score": record.salience,
        "salience": record.salience,
        "confidence": record.confidence,
        "type": record.type.value,
        "sensitivity": record.sensitivity.value,
        "tags": [t for t in record.tags if not t.startswith("mime.")],
        "backend": "membrane",
    }
    value: Any
    if isinstance(payload, SemanticPayload):
        metadata.update(kind="observation", subject=payload.subject, predicate=payload.predicate)
        value = payload.object
        default_pair = (payload.subject, payload.predicate) == (
            defaults.subject,
            defaults.predicate,
        )
        if isinstance(value, str) and not default_pair:
            value = f"{payload.subject} {payload.predicate} {value}"
            fmt = "text"
    elif isinstance(payload, EpisodicPayload) and payload.tool_graph:
        node = payload.tool_graph[0]
        metadata.update(kind="tool_output", tool_name=node.tool, args=node.args)
        value = node.result
    elif isinstance(payload, EpisodicPayload) and payload.timeline:
        event = payload.timeline[0]
        metadata.update(kind="event", event_kind=event.event_kind, ref=event.ref)
        value = event.summary
    elif isinstance(payload, WorkingPayload):
        metadata.update(
            kind="working_state", thread_id=payload.thread_id, state=payload.state.value
        )
        value = payload.context_summary
    else:
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict):
        return MemoryContent(content=value, mime_type=MemoryMimeType.JSON, metadata=metadata)
    return text_to_content(_as_text(value), fmt if isinstance(value, str) else "json", metadata)
