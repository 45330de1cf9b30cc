"""The demo's Membrane stories (the terminal twins of notebooks 03 and 04); they need membraned.

:func:`typed_memory_story` walks the typed, revisable memory of Membrane with the gRPC client:
events and outcomes, retrieval under two trust contexts (redaction), reinforce and penalize,
supersede, contest and retract, each shown with the audit trail the daemon keeps.
:func:`membrane_autogen_story` gives an AutoGen agent ``MembraneMemory``.

Example::

    with LocalMembraned(find_membraned()) as daemon, daemon.client() as client:
        typed_memory_story(client, Console())
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..membrane import (
    EpisodicPayload,
    MembraneClient,
    MemoryRecord,
    OutcomeStatus,
    SemanticPayload,
    Sensitivity,
    TrustContext,
)
from .console import Console, short
from .membrain_stories import AUTOGEN_TASK, PANTRY, StoryResult, ask_the_cook
from .models import autogen_chat_client, model_label

__all__ = ["describe", "membrane_autogen_story", "typed_memory_story"]

ACTOR = "demo-agent"


def describe(record: MemoryRecord) -> str:
    """One line for a record: type, sensitivity, salience and what it says (or ``[redacted]``)."""
    payload = record.payload
    if payload is None:
        what = "[redacted]"
    elif isinstance(payload, SemanticPayload):
        what = f"{payload.subject} {payload.predicate} {payload.object!r}"
        if payload.revision is not None and payload.revision.status is not None:
            what += f" ({payload.revision.status.value})"
    elif isinstance(payload, EpisodicPayload):
        events = "; ".join(e.summary or f"{e.event_kind} {e.ref}" for e in payload.timeline)
        tools = "; ".join(f"{t.tool}({t.args}) = {t.result}" for t in payload.tool_graph)
        what = tools or events
        if payload.outcome is not None:
            what += f" -> outcome {payload.outcome.value}"
    else:
        what = type(payload).__name__
    return (
        f"{record.type.value:<8} {record.sensitivity.value:<6} "
        f"salience {record.salience:.2f}  {what}"
    )


def _audit(record: MemoryRecord, console: Console) -> None:
    for entry in record.audit_log:
        console.say(short(f"audit: {entry.action.value:<9} by {entry.actor}: {entry.rationale}"), 7)


def typed_memory_story(client: MembraneClient, console: Console) -> StoryResult:
    """Events and outcomes, trust and redaction, reinforcement, revision with the audit trail."""
    result = StoryResult()
    console.heading("4. Membrane: typed, revisable memory (gRPC, membraned)")

    console.say("Events and their outcome:")
    deploy = client.ingest_event(
        "deploy", "billing@v42", summary="Deployed billing v42", tags=["billing"]
    )
    tests = client.ingest_tool_output(
        "run_tests", args={"suite": "billing"}, result={"passed": 118, "failed": 2}
    )
    deploy = client.ingest_outcome(deploy.id, OutcomeStatus.FAILURE)
    for record in (deploy, tests):
        console.say(describe(record), 5)
        result.stored.append(record.id)

    console.say("Two facts of different sensitivity, read under two trust contexts:")
    zone = client.ingest_observation("user", "timezone", "Europe/Lisbon")
    phone = client.ingest_observation(
        "user", "phone", "+351 555 0100", sensitivity=Sensitivity.MEDIUM
    )
    result.stored += [zone.id, phone.id]
    for label, trust in (
        ("low trust   ", TrustContext(max_sensitivity=Sensitivity.LOW, actor_id=ACTOR)),
        ("medium trust", TrustContext(max_sensitivity=Sensitivity.MEDIUM, actor_id=ACTOR)),
    ):
        records = client.retrieve("contact the user", trust=trust, memory_types=["semantic"])
        for record in records:
            if record.id == phone.id:
                console.say(f"{label}: {describe(record)}", 5)
                result.recalled.append(describe(record))

    console.say("Reinforce what helped, penalize what misled:")
    client.penalize(zone.id, 0.3, ACTOR, "the user was travelling")
    client.reinforce(zone.id, ACTOR, "used to schedule a call")
    zone = client.retrieve_by_id(zone.id)
    console.say(describe(zone), 5)
    _audit(zone, console)

    console.say("Supersede: the user moved; the old fact is kept, retracted, and linked:")
    changed = zone.to_dict()
    changed["id"] = ""
    changed["audit_log"] = []  # the new version starts its own trail
    changed["salience"] = 1.0
    changed["payload"]["object"] = "America/New_York"
    moved = client.supersede(zone.id, changed, ACTOR, "the user moved to New York")
    old = client.retrieve_by_id(zone.id)
    for record in (old, moved):
        console.say(describe(record), 5)
        _audit(record, console)

    console.say("Contest, then retract a fact that conflicting evidence disproved:")
    limit = client.ingest_observation("billing-api", "rate_limit", 100)
    seen = client.ingest_observation("billing-api", "rate_limit", 200)
    client.contest(limit.id, seen.id, ACTOR, "observed 200 requests/s in production")
    console.say(describe(client.retrieve_by_id(limit.id)), 5)
    client.retract(limit.id, ACTOR, "the documented limit was wrong")
    visible = {r.id for r in client.retrieve("billing-api rate limit", min_salience=0.01)}
    limit = client.retrieve_by_id(limit.id)
    console.say(describe(limit), 5)
    _audit(limit, console)
    hidden = "hidden from" if limit.id not in visible else "still in"
    console.say(f"the retracted fact is {hidden} salient retrieval; its audit trail remains", 5)
    result.recalled.append(describe(limit))
    return result


async def _autogen(addr: str, api_key: str | None, console: Console) -> StoryResult:
    from autogen_core.memory import MemoryContent, MemoryMimeType
    from pydantic import SecretStr

    from ..autogen import MembraneMemory, MembraneMemoryConfig

    result = StoryResult()
    config = MembraneMemoryConfig(
        container="bob-kitchen",
        addr=addr,
        api_key=SecretStr(api_key) if api_key else None,
        k=3,
    )
    # membraned on SQLite returns records by salience whatever the question; re-ranking the
    # candidates by meaning on the client puts the one that answers it first.
    from ..embeddings import WordLlamaEmbedder

    memory = MembraneMemory(config, embeddings=WordLlamaEmbedder())
    try:
        for fact in PANTRY:
            item = MemoryContent(
                content=fact, mime_type=MemoryMimeType.TEXT, metadata={"predicate": "diet"}
            )
            await memory.add(item)
            result.stored.append(fact)
        model: Any = autogen_chat_client()
        console.say(f"stored {len(PANTRY)} observations; model: {model_label(model)}")
        console.say("recall re-ranked on the client by meaning (WordLlama), not by salience")
        console.say(f"task: {AUTOGEN_TASK}")
        await ask_the_cook(memory, model, console, result)
        await memory.clear()
        await model.close()
    finally:
        await memory.close()
    return result


def membrane_autogen_story(addr: str, api_key: str | None, console: Console) -> StoryResult:
    """An AutoGen ``AssistantAgent`` with ``MembraneMemory`` against the daemon at ``addr``."""
    console.heading("5. An AutoGen agent with MembraneMemory")
    return asyncio.run(_autogen(addr, api_key, console))
