"""Chat models that need no network: for tests, notebooks and the demo.

* :class:`ScriptedChatModel` replays a fixed list of ``AIMessage``s (with tool calls if wanted).
* :class:`MemoryRuleChatModel` decides from the conversation: "remember that ..." becomes a
  call of the bound add tool, a question becomes a call of the bound search tool, and after a
  tool result it answers from that result. It behaves like a small, predictable memory-using
  assistant, so an agent loop can be exercised end to end.

Both support ``bind_tools`` (so ``langchain.agents.create_agent`` accepts them).

Example:
    >>> from langchain_core.messages import HumanMessage
    >>> model = MemoryRuleChatModel()
    >>> bound = model.bind_tools([{"type": "function", "function": {
    ...     "name": "membrain_add", "description": "store", "parameters": {}}}])
    >>> reply = bound.invoke([HumanMessage("Remember that my favourite colour is teal")])
    >>> reply.tool_calls[0]["args"]
    {'content': "User's favourite colour is teal."}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr, field_validator

__all__ = ["MemoryRuleChatModel", "ScriptedChatModel", "third_person"]

_REMEMBER = re.compile(
    r"^\s*(?:please\s+)?(?:remember|note|keep in mind|store)(?:\s+that)?[:,]?\s+(?P<fact>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_QUESTION_START = re.compile(
    r"^\s*(what|who|whom|whose|when|where|which|why|how|do|does|did|is|are|was|were|can|could|"
    r"should|would|will|have|has|tell me)\b",
    re.IGNORECASE,
)
# a Membrain hit "[memory <id>] score 0.91: <content>" or a Membrane record
# "[semantic <id>] salience 0.80, confidence 0.90, sensitivity low: <content>"
_MEMORY_LINE = re.compile(
    r"\[(?:memory|episodic|working|semantic|competence|plan_graph) (?P<id>[^\]]+)\]"
    r"[^:\n]*: (?P<content>.+)"
)
_CONTEXT = re.compile(r"context:\s*\n?(?P<body>.+?)(?:\n\s*\n|\n\s*question:|$)", re.I | re.S)


def third_person(fact: str) -> str:
    """Rewrite a first-person statement as a fact about the user.

    >>> third_person("I'm vegetarian and my dog is called Rex")
    "User is vegetarian and the user's dog is called Rex."
    """
    text = fact.strip().rstrip(".!")
    rules = (
        (r"^i am\b", "User is"),
        (r"^i'm\b", "User is"),
        (r"^my\b", "User's"),
        (r"^i\b", "User"),
        (r"\bi am\b", "the user is"),
        (r"\bi'm\b", "the user is"),
        (r"\bmy\b", "the user's"),
        (r"\bmine\b", "the user's"),
        (r"\bme\b", "the user"),
        (r"\bi\b", "the user"),
    )
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:] + "."


def _tool_names(kwargs: dict[str, Any]) -> list[str]:
    names = []
    for tool in kwargs.get("tools") or ():
        function = tool.get("function", tool) if isinstance(tool, dict) else {}
        if isinstance(function, dict) and function.get("name"):
            names.append(str(function["name"]))
    return names


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else str(message.content)


class _ToolBindingChatModel(BaseChatModel):
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Remember the tools (OpenAI format) so the model can see which it may call."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, **kwargs)


class ScriptedChatModel(_ToolBindingChatModel):
    """Replays ``responses`` in order, one per call; raises once they run out.

    >>> model = ScriptedChatModel(responses=[AIMessage(content="hi"), "bye"])
    >>> model.invoke("x").content, model.invoke("y").content
    ('hi', 'bye')
    """

    responses: list[AIMessage] = Field(default_factory=list)
    _next: int = PrivateAttr(default=0)
    _seen: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def requests(self) -> list[list[BaseMessage]]:
        """The messages of every call so far, in order (what the model was shown)."""
        return self._seen

    @field_validator("responses", mode="before")
    @classmethod
    def _strings_to_messages(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [AIMessage(content=v) if isinstance(v, str) else v for v in value]
        return value

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._next >= len(self.responses):
            raise ValueError(
                f"ScriptedChatModel ran out of responses after {len(self.responses)} calls"
            )
        self._seen.append(list(messages))
        message = self.responses[self._next]
        self._next += 1
        return ChatResult(generations=[ChatGeneration(message=message)])


class MemoryRuleChatModel(_ToolBindingChatModel):
    """A deterministic assistant that uses memory tools by simple rules.

    * last human turn "remember that X" / "note that X" and ``add_tool`` bound: call it with
      ``X`` rewritten in the third person;
    * last human turn is a question and ``search_tool`` bound: call it with the question as
      ``query_arg`` (``search_tool="membrane_retrieve", query_arg="task_descriptor"`` for
      Membrane);
    * after a tool result: answer from it (the first memory line of a search result);
    * no tools bound and the prompt has a ``Context:`` section (RAG): answer from its first line.
    """

    search_tool: str = "membrain_search"
    add_tool: str = "membrain_add"
    query_arg: str = "query"
    search_args: dict[str, Any] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "memory-rules"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.decide(messages, _tool_names(kwargs))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def decide(self, messages: Sequence[BaseMessage], tools: Sequence[str]) -> AIMessage:
        """The next assistant message for this conversation (pure)."""
        last_human = max(
            (i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1
        )
        results = [m for m in messages[last_human + 1 :] if isinstance(m, ToolMessage)]
        if results:
            return AIMessage(content=self._answer(results[-1]))
        text = _text(messages[last_human]) if last_human >= 0 else ""
        call_id = f"call_{len(messages)}"
        remembered = _REMEMBER.match(text)
        if remembered and self.add_tool in tools:
            args = {"content": third_person(remembered.group("fact"))}
            call = {"name": self.add_tool, "args": args, "id": call_id}
            return AIMessage(content="", tool_calls=[call])
        question = text.strip().endswith("?") or bool(_QUESTION_START.match(text))
        if question and self.search_tool in tools:
            args = {self.query_arg: text.strip(), **self.search_args}
            return AIMessage(
                content="", tool_calls=[{"name": self.search_tool, "args": args, "id": call_id}]
            )
        context = _CONTEXT.search(text)
        if context:
            lines = [ln.strip() for ln in context.group("body").splitlines() if ln.strip()]
            first = lines[0] if lines else ""
            if first:
                return AIMessage(content=f"Based on the context: {first}")
            return AIMessage(content="The context does not say.")
        return AIMessage(content="OK.")

    def _answer(self, result: ToolMessage) -> str:
        content = _text(result)
        if result.status == "error":
            return f"I could not use my memory: {content}"
        if result.name == self.add_tool or content.startswith(("Stored", "Merged")):
            return f"Noted, I will remember that. ({content.splitlines()[0]})"
        hit = _MEMORY_LINE.search(content)
        if hit:
            return f"From memory: {hit.group('content').strip()}"
        if content.startswith("No memories matched"):
            return "I don't know yet: nothing about that is stored in memory."
        return content.splitlines()[0] if content else "Done."
