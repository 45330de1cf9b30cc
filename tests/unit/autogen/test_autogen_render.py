"""The pure helpers behind both AutoGen memories: content <-> text, and the context message."""

from __future__ import annotations

import pytest
from autogen_core import Image
from autogen_core.memory import MemoryContent, MemoryMimeType
from autogen_core.models import AssistantMessage, SystemMessage, UserMessage
from PIL import Image as PILImage

from membrane_integrations.autogen._membrain_scope import format_of, metadata_to_scope
from membrane_integrations.autogen._render import (
    content_to_text,
    last_user_text,
    query_text,
    render_memories,
    text_to_content,
)
from membrane_integrations.core.errors import InvalidRequestError
from membrane_integrations.membrain.tenancy import container_write_tokens

_IMAGE = Image(PILImage.new("RGB", (1, 1)))


def _text(value: str) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT)


class TestContentToText:
    def test_text_and_markdown_are_stored_as_given(self) -> None:
        assert content_to_text(_text("Likes tea")).fmt == "text"
        md = content_to_text(MemoryContent(content="# Diet\n- vegan", mime_type="text/markdown"))
        assert (md.text, md.fmt) == ("# Diet\n- vegan", "markdown")

    def test_json_is_stored_as_readable_json(self) -> None:
        stored = content_to_text(
            MemoryContent(content={"city": "Zürich", "n": 2}, mime_type=MemoryMimeType.JSON)
        )
        assert stored.text == '{"city": "Zürich", "n": 2}'
        assert stored.fmt == "json"

    def test_json_given_as_a_string_is_validated(self) -> None:
        ok = content_to_text(MemoryContent(content='{"a":1}', mime_type=MemoryMimeType.JSON))
        assert ok.text == '{"a": 1}'
        with pytest.raises(InvalidRequestError, match="not valid JSON"):
            content_to_text(MemoryContent(content="{nope", mime_type=MemoryMimeType.JSON))

    @pytest.mark.parametrize(
        "content",
        [
            MemoryContent(content=b"\x00\x01", mime_type=MemoryMimeType.BINARY),
            MemoryContent(content=_IMAGE, mime_type="image/*"),
            MemoryContent(content="x", mime_type="application/x-custom"),
        ],
        ids=["binary", "image", "unknown"],
    )
    def test_unsupported_mime_types_raise(self, content: MemoryContent) -> None:
        with pytest.raises(InvalidRequestError, match="unsupported memory MIME type"):
            content_to_text(content)

    def test_empty_and_mistyped_content_raise(self) -> None:
        with pytest.raises(InvalidRequestError, match="empty"):
            content_to_text(_text("   "))
        with pytest.raises(InvalidRequestError, match="must be a string"):
            content_to_text(MemoryContent(content={"a": 1}, mime_type=MemoryMimeType.TEXT))

    def test_round_trip_restores_json_as_a_dict(self) -> None:
        item = text_to_content('{"diet": "vegan"}', "json", {"id": "m1"})
        assert item.content == {"diet": "vegan"}
        assert item.mime_type == MemoryMimeType.JSON
        assert item.metadata == {"id": "m1"}
        # Text that was edited server-side into non-JSON comes back as plain text.
        assert text_to_content("not json", "json", {}).mime_type == MemoryMimeType.TEXT
        assert text_to_content("# h", "markdown", {}).mime_type == MemoryMimeType.MARKDOWN


class TestQueryText:
    def test_accepts_strings_and_items(self) -> None:
        assert query_text("tea?") == "tea?"
        assert query_text(MemoryContent(content={"q": 1}, mime_type="application/json")) == (
            '{"q": 1}'
        )

    def test_rejects_empty_queries(self) -> None:
        with pytest.raises(InvalidRequestError, match="query is empty"):
            query_text("  ")


class TestLastUserText:
    def test_picks_the_last_user_message(self) -> None:
        messages = [
            SystemMessage(content="sys"),
            UserMessage(content="first", source="user"),
            AssistantMessage(content="answer", source="a"),
            UserMessage(content=["what about", _IMAGE, "tea"], source="u"),
            AssistantMessage(content="later", source="a"),
        ]
        assert last_user_text(messages) == "what about tea"

    def test_none_without_a_user_message(self) -> None:
        assert last_user_text([SystemMessage(content="sys")]) is None


class TestRenderMemories:
    def test_numbers_and_deduplicates(self) -> None:
        items = [_text("Likes tea"), _text("likes   TEA"), _text("Is vegan")]
        message, kept = render_memories(items, budget=500, header="Memories:")
        assert message == "Memories:\n1. Likes tea\n2. Is vegan"
        assert [i.content for i in kept] == ["Likes tea", "Is vegan"]

    def test_json_items_are_rendered_as_json_on_one_line(self) -> None:
        item = MemoryContent(content={"a": "b\nc"}, mime_type=MemoryMimeType.JSON)
        message, _ = render_memories([item], budget=500, header="")
        assert message == '1. {"a": "b\\nc"}'

    def test_budget_stops_before_the_item_that_does_not_fit(self) -> None:
        items = [_text("a" * 30), _text("b" * 30), _text("c" * 30)]
        message, kept = render_memories(items, budget=75, header="H")
        assert message is not None and len(message) <= 75
        assert len(kept) == 2
        assert "c" not in message

    def test_a_single_long_item_is_cut_with_an_ellipsis(self) -> None:
        message, kept = render_memories([_text("x" * 500)], budget=60, header="H")
        assert message is not None
        assert len(message) == 60
        assert message.endswith("…")
        assert len(kept) == 1

    def test_nothing_to_say_gives_no_message(self) -> None:
        assert render_memories([], budget=100, header="H") == (None, [])
        assert render_memories([_text(" ")], budget=100, header="H") == (None, [])


class TestMembrainScope:
    def test_container_token_first_then_metadata(self) -> None:
        tokens, category = metadata_to_scope(
            "a.b", {"type": "preference", "category": "diet", "pinned": True, "n": 3}, "text"
        )
        assert tokens == [*container_write_tokens("a.b"), "type.preference", "pinned.true", "n.3"]
        assert category == "diet"

    def test_format_token_round_trip(self) -> None:
        tokens, _ = metadata_to_scope("bob", None, "markdown")
        assert tokens == [*container_write_tokens("bob"), "mime.markdown"]
        assert format_of(tokens) == "markdown"
        assert format_of(["container.bob"]) == "text"

    def test_result_keys_are_ignored_so_hits_can_be_added_again(self) -> None:
        tokens, _ = metadata_to_scope(
            "bob",
            {"id": "m1", "score": 0.9, "backend": "membrain", "scope": ["container.bob", "x"]},
            "json",
        )
        assert tokens == [*container_write_tokens("bob"), "mime.json", "x"]

    @pytest.mark.parametrize(
        "metadata",
        [
            {"container": "alice"},
            {"scope": ["container.alice"]},
            {"scope": ["container.bob2"]},
            {"mime": "json"},
            {"nested": {"a": 1}},
            {"scope": "container.bob"},
        ],
    )
    def test_metadata_cannot_escape_the_container(self, metadata: dict[str, object]) -> None:
        with pytest.raises(InvalidRequestError):
            metadata_to_scope("bob", metadata, "text")

    def test_token_limits_are_checked(self) -> None:
        with pytest.raises(InvalidRequestError, match="at most"):
            metadata_to_scope("bob", {"tag": [str(i) for i in range(60)]}, "text")
