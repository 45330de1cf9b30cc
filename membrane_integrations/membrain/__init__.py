"""The Membrain HTTP adapter: a sync and an async client over one set of operations.

Example:
    >>> from membrane_integrations.membrain import MembrainClient
    >>> MembrainClient("mb_test_key", base_url="http://127.0.0.1:8080/api/v1")
    MembrainClient(base_url='http://127.0.0.1:8080', api_key='***')
"""

from __future__ import annotations

from ._add_token import add_token_filter, is_add_token
from ._flows import PollPolicy
from .client import AsyncMembrainClient, MembrainClient

__all__ = [
    "AsyncMembrainClient",
    "MembrainClient",
    "PollPolicy",
    "add_token_filter",
    "is_add_token",
]
