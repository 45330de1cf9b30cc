"""The whole Membrain tenancy rule: what a container may store, read, and see (pure, no I/O).

Every layer over Membrain (the LangChain tools, toolkit and retriever, the AutoGen memory, and
any added later) confines a container through :class:`Tenancy`; none keeps its own copy.

Membrain stores literal *scope tokens* on each memory and filters reads with regex *patterns*
(PostgreSQL ``~*``: case-insensitive; AND across patterns, each matching at least one token of
the same memory; guide section 5). The rule, in four parts:

* **Identity.** A container id becomes the token ``container.<encoded id>``
  (:func:`container_token`). Lowercase ASCII letters, digits and ``_ . - : @`` stay as they
  are; every other character is percent-encoded as UTF-8 with lowercase hex (``Bob`` becomes
  ``container.%42ob``), so distinct ids give tokens that differ even ignoring case.
* **Writes.** Every write stores our token and the guard token first
  (:func:`container_write_tokens`). Any other token from a caller (application or model: scope
  tokens, tags, metadata keys and values) that the server could read as a container's token is
  refused with :class:`InvalidRequestError` naming the field, never rewritten: a token is
  reserved when it starts (after regex anchors, groups or whitespace) with ``container`` compared
  the way the server compares, case-insensitively with the regex engine's Unicode case folding
  (the Kelvin sign matches ``k``, the long s matches ``s``), or after NFKC compatibility folding
  (fullwidth letters). Only our own two tokens, exactly, pass.
* **Reads.** Every search, count, traversal and bulk delete sends the anchored container filter
  ``^container\\.<escaped id>$`` first (:meth:`Tenancy.read_scope`); a caller's patterns are
  ANDed after it, so they can only narrow.
* **Results.** What comes back is checked again before anyone sees it (:meth:`Tenancy.owns`):
  search hits and their related memories, edges, graph nodes and by-id reads without our token
  are dropped, and a foreign id is "not found", exactly as a missing one.

Why a guard token: Membrain reads every stored token of a new memory as a regex when it looks
for near-duplicates to merge into and neighbours to link (guide section 4.1), and
``container.a.b`` read as a regex also matches ``container.aXb``. The guard is the anchored
filter itself: as a pattern it admits only candidates of exactly this container, and as a
stored literal it starts with ``^``, so no container filter ever selects it.

Example:
    >>> t = Tenancy("bob")
    >>> t.read_scope([".*"])
    ['^container\\\\.bob$', '.*']
    >>> t.write_tokens(["type.preference"])
    ['container.bob', '^container\\\\.bob$', 'type.preference']
    >>> t.owns(["container.bob2"]), t.owns(["container.bob"])
    (False, True)
    >>> try:
    ...     t.write_tokens(["CONTAINER.alice"])
    ... except InvalidRequestError as exc:
    ...     print(exc.field, exc.message.split(":")[0])
    scope scope token 'CONTAINER.alice' is reserved
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ..core.errors import InvalidRequestError, NotFoundError
from ..core.scope import (
    MAX_SCOPE_TOKEN_LENGTH,
    MAX_SCOPE_TOKENS,
    escape_literal,
    token_matches,
    validate_patterns,
    validate_tokens,
)

if TYPE_CHECKING:
    from .models import GraphEdge, GraphNode, MemoryNode, RelationshipEdge, SearchResponse

__all__ = [
    "RESERVED_PREFIX",
    "Tenancy",
    "checked_container",
    "combine_scope",
    "container_filter",
    "container_token",
    "container_write_tokens",
    "encode_container_id",
    "is_reserved_token",
    "visible_edges",
    "visible_nodes",
    "visible_search",
]

RESERVED_PREFIX = "container."
# Characters with no case variants and no surprises in either regex dialect once escaped.
_TOKEN_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-:@")
# ``container`` at the start of a token, after anything a regex reader skips (anchors, groups,
# inline flags, whitespace), followed by a dot (escaped or not) or the end. IGNORECASE gives the
# regex engine's own case folding, which is how the server compares.
_RESERVED = re.compile(r"\A(?:[\s^(]|\(\?[a-z]*[:)])*container(?:\\?\.|\s*\Z)", re.IGNORECASE)
_N = TypeVar("_N", bound="GraphNode")
_E = TypeVar("_E", bound="GraphEdge")


def encode_container_id(container_id: str) -> str:
    """The id as it appears in the token: unchanged if it is lowercase-safe, else percent-encoded.

    >>> encode_container_id("user_42"), encode_container_id("Bob"), encode_container_id("a|b")
    ('user_42', '%42ob', 'a%7cb')
    """
    return "".join(
        ch if ch in _TOKEN_SAFE else "".join(f"%{b:02x}" for b in ch.encode("utf-8"))
        for ch in container_id
    )


def _check_container_id(container_id: str) -> None:
    if not isinstance(container_id, str) or not container_id:
        raise InvalidRequestError("container id must be a non-empty string", field="container")
    if any(ch in container_id for ch in "\r\n\t\x00"):
        raise InvalidRequestError(
            "container id must not contain control characters", field="container"
        )
    guard = f"^container\\.{escape_literal(encode_container_id(container_id))}$"
    if len(guard) > MAX_SCOPE_TOKEN_LENGTH:
        raise InvalidRequestError(
            f"container id is too long: its token and escaped filter must be at most "
            f"{MAX_SCOPE_TOKEN_LENGTH} characters",
            field="container",
        )


def checked_container(value: str | None) -> str | None:
    """``value`` when it is ``None`` or a valid container id, else ``ValueError`` (for configs).

    >>> checked_container("bob")
    'bob'
    """
    if value is not None:
        try:
            _check_container_id(value)
        except InvalidRequestError as exc:
            raise ValueError(exc.message) from None
    return value


def container_token(container_id: str) -> str:
    """The scope token stored on every memory of a container: ``container.<encoded id>``.

    >>> container_token("prod-bot"), container_token("Bob")
    ('container.prod-bot', 'container.%42ob')
    """
    _check_container_id(container_id)
    return f"container.{encode_container_id(container_id)}"


def container_filter(container_id: str) -> str:
    """The anchored, escaped pattern that matches exactly one container's token.

    >>> container_filter("a.b")
    '^container\\\\.a\\\\.b$'
    """
    _check_container_id(container_id)
    return f"^container\\.{escape_literal(encode_container_id(container_id))}$"


def container_write_tokens(container_id: str) -> list[str]:
    """The tokens every write of a container stores first: its token, then the guard token.

    >>> container_write_tokens("a.b")
    ['container.a.b', '^container\\\\.a\\\\.b$']
    """
    return [container_token(container_id), container_filter(container_id)]


def combine_scope(container_id: str | None, extra: Iterable[str] | None = None) -> list[str]:
    """The container filter first, then every extra pattern (AND). Validates all of them.

    >>> combine_scope("bob", ["type\\\\.preference"])
    ['^container\\\\.bob$', 'type\\\\.preference']
    """
    patterns: list[str] = []
    if container_id is not None:
        patterns.append(container_filter(container_id))
    patterns.extend(validate_patterns(extra))
    if len(patterns) > MAX_SCOPE_TOKENS:
        raise InvalidRequestError(
            f"scope has {len(patterns)} patterns; at most {MAX_SCOPE_TOKENS} are allowed",
            field="scope",
        )
    return patterns


def is_reserved_token(token: str) -> bool:
    """True when the server could read ``token`` as a container's token (see the module doc).

    >>> [is_reserved_token(t) for t in ["Container.x", "^CONTAINER\\\\.x$", "\\u212aind.x",
    ...                                 "c\\u043entainer.x", "type.container.x"]]
    [True, True, False, False, False]
    >>> is_reserved_token("\\uff43ontainer.x"), is_reserved_token("conta\\u0131ner.x")
    (True, True)
    """
    if _RESERVED.match(token):
        return True
    return _RESERVED.match(unicodedata.normalize("NFKC", token).casefold()) is not None


@dataclass(frozen=True)
class Tenancy:
    """The container (or none) a tool or memory acts for, and the rule that confines it.

    >>> Tenancy(None).read_scope(None) is None, Tenancy(None).owns([])
    (True, True)
    """

    container: str | None = None

    def __post_init__(self) -> None:
        if self.container is not None:
            _check_container_id(self.container)  # invalid ids fail at construction

    @property
    def token(self) -> str | None:
        """The stored token, ``container.<id>``."""
        return None if self.container is None else container_token(self.container)

    @property
    def filter(self) -> str | None:
        """The anchored filter every read sends first, ``^container\\.<id>$``."""
        return None if self.container is None else container_filter(self.container)

    def read_scope(self, patterns: Iterable[str] | None) -> list[str] | None:
        """Container filter first, then the caller's patterns (AND); ``None`` when both are empty.

        Used for every search, count, traversal and bulk delete.
        """
        combined = combine_scope(self.container, patterns)
        return combined or None

    def check_token(self, token: str, *, field: str = "scope") -> None:
        """Refuse a caller's token that names a container and is not exactly one of ours."""
        if self.container is None:
            return
        if is_reserved_token(token) and token not in container_write_tokens(self.container):
            raise InvalidRequestError(
                f"{field} token {token!r} is reserved: the server could read it as another "
                f"container's token, and writes go only to this container ({self.container!r}, "
                f"set by the application); leave out tokens starting with '{RESERVED_PREFIX}' "
                "in any letter case",
                field=field,
            )

    def check_key(self, key: str, *, field: str = "metadata") -> None:
        """Refuse a metadata key that would become a container token (``key.value``)."""
        if self.container is not None and is_reserved_token(f"{key}."):
            raise InvalidRequestError(
                f"metadata key {key!r} is reserved: it would name another container; the "
                f"container comes from the config ({self.container!r}), not from metadata",
                field=field,
            )

    def write_tokens(self, tokens: Sequence[str] | None, *, field: str = "scope") -> list[str]:
        """Tokens to store: our token and guard first, no other container's, no duplicates."""
        given = validate_tokens(tokens, field=field)
        if self.container is None:
            return given
        own = container_write_tokens(self.container)
        for token in given:
            self.check_token(token, field=field)
        out = [*own, *(t for t in dict.fromkeys(given) if t not in own)]
        if len(out) > MAX_SCOPE_TOKENS:
            raise InvalidRequestError(
                f"{field} has too many tokens: at most {MAX_SCOPE_TOKENS - len(own)} may be given",
                field=field,
            )
        return out

    def owns(self, scope: Sequence[str] | None) -> bool:
        """True when a memory with these tokens belongs to the container (always, without one)."""
        if self.container is None:
            return True
        return bool(scope) and token_matches([container_filter(self.container)], list(scope or ()))

    def require(self, memory_id: str, scope: Sequence[str] | None) -> None:
        """Raise the same not-found error the server gives, so foreign ids stay invisible."""
        if not self.owns(scope):
            raise NotFoundError(f"memory {memory_id!r} was not found", status_code=404)


