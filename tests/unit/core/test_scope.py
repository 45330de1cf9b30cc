"""core.scope and membrain.tenancy: container tokens, time buckets, patterns, AND semantics."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.core.scope import (
    MAX_SCOPE_TOKEN_LENGTH,
    MAX_SCOPE_TOKENS,
    escape_literal,
    time_filter,
    time_token,
    token_matches,
    validate_patterns,
    validate_tokens,
)
from membrane_integrations.membrain.tenancy import (
    combine_scope,
    container_filter,
    container_token,
    encode_container_id,
)

ADVERSARIAL_IDS = [
    "bob",
    "Bob",
    "BOB",
    "bob2",
    "a.b",
    "aXb",
    "a|b",
    "a",
    "b",
    ".*",
    "anything",
    "^",
    "$",
    "a$b",
    "(x)",
    "[ab]",
    "a+",
    "aa",
    "x{2}",
    "xx",
    "back\\slash",
    "space id",
    "dash-id",
    "slash/id",
    "hash#id",
    "amp&id",
    "tilde~id",
    "用户",
    "bób",
    "BÓB",
    "\u017f",  # LATIN SMALL LETTER LONG S: matches "s" case-insensitively
    "\u212a",  # KELVIN SIGN: matches "k" case-insensitively
    "s",
    "K",
    "k",
    "%42ob",
    "emoji🙂",
    "?",
    "*",
]


@pytest.mark.parametrize("cid", ADVERSARIAL_IDS)
def test_container_filter_matches_only_its_own_token(cid: str) -> None:
    own = container_token(cid)
    assert own == f"container.{encode_container_id(cid)}"
    assert own.startswith("container.")
    pattern = container_filter(cid)
    assert token_matches([pattern], [own])
    # ids that differ only in case are distinct containers too: the server ignores case
    others = [container_token(o) for o in ADVERSARIAL_IDS if o != cid]
    leaks = [t for t in others if token_matches([pattern], [t])]
    assert leaks == [], f"{pattern!r} also matches {leaks}"


@pytest.mark.parametrize(
    ("cid", "not_matched"),
    [
        ("bob", ["container.bob2", "container.bobby", "xcontainer.bob", "container.bob.x"]),
        ("a.b", ["container.aXb", "container.a-b"]),
        ("a|b", ["container.a", "container.b", "b"]),
        (".*", ["container.", "container.x", "container.anything at all"]),
    ],
)
def test_adversarial_near_misses(cid: str, not_matched: list[str]) -> None:
    pattern = container_filter(cid)
    for token in not_matched:
        assert not token_matches([pattern], [token]), (pattern, token)


@pytest.mark.parametrize("text", [*ADVERSARIAL_IDS, "", "a\\.b", "\\d+", "]["])
def test_escape_literal_matches_itself_exactly(text: str) -> None:
    assert re.fullmatch(escape_literal(text), text)
    assert re.fullmatch(escape_literal(text), text + "x") is None


@pytest.mark.parametrize("bad", ["", "a\nb", "tab\there", "nul\x00", "x" * 300])
def test_bad_container_ids_rejected(bad: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        container_filter(bad)
    assert info.value.field == "container"
    with pytest.raises(InvalidRequestError):
        container_token(bad)


def test_container_id_length_limit_is_the_guard_token_limit() -> None:
    # every write stores the guard ``^container\.<id>$`` too, the longer of the two tokens
    longest = "x" * (MAX_SCOPE_TOKEN_LENGTH - len("^container\\.$"))
    assert len(container_filter(longest)) == MAX_SCOPE_TOKEN_LENGTH
    assert len(container_token(longest)) < MAX_SCOPE_TOKEN_LENGTH
    with pytest.raises(InvalidRequestError, match="too long"):
        container_token(longest + "x")


def test_and_semantics_across_patterns() -> None:
    patterns = ["^container\\.bob$", "type\\.(preference|decision)"]
    assert token_matches(patterns, ["container.bob", "type.decision"])
    # each pattern must match some token of the same memory
    assert not token_matches(patterns, ["container.bob"])
    assert not token_matches(patterns, ["container.alice", "type.decision"])
    # one token cannot satisfy a pattern it does not match, even if another pattern matches it
    assert not token_matches(["^a$", "^b$"], ["a"])
    # OR lives inside one pattern
    assert token_matches(["scope\\.(project|user)"], ["scope.user"])
    # no patterns: everything matches
    assert token_matches([], ["anything"])
    assert token_matches([], [])


def test_matching_is_case_insensitive_like_the_server() -> None:
    assert token_matches(["TYPE\\.Decision"], ["type.decision"])


def test_combine_scope_puts_container_first_and_ands_extras() -> None:
    combined = combine_scope("bob", ["type\\.preference", ".*"])
    assert combined == ["^container\\.bob$", "type\\.preference", ".*"]
    # an extra pattern from a model can only narrow: a wildcard does not widen the container
    assert not token_matches(combined, ["container.alice", "type.preference"])
    assert token_matches(combined, ["container.bob", "type.preference"])
    assert combine_scope(None, ["x"]) == ["x"]
    assert combine_scope("bob") == ["^container\\.bob$"]


def test_combine_scope_rejects_too_many_and_bad_extras() -> None:
    with pytest.raises(InvalidRequestError, match="at most 50"):
        combine_scope("bob", [f"p{i}" for i in range(MAX_SCOPE_TOKENS)])
    with pytest.raises(InvalidRequestError, match=r"\(oops"):
        combine_scope("bob", ["(oops"])


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(unclosed", "unclosed"),
        ("[a-", "missing ]"),
        ("*starts", "no argument for repetition"),
        ("a{99999999999}", "repeat counts above 255"),
        ("x{256}", "repeat counts above 255"),
        ("(?=ahead)", "look-ahead"),
        ("(?<=behind)", "look-behind"),
        ("(?i)flags", "flag groups"),
        ("(a)\\1", "the escape \\1"),
        ("\\bword", "the escape \\b"),
        ("\\pL", "the escape \\p"),
        ("trailing\\", "trailing backslash"),
        ("(?P<name>x)", "named groups"),
        ("(?<name>x)", "named groups"),
        ("(?>atomic)", "atomic groups"),
        ("(?#comment)", "inline comments"),
    ],
)
def test_bad_patterns_rejected_naming_the_pattern(pattern: str, why: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        validate_patterns(["^ok$", pattern])
    assert repr(pattern) in str(info.value)  # named as written, quoted
    assert why in str(info.value)
    assert info.value.field == "scope"


def test_good_patterns_pass_through_unchanged() -> None:
    patterns = [
        "^container\\.x$",
        "type\\.(a|b)",
        "(?:x|y)+",
        "\\d{4}-W\\d{2}",
        "[^.]+?",
        "x{0,255}",
        "[[:alpha:]]+",
        "[]a]",
        "\\(?P",  # a literal paren, optional, then P: not a group
        "[(?=]",  # inside a class: literals
    ]
    assert validate_patterns(patterns) == patterns
    assert validate_patterns(None) == []
    assert validate_patterns([]) == []


def test_patterns_must_be_a_list() -> None:
    with pytest.raises(InvalidRequestError, match="not a string"):
        validate_patterns("^container\\.bob$")


def test_token_limits() -> None:
    assert validate_tokens(None) == []
    assert validate_tokens(("a", "b")) == ["a", "b"]
    assert len(validate_tokens(["t"] * MAX_SCOPE_TOKENS)) == MAX_SCOPE_TOKENS
    with pytest.raises(InvalidRequestError, match="51 tokens"):
        validate_tokens(["t"] * (MAX_SCOPE_TOKENS + 1))
    assert validate_tokens(["x" * MAX_SCOPE_TOKEN_LENGTH])
    with pytest.raises(InvalidRequestError, match="257 characters"):
        validate_tokens(["x" * (MAX_SCOPE_TOKEN_LENGTH + 1)])
    with pytest.raises(InvalidRequestError, match="non-empty"):
        validate_tokens([""])
    with pytest.raises(InvalidRequestError, match="non-empty"):
        validate_tokens([3])  # type: ignore[list-item]
    with pytest.raises(InvalidRequestError, match="not a string"):
        validate_tokens("container.bob")


def test_time_tokens_and_filters() -> None:
    day = date(2026, 3, 14)
    assert time_token("day", day) == "time.day.2026-03-14"
    assert time_token("week", day) == "time.week.2026-W11"
    assert time_token("month", datetime(2026, 3, 14, 23, 59)) == "time.month.2026-03"
    # ISO week year: 1 Jan 2027 is in week 53 of 2026
    assert time_token("week", date(2027, 1, 1)) == "time.week.2026-W53"
    pattern = time_filter("month", day)
    assert token_matches([pattern], ["time.month.2026-03"])
    assert not token_matches([pattern], ["time.month.2026-030", "timeXmonth.2026-03"])
    with pytest.raises(InvalidRequestError, match="unknown time grain") as info:
        time_token("year", day)
    assert info.value.field == "grain"


def test_plain_lowercase_ids_are_stored_verbatim() -> None:
    assert container_token("prod-bot") == "container.prod-bot"
    assert container_token("user_42@example.com") == "container.user_42@example.com"
    assert container_filter("prod-bot") == "^container\\.prod\\-bot$"


def test_case_variants_never_share_a_container() -> None:
    assert not token_matches([container_filter("bob")], [container_token("Bob")])
    assert not token_matches([container_filter("Bob")], [container_token("bob")])
    assert not token_matches([container_filter("Bob")], [container_token("BOB")])
