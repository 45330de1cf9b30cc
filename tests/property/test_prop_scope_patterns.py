"""The scope-pattern rule, with generated input, at every entry point that evaluates patterns.

The rule: a pattern is either refused before any work (``InvalidRequestError`` naming it in
the client, ``400 INVALID_SCOPE_PATTERN`` in the emulator) or it runs on RE2 with the server's
semantics (case-insensitive search, AND across patterns, each matching some token of the same
memory). Checked here:

* the client (``token_matches``, ``validate_patterns``) against an oracle, Python's ``re`` on
  short tokens of a plain alphabet (where both engines read the accepted subset alike);
* that the client refuses exactly what the emulator refuses, and that every emulator operation
  that takes a scope (search, ``full_scope`` search, count, bulk delete, traverse) selects
  exactly the memories ``token_matches`` selects;
* that update and create (which read stored tokens as patterns for merge candidates) accept any
  token, hostile ones included, and store it as given;
* that catastrophic patterns from a generator are answered (no hang: each example runs under the
  suite's timeout, never a timing threshold).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.core.scope import MAX_REPEAT, token_matches, validate_patterns

emulator_module = pytest.importorskip("membrane_integrations.emulator")

from membrane_integrations.emulator import Engine, HashingEmbeddings  # noqa: E402
from membrane_integrations.emulator.errors import EmulatorBadRequest  # noqa: E402

BUDGET = settings(max_examples=80, deadline=None, derandomize=True, database=None)
LIVE = settings(max_examples=25, deadline=None, derandomize=True, database=None)

PLAIN = "abcAB.-_19"
tokens = st.text(alphabet=PLAIN, min_size=1, max_size=12)
# what Python's re (the oracle) reads as RE2 does; POSIX classes only RE2 and PostgreSQL know
ORACLE_ATOMS = ["a", "b", "A", ".", "\\.", "\\d", "\\w", "[ab]", "[^a]", "-", "_", "1"]
atoms = st.sampled_from([*ORACLE_ATOMS, "[[:alpha:]]", "[[:digit:]_]"])


@st.composite
def subset_patterns(draw: st.DrawFn, depth: int = 2, oracle: bool = False) -> str:
    """Patterns of the accepted subset: atoms, groups, alternation, quantifiers, anchors
    (``oracle``: only atoms Python's ``re`` reads alike)."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth > 0 and draw(st.booleans()):
            inner = draw(subset_patterns(depth - 1, oracle))
            alt = draw(subset_patterns(depth - 1, oracle)) if draw(st.booleans()) else None
            group = draw(st.sampled_from(["(", "(?:"]))
            part = f"{group}{inner}{'|' + alt if alt else ''})"
        else:
            part = draw(st.sampled_from(ORACLE_ATOMS) if oracle else atoms)
        part += draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "+?", "*?"]))
        parts.append(part)
    head = draw(st.sampled_from(["", "", "^"]))
    tail = draw(st.sampled_from(["", "", "$"]))
    return head + "".join(parts) + tail


catastrophic = st.builds(
    lambda atom, inner, outer, end: f"({atom}{inner}){outer}{end}",
    st.sampled_from(["a", "[ab]", "\\w", ".", "(?:a|aa)"]),
    st.sampled_from(["+", "*", "{1,255}"]),
    st.sampled_from(["+", "*", "{2,255}"]),
    st.sampled_from(["$", "!", "b$", ""]),
)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "a{99999999999}",
            "x{256}",
            "(?=a)",
            "(?<=a)",
            "(?P<n>a)",
            "(?i)a",
            "(a)\\1",
            "\\b",
            "\\pL",
            "\\Qa.b\\E",
            "[",
            "(",
            "\\",
            "(?#c)",
            "(?>a)",
            "\\Z",
        ]
    ),
)


def _oracle(patterns: list[str], toks: list[str]) -> bool:
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    return all(any(c.search(t) for t in toks) for c in compiled)


# ---------------------------------------------------------------- the client


@BUDGET
@given(
    patterns=st.lists(subset_patterns(oracle=True), min_size=1, max_size=3),
    toks=st.lists(tokens, min_size=1, max_size=4),
)
def test_token_matches_agrees_with_the_backtracking_oracle_on_the_subset(
    patterns: list[str], toks: list[str]
) -> None:
    assert validate_patterns(patterns) == patterns
    assert token_matches(patterns, toks) == _oracle(patterns, toks)


@BUDGET
@given(pattern=hostile_text)
def test_a_pattern_is_accepted_or_refused_naming_it_never_anything_else(pattern: str) -> None:
    try:
        validate_patterns([pattern])
    except InvalidRequestError as exc:
        assert exc.field == "scope"
        assert repr(pattern[:40]) in str(exc) or not pattern
        return
    assert token_matches([pattern], ["token"]) in (True, False)


