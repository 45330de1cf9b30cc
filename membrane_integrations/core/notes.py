"""Notes, not transcripts: what a turn leaves in long-term memory.

The Membrain guide (section 8) asks for atomic, third-person facts, "not whole chat
transcripts", and to skip greetings and chit-chat. A capture path turns each turn into
:class:`Note` s in one of two ways:

* **by default**, :func:`statements`: the sentences of a message that state something, without
  questions, greetings, thanks, acknowledgements or a recalled-memories block. It works on
  punctuation first (the question marks of many scripts), then on a short list of interrogative
  and courtesy words in a few languages; a message with nothing left stores nothing.
* **with an extractor**: any callable that takes the :class:`Turn` and returns notes (strings or
  :class:`Note` s). A note may say which earlier memory it *replaces* (its text as recalled);
  Membrane then supersedes that record. The prompt for a chat model extractor is
  :data:`EXTRACTION_PROMPT` and :func:`parse_notes` reads its answer
  (``membrane_integrations.langchain.ChatModelExtractor`` puts the two around a chat model).

Example:
    >>> statements("Hi! I moved to Lisbon last year. Where should I eat tonight?")
    'I moved to Lisbon last year.'
    >>> statements("Thanks, that helps!") is None
    True
    >>> statements("¿Dónde vivo?") is None
    True
    >>> parse_notes('[{"fact": "User lives in Lisbon.", "replaces": "User lives in Porto."}]')
    [Note(text='User lives in Lisbon.', replaces='User lives in Porto.')]
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EXTRACTION_PROMPT",
    "Extractor",
    "Note",
    "Turn",
    "default_notes",
    "extracted_notes",
    "is_statement",
    "note_key",
    "parse_notes",
    "render_turn",
    "statements",
    "strip_recalled",
]

logger = logging.getLogger("membrane_integrations.notes")

MAX_NOTE_CHARS = 4000
MAX_NOTES = 20


@dataclass(frozen=True)
class Note:
    """One fact to store; ``replaces`` is the text of an earlier memory it supersedes."""

    text: str
    replaces: str | None = None


@dataclass(frozen=True)
class Turn:
    """What an extractor reads: the turn's messages as ``(role, text)`` and the memories
    recalled for it (the earlier facts a note may replace)."""

    messages: tuple[tuple[str, str], ...]
    recalled: tuple[str, ...] = field(default=())


Extractor = Callable[[Turn], Sequence["str | Note"]]

# A recalled-memories block a model echoed, or that reached a captured text some other way.
_FENCED = re.compile(r"<recalled_memories>.*?(?:</recalled_memories>|\Z)", re.S)
# Sentence breaks of many scripts: . ! ? (and the Arabic, Greek, Devanagari marks, an
# ellipsis) before white space, the full-width CJK marks anywhere, and line breaks. A dot
# inside a token ("container.bob", "3.5") is no break.
_BREAK = re.compile("(?<=[.!?\u061f\u037e\u0964\u2026])\\s+|(?<=[\u3002\uff01\uff1f])|\\n+")
_QUESTION_MARKS = ("?", "\uff1f", "\u061f", "\u037e", "\u00bf")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that open a question or a request when a question mark is left out (en, es, fr, de,
# it, pt, nl): the common ones only. Matching is on the first word of a sentence.
_ASKING = _wordset(
    """what who whom whose when where which why how do does did is are am was were can could
    should would will shall may might have has tell remind show give find list
    qué quién cuándo dónde cuál cómo puedes podrías dime
    quoi qui quand où quel quelle quels quelles comment pourquoi est-ce peux pouvez dis
    wer wann welche welcher welches warum kannst können sag
    cosa chi perché puoi dimmi
    quem qual podes diga
    wanneer waar welke waarom kun kunt"""
)
# Words that only greet, thank, agree or close (same languages): a sentence made of nothing
# else is courtesy, not a fact.
_COURTESY_WORDS = _wordset(
    """hi hello hey hiya yo howdy greetings there everyone good morning afternoon evening night
    bye goodbye
    see you later thanks thank thx ty cheers great cool nice awesome perfect ok okay k sure
    yes yeah yep no nope got it noted understood alright all right fine sounds no problem
    you're welcome please sorry hmm hm ah oh wow lol haha that that's it's this so very
    much a lot for the help helps helped helpful makes sense i see to know
    hola buenos buenas días tardes noches adiós gracias vale sí claro perfecto
    bonjour bonsoir salut merci oui non d'accord parfait au revoir
    hallo guten tag morgen danke ja nein tschüss genau super
    ciao buongiorno buonasera grazie va bene
    olá obrigado obrigada tchau
    dag bedankt doei"""
)
_WORD = re.compile("[\\w'\u2019-]+", re.UNICODE)


def strip_recalled(text: str) -> str:
    """``text`` without any ``<recalled_memories>`` block."""
    return _FENCED.sub(" ", text)


def is_statement(sentence: str) -> bool:
    """True when ``sentence`` states something (not a question, greeting or acknowledgement).

    >>> [is_statement(s) for s in ("I am vegan.", "Do I eat meat", "OK, thanks!", "Hello")]
    [True, False, False, False]
    """
    text = sentence.strip()
    if not text or any(mark in text for mark in _QUESTION_MARKS):
        return False
    words = [w.lower().strip("'\u2019-") for w in _WORD.findall(text)]
    if not words:
        return False
    if words[0] in _ASKING and not _starts_with_statement(words):
        return False
    return not all(w in _COURTESY_WORDS for w in words)


def _starts_with_statement(words: list[str]) -> bool:
    # "Was" / "Is" open a question in English, but "Was" starts a German question and "is" a
    # Dutch one too; a statement with a first-person subject ("I was ...") never reaches here.
    # "Have two cats" is not a question: only treat auxiliaries as asking when a pronoun follows.
    auxiliaries = {"have", "has", "is", "are", "am", "was", "were", "do", "does", "did"}
    pronouns = {"i", "you", "we", "they", "he", "she", "it", "there", "my", "your", "the", "a"}
    return words[0] in auxiliaries and (len(words) < 2 or words[1] not in pronouns)


def statements(text: str) -> str | None:
    """The statement sentences of ``text``, joined; ``None`` when it states nothing."""
    kept = [s.strip() for s in _BREAK.split(strip_recalled(text)) if is_statement(s)]
    joined = " ".join(kept).strip()
    return joined[:MAX_NOTE_CHARS] if joined else None


def default_notes(turn: Turn) -> list[Note]:
    """One note per message of the turn that states something (see :func:`statements`)."""
    notes: list[Note] = []
    for _role, text in turn.messages:
        kept = statements(text)
        if kept is not None:
            notes.append(Note(kept))
    return notes


EXTRACTION_PROMPT = """\
You turn one turn of a conversation into long-term memory notes.

