"""Pure helpers shared by the AutoGen memories: content <-> text, and the context message.

Nothing here does I/O. The memory components use these functions to turn a
:class:`~autogen_core.memory.MemoryContent` into the text a backend stores, to turn a query into
search text, and to render retrieved memories as one numbered, de-duplicated system message
that fits a character budget.

Example:
    >>> from autogen_core.memory import MemoryContent, MemoryMimeType
    >>> stored = content_to_text(
    ...     MemoryContent(content={"diet": "vegan"}, mime_type=MemoryMimeType.JSON))
    >>> stored.text, stored.fmt
    ('{"diet": "vegan"}', 'json')
    >>> items = [MemoryContent(content="Likes tea", mime_type=MemoryMimeType.TEXT)] * 2
    >>> message, kept = render_memories(items, budget=200, header="Relevant memories:")
    >>> print(message)
    Relevant memories:
    1. Likes tea
    >>> len(kept)
    1
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from autogen_core.memory import MemoryContent, MemoryMimeType
from autogen_core.models import LLMMessage, UserMessage

from ..core.context_text import render_numbered
from ..core.errors import InvalidRequestError

__all__ = [
    "StoredText",
    "TextFormat",
    "content_to_text",
    "item_text",
    "last_user_text",
    "query_text",
    "render_memories",
    "text_to_content",
]

TextFormat = Literal["text", "markdown", "json"]

_FORMATS: dict[MemoryMimeType, TextFormat] = {
    MemoryMimeType.TEXT: "text",
    MemoryMimeType.MARKDOWN: "markdown",
    MemoryMimeType.JSON: "json",
}
_MIMES: dict[TextFormat, MemoryMimeType] = {fmt: mime for mime, fmt in _FORMATS.items()}


@dataclass(frozen=True)
class StoredText:
    """What a backend stores for one memory: the text and the format it came in."""

    text: str
    fmt: TextFormat


def _mime(value: MemoryMimeType | str) -> MemoryMimeType | None:
    if isinstance(value, MemoryMimeType):
        return value
    try:
        return MemoryMimeType(value)
    except ValueError:
        return None


def _dump_json(value: Any) -> str:
    # Readable, not escaped: keep non-ASCII characters and the key order the caller chose.
    return json.dumps(value, ensure_ascii=False)


def content_to_text(content: MemoryContent) -> StoredText:
    """The text to store for ``content``; JSON is stored as readable JSON text.

    Raises :class:`InvalidRequestError` for images, bytes and other MIME types, and for empty text.
    """
    mime = _mime(content.mime_type)
    fmt = _FORMATS.get(mime) if mime is not None else None
    if fmt is None:
        raise InvalidRequestError(
            f"unsupported memory MIME type {content.mime_type!s}: only text/plain, "
            "text/markdown and application/json can be stored",
            field="mime_type",
        )
    value = content.content
    if fmt == "json":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(
                    f"application/json content is not valid JSON: {exc}", field="content"
                ) from exc
        if isinstance(value, bytes):
            raise InvalidRequestError("application/json content must be a dict", field="content")
        try:
            text = _dump_json(value)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(
                f"application/json content is not JSON-serialisable: {exc}", field="content"
            ) from exc
    else:
        if not isinstance(value, str):
            raise InvalidRequestError(
                f"{content.mime_type!s} content must be a string, not {type(value).__name__}",
                field="content",
            )
        text = value
    if not text.strip():
        raise InvalidRequestError("memory content is empty", field="content")
    return StoredText(text=text, fmt=fmt)


def text_to_content(text: str, fmt: TextFormat, metadata: dict[str, Any]) -> MemoryContent:
    """The inverse of :func:`content_to_text`: JSON text comes back as a dict when it parses."""
    if fmt == "json":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return MemoryContent(content=parsed, mime_type=MemoryMimeType.JSON, metadata=metadata)
        if parsed is not None:
            return MemoryContent(content=text, mime_type=MemoryMimeType.JSON, metadata=metadata)
        fmt = "text"
    return MemoryContent(content=text, mime_type=_MIMES[fmt], metadata=metadata)


def query_text(query: str | MemoryContent) -> str:
    """The search text for a query given as a string or as a text/markdown/JSON item."""
    if isinstance(query, str):
        text = query
    elif isinstance(query, MemoryContent):
        text = content_to_text(query).text
    else:
        raise InvalidRequestError(
            f"query must be a str or MemoryContent, not {type(query).__name__}", field="query"
        )
    if not text.strip():
        raise InvalidRequestError("query is empty", field="query")
    return text


def item_text(item: MemoryContent) -> str:
    """One retrieved item as a single line of text for the model."""
    value = item.content
    text = value if isinstance(value, str) else _dump_json(value) if isinstance(value, dict) else ""
    return " ".join(text.split())


def last_user_text(messages: Sequence[LLMMessage]) -> str | None:
    """The text of the last user message (text parts only), or ``None`` if there is none."""
    for message in reversed(messages):
        if not isinstance(message, UserMessage):
            continue
        if isinstance(message.content, str):
            text = message.content
        else:
            text = " ".join(part for part in message.content if isinstance(part, str))
        if text.strip():
            return text
    return None


def render_memories(
    items: Sequence[MemoryContent], *, budget: int, header: str
) -> tuple[str | None, list[MemoryContent]]:
    """Number, de-duplicate and trim ``items`` into one message of at most ``budget`` characters.

    Returns the message (``None`` when nothing is left) and the items it lists, in order. Items
    are kept in rank order until the next one would exceed the budget; if even the first does
    not fit, it is cut short and ends with an ellipsis (see
    :func:`membrane_integrations.core.context_text.render_numbered`).
    """
    message, kept = render_numbered([item_text(i) for i in items], budget=budget, header=header)
    return message, [items[i] for i in kept]
