"""Scope tokens and the regex filters that select them (backend-neutral helpers).

Membrain stores a list of literal *scope tokens* on each memory and filters reads with a list
of regex *patterns* (PostgreSQL ``~*``: case-insensitive, AND across patterns, each pattern
matching at least one token of the same memory). This module holds what does not depend on
whose memory it is: escaping a literal, the documented limits on tokens, compiling patterns
before anything is sent, the server's matching rule, and time-bucket tokens. The container rule
(which tokens a container stores, which filter every read sends first, which results belong to
it) is :mod:`membrane_integrations.membrain.tenancy`.

The regex subset we accept is the intersection of Python's ``re`` and PostgreSQL's advanced
regular expressions: literals, ``.``, classes ``[...]``, anchors ``^`` and ``$``, groups
``(...)`` and ``(?:...)``, alternation ``|``, the quantifiers ``* + ? {m,n}`` (and their lazy
forms), and the escapes ``\\d \\w \\s`` with their negations. Named groups (``(?P<n>...)``,
``(?<n>...)``), atomic groups ``(?>...)``, inline comments ``(?#...)`` and back-references by name
are rejected, because PostgreSQL would read them differently or not at all.

Example:
    >>> escape_literal("a.b")
    'a\\\\.b'
    >>> token_matches(["^type\\\\.pref"], ["type.preference"])
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from .errors import InvalidRequestError

__all__ = [
    "MAX_SCOPE_TOKENS",
    "MAX_SCOPE_TOKEN_LENGTH",
    "escape_literal",
    "time_filter",
    "time_token",
    "token_matches",
    "validate_patterns",
    "validate_tokens",
]

MAX_SCOPE_TOKENS = 50
MAX_SCOPE_TOKEN_LENGTH = 256

# Every character that means something in either regex dialect.
_META = frozenset(r"\.^$*+?()[]{}|-/#&~ ")
_UNSUPPORTED = (
    (re.compile(r"\(\?P"), "named groups (?P...)"),
    (re.compile(r"\(\?<[A-Za-z_]"), "named groups (?<name>...)"),
    (re.compile(r"\(\?>"), "atomic groups (?>...)"),
    (re.compile(r"\(\?#"), "inline comments (?#...)"),
)
_TIME_GRAINS = ("day", "week", "month")


def escape_literal(text: str) -> str:
    """Escape ``text`` so that it matches itself in both Python and PostgreSQL regexes.

    >>> escape_literal("a.b|c")
    'a\\\\.b\\\\|c'
    """
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def _bucket(grain: str, when: date | datetime) -> str:
    if grain == "day":
        return when.strftime("%Y-%m-%d")
    if grain == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return when.strftime("%Y-%m")
    raise InvalidRequestError(
        f"unknown time grain {grain!r}: use one of {', '.join(_TIME_GRAINS)}", field="grain"
    )


def time_token(grain: str, when: date | datetime) -> str:
    """A time-bucket token: ``time.day.2026-03-14``, ``time.week.2026-W11``, ``time.month.2026-03``.

    >>> time_token("week", date(2026, 3, 14))
    'time.week.2026-W11'
    """
    return f"time.{grain}.{_bucket(grain, when)}"


def time_filter(grain: str, when: date | datetime) -> str:
    """The anchored pattern matching exactly the bucket token of ``when``.

    >>> time_filter("month", date(2026, 3, 14))
    '^time\\\\.month\\\\.2026\\\\-03$'
    """
    return f"^{escape_literal(time_token(grain, when))}$"


def validate_tokens(tokens: Sequence[str] | None, *, field: str = "scope") -> list[str]:
    """Check stored tokens against the documented limits (50 tokens of at most 256 characters)."""
    if tokens is None:
        return []
    if isinstance(tokens, str):
        raise InvalidRequestError(f"{field} must be a list of strings, not a string", field=field)
    out = list(tokens)
    if len(out) > MAX_SCOPE_TOKENS:
        raise InvalidRequestError(
            f"{field} has {len(out)} tokens; at most {MAX_SCOPE_TOKENS} are allowed", field=field
        )
    for token in out:
        if not isinstance(token, str) or not token:
            raise InvalidRequestError(f"{field} tokens must be non-empty strings", field=field)
        if len(token) > MAX_SCOPE_TOKEN_LENGTH:
            raise InvalidRequestError(
                f"{field} token {token[:40]!r}... is {len(token)} characters; "
                f"at most {MAX_SCOPE_TOKEN_LENGTH} are allowed",
                field=field,
            )
    return out


def validate_patterns(patterns: Iterable[str] | None, *, field: str = "scope") -> list[str]:
    """Compile every pattern case-insensitively; raise naming the first bad one.

    >>> validate_patterns(["^container\\\\.x$", "type\\\\.(a|b)"])
    ['^container\\\\.x$', 'type\\\\.(a|b)']
    """
    if patterns is None:
        return []
    if isinstance(patterns, str):
        raise InvalidRequestError(f"{field} must be a list of patterns, not a string", field=field)
    out = validate_tokens(list(patterns), field=field)
    for pattern in out:
        for detector, what in _UNSUPPORTED:
            if detector.search(pattern):
                raise InvalidRequestError(
                    f"invalid {field} pattern {pattern!r}: {what} are not supported by the server",
                    field=field,
                )
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise InvalidRequestError(
                f"invalid {field} pattern {pattern!r}: {exc}; escape literal dots as '\\.'",
                field=field,
            ) from exc
    return out


def token_matches(patterns: Sequence[str], tokens: Sequence[str]) -> bool:
    """True when every pattern matches at least one token (the server's AND semantics).

    >>> token_matches(["^container\\\\.bob$"], ["container.bob2"])
    False
    """
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    return all(any(c.search(t) for t in tokens) for c in compiled)


# The container helpers moved to the Membrain adapter (they are Membrain's tenancy rule). Old
# imports (``from membrane_integrations.core.scope import container_filter``) keep working.
_MOVED_TO_MEMBRAIN_TENANCY = frozenset(
    {
        "combine_scope",
        "container_filter",
        "container_token",
        "container_write_tokens",
        "encode_container_id",
    }
)


def __getattr__(name: str) -> object:
    if name in _MOVED_TO_MEMBRAIN_TENANCY:
        import warnings

        from ..membrain import tenancy

        warnings.warn(
            f"membrane_integrations.core.{name} moved to membrane_integrations.membrain.tenancy",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(tenancy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