Write each fact the user (or the assistant, about the user) states that is worth remembering \
later as one atomic, third-person statement ("User is vegan.", "User's sister is called Ana."), \
in the language of the conversation, with any date or time it comes with. Skip questions, \
greetings, thanks, acknowledgements, chit-chat and anything only true for this moment. Never \
copy text from the recalled memories as a new fact.

When a fact replaces one of the recalled memories (the user moved, changed a preference, \
corrected something), give the exact text of that memory as "replaces".

Answer with a JSON array only, one object per fact: \
[{"fact": "...", "replaces": null}]. Answer [] when there is nothing to remember."""


def render_turn(turn: Turn) -> str:
    """The user message of an extraction request: recalled memories, then the turn.

    >>> print(render_turn(Turn(messages=(("user", "I moved to Oslo."),), recalled=("x",))))
    Recalled memories:
    - x
    <BLANKLINE>
    Turn:
    user: I moved to Oslo.
    """
    recalled = "\n".join(f"- {text}" for text in turn.recalled) or "(none)"
    lines = "\n".join(f"{role}: {strip_recalled(text).strip()}" for role, text in turn.messages)
    return f"Recalled memories:\n{recalled}\n\nTurn:\n{lines}"


def parse_notes(answer: str) -> list[Note]:
    """The notes in an extractor's answer (a JSON array of ``{"fact", "replaces"}`` objects,
    or of strings); raises :class:`ValueError` when it holds none of those."""
    start, end = answer.find("["), answer.rfind("]")
    if start < 0 or end < start:
        raise ValueError("the extractor's answer has no JSON array")
    try:
        items = json.loads(answer[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the extractor's answer is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise ValueError("the extractor's answer is not a JSON array")
    return as_notes(items)


def as_notes(items: Sequence[object]) -> list[Note]:
    """Normalise what an extractor returned: strings, :class:`Note` s or ``{"fact", "replaces"}``
    mappings; blank ones dropped, at most :data:`MAX_NOTES`, each cut to ``MAX_NOTE_CHARS``."""
    notes: list[Note] = []
    for item in items:
        if isinstance(item, Note):
            note = item
        elif isinstance(item, str):
            note = Note(item)
        elif isinstance(item, dict) and isinstance(item.get("fact"), str):
            replaces = item.get("replaces")
            note = Note(item["fact"], replaces if isinstance(replaces, str) and replaces else None)
        else:
            raise ValueError(f"an extractor returned {type(item).__name__}, not a note")
        text = note.text.strip()[:MAX_NOTE_CHARS]
        if text:
            notes.append(Note(text, note.replaces))
    return notes[:MAX_NOTES]


def extracted_notes(
    extractor: Extractor,
    turn: Turn,
    *,
    owner: str,
    detail: Callable[[BaseException], str] = repr,
) -> list[Note]:
    """What ``extractor`` makes of ``turn``; if it fails, the turn's statements (never lost).

    The failure is logged as a warning naming ``owner`` (the capturing layer) with
    ``detail(exc)`` (the layer's redacted text of it).

    >>> def broken(turn: Turn) -> list[str]:
    ...     raise RuntimeError("model down")
    >>> turn = Turn(messages=(("user", "I live in Porto. Where do you live?"),))
    >>> extracted_notes(broken, turn, owner="demo") == default_notes(turn)
    True
    >>> extracted_notes(lambda turn: ["Lives in Porto"], turn, owner="demo")
    [Note(text='Lives in Porto', replaces=None)]
    """
    try:
        return as_notes(extractor(turn))
    except Exception as exc:
        logger.warning(
            "%s extractor failed; storing the turn's statements instead: %s", owner, detail(exc)
        )
        return default_notes(turn)


def note_key(turn_key: str, note: Note) -> str:
    """32 hex digits naming one extracted note of one turn (its ledger and tag key).

    >>> key = note_key("turn-1", Note("I live in Porto."))
    >>> len(key), key == note_key("t", Note("a"))
    (32, False)
    """
    data = json.dumps([turn_key, note.text, note.replaces], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]
