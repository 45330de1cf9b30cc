"""The plan driver as LangChain components use it, and the ``ToolException`` of a failed tool.

The driver itself is framework-neutral (:mod:`membrane_integrations.core.plan`); the text of a
failure is the one every surface shows (:mod:`membrane_integrations.tools.errors`).

Example:
    >>> from membrane_integrations.core.errors import RateLimitedError
    >>> print(tool_exception(RateLimitedError("slow down", retry_after=2)))  # doctest: +ELLIPSIS
    Memory error (RateLimited): slow down. Too many requests: wait 2 seconds before ...
"""

from __future__ import annotations

from langchain_core.tools import ToolException

from ..core.errors import MembraneIntegrationsError
from ..core.plan import Call, Plan, ToolPlan, call, drive_async, drive_sync, local
from ..tools.errors import tool_error_text

__all__ = [
    "Call",
    "Plan",
    "ToolPlan",
    "call",
    "drive_async",
    "drive_sync",
    "local",
    "tool_exception",
]


def tool_exception(exc: MembraneIntegrationsError) -> ToolException:
    """Map an adapter error to a ``ToolException`` whose text says what to do next."""
    return ToolException(tool_error_text(exc))
