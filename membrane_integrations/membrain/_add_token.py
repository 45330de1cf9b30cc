"""The *add token*: a client-generated scope token that lets an ambiguous add be looked up.

A create (``POST /memories``) whose reply never arrived (a 5xx page, a dropped connection, a
reply cut off) may or may not have queued a job, and without the reply the client has no job id.
So every add stores one extra token that names that add alone; after an ambiguous failure the
client searches for it (``full_scope`` over the escaped, anchored token) to learn whether the
memory exists, instead of guessing.

The token is ``^(?:add\\.<32 hex digits>)?``. Membrain also reads every stored token of a new
memory as a regex when it picks near-duplicates to merge into and neighbours to link (guide
section 4.1, AND semantics). Read as a regex, this token is optional at the start of a token, so
it matches every token and leaves merging and linking exactly as they are without it; the
container guard token still confines them. As a stored literal it starts with ``^``, like the
container guard, so no container filter ever selects it and the tool text shown to a model
leaves it out (``langchain/_format_membrain.shown_scope``).

Example:
    >>> token = new_add_token()
    >>> is_add_token(token), is_add_token("container.bob")
    (True, False)
    >>> import re
    >>> bool(re.search(token, "container.bob"))  # as a merge filter it admits every candidate
    True
    >>> bool(re.search(add_token_filter(token), token, re.IGNORECASE))
    True
"""

from __future__ import annotations

import re
import uuid

from ..core.scope import escape_literal

__all__ = ["ADD_TOKEN_PREFIX", "add_token_filter", "is_add_token", "new_add_token"]

ADD_TOKEN_PREFIX = "^(?:add\\."
_SHAPE = re.compile(r"\^\(\?:add\\\.[0-9a-f]{32}\)\?")


def new_add_token() -> str:
    """A fresh token for one add (random, 128 bits)."""
    return f"{ADD_TOKEN_PREFIX}{uuid.uuid4().hex})?"


def is_add_token(token: str) -> bool:
    """True for a token made by :func:`new_add_token` (to hide it from models and metadata)."""
    return _SHAPE.fullmatch(token) is not None


def add_token_filter(token: str) -> str:
    """The search pattern that selects exactly the memory carrying ``token``."""
    return f"^{escape_literal(token)}$"
