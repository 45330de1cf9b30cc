"""``with`` and ``async with`` for the clients of both adapters, written once.

A sync client defines ``close()`` and gets ``__enter__`` / ``__exit__``; an async client
defines ``aclose()`` and gets ``__aenter__`` / ``__aexit__``.

Example:
    >>> class Conn(Closing):
    ...     closed = False
    ...     def close(self) -> None:
    ...         self.closed = True
    >>> with Conn() as conn:
    ...     pass
    >>> conn.closed
    True
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing", "Closing"]

_S = TypeVar("_S", bound="Closing")
_A = TypeVar("_A", bound="AsyncClosing")


class Closing:
    """``with client:`` closes the client on the way out."""

    def close(self) -> None:
        """Release what the client holds (each client says what)."""

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing:
    """``async with client:`` closes the client on the way out."""

    async def aclose(self) -> None:
        """Release what the client holds (each client says what)."""

    async def __aenter__(self: _A) -> _A:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
