"""The store's pure parts: filters and namespace conditions agree with LangGraph's own."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langgraph.store.base import MatchCondition
from langgraph.store.memory import _compare_values, _does_match

from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.langchain._store_base import (
    Envelope,
    check_value,
    matches,
    namespace_matches,
)

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["a", "b"]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2)
    ),
    max_leaves=4,
)
OPERATORS = st.dictionaries(
    st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), st.integers(-2, 2), min_size=1
)
LABELS = st.sampled_from(["a", "b", "*"])


@settings(max_examples=200, derandomize=True)
@given(
    value=st.dictionaries(st.sampled_from(["n", "m"]), VALUES), wanted=st.one_of(VALUES, OPERATORS)
)
def test_filters_agree_with_in_memory_store(value: dict[str, Any], wanted: Any) -> None:
    try:
        expected: Any = _compare_values(value.get("n"), wanted)
    except (TypeError, ValueError):
        expected = False  # InMemoryStore raises comparing non-numbers; ours does not match
    assert matches(value, {"n": wanted}) == expected


@settings(max_examples=200, derandomize=True)
@given(
    namespace=st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=3).map(tuple),
    path=st.lists(LABELS, max_size=3).map(tuple),
    kind=st.sampled_from(["prefix", "suffix"]),
)
def test_namespace_conditions_agree(
    namespace: tuple[str, ...], path: tuple[str, ...], kind: Any
) -> None:
    condition = MatchCondition(kind, path)
    assert namespace_matches(namespace, [condition]) == _does_match(condition, namespace)


def test_envelope_round_trip_and_foreign_content() -> None:
    stamp = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    item = Envelope(("a", "b"), "k", {"t": 'é\n"', "n": [1, 2.5, None]}, stamp, stamp)
    assert Envelope.from_data(item.to_json()) == item
    for foreign in ["plain text", "[]", '{"key": "k"}', '{"langgraph_item": 1, "namespace": [1]}']:
        assert Envelope.from_data(foreign) is None


def test_values_must_be_json_objects() -> None:
    assert check_value({"a": [1, {"b": None}]}) == {"a": [1, {"b": None}]}
    for bad in [["list"], {"t": (1,)}, {1: "int key"}, {"f": float("nan")}, {"o": object()}]:
        with pytest.raises(InvalidRequestError):
            check_value(bad)
