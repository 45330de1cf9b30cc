"""``MembraneToolkit``: the Membrane tools for one agent identity (needs the ``membrane`` extra).

Example:
    >>> from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext
    >>> client = MembraneClient("127.0.0.1:9")  # no connection is made until a call
    >>> kit = MembraneToolkit(client=client, actor="agent-1", scope="project-x",
    ...                       trust=TrustContext(max_sensitivity=Sensitivity.MEDIUM))
    >>> [t.name for t in kit.get_tools()][:2]
    ['membrane_retrieve', 'membrane_ingest_event']
    >>> client.close()
"""

from __future__ import annotations

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict

from ..tools.prompts import membrane_system_prompt
from ._clients import WithClients
from .membrane_tools import MEMBRANE_CORE_TOOLS, MEMBRANE_REVISION_TOOLS, MembraneIdentity

__all__ = ["MembraneToolkit"]


class MembraneToolkit(WithClients, MembraneIdentity, BaseToolkit):
    """The Membrane tools with a trust context, actor and scope set by the application.

    Setup:
        ``pip install membrane-integrations[langchain,membrane]`` and a running membraned
        (default ``localhost:9090``).

    Instantiate:
        ``MembraneToolkit(client=MembraneClient("localhost:9090"), async_client=
        AsyncMembraneClient("localhost:9090"), trust=TrustContext(max_sensitivity=
        Sensitivity.MEDIUM, authenticated=True), actor="agent-1", scope="project-x")``.
        ``trust`` bounds every read; ``actor`` is recorded on every revision; ``scope`` is
        stamped on every new record and reads keep only records of that scope; ``sensitivity``
        is the floor of new records. No tool argument can change them (these settings are one
        model, :class:`~membrane_integrations.langchain.membrane_tools.MembraneIdentity`, that
        every tool shares). Either client is enough: the other flavour is derived from it on
        first use (the async one inside the running event loop) and closed by
        ``toolkit.close()`` / ``await toolkit.aclose()`` or on garbage collection.
        ``include_revision_tools`` adds supersede, retract and contest.

    Invoke:
        >>> from membrane_integrations.membrane import MembraneClient, TrustContext
        >>> kit = MembraneToolkit(client=MembraneClient("127.0.0.1:9"), actor="a",
        ...                       include_revision_tools=True)
        >>> len(kit.get_tools()), kit.get_tools()[-1].name
        (11, 'membrane_contest')

        Each tool is then called by the agent, e.g. ``tools[0].invoke({"task_descriptor":
        "fix the login bug"})`` returns the relevant records as text.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    _client_names = "client= (MembraneClient) and/or async_client="

    include_revision_tools: bool = False

    def system_prompt(self) -> str:
        """A system prompt for an agent with these tools, in the spirit of the Membrain guide's.

        It names the revision tools only when this toolkit hands them out.

        >>> from membrane_integrations.membrane import MembraneClient
        >>> kit = MembraneToolkit(client=MembraneClient("127.0.0.1:9"), actor="a")
        >>> "membrane_retrieve" in kit.system_prompt(), "supersede" in kit.system_prompt()
        (True, False)
        """
        return membrane_system_prompt(revisions=self.include_revision_tools)

    def get_tools(self) -> list[BaseTool]:
        """The core tools, then the revision tools when enabled."""
        classes = list(MEMBRANE_CORE_TOOLS)
        if self.include_revision_tools:
            classes.extend(MEMBRANE_REVISION_TOOLS)
        tools: list[BaseTool] = []
        for cls in classes:
            tool = cls(client=self.client, async_client=self.async_client, **self.identity())
            self._share_clients(tool)
            tools.append(tool)
        return tools
