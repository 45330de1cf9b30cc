"""Body and input limits: configurable, 413 beyond, bounded replies, the client's error type."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from membrane_integrations.core.errors import PayloadTooLargeError
from membrane_integrations.emulator import Limits, MembrainEmulator

pytestmark = pytest.mark.live

KEY = "emu-limits"


@pytest.fixture(scope="module")
def small() -> Iterator[MembrainEmulator]:
    limits = Limits(max_body_bytes=4096, max_embedding_inputs=3, max_embedding_input_chars=50)
    with MembrainEmulator(api_keys=[KEY], limits=limits, embedder="hashing") as emu:
        yield emu


def test_the_default_fits_fifty_20000_character_items_escaped() -> None:
    assert Limits().max_body_bytes > 50 * 20_000 * 6


def test_a_body_over_the_cap_is_413_through_the_client_and_nothing_is_stored(
    small: MembrainEmulator,
) -> None:
    with small.client(KEY) as client:
        with pytest.raises(PayloadTooLargeError) as info:
            client.add("x" * 5000)
        assert info.value.status_code == 413 and info.value.field == "body"
        assert client.count() == 0
        assert client.add("a short fact").action == "created"  # under the cap: served


def test_a_chunked_body_without_length_is_counted_too(small: MembrainEmulator) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"content": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    with httpx.Client(base_url=small.url, headers={"X-API-Key": KEY}) as raw:
        reply = raw.post(
            "/api/v1/memories", content=chunks(), headers={"content-type": "application/json"}
        )
    assert reply.status_code == 413
    assert reply.json()["detail"]["code"] == "PAYLOAD_TOO_LARGE" and len(reply.content) < 400


@pytest.mark.parametrize(
    "payload",
    [{"input": ["a", "b", "c", "d"]}, {"input": "y" * 51}],
    ids=["too-many-inputs", "an-input-too-long"],
)
def test_embeddings_inputs_over_their_caps_are_413_openai_shaped(
    small: MembrainEmulator, payload: dict[str, object]
) -> None:
    with httpx.Client(base_url=small.url, headers={"Authorization": f"Bearer {KEY}"}) as raw:
        reply = raw.post("/v1/embeddings", json=payload)
        assert reply.status_code == 413, reply.text
        assert reply.json()["error"]["code"] == "input_too_large"
        assert raw.post("/v1/embeddings", json={"input": ["a", "b"]}).status_code == 200
