"""The Membrane retry flow driven by hand: no channel, no sleeping, every decision visible."""

from __future__ import annotations

import grpc
import pytest

from membrane_integrations.core.drive import Sleep
from membrane_integrations.core.errors import (
    BackendUnavailableError,
    MalformedResponseError,
    NotFoundError,
)
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import _protocol as ops
from membrane_integrations.membrane._flows import Context, Send, call
from membrane_integrations.membrane.proto import membrane_pb2 as pb

POLICY = RetryPolicy(max_retries=2, initial_backoff=0.25, jitter=0.0)
METRICS = pb.MetricsResponse(snapshot=b'{"total_records": 2}')


class _Status(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str = "scripted") -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def test_a_read_is_resent_after_unavailable_with_the_policy_backoff() -> None:
    flow = call(ops.get_metrics(), Context(POLICY, timeout=3.0))
    assert next(flow) == Send("GetMetrics", pb.GetMetricsRequest(), 3.0)
    assert flow.send(_Status(grpc.StatusCode.UNAVAILABLE)) == Sleep(0.25)
    assert isinstance(flow.send(None), Send)
    assert flow.send(_Status(grpc.StatusCode.RESOURCE_EXHAUSTED)) == Sleep(0.5)
    assert isinstance(flow.send(None), Send)
    with pytest.raises(StopIteration) as done:
        flow.send(METRICS)
    assert done.value.value == {"total_records": 2}


def test_a_read_gives_up_when_the_retries_are_used_up() -> None:
    flow = call(ops.retrieve_by_id("r1"), Context(RetryPolicy(max_retries=0)))
    next(flow)
    with pytest.raises(BackendUnavailableError) as err:
        flow.send(_Status(grpc.StatusCode.UNAVAILABLE))
    assert isinstance(err.value, grpc.RpcError) and err.value.code() is grpc.StatusCode.UNAVAILABLE


def test_a_write_is_never_sent_twice() -> None:
    flow = call(ops.reinforce("r1", "actor", "why"), Context(POLICY))
    assert next(flow).method == "Reinforce"
    with pytest.raises(BackendUnavailableError):
        flow.send(_Status(grpc.StatusCode.UNAVAILABLE))


def test_other_statuses_are_mapped_at_once_and_secrets_redacted() -> None:
    flow = call(ops.retrieve_by_id("r1"), Context(POLICY, secrets=("sk-live-1",)))
    next(flow)
    with pytest.raises(NotFoundError) as err:
        flow.send(_Status(grpc.StatusCode.NOT_FOUND, "no record r1 for key sk-live-1"))
    assert "sk-live-1" not in str(err.value) and "RetrieveByID" in str(err.value)


def test_a_reply_that_does_not_parse_is_a_malformed_response_not_retried() -> None:
    flow = call(ops.get_metrics(), Context(POLICY))
    next(flow)
    with pytest.raises(MalformedResponseError) as err:
        flow.send(pb.MetricsResponse(snapshot=b"[]"))
    assert isinstance(err.value, grpc.RpcError)