@BUDGET
@given(pattern=catastrophic, n=st.integers(20, 5000))
def test_catastrophic_patterns_answer_correctly_on_long_tokens(pattern: str, n: int) -> None:
    token = "a" * n + "!"
    try:
        validate_patterns([pattern])
    except InvalidRequestError:
        assert re.search(r"\{\d+,(\d+)\}", pattern)  # only a count over the limit is refused
        return
    got = token_matches([pattern], [token])
    # the oracle only where it stays fast: a short token
    assert got == _oracle([pattern], ["a" * 12 + "!"]) or n > 12
    assert token_matches([pattern], [token]) is got


def test_repeat_counts_stop_at_postgresqls_limit() -> None:
    assert validate_patterns([f"a{{{MAX_REPEAT}}}"])
    with pytest.raises(InvalidRequestError, match="repeat counts"):
        validate_patterns([f"a{{{MAX_REPEAT + 1}}}"])


# ---------------------------------------------------------------- the emulator, every entry point


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    eng = Engine(HashingEmbeddings())
    yield eng
    eng.close()


_FRESH = itertools.count()
_TENANT_TOKENS = [
    ["a.b", "x"],
    ["AB", "_1"],
    ["aaaa", "b-b"],
    ["a" * 30 + "!"],
    ["c.19", "x"],
]


@pytest.fixture(scope="module")
def tenant(engine: Engine) -> tuple[str, dict[str, list[str]]]:
    t = engine.tenant_id("prop-scope-patterns")
    ids = engine.bulk_load(
        t, [(f"memory {i}", toks, None) for i, toks in enumerate(_TENANT_TOKENS)]
    )
    return t, dict(zip(ids, _TENANT_TOKENS, strict=True))


@LIVE
@given(pattern=st.one_of(hostile_text, subset_patterns(), catastrophic))
def test_the_emulator_refuses_exactly_what_the_client_refuses(
    engine: Engine, tenant: tuple[str, dict[str, list[str]]], pattern: str
) -> None:
    t, memories = tenant
    try:
        validate_patterns([pattern])
        client_ok = True
    except InvalidRequestError:
        client_ok = False
    calls = [
        lambda: engine.search(t, "memory", k=10, scope=[pattern]),
        lambda: engine.count(t, [pattern]),
        lambda: engine.graph_traverse(t, next(iter(memories)), "memory", scope=[pattern]),
    ]
    for call in calls:
        if client_ok:
            call()
        else:
            with pytest.raises(EmulatorBadRequest) as info:
                call()
            assert info.value.code == "INVALID_SCOPE_PATTERN"


@LIVE
@given(patterns=st.lists(st.one_of(subset_patterns(), catastrophic), min_size=1, max_size=3))
def test_every_scope_read_selects_what_token_matches_selects(
    engine: Engine, tenant: tuple[str, dict[str, list[str]]], patterns: list[str]
) -> None:
    try:
        validate_patterns(patterns)
    except InvalidRequestError:
        return
    t, memories = tenant
    expected = {m for m, toks in memories.items() if token_matches(patterns, toks)}
    listed = engine.search(t, "memory", k=100, scope=patterns, full_scope=True)["results"]
    assert {r["id"] for r in listed} == expected
    assert engine.count(t, patterns) == len(expected)
    ranked = engine.search(t, "memory", k=100, scope=patterns, rerank=True)["results"]
    assert {r["id"] for r in ranked} <= expected
    start = next(iter(memories))
    walk = engine.graph_traverse(t, start, "memory", scope=patterns)
    assert {v["id"] for v in walk["visited"]} <= expected


@LIVE
@given(patterns=st.lists(st.one_of(subset_patterns(), catastrophic), min_size=1, max_size=2))
def test_bulk_delete_removes_exactly_what_token_matches_selects(
    engine: Engine, patterns: list[str]
) -> None:
    try:
        validate_patterns(patterns)
    except InvalidRequestError:
        return
    t = engine.tenant_id(f"prop-scope-delete-{next(_FRESH)}")
    ids = engine.bulk_load(t, [(f"m{i}", toks, None) for i, toks in enumerate(_TENANT_TOKENS)])
    expected = {
        m for m, toks in zip(ids, _TENANT_TOKENS, strict=True) if token_matches(patterns, toks)
    }
    gone = engine.delete_bulk(t, scope=patterns)
    assert set(gone["memory_ids"]) == expected
    assert engine.count(t) == len(ids) - len(expected)


@LIVE
@given(scope=st.lists(st.one_of(hostile_text, catastrophic), min_size=1, max_size=3))
def test_update_and_create_store_any_token_as_given(
    engine: Engine, tenant: tuple[str, dict[str, list[str]]], scope: list[str]
) -> None:
    scope = [s for s in dict.fromkeys(scope) if s and len(s) <= 256]
    if not scope:
        return
    t, memories = tenant
    target = next(iter(memories))
    updated = engine.update(t, target, None, scope)
    assert updated["scope"] == scope
    engine.update(t, target, None, memories[target])  # restore for the other examples
    created, _ = engine.ingest_now(t, "a new memory for the token check", scope, None)
    assert created["scope"] == scope or set(scope) <= set(created["scope"])
    engine.delete(t, created["id"])
