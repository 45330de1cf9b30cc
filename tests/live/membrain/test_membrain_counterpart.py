"""``to_async`` / ``to_sync``: a client's counterpart has its settings and works on the emulator."""

from __future__ import annotations

import httpx

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient
from membrane_integrations.membrain._flows import PollPolicy
from tests.support.emulator_fixtures import KEY_A

RETRY = RetryPolicy(max_retries=5, initial_backoff=0.0, jitter=0.0)
POLL = PollPolicy(initial=0.01, maximum=0.05)


def _settings(client: MembrainClient | AsyncMembrainClient) -> tuple[object, ...]:
    cfg = client._config
    return (
        cfg.root_url,
        cfg.api_key,
        cfg.bearer_token,
        cfg.timeout,
        cfg.retry,
        cfg.poll,
        cfg.add_tokens,
        cfg.headers(),
    )


async def test_to_async_carries_settings_and_works(emu: MembrainEmulator, box: str) -> None:
    with MembrainClient(
        KEY_A,
        base_url=emu.url + "/api/v1",
        bearer_token="bearer-secret",
        timeout=7.5,
        retry_policy=RETRY,
        poll_policy=POLL,
        add_tokens=False,
        http_client=httpx.Client(),
    ) as client:
        derived = client.to_async()
        assert isinstance(derived, AsyncMembrainClient)
        assert _settings(derived) == _settings(client)
        assert derived._config is client._config  # the very same settings, key included
        assert derived._owns_http  # its own pool, closed by its own aclose()
        async with derived:
            added = await derived.add("Derived async client writes", scope=[f"container.{box}"])
        # The sync client still works after its counterpart closed, and sees the write.
        assert client.get(added.memory_id).content == "Derived async client writes"


async def test_to_sync_carries_settings_and_works(emu: MembrainEmulator, box: str) -> None:
    async with AsyncMembrainClient(
        KEY_A, base_url=emu.url, timeout=None, max_retries=4, poll_policy=POLL
    ) as aclient:
        derived = aclient.to_sync()
        assert isinstance(derived, MembrainClient)
        assert _settings(derived) == _settings(aclient)
        assert derived._config.retry.max_retries == 4
        with derived:
            added = derived.add("Derived sync client writes", scope=[f"container.{box}"])
        got = await aclient.get(added.memory_id)
        assert got.content == "Derived sync client writes"
