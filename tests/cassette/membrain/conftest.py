"""Cassette fixtures: replay with the network blocked, or record from the emulator / hosted service.

* ``make test`` replays: record mode ``none``, no server, the network blocked, requests matched on
  method, path, query and body (never on the host or the random port).
* ``make record-cassettes`` (``MEMBRAIN_RECORD=1 pytest tests/cassette --record-mode=rewrite``)
  records from an in-process emulator, or from the hosted service when ``MEMBRAIN_API_KEY`` and
  ``MEMBRAIN_BASE_URL`` are both set. Keys are scrubbed from headers, URLs and bodies.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import PollPolicy
from tests.support.cassette_match import body_without_add_tokens
from tests.support.emulator_fixtures import Either, Target

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "membrain"
REPLAY_URL = "http://membrain.cassette.invalid"
REPLAY_KEY = "emu-cassette-replay"
RECORD_KEY = "emu-cassette-recorder"
OTHER_KEY = "emu-cassette-other"
_SECRETS: list[str] = []


def _scrub(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "[redacted]")
    return text


def _scrub_request(request: Any) -> Any:
    request.uri = _scrub(request.uri)
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        request.body = _scrub(body).encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes):
        response["body"]["string"] = _scrub(body.decode("utf-8", "replace")).encode()
    return response


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("body_without_add_tokens", body_without_add_tokens)


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": [("x-api-key", "[redacted]"), ("authorization", "[redacted]")],
        "filter_query_parameters": [("api_key", "[redacted]")],
        "match_on": ["method", "path", "query", "body_without_add_tokens"],
        "decode_compressed_response": True,
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
    }


@pytest.fixture(scope="session")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    mode = request.config.getoption("--record-mode", default="none") or "none"
    if mode == "none":
        yield Target(REPLAY_URL, REPLAY_KEY, None, recording=False)
        return
    hosted_key = os.environ.get("MEMBRAIN_API_KEY")
    hosted_url = os.environ.get("MEMBRAIN_BASE_URL")
    if hosted_key and hosted_url:
        _SECRETS.append(hosted_key)
        yield Target(hosted_url, hosted_key, None, recording=True)
        return
    _SECRETS.extend([RECORD_KEY, OTHER_KEY])
    with MembrainEmulator(api_keys=[RECORD_KEY, OTHER_KEY]) as emulator:
        yield Target(emulator.url, RECORD_KEY, emulator, recording=True)


def _policies(target: Target) -> dict[str, Any]:
    # Replayed polling and retries never wait: the recorded replies come back in order anyway.
    if target.recording:
        return {"retry_policy": RetryPolicy(max_retries=0)}
    return {
        "retry_policy": RetryPolicy(max_retries=0),
        "poll_policy": PollPolicy(initial=0.0, maximum=0.0),
    }


@pytest.fixture
def sync_api(target: Target) -> Iterator[Either]:
    from membrane_integrations.membrain import MembrainClient

    with MembrainClient(target.api_key, base_url=target.base_url, **_policies(target)) as c:
        yield Either(c)


@pytest.fixture
async def async_api(target: Target) -> AsyncIterator[Either]:
    from membrane_integrations.membrain import AsyncMembrainClient

    async with AsyncMembrainClient(
        target.api_key, base_url=target.base_url, **_policies(target)
    ) as c:
        yield Either(c)
