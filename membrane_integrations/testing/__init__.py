"""Helpers for tests, notebooks and the demo that need no network (chat models without an LLM).

Example:
    >>> from membrane_integrations.testing import ScriptedChatModel
    >>> ScriptedChatModel(responses=["hello"]).invoke("hi").content
    'hello'
"""

from __future__ import annotations

from .chat_models import MemoryRuleChatModel, ScriptedChatModel, third_person

__all__ = ["MemoryRuleChatModel", "ScriptedChatModel", "third_person"]
