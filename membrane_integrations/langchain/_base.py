"""The base class shared by every memory tool: client pair, error handling, sync/async runs.

A concrete tool names its framework-neutral definition, ``spec`` (a
:class:`~membrane_integrations.tools.spec.ToolSpec`: name, description, argument model, plan), and
the ``settings`` the application fixed; ``_plan(args)`` is that definition's plan. ``_run`` drives
it over the synchronous client and ``_arun`` over the asynchronous one (each derived from the
other when only one was given, see :mod:`._clients`); nothing else differs. A failure's text is
the one every surface shows (:mod:`membrane_integrations.tools.errors`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict

from ..core.errors import MembraneIntegrationsError
from ..tools.errors import validation_message
from ..tools.spec import ToolSpec
from ._clients import WithClients, is_async_client
from ._driver import ToolPlan, drive_async, drive_sync, tool_exception

__all__ = ["MemoryTool", "is_async_client", "validation_message"]


class MemoryTool(WithClients, BaseTool):
    """Shared plumbing of the Membrain and Membrane tools."""

    # Each tool's pydantic schema is built on its first use, not at import (issue 18).
    model_config = ConfigDict(defer_build=True)

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Any = True
    handle_validation_error: bool | str | Any = validation_message

    spec: ClassVar[ToolSpec[Any]]

    @property
    def settings(self) -> Any:
        """What the application fixed (container, trust), as ``spec.plan`` takes it."""
        raise NotImplementedError

    def _plan(self, args: dict[str, Any]) -> ToolPlan:
        """The calls this tool makes, as a generator: its definition's plan."""
        return self.spec.plan(self.settings, args)

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
