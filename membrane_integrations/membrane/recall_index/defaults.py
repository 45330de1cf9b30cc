"""Where a Membrane surface's recall index lives when nobody said: the default index.

``MEMBRANE_RECALL_INDEX`` chooses, when set: ``off`` (no index: recall by the daemon's order),
a ``postgresql://`` / ``postgres://`` DSN (the shared :class:`PostgresStore`; schema from
``MEMBRANE_RECALL_SCHEMA``, default ``membrane_recall``) or a file path (a :class:`SQLiteStore`).
Unset: one SQLite file per daemon address under the user's cache directory
(``platformdirs.user_cache_dir("membrane-integrations")/recall/<host>_<port>.sqlite3``).
The embedder is WordLlama (offline weights) when the ``embeddings`` extra is installed, else
none (lexical only). ``MEMBRANE_RECALL_SYNC_INTERVAL`` sets the seconds between sync rounds
(default 30). One index object is shared by every client of the same location in a process.

Example:
    >>> location_for("127.0.0.1:50051", env={"MEMBRANE_RECALL_INDEX": "/tmp/r.sqlite3"})
    '/tmp/r.sqlite3'
    >>> location_for("127.0.0.1:1", env={"MEMBRANE_RECALL_INDEX": "off"}) is None
    True
    >>> location_for("dns:///host.example:443", env={}).endswith("host.example_443.sqlite3")
    True
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...core.errors import InvalidRequestError
from .index import RecallIndex
from .store import IndexStore

__all__ = [
    "ENV_VAR",
    "attach_default",
    "attach_to",
    "default_embedder",
    "location_for",
    "open_index",
]

ENV_VAR = "MEMBRANE_RECALL_INDEX"
SCHEMA_VAR = "MEMBRANE_RECALL_SCHEMA"
INTERVAL_VAR = "MEMBRANE_RECALL_SYNC_INTERVAL"
DEFAULT_SYNC_INTERVAL = 30.0
_OFF = frozenset({"off", "none", "0", "false", "no"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

_indexes: dict[str, RecallIndex] = {}
_registry_lock = threading.Lock()
_embedder: Any = None


def _cache_dir() -> Path:
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # pragma: no cover - platformdirs comes with the membrane extra
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
            "membrane-integrations"
        )
    return Path(user_cache_dir("membrane-integrations"))


def location_for(addr: str, *, env: Mapping[str, str] | None = None) -> str | None:
    """The index location for a daemon at ``addr``: a DSN, a file path, or ``None`` (off)."""
    env = os.environ if env is None else env
    chosen = (env.get(ENV_VAR) or "").strip()
    if chosen:
        return None if chosen.lower() in _OFF else chosen
    name = _UNSAFE.sub("_", addr.split("///")[-1]).strip("_") or "membraned"
    return str(_cache_dir() / "recall" / f"{name}.sqlite3")


def _is_dsn(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def default_embedder() -> Any:
    """WordLlama when the ``embeddings`` extra is installed, else ``None`` (lexical only)."""
    global _embedder
    with _registry_lock:
        if _embedder is None:
            from ...embeddings import WordLlamaEmbedder, wordllama_available

            _embedder = WordLlamaEmbedder() if wordllama_available() else False
        return _embedder or None


def sync_interval(env: Mapping[str, str] | None = None) -> float:
    """Seconds between sync rounds: ``MEMBRANE_RECALL_SYNC_INTERVAL``, default 30.

    >>> sync_interval({"MEMBRANE_RECALL_SYNC_INTERVAL": "120"}), sync_interval({})
    (120.0, 30.0)
    """
    env = os.environ if env is None else env
    raw = (env.get(INTERVAL_VAR) or "").strip()
    try:
        value = float(raw) if raw else DEFAULT_SYNC_INTERVAL
    except ValueError:
        raise InvalidRequestError(
            f"{INTERVAL_VAR} must be a number of seconds, got {raw!r}", field=INTERVAL_VAR
        ) from None
    if not value > 0:
        raise InvalidRequestError(f"{INTERVAL_VAR} must be positive", field=INTERVAL_VAR)
    return value


def _store(location: str) -> IndexStore:
    if _is_dsn(location):
        from .postgres_store import DEFAULT_SCHEMA, PostgresStore

        return PostgresStore(location, schema=os.environ.get(SCHEMA_VAR) or DEFAULT_SCHEMA)
    from .sqlite_store import SQLiteStore

    return SQLiteStore(location)


def open_index(location: str, *, embedder: Any = "default") -> RecallIndex:
    """The process's one index at ``location`` (a DSN or a SQLite file path), opened once.

    ``embedder="default"``: :func:`default_embedder`; ``None``: lexical only.
    """
    with _registry_lock:
        index = _indexes.get(location)
    if index is not None:
        return index
    chosen = default_embedder() if embedder == "default" else embedder
    fresh = RecallIndex(_store(location), embedder=chosen, sync_interval=sync_interval())
    with _registry_lock:
        index = _indexes.setdefault(location, fresh)
    if index is not fresh:
        fresh.store.close()
    return index


def attach_default(client: Any, index: RecallIndex | bool | None = None) -> RecallIndex | None:
    """The index a surface over ``client`` recalls with, attached to the client for its writes.

    ``index``: a :class:`RecallIndex` to use, ``False`` for none, ``None``/``True`` for the
    client's own (if it has one) or the default for its address.
    """
    from ..client import AsyncMembraneClient, MembraneClient

    if index is False or not isinstance(client, (MembraneClient, AsyncMembraneClient)):
        return None  # a test double or another client: recall in the daemon's order
    current = getattr(client, "recall_index", None)
    if isinstance(index, RecallIndex):
        if current is None:
            client.recall_index = index
        return index
    if current is not None:
        return current  # type: ignore[no-any-return]
    location = location_for(client.addr)
    if location is None:
        return None
    chosen = open_index(location)
    client.recall_index = chosen
    return chosen


def attach_to(*clients: Any, index: RecallIndex | bool | None = None) -> RecallIndex | None:
    """:func:`attach_default` for a surface's clients (``None`` entries skipped): all share one."""
    chosen: RecallIndex | None = None
    for client in clients:
        if client is None:
            continue
        got = attach_default(client, chosen if chosen is not None else index)
        chosen = chosen or got
    return chosen
