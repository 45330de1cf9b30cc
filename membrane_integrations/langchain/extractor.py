"""A chat model as a note extractor: the agent's own model or a cheaper one.

:class:`ChatModelExtractor` sends :data:`~membrane_integrations.core.notes.EXTRACTION_PROMPT`
(the guide's "atomic, third-person facts", section 8) and the turn to a chat model and reads its
JSON answer as notes; a note may name the recalled memory it replaces. It runs on the memory
writer's thread, never on the reply path.

Example:
    >>> from membrane_integrations.core.notes import Turn
    >>> from membrane_integrations.testing import ScriptedChatModel
    >>> model = ScriptedChatModel(responses=[
    ...     '[{"fact": "User lives in Oslo.", "replaces": "User lives in Bergen."}]'])
    >>> extract = ChatModelExtractor(model)
    >>> extract(Turn(messages=(("user", "I moved to Oslo, where is a good cafe?"),),
    ...              recalled=("User lives in Bergen.",)))
    [Note(text='User lives in Oslo.', replaces='User lives in Bergen.')]
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from ..core.notes import EXTRACTION_PROMPT, Extractor, Note, Turn, parse_notes, render_turn

__all__ = ["ChatModelExtractor", "as_extractor"]


class ChatModelExtractor:
    """Turn a turn into atomic notes with ``model`` (prompt: ``prompt``)."""

    def __init__(self, model: BaseChatModel, *, prompt: str = EXTRACTION_PROMPT) -> None:
        self.model = model
        self.prompt = prompt

    def __call__(self, turn: Turn) -> list[Note]:
        reply = self.model.invoke([SystemMessage(self.prompt), HumanMessage(render_turn(turn))])
        return parse_notes(reply.text)

    def __repr__(self) -> str:
        return f"ChatModelExtractor(model={type(self.model).__name__})"


def as_extractor(value: Any) -> Extractor | None:
    """``None``, a callable, or a chat model (wrapped in :class:`ChatModelExtractor`)."""
    if value is None:
        return None
    if isinstance(value, BaseChatModel):
        return ChatModelExtractor(value)
    if callable(value):
        return value  # type: ignore[no-any-return]
    raise TypeError(f"extractor must be a callable or a chat model, not {type(value).__name__}")
