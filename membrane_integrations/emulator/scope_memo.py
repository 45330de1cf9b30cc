"""Which stored scope tokens each pattern list matches, learned outside the store's lock.

A scope filter is caller input, and so are the tokens it runs over. Matching them (RE2, linear
time, :mod:`membrane_integrations.core.scope`) happens with no lock held: under the lock the
engine only asks :meth:`ScopeMemo.missing` which distinct tokens of the tenant are not yet
known for a pattern list (set lookups), releases the lock, matches those, :meth:`learns
<ScopeMemo.learn>` the answer, and tries again; once nothing is missing it keeps the lock and
the index builds its masks from the known hits with lookups only.

A token's hit for a pattern never changes, so what is learned stays true; the memo keeps the
most recent pattern lists of a tenant (least recently used forgotten first).

Example:
    >>> memo = ScopeMemo()
    >>> memo.missing(("^a$",), ["a", "b"], generation=1)
    ['a', 'b']
    >>> memo.learn(("^a$",), ["a", "b"])
    >>> memo.missing(("^a$",), ["a", "b"], generation=1), memo.hits(("^a$",))
    ([], [frozenset({'a'})])
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.scope import compile_pattern, pattern_search

__all__ = ["ScopeMemo"]


@dataclass
class _Entry:
    hits: list[frozenset[str]]
    seen: set[str] = field(default_factory=set)
    # (index generation, how many of its tokens in first-seen order are known): lets
    # ``missing`` look only at the tokens added since, instead of every token each time.
    synced: tuple[int, int] = (-1, 0)


class ScopeMemo:
    """Per tenant: the known hits of recent pattern lists (see the module doc)."""

    def __init__(self, limit: int = 64) -> None:
        self._limit = limit
        self._lock = threading.Lock()  # guards the entries; never held while matching
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()

    def missing(
        self, patterns: tuple[str, ...], tokens: Sequence[str], *, generation: int
    ) -> list[str]:
        """The tokens (``tokens``: the index's distinct tokens in first-seen order) whose hits
        for ``patterns`` are not known yet. Lookups only: call it with the store lock held."""
        with self._lock:
            entry = self._entries.get(patterns)
            if entry is None:
                return list(tokens)
            self._entries.move_to_end(patterns)
            start = entry.synced[1] if entry.synced[0] == generation else 0
            todo = [t for t in tokens[start:] if t not in entry.seen]
            if not todo:
                entry.synced = (generation, len(tokens))
            return todo

    def unknown(self, patterns: tuple[str, ...], tokens: Sequence[str]) -> list[str]:
        """The ones of ``tokens`` whose hits for ``patterns`` are not known (lookups only)."""
        if not tokens:
            return []
        with self._lock:
            entry = self._entries.get(patterns)
            return list(tokens) if entry is None else [t for t in tokens if t not in entry.seen]

    def learn(self, patterns: tuple[str, ...], tokens: Sequence[str]) -> None:
        """Match ``tokens`` against every pattern (RE2; call it without the store lock)."""
        programs = [compile_pattern(p) for p in patterns]
        found = [frozenset(t for t in tokens if pattern_search(p, t)) for p in programs]
        with self._lock:
            entry = self._entries.get(patterns)
            if entry is None:
                entry = _Entry(hits=[frozenset()] * len(patterns))
                self._entries[patterns] = entry
                while len(self._entries) > self._limit:
                    self._entries.popitem(last=False)
            # copy on write: a reader holding the old sets never sees them change
            entry.hits = [
                old | new if new else old for old, new in zip(entry.hits, found, strict=True)
            ]
            entry.seen.update(tokens)

    def hits(self, patterns: tuple[str, ...]) -> list[frozenset[str]]:
        """For each pattern, the known tokens it matches (empty sets when nothing is known)."""
        with self._lock:
            entry = self._entries.get(patterns)
            return list(entry.hits) if entry else [frozenset()] * len(patterns)
