"""Replies are validated straight from their bytes; that path accepts and rejects exactly what
decoding the JSON first and validating the dict after did (same values, same errors)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from membrane_integrations.core.errors import MalformedResponseError
from membrane_integrations.membrain import _protocol as ops
from membrane_integrations.membrain.models import (
    BatchReadResult,
    IngestJob,
    Memory,
    SearchResponse,
    Stats,
)

MODELS: list[type[BaseModel]] = [SearchResponse, Memory, IngestJob, BatchReadResult, Stats]


def _reply(body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(
        200,
        content=body,
        headers={"content-type": content_type},
        request=httpx.Request("POST", "http://membrain.test/api/v1/memories/search"),
    )


def _decode_then_validate(model: type[BaseModel], response: httpx.Response) -> Any:
    """The reference: ``response.json()`` then ``model_validate`` (what the client did before)."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return ("not json",)
    try:
        return ("ok", model.model_validate(data).model_dump(mode="json"))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        return ("invalid", exc.error_count(), first["loc"], first["msg"])


def _outcome(model: type[BaseModel], response: httpx.Response) -> Any:
    try:
        return ("ok", ops.parse_model(model)(response).model_dump(mode="json"))
    except MalformedResponseError as exc:
        return ("error", str(exc), exc.status_code)


def _agree(model: type[BaseModel], body: bytes) -> None:
    response = _reply(body)
    expected = _decode_then_validate(model, response)
    got = _outcome(model, response)
    if expected[0] == "ok":
        assert repr(got) == repr(expected)  # repr: NaN equals itself there
        return
    assert got[0] == "error", f"{model.__name__} accepted {body[:80]!r}, the old path refused it"
    if expected[0] == "not json":
        assert "not JSON" in got[1]
    else:
        count, loc, msg = expected[1:]
        where = ".".join(str(p) for p in loc) or "body"
        assert f"({count} problem(s), first at {where}: {msg})" in got[1]


NODE = {"type": "memory_node", "id": "m1", "content": "tea", "scope": ["container.bob"]}
EDGE = {"type": "relationship_edge", "source": "m1", "target": {"id": "m2"}, "score": 0.5}
MEMORY = {
    "id": "m1",
    "content": "c",
    "created_at": "2026-01-01T00:00:00Z",
    "links": [{"memory_id": "m2"}],
}

# Bodies where a one-pass JSON validator and json.loads are known to differ in what they read.
EDGE_CASES = [
    b'{"results":[{"type":"memory_node","id":"a\x01","content":"x"}]}',  # raw control char
    b'{"results":[{"type":"memory_node","id":"\\ud800","content":"x"}]}',  # lone surrogate
    b'{"id":"\\ud800","content":"x"}',
    b'{"results":[{"type":"memory_node","id":"a","content":"x","semantic_score":NaN}]}',
    b'{"results":[{"type":"memory_node","id":"a","content":"x","semantic_score":1e400}]}',
    b'{"results":[],"results":[' + json.dumps(NODE).encode() + b"]}",  # duplicate key
    b'\xef\xbb\xbf{"results":[]}',  # UTF-8 BOM
    b'\xef\xbb\xbf{"id":"m","content":"c"}',
    '{"results":[]}'.encode("utf-16"),
    '{"id":"m","content":"c"}'.encode("utf-32"),
    b'{"results":[]} trailing',
    b'{"results":[{"type":"memory_node","id":"a","content":"x\xff"}]}',  # not UTF-8
    b"",
    b"<html>502 Bad Gateway</html>",
    b'{"results": [',  # cut off
    b"[]",
    b"null",
    b'{"results":[{"type":"memory_node","id":1,"content":"x"}]}',
    b'{"results":[{"type":"unknown","id":"a"}]}',
    b'{"id":"m","content":"c","created_at":"yesterday"}',
    b'{"id":"m","content":"c","created_at":1700000000}',
    b'{"id":"m","content":"c","created_at":"2026-01-01"}',
    b'{"id":"m","content":"c","scope":"not a list"}',
    b'{"total_memories":"12"}',
    b'{"total_memories":12.0}',
    b'{"total_memories":12.5}',
    b'{"total_memories":true}',
    b'{"job_id":"j","status":"completed","result":{"memory_id":"m","action":"created"}}',
    b'{"job_id":"j","status":"done"}',
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("body", EDGE_CASES)
def test_edge_cases_parse_as_decoding_first_did(model: type[BaseModel], body: bytes) -> None:
    _agree(model, body)


def test_the_fast_path_keeps_values_and_unknown_fields() -> None:
    body = json.dumps({"results": [NODE, EDGE], "new_field": {"x": [1, 2.5, None]}}).encode()
    parsed = ops.parse_model(SearchResponse)(_reply(body))
    assert parsed.nodes[0].id == "m1" and parsed.edges[0].target.id == "m2"
    assert parsed.model_extra == {"new_field": {"x": [1, 2.5, None]}}


def test_a_body_that_is_not_json_names_its_content_type() -> None:
    with pytest.raises(MalformedResponseError, match=r"not JSON \(text/html, 9 bytes\)"):
        ops.parse_model(SearchResponse)(_reply(b"<b>no</b>", "text/html"))


def test_a_wrong_shape_names_the_model_and_the_field() -> None:
    with pytest.raises(
        MalformedResponseError, match=r"Memory shape .*first at content: Field required"
    ):
        ops.parse_model(Memory)(_reply(b'{"id": "m1"}'))


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
# Objects close to the real shapes, with any field possibly of the wrong type or missing.
field_values = st.one_of(json_values, st.sampled_from(["memory_node", "relationship_edge"]))
near_node = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["memory_node", "relationship_edge", "other"]),
        "id": st.one_of(st.text(max_size=6), field_values),
        "content": st.one_of(st.text(max_size=6), field_values),
        "scope": st.one_of(st.lists(st.text(max_size=4), max_size=2), field_values),
        "semantic_score": st.one_of(st.floats(allow_nan=False), field_values),
        "source": st.one_of(st.text(max_size=4), st.fixed_dictionaries({"id": st.text()})),
        "target": st.one_of(st.text(max_size=4), field_values),
        "created_at": st.one_of(
            st.datetimes().map(lambda d: d.isoformat()), st.integers(0, 2**33), field_values
        ),
        "total_memories": st.one_of(st.integers(), field_values),
        "job_id": st.text(max_size=4),
        "status": st.sampled_from(["queued", "completed", "failed", "nope"]),
        "memories": st.lists(json_values, max_size=2),
    },
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {"results": st.lists(near_node, max_size=3)}, optional={"x": json_values}
    ),
    near_node,
    json_values,
).map(lambda data: json.dumps(data).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, model=st.sampled_from(MODELS))
def test_any_json_parses_as_decoding_first_did(body: bytes, model: type[BaseModel]) -> None:
    _agree(model, body)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=40), model=st.sampled_from(MODELS))
def test_any_bytes_parse_as_decoding_first_did(body: bytes, model: type[BaseModel]) -> None:
    _agree(model, body)
