"""The one way both adapters build a client from its settings alone (``to_async`` / ``to_sync``).

A client class declares ``_setup(config, transport)`` (configure, then open the given transport
or, with ``None``, one of its own); ``_from_config`` builds an instance through it without the
public constructor's keyword handling.

Example:
    >>> class Client(FromConfig[str]):
    ...     def _setup(self, config: str, transport: None) -> None:
    ...         self._config = config
    >>> Client._from_config("settings")._config
    'settings'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["FromConfig"]

ConfigT = TypeVar("ConfigT")
_F = TypeVar("_F", bound="FromConfig[Any]")


class FromConfig(Generic[ConfigT]):
    """``_from_config(config)``: a client with ``config`` on a transport of its own."""

    _config: ConfigT
    # Each client's own: configure, then open (or adopt) its transport; None opens its own.
    _setup: Callable[[ConfigT, None], None]

    @classmethod
    def _from_config(cls: type[_F], config: Any) -> _F:
        """A client with ``config`` on a transport of its own (what to_async/to_sync build)."""
        client = cls.__new__(cls)
        client._setup(config, None)
        return client
