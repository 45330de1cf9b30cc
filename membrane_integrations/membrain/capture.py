"""Store one captured note in Membrain: the write every capture path's background writer runs.

The note carries the tokens ``role.<role>`` and ``msg.<key>`` after the container guard. It is
sent once: first a count of ``msg.<key>`` (a replay whose ledger is gone stores nothing twice),
then an add that waits for its ingest job with the add token's resolution of an ambiguous
create (``_resolve.py``); all of it before ``deadline``. A job still running at the deadline is
queued on the server, not lost, and is not sent again.

Example:
    >>> from membrane_integrations.core.notes import Note
    >>> from membrane_integrations.emulator import MembrainEmulator
    >>> import time
    >>> with MembrainEmulator() as emu, emu.client() as client:
    ...     note = Note("User is vegan.")
    ...     for _ in range(2):  # the second write finds msg.k1 and stores nothing
    ...         write_note(client, Tenancy("bob"), "user", note, "k1", time.monotonic() + 10)
    ...     client.count()
    1
"""

from __future__ import annotations

import logging

from ..core.background import remaining
from ..core.errors import IngestTimeoutError
from ..core.notes import Note
from ..core.scope import escape_literal
from ..core.ttl import Expiry
from .client import MembrainClient
from .expiry import with_expiry
from .tenancy import Tenancy

__all__ = ["write_note"]

logger = logging.getLogger("membrane_integrations.membrain")


def write_note(
    client: MembrainClient,
    tenancy: Tenancy,
    role: str,
    note: Note,
    key: str,
    deadline: float,
    *,
    category: str | None = None,
    wait_timeout: float = 30.0,
    expiry: Expiry | None = None,
) -> None:
    """Store ``note`` in the tenancy's container under ``key`` unless it is there already.

    ``expiry`` gives the memory a TTL (``membrain.expiry``: forgotten by a sweep once expired).
    """
    token = f"msg.{key}"
    found = client.count(
        scope=tenancy.read_scope([f"^{escape_literal(token)}$"]), timeout=remaining(deadline)
    )
    if found:
        return
    try:
        client.add(
            note.text,
            scope=tenancy.write_tokens(with_expiry([f"role.{role}", token], expiry)),
            category=category,
            wait=True,
            wait_timeout=min(wait_timeout, remaining(deadline)),
            timeout=remaining(deadline),
        )
    except IngestTimeoutError as exc:
        # Queued, not lost: sending it again would store it twice.
        logger.warning(
            "capture for container %r is still ingesting as job %s; it is not sent again",
            tenancy.container,
            exc.job_id,
        )
