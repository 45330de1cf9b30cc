"""The calls the differential test makes through the reference client and through ours.

Ops before ``COMPARABLE`` have the same meaning in both clients; from ``COMPARABLE`` on they are
the reference's own revision idioms (``{**src.to_dict(), ...}``, a merge without sensitivity),
which fail on membraned v0.2.0 through the reference and succeed through ours (``_revisions``).
"""

from __future__ import annotations

from typing import Any

Op = dict[str, Any]
LIFECYCLE = {"decay": {"curve": "exponential", "half_life_seconds": 2592000}}
EVIDENCE = [{"source_type": "observation", "source_id": "plan"}]


def _semantic(subject: str, predicate: str, obj: Any, **extra: Any) -> dict[str, Any]:
    payload = {
        "kind": "semantic",
        "subject": subject,
        "predicate": predicate,
        "object": obj,
        "validity": {"mode": "global"},
        "evidence": EVIDENCE,
    }
    return {
        "type": "semantic",
        "sensitivity": "low",
        "confidence": 0.7,
        "salience": 1,
        "lifecycle": LIFECYCLE,
        # Without sources the daemon replies "sources": null, which the reference cannot parse.
        "provenance": {"sources": [{"kind": "observation", "ref": "plan"}]},
        "payload": payload,
        **extra,
    }


COMPETENCE = {
    "type": "competence",
    "sensitivity": "low",
    "confidence": 1,
    "salience": 1,
    "lifecycle": {"decay": {"curve": "exponential", "half_life_seconds": 86400}},
    "provenance": {"sources": [{"kind": "observation", "ref": "plan"}]},
    "payload": {
        "kind": "competence",
        "skill_name": "deploy",
        "triggers": [{"signal": "deploy requested"}],
        "recipe": [{"step": "run tests", "tool": "pytest"}],
        "performance": {"success_count": 9, "failure_count": 1, "success_rate": 0.9},
    },
}
MEDIUM_TEAM = {"$trust": {"max_sensitivity": "medium", "scopes": ["team"]}}


def _op(call: str, *args: Any, **kwargs: Any) -> Op:
    return {"call": call, "args": list(args), "kwargs": kwargs}


OPS: list[Op] = [
    _op("ingest_event", "file_edit", "src/main.py", summary="Refactored", tags=["auth"], scope="a"),
    _op("ingest_tool_output", "run_tests", args={"suite": "auth"}, result={"passed": 42}),
    _op("ingest_observation", "user", "prefers", {"language": "Python"}, scope="team"),
    _op(
        "ingest_working_state",
        "session-001",
        "executing",
        next_actions=["run tests"],
        open_questions=["which region?"],
        context_summary="backend ready",
        active_constraints=[{"type": "budget", "key": "usd", "value": 5, "required": True}],
    ),
    _op("ingest_outcome", {"$id": 0}, "success"),  # 4
    _op("ingest_event", "e", "medium", sensitivity="medium"),
    _op("retrieve_by_id", {"$id": 2}),
    _op("retrieve", "anything", limit=0),
    _op("retrieve", "anything", trust=MEDIUM_TEAM, memory_types=["semantic", "episodic"], limit=5),
    _op("penalize", {"$id": 2}, 0.25, "agent-1", "weak"),
    _op("reinforce", {"$id": 2}, "agent-1", "useful"),  # 10
    _op("ingest_observation", "api", "rate_limit", 100),
    _op("contest", {"$id": 11}, {"$id": 2}, "agent-1", "conflict"),
    _op("ingest_observation", "service", "version", "1.0"),
    _op("supersede", {"$id": 13}, _semantic("service", "version", "2.0"), "agent-1", "upgrade"),
    _op("fork", {"$id": 2}, _semantic("user", "prefers", "Go", scope="dev"), "agent-1", "dev"),
    _op("ingest_observation", "user", "likes", "tea"),  # 16
    _op("merge", [{"$id": 16}, {"$id": 15}], _semantic("user", "likes", "tea"), "agent-1", "dup"),
    _op("retract", {"$id": 1}, "agent-1", "wrong"),
    _op("fork", {"$id": 2}, COMPETENCE, "agent-1", "learned"),
    _op("retrieve_with_selection", "deploy the service"),  # 20
    _op("retrieve_with_selection", "x", memory_types=["semantic"], min_salience=0.5),
    _op("retrieve_by_id", "00000000-0000-4000-8000-000000000000"),
    _op("retrieve_by_id", {"$id": 5}),
    _op("ingest_event", "e", "r", sensitivity="secret"),
    _op("retrieve", "x", limit=20000),  # 25
    _op("penalize", {"$id": 2}, -1.0, "agent-1", "negative"),
    _op("get_metrics"),
]
COMPARABLE = len(OPS)
OPS += [
    _op("fork", {"$id": 2}, {"$record": 2, "set": {"scope": "dev"}}, "agent-1", "dev env"),
    _op("ingest_observation", "service", "version", "3.0"),
    _op(
        "supersede",
        {"$id": COMPARABLE + 1},
        {
            "$record": COMPARABLE + 1,
            "set": {"payload": _semantic("service", "version", "4.0")["payload"]},
        },
        "agent-1",
        "bump",
    ),
    _op("ingest_observation", "user", "likes", "coffee"),
    _op(
        "merge",
        [{"$id": COMPARABLE + 3}],
        {"type": "semantic", "payload": _semantic("user", "likes", "coffee")["payload"]},
        "agent-1",
        "consolidate",
    ),
]
# What the reference gets on membraned v0.2.0 for each idiom, and what ours must return instead.
IDIOMS = {
    COMPARABLE: ("ALREADY_EXISTS", {"scope": "dev"}),
    COMPARABLE + 2: ("ALREADY_EXISTS", {"object": "4.0"}),
    COMPARABLE + 4: ("INVALID_ARGUMENT", {"object": "coffee"}),
}


def cross_read_ops(ids: list[str]) -> list[Op]:
    """Reads of records ours wrote, made by both clients on one daemon and compared exactly."""
    hyper = {"$trust": {"max_sensitivity": "hyper"}}
    return [
        *(_op("retrieve_by_id", record_id, trust=hyper) for record_id in ids),
        _op("retrieve", "anything", trust=hyper, limit=0),
        _op("retrieve", "anything", limit=0),
        _op("retrieve_with_selection", "deploy the service", trust=hyper),
        _op("get_metrics"),
    ]
