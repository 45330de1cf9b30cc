"""A missing optional dependency, reported as the extra to install (one helper, every boundary).

Each subpackage that needs an extra imports its third-party modules inside
:func:`requires_extra`; a module that is not installed then raises :class:`MissingExtraError`,
an ``ImportError`` (and still a ``ModuleNotFoundError``, so ``except ModuleNotFoundError`` keeps
working) whose message says which extra brings it. The extra is the one that brings the missing
module (``langchain`` comes with ``langchain-agents``, ``grpc`` with ``membrane``, ...), else the
one the subpackage needs (``numpy`` under the emulator: ``emulator``).

Example:
    >>> try:
    ...     with requires_extra("emulator"):
    ...         import a_module_that_is_not_installed
    ... except MissingExtraError as exc:
    ...     print(exc.extra, isinstance(exc, ModuleNotFoundError))
    ...     print(exc)
    emulator True
    a_module_that_is_not_installed is not installed: pip install 'membrane-integrations[emulator]'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MODULE_EXTRAS", "MissingExtraError", "install_line", "requires_extra"]

PACKAGE = "membrane-integrations"
# The extra that brings each top-level module; modules several extras bring (numpy, wordllama)
# are left to the subpackage's own extra.
MODULE_EXTRAS = {
    "langchain_core": "langchain",
    "langchain": "langchain-agents",
    "langgraph": "langgraph",
    "autogen_core": "autogen",
    "autogen_agentchat": "autogen",
    "autogen_ext": "demo",
    "agent_framework": "agent-framework",
    "grpc": "membrane",
    "google": "membrane",
    "fastapi": "emulator",
    "fastapi_offline": "emulator",
    "starlette": "emulator",
    "uvicorn": "emulator",
    # extras other branches add (the MCP server, the PostgreSQL recall index)
    "mcp": "mcp",
    "psycopg": "postgres",
}


def install_line(extra: str) -> str:
    """The command that installs ``extra``.

    >>> install_line("langchain")
    "pip install 'membrane-integrations[langchain]'"
    """
    return f"pip install '{PACKAGE}[{extra}]'"


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is missing; ``extra`` names what to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"{module} is not installed: {install_line(extra)}", name=module)
        self.extra = extra


@contextmanager
def requires_extra(extra: str) -> Iterator[None]:
    """Turn a missing third-party module imported inside the block into
    :class:`MissingExtraError` naming the extra (our own modules' errors pass unchanged)."""
    try:
        yield
    except ModuleNotFoundError as exc:  # also a MissingExtraError from an inner boundary:
        # the outermost boundary names the extra of modules several extras bring (numpy)
        top = (exc.name or "").split(".")[0]
        if not top or top == "membrane_integrations":
            raise
        raise MissingExtraError(top, MODULE_EXTRAS.get(top, extra)) from exc
