"""What both context providers share: identity, recall under a timeout, capture once, dumping.

A subclass implements ``_recall`` (one backend query confined to the identity, best first, as
texts) and ``_capture`` (store one message in the identity's container). This base turns the
run's new user input into the query, renders the hits as one context message marked as recalled
data, and stores the turn under the capture policy with a per-session ledger of what it stored.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from agent_framework import AgentSession, ContextProvider, Message, SessionContext
from agent_framework._serialization import SerializationMixin
from pydantic import ValidationError
from typing_extensions import Self

from ..core.context_text import FOOTER, render_numbered
from ..core.errors import InvalidRequestError, redact
from ._messages import RECALL_MARK, capture_candidates, capture_key, recall_query
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


class BackendContextProvider(ContextProvider, SerializationMixin, ABC, Generic[C, I]):
    """Shared behaviour of :class:`MembrainContextProvider` and :class:`MembraneContextProvider`."""

    DEFAULT_SOURCE_ID: ClassVar[str] = "memory"
    INJECTABLE: ClassVar[set[str]] = {"client"}
    _config_type: ClassVar[type[_ContextConfig]]
    _identity_type: ClassVar[type[MembrainIdentity]]

    def __init__(self, config: C | Mapping[str, Any] | None, *, source_id: str | None) -> None:
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

    # -- what a subclass provides -------------------------------------------------------------

    @abstractmethod
    async def _recall(self, identity: I, query: str) -> list[str]:
        """Texts of the identity's memories relevant to ``query``, best first."""

    @abstractmethod
    async def _capture(self, identity: I, message: Message, key: str) -> None:
        """Store one message in the identity's container (``key`` names it there)."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close the client if this provider created it."""

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
        if text is not None:
            message = Message(
                role="user", contents=[text], additional_properties={RECALL_MARK: True}
            )
            context.extend_messages(self, [message])

    async def after_run(
        self,
        *,
        agent: SupportsAgentRun,
        session: AgentSession,
        context: SessionContext,
        state: dict[str, Any],
    ) -> None:
        """Store the run's messages under the capture policy, each at most once per container.

        The keys of stored messages are kept in the session state, so a resumed run (the same
        session, the same messages) stores nothing again. A failure is logged and never
        breaks the reply; a failed message is not marked, so a retried run may store it.
        """
        if self._config.capture == "off":
            return
        replies = context.response.messages if context.response is not None else []
        candidates = capture_candidates(context.input_messages, replies, self._config.capture)
        if not candidates:
            return
        identity = self.resolve_identity(state)
        ledger: list[str] = state.setdefault(LEDGER_KEY, [])
        for message in candidates:
            key = capture_key(identity.container, message)
            if key in ledger:
                continue
            try:
                await self._capture(identity, message, key)
            except Exception as exc:
                job = getattr(exc, "job_id", None)
                logger.warning(
                    "%s capture for container %r failed%s; the reply is unaffected: %s",
                    type(self).__name__,
                    identity.container,
                    f" (job {job})" if job else "",
                    self._detail(exc),
                )
                continue
            ledger.append(key)
            del ledger[:-LEDGER_SIZE]

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
