"""Where the demo writes: the story on ``out``, progress on ``err`` (a spinner on a TTY).

A long line is wrapped (continuation lines indented two more spaces), never cut: a fact the
demo shows is shown whole.

Example:
    >>> import io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> console = Console(out=out, err=err)
    >>> console.heading("Story")
    >>> console.say("stored: a fact")
    >>> out.getvalue()
    '\\n== Story ==\\n   stored: a fact\\n'
    >>> console.say("word " * 30, indent=1)
    >>> all(len(line) <= WIDTH for line in out.getvalue().splitlines())
    True
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from .progress import waiting

__all__ = ["WIDTH", "Console", "short"]

WIDTH = 100


def short(text: str) -> str:
    """``text`` on one line (whitespace runs become one space); nothing is cut.

    >>> short("a\\n  b " + "c" * 3)
    'a b ccc'
    """
    return " ".join(text.split())


@dataclass
class Console:
    """The demo's output: story lines, headings and progress while waiting."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def heading(self, title: str) -> None:
        """A story title."""
        self.out.write(f"\n== {title} ==\n")
        self.out.flush()

    def say(self, line: str, indent: int = 3, *, wrap: bool = True) -> None:
        """One indented line of the story, wrapped at :data:`WIDTH` columns unless ``wrap`` is
        False (a command or a path the reader copies stays on one line)."""
        pad = " " * indent
        if not wrap:
            self.out.write("".join(pad + part + "\n" for part in line.split("\n")))
            self.out.flush()
            return
        for part in line.split("\n"):  # a line may start with a blank one
            wrapped = textwrap.fill(
                part,
                width=WIDTH,
                initial_indent=pad,
                subsequent_indent=pad + "  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            self.out.write((wrapped if part.strip() else "") + "\n")
        self.out.flush()

    @contextmanager
    def wait(self, label: str) -> Iterator[None]:
        """Progress on ``err`` while the block runs."""
        with waiting(label, stream=self.err):
            yield
