"""What both context providers share: identity, recall under a timeout, capture once, dumping.

A subclass implements ``_recall`` (one backend query confined to the identity, best first, as
texts) and ``_write`` (store one note in the identity's container before a deadline, on the
background writer's thread). This base turns the run's new user input into the query, renders
the hits as one context message marked as recalled data, and after the run turns the turn into
notes (statements by default, or the ``extractor``'s facts) and queues them on a
:class:`~membrane_integrations.core.background.BackgroundWriter`, so the reply never waits for a
write; a per-session ledger keeps a resumed run from storing anything twice.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from agent_framework import AgentSession, ContextProvider, Message, SessionContext
from agent_framework._serialization import SerializationMixin
from pydantic import ValidationError
from typing_extensions import Self

from ..core.background import BackgroundWriter, Unwritten
from ..core.context_text import FOOTER, render_numbered
from ..core.errors import InvalidRequestError, redact
from ..core.notes import Extractor, Note, Turn, extracted_notes, note_key, statements
from ..core.ttl import Expiry, check_ttl, system_clock
from ._messages import RECALL_MARK, capture_candidates, capture_key, recall_query, role_of
from .config import _ContextConfig
from .identity import MembrainIdentity

if TYPE_CHECKING:
    from agent_framework import SupportsAgentRun

__all__ = ["BackendContextProvider", "logger"]

logger = logging.getLogger("membrane_integrations.agent_framework")

C = TypeVar("C", bound=_ContextConfig)
I = TypeVar("I", bound=MembrainIdentity)  # noqa: E741

# Keys of the provider's slot in session.state.
IDENTITY_KEY = "identity"
LEDGER_KEY = "captured"
LEDGER_SIZE = 1000
RECALL_CACHE = 256  # recalled texts kept per provider between before_run and after_run


class BackendContextProvider(ContextProvider, SerializationMixin, ABC, Generic[C, I]):
    """Shared behaviour of :class:`MembrainContextProvider` and :class:`MembraneContextProvider`."""

    DEFAULT_SOURCE_ID: ClassVar[str] = "memory"
    INJECTABLE: ClassVar[set[str]] = {"client"}
    _config_type: ClassVar[type[_ContextConfig]]
    _identity_type: ClassVar[type[MembrainIdentity]]

    def __init__(
        self,
        config: C | Mapping[str, Any] | None,
        *,
        source_id: str | None,
        extractor: Extractor | Any | None = None,
    ) -> None:
        super().__init__(source_id or self.DEFAULT_SOURCE_ID)
        validated = (
            config
            if isinstance(config, self._config_type)
            else self._config_type.model_validate(dict(config or {}))
        )
        self._config: C = cast(C, validated)
        self._run_identity: ContextVar[I | None] = ContextVar(
            f"{type(self).__name__}.{self.source_id}.identity", default=None
        )
        self.extractor: Extractor | None = _as_extractor(extractor)
        self.writer = BackgroundWriter(
            name=f"{type(self).__name__}-writer",
            write_timeout=self._config.write_timeout,
            flush_timeout=self._config.flush_timeout,
            max_pending=self._config.max_pending,
            describe=self._detail,
        )
        self._recalled: OrderedDict[int, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._sync: Any = None

    # -- what a subclass provides -------------------------------------------------------------

    @abstractmethod
    async def _recall(self, identity: I, query: str) -> list[str]:
        """Texts of the identity's memories relevant to ``query``, best first."""

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
        """Store one note in the identity's container (``key`` names it there) before
        ``deadline`` (a ``time.monotonic()`` instant), with ``expiry`` as its TTL; runs on the
        writer's thread."""

    @abstractmethod
    async def _aclose_client(self) -> None:
        """Close the client if this provider created it."""

    def _sync_client(self) -> Any:
        """The sync twin of the async client, for the writer's thread (made once, owned here)."""
        with self._lock:
            if self._sync is None:
                self._sync = getattr(self, "_client").to_sync()  # noqa: B009 - set by subclasses
            return self._sync

    async def aflush(self, timeout: float | None = None) -> list[Unwritten]:
        """Wait (at most ``timeout``, default ``flush_timeout``) for the queued writes; return
        (and log) the ones that could not be written, each with its container and key."""
        return await self.writer.aflush(timeout)

    def flush(self, timeout: float | None = None) -> list[Unwritten]:
        """:meth:`aflush` for sync code."""
        return self.writer.flush(timeout)

    async def aclose(self) -> list[Unwritten]:
        """Flush the writer (within ``flush_timeout``), then close the clients this provider
        created; returns what could not be written."""
        unwritten = await self.writer.aclose()
        with self._lock:
            sync, self._sync = self._sync, None
        if sync is not None:
            sync.close()
        await self._aclose_client()
        return unwritten

    # -- public surface -----------------------------------------------------------------------

    @property
    def config(self) -> C:
        """This provider's config (the API key inside stays a ``SecretStr``)."""
        return self._config

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(source_id={self.source_id!r}, "
            f"container={self._config.container!r}, capture={self._config.capture!r})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _make_identity(self, identity: I | None, fields: Mapping[str, Any]) -> I:
        if identity is not None and fields:
            raise InvalidRequestError("pass an identity or its fields, not both", field="identity")
        if identity is not None:
            if not isinstance(identity, self._identity_type):
                raise InvalidRequestError(
                    f"identity must be a {self._identity_type.__name__}", field="identity"
                )
            return identity
        try:
            return self._identity_type.model_validate(dict(fields))  # type: ignore[return-value]
        except ValidationError as exc:
            raise InvalidRequestError(f"invalid identity: {exc}", field="identity") from None

    @contextmanager
    def identity(self, identity: I | None = None, **fields: Any) -> Iterator[I]:
        """Set the identity of the runs inside the ``with`` block (this task and its children).

        It wins over the session's and the config's. Keep the whole run, including the
        consumption of a stream, inside the block.
        """
        value = self._make_identity(identity, fields)
        token = self._run_identity.set(value)
        try:
            yield value
        finally:
            self._run_identity.reset(token)

    def bind_session(self, session: AgentSession, identity: I | None = None, **fields: Any) -> I:
        """Set the identity of every run of ``session`` (stored in its state, so it is kept
        when the session is serialised). The application calls this; the model cannot."""
        value = self._make_identity(identity, fields)
        session.state.setdefault(self.source_id, {})[IDENTITY_KEY] = value.model_dump(
            mode="json", exclude_none=True
        )
        return value

    def resolve_identity(self, state: Mapping[str, Any] | None = None) -> I:
        """The identity a run uses: the run's, else the session state's, else the config's."""
        run = self._run_identity.get()
        if run is not None:
            return run
        stored = (state or {}).get(IDENTITY_KEY)
        if stored is not None:
            if not isinstance(stored, Mapping):
                raise InvalidRequestError(
                    "the session's identity is not a mapping; set it with bind_session",
                    field="identity",
                )
            return self._make_identity(None, stored)
        if self._config.container is not None:
            return self._make_identity(None, {"container": self._config.container})
        raise InvalidRequestError(
            f"{type(self).__name__} has no identity for this run: set one with "
            "provider.identity(...), provider.bind_session(session, ...) or the config's "
            "container",
            field="container",
        )

    # -- the hooks ----------------------------------------------------------------------------

    def _detail(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return redact(text, self._config.resolve_api_key())

    async def before_run(
        self,
        *,
        agent: SupportsAgentRun,
        session: AgentSession,
        context: SessionContext,
        state: dict[str, Any],
    ) -> None:
        """Recall for the new user input and add it as one context message (recalled data).

        A recall that fails or takes longer than ``recall_timeout`` is logged as a warning and
        the run goes on without memories. A missing or invalid identity raises.
        """
        # Resolved first: a run without a valid identity fails before the model is called.
        identity = self.resolve_identity(state)
        query = recall_query(context.input_messages)
        if query is None:
            return
        try:
            texts = await asyncio.wait_for(
                self._recall(identity, query), timeout=self._config.recall_timeout
            )
        except asyncio.TimeoutError:
            logger.warning(
                "%s recall for container %r took longer than %ss; the run goes on without memories",
                type(self).__name__,
                identity.container,
                self._config.recall_timeout,
            )
            return
        except Exception as exc:
            logger.warning(
                "%s recall for container %r failed; the run goes on without memories: %s",
                type(self).__name__,
                identity.container,
                self._detail(exc),
            )
            return
        text, _ = render_numbered(
            texts,
            budget=self._config.max_context_chars,
            header=self._config.context_header,
            footer=FOOTER,
        )
        self._remember(context, texts)
        if text is not None:
            message = Message(
                role="user", contents=[text], additional_properties={RECALL_MARK: True}
            )
            context.extend_messages(self, [message])

    def _remember(self, context: SessionContext, texts: list[str]) -> None:
        with self._lock:
            self._recalled[id(context)] = tuple(texts)
            while len(self._recalled) > RECALL_CACHE:
                self._recalled.popitem(last=False)

    def _recalled_for(self, context: SessionContext) -> tuple[str, ...]:
        with self._lock:
            return self._recalled.pop(id(context), ())

    async def after_run(
        self,
        *,
        agent: SupportsAgentRun,
        session: AgentSession,
        context: SessionContext,
        state: dict[str, Any],
    ) -> None:
        """Queue the run's notes for the background writer; the reply does not wait.

        By default each message the capture policy selects is stored as its statements (no
        questions, greetings or acknowledgements); with an ``extractor`` the turn becomes its
        facts. The keys are kept in the session state, so a resumed run (the same session, the
        same messages) stores nothing again. A write that fails is logged and reported by
        :meth:`flush` / :meth:`aclose`, with its key; it never breaks the reply.
        """
        recalled = self._recalled_for(context)
        if self._config.capture == "off":
            return
        replies = context.response.messages if context.response is not None else []
        candidates = capture_candidates(context.input_messages, replies, self._config.capture)
        if not candidates:
            return
        identity = self.resolve_identity(state)
        container = identity.container
        ledger: list[str] = state.setdefault(LEDGER_KEY, [])
        todo = [(m, key) for m in candidates if (key := capture_key(container, m)) not in ledger]
        if not todo:
            return
        ttl = self._config.note_ttl
        expiry = None if ttl is None else Expiry.start(system_clock(), check_ttl(ttl))
        if self.extractor is None:
            for message, key in todo:
                text = statements(message.text)
                note = Note(text) if text is not None else None
                if note is None or self.writer.submit(
                    container,
                    key,
                    functools.partial(
                        self._write, identity, role_of(message), note, key, expiry=expiry
                    ),
                ):
                    ledger.append(key)
        else:
            turn = Turn(messages=tuple((role_of(m), m.text) for m, _ in todo), recalled=recalled)
            turn_key = _digest([container, "turn", [key for _, key in todo]])
            write = functools.partial(
                self._extract_and_write, identity, turn, turn_key, expiry=expiry
            )
            if self.writer.submit(container, turn_key, write):
                ledger.extend(key for _, key in todo)
        del ledger[:-LEDGER_SIZE]

    def _extract_and_write(
        self, identity: I, turn: Turn, turn_key: str, deadline: float, expiry: Expiry | None
    ) -> None:
        assert self.extractor is not None
        notes = extracted_notes(
            self.extractor, turn, owner=type(self).__name__, detail=self._detail
        )
        for note in notes:
            self._write(identity, "note", note, note_key(turn_key, note), deadline, expiry)

    # -- serialisation (the framework's SerializationMixin) -----------------------------------

    def to_dict(
        self, *, exclude: set[str] | None = None, exclude_none: bool = True
    ) -> dict[str, Any]:
        """``{"type", "source_id", "config"}``; the API key and the client are never included.

        ``from_dict(data, dependencies={<type>: {"client": client}})`` injects a client.
        """
        data: dict[str, Any] = {
            "type": self._get_type_identifier(),
            "source_id": self.source_id,
            "config": self._config.model_dump(mode="json", exclude_none=exclude_none),
        }
        for key in exclude or ():
            data.pop(key, None)
        return data


def _digest(parts: list[Any]) -> str:
    data = json.dumps(parts, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def _as_extractor(value: Any) -> Extractor | None:
    """``None``, a callable, or a LangChain chat model (wrapped, when LangChain is installed)."""
    if value is None or callable(value):
        return cast("Extractor | None", value)
    if hasattr(value, "invoke"):  # a LangChain chat model: the prompt lives with the extractor
        from ..langchain.extractor import ChatModelExtractor

        return ChatModelExtractor(value)
    raise TypeError(f"extractor must be a callable or a chat model, not {type(value).__name__}")
