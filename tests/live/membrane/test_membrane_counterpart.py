"""``to_async`` / ``to_sync``: the counterpart has the settings and works on the real daemon."""

from __future__ import annotations

import grpc
import pytest

from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from tests.support.membraned import Membraned, require_daemon

API_KEY = "counterpart-secret-5d1c"

pytestmark = [pytest.mark.live, pytest.mark.membraned]

RETRY = RetryPolicy(max_retries=3, initial_backoff=0.0, jitter=0.0)
OPTIONS = (("grpc.max_send_message_length", 8 * 1024 * 1024),)


def _settings(client: MembraneClient | AsyncMembraneClient) -> tuple[object, ...]:
    cfg = client._config
    return (
        cfg.addr,
        cfg.tls,
        cfg.root_certificates,
        cfg.api_key,
        cfg.timeout,
        cfg.retry,
        cfg.options(),
        cfg.metadata(),
    )


@pytest.fixture(scope="module")
def tls_daemon() -> Membraned:
    with Membraned(require_daemon(), api_key=API_KEY, tls=True) as daemon:
        yield daemon  # type: ignore[misc]


async def test_to_async_carries_settings_and_works(tls_daemon: Membraned) -> None:
    assert tls_daemon.cert is not None
    with MembraneClient(
        tls_daemon.addr,
        tls_ca_cert=str(tls_daemon.cert.ca_cert),
        api_key=API_KEY,
        timeout=9.0,
        retry_policy=RETRY,
        channel_options=OPTIONS,
    ) as client:
        derived = client.to_async()
        assert isinstance(derived, AsyncMembraneClient)
        assert _settings(derived) == _settings(client)
        assert derived._config.tls and derived._config.root_certificates
        async with derived:
            rec = await derived.ingest_event("file_edit", "src/derived.py", summary="async twin")
        # The counterpart closed its own channel only: the sync client still works.
        assert client.retrieve_by_id(rec.id).id == rec.id


async def test_to_sync_carries_settings_and_works(tls_daemon: Membraned) -> None:
    assert tls_daemon.cert is not None
    async with AsyncMembraneClient(
        tls_daemon.addr,
        tls_ca_cert=str(tls_daemon.cert.ca_cert),
        api_key=API_KEY,
        max_retries=5,
    ) as aclient:
        derived = aclient.to_sync()
        assert isinstance(derived, MembraneClient)
        assert _settings(derived) == _settings(aclient)
        assert derived._config.retry.max_retries == 5
        with derived:
            rec = derived.ingest_event("file_edit", "src/derived.py", summary="sync twin")
        assert (await aclient.retrieve_by_id(rec.id)).id == rec.id


async def test_counterpart_of_a_given_channel_owns_its_own(tls_daemon: Membraned) -> None:
    """A client built on a caller's channel derives one that opens (and closes) its own."""
    assert tls_daemon.cert is not None
    creds = grpc.ssl_channel_credentials(tls_daemon.cert.ca_cert.read_bytes())
    with grpc.secure_channel(tls_daemon.addr, creds) as channel:
        client = MembraneClient(
            tls_daemon.addr,
            tls_ca_cert=str(tls_daemon.cert.ca_cert),
            api_key=API_KEY,
            channel=channel,
        )
        derived = client.to_async()
        assert derived._owns_channel
        async with derived:
            assert isinstance(await derived.get_metrics(), dict)
        client.close()
        # The caller's channel stays open: the client did not own it.
        assert isinstance(
            MembraneClient(tls_daemon.addr, api_key=API_KEY, channel=channel).get_metrics(), dict
        )


async def test_aclose_and_close_are_one_method(tls_daemon: Membraned) -> None:
    aclient = AsyncMembraneClient(tls_daemon.addr, api_key=API_KEY)
    assert AsyncMembraneClient.close is AsyncMembraneClient.aclose
    await aclient.aclose()
    await aclient.close()  # idempotent under either name
    with pytest.raises(RuntimeError, match="closed"):
        await aclient.get_metrics()
