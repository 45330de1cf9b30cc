"""What both memory middlewares share: identity per run, transient recall, background capture.

A subclass implements three backend calls (``_recall``/``_arecall``: texts of the container's
memories relevant to a query, best first; ``_write``: store one note under its key, unless it is
already there, before a deadline). This base turns the latest human message into the query and
hands the model ONE fenced recalled-context block on each model call (``wrap_model_call``), so
the persisted thread holds only the conversation. After the run it turns the turn into notes
(statements by default, or an ``extractor``) and hands them to a
:class:`~membrane_integrations.core.background.BackgroundWriter`, so the reply never waits for
a write; a ledger in the agent state keeps a resumed or replayed run from storing anything twice.

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
import functools
import hashlib
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar

from .._extras import MissingExtraError, requires_extra

try:
    with requires_extra("langchain-agents"):
        from langchain.agents.middleware import (
            AgentMiddleware,
            AgentState,
            ModelCallResult,
            ModelRequest,
            ModelResponse,
        )
except MissingExtraError:
    raise
except ImportError as exc:  # pragma: no cover - an old langchain without agent middleware
    raise ImportError(
        "the memory middlewares need LangChain 1.x agents: "
        "pip install 'membrane-integrations[langchain-agents]' (or 'langchain>=1.0')"
    ) from exc
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langgraph.runtime import Runtime
from typing_extensions import NotRequired

from ..core.background import BackgroundWriter, Unwritten
from ..core.context_text import FOOTER, render_numbered
from ..core.errors import InvalidRequestError, redact
from ..core.notes import Extractor, Note, Turn, extracted_notes, note_key, statements
from ..core.ttl import Expiry, check_ttl, system_clock
from ._clients import ClientPair
from .extractor import ChatModelExtractor, as_extractor

__all__ = [
    "RECALL_ID",
    "RECALL_MARK",
    "CapturePolicy",
    "ChatModelExtractor",
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
RECALL_CACHE = 256  # recalls kept per middleware so a tool loop does not search again
# Sync recalls run on daemon threads, at most this many per middleware at once: a hung backend
# whose client has no timeout of its own (Membrane's default) can neither hold a reply, nor hold
# the interpreter at exit, nor starve another middleware's recalls.
RECALL_THREADS = 4

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
        extractor: Extractor | Any | None = None,
        write_timeout: float = 10.0,
        flush_timeout: float = 30.0,
        max_pending: int = 1000,
        note_ttl: float | None = None,
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
        self.extractor: Extractor | None = as_extractor(extractor)
        self.note_ttl = None if note_ttl is None else check_ttl(note_ttl, field="note_ttl")
        self._secret = secret
        self.writer = BackgroundWriter(
            name=f"{type(self).__name__}-writer",
            write_timeout=write_timeout,
            flush_timeout=flush_timeout,
            max_pending=max_pending,
            describe=self._detail,
        )
        self._recalled: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._recalled_lock = threading.Lock()
        self._recall_slots = threading.BoundedSemaphore(RECALL_THREADS)
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
    def _write(
        self,
        identity: I,
        role: str,
        note: Note,
        key: str,
        deadline: float,
        expiry: Expiry | None = None,
    ) -> None:
        """Store one note (on the writer's thread, sync client) before ``deadline`` (a
        ``time.monotonic()`` instant), unless the server already holds ``key``; ``expiry``
        gives it a TTL."""

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

    # -- recall (transient: the model sees it, the thread does not keep it) --------------------

    def _detail(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return redact(text, self._secret)

    def _plan(self, request: ModelRequest[Any]) -> tuple[I, str, str, tuple[str, str]] | None:
        container = self.resolve_container(request.runtime)
        identity = self._identity(container)
        messages = request.messages
        human = latest_human(messages)
        if human is None or not _text(human):
            return None
        # a message id names the human message; without one, its text and place do
        anchor = human.id or f"{messages.index(human)}:{_text(human)}"
        return identity, container, _text(human), (container, anchor)

    def _cached(self, slot: tuple[str, str]) -> list[str] | None:
        with self._recalled_lock:
            return self._recalled.get(slot)

    def _remember(self, slot: tuple[str, str], texts: list[str] | None) -> list[str] | None:
        if texts is not None:
            with self._recalled_lock:
                self._recalled[slot] = texts
                self._recalled.move_to_end(slot)
                while len(self._recalled) > RECALL_CACHE:
                    self._recalled.popitem(last=False)
        return texts

    def _fenced(self, texts: list[str]) -> str | None:
        room = self.max_context_chars - len(OPEN_FENCE) - len(CLOSE_FENCE) - 2
        body, _ = render_numbered(texts, budget=room, header=self.context_header, footer=FOOTER)
        return None if body is None else f"{OPEN_FENCE}\n{body}\n{CLOSE_FENCE}"

    def _with_recall(
        self, request: ModelRequest[Any], texts: list[str] | None
    ) -> ModelRequest[Any]:
        """The request the model sees: one fenced block added (or none); the state untouched."""
        # a thread persisted by an older version may still hold a recalled message: not twice
        messages = [m for m in request.messages if m.id != self.recall_id]
        body = self._fenced(texts) if texts else None
        if body is None:
            return (
                request
                if len(messages) == len(request.messages)
                else request.override(messages=messages)
            )
        kwargs = {RECALL_MARK: True}
        if self.placement == "system":
            # one system message: the agent's prompt, then the block
            system = request.system_message
            text = f"{system.text}\n\n{body}" if system is not None and system.text else body
            merged = SystemMessage(text, id=self.recall_id, additional_kwargs=kwargs)
            return request.override(messages=messages, system_message=merged)
        recalled = HumanMessage(body, id=self.recall_id, additional_kwargs=kwargs)
        index = 0
        if self.placement == "before_human":
            index = max(
                (
                    i
                    for i, m in enumerate(messages)
                    if isinstance(m, HumanMessage) and not is_recalled(m)
                ),
                default=0,
            )
        return request.override(messages=[*messages[:index], recalled, *messages[index:]])

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

    def _recall_now(self, request: ModelRequest[Any]) -> list[str] | None:
        plan = self._plan(request)
        if plan is None:
            return None
        identity, container, query, slot = plan
        cached = self._cached(slot)
        if cached is not None:
            return cached  # a tool loop of the same turn: no second search
        future = self._start_recall(identity, query)
        if future is None:
            logger.warning(
                "%s recall for container %r skipped: %d earlier recalls are still waiting for "
                "the backend; the run goes on without it",
                type(self).__name__,
                container,
                RECALL_THREADS,
            )
            return None
        try:
            return self._remember(slot, future.result(timeout=self.recall_timeout))
        except concurrent.futures.TimeoutError:
            self._recall_failed(container, None)
        except Exception as exc:
            self._recall_failed(container, exc)
        return None

    def _start_recall(self, identity: I, query: str) -> concurrent.futures.Future[list[str]] | None:
        """Run the sync recall on a daemon thread; ``None`` when all recall slots are busy."""
        if not self._recall_slots.acquire(blocking=False):
            return None
        future: concurrent.futures.Future[list[str]] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(self._recall(identity, query))
            except BaseException as exc:
                future.set_exception(exc)
            finally:
                self._recall_slots.release()

        threading.Thread(target=run, name=f"{self.name}-recall", daemon=True).start()
        return future

    async def _arecall_now(self, request: ModelRequest[Any]) -> list[str] | None:
        plan = self._plan(request)
        if plan is None:
            return None
        identity, container, query, slot = plan
        cached = self._cached(slot)
        if cached is not None:
            return cached
        try:
            texts = await asyncio.wait_for(
                self._arecall(identity, query), timeout=self.recall_timeout
            )
        except asyncio.TimeoutError:
            self._recall_failed(container, None)
        except Exception as exc:
            self._recall_failed(container, exc)
        else:
            return self._remember(slot, texts)
        return None

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelCallResult[Any]:
        """Call the model with one fenced block of memories for the latest human message.

        The block is part of this model request only; the agent state (and so a checkpointer)
        never holds it. A failed or slow (``recall_timeout``) recall is logged and the model
        is called without it.
        """
        return handler(self._with_recall(request, self._recall_now(request)))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelCallResult[Any]:
        """Async :meth:`wrap_model_call`."""
        return await handler(self._with_recall(request, await self._arecall_now(request)))

    # -- capture (off the reply path) ---------------------------------------------------------

    @property
    def recall_id(self) -> str:
        """The id of this middleware's recalled-context block in a model request."""
        return f"{RECALL_ID}.{self.name}"

    def _entry(self, key: str) -> str:
        return f"{self.name}:{key}"

    def _turn_key(self, container: str, todo: list[tuple[BaseMessage, str]]) -> str:
        data = json.dumps([container, "turn", [key for _, key in todo]])
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]

    def _recalled_for(self, container: str, messages: Sequence[BaseMessage]) -> tuple[str, ...]:
        human = latest_human(messages)
        if human is None:
            return ()
        anchor = human.id or f"{list(messages).index(human)}:{_text(human)}"
        return tuple(self._cached((container, anchor)) or ())

    def _enqueue(self, state: MemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Turn the turn into notes and queue their writes; never waits for the backend."""
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
        identity = self._identity(container)
        # the TTL counts from the turn, not from when the writer gets to it
        expiry = None if self.note_ttl is None else Expiry.start(system_clock(), self.note_ttl)
        if self.extractor is None:
            for message, key in todo:
                text = statements(_text(message))
                note = Note(text) if text is not None else None
                if note is None or self.writer.submit(
                    container,
                    key,
                    functools.partial(
                        self._write, identity, role_of(message), note, key, expiry=expiry
                    ),
                ):
                    ledger.append(self._entry(key))
        else:
            turn = Turn(
                messages=tuple((role_of(m), _text(m)) for m, _ in todo),
                recalled=self._recalled_for(container, state["messages"]),
            )
            turn_key = self._turn_key(container, todo)
            write = functools.partial(
                self._extract_and_write, identity, turn, turn_key, expiry=expiry
            )
            if self.writer.submit(container, turn_key, write):
                ledger.extend(self._entry(key) for _, key in todo)
        return {"memory_captured": ledger[-LEDGER_SIZE:]}

    def _extract_and_write(
        self, identity: I, turn: Turn, turn_key: str, deadline: float, expiry: Expiry | None
    ) -> None:
        assert self.extractor is not None
        notes = extracted_notes(
            self.extractor, turn, owner=type(self).__name__, detail=self._detail
        )
        for note in notes:
            self._write(identity, "note", note, note_key(turn_key, note), deadline, expiry)

    def after_agent(self, state: MemoryState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Queue the turn's notes for the background writer (the reply does not wait)."""
        return self._enqueue(state, runtime)

    async def aafter_agent(
        self, state: MemoryState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async :meth:`after_agent` (queueing never blocks the loop)."""
        return self._enqueue(state, runtime)

    # -- flushing and closing -----------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> list[Unwritten]:
        """Wait (at most ``timeout``, default ``flush_timeout``) for the queued writes; return
        (and log) the ones that could not be written, each with its container and key."""
        return self.writer.flush(timeout)

    async def aflush(self, timeout: float | None = None) -> list[Unwritten]:
        """Async :meth:`flush`."""
        return await self.writer.aflush(timeout)

    def close(self) -> list[Unwritten]:
        """Flush the writer (within ``flush_timeout``), then close the clients this
        middleware derived (never the ones it was given). Returns what was not written."""
        unwritten = self.writer.close()
        self.clients.close()
        return unwritten

    async def aclose(self) -> list[Unwritten]:
        """Like :meth:`close`, awaiting the derived async client of the running loop."""
        unwritten = await self.writer.aclose()
        await self.clients.aclose()
        return unwritten

    def __enter__(self) -> MemoryMiddlewareBase[I]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MemoryMiddlewareBase[I]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(container={self.container!r}, "
            f"context_key={self.context_key!r}, capture={self.capture!r})"
        )
