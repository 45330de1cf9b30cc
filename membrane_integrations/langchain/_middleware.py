"""What both memory middlewares share: identity per run, fenced recall, capture once, failures.

A subclass implements the four backend calls (``_recall``/``_arecall``: texts of the
container's memories relevant to a query, best first; ``_capture``/``_acapture``: store one
message text under its key unless it is already there). This base turns the latest human
message into the query, keeps ONE fenced recalled-context message in the state (stable id,
replaced on each new human message), and stores the turn under the capture policy with a
ledger in the agent state, so a resumed or replayed run stores nothing twice.

Example:
    >>> from langchain_core.messages import AIMessage, HumanMessage
    >>> msgs = [HumanMessage("I am vegan", id="h1"), AIMessage("Noted.", id="a1")]
    >>> latest_human(msgs).id
    'h1'
    >>> [m.id for m in turn_messages(msgs, "user_and_assistant")]
    ['h1', 'a1']
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar

from .._extras import MissingExtraError, requires_extra

try:
    with requires_extra("langchain-agents"):
        from langchain.agents.middleware import AgentMiddleware, AgentState
except MissingExtraError:
    raise
except ImportError as exc:  # pragma: no cover - an old langchain without agent middleware
    raise ImportError(
        "the memory middlewares need LangChain 1.x agents: "
        "pip install 'membrane-integrations[langchain-agents]' (or 'langchain>=1.0')"
    ) from exc
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.runtime import Runtime
from typing_extensions import NotRequired

from ..core.context_text import FOOTER, render_numbered
from ..core.errors import InvalidRequestError, redact
from ._clients import ClientPair

__all__ = [
    "RECALL_ID",
    "RECALL_MARK",
    "CapturePolicy",
    "MemoryMiddlewareBase",
    "MemoryState",
    "Placement",
    "capture_key",
    "is_recalled",
    "latest_human",
    "turn_messages",
]

logger = logging.getLogger("membrane_integrations.langchain.middleware")

CapturePolicy = Literal["off", "user", "user_and_assistant"]
Placement = Literal["before_human", "first", "system"]
# The recalled-context message: its id in the state (this prefix, then the middleware's name)
# and the mark in its additional_kwargs.
RECALL_ID = "membrane-integrations-recall"
RECALL_MARK = "membrane_integrations_recalled"
OPEN_FENCE = "<recalled_memories>"
CLOSE_FENCE = "</recalled_memories>"
LEDGER_SIZE = 1000
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="memory-recall")

I = TypeVar("I")  # noqa: E741


class MemoryState(AgentState[Any]):
    """The agent state plus the middleware's ledger of captured message keys."""

    memory_captured: NotRequired[list[str]]


def is_recalled(message: BaseMessage) -> bool:
    """True for the recalled-context message a memory middleware added."""
    return (message.id or "").startswith(RECALL_ID) or bool(
        message.additional_kwargs.get(RECALL_MARK)
    )


def _text(message: BaseMessage) -> str:
    return message.text.strip()


