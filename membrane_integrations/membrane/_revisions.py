"""The record argument of Supersede, Fork and Merge, completed the way the caller meant.

membraned v0.2.0 stores the record it is given as a new record, so the usual way of writing a
revision (start from the source's dict, change one field) fails on the daemon:

- the copied ``id`` equals the source's, and the daemon refuses a second record with that id
  (ALREADY_EXISTS): an id equal to a source id is dropped, so the daemon assigns a new one;
- a missing ``sensitivity`` fails validation (INVALID_ARGUMENT): it becomes ``"low"``, what
  ingestion assigns by default;
- a missing ``lifecycle`` (the reference client's ``to_dict()`` leaves it out) fails in the store
  (INTERNAL, a CHECK constraint): the missing parts get ingestion's defaults for the record's
  type (exponential decay; half-life 1 h episodic, 1 day working, 30 days otherwise;
  ``auto_prune``).

Anything else is sent as given; the daemon's error then names the field to fix. The caller's
dict is never modified.

Example:
    >>> doc = complete_revision_record({"id": "a", "type": "semantic", "payload": {}}, ["a"])
    >>> "id" in doc, doc["sensitivity"], doc["lifecycle"]["decay"]["half_life_seconds"]
    (False, 'low', 2592000)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from .models import MemoryRecord, encode_json, record_to_dict

__all__ = ["complete_revision_record", "revision_record_json"]

DEFAULT_SENSITIVITY = "low"
_HALF_LIFE_SECONDS = {"episodic": 3600, "working": 86400}
_OTHER_HALF_LIFE_SECONDS = 2592000  # semantic, competence and plan_graph


def complete_revision_record(
    record: dict[str, Any] | MemoryRecord, source_ids: Sequence[str]
) -> dict[str, Any]:
    """A copy of ``record`` with a source id dropped and ingestion's defaults filled in."""
    doc = record_to_dict(record) if isinstance(record, MemoryRecord) else copy.deepcopy(record)
    if doc.get("id") and doc["id"] in source_ids:
        del doc["id"]
    if not doc.get("sensitivity"):
        doc["sensitivity"] = DEFAULT_SENSITIVITY
    record_type = doc.get("type")
    if isinstance(record_type, str) and record_type:
        lifecycle = doc.get("lifecycle")
        if lifecycle is None:
            lifecycle = doc["lifecycle"] = {}
        if isinstance(lifecycle, dict):
            decay = lifecycle.get("decay")
            if decay is None:
                decay = lifecycle["decay"] = {}
            if isinstance(decay, dict):
                decay.setdefault("curve", "exponential")
                if not decay.get("half_life_seconds"):
                    decay["half_life_seconds"] = _HALF_LIFE_SECONDS.get(
                        record_type, _OTHER_HALF_LIFE_SECONDS
                    )
            lifecycle.setdefault("deletion_policy", "auto_prune")
    return doc


def revision_record_json(record: dict[str, Any] | MemoryRecord, source_ids: Sequence[str]) -> bytes:
    """The JSON bytes of :func:`complete_revision_record`."""
    return encode_json(complete_revision_record(record, source_ids))
