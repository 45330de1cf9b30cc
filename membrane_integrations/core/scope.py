"""Scope tokens and the regex filters that select them (backend-neutral helpers).

Membrain stores a list of literal *scope tokens* on each memory and filters reads with a list
of regex *patterns* (PostgreSQL ``~*``: case-insensitive, AND across patterns, each pattern
matching at least one token of the same memory). This module holds what does not depend on
whose memory it is: escaping a literal, the documented limits on tokens, checking patterns
before anything is sent, the server's matching rule, and time-bucket tokens. The container rule
(which tokens a container stores, which filter every read sends first, which results belong to
it) is :mod:`membrane_integrations.membrain.tenancy`.

Patterns run on RE2 (``google-re2``), a linear-time engine: no pattern can backtrack, so
matching costs time proportional to the token, whatever the pattern. The accepted subset is
what RE2 and PostgreSQL's advanced regular expressions read the same way: literals, ``.``,
classes ``[...]`` (with POSIX classes such as ``[[:alpha:]]``), anchors ``^`` and ``$``, groups
``(...)`` and ``(?:...)``, alternation ``|``, the quantifiers ``* + ? {m,n}`` with counts up to
255 (and their lazy forms), the escapes ``\\d \\w \\s`` with their negations, ``\\n \\t \\r \\f
\\v`` and a backslash before any punctuation. Anything else (named, atomic, look-around and
flag groups ``(?...)``, back-references, ``\\b``, ``\\p``, ``\\Q...\\E``, counts above 255) is
refused with an :class:`~.errors.InvalidRequestError` naming the pattern, before any work.

Example:
    >>> escape_literal("a.b")
    'a\\\\.b'
    >>> token_matches(["^type\\\\.pref"], ["type.preference"])
    True
    >>> token_matches(["(a+)+$"], ["a" * 10_000 + "!"])  # linear time: no backtracking
    False
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import re2

from .errors import InvalidRequestError

__all__ = [
    "MAX_REPEAT",
    "MAX_SCOPE_TOKENS",
    "MAX_SCOPE_TOKEN_LENGTH",
    "compile_pattern",
    "escape_literal",
    "pattern_search",
    "time_filter",
    "time_token",
    "token_matches",
    "validate_patterns",
    "validate_tokens",
]

MAX_SCOPE_TOKENS = 50
MAX_SCOPE_TOKEN_LENGTH = 256
# PostgreSQL's bound on a repetition count (RE_DUP_MAX); RE2 allows 1000.
MAX_REPEAT = 255
# Memory RE2 may use for one compiled pattern (its default is 8 MiB); a 256-character pattern
# in the accepted subset stays far below it, a larger program is refused, not built.
_MAX_PROGRAM_BYTES = 1 << 20

# Every character that means something in either regex dialect.
_META = frozenset(r"\.^$*+?()[]{}|-/#&~ ")
# Letters allowed after a backslash (a backslash before ASCII punctuation is always a literal).
_LETTER_ESCAPES = frozenset("dDwWsSntrfv")
_GROUP_KINDS = {
    "P": "named groups (?P...)",
    "<": "named groups (?<name>...) and look-behind (?<=...)",
    ">": "atomic groups (?>...)",
    "#": "inline comments (?#...)",
    "=": "look-ahead (?=...)",
    "!": "look-ahead (?!...)",
}
_TIME_GRAINS = ("day", "week", "month")


def escape_literal(text: str) -> str:
    """Escape ``text`` so that it matches itself in both RE2 and PostgreSQL regexes.

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


