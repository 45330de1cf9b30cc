"""Expiring memories on Membrain: the expiry is in the scope tokens, a sweep deletes them.

A memory with a TTL stores the two tokens of :meth:`~membrane_integrations.core.ttl.Expiry.tokens`
among its scope tokens (after the container's, through :class:`~.tenancy.Tenancy`):
``ttl.expires.<epoch ms, 15 digits>`` and ``ttl.minutes.<ttl>``. Nothing else changes, so any
writer (the LangGraph store, a capture path) can give a memory a TTL with :func:`with_expiry`,
and a reader can tell an expired memory with :func:`expiry_of`.

Forgetting is a **delete**: Membrain has no expiry of its own, but its bulk delete takes scope
regexes, and fixed-width digits make "expired by now" a regex (:func:`expired_patterns`). So
:func:`sweep` / :func:`asweep` remove every expired memory of the container on the server, in
one or two requests, each sent after the container filter: no listing, nothing outside the
container.

Example:
    >>> from datetime import datetime, timezone
    >>> from membrane_integrations.core.ttl import Expiry
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> from .tenancy import Tenancy
    >>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> t = Tenancy("bob")
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     _ = client.add("Bob is in Paris this week",
    ...                    scope=t.write_tokens(with_expiry([], Expiry.start(start, 60))))
    ...     _ = client.add("Bob likes tea", scope=t.write_tokens([]))
    ...     print(sweep(client, t, start), sweep(client, t, start.replace(hour=1)))
    ...     print(client.count(scope=t.read_scope(None)))
    0 1
    1
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..core.scope import MAX_SCOPE_TOKEN_LENGTH
from ..core.ttl import EXPIRES_DIGITS, Expiry, epoch_ms, without_ttl_tokens
from .tenancy import Tenancy

__all__ = ["asweep", "expired_patterns", "expiry_of", "sweep", "with_expiry"]

_HEAD = r"^ttl\.expires\.("
_TAIL = ")$"


def with_expiry(tokens: Iterable[str], expiry: Expiry | None) -> list[str]:
    """The scope tokens with ``expiry`` in place of any earlier one (none: no TTL)."""
    kept = without_ttl_tokens(tokens)
    return [*kept, *expiry.tokens()] if expiry is not None else kept


def expiry_of(scope: Iterable[str] | None) -> Expiry | None:
    """The expiry a memory's scope tokens carry, if any."""
    return Expiry.from_tokens(scope or ())


def _below(bound: int) -> list[str]:
    """Regex branches matching exactly the fixed-width numbers below ``bound``."""
    digits = f"{bound:0{EXPIRES_DIGITS}d}"
    branches = []
    for i, ch in enumerate(digits):
        d = int(ch)
        if d == 0:
            continue
        rest = EXPIRES_DIGITS - i - 1
        head = digits[:i] + ("0" if d == 1 else f"[0-{d - 1}]")
        branches.append(head + (f"[0-9]{{{rest}}}" if rest else ""))
    return branches


def expired_patterns(now: datetime) -> list[str]:
    """Scope patterns whose union matches the expiry tokens of every memory expired at ``now``.

    >>> import re
    >>> from datetime import timezone
    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> patterns = expired_patterns(now)
    >>> def hit(t): return any(re.search(p, t) for p in patterns)
    >>> hit(Expiry.start(now, 1).tokens()[0]), hit(Expiry(now, 1).tokens()[0])
    (False, True)
    """
    out: list[str] = []
    current: list[str] = []
    for branch in _below(epoch_ms(now) + 1):  # expired: expires_at <= now
        candidate = [*current, branch]
        if current and len(_HEAD + "|".join(candidate) + _TAIL) > MAX_SCOPE_TOKEN_LENGTH:
            out.append(_HEAD + "|".join(current) + _TAIL)
            candidate = [branch]
        current = candidate
    if current:
        out.append(_HEAD + "|".join(current) + _TAIL)
    return out


def _scopes(tenancy: Tenancy, now: datetime) -> list[list[str]]:
    scopes = []
    for pattern in expired_patterns(now):
        scope = tenancy.read_scope([pattern])
        assert scope is not None
        scopes.append(scope)
    return scopes


def sweep(client: Any, tenancy: Tenancy, now: datetime) -> int:
    """Delete every memory of the container expired at ``now``; how many were deleted."""
    return sum(client.delete_bulk(scope=s).deleted_count for s in _scopes(tenancy, now))


async def asweep(client: Any, tenancy: Tenancy, now: datetime) -> int:
    """The async twin of :func:`sweep`."""
    deleted = 0
    for scope in _scopes(tenancy, now):
        deleted += (await client.delete_bulk(scope=scope)).deleted_count
    return deleted