def visible_search(tenancy: Tenancy, response: SearchResponse) -> SearchResponse:
    """Drop hits and related memories that do not carry the container token.

    Edges whose endpoints arrive as bare ids are kept: the server only returns an edge when both
    endpoints satisfy the whole scope filter (guide section 5.3); endpoints sent as objects are
    checked.
    """
    if tenancy.container is None:
        return response
    # Imported here: the configs of the framework layers use this module's container rule
    # without loading the models.
    from .models import MemoryNode

    kept: list[MemoryNode | RelationshipEdge] = []
    for hit in response.results:
        if isinstance(hit, MemoryNode):
            if tenancy.owns(hit.scope):
                related = [r for r in hit.related_memories if tenancy.owns(r.scope)]
                kept.append(hit.model_copy(update={"related_memories": related}))
        elif all(tenancy.owns(end.scope) for end in (hit.source, hit.target) if end.scope):
            kept.append(hit)
    return response.model_copy(update={"results": kept})


def visible_nodes(tenancy: Tenancy, nodes: Sequence[_N]) -> list[_N]:
    """The graph nodes that belong to the container."""
    return [node for node in nodes if tenancy.owns(node.scope)]


def visible_edges(edges: Sequence[_E], node_ids: set[str]) -> list[_E]:
    """The edges whose two endpoints are among ``node_ids``."""
    return [e for e in edges if e.source in node_ids and e.target in node_ids]