def latest_human(messages: Sequence[BaseMessage]) -> HumanMessage | None:
    """The last human message that is not recalled context, or ``None``."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage) and not is_recalled(message):
            return message
    return None


def turn_messages(messages: Sequence[BaseMessage], policy: CapturePolicy) -> list[BaseMessage]:
    """The messages of the latest turn the policy stores, in order; never recalled context.

    A turn starts at the run of human messages before the latest model reply chain; AI
    messages count only when they carry text and no tool call (the answer, not a tool step).
    """
    if policy == "off":
        return []
    start = None
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, HumanMessage) and not is_recalled(message):
            start = index
        elif start is not None and not is_recalled(message):
            break
    if start is None:
        return []
    chosen: list[BaseMessage] = []
    for message in messages[start:]:
        if is_recalled(message) or not _text(message):
            continue
        if isinstance(message, HumanMessage) or (
            policy == "user_and_assistant"
            and isinstance(message, AIMessage)
            and not message.tool_calls
        ):
            chosen.append(message)
    return chosen


def role_of(message: BaseMessage) -> str:
    """``user`` or ``assistant``."""
    return "user" if isinstance(message, HumanMessage) else "assistant"


def capture_key(container: str, message: BaseMessage) -> str:
    """32 hex digits naming one message in one container (from its id, else its text)."""
    ident = message.id or _text(message)
    data = json.dumps([container, role_of(message), ident], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def _from_context(context: Any, key: str) -> Any:
    if context is None:
        return None
    if isinstance(context, Mapping):
        return context.get(key)
    return getattr(context, key, None)


class MemoryMiddlewareBase(AgentMiddleware[MemoryState, Any, Any], ABC, Generic[I]):
    """Shared behaviour of :class:`MembrainMemoryMiddleware` and :class:`MembraneMemoryMiddleware`.

    Not for direct use; see the two subclasses.
    """

    state_schema = MemoryState
    _backend: ClassVar[str] = "memory"

    def __init__(
        self,
        *,
        clients: ClientPair,
        container: str | None,
        context_key: str,
        k: int,
        max_context_chars: int,
        context_header: str,
        placement: Placement,
        capture: CapturePolicy,
        recall_timeout: float,
        secret: str | None = None,
    ) -> None:
        super().__init__()
        if k < 1:
            raise InvalidRequestError("k must be at least 1", field="k")
        frame = len(OPEN_FENCE) + len(CLOSE_FENCE) + len(context_header) + len(FOOTER) + 4
        if max_context_chars < frame + 20:
            raise InvalidRequestError(
                f"max_context_chars must be at least {frame + 20} (the fence, header and footer "
                f"take {frame}) so that a memory fits",
                field="max_context_chars",
            )
        if recall_timeout <= 0:
            raise InvalidRequestError("recall_timeout must be positive", field="recall_timeout")
        if placement not in ("before_human", "first", "system"):
            raise InvalidRequestError(f"unknown placement {placement!r}", field="placement")
        if capture not in ("off", "user", "user_and_assistant"):
            raise InvalidRequestError(f"unknown capture policy {capture!r}", field="capture")
        if not context_key:
            raise InvalidRequestError("context_key must not be empty", field="context_key")
        self.clients = clients
        self.container = container
        self.context_key = context_key
        self.k = k
        self.max_context_chars = max_context_chars
        self.context_header = context_header
        self.placement: Placement = placement
        self.capture: CapturePolicy = capture
        self.recall_timeout = recall_timeout
        self._secret = secret
        if container is not None:
            self._identity(container)  # a bad fixed container fails at construction

    # -- what a subclass provides -------------------------------------------------------------

    @abstractmethod
    def _identity(self, container: str) -> I:
        """The tenancy object of ``container`` (validates it)."""

    @abstractmethod
    def _recall(self, identity: I, query: str) -> list[str]:
        """Texts of the container's memories relevant to ``query``, best first (sync)."""

    @abstractmethod
    async def _arecall(self, identity: I, query: str) -> list[str]:
        """Like :meth:`_recall`, async."""

    @abstractmethod
    def _capture(self, identity: I, role: str, text: str, key: str) -> None:
        """Store one message (sync), unless the server already holds ``key``."""

    @abstractmethod
    async def _acapture(self, identity: I, role: str, text: str, key: str) -> None:
        """Like :meth:`_capture`, async."""

    # -- identity -----------------------------------------------------------------------------

    def resolve_container(self, runtime: Runtime[Any] | None) -> str:
        """The run's container: the fixed one, else ``runtime.context[context_key]``.

        Raises :class:`~membrane_integrations.core.errors.InvalidRequestError` when a
        multi-tenant middleware (no fixed container) runs without one in its context.
        """
        if self.container is not None:
            return self.container
        value = _from_context(getattr(runtime, "context", None), self.context_key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidRequestError(
                f"{type(self).__name__} has no container for this run: pass "
                f"context={{{self.context_key!r}: ...}} to invoke (or a fixed container=)",
                field="container",
            )
        if not isinstance(value, str):
            raise InvalidRequestError(
                f"context[{self.context_key!r}] must be a string", field="container"
            )
        return value

    # -- recall -------------------------------------------------------------------------------

    def _detail(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return redact(text, self._secret)

    def _plan(self, state: MemoryState, runtime: Runtime[Any]) -> tuple[I, str, str] | None:
        container = self.resolve_container(runtime)
        identity = self._identity(container)
        human = latest_human(state["messages"])
        if human is None or not _text(human):
            return None
        anchor = human.id or _text(human)
        for message in state["messages"]:
            if (
                message.id == self.recall_id
                and message.additional_kwargs.get(RECALL_MARK) == anchor
            ):
                return None  # already recalled for this human message (a tool loop)
        return identity, _text(human), anchor

    def _fenced(self, texts: list[str]) -> str | None:
        room = self.max_context_chars - len(OPEN_FENCE) - len(CLOSE_FENCE) - 2
        body, _ = render_numbered(texts, budget=room, header=self.context_header, footer=FOOTER)
        return None if body is None else f"{OPEN_FENCE}\n{body}\n{CLOSE_FENCE}"

    def _update(self, state: MemoryState, texts: list[str] | None, anchor: str) -> dict[str, Any]:
        """The state update that leaves exactly one recalled-context message (or none)."""
        messages: list[AnyMessage] = [m for m in state["messages"] if m.id != self.recall_id]
        body = self._fenced(texts) if texts else None
        had = len(messages) != len(state["messages"])
        if body is None:
            return {"messages": [RemoveMessage(id=self.recall_id)]} if had else {}
        kwargs = {RECALL_MARK: anchor}
        recalled: AnyMessage = (
            SystemMessage(body, id=self.recall_id, additional_kwargs=kwargs)
            if self.placement == "system"
            else HumanMessage(body, id=self.recall_id, additional_kwargs=kwargs)
        )
        if self.placement == "before_human":
            index = max(
                (
                    i
                    for i, m in enumerate(messages)
                    if isinstance(m, HumanMessage) and not is_recalled(m)
                ),
                default=0,
            )
        else:
            index = 1 if messages and isinstance(messages[0], SystemMessage) else 0
        messages.insert(index, recalled)
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *messages]}

    def _recall_failed(self, container: str, exc: BaseException | None) -> None:
        if exc is None:
            logger.warning(
                "%s recall for container %r took longer than %ss; the run goes on without it",
                type(self).__name__,
                container,
                self.recall_timeout,
            )
        else:
            logger.warning(
                "%s recall for container %r failed; the run goes on without it: %s",
                type(self).__name__,
                container,
                self._detail(exc),
            )

    def before_model(self, state: MemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Recall for the latest human message and keep one fenced context message for it."""
        plan = self._plan(state, runtime)
        if plan is None:
            return None
        identity, query, anchor = plan
        container = self.resolve_container(runtime)
        future = _POOL.submit(self._recall, identity, query)
        try:
            texts = future.result(timeout=self.recall_timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            self._recall_failed(container, None)
            texts = None
        except Exception as exc:
            self._recall_failed(container, exc)
            texts = None
        return self._update(state, texts, anchor) or None

    async def abefore_model(
        self, state: MemoryState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async :meth:`before_model`."""
        plan = self._plan(state, runtime)
        if plan is None:
            return None
        identity, query, anchor = plan
        container = self.resolve_container(runtime)
        try:
            texts = await asyncio.wait_for(
                self._arecall(identity, query), timeout=self.recall_timeout
            )
        except asyncio.TimeoutError:
            self._recall_failed(container, None)
            texts = None
        except Exception as exc:
            self._recall_failed(container, exc)
            texts = None
        return self._update(state, texts, anchor) or None

    # -- capture ------------------------------------------------------------------------------

    def _pending(
        self, state: MemoryState, runtime: Runtime[Any]
    ) -> tuple[I, str, list[str], list[tuple[BaseMessage, str]]] | None:
        if self.capture == "off":
            return None
        container = self.resolve_container(runtime)
        ledger = list(state.get("memory_captured") or [])
        # the ledger is shared by every memory middleware of the agent: entries name theirs
        todo = [
            (m, key)
            for m in turn_messages(state["messages"], self.capture)
            if self._entry(key := capture_key(container, m)) not in ledger
        ]
        if not todo:
            return None
        return self._identity(container), container, ledger, todo

    @property
    def recall_id(self) -> str:
        """The id of this middleware's recalled-context message in the state."""
        return f"{RECALL_ID}.{self.name}"

    def _entry(self, key: str) -> str:
        return f"{self.name}:{key}"

    def _capture_failed(self, container: str, exc: BaseException) -> None:
        job = getattr(exc, "job_id", None)
        logger.warning(
            "%s capture for container %r failed%s; the reply is unaffected: %s",
            type(self).__name__,
            container,
            f" (job {job})" if job else "",
            self._detail(exc),
        )

    def after_agent(self, state: MemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Store the turn under the capture policy, each message once per container."""
        pending = self._pending(state, runtime)
        if pending is None:
            return None
        identity, container, ledger, todo = pending
        for message, key in todo:
            try:
                self._capture(identity, role_of(message), _text(message), key)
            except Exception as exc:
                self._capture_failed(container, exc)
                continue
            ledger.append(self._entry(key))
        return {"memory_captured": ledger[-LEDGER_SIZE:]}

    async def aafter_agent(
        self, state: MemoryState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async :meth:`after_agent`."""
        pending = self._pending(state, runtime)
        if pending is None:
            return None
        identity, container, ledger, todo = pending
        for message, key in todo:
            try:
                await self._acapture(identity, role_of(message), _text(message), key)
            except Exception as exc:
                self._capture_failed(container, exc)
                continue
            ledger.append(self._entry(key))
        return {"memory_captured": ledger[-LEDGER_SIZE:]}

    # -- clients ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the clients this middleware derived (never the ones it was given)."""
        self.clients.close()

    async def aclose(self) -> None:
        """Like :meth:`close`, awaiting the derived async client of the running loop."""
        await self.clients.aclose()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(container={self.container!r}, "
            f"context_key={self.context_key!r}, capture={self.capture!r})"
        )
