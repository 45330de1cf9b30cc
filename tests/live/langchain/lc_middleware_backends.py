"""Both backends behind one shape for the middleware tests: build a middleware, read the store.

A :class:`Backend` builds a memory middleware on a real server (the emulator, the real
membraned) and reads back, from the server itself, the texts stored for a container.
:class:`RecordingChatModel` is the package's scripted model that also keeps every request, so
a test reads exactly what reached the model.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import PrivateAttr

from membrane_integrations.langchain._middleware import RECALL_MARK, is_recalled
from membrane_integrations.testing import ScriptedChatModel


class RecordingChatModel(ScriptedChatModel):
    """A :class:`ScriptedChatModel` that records the messages of every call."""

    _requests: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def requests(self) -> list[list[BaseMessage]]:
        return self._requests

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._requests.append(list(messages))
        return super()._generate(messages, stop, run_manager, **kwargs)


def recalled(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The recalled-context messages among ``messages``."""
    return [m for m in messages if is_recalled(m) or RECALL_MARK in m.additional_kwargs]


def unique(prefix: str) -> str:
    """A container id no other test uses (the servers are shared within a module)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Backend:
    """How one backend builds a middleware and lists what a container holds."""

    name: str
    build: Callable[..., Any]
    stored: Callable[[str], list[str]]
    broken: Callable[..., Any]
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


def membrain_backend(emulator: Any) -> Iterator[Backend]:
    """The emulator: a sync client (async agents derive theirs)."""
    from membrane_integrations.langchain import MembrainMemoryMiddleware
    from membrane_integrations.membrain import MembrainClient
    from membrane_integrations.membrain.tenancy import container_filter

    client = emulator.client()
    dead = MembrainClient("k", base_url="http://127.0.0.1:9", max_retries=0, timeout=2.0)

    def build(**kw: Any) -> Any:
        return MembrainMemoryMiddleware(client=client, **kw)

    def broken(**kw: Any) -> Any:
        return MembrainMemoryMiddleware(client=dead, **kw)

    def stored(container: str) -> list[str]:
        page = client.search("*", k=100, scope=[container_filter(container)])
        return [node.content for node in page.nodes]

    backend = Backend("membrain", build, stored, broken, [client.close, dead.close])
    yield backend
    backend.close()


def membrane_backend(addr: str, api_key: str) -> Iterator[Backend]:
    """The real membraned: a sync client (async agents derive theirs)."""
    from membrane_integrations.langchain import MembraneMemoryMiddleware
    from membrane_integrations.membrane import MembraneClient, Sensitivity, TrustContext

    client = MembraneClient(addr, api_key=api_key)
    dead = MembraneClient("127.0.0.1:9", timeout=2.0)

    def build(**kw: Any) -> Any:
        return MembraneMemoryMiddleware(client=client, **kw)

    def broken(**kw: Any) -> Any:
        return MembraneMemoryMiddleware(client=dead, **kw)

    def stored(container: str) -> list[str]:
        trust = TrustContext(max_sensitivity=Sensitivity.HYPER, scopes=[container])
        records = client.retrieve("", trust=trust, limit=1000)
        return [
            str(r.payload.object)  # type: ignore[union-attr]
            for r in records
            if r.scope == container and r.salience > 0
        ]

    backend = Backend("membrane", build, stored, broken, [client.close, dead.close])
    yield backend
    backend.close()
