"""Run a list of calls through membrane's REFERENCE client and print what it read, as JSON.

Runs inside the reference client's own venv (scripts/reference_client_venv.py), never in the
project's: ``<ref python> tests/support/reference_probe.py < plan.json``. Standard library and the
reference client only; nothing from this repository is imported.

The plan is ``{"addr": "host:port", "ops": [{"call": name, "args": [...], "kwargs": {...}}]}``.
An argument may refer to an earlier result: ``{"$id": i}`` is the id of op i's record and
``{"$record": i, "set": {...}}`` is op i's ``record.to_dict()`` updated with ``set`` (the
reference's own revision idiom). ``{"$trust": {...}}`` builds a ``TrustContext``.

Each outcome is ``{"record": ...}``, ``{"records": [...], "selection": ...}``, ``{"value": ...}``
``{"error": "<status code name>", "details": "..."}`` or ``{"crash": "..."}`` (the reference
raised something other than a gRPC error); a record is every field the reference's
``MemoryRecord`` holds (``dataclasses.asdict``, enums as their values).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from typing import Any

import grpc
from membrane import MembraneClient
from membrane.types import MemoryRecord, RetrieveResult, Sensitivity, TrustContext


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _record(record: MemoryRecord) -> dict[str, Any]:
    return _plain(dataclasses.asdict(record))  # type: ignore[no-any-return]


def _resolve(arg: Any, results: list[Any]) -> Any:
    if isinstance(arg, dict) and "$id" in arg:
        return results[arg["$id"]].id
    if isinstance(arg, dict) and "$record" in arg:
        return {**results[arg["$record"]].to_dict(), **arg.get("set", {})}
    if isinstance(arg, dict) and "$trust" in arg:
        spec = dict(arg["$trust"])
        if "max_sensitivity" in spec:
            spec["max_sensitivity"] = Sensitivity(spec["max_sensitivity"])
        return TrustContext(**spec)
    if isinstance(arg, list):
        return [_resolve(a, results) for a in arg]
    return arg


def _outcome(value: Any) -> dict[str, Any]:
    if isinstance(value, MemoryRecord):
        return {"record": _record(value)}
    if isinstance(value, RetrieveResult):
        selection = None
        if value.selection is not None:
            selection = {
                "selected": [_record(r) for r in value.selection.selected],
                "confidence": value.selection.confidence,
                "needs_more": value.selection.needs_more,
            }
        return {"records": [_record(r) for r in value.records], "selection": selection}
    if isinstance(value, list):
        return {"records": [_record(r) for r in value], "selection": None}
    return {"value": value}


def main() -> int:
    plan = json.load(sys.stdin)
    results: list[Any] = []
    outcomes: list[dict[str, Any]] = []
    with MembraneClient(plan["addr"], timeout=10) as client:
        for op in plan["ops"]:
            args = _resolve(op.get("args", []), results)
            kwargs = {k: _resolve(v, results) for k, v in op.get("kwargs", {}).items()}
            try:
                value = getattr(client, op["call"])(*args, **kwargs)
            except grpc.RpcError as exc:
                value = None
                outcomes.append({"error": exc.code().name, "details": exc.details()})
            except Exception as exc:  # the reference failing on the daemon's reply
                value = None
                outcomes.append({"crash": f"{type(exc).__name__}: {exc}"})
            else:
                outcomes.append(_outcome(value))
            results.append(value)
    json.dump(outcomes, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