def _excerpt(text: str, limit: int = 40) -> str:
    """``text`` shortened for a message (never more than ``limit`` characters of input)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


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


def _repeat_problem(pattern: str, start: int) -> str | None:
    """A ``{m}``, ``{m,}`` or ``{m,n}`` at ``start`` with a count above :data:`MAX_REPEAT`."""
    end = pattern.find("}", start)
    if end < 0:
        return None
    body = pattern[start + 1 : end]
    counts = body.split(",")
    if not body or len(counts) > 2 or not all(c.isdigit() or c == "" for c in counts):
        return None
    if any(len(c) > 3 or (c and int(c) > MAX_REPEAT) for c in counts):
        return f"repeat counts above {MAX_REPEAT} ({{{_excerpt(body, 12)[1:-1]}}})"
    return None


def _subset_problem(pattern: str) -> str | None:
    """What in ``pattern`` falls outside the accepted subset, or ``None`` (one linear pass)."""
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 == n:
                return "a trailing backslash"
            nxt = pattern[i + 1]
            if not (nxt in _LETTER_ESCAPES or (nxt.isascii() and not nxt.isalnum())):
                return f"the escape \\{nxt} (use \\d \\w \\s, their negations, or \\<punctuation>)"
            i += 2
            continue
        if in_class:
            if ch == "[" and pattern.startswith("[:", i):
                close = pattern.find(":]", i + 2)
                i = close + 2 if close >= 0 else i + 1
                continue
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            i += 1
            if pattern.startswith("^", i):
                i += 1
            if pattern.startswith("]", i):
                i += 1  # a leading ] is a literal member
            continue
        elif ch == "(" and pattern.startswith("?", i + 1):
            kind = pattern[i + 2 : i + 3]
            if kind != ":":
                what = _GROUP_KINDS.get(kind, f"flag groups (?{kind}...)")
                return f"{what} are not supported by the server"
        elif ch == "{":
            problem = _repeat_problem(pattern, i)
            if problem:
                return problem
        i += 1
    return None


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = _MAX_PROGRAM_BYTES
    return options


_OPTIONS = _options()


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    """The RE2 program of a pattern that passed the subset check (cached: filters repeat)."""
    return re2.compile(pattern, _OPTIONS)


def compile_pattern(pattern: str, *, field: str = "scope") -> Any:
    """The case-insensitive RE2 program of one pattern; raise naming it when it is not accepted.

    >>> compile_pattern("^container\\\\.x$").search("CONTAINER.X") is not None
    True
    >>> compile_pattern("(?=x)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    membrane_integrations.core.errors.InvalidRequestError: invalid scope pattern '(?=x)': ...
    """
    problem = _subset_problem(pattern)
    if problem is None:
        try:
            return _compiled(pattern)
        except re2.error as exc:
            reason = exc.args[0] if exc.args else "not a valid regex"
            text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
            problem = f"{text}; escape literal dots as '\\.'"
    raise InvalidRequestError(
        f"invalid {field} pattern {_excerpt(pattern)}: {problem}", field=field
    )


def validate_patterns(patterns: Iterable[str] | None, *, field: str = "scope") -> list[str]:
    """Check every pattern (limits, accepted subset, RE2 compiles it); raise naming the first
    bad one.

    >>> validate_patterns(["^container\\\\.x$", "type\\\\.(a|b)"])
    ['^container\\\\.x$', 'type\\\\.(a|b)']
    """
    if patterns is None:
        return []
    if isinstance(patterns, str):
        raise InvalidRequestError(f"{field} must be a list of patterns, not a string", field=field)
    out = validate_tokens(list(patterns), field=field)
    for pattern in out:
        compile_pattern(pattern, field=field)
    return out


def pattern_search(program: Any, token: str) -> bool:
    """Whether a compiled pattern matches somewhere in ``token`` (a lone surrogate, which no
    UTF-8 text holds, is read as U+FFFD instead of failing the match)."""
    try:
        return program.search(token) is not None
    except UnicodeEncodeError:
        clean = token.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return program.search(clean) is not None


def token_matches(patterns: Sequence[str], tokens: Sequence[str]) -> bool:
    """True when every pattern matches at least one token (the server's AND semantics).

    Patterns are checked first (an :class:`~.errors.InvalidRequestError` names a bad one);
    matching is linear in the tokens' length.

    >>> token_matches(["^container\\\\.bob$"], ["container.bob2"])
    False
    """
    programs = [compile_pattern(p) for p in validate_patterns(patterns)]
    return all(any(pattern_search(p, t) for t in tokens) for p in programs)
