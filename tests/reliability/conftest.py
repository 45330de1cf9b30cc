"""Figures the reliability tests measure, printed in pytest's terminal summary.

A test asks for ``rel_figures`` and calls it with one line; the lines appear under
"reliability figures" at the end of the run whatever ``-s``/``-rP`` say, so the numbers in
docs/reliability.md can be read off any ``make test``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def rel_figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    lines = request.config.stash.setdefault(_FIGURES, [])
    name = request.node.name

    def note(line: str) -> None:
        lines.append(f"{name}: {line}")

    return note


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(_FIGURES, [])
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
