"""A progress indicator for waits: a spinner on a TTY, one plain line otherwise.

Example:
    >>> import io
    >>> err = io.StringIO()
    >>> with waiting("storing 3 facts", stream=err):
    ...     pass
    >>> err.getvalue()
    '... storing 3 facts\\n'
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["waiting"]

_FRAMES = "|/-\\"


@contextmanager
def waiting(label: str, *, stream: TextIO | None = None, interval: float = 0.1) -> Iterator[None]:
    """Show that the program is waiting on ``label`` while the block runs.

    On a terminal a spinner turns on ``stream`` (default stderr) and is erased at the end; on
    anything else (a pipe, a log, a test) one line ``... label`` is written, so logs stay clean.
    """
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        out.write(f"... {label}\n")
        out.flush()
        yield
        return
    done = threading.Event()

    def spin() -> None:
        tick = 1
        while not done.wait(interval):
            out.write(f"\r{_FRAMES[tick % len(_FRAMES)]} {label}")
            out.flush()
            tick += 1

    out.write(f"\r{_FRAMES[0]} {label}")
    out.flush()
    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        yield
    finally:
        done.set()
        spinner.join()
        out.write("\r" + " " * (len(label) + 2) + "\r")
        out.flush()
