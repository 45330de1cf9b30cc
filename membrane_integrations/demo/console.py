"""Where the demo writes: the story on ``out``, progress on ``err`` (a spinner on a TTY).

Example:
    >>> import io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> console = Console(out=out, err=err)
    >>> console.heading("Story")
    >>> console.say("stored: a fact")
    >>> out.getvalue()
    '\\n== Story ==\\n   stored: a fact\\n'
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from .progress import waiting

__all__ = ["Console", "short"]


def short(text: str, limit: int = 96) -> str:
    """One line of at most ``limit`` characters.

    >>> short("a\\nb" + "c" * 200, 10)
    'a bcccc...'
    """
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass
class Console:
    """The demo's output: story lines, headings and progress while waiting."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def heading(self, title: str) -> None:
        """A story title."""
        self.out.write(f"\n== {title} ==\n")
        self.out.flush()

    def say(self, line: str, indent: int = 3) -> None:
        """One indented line of the story."""
        self.out.write(" " * indent + line + "\n")
        self.out.flush()

    @contextmanager
    def wait(self, label: str) -> Iterator[None]:
        """Progress on ``err`` while the block runs."""
        with waiting(label, stream=self.err):
            yield
