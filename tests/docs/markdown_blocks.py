"""The ```python blocks of README.md and docs/*.md, as the docs tests run them.

Convention (what every page's author writes to):

* Only fences whose language is exactly ``python`` run; ``text``, ``bash``, ``json``, ``toml``
  and the rest are shown, never run.
* Each block runs on its own, in a fresh namespace, so it imports what it uses. A block whose
  first line is ``# continues`` runs in the namespace of the block before it (same page); the
  blocks chained this way are one test.
* Servers come from the environment, set for every test: ``MEMBRAIN_BASE_URL`` and
  ``MEMBRAIN_API_KEY`` (a fresh Membrain emulator) and ``MEMBRANE_ADDR`` and
  ``MEMBRANE_API_KEY`` (a fresh real membraned, when the block names Membrane). The working
  directory is a temporary one.
* A block containing top-level ``await`` runs as a coroutine (as in a notebook or
  ``python -m asyncio``); the blocks of one chain share one event loop. Other blocks run as
  plain code, so they may call ``asyncio.run`` themselves.

Example:
    >>> page = "# T\\n```python\\nx = 1\\n```\\n```python\\n# continues\\nx\\n```\\n"
    >>> blocks = parse_blocks(page)
    >>> [(b.line, b.continues) for b in blocks]
    [(2, False), (5, True)]
    >>> [len(c) for c in chains(blocks)]
    [2]
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Block", "chains", "needs_membrane", "parse_blocks", "run_chain"]

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\n]*)$")
_CONTINUES = "# continues"
# A block talks to Membrane when it names the daemon's client side (Membrain is the other one).
_MEMBRANE = re.compile(r"Membrane(?!_integrations)|\.membrane\b|MEMBRANE_")


@dataclass(frozen=True)
class Block:
    """One ```python block: its page, the line of its opening fence, its code."""

    path: Path
    line: int
    code: str

    @property
    def continues(self) -> bool:
        return self.code.lstrip().startswith(_CONTINUES)


def parse_blocks(text: str, path: Path = Path("<string>")) -> list[Block]:
    """The ``python`` fences of a Markdown text (CommonMark fences: ``` or ~~~, 3+ long)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        fence, info = opened["fence"], opened["info"].strip()
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence[0] * len(fence))
            and set(lines[i].strip()) == {fence[0]}
        ):
            body.append(lines[i][len(opened["indent"]) :])
            i += 1
        i += 1
        if info.split()[:1] == ["python"]:
            blocks.append(Block(path, start, "\n".join(body) + "\n"))
    return blocks


def chains(blocks: list[Block]) -> list[list[Block]]:
    """Blocks grouped into runs: a ``# continues`` block joins the one before it."""
    out: list[list[Block]] = []
    for block in blocks:
        if block.continues and out:
            out[-1].append(block)
        else:
            out.append([block])
    return out


def needs_membrane(chain: list[Block]) -> bool:
    """Whether any block of the chain uses the Membrane daemon."""
    return any(_MEMBRANE.search(block.code) for block in chain)


def run_chain(chain: list[Block]) -> dict[str, Any]:
    """Run the blocks of a chain in one namespace; returns it. Errors propagate as raised,
    with the page and line in the traceback (the code is compiled under that file name)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    loop: asyncio.AbstractEventLoop | None = None
    try:
        for block in chain:
            # Padding keeps the traceback's line numbers equal to the page's.
            source = "\n" * block.line + block.code
            code = compile(source, str(block.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            if code.co_flags & inspect.CO_COROUTINE:
                loop = loop or asyncio.new_event_loop()
                loop.run_until_complete(eval(code, namespace))  # the docs' own code
            else:
                exec(code, namespace)  # the docs' own code
    finally:
        if loop is not None:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
    return namespace
