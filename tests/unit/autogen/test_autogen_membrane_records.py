"""The pure mapping between MemoryContent and Membrane ingest calls / records."""

from __future__ import annotations

from typing import Any

import pytest
from autogen_core.memory import MemoryContent, MemoryMimeType
from hypothesis import given
from hypothesis import strategies as st

from membrane_integrations.autogen import MembraneMemoryConfig
from membrane_integrations.autogen._membrane_records import build_ingest, record_to_content
from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.membrane.types import (
    EpisodicPayload,
    MemoryRecord,
    MemoryType,
    SemanticPayload,
    Sensitivity,
    TaskState,
    TimelineEvent,
    ToolNode,
    WorkingPayload,
)

CONFIG = MembraneMemoryConfig(container="bob")
ORDER = ["public", "low", "medium", "high", "hyper"]


def _item(content: Any, mime: str = "text/plain", **metadata: Any) -> MemoryContent:
    return MemoryContent(content=content, mime_type=mime, metadata=metadata or None)


class TestBuildIngest:
    def test_default_kind_is_an_observation_in_the_container(self) -> None:
        call = build_ingest("bob", _item("likes tea"), CONFIG)
        assert call.kind == "observation"
        assert call.kwargs == {
            "subject": "user",
            "predicate": "noted",
            "obj": "likes tea",
            "sensitivity": "low",
            "source": "autogen",
            "tags": [],
            "scope": "bob",
        }

    def test_config_default_kind_applies(self) -> None:
        config = MembraneMemoryConfig(container="bob", default_kind="event")
        assert build_ingest("bob", _item("x"), config).kind == "event"

    def test_json_becomes_a_structured_object_and_a_format_tag(self) -> None:
        call = build_ingest("bob", _item({"a": 1}, "application/json", topic="x"), CONFIG)
        assert call.kwargs["obj"] == {"a": 1}
        assert call.kwargs["tags"] == ["mime.json", "topic.x"]

    def test_event_tool_output_and_working_state(self) -> None:
        event = build_ingest("bob", _item("deployed", kind="event", event_kind="deploy"), CONFIG)
        assert (event.kind, event.kwargs["event_kind"], event.kwargs["ref"]) == (
            "event",
            "deploy",
            "bob",
        )
        assert event.kwargs["summary"] == "deployed"
        tool = build_ingest(
            "bob",
            _item("ok", kind="tool_output", tool_name="pytest", args={"k": "v"}, depends_on=["r1"]),
            CONFIG,
        )
        assert tool.kwargs["tool_name"] == "pytest"
        assert tool.kwargs["args"] == {"k": "v"}
        assert tool.kwargs["result"] == "ok"
        assert tool.kwargs["depends_on"] == ["r1"]
        working = build_ingest(
            "bob",
            _item("drafting", kind="working_state", state="blocked", next_actions=["ask"]),
            CONFIG,
        )
        assert working.kwargs["thread_id"] == "bob"
        assert working.kwargs["state"] == "blocked"
        assert working.kwargs["context_summary"] == "drafting"
        assert working.kwargs["next_actions"] == ["ask"]

    def test_sensitivity_and_tags_come_from_metadata_without_duplicates(self) -> None:
        call = build_ingest(
            "bob",
            _item("x", sensitivity=Sensitivity.HIGH, tags=["a", "a", "b"], flag=True, n=[1, 2]),
            CONFIG,
        )
        assert call.kwargs["sensitivity"] == "high"
        assert call.kwargs["tags"] == ["flag.true", "n.1", "n.2", "a", "b"]

    @given(
        floor=st.sampled_from(ORDER),
        asked=st.one_of(st.none(), st.sampled_from(ORDER), st.sampled_from(list(Sensitivity))),
    )
    def test_metadata_sensitivity_raises_the_floor_and_never_lowers_it(
        self, floor: str, asked: str | Sensitivity | None
    ) -> None:
        metadata = {} if asked is None else {"sensitivity": asked}
        defaults = CONFIG.model_copy(update={"default_sensitivity": floor})
        got = build_ingest("bob", _item("x", **metadata), defaults).kwargs["sensitivity"]
        wanted = floor if asked is None else getattr(asked, "value", asked)
        assert ORDER.index(got) == max(ORDER.index(floor), ORDER.index(wanted))

    def test_result_metadata_is_ignored_so_a_hit_can_be_added_again(self) -> None:
        hit = _item("x", id="r1", score=0.5, salience=0.5, confidence=0.7, type="semantic")
        assert build_ingest("bob", hit, CONFIG).kwargs["tags"] == []

    @pytest.mark.parametrize(
        ("metadata", "match"),
        [
            ({"scope": "alice"}, "reserved"),
            ({"container": "alice"}, "reserved"),
            ({"kind": "competence"}, "kind"),
            ({"sensitivity": "secret"}, "sensitivity"),
            ({"kind": "tool_output"}, "tool_name"),
            ({"kind": "tool_output", "tool_name": "t", "args": [1]}, "args"),
            ({"tags": "a"}, "tags"),
            ({"nested": {"a": 1}}, "nested"),
        ],
    )
    def test_invalid_metadata_raises(self, metadata: dict[str, Any], match: str) -> None:
        with pytest.raises(InvalidRequestError, match=match):
            build_ingest("bob", _item("x", **metadata), CONFIG)


