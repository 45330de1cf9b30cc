"""Pure mapping between ``MemoryContent.metadata`` and Membrain scope tokens / category.

On add, metadata becomes literal scope tokens after the container's token and guard token; the
tenancy rule itself (which tokens, keys and values a container may store) is
:class:`membrane_integrations.membrain.tenancy.Tenancy`, applied to every key and token here:

* ``category`` becomes the memory's category;
* ``scope`` (a list of strings) is stored as given (literal tokens);
* every other scalar entry ``key: value`` becomes the token ``key.value`` (a list value gives
  one token per element), so ``{"type": "preference"}`` is stored as ``type.preference`` and can be
  filtered with ``type\\.preference``;
* the text format is stored as ``mime.json`` or ``mime.markdown`` (plain text has no token).

The key ``mime`` (any letter case) is reserved for the format. A key, value or ``scope`` token
that the server would read as a container token (``CONTAINER``, ``Container.alice``, ...) is
refused with :class:`~membrane_integrations.core.errors.InvalidRequestError`: metadata can
never write into another tenant's container, and nothing is silently rewritten. The result-only keys
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
from ..core.scope import validate_tokens
from ..membrain.tenancy import Tenancy
from ._render import TextFormat

__all__ = ["RESULT_KEYS", "format_of", "metadata_to_scope"]

RESULT_KEYS = frozenset({"id", "score", "backend"})
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


def _explicit_tokens(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidRequestError("metadata['scope'] must be a list of tokens", field="metadata")
    tokens = validate_tokens(list(value), field="metadata['scope']")
    return [t for t in tokens if not t.casefold().startswith("mime.")]


def metadata_to_scope(
    container: str | Tenancy, metadata: Mapping[str, Any] | None, fmt: TextFormat
) -> tuple[list[str], str | None]:
    """The scope tokens (container token first) and the category for one add."""
    tenancy = container if isinstance(container, Tenancy) else Tenancy(container)
    extra: list[tuple[str, str]] = []  # (field, token)
    if fmt in _MIME_TOKENS:
        extra.append(("metadata", _MIME_TOKENS[fmt]))
    category: str | None = None
    for key, value in (metadata or {}).items():
        if key in RESULT_KEYS or value is None:
            continue
        if not isinstance(key, str) or not key:
            raise InvalidRequestError("metadata keys must be non-empty strings", field="metadata")
        field = f"metadata[{key!r}]"
        tenancy.check_key(key, field=field)
        if key.casefold() == "mime":
            raise InvalidRequestError(
                f"metadata key {key!r} is reserved: the format comes from the MIME type",
                field=field,
            )
        if key == "category":
            category = _scalar(key, value)
        elif key == "scope":
            extra.extend((field, t) for t in _explicit_tokens(value))
        elif isinstance(value, (list, tuple)):
            extra.extend((field, f"{key}.{_scalar(key, v)}") for v in value)
        else:
            extra.append((field, f"{key}.{_scalar(key, value)}"))
    for field, token in extra:
        tenancy.check_token(token, field=field)
    tokens = tenancy.write_tokens([t for _, t in extra], field="metadata")
    return tokens, category


def format_of(tokens: Sequence[str]) -> TextFormat:
    """The stored text format, read back from the ``mime.*`` token."""
    folded = {t.casefold() for t in tokens}
    for fmt, token in _MIME_TOKENS.items():
        if token in folded:
            return fmt
    return "text"
