"""Readable text for Membrane records (pure functions, no I/O).

Example:
    >>> from membrane_integrations.membrane import MemoryRecord, MemoryType, SemanticPayload
    >>> record = MemoryRecord(id="r1", type=MemoryType.SEMANTIC, salience=0.8, confidence=0.9,
    ...     payload=SemanticPayload(subject="user", predicate="prefers", object={"lang": "Python"}))
    >>> render_payload(record)
    'user prefers {"lang": "Python"}'
    >>> render_record(record)
    '[semantic r1] salience 0.80, confidence 0.90, sensitivity low: user prefers {"lang": "Python"}'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..membrane.types import (
    CompetencePayload,
    EpisodicPayload,
    MemoryRecord,
    PlanGraphPayload,
    SemanticPayload,
    WorkingPayload,
)
from ._budget import DEFAULT_BUDGET, clip, fit

__all__ = ["render_payload", "render_record", "render_records"]


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))


def _semantic(p: SemanticPayload) -> str:
    text = f"{p.subject} {p.predicate} {_json(p.object)}"
    status = p.revision.status if p.revision is not None else None
    if status is not None and _enum(status) != "active":
        text += f" ({_enum(status)})"
    return text


def _episodic(p: EpisodicPayload) -> str:
    parts = []
    for event in p.timeline:
        summary = f": {event.summary}" if event.summary else ""
        parts.append(f"{event.event_kind} {event.ref}{summary}")
    for node in p.tool_graph:
        parts.append(f"tool {node.tool}({_json(node.args)}) -> {_json(node.result)}")
    if p.outcome is not None:
        parts.append(f"outcome {_enum(p.outcome)}")
    return "; ".join(parts) or "episode"


def _working(p: WorkingPayload) -> str:
    text = f"thread {p.thread_id} is {_enum(p.state)}"
    if p.context_summary:
        text += f": {p.context_summary}"
    if p.next_actions:
        text += f"; next: {', '.join(p.next_actions)}"
    if p.open_questions:
        text += f"; open questions: {', '.join(p.open_questions)}"
    return text


def _competence(p: CompetencePayload) -> str:
    steps = "; ".join(step.step for step in p.recipe)
    text = f"skill {p.skill_name}"
    return f"{text}: {steps}" if steps else text


def _plan(p: PlanGraphPayload) -> str:
    ops = " -> ".join(node.op for node in p.nodes)
    text = f"plan {p.plan_id}: {p.intent}".rstrip(": ")
    return f"{text} ({ops})" if ops else text


def render_payload(record: MemoryRecord) -> str:
    """The payload as one readable line; ``[redacted]`` for a redacted record."""
    payload = record.payload
    if payload is None:
        return "[redacted: above this agent's sensitivity ceiling]"
    if isinstance(payload, SemanticPayload):
        return _semantic(payload)
    if isinstance(payload, EpisodicPayload):
        return _episodic(payload)
    if isinstance(payload, WorkingPayload):
        return _working(payload)
    if isinstance(payload, CompetencePayload):
        return _competence(payload)
    if isinstance(payload, PlanGraphPayload):
        return _plan(payload)
    return _json(payload)


def render_record(record: MemoryRecord, *, limit: int = 600) -> str:
    """One line: type, id, salience, confidence, sensitivity, tags, then the payload."""
    head = (
        f"[{_enum(record.type)} {record.id}] salience {record.salience:.2f}, "
        f"confidence {record.confidence:.2f}, sensitivity {_enum(record.sensitivity)}"
    )
    if record.tags:
        head += f", tags {', '.join(record.tags)}"
    return f"{head}: {clip(render_payload(record), limit)}"


def render_records(records: Sequence[MemoryRecord], *, budget: int = DEFAULT_BUDGET) -> str:
    """A numbered list of records, trimmed to ``budget`` characters."""
    if not records:
        return "No memory records matched. Nothing relevant is stored yet."
    lines = [f"{len(records)} record{'s' if len(records) != 1 else ''}:"]
    lines.extend(f"{i}. {render_record(r)}" for i, r in enumerate(records, start=1))
    return fit(lines, budget, "; lower the limit or raise min_salience to see the rest")
