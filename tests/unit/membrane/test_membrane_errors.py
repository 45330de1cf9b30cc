"""gRPC status -> error hierarchy, keeping the grpc.RpcError face (code(), details())."""

from __future__ import annotations

import grpc
import pytest

from membrane_integrations.core import errors as core
from membrane_integrations.membrane.errors import (
    MembraneRpcError,
    error_from_rpc_error,
    error_from_status,
    malformed_response,
)

TABLE = [
    (grpc.StatusCode.UNAUTHENTICATED, core.AuthenticationError),
    (grpc.StatusCode.PERMISSION_DENIED, core.PermissionDeniedError),
    (grpc.StatusCode.NOT_FOUND, core.NotFoundError),
    (grpc.StatusCode.INVALID_ARGUMENT, core.InvalidRequestError),
    (grpc.StatusCode.OUT_OF_RANGE, core.InvalidRequestError),
    (grpc.StatusCode.FAILED_PRECONDITION, core.ConflictError),
    (grpc.StatusCode.ALREADY_EXISTS, core.ConflictError),
    (grpc.StatusCode.ABORTED, core.ConflictError),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, core.RateLimitedError),
    (grpc.StatusCode.UNAVAILABLE, core.BackendUnavailableError),
    (grpc.StatusCode.CANCELLED, core.BackendUnavailableError),
    (grpc.StatusCode.DEADLINE_EXCEEDED, core.BackendTimeoutError),
    (grpc.StatusCode.INTERNAL, core.ServerError),
    (grpc.StatusCode.UNKNOWN, core.ServerError),
    (grpc.StatusCode.DATA_LOSS, core.ServerError),
    (grpc.StatusCode.UNIMPLEMENTED, core.ServerError),
]


@pytest.mark.parametrize(("code", "cls"), TABLE)
def test_each_status_maps_to_its_class_and_stays_an_rpc_error(
    code: grpc.StatusCode, cls: type[core.MembraneIntegrationsError]
) -> None:
    err = error_from_status(code, "server says no", method="Retrieve")
    assert isinstance(err, cls) and isinstance(err, core.MembraneIntegrationsError)
    assert isinstance(err, grpc.RpcError) and isinstance(err, MembraneRpcError)
    assert err.code() is code  # type: ignore[attr-defined]
    assert err.details() == "server says no"  # type: ignore[attr-defined]
    assert err.grpc_code == code.name and err.server_message == "server says no"
    assert f"Retrieve failed with {code.name}: server says no" in str(err)
    assert code.name in repr(err)


def test_every_grpc_status_is_mapped() -> None:
    mapped = {code for code, _ in TABLE}
    assert mapped == set(grpc.StatusCode) - {grpc.StatusCode.OK}


def test_secrets_never_reach_message_details_or_repr() -> None:
    err = error_from_status(
        grpc.StatusCode.UNAUTHENTICATED,
        "bad key my-secret-key-1 (authorization: Bearer my-secret-key-1)",
        method="GetMetrics",
        secrets=("my-secret-key-1",),
    )
    text = str(err) + repr(err) + err.details()  # type: ignore[attr-defined]
    assert "my-secret-key-1" not in text and "[redacted]" in text


def test_translates_a_grpc_raised_error() -> None:
    class Raised(grpc.RpcError):  # type: ignore[misc]
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.NOT_FOUND

        def details(self) -> str:
            return "record not found: x"

    err = error_from_rpc_error(Raised(), method="RetrieveByID")
    assert isinstance(err, core.NotFoundError) and err.code() is grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]


def test_malformed_response_is_an_rpc_error_too() -> None:
    err = malformed_response(core.MalformedResponseError("bad JSON"), method="Retrieve")
    assert isinstance(err, core.MalformedResponseError) and isinstance(err, grpc.RpcError)
    assert err.code() is grpc.StatusCode.INTERNAL and err.details() == "bad JSON"
