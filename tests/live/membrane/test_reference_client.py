"""Ours beside membrane's reference Python client, on the real membraned v0.2.0.

The reference client needs protobuf >= 6.31.1 and cannot live in this venv beside AutoGen, so it
runs in its own throwaway venv (scripts/reference_client_venv.py) as a subprocess that prints
JSON (tests/support/reference_probe.py). Three things are checked:

- both packages import, and work, in one process (the stubs used to collide in protobuf's default
  descriptor pool);
- the same calls (tests/live/membrane/reference_plan.py), every method, through the reference on
  one fresh daemon and through ours (sync and async) on another: every field the reference reads
  equals ours, up to the ids and times the two daemons chose;
- on one daemon, the reference reads back every record ours wrote: equal field for field;
- the reference's own revision idioms fail through it and succeed through ours.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from membrane_integrations.membrane import (
    AsyncMembraneClient,
    MembraneClient,
    Sensitivity,
    TrustContext,
)
from tests.live.membrane.reference_plan import COMPARABLE, IDIOMS, OPS, Op, cross_read_ops
from tests.support.membraned import Membraned, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]

ROOT = Path(__file__).resolve().parents[3]
PROBE = ROOT / "tests" / "support" / "reference_probe.py"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def reference_python() -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "reference_client_venv.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"no venv with the reference client: {done.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def daemon_bin() -> str:
    return require_daemon()


@pytest.fixture
def daemon(daemon_bin: str) -> Iterator[Membraned]:
    with Membraned(daemon_bin) as running:
        yield running


def run_reference(python: str, addr: str, ops: list[Op]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [python, str(PROBE)],
        input=json.dumps({"addr": addr, "ops": ops}),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    outcomes: list[dict[str, Any]] = json.loads(done.stdout)
    return outcomes


async def run_ours(client: MembraneClient | AsyncMembraneClient, ops: list[Op]) -> list[Any]:
    """The plan through our client; each result is a value or the exception it raised."""
    results: list[Any] = []

    def arg(value: Any) -> Any:
        if isinstance(value, dict) and "$id" in value:
            return results[value["$id"]].id
        if isinstance(value, dict) and "$record" in value:
            return {**results[value["$record"]].to_dict(), **value.get("set", {})}
        if isinstance(value, dict) and "$trust" in value:
            spec = dict(value["$trust"])
            if "max_sensitivity" in spec:
                spec["max_sensitivity"] = Sensitivity(spec["max_sensitivity"])
            return TrustContext(**spec)
        if isinstance(value, list):
            return [arg(v) for v in value]
        return value

    for op in ops:
        call = getattr(client, op["call"])
        try:
            value = call(*arg(op["args"]), **{k: arg(v) for k, v in op["kwargs"].items()})
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # compared with the reference status below
            value = exc
        results.append(value)
    return results


class Matcher:
    """Compares a reference read with ours; ``loose`` pairs up ids and times of two daemons."""

    def __init__(self, *, loose: bool) -> None:
        self.loose = loose
        self.ids: dict[str, str] = {}  # reference id -> our id
        self.compared = 0  # leaves compared: proves the walk was not vacuous

    def _ids_in(self, ref: str, ours: str, path: str) -> tuple[str, str]:
        ref_ids, our_ids = UUID.findall(ref), UUID.findall(ours)
        assert len(ref_ids) == len(our_ids), f"{path}: {ref!r} != {ours!r}"
        for r, o in zip(ref_ids, our_ids, strict=True):
            assert self.ids.setdefault(r, o) == o, f"{path}: id {r} paired with two of ours"
            ref = ref.replace(r, "<id>")
            ours = ours.replace(o, "<id>")
        return ref, ours

    def leaf(self, ref: Any, ours: Any, path: str) -> None:
        self.compared += 1
        if isinstance(ours, Enum):
            ours = ours.value
        if path.endswith(".collected_at"):  # the metrics snapshot's own clock, per call
            assert TIMESTAMP.match(ref) and TIMESTAMP.match(ours), path
            return
        if self.loose and isinstance(ref, str) and isinstance(ours, str):
            if TIMESTAMP.match(ref) and TIMESTAMP.match(ours):
                return
            ref, ours = self._ids_in(ref, ours, path)
        assert ref == ours, f"{path}: reference read {ref!r}, ours {ours!r}"

    def same(self, ref: Any, ours: Any, path: str = "") -> None:
        if isinstance(ref, dict):
            for key, value in ref.items():
                where = f"{path}.{key}"
                if where.endswith("relations") and isinstance(value, list):
                    self.relations(value, ours.relations, where)
                    continue
                if value is None and key in {"lifecycle", "provenance"}:
                    continue  # absent in the JSON: the reference reads None, ours its defaults
                if key == "payload" and not isinstance(ours, dict):
                    mine = ours.to_dict().get("payload") if ours.payload is not None else None
                    self.same(value, mine, where)
                    continue
                mine = ours[key] if isinstance(ours, dict) else getattr(ours, key)
                self.same(value, mine, where)
        elif isinstance(ref, list):
            assert len(ref) == len(ours), f"{path}: {len(ref)} items in the reference, {len(ours)}"
            for index, (r, o) in enumerate(zip(ref, ours, strict=True)):
                self.same(r, o, f"{path}[{index}]")
        else:
            self.leaf(ref, ours, path)

    def relations(self, ref: list[dict[str, Any]], ours: list[Any], path: str) -> None:
        assert len(ref) == len(ours), path
        for r, o in zip(ref, ours, strict=True):
            self.leaf(r["target_id"], o.target_id, f"{path}.target_id")
            self.leaf(r["weight"], o.weight, f"{path}.weight")
            # The daemon names the edge "predicate"; the reference reads "kind", so it always
            # holds its default "" while ours reads the edge.
            assert r["kind"] == "" and o.kind, f"{path}.kind"

    def outcome(self, ref: dict[str, Any], ours: Any, path: str) -> None:
        if "crash" in ref:  # the reference cannot read this reply; ours must
            assert not isinstance(ours, Exception), f"{path}: ours raised {ours!r}"
            return
        if "error" in ref:
            assert isinstance(ours, Exception), f"{path}: the reference got {ref}, ours {ours!r}"
            assert ours.code().name == ref["error"], f"{path}: {ref} vs {ours!r}"  # type: ignore[attr-defined]
            return
        assert not isinstance(ours, Exception), f"{path}: ours raised {ours!r}, reference {ref}"
        if "record" in ref:
            self.same(ref["record"], ours, path)
        elif "records" in ref:
            records = ours if isinstance(ours, list) else ours.records
            self.same(ref["records"], records, f"{path}.records")
            if not isinstance(ours, list):
                selection = ours.selection
                if ref["selection"] is None:
                    assert selection is None, path
                else:
                    self.same(ref["selection"]["selected"], selection.selected, f"{path}.sel")
                    self.leaf(ref["selection"]["confidence"], selection.confidence, path)
                    self.leaf(ref["selection"]["needs_more"], selection.needs_more, path)
        else:
            self.same(ref["value"], ours, path)


def _client(kind: str, addr: str) -> MembraneClient | AsyncMembraneClient:
    return (
        MembraneClient(addr, timeout=10)
        if kind == "sync"
        else AsyncMembraneClient(addr, timeout=10)
    )


async def _run_ours(kind: str, addr: str, ops: list[Op]) -> list[Any]:
    client = _client(kind, addr)
    try:
        return await run_ours(client, ops)
    finally:
        closed = client.close()
        if inspect.isawaitable(closed):
            await closed


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_every_method_reads_what_the_reference_reads(
    reference_python: str, daemon_bin: str, kind: str
) -> None:
    with Membraned(daemon_bin) as theirs_daemon, Membraned(daemon_bin) as our_daemon:
        reference = run_reference(reference_python, theirs_daemon.addr, OPS)
        ours = await _run_ours(kind, our_daemon.addr, OPS)
        assert [o.get("error") for o in reference[:COMPARABLE]].count(None) >= 20
        matcher = Matcher(loose=True)
        for index in range(COMPARABLE):
            matcher.outcome(reference[index], ours[index], f"op {index} {OPS[index]['call']}")
        assert matcher.compared > 1000 and len(matcher.ids) >= 12

        # The reference's revision idioms: its status on the daemon, and what ours made instead.
        for index, (status, expected) in IDIOMS.items():
            assert reference[index].get("error") == status, reference[index]
            record = ours[index]
            assert not isinstance(record, Exception), f"op {index}: {record!r}"
            source_ids = {ours[i["$id"]].id for i in _id_args(OPS[index]["args"][0])}
            assert record.id and record.id not in source_ids
            for field, value in expected.items():
                actual = getattr(record, field, None)
                actual = record.payload.object if field == "object" else actual
                assert actual == value, (index, field, actual)

        # The same daemon: the reference reads back every record ours wrote, field for field.
        ids = list(dict.fromkeys(r.id for r in ours if hasattr(r, "audit_log")))
        reads = cross_read_ops(ids)
        ref_reads = run_reference(reference_python, our_daemon.addr, reads)
        our_reads = await _run_ours(kind, our_daemon.addr, reads)
        exact = Matcher(loose=False)
        for index, (ref, mine) in enumerate(zip(ref_reads, our_reads, strict=True)):
            exact.outcome(ref, mine, f"read {index} {reads[index]['call']}")
        assert exact.compared > 1000
        assert len(ref_reads[-4]["records"]) == len(ids)  # every record seen at hyper trust


def _id_args(arg: Any) -> list[dict[str, int]]:
    if isinstance(arg, list):
        return [a for a in arg if isinstance(a, dict) and "$id" in a]
    return [arg] if isinstance(arg, dict) and "$id" in arg else []


def test_both_clients_import_and_work_in_one_process(
    reference_python: str, daemon: Membraned
) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        import membrane                            # the reference first: it owns the default pool
        from membrane import MembraneClient as Reference
        from membrane_integrations.membrane import MembraneClient as Ours
        from membrane_integrations.membrane.proto import membrane_pb2_grpc
        import google.protobuf
        ours = Ours({daemon.addr!r}, timeout=10)
        ref = Reference({daemon.addr!r}, timeout=10)
        mine = ours.ingest_observation("user", "prefers", "tea")
        theirs = ref.ingest_event("file_edit", "main.py")
        print(json.dumps({{
            "protobuf": google.protobuf.__version__,
            "ref_reads_ours": ref.retrieve_by_id(mine.id).payload["object"],
            "ours_reads_ref": ours.retrieve_by_id(theirs.id).payload.timeline[0].event_kind,
            "total": ours.get_metrics()["total_records"],
            "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("membrane",)),
        }}))
        """
    )
    done = subprocess.run(
        [reference_python, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert int(result["protobuf"].split(".")[0]) >= 6  # what the reference needs
    assert result["ref_reads_ours"] == "tea"
    assert result["ours_reads_ref"] == "file_edit"
    assert result["total"] == 2
    assert "membrane.v1.membrane_pb2" in result["modules"]
