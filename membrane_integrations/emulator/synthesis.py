"""Deterministic text the emulator writes in place of the hosted service's LLM steps.

* :func:`link_description`: the Guardian-like question that describes a link between two
  memories (it is embedded, so edges are searchable and traversable);
* :func:`interpret`: the ``interpreted`` block of a search, an extractive synthesis of the top
  hits (no model, same input gives the same answer).

Example:
    >>> link_description("User likes green tea", "User drinks tea every morning")
    "How are 'User likes green tea' and 'User drinks tea every morning' related through user, tea?"
    >>> hits = [Hit("m1", "User likes green tea.", 0.8)]
    >>> interpret("What does the user drink?", hits, [])["supporting_memory_ids"]
    ['m1']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .embeddings import content_words, stem

__all__ = ["EdgeHit", "Hit", "interpret", "link_description", "shorten"]

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor)\b|n't\b", re.I)


@dataclass(frozen=True)
class Hit:
    """A memory hit handed to :func:`interpret`."""

    id: str
    content: str
    score: float


@dataclass(frozen=True)
class EdgeHit:
    """A relationship hit handed to :func:`interpret`."""

    source: str
    target: str
    description: str
    score: float


def shorten(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters.

    >>> shorten("a" * 100, 10)
    'aaaaaaaaa…'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def link_description(a: str, b: str) -> str:
    """A natural-language question naming what two memories share."""
    seen = set(content_words(b))
    shared: list[str] = []
    for word in _WORD.findall(a.lower()):
        if stem(word) in seen and stem(word) not in map(stem, shared):
            shared.append(word)
    left, right = shorten(a, 60), shorten(b, 60)
    if shared:
        return f"How are '{left}' and '{right}' related through {', '.join(shared[:3])}?"
    return f"How does '{left}' relate to '{right}'?"


def _overlap(a: str, b: str) -> float:
    x, y = set(content_words(a)), set(content_words(b))
    return len(x & y) / len(x | y) if x and y else 0.0


def _conflicts(hits: Sequence[Hit]) -> list[str]:
    found: list[str] = []
    for i, first in enumerate(hits):
        for second in hits[i + 1 :]:
            if _overlap(first.content, second.content) < 0.3:
                continue
            negated = bool(_NEGATION.search(first.content)) != bool(
                _NEGATION.search(second.content)
            )
            left, right = set(_NUMBER.findall(first.content)), set(_NUMBER.findall(second.content))
            numbers = bool(left and right and left != right)
            if negated or numbers:
                why = "one negates the other" if negated else "they give different numbers"
                found.append(
                    f"Memories {first.id} ('{shorten(first.content, 60)}') and {second.id} "
                    f"('{shorten(second.content, 60)}') may disagree: {why}."
                )
    return found[:5]


def interpret(query: str, hits: Sequence[Hit], edges: Sequence[EdgeHit]) -> dict[str, Any]:
    """The ``interpreted`` block for ``query`` from ranked ``hits`` and ``edges``."""
    relevant = [h for h in hits if h.score > 0.05]
    if not relevant:
        return {
            "answer_summary": "No stored memory answers this question.",
            "key_facts": [],
            "important_relationships": [],
            "conflicts_or_uncertainties": [],
            "supporting_memory_ids": [],
            "confidence": 0.0,
        }
    query_words = set(content_words(query))
    sentences: list[tuple[float, int, str]] = []
    for rank, hit in enumerate(relevant):
        for sentence in _SENTENCE.split(hit.content.strip()):
            if sentence:
                words = set(content_words(sentence))
                overlap = len(words & query_words) / (len(query_words) or 1)
                sentences.append((hit.score + overlap, -rank, sentence.strip()))
    sentences.sort(reverse=True)
    summary_parts: list[str] = []
    for _, _, sentence in sentences:
        if sentence not in summary_parts:
            summary_parts.append(sentence if sentence[-1] in ".!?" else sentence + ".")
        if len(summary_parts) == 2:
            break
    ids = {h.id for h in relevant}
    relationships = [e.description for e in edges if e.source in ids or e.target in ids][:5]
    top = [h.score for h in relevant[:3]]
    confidence = round(max(0.0, min(1.0, sum(top) / len(top))), 3)
    return {
        "answer_summary": " ".join(summary_parts),
        "key_facts": [shorten(h.content, 200) for h in relevant[:5]],
        "important_relationships": relationships,
        "conflicts_or_uncertainties": _conflicts(relevant[:8]),
        "supporting_memory_ids": [h.id for h in relevant[:5]],
        "confidence": confidence,
    }
