"""Record and replay Membrane gRPC exchanges (``cassettes/membrane/<name>.yaml``).

Recording: :func:`recording_channel` / :func:`recording_aio_channel` wrap a real channel with a
client interceptor that appends each exchange to a :class:`Cassette`: the method, the request
(protobuf ``json_format`` with field names as in the .proto; a ``bytes`` field that holds JSON is
stored as ``{json: <value>}`` so a cassette reads as the daemon's documents), and
either the response or the status (code name and redacted details). Metadata is never recorded,
so API keys cannot reach a cassette. ``Cassette.save()`` writes the YAML.

Replay: :class:`ReplayChannel` (sync) and :class:`AsyncReplayChannel` (grpc.aio shape) answer
from a cassette with no server and no socket: a call is matched on method + request, taking the
first not-yet-used exchange that matches (so repeated identical calls replay in order). A miss
raises :class:`CassetteMiss`. Pass the channel to a client: ``MembraneClient(channel=...)``.

Committed cassettes are ``cassettes/membrane/<scenario>.<sync|async>.yaml``: each scenario of
tests/live/membrane/daemon_scenarios.py recorded from the real membraned (SQLite store, API key
:data:`RECORDING_API_KEY`) through our sync client and through our async client. Re-record from a
live daemon (the ``record-membrane-cassettes`` Make target)::

    MEMBRANE_RECORD=1 .venv/bin/python -m pytest tests/live/membrane/test_membraned.py \
        -m membraned -k "scenario and sqlite"
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
import yaml
from google.protobuf import json_format, message_factory
from google.protobuf.message import Message

from membrane_integrations.core.errors import redact
from membrane_integrations.membrane.proto import membrane_pb2

ROOT = Path(__file__).resolve().parents[2]
CASSETTE_DIR = ROOT / "cassettes" / "membrane"
_SERVICE = membrane_pb2.DESCRIPTOR.services_by_name["MembraneService"]
FORMAT_VERSION = 2  # 2: JSON-holding bytes fields stored as {json: value}
RECORDERS = ("sync", "async")
# The daemon that records cassettes requires this key; tests scan every cassette for it.
RECORDING_API_KEY = "cassette-recording-key-5d1e"


def cassette_path(scenario: str, recorder: str) -> Path:
    """Where the cassette of ``scenario`` recorded through the ``recorder`` client lives."""
    return CASSETTE_DIR / f"{scenario}.{recorder}.yaml"


class CassetteMiss(AssertionError):
    """A replayed call has no recorded exchange left that matches it."""


def _method_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _json_or_none(raw: bytes) -> Any:
    try:
        return {"json": json.loads(raw.decode("utf-8"))}
    except (UnicodeDecodeError, ValueError):
        return None


def _to_dict(message: Message) -> dict[str, Any]:
    """``json_format`` dict of ``message``; a ``bytes`` field holding JSON is kept as
    ``{"json": value}`` (readable, and scanned for secrets as text), other bytes stay base64."""
    result: dict[str, Any] = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=False
    )
    for fd in message.DESCRIPTOR.fields:
        if fd.type != fd.TYPE_BYTES or fd.name not in result:
            continue
        value = getattr(message, fd.name)
        if isinstance(value, bytes):
            decoded = _json_or_none(value)
            if decoded is not None:
                result[fd.name] = decoded
        else:
            items = [_json_or_none(v) for v in value]
            if all(item is not None for item in items):
                result[fd.name] = items
    return result


def _encode_json_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`_to_dict`'s ``{"json": value}`` so ``json_format.ParseDict`` accepts it."""

    def encode(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"json"}:
            raw = json.dumps(value["json"], separators=(",", ":"), ensure_ascii=False)
            return base64.b64encode(raw.encode("utf-8")).decode("ascii")
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    return {key: encode(value) for key, value in doc.items()}


