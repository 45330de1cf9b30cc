"""The Membrain MCP server: the toolkit's tools for one container, its prompt and its stats.

Example:
    >>> from membrane_integrations.membrain import AsyncMembrainClient
    >>> client = AsyncMembrainClient("k", base_url="http://127.0.0.1:9")  # no request yet
    >>> server = membrain_server(client, container="user-42", graph=True)
    >>> list(server.specs)[:2], len(server.specs), list(server.resources)
    (['membrain_search', 'membrain_get'], 11, ['membrain://stats'])
"""

from __future__ import annotations

from typing import Any

from ..core.plan import drive_async
from ..tools._budget import DEFAULT_BUDGET
from ..tools.membrain import DEFAULT_WAIT, STATS, MembrainSettings, membrain_specs
from ..tools.prompts import membrain_system_prompt
from .server import MemoryServer, StaticPrompt, TextResource

__all__ = ["PROMPT_NAME", "STATS_URI", "membrain_server"]

PROMPT_NAME = "membrain_system_prompt"
STATS_URI = "membrain://stats"


def membrain_server(
    client: Any,
    *,
    container: str,
    write: bool = True,
    graph: bool = False,
    max_chars: int = DEFAULT_BUDGET,
    wait_timeout: float = DEFAULT_WAIT,
) -> MemoryServer[MembrainSettings]:
    """The Membrain tools over MCP, confined to ``container`` by the operator.

    Args:
        client: an ``AsyncMembrainClient`` (the server runs in an event loop).
        container: every read and write is confined to ``container.<id>``
            (:class:`~membrane_integrations.membrain.tenancy.Tenancy`); no tool argument
            changes it.
        write: serve add/update/delete/unlink (default on).
        graph: serve the graph tools.
        max_chars: the budget of the text a tool returns.
        wait_timeout: how long ``membrain_add`` waits for its ingest job.
    """
    settings = MembrainSettings(container=container, max_chars=max_chars, wait_timeout=wait_timeout)

    async def stats() -> str:
        text, _ = await drive_async(STATS.plan(settings, STATS.validate({})), client)
        return f"Container {container}: {text}"

    prompt = membrain_system_prompt(write=write, graph=graph)
    return MemoryServer(
        "membrain",
        membrain_specs(write=write, graph=graph),
        settings,
        client,
        prompts=[
            StaticPrompt(
                PROMPT_NAME,
                "The Membrain guide's system prompt (section 8.1) for an agent with these tools.",
                prompt,
            )
        ],
        resources=[
            TextResource(
                STATS_URI,
                "container stats",
                "How many memories this server's container holds.",
                stats,
            )
        ],
        instructions=prompt,
    )
