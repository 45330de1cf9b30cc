"""The base class shared by every memory tool: client fields, error handling, sync/async runs.

A concrete tool sets ``name``, ``description`` and ``args_schema`` and writes one method,
``_plan(args)``: a generator yielding adapter calls (see :mod:`._driver`). ``_run`` drives that
plan over the synchronous client and ``_arun`` over the asynchronous one; nothing else differs.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ValidationError

from ._driver import Plan, drive_async, drive_sync

__all__ = ["MemoryTool", "validation_message"]


def validation_message(error: ValidationError) -> str:
    """Tell the model which argument was wrong and why (shown instead of raising)."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ())) or "input"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "Invalid tool arguments: " + "; ".join(parts) + ". Fix them and call the tool again."


def is_async_client(client: Any) -> bool:
    """True when the client's methods are coroutines (an ``Async*Client``)."""
    probe = getattr(client, "aclose", None) or getattr(client, "close", None)
    return probe is not None and inspect.iscoroutinefunction(probe)


class MemoryTool(BaseTool):
    """Shared plumbing of the Membrain and Membrane tools."""

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Any = True
    handle_validation_error: bool | str | Any = validation_message

    @abstractmethod
    def _plan(self, args: dict[str, Any]) -> Plan:
        """The calls this tool makes, as a generator (see :mod:`._driver`)."""

    @abstractmethod
    def _sync_client(self) -> Any:
        """The synchronous client, or ``None`` when the tool has only an async one."""

    @abstractmethod
    def _async_client(self) -> Any:
        """The asynchronous client, or ``None`` when the tool has only a sync one."""

    def _validated(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        schema = self.args_schema
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_validate(kwargs).model_dump()
        return kwargs

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, Any]:
        client = self._sync_client()
        if client is None:
            raise ToolException(
                f"{self.name} was built with an async client only: call it with ainvoke."
            )
        return drive_sync(self._plan(self._validated(kwargs)), client)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, Any]:
        client = self._async_client()
        if client is None:
            raise ToolException(
                f"{self.name} was built with a sync client only: call it with invoke, "
                "or build the toolkit with async_client=."
            )
        return await drive_async(self._plan(self._validated(kwargs)), client)