def _canonical(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def response_class(method: str) -> type[Message]:
    """The generated response message class of a ``MembraneService`` method."""
    output = _SERVICE.methods_by_name[method].output_type
    cls: type[Message] = message_factory.GetMessageClass(output)
    return cls


@dataclass
class Cassette:
    """An ordered list of recorded exchanges, loaded from or saved to one YAML file."""

    path: Path
    interactions: list[dict[str, Any]] = field(default_factory=list)
    secrets: tuple[str, ...] = ()
    recorded_from: str = ""
    _used: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        doc = yaml.safe_load(path.read_text()) or {}
        return cls(
            path=path,
            interactions=list(doc.get("interactions", [])),
            recorded_from=str(doc.get("recorded_from", "")),
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "version": FORMAT_VERSION,
            "service": "membrane.v1.MembraneService",
            **({"recorded_from": self.recorded_from} if self.recorded_from else {}),
            "interactions": self.interactions,
        }
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        for secret in self.secrets:
            if secret and secret in text:
                raise AssertionError("refusing to write a cassette that contains a secret")
        self.path.write_text(text)

    def record(self, method: str, request: Message, outcome: Any) -> None:
        entry: dict[str, Any] = {"method": method, "request": _to_dict(request)}
        if isinstance(outcome, grpc.RpcError):
            code = outcome.code() if callable(getattr(outcome, "code", None)) else None
            details = outcome.details() if callable(getattr(outcome, "details", None)) else ""
            entry["status"] = {
                "code": code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN",
                "details": redact(details or "", *self.secrets),
            }
        else:
            entry["response"] = _to_dict(outcome)
        self.interactions.append(entry)

    def answer(self, method: str, request: Message) -> Message:
        """The recorded response for this call, or raise its recorded status."""
        key = _canonical(_to_dict(request))
        for index, entry in enumerate(self.interactions):
            if index in self._used or entry["method"] != method:
                continue
            if _canonical(entry.get("request") or {}) != key:
                continue
            self._used.add(index)
            if "status" in entry:
                raise ReplayedRpcError(
                    grpc.StatusCode[entry["status"]["code"]], entry["status"].get("details", "")
                )
            reply = response_class(method)()
            json_format.ParseDict(_encode_json_fields(entry.get("response") or {}), reply)
            return reply
        raise CassetteMiss(
            f"{self.path.name}: no unused recorded {method} exchange matches request {key}"
        )

    @property
    def unused(self) -> list[int]:
        return [i for i in range(len(self.interactions)) if i not in self._used]


class ReplayedRpcError(grpc.RpcError):  # type: ignore[misc]
    """A recorded failure status, raised the way grpc raises a failed call."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


# --- recording -------------------------------------------------------------------------------


class _RecordingInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Message
    ) -> Any:
        outcome = continuation(client_call_details, request)
        method = _method_name(client_call_details.method)
        error = outcome.exception()
        self.cassette.record(method, request, error if error is not None else outcome.result())
        return outcome


class _AioRecordingInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Message
    ) -> Any:
        call = await continuation(client_call_details, request)
        method = client_call_details.method
        method = _method_name(method.decode() if isinstance(method, bytes) else method)
        try:
            response = await call
        except grpc.RpcError as exc:
            self.cassette.record(method, request, exc)
        else:
            self.cassette.record(method, request, response)
        return call


def recording_channel(channel: grpc.Channel, cassette: Cassette) -> grpc.Channel:
    """Wrap a sync channel so every exchange is appended to ``cassette``."""
    return grpc.intercept_channel(channel, _RecordingInterceptor(cassette))


def recording_aio_channel(
    addr: str,
    cassette: Cassette,
    *,
    credentials: grpc.ChannelCredentials | None = None,
) -> grpc.aio.Channel:
    """A new grpc.aio channel to ``addr`` that records every exchange into ``cassette``."""
    interceptors = [_AioRecordingInterceptor(cassette)]
    if credentials is not None:
        return grpc.aio.secure_channel(addr, credentials, interceptors=interceptors)
    return grpc.aio.insecure_channel(addr, interceptors=interceptors)


# --- replay ----------------------------------------------------------------------------------


class _ReplayCallable:
    def __init__(self, cassette: Cassette, method: str, deserialize: Callable[[bytes], Any]):
        self.cassette = cassette
        self.method = method
        self.deserialize = deserialize

    def answer(self, request: Message) -> Any:
        # Round-trip through bytes so replay exercises the same deserializer as the wire.
        return self.deserialize(self.cassette.answer(self.method, request).SerializeToString())

    def __call__(self, request: Message, **kwargs: Any) -> Any:
        return self.answer(request)


class _AsyncReplayCallable(_ReplayCallable):
    def __call__(self, request: Message, **kwargs: Any) -> Any:
        async def reply() -> Any:
            return self.answer(request)

        return reply()


class ReplayChannel:
    """A stand-in for ``grpc.Channel`` that answers unary calls from a cassette."""

    _callable = _ReplayCallable

    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self.closed = False

    def unary_unary(
        self,
        method: str,
        request_serializer: Callable[..., bytes] | None = None,
        response_deserializer: Callable[[bytes], Any] | None = None,
        **kwargs: Any,
    ) -> _ReplayCallable:
        name = _method_name(method)
        deserialize = response_deserializer or response_class(name).FromString
        return self._callable(self.cassette, name, deserialize)

    def close(self) -> None:
        self.closed = True


class AsyncReplayChannel(ReplayChannel):
    """The grpc.aio shape of :class:`ReplayChannel`: calls return awaitables."""

    _callable = _AsyncReplayCallable

    async def close(self) -> None:  # type: ignore[override]
        self.closed = True


@pytest.fixture
def no_network() -> Iterator[None]:
    """Block every Python-level socket (pytest-socket) for the duration of a replay."""
    from pytest_socket import disable_socket, enable_socket

    disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()
