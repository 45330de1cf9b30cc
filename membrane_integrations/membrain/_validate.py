"""Input checks run before any Membrain request is built.

Every check raises :class:`InvalidRequestError` naming the offending field, so a bad argument
never costs a round trip and never reaches the server. The limits are the guide's (content
20,000 characters, 50 scope tokens of 256 characters, query 10,000 characters, ``k`` 1-100,
hops 1-5, similarity 0-1).

Example:
    >>> check_k(5)
    5
    >>> memory_id_segment("../stats")
    '%2E%2E%2Fstats'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, cast
from urllib.parse import quote

from ..core.errors import InvalidRequestError
from ..core.scope import MAX_SCOPE_TOKENS, validate_patterns, validate_tokens
from .models import ResponseFormat

__all__ = [
    "MAX_CATEGORY_LENGTH",
    "MAX_CONTENT_LENGTH",
    "MAX_QUERY_LENGTH",
    "MAX_SCOPE_TOKENS",
    "check_category",
    "check_content",
    "check_float_range",
    "check_int_range",
    "check_k",
    "check_memory_id",
    "check_patterns",
    "check_query",
    "check_response_format",
    "check_tokens",
    "memory_id_segment",
]

MAX_CONTENT_LENGTH = 20_000
MAX_QUERY_LENGTH = 10_000
MAX_CATEGORY_LENGTH = 256
_RESPONSE_FORMATS = ("raw", "interpreted", "both")


def check_content(content: object, *, field: str = "content") -> str:
    """A non-empty string of at most 20,000 characters."""
    if not isinstance(content, str) or not content.strip():
        raise InvalidRequestError(f"{field} must be a non-empty string", field=field)
    if len(content) > MAX_CONTENT_LENGTH:
        raise InvalidRequestError(
            f"{field} is {len(content)} characters; at most {MAX_CONTENT_LENGTH} are allowed. "
            "Store one atomic fact per memory.",
            field=field,
        )
    return content


def check_query(query: object) -> str:
    """A non-empty question of at most 10,000 characters."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequestError("query must be a non-empty string", field="query")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidRequestError(
            f"query is {len(query)} characters; at most {MAX_QUERY_LENGTH} are allowed",
            field="query",
        )
    return query


def check_category(category: object) -> str | None:
    """``None`` or a non-empty string of at most 256 characters."""
    if category is None:
        return None
    if not isinstance(category, str) or not category:
        raise InvalidRequestError("category must be a non-empty string", field="category")
    if len(category) > MAX_CATEGORY_LENGTH:
        raise InvalidRequestError(
            f"category is {len(category)} characters; at most {MAX_CATEGORY_LENGTH} are allowed",
            field="category",
        )
    return category


def check_tokens(tokens: Sequence[str] | None) -> list[str] | None:
    """Stored scope tokens (literal strings), or ``None`` when not given."""
    return None if tokens is None else validate_tokens(tokens, field="scope")


# Filters that passed, so that a client searching the same scope again and again (the usual
# case: one container per agent) checks and compiles it once. Bounded; the check is pure.
_PASSED: dict[tuple[str, ...], None] = {}
_PASSED_MAX = 512


def check_patterns(patterns: Sequence[str] | None) -> list[str] | None:
    """Scope filters (regexes, AND), or ``None`` when not given or empty."""
    if patterns is None:
        return None
    if type(patterns) in (list, tuple) and all(type(p) is str for p in patterns):
        key = tuple(patterns)
        if key in _PASSED:
            return list(key) or None
        checked = validate_patterns(patterns, field="scope")
        if len(_PASSED) < _PASSED_MAX:
            _PASSED[key] = None
        return checked or None
    checked = validate_patterns(patterns, field="scope")
    return checked or None


def check_int_range(value: object, *, field: str, low: int, high: int) -> int:
    """An integer (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"{field} must be an integer", field=field)
    if not low <= value <= high:
        raise InvalidRequestError(
            f"{field} must be between {low} and {high}, got {value}", field=field
        )
    return value


def check_float_range(value: object, *, field: str, low: float, high: float) -> float:
    """A finite number in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidRequestError(f"{field} must be a number", field=field)
    if not low <= value <= high:
        raise InvalidRequestError(
            f"{field} must be between {low} and {high}, got {value}", field=field
        )
    return float(value)


def check_k(k: object) -> int:
    """The number of semantic hits: 1-100."""
    return check_int_range(k, field="k", low=1, high=100)


def check_response_format(value: object) -> ResponseFormat:
    """One of ``raw``, ``interpreted``, ``both``."""
    if value not in _RESPONSE_FORMATS:
        raise InvalidRequestError(
            f"response_format must be one of {', '.join(_RESPONSE_FORMATS)}, got {value!r}",
            field="response_format",
        )
    return cast(Literal["raw", "interpreted", "both"], value)


def check_memory_id(memory_id: object, *, field: str = "memory_id") -> str:
    """A non-empty id without control characters."""
    if not isinstance(memory_id, str) or not memory_id.strip():
        raise InvalidRequestError(f"{field} must be a non-empty string", field=field)
    if any(ord(ch) < 32 for ch in memory_id):
        raise InvalidRequestError(f"{field} must not contain control characters", field=field)
    return memory_id


def memory_id_segment(memory_id: object, *, field: str = "memory_id") -> str:
    """The id escaped as one path segment.

    Slashes, ``?``, ``#`` and dots are percent-encoded, so an id such as ``../stats`` stays one
    segment and can never be normalised into another endpoint's path.
    """
    return quote(check_memory_id(memory_id, field=field), safe="").replace(".", "%2E")
