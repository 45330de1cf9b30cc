"""A scripted Agent Framework chat client: offline agents for tests, notebooks and examples.

It answers with the scripted replies in order (then repeats the last one), or with what a
function of the messages returns, and records every request's messages, so a test can check
what reached the model.

Example:
    >>> import asyncio
    >>> from agent_framework import Agent
    >>> client = ScriptedChatClient(["Hello!"])
    >>> agent = Agent(client=client)
    >>> asyncio.run(agent.run("hi")).text
    'Hello!'
    >>> [m.text for m in client.requests[0]]
    ['hi']
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from agent_framework import (
    BaseChatClient,
    ChatResponse,
    ChatResponseUpdate,
    Content,
    FunctionInvocationLayer,
    Message,
    ResponseStream,
)

__all__ = ["ScriptedChatClient"]

Reply = str | Callable[[Sequence[Message]], str]


class ScriptedChatClient(FunctionInvocationLayer[Any], BaseChatClient[Any]):
    """Replies from a script; ``requests`` holds the messages of every call, in order."""

    OTEL_PROVIDER_NAME = "scripted"

    def __init__(self, replies: Sequence[str] | Callable[[Sequence[Message]], str] = ("ok",)):
        super().__init__()
        if not callable(replies) and not replies:
            raise ValueError("replies must not be empty")
        self._replies: Reply | list[str] = replies if callable(replies) else list(replies)
        self.requests: list[list[Message]] = []

    def _next(self, messages: Sequence[Message]) -> str:
        if callable(self._replies):
            return self._replies(messages)
        index = min(len(self.requests) - 1, len(self._replies) - 1)
        return self._replies[index]

    def _inner_get_response(
        self,
        *,
        messages: Sequence[Message],
        stream: bool,
        options: Mapping[str, Any],
        **kwargs: Any,
    ) -> Awaitable[ChatResponse] | ResponseStream[ChatResponseUpdate, ChatResponse]:
        self.requests.append(list(messages))
        text = self._next(messages)
        if stream:

            async def updates() -> Any:
                yield ChatResponseUpdate(
                    contents=[Content.from_text(text)], role="assistant", finish_reason="stop"
                )

            return ResponseStream(updates(), finalizer=ChatResponse.from_updates)

        async def reply() -> ChatResponse:
            return ChatResponse(messages=[Message(role="assistant", contents=[text])])

        return reply()
