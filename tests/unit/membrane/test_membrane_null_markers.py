"""The record codec's null markers read daemon JSON exactly as the BeforeValidators they replace.

``_json.NULL_AS_BLANK`` (a ``str`` field whose ``null`` reads as ``""``) validates the string in
pydantic-core alone, and ``NullAsEmpty`` builds its schema without importing pydantic up front.
Each is checked against the ``BeforeValidator`` it replaced, on generated JSON values, in JSON and
in Python mode: the same values accepted with the same result, the same values rejected with the
same error type, location and message. The package must not import pydantic before a reply is
parsed, and must parse the first reply after such an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BeforeValidator, TypeAdapter, ValidationError

pytest.importorskip("grpc")

from membrane_integrations.core.errors import MalformedResponseError
from membrane_integrations.membrane._json import NULL_AS_BLANK, NullAsEmpty
from membrane_integrations.membrane._records import record_from_bytes

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def _outcome(adapter: TypeAdapter[Any], value: Any, mode: str) -> tuple[str, Any]:
    try:
        if mode == "json":
            return "ok", adapter.validate_json(json.dumps(value))
        return "ok", adapter.validate_python(value)
    except ValidationError as exc:
        return "error", [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


def _blank(value: Any) -> Any:
    return "" if value is None else value


OLD_STR = TypeAdapter(Annotated[str, BeforeValidator(_blank)])
NEW_STR = TypeAdapter(Annotated[str, NULL_AS_BLANK])
OLD_LIST = TypeAdapter(Annotated[list[int], BeforeValidator(lambda v: [] if v is None else v)])
NEW_LIST = TypeAdapter(Annotated[list[int], NullAsEmpty(list)])
OLD_DICT = TypeAdapter(Annotated[dict[str, int], BeforeValidator(lambda v: {} if v is None else v)])
NEW_DICT = TypeAdapter(Annotated[dict[str, int], NullAsEmpty(dict)])


@settings(max_examples=300, derandomize=True, database=None)
@given(value=JSON, mode=st.sampled_from(["json", "python"]))
def test_null_as_blank_accepts_and_rejects_what_the_before_validator_did(
    value: Any, mode: str
) -> None:
    assert _outcome(NEW_STR, value, mode) == _outcome(OLD_STR, value, mode)


@settings(max_examples=300, derandomize=True, database=None)
@given(value=JSON, mode=st.sampled_from(["json", "python"]))
def test_null_as_empty_accepts_and_rejects_what_the_before_validator_did(
    value: Any, mode: str
) -> None:
    assert _outcome(NEW_LIST, value, mode) == _outcome(OLD_LIST, value, mode)
    assert _outcome(NEW_DICT, value, mode) == _outcome(OLD_DICT, value, mode)


def test_null_strings_read_blank_and_a_non_string_fails_naming_the_field() -> None:
    doc = {"id": "r1", "scope": None, "created_at": None, "relations": [{"predicate": None}]}
    record = record_from_bytes(json.dumps(doc).encode())
    assert (record.scope, record.created_at, record.relations[0].kind) == ("", "", "")
    with pytest.raises(MalformedResponseError) as caught:
        record_from_bytes(json.dumps({"id": "r1", "scope": 7}).encode())
    assert "scope: Input should be a valid string" in caught.value.message
    with pytest.raises(MalformedResponseError) as caught:
        record_from_bytes(json.dumps({"relations": [{"predicate": []}]}).encode())
    assert "relations.0.predicate: Input should be a valid string" in caught.value.message


PROBE = """
import sys
import membrane_integrations.membrane as m
from membrane_integrations.membrane._records import record_from_bytes
loaded = sorted(n for n in ("pydantic", "pydantic_core") if n in sys.modules)
rec = record_from_bytes(b'{"id": "r1", "type": "semantic", "tags": null, "relations": '
                        b'[{"predicate": "cites"}], "payload": {"kind": "semantic", '
                        b'"subject": "s", "predicate": "p", "object": 1}}')
print(loaded, rec.id, rec.tags, rec.relations[0].kind, type(rec.payload).__name__)
"""


def test_the_package_imports_without_pydantic_and_parses_the_first_reply() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["[]", "r1", "[]", "cites", "SemanticPayload"]


class _Sub(str):
    pass


@pytest.mark.parametrize("value", ["x", _Sub("y"), b"ab", bytearray(b"c"), 1.5, None])
def test_null_as_blank_matches_on_python_values_json_cannot_carry(value: Any) -> None:
    from membrane_integrations.membrane import DeletionPolicy

    for item in (value, DeletionPolicy.NEVER):
        assert _outcome(NEW_STR, item, "python") == _outcome(OLD_STR, item, "python")
