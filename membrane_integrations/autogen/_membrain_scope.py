"""Pure mapping between ``MemoryContent.metadata`` and Membrain scope tokens / category.

On add, metadata becomes literal scope tokens after the container's token and guard token
(:func:`membrane_integrations.core.scope.container_write_tokens`):

* ``category`` becomes the memory's category;
* ``scope`` (a list of strings) is stored as given (literal tokens);
* every other scalar entry ``key: value`` becomes the token ``key.value`` (a list value gives
  one token per element), so ``{"type": "preference"}`` is stored as ``type.preference`` and can be
  filtered with ``type\\.preference``;
* the text format is stored as ``mime.json`` or ``mime.markdown`` (plain text has no token).

The keys ``container`` and ``mime`` are reserved, and a ``container.*`` token in ``scope`` must be
this memory's own: metadata can never write into another tenant's container. The result-only keys
``id``, ``score`` and ``backend`` are ignored, so a queried item can be added again as it is.

Example:
    >>> tokens, category = metadata_to_scope(
    ...     "bob", {"type": "preference", "category": "diet", "tags": ["food", "eu"]}, "json")
    >>> tokens[2:], category
    (['mime.json', 'type.preference', 'tags.food', 'tags.eu'], 'diet')
    >>> tokens[:2]  # the container's token and guard token come first
    ['container.bob', '^container\\\\.bob$']
    >>> format_of(tokens)
    'json'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..core.errors import InvalidRequestError
from ..core.scope import container_write_tokens, validate_tokens
from ._render import TextFormat

__all__ = ["RESULT_KEYS", "format_of", "metadata_to_scope"]

RESULT_KEYS = frozenset({"id", "score", "backend"})
_RESERVED = frozenset({"container", "mime"})
_MIME_TOKENS: dict[TextFormat, str] = {"json": "mime.json", "markdown": "mime.markdown"}


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = str(value)
        if text:
            return text
    raise InvalidRequestError(
        f"metadata[{key!r}] must be a non-empty string, number, boolean or a list of them "
        f"to become a scope token, not {type(value).__name__}",
        field="metadata",
    )


def _explicit_tokens(container: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidRequestError("metadata['scope'] must be a list of tokens", field="metadata")
    own = {t.casefold() for t in container_write_tokens(container)}
    out: list[str] = []
    for token in validate_tokens(list(value), field="metadata['scope']"):
        folded = token.casefold()
        if folded.startswith("mime."):
            continue
        if folded.startswith(("container.", "^container")) and folded not in own:
            raise InvalidRequestError(
                f"metadata['scope'] names another container ({token!r}); a memory only writes "
                f"to its own container {container!r}",
                field="metadata",
            )
        out.append(token)
    return out


def metadata_to_scope(
    container: str, metadata: Mapping[str, Any] | None, fmt: TextFormat
) -> tuple[list[str], str | None]:
    """The scope tokens (container token first) and the category for one add."""
    tokens = container_write_tokens(container)
    if fmt in _MIME_TOKENS:
        tokens.append(_MIME_TOKENS[fmt])
    category: str | None = None
    for key, value in (metadata or {}).items():
        if key in RESULT_KEYS or value is None:
            continue
        if not isinstance(key, str) or not key:
            raise InvalidRequestError("metadata keys must be non-empty strings", field="metadata")
        if key in _RESERVED:
            raise InvalidRequestError(
                f"metadata key {key!r} is reserved: the container comes from the memory's "
                "config and the format from the MIME type",
                field="metadata",
            )
        if key == "category":
            category = _scalar(key, value)
        elif key == "scope":
            tokens.extend(_explicit_tokens(container, value))
        elif isinstance(value, (list, tuple)):
            tokens.extend(f"{key}.{_scalar(key, v)}" for v in value)
        else:
            tokens.append(f"{key}.{_scalar(key, value)}")
    unique = list(dict.fromkeys(tokens))
    return validate_tokens(unique), category


def format_of(tokens: Sequence[str]) -> TextFormat:
    """The stored text format, read back from the ``mime.*`` token."""
    folded = {t.casefold() for t in tokens}
    for fmt, token in _MIME_TOKENS.items():
        if token in folded:
            return fmt
    return "text"
