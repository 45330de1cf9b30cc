"""The text budget shared by every renderer: clip one item, fit lines into a budget.

Tools return two things: a text, which goes into the model's context, and the full typed result
as the artifact. The renderers of each backend (:mod:`._format_membrain`,
:mod:`._format_membrane`) build the text from these helpers, so both stop at ``budget``
characters the same way, with a line saying how much was left out.

Example:
    >>> fit([clip("a very long line", 8), "two"], 20)
    'a very …\\ntwo'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DEFAULT_BUDGET", "ITEM_CHARS", "clip", "fit"]

DEFAULT_BUDGET = 4000
ITEM_CHARS = 600


def clip(text: str, limit: int = ITEM_CHARS) -> str:
    """One line of at most ``limit`` characters (newlines folded, an ellipsis when cut).

    >>> clip("a\\nb" + "c" * 10, 6)
    'a bcc…'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def fit(lines: Sequence[str], budget: int, hint: str = "") -> str:
    """Join ``lines`` until ``budget`` characters; say how many were left out.

    >>> fit(["one", "two", "three"], 9)
    'one\\ntwo\\n[1 more line trimmed]'
    """
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        cost = len(line) + (1 if out else 0)
        if used + cost > budget and out:
            left = len(lines) - index
            tail = f"[{left} more line{'s' if left != 1 else ''} trimmed{hint}]"
            out.append(tail)
            break
        out.append(line if len(line) <= budget else clip(line, budget))
        used += cost
    return "\n".join(out)
