"""The Membrain HTTP adapter: a sync and an async client over one set of operations.

Example:
    >>> from membrane_integrations.membrain import MembrainClient
    >>> MembrainClient("mb_test_key", base_url="http://127.0.0.1:8080/api/v1")
    MembrainClient(base_url='http://127.0.0.1:8080', api_key='***')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._add_token import add_token_filter, is_add_token
    from ._flows import PollPolicy
    from .client import AsyncMembrainClient, MembrainClient

# The names load on first access: the framework layers import ``membrain.tenancy`` (the container
# rule) without the client stack behind it.
_LAZY = {
    "AsyncMembrainClient": ".client",
    "MembrainClient": ".client",
    "PollPolicy": "._flows",
    "add_token_filter": "._add_token",
    "is_add_token": "._add_token",
}

__all__ = [
    "AsyncMembrainClient",
    "MembrainClient",
    "PollPolicy",
    "add_token_filter",
    "is_add_token",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
