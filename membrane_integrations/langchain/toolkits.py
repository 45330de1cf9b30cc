"""Toolkits: the set of memory tools an application hands to an agent, wired to one tenant.

Example:
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     toolkit = MembrainToolkit(client=client, container="doc-eve")
    ...     print([tool.name for tool in toolkit.get_tools()][:3])
    ['membrain_search', 'membrain_get', 'membrain_stats']
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, SkipValidation, model_validator

from ..membrain.tenancy import Tenancy
from ._base import is_async_client
from ._format import DEFAULT_BUDGET
from .membrain_tools import (
    MEMBRAIN_GRAPH_TOOLS,
    MEMBRAIN_READ_TOOLS,
    MEMBRAIN_WRITE_TOOLS,
    MembrainAddTool,
)

__all__ = ["MembrainToolkit"]


class MembrainToolkit(BaseToolkit):
    """The Membrain tools for one container (user, session or bot).

    Setup:
        ``pip install membrane-integrations[langchain]``; a Membrain URL and API key in the
        environment (``MEMBRAIN_API_KEY``), or the bundled emulator.

    Instantiate:
        ``MembrainToolkit(client=MembrainClient(), async_client=AsyncMembrainClient(),
        container="user-42")``. ``container`` is stored as the token ``container.user-42`` on
        every add and enforced as the first, anchored filter (``^container\\.user-42$``) on every
        search, count and bulk delete; get, update, delete and unlink first check the memory
        carries it. Scope patterns from the model are ANDed after it. ``include_write_tools``
        (default on) adds add/update/delete/unlink; ``include_graph_tools`` adds the graph tools.

    Invoke:
        >>> from membrane_integrations.emulator import MembrainEmulator
        >>> with MembrainEmulator() as emu, emu.client() as client:
        ...     tools = {t.name: t for t in MembrainToolkit(client=client, container="doc-fay",
        ...                                                  include_graph_tools=True).get_tools()}
        ...     print(tools["membrain_add"].invoke({"content": "User drives an EV"})[:17])
        ...     print(tools["membrain_stats"].invoke({}))
        Stored new memory
        1 memory.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: SkipValidation[Any] = Field(default=None, exclude=True)
    async_client: SkipValidation[Any] = Field(default=None, exclude=True)
    container: str | None = None
    include_graph_tools: bool = False
    include_write_tools: bool = True
    max_chars: int = Field(default=DEFAULT_BUDGET, ge=200)
    wait_timeout: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> MembrainToolkit:
        if self.client is not None and is_async_client(self.client):
            if self.async_client is None:
                self.async_client = self.client
            self.client = None
        if self.client is None and self.async_client is None:
            raise ValueError("give client= (MembrainClient) and/or async_client=")
        Tenancy(self.container)
        return self

    def get_tools(self) -> list[BaseTool]:
        """The tools, read tools first, each bound to this toolkit's clients and container."""
        classes = list(MEMBRAIN_READ_TOOLS)
        if self.include_write_tools:
            classes.extend(MEMBRAIN_WRITE_TOOLS)
        if self.include_graph_tools:
            classes.extend(MEMBRAIN_GRAPH_TOOLS)
        common: dict[str, Any] = {
            "client": self.client,
            "async_client": self.async_client,
            "container": self.container,
            "max_chars": self.max_chars,
        }
        tools: list[BaseTool] = []
        for cls in classes:
            extra = {"wait_timeout": self.wait_timeout} if cls is MembrainAddTool else {}
            tools.append(cls(**common, **extra))
        return tools
