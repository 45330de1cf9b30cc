"""Notes, not transcripts: the default statement filter and the extractor plumbing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from membrane_integrations.core.notes import (
    MAX_NOTE_CHARS,
    Note,
    Turn,
    as_notes,
    default_notes,
    parse_notes,
    statements,
)


@pytest.mark.parametrize(
    "text",
    [
        "What do I eat?",
        "Do you remember my sister's name",
        "hi",
        "Hello there!",
        "Thanks a lot!",
        "ok",
        "Got it, thanks.",
        "¿Dónde vivo?",
        "Où est-ce que j'habite ?",
        "我住在哪里\uff1f",
        "أين أعيش؟",
        "Tell me what I like",
        "<recalled_memories>\n1. I am vegan.\n</recalled_memories>",
    ],
)
def test_questions_greetings_acks_and_recall_are_not_notes(text: str) -> None:
    assert statements(text) is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("I am vegan.", "I am vegan."),
        ("Hi! My sister is called Ana. Can you remember that?", "My sister is called Ana."),
        ("I like tea; my wife likes coffee.", "I like tea; my wife likes coffee."),
        ("Vivo en Madrid.", "Vivo en Madrid."),
        ("我住在北京。", "我住在北京。"),
        ("Sure, I work at a bakery.", "Sure, I work at a bakery."),
        ("Have two cats and a dog.", "Have two cats and a dog."),
    ],
)
def test_statements_are_kept(text: str, kept: str) -> None:
    assert statements(text) == kept


def test_default_notes_one_per_stating_message() -> None:
    turn = Turn(messages=(("user", "I moved to Oslo. Any tips?"), ("assistant", "Great!")))
    assert default_notes(turn) == [Note("I moved to Oslo.")]


def test_extractor_answers_are_read_strictly() -> None:
    assert parse_notes('Sure: [{"fact": "User is vegan.", "replaces": null}, "User cooks."]') == [
        Note("User is vegan."),
        Note("User cooks."),
    ]
    assert parse_notes("[]") == []
    for bad in ("no list here", "[{not json]", "[42]"):
        with pytest.raises(ValueError):
            parse_notes(bad)
    assert as_notes(["  ", "x" * (MAX_NOTE_CHARS + 5)]) == [Note("x" * MAX_NOTE_CHARS)]


@given(st.text(max_size=3000))
def test_any_input_gives_sentences_of_it_or_nothing(text: str) -> None:
    kept = statements(text)
    if kept is not None:
        assert kept.strip() and len(kept) <= MAX_NOTE_CHARS
        assert "?" not in kept and "<recalled_memories>" not in kept
        for sentence in kept.split(" "):
            assert sentence in text
