"""Bad inputs are refused before any request, with an error naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from membrane_integrations.core.errors import InvalidRequestError

BAD: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("add", ("",), {}, "content"),
    ("add", ("   ",), {}, "content"),
    ("add", ("x" * 20_001,), {}, "content"),
    ("add", ("fact",), {"scope": "container.bob"}, "scope"),
    ("add", ("fact",), {"scope": [f"t{i}" for i in range(51)]}, "scope"),
    ("add", ("fact",), {"scope": ["x" * 257]}, "scope"),
    ("add", ("fact",), {"scope": [""]}, "scope"),
    ("add", ("fact",), {"category": "c" * 257}, "category"),
    ("add", ("fact",), {"category": ""}, "category"),
    ("add", ("fact",), {"wait_timeout": -1}, "wait_timeout"),
    ("search", ("",), {}, "query"),
    ("search", ("q" * 10_001,), {}, "query"),
    ("search", ("q",), {"k": 0}, "k"),
    ("search", ("q",), {"k": 101}, "k"),
    ("search", ("q",), {"k": True}, "k"),
    ("search", ("q",), {"response_format": "json"}, "response_format"),
    ("search", ("q",), {"full_scope": True}, "full_scope"),
    ("search", ("q",), {"full_scope": True, "scope": []}, "full_scope"),
    ("search", ("q",), {"scope": ["(unclosed"]}, "scope"),
    ("search", ("q",), {"scope": ["(?P<name>x)"]}, "scope"),
    ("get", ("",), {}, "memory_id"),
    ("get", ("a\nb",), {}, "memory_id"),
    ("get_many", ([],), {}, "memory_ids"),
    ("get_many", ("m1",), {}, "memory_ids"),
    ("get_many", (["m1", ""],), {}, "memory_ids"),
    ("update", ("m1",), {}, "content"),
    ("update", ("m1",), {"content": ""}, "content"),
    ("update", ("",), {"content": "x"}, "memory_id"),
    ("delete", (" ",), {}, "memory_id"),
    ("delete_bulk", (), {}, "scope"),
    ("delete_bulk", (), {"scope": ["[bad"]}, "scope"),
    ("unlink", ("m1", ""), {}, "memory_id_2"),
    ("count", (), {"scope": ["*bad"]}, "scope"),
    ("graph_path", ("", "m2"), {}, "from_id"),
    ("graph_hubs", (0,), {}, "limit"),
    ("graph_hubs", (101,), {}, "limit"),
    ("graph_neighborhood", ("m1",), {"hops": 0}, "hops"),
    ("graph_neighborhood", ("m1",), {"hops": 6}, "hops"),
    ("graph_traverse", ("m1", "q"), {"max_hops": 6}, "max_hops"),
    (
        "graph_traverse",
        ("m1", "q"),
        {"edge_similarity_threshold": 1.5},
        "edge_similarity_threshold",
    ),
    (
        "graph_traverse",
        ("m1", "q"),
        {"edge_similarity_threshold": -0.1},
        "edge_similarity_threshold",
    ),
    (
        "graph_traverse",
        ("m1", "q"),
        {"edge_similarity_threshold": float("nan")},
        "edge_similarity_threshold",
    ),
    ("graph_traverse", ("m1", ""), {}, "query"),
    ("wait_for_job", ("",), {}, "job_id"),
    ("get_job", ("",), {}, "job_id"),
    ("count", (), {"timeout": 0}, "timeout"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "field"), BAD)
async def test_rejected_before_sending(
    make: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    h = make([])
    with pytest.raises(InvalidRequestError) as info:
        await h.call(method, *args, **kwargs)
    assert info.value.field == field
    assert h.requests == []


async def test_limits_themselves_are_accepted(make: Any) -> None:
    from .conftest import json_reply

    h = make([json_reply(202, {"job_id": "j"})])
    await h.call(
        "add",
        "x" * 20_000,
        scope=[f"t{i}" for i in range(48)] + ["y" * 256],  # 49: the add token is the 50th
        category="c" * 256,
        wait=False,
    )
    assert len(h.requests) == 1


async def test_the_add_token_counts_against_the_fifty_tokens(make: Any) -> None:
    from .conftest import json_reply

    fifty = [f"t{i}" for i in range(50)]
    with pytest.raises(InvalidRequestError, match="add_tokens=False") as info:
        await make([]).call("add", "x", scope=fifty, wait=False)
    assert info.value.field == "scope"
    h = make([json_reply(202, {"job_id": "j"})], add_tokens=False)
    await h.call("add", "x", scope=fifty, wait=False)
    assert len(h.requests) == 1


def test_bad_pattern_error_names_the_pattern() -> None:
    from membrane_integrations.membrain import _protocol as ops

    with pytest.raises(InvalidRequestError, match=r"\(unclosed"):
        ops.search("q", scope=["^ok$", "(unclosed"])


def test_scope_filters_checked_once_still_answer_as_checked_every_time() -> None:
    from membrane_integrations.membrain import _validate as v

    good = ["^container\\.cache-test$", "topic"]
    first = v.check_patterns(good)
    assert first == good and first is not good
    assert first is not None
    first.append("mutated by the caller")
    again = v.check_patterns(tuple(good))
    assert again == good  # what a caller did to an earlier result never leaks into the next
    assert v.check_patterns([]) is None
    bad = ["^container\\.cache-test$", "(unclosed"]
    for _ in range(2):  # a filter that failed is checked (and refused) again, never kept
        with pytest.raises(InvalidRequestError, match="unclosed"):
            v.check_patterns(bad)
    with pytest.raises(InvalidRequestError, match="not a string"):
        v.check_patterns("^container\\.cache-test$")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="non-empty strings"):
        v.check_patterns(["^container\\.cache-test$", 3])  # type: ignore[list-item]