def _record(payload: Any, **fields: Any) -> MemoryRecord:
    return MemoryRecord(
        id="r1",
        type=fields.pop("type", MemoryType.SEMANTIC),
        salience=0.8,
        confidence=0.7,
        scope="bob",
        payload=payload,
        **fields,
    )


class TestRecordToContent:
    def test_observation_with_default_subject_shows_only_the_object(self) -> None:
        item = record_to_content(
            _record(SemanticPayload(subject="user", predicate="noted", object="tea")), CONFIG
        )
        assert item is not None
        assert item.content == "tea"
        assert item.metadata is not None
        assert item.metadata["id"] == "r1"
        assert item.metadata["score"] == 0.8
        assert item.metadata["kind"] == "observation"

    def test_observation_with_a_predicate_reads_as_a_sentence(self) -> None:
        payload = SemanticPayload(subject="user", predicate="prefers", object="tea")
        item = record_to_content(_record(payload), CONFIG)
        assert item is not None and item.content == "user prefers tea"

    def test_json_object_and_markdown_tag_are_restored(self) -> None:
        payload = SemanticPayload(subject="user", predicate="noted", object={"a": 1})
        item = record_to_content(_record(payload, tags=["mime.json", "x"]), CONFIG)
        assert item is not None
        assert (item.content, item.mime_type) == ({"a": 1}, MemoryMimeType.JSON)
        assert item.metadata is not None and item.metadata["tags"] == ["x"]
        md = SemanticPayload(subject="user", predicate="noted", object="# T")
        item = record_to_content(_record(md, tags=["mime.markdown"]), CONFIG)
        assert item is not None and item.mime_type == MemoryMimeType.MARKDOWN

    def test_episodic_and_working_payloads(self) -> None:
        event = EpisodicPayload(timeline=[TimelineEvent(event_kind="deploy", summary="shipped")])
        item = record_to_content(_record(event, type=MemoryType.EPISODIC), CONFIG)
        assert item is not None and item.content == "shipped"
        tool = EpisodicPayload(
            timeline=[TimelineEvent(summary="tool_call: t")],
            tool_graph=[ToolNode(tool="t", result={"ok": True})],
        )
        item = record_to_content(_record(tool, type=MemoryType.EPISODIC), CONFIG)
        assert item is not None and item.content == {"ok": True}
        assert item.metadata is not None and item.metadata["tool_name"] == "t"
        working = WorkingPayload(thread_id="t", state=TaskState.DONE, context_summary="done it")
        item = record_to_content(_record(working, type=MemoryType.WORKING), CONFIG)
        assert item is not None and item.content == "done it"
        assert item.metadata is not None and item.metadata["state"] == "done"

    def test_redacted_and_empty_records_are_skipped(self) -> None:
        assert record_to_content(_record(None), CONFIG) is None
        empty = WorkingPayload(context_summary="  ")
        assert record_to_content(_record(empty, type=MemoryType.WORKING), CONFIG) is None
        assert record_to_content(_record({"kind": "competence"}), CONFIG) is None
