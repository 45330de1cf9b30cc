"""The container rules every Membrain tool and retriever applies (pure, no I/O).

A toolkit built with ``container="bob"`` stores the token ``container.bob`` on every memory it
adds and reads only through the anchored filter ``^container\\.bob$``, put *first* in the scope
list so that patterns coming from a model are ANDed after it and can only narrow the result.
Writes may not carry another container's token (``container.*`` is reserved), an update can
never drop the container token, and anything that comes back from the server is checked again
before the model sees it (defence in depth: the same check the server makes, done locally).

Writes also store a *guard token*, the anchored filter itself (``^container\\.bob$``). Membrain
reads every stored token of a new memory as a regex when it looks for near-duplicates to merge
into and neighbours to link (guide §4.1), and ``container.bob`` read as a regex also matches
``container.bob2`` (``container.a|b`` even matches anything containing ``b``). Without the
guard, an add in one container could merge into, and so change, another container's memory.
With it, every candidate must carry exactly our container token. As a stored literal it starts
with ``^``, so no container filter ever selects it.

Example:
    >>> t = Tenancy("bob")
    >>> t.read_scope([".*"])
    ['^container\\\\.bob$', '.*']
    >>> t.write_tokens(["type.preference"])
    ['container.bob', '^container\\\\.bob$', 'type.preference']
    >>> t.owns(["container.bob2"]), t.owns(["container.bob"])
    (False, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..core.errors import InvalidRequestError, NotFoundError
from ..core.scope import (
    MAX_SCOPE_TOKEN_LENGTH,
    MAX_SCOPE_TOKENS,
    combine_scope,
    container_filter,
    container_token,
    container_write_tokens,
    token_matches,
    validate_tokens,
)
from ..membrain.models import GraphEdge, GraphNode, MemoryNode, RelationshipEdge, SearchResponse

__all__ = ["RESERVED_PREFIX", "Tenancy", "visible_edges", "visible_nodes", "visible_search"]

RESERVED_PREFIX = "container."
_RESERVED = ("container.", "^container")
_N = TypeVar("_N", bound=GraphNode)
_E = TypeVar("_E", bound=GraphEdge)


@dataclass(frozen=True)
class Tenancy:
    """The container (or none) a tool acts for."""

    container: str | None = None

    def __post_init__(self) -> None:
        if self.container is not None:
            guard = container_filter(self.container)  # validates the id once, at construction
            if len(guard) > MAX_SCOPE_TOKEN_LENGTH:
                raise InvalidRequestError(
                    f"container id is too long: its escaped filter must be at most "
                    f"{MAX_SCOPE_TOKEN_LENGTH} characters",
                    field="container",
                )

    @property
    def token(self) -> str | None:
        """The stored token, ``container.<id>``."""
        return None if self.container is None else container_token(self.container)

    def read_scope(self, patterns: Iterable[str] | None) -> list[str] | None:
        """Container filter first, then the model's patterns (AND); ``None`` when both are empty."""
        combined = combine_scope(self.container, patterns)
        return combined or None

    def write_tokens(self, tokens: Sequence[str] | None) -> list[str]:
        """Tokens to store: our token and guard first, no other container's, no duplicates."""
        given = validate_tokens(tokens)
        if self.container is None:
            return given
        own = tuple(container_write_tokens(self.container))
        for token in given:
            if token.lower().startswith(_RESERVED) and token not in own:
                raise InvalidRequestError(
                    f"scope token {token!r} is reserved: tokens starting with "
                    f"'{RESERVED_PREFIX}' are set by the application, leave them out",
                    field="scope",
                )
        out = [*own, *(t for t in given if t not in own)]
        if len(out) > MAX_SCOPE_TOKENS:
            raise InvalidRequestError(
                f"scope has too many tokens: at most {MAX_SCOPE_TOKENS - len(own)} may be given",
                field="scope",
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
    endpoints satisfy the whole scope filter (guide §5.3); endpoints sent as objects are checked.
    """
    if tenancy.container is None:
        return response
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
