"""``MemoryServer``: the memory tools, a system prompt and a stats resource over MCP.

The server wraps the framework-neutral tool definitions (:mod:`membrane_integrations.tools`),
the same ones the LangChain toolkits wrap: each is listed with its name, description and the JSON
schema of its pydantic argument model, and a call validates the arguments with that model, runs
the definition's plan on the async client with the settings the operator fixed (container,
trust), and answers its text. A failure is a tool result with ``isError: true`` carrying the text
a LangChain tool raises (:mod:`membrane_integrations.tools.errors`); the server stays up.

Nothing a client sends reaches the settings: the container (and for Membrane the trust context)
is fixed when the server is built, once per process.

Example (in-process, with the SDK's memory transport):
    >>> import anyio
    >>> from mcp.shared.memory import create_connected_server_and_client_session as connect
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> from membrane_integrations.mcp import membrain_server
    >>> async def main(url: str, key: str) -> None:
    ...     from membrane_integrations.membrain import AsyncMembrainClient
    ...     async with AsyncMembrainClient(key, base_url=url) as client:
    ...         server = membrain_server(client, container="doc-mcp")
    ...         async with connect(server.lowlevel) as session:
    ...             added = await session.call_tool("membrain_add", {"content": "User likes tea"})
    ...             print(added.isError, added.content[0].text.split(" ")[0])
    ...             bad = await session.call_tool("membrain_get", {"memory_ids": ["nope"]})
    ...             print(bad.isError, bad.content[0].text[:24])
    >>> with MembrainEmulator() as emu:
    ...     anyio.run(main, emu.url, emu.api_key)
    False Stored
    True Memory error (NotFound):
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mcp import types
from mcp.server.lowlevel import Server
from pydantic import AnyUrl, ValidationError

from ..core.errors import MembraneIntegrationsError, redact
from ..core.plan import drive_async
from ..tools.errors import tool_error_text, validation_message
from ..tools.spec import ToolSpec

__all__ = ["MemoryServer", "StaticPrompt", "TextResource"]

C = TypeVar("C")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaticPrompt:
    """A prompt with no arguments: one user message holding ``text``."""

    name: str
    description: str
    text: str


@dataclass(frozen=True)
class TextResource:
    """A read-only text resource computed on each read (e.g. the container's stats)."""

    uri: str
    name: str
    description: str
    read: Callable[[], Awaitable[str]]


class MemoryServer(Generic[C]):
    """An MCP server for one backend and one container (or trust context).

    Args:
        name: the server name announced to clients.
        specs: the tool definitions to serve, in listing order.
        settings: what the operator fixed, passed to every plan (``MembrainSettings``,
            ``MembraneIdentity``); no tool argument reaches it.
        client: the async adapter client every plan runs on.
        prompts: prompts to offer (the system prompt that names these tools).
        resources: resources to offer (the container's stats).
        instructions: the server's instructions to clients.
    """

    def __init__(
        self,
        name: str,
        specs: Sequence[ToolSpec[C]],
        settings: C,
        client: Any,
        *,
        prompts: Sequence[StaticPrompt] = (),
        resources: Sequence[TextResource] = (),
        instructions: str | None = None,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.settings = settings
        self.client = client
        self.prompts = {prompt.name: prompt for prompt in prompts}
        self.resources = {resource.uri: resource for resource in resources}
        self.lowlevel: Server[Any, Any] = Server(name, instructions=instructions)
        self._tools = [
            types.Tool(name=s.name, description=s.description, inputSchema=s.input_schema())
            for s in specs
        ]
        server = self.lowlevel
        server.list_tools()(self._list_tools)  # type: ignore[no-untyped-call]
        # the arguments are checked by each tool's pydantic model, for its own error text
        server.call_tool(validate_input=False)(self._call_tool)
        server.list_prompts()(self._list_prompts)  # type: ignore[no-untyped-call]
        server.get_prompt()(self._get_prompt)  # type: ignore[no-untyped-call]
        server.list_resources()(self._list_resources)  # type: ignore[no-untyped-call]
        server.read_resource()(self._read_resource)  # type: ignore[no-untyped-call]

    async def _list_tools(self) -> list[types.Tool]:
        return list(self._tools)

    async def call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Run one tool as a client would: its text, or its error text with ``isError``."""
        spec = self.specs.get(name)
        if spec is None:
            known = ", ".join(self.specs)
            return _error(f"Unknown tool {name!r}: call one of {known}.")
        try:
            args = spec.validate(arguments or {})
        except ValidationError as exc:
            return _error(validation_message(exc))
        try:
            text, _ = await drive_async(spec.plan(self.settings, args), self.client)
        except MembraneIntegrationsError as exc:
            return _error(tool_error_text(exc))
        except Exception as exc:  # a bug of ours: say so, keep serving, log the details
            log.exception("tool %s failed", name)
            return _error(
                f"Memory error (Internal): {type(exc).__name__}: {redact(str(exc))[:200]}. "
                "Continue without memory if the problem persists."
            )
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await self.call(name, arguments)

    async def _list_prompts(self) -> list[types.Prompt]:
        return [types.Prompt(name=p.name, description=p.description) for p in self.prompts.values()]

    async def _get_prompt(self, name: str, arguments: dict[str, str] | None) -> Any:
        prompt = self.prompts.get(name)
        if prompt is None:
            raise ValueError(f"Unknown prompt {name!r}: use one of {', '.join(self.prompts)}")
        message = types.PromptMessage(
            role="user", content=types.TextContent(type="text", text=prompt.text)
        )
        return types.GetPromptResult(description=prompt.description, messages=[message])

    async def _list_resources(self) -> list[types.Resource]:
        return [
            types.Resource(
                uri=AnyUrl(r.uri), name=r.name, description=r.description, mimeType="text/plain"
            )
            for r in self.resources.values()
        ]

    async def _read_resource(self, uri: AnyUrl) -> str:
        resource = self.resources.get(str(uri))
        if resource is None:
            raise ValueError(f"Unknown resource {uri}: use one of {', '.join(self.resources)}")
        try:
            return await resource.read()
        except MembraneIntegrationsError as exc:
            raise ValueError(tool_error_text(exc)) from exc


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)
