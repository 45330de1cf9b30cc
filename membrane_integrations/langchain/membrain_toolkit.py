"""``MembrainToolkit``: the Membrain tools an application hands to an agent, for one container.

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
from pydantic import ConfigDict, Field, model_validator

from ..membrain.tenancy import Tenancy
from ..tools._budget import DEFAULT_BUDGET
from ..tools.prompts import membrain_system_prompt
from ._clients import WithClients
from .membrain_tools import (
    MEMBRAIN_GRAPH_TOOLS,
    MEMBRAIN_READ_TOOLS,
    MEMBRAIN_WRITE_TOOLS,
    MembrainAddTool,
)

__all__ = ["MembrainToolkit"]


class MembrainToolkit(WithClients, BaseToolkit):
    """The Membrain tools for one container (user, session or bot).

    Setup:
        ``pip install membrane-integrations[langchain]``; a Membrain URL and API key in the
        environment (``MEMBRAIN_API_KEY``), or the bundled emulator.

    Instantiate:
        ``MembrainToolkit(client=MembrainClient(), container="user-42")``. Either client is
        enough: tools built from a sync client also work under ``ainvoke`` / ``abatch`` (an
        ``AsyncMembrainClient`` with the same settings is derived on first use, one per event
        loop, and closed by ``toolkit.close()`` / ``await toolkit.aclose()`` or when the
        toolkit and its tools are garbage-collected), and the other way round.
        ``container`` is stored as the token ``container.user-42`` on
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

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    _client_names = "client= (MembrainClient) and/or async_client="

    container: str | None = None
    include_graph_tools: bool = False
    include_write_tools: bool = True
    max_chars: int = Field(default=DEFAULT_BUDGET, ge=200)
    wait_timeout: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> MembrainToolkit:
        Tenancy(self.container)
        return self

    def system_prompt(self) -> str:
        """The Membrain guide's system prompt (§8.1) for an agent with these tools.

        Pass it as ``create_agent(model, toolkit.get_tools(), system_prompt=...)``; it names
        only the tools this toolkit hands out (write and graph tools when enabled).

        >>> from membrane_integrations.membrain import MembrainClient
        >>> kit = MembrainToolkit(client=MembrainClient("k", base_url="http://127.0.0.1:9"))
        >>> print(kit.system_prompt().splitlines()[2][:40])
        1. Search before answering questions tha
        >>> "membrain_add" in kit.system_prompt(), kit.close()
        (True, None)
        """
        return membrain_system_prompt(
            write=self.include_write_tools, graph=self.include_graph_tools
        )

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
            tool = cls(**common, **extra)
            self._share_clients(tool)
            tools.append(tool)
        return tools
