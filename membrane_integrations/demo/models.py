"""Chat models for the notebooks and the demo: a real one when a key is set, else offline ones.

:func:`langchain_chat_model` and :func:`autogen_chat_client` return an OpenAI model when
``OPENAI_API_KEY`` is set and the OpenAI extra is installed (``langchain-openai`` /
``autogen-ext[openai]``), otherwise a deterministic offline model:
:class:`~membrane_integrations.testing.MemoryRuleChatModel` for LangChain and
:class:`MemoryAnsweringChatClient` for AutoGen. The model name comes from ``OPENAI_MODEL``
(default ``gpt-4o-mini``).

Example:
    >>> import os
    >>> _ = os.environ.pop("OPENAI_API_KEY", None)
    >>> type(langchain_chat_model()).__name__
    'MemoryRuleChatModel'
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from autogen_core import CancellationToken
from autogen_core.models import CreateResult, LLMMessage, SystemMessage, UserMessage
from autogen_core.tools import Tool, ToolSchema
from autogen_ext.models.replay import ReplayChatCompletionClient
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from ..embeddings.stopwords import STOP_WORDS
from ..testing import MemoryRuleChatModel

__all__ = [
    "MemoryAnsweringChatClient",
    "autogen_chat_client",
    "langchain_chat_model",
    "memory_answer",
    "model_label",
]

_NUMBERED = re.compile(r"^\s*\d+\.\s+(?P<text>.+)$", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which memory answers a question.
_FILLER = STOP_WORDS | {"anyone", "s", "something", "tonight", "user"}


def _openai_ready(*modules: str) -> bool:
    if not os.environ.get("OPENAI_API_KEY"):
        return False
    return all(importlib.util.find_spec(module) is not None for module in modules)


def _model_name() -> str:
    return os.environ.get("OPENAI_MODEL", "gpt-4o-mini")


def langchain_chat_model(**rules: Any) -> BaseChatModel:
    """``ChatOpenAI`` with a key and ``langchain-openai``; else ``MemoryRuleChatModel(**rules)``."""
    if _openai_ready("langchain_openai"):
        chat_openai = importlib.import_module("langchain_openai").ChatOpenAI
        return cast(BaseChatModel, chat_openai(model=_model_name(), temperature=0))
    return MemoryRuleChatModel(**rules)


def _stems(text: str) -> set[str]:
    return {word[:5] for word in _WORD.findall(text.lower()) if word not in _FILLER}


def memory_answer(system_text: str, question: str = "") -> str | None:
    """The offline answer to a prompt whose system message lists numbered memories: the memory
    sharing the most words (by their first five letters) with ``question``, the first on a tie.

    >>> context = "Relevant memories:\\n1. Bob is vegan\\n2. Bob's daughter is allergic to nuts"
    >>> memory_answer(context, "Is anyone allergic to something?")
    "From memory: Bob's daughter is allergic to nuts"
    >>> memory_answer(context)
    'From memory: Bob is vegan'
    """
    memories = [m.group("text").strip() for m in _NUMBERED.finditer(system_text)]
    if not memories:
        return None
    wanted = _stems(question)
    best = max(memories, key=lambda memory: len(wanted & _stems(memory)))  # first on a tie
    return f"From memory: {best}"


class MemoryAnsweringChatClient(ReplayChatCompletionClient):
    """An offline AutoGen model that answers from the memories injected into its context.

    It reads the system messages of each call; if one lists numbered memories (what
    ``MembrainMemory`` / ``MembraneMemory`` add in ``update_context``) it answers with the one
    that shares the most words with the user's last message (the first on a tie), otherwise it
    says it does not know. Every call is kept in ``create_calls`` (inherited), so
    a notebook can show exactly what the model saw.
    """

    def __init__(self) -> None:
        super().__init__([])

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Answer from the first injected memory, recording the call."""
        users = [m for m in messages if isinstance(m, UserMessage)]
        question = str(users[-1].content) if users else ""
        answers = [
            memory_answer(str(m.content), question)
            for m in messages
            if isinstance(m, SystemMessage)
        ]
        found = [a for a in answers if a]
        self.chat_completions.append(found[0] if found else "I have no memory about that yet.")
        return await super().create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )


def autogen_chat_client() -> Any:
    """``OpenAIChatCompletionClient`` with a key and ``autogen-ext[openai]``; else offline."""
    if _openai_ready("openai", "tiktoken"):
        from autogen_ext.models.openai import OpenAIChatCompletionClient

        return OpenAIChatCompletionClient(model=_model_name())
    return MemoryAnsweringChatClient()


def model_label(model: object) -> str:
    """A short description of the model in use, for printing."""
    name = type(model).__name__
    if name in ("MemoryRuleChatModel", "MemoryAnsweringChatClient"):
        return f"{name} (offline, deterministic; set OPENAI_API_KEY for a real model)"
    return f"{name} ({_model_name()})"
