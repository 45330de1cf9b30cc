"""The committed stubs are exactly what grpcio-tools generates from the committed .proto.

(Writes only to pytest's tmp_path; no network.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from membrane_integrations.membrane.proto import membrane_pb2

ROOT = Path(__file__).resolve().parents[3]


def _gen_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    gen = _gen_module()
    written = gen.generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(gen.GENERATED)
    for path in written:
        committed = gen.PROTO_DIR / path.name
        assert committed.read_text() == path.read_text(), (
            f"{committed} is stale: run `python scripts/gen_proto.py`"
        )


def test_wire_contract_names_and_field_numbers() -> None:
    service = membrane_pb2.DESCRIPTOR.services_by_name["MembraneService"]
    assert service.full_name == "membrane.v1.MembraneService"
    assert [m.name for m in service.methods] == [
        "IngestEvent",
        "IngestToolOutput",
        "IngestObservation",
        "IngestOutcome",
        "IngestWorkingState",
        "Retrieve",
        "RetrieveByID",
        "Supersede",
        "Fork",
        "Retract",
        "Merge",
        "Reinforce",
        "Penalize",
        "GetMetrics",
        "Contest",
    ]
    fields = {
        f.name: (f.number, f.type) for f in membrane_pb2.IngestWorkingStateRequest.DESCRIPTOR.fields
    }
    assert fields["active_constraints"][0] == 7 and fields["sensitivity"][0] == 11
    retrieve = {f.name: f.number for f in membrane_pb2.RetrieveRequest.DESCRIPTOR.fields}
    assert retrieve == {
        "task_descriptor": 1,
        "trust": 2,
        "memory_types": 3,
        "min_salience": 4,
        "limit": 5,
    }


def test_stubs_live_in_a_private_pool_so_the_reference_client_can_share_the_process() -> None:
    from google.protobuf import descriptor_pool

    assert membrane_pb2.DESCRIPTOR.pool is membrane_pb2.POOL
    assert membrane_pb2.POOL is not descriptor_pool.Default()
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("membrane.v1.IngestEventRequest")
    wire = membrane_pb2.IngestEventRequest(source="s", event_kind="e", ref="r").SerializeToString()
    assert wire == b"\n\x01s\x12\x01e\x1a\x01r"  # field numbers unchanged
