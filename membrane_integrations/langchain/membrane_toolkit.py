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

from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, SkipValidation, model_validator

from ..membrane.types import Sensitivity, TrustContext
from ._base import is_async_client
from ._format import DEFAULT_BUDGET
from .membrane_tools import MEMBRANE_CORE_TOOLS, MEMBRANE_REVISION_TOOLS

__all__ = ["MembraneToolkit"]


class MembraneToolkit(BaseToolkit):
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
        is the floor of new records. No tool argument can change them.
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

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: SkipValidation[Any] = Field(default=None, exclude=True)
    async_client: SkipValidation[Any] = Field(default=None, exclude=True)
    trust: SkipValidation[TrustContext] = Field(default_factory=TrustContext)
    actor: str = Field(min_length=1)
    scope: str = ""
    source: str = "langchain"
    sensitivity: Sensitivity = Sensitivity.LOW
    include_revision_tools: bool = False
    include_redacted: bool = False
    max_chars: int = Field(default=DEFAULT_BUDGET, ge=200)

    @model_validator(mode="after")
    def _check(self) -> MembraneToolkit:
        if self.client is not None and is_async_client(self.client):
            if self.async_client is None:
                self.async_client = self.client
            self.client = None
        if self.client is None and self.async_client is None:
            raise ValueError("give client= (MembraneClient) and/or async_client=")
        return self

    def get_tools(self) -> list[BaseTool]:
        """The core tools, then the revision tools when enabled."""
        classes = list(MEMBRANE_CORE_TOOLS)
        if self.include_revision_tools:
            classes.extend(MEMBRANE_REVISION_TOOLS)
        common: dict[str, Any] = {
            "client": self.client,
            "async_client": self.async_client,
            "trust": self.trust,
            "actor": self.actor,
            "scope": self.scope,
            "source": self.source,
            "sensitivity": self.sensitivity,
            "include_redacted": self.include_redacted,
            "max_chars": self.max_chars,
        }
        return [cls(**common) for cls in classes]
