"""The base class shared by every memory tool: client pair, error handling, sync/async runs.

A concrete tool sets ``name``, ``description`` and ``args_schema`` and writes one method,
``_plan(args)``: a generator yielding adapter calls (see :mod:`._driver`). ``_run`` drives that
plan over the synchronous client and ``_arun`` over the asynchronous one (each derived from the
other when only one was given, see :mod:`._clients`); nothing else differs.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, ValidationError

from ..core.errors import MembraneIntegrationsError
from ._clients import WithClients, is_async_client
from ._driver import ToolPlan, drive_async, drive_sync, tool_exception

__all__ = ["MemoryTool", "is_async_client", "validation_message"]


def validation_message(error: ValidationError) -> str:
    """Tell the model which argument was wrong and why (shown instead of raising)."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ())) or "input"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "Invalid tool arguments: " + "; ".join(parts) + ". Fix them and call the tool again."


class MemoryTool(WithClients, BaseTool):
    """Shared plumbing of the Membrain and Membrane tools."""

    # Each tool's pydantic schema is built on its first use, not at import (issue 18).
    model_config = ConfigDict(defer_build=True)

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Any = True
    handle_validation_error: bool | str | Any = validation_message

    @abstractmethod
    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        """The calls this tool makes, as a generator (see :mod:`._driver`)."""

    def _validated(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        schema = self.args_schema
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_validate(kwargs).model_dump()
        return kwargs

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, Any]:
        plan = self._plan(self._validated(kwargs))
        try:
            return drive_sync(plan, self.clients.for_sync())
        except MembraneIntegrationsError as exc:
            raise tool_exception(exc) from exc

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, Any]:
        plan = self._plan(self._validated(kwargs))
        try:
            return await drive_async(plan, self.clients.for_async())
        except MembraneIntegrationsError as exc:
            raise tool_exception(exc) from exc
