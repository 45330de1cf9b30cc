"""Scope tokens and the regex filters that select them.

Membrain stores a list of literal *scope tokens* on each memory and filters reads with a list
of regex *patterns* (PostgreSQL ``~*``: case-insensitive, AND across patterns, each pattern
matching at least one token of the same memory). This module builds both sides so that
tenancy is structural:

* :func:`container_token` is what we store (``container.<id>``, with the id encoded so that
  the server's case-insensitive matching cannot make two ids collide: see below);
* :func:`container_filter` is what we search with (``^container\\.<escaped id>$``), always the
  first pattern, so a pattern that comes from a model can only narrow the result, never widen it;
* :func:`combine_scope` puts the container filter first and ANDs extra patterns after it;
* :func:`validate_patterns` compiles every pattern before anything is sent.

The regex subset we accept is the intersection of Python's ``re`` and PostgreSQL's advanced
regular expressions: literals, ``.``, classes ``[...]``, anchors ``^`` and ``$``, groups
``(...)`` and ``(?:...)``, alternation ``|``, the quantifiers ``* + ? {m,n}`` (and their lazy
forms), and the escapes ``\\d \\w \\s`` with their negations. Named groups (``(?P<n>...)``,
``(?<n>...)``), atomic groups ``(?>...)``, inline comments ``(?#...)`` and back-references by name
are rejected, because PostgreSQL would read them differently or not at all.

Container ids made of lowercase ASCII letters, digits and ``_ . - : @`` are stored as they are
(``container.prod-bot``, ``container.user_42``). Every other character is percent-encoded as UTF-8
with lowercase hex (``Bob`` becomes ``container.%42ob``, ``a|b`` becomes ``container.a%7cb``).
Because the server matches scopes case-insensitively, storing ``Bob`` literally would let the
container ``bob`` read it; encoded, distinct ids always give tokens that differ even ignoring case.

Example:
    >>> container_token("prod-bot")
    'container.prod-bot'
    >>> container_filter("a.b")
    '^container\\\\.a\\\\.b$'
    >>> combine_scope("bob", ["type\\\\.preference"])
    ['^container\\\\.bob$', 'type\\\\.preference']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from .errors import InvalidRequestError

__all__ = [
    "MAX_SCOPE_TOKENS",
    "MAX_SCOPE_TOKEN_LENGTH",
    "combine_scope",
    "container_filter",
    "container_token",
    "container_write_tokens",
    "encode_container_id",
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
# Characters with no case variants and no surprises in either regex dialect once escaped.
_TOKEN_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-:@")


def escape_literal(text: str) -> str:
    """Escape ``text`` so that it matches itself in both Python and PostgreSQL regexes.

    >>> escape_literal("a.b|c")
    'a\\\\.b\\\\|c'
    """
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def _check_container_id(container_id: str) -> None:
    if not isinstance(container_id, str) or not container_id:
        raise InvalidRequestError("container id must be a non-empty string", field="container")
    if any(ch in container_id for ch in "\r\n\t\x00"):
        raise InvalidRequestError(
            "container id must not contain control characters", field="container"
        )
    if len(container_token(container_id, _checked=True)) > MAX_SCOPE_TOKEN_LENGTH:
        raise InvalidRequestError(
            f"container id is too long: the token 'container.<id>' must be at most "
            f"{MAX_SCOPE_TOKEN_LENGTH} characters",
            field="container",
        )


def encode_container_id(container_id: str) -> str:
    """The id as it appears in the token: unchanged if it is lowercase-safe, else percent-encoded.

    >>> encode_container_id("user_42"), encode_container_id("Bob"), encode_container_id("a|b")
    ('user_42', '%42ob', 'a%7cb')
    """
    return "".join(
        ch if ch in _TOKEN_SAFE else "".join(f"%{b:02x}" for b in ch.encode("utf-8"))
        for ch in container_id
    )


def container_token(container_id: str, *, _checked: bool = False) -> str:
    """The scope token stored on every memory of a container: ``container.<encoded id>``."""
    if not _checked:
        _check_container_id(container_id)
    return f"container.{encode_container_id(container_id)}"


def container_write_tokens(container_id: str) -> list[str]:
    """The tokens to store on every write of a container: its token, then a *guard* token.

    Membrain reads every stored token of a new memory as a regex when it looks for near-duplicates
    to merge into and neighbours to link (guide section 4.1, AND semantics). Read as a regex,
    ``container.a.b`` also matches ``container.aXb``, so without more an add in one container could
    merge into another container's memory. The guard is the anchored filter itself: as a pattern
    it admits only candidates of exactly this container, and as a stored literal it starts with
    ``^``, so no container filter ever selects it.

    >>> container_write_tokens("a.b")
    ['container.a.b', '^container\\\\.a\\\\.b$']
    """
    return [container_token(container_id), container_filter(container_id)]


def container_filter(container_id: str) -> str:
    """The anchored, escaped pattern that matches exactly one container's token."""
    _check_container_id(container_id)
    return f"^container\\.{escape_literal(encode_container_id(container_id))}$"


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


def combine_scope(container_id: str | None, extra: Iterable[str] | None = None) -> list[str]:
    """The container filter first, then every extra pattern (AND). Validates all of them."""
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


def token_matches(patterns: Sequence[str], tokens: Sequence[str]) -> bool:
    """True when every pattern matches at least one token (the server's AND semantics).

    >>> token_matches(["^container\\\\.bob$"], ["container.bob2"])
    False
    """
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    return all(any(c.search(t) for t in tokens) for c in compiled)
