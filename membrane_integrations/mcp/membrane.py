"""The Membrane MCP server: the toolkit's tools for one scope and trust context, prompt, stats.

Example:
    >>> from membrane_integrations.membrane import AsyncMembraneClient, Sensitivity, TrustContext
    >>> from membrane_integrations.tools.membrane import MembraneIdentity
    >>> identity = MembraneIdentity(actor="mcp", scope="project-x", source="mcp",
    ...                             trust=TrustContext(max_sensitivity=Sensitivity.MEDIUM))
    >>> server = membrane_server(object(), identity, revisions=True)
    >>> len(server.specs), list(server.prompts), list(server.resources)
    (11, ['membrane_system_prompt'], ['membrane://stats'])
"""

from __future__ import annotations

from typing import Any

from ..core.plan import drive_async
from ..tools.membrane import MembraneIdentity, membrane_specs, stats_plan
from ..tools.prompts import membrane_system_prompt
from .server import MemoryServer, StaticPrompt, TextResource

__all__ = ["PROMPT_NAME", "STATS_URI", "membrane_server"]

PROMPT_NAME = "membrane_system_prompt"
STATS_URI = "membrane://stats"


def membrane_server(
    client: Any, identity: MembraneIdentity, *, revisions: bool = False
) -> MemoryServer[MembraneIdentity]:
    """The Membrane tools over MCP, with the identity the operator fixed.

    Args:
        client: an ``AsyncMembraneClient``.
        identity: the trust context (ceiling, scopes), actor, scope stamped on new records,
            source and sensitivity floor (:class:`~membrane_integrations.tools.membrane.
            MembraneIdentity`); no tool argument changes any of it.
        revisions: serve supersede, retract and contest.
    """

    async def stats() -> str:
        text: str = await drive_async(stats_plan(identity), client)
        return text

    prompt = membrane_system_prompt(revisions=revisions)
    return MemoryServer(
        "membrane",
        membrane_specs(revisions=revisions),
        identity,
        client,
        prompts=[
            StaticPrompt(
                PROMPT_NAME,
                "A system prompt for an agent with these tools, in the spirit of the guide's.",
                prompt,
            )
        ],
        resources=[
            TextResource(
                STATS_URI,
                "scope stats",
                "How many records this server's scope holds, by memory type.",
                stats,
            )
        ],
        instructions=prompt,
    )
