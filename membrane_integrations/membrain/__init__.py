"""The Membrain HTTP adapter: a sync and an async client over one set of operations.

Example:
    >>> from membrane_integrations.membrain import MembrainClient
    >>> MembrainClient("mb_test_key", base_url="http://127.0.0.1:8080/api/v1")
    MembrainClient(base_url='http://127.0.0.1:8080', api_key='***')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
