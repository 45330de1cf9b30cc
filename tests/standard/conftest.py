"""What the standard suites share: the three ways to build a component, and closing it.

Every LangChain tool and retriever must work whichever client it was given, so each
integration suite runs once per construction: ``sync`` (only ``client=``), ``async`` (only
``async_client=``) and ``both``. A component built with one client derives the other; the
autouse fixture closes the component after each test, inside the test's event loop, which is
where a derived async client has to be closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest

CONSTRUCTIONS = ("Sync", "Async", "Both")


def clients(
    construction: str, sync: Callable[[], Any], async_: Callable[[], Any]
) -> dict[str, Any]:
    """The client arguments of one construction (``sync``/``async_`` make the clients)."""
    given: dict[str, Any] = {}
    if construction in ("Sync", "Both"):
        given["client"] = sync()
    if construction in ("Async", "Both"):
        given["async_client"] = async_()
    return given


@pytest.fixture(autouse=True)
async def _close_component(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    for name in ("tool", "retriever"):
        component = request.node.funcargs.get(name)
        if component is not None:
            await component.aclose()


def register(
    namespace: dict[str, Any],
    tools: Iterable[type[Any]],
    *,
    unit: type[Any],
    integration: type[Any],
    retriever: type[Any],
    retriever_name: str,
) -> int:
    """Add one unit suite per tool and one integration suite per tool and construction (and
    one retriever suite per construction) to a test module; return how many were added."""
    added: dict[str, type[Any]] = {}
    for tool_cls in tools:
        name = tool_cls.__name__.removesuffix("Tool")
        added[f"Test{name}Unit"] = type(f"Test{name}Unit", (unit,), {"tool_cls": tool_cls})
        for how in CONSTRUCTIONS:
            suite = f"Test{name}Integration{how}"
            added[suite] = type(suite, (integration,), {"tool_cls": tool_cls, "construction": how})
    for how in CONSTRUCTIONS:
        suite = f"Test{retriever_name}Integration{how}"
        added[suite] = type(suite, (retriever,), {"construction": how})
    namespace.update(added)
    return len(added)
