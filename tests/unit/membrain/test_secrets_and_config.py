"""Construction (env fallbacks, URL handling) and the key's absence from repr, errors and logs."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from membrane_integrations.core.errors import InvalidRequestError, MembraneIntegrationsError
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient

from .conftest import API_KEY, json_reply

CLIENTS = [MembrainClient, AsyncMembrainClient]
PLAIN_KEY = "plainkey-without-known-prefix-123"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMBRAIN_API_KEY", raising=False)
    monkeypatch.delenv("MEMBRAIN_BASE_URL", raising=False)


@pytest.mark.parametrize("cls", CLIENTS)
def test_env_fallbacks(cls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBRAIN_API_KEY", API_KEY)
    monkeypatch.setenv("MEMBRAIN_BASE_URL", "http://127.0.0.1:9999/api/v1")
    client = cls()
    assert client.base_url == "http://127.0.0.1:9999"
    assert repr(client) == f"{cls.__name__}(base_url='http://127.0.0.1:9999', api_key='***')"


@pytest.mark.parametrize("cls", CLIENTS)
def test_missing_key_names_the_env_var(cls: Any) -> None:
    with pytest.raises(InvalidRequestError, match="MEMBRAIN_API_KEY") as info:
        cls(base_url="http://127.0.0.1:1")
    assert info.value.field == "api_key"


@pytest.mark.parametrize("cls", CLIENTS)
def test_missing_url_names_the_env_var(cls: Any) -> None:
    with pytest.raises(InvalidRequestError, match="MEMBRAIN_BASE_URL") as info:
        cls(API_KEY)
    assert info.value.field == "base_url"


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("url", ["ftp://h", "not a url", "http://", "http://u:p@h"])
def test_bad_url_rejected(cls: Any, url: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        cls(API_KEY, base_url=url)
    assert info.value.field == "base_url"


@pytest.mark.parametrize("cls", CLIENTS)
def test_bearer_only_needs_no_key_and_hides_token(cls: Any) -> None:
    client = cls(bearer_token="jwt-secret-token", base_url="http://h")
    assert "jwt-secret-token" not in repr(client)
    assert "bearer_token='***'" in repr(client)


@pytest.mark.parametrize("cls", CLIENTS)
def test_repr_and_vars_hide_the_key(cls: Any) -> None:
    client = cls(PLAIN_KEY, base_url="http://h")
    assert PLAIN_KEY not in repr(client)
    assert PLAIN_KEY not in repr(client._config)
    assert PLAIN_KEY not in str(vars(client))


def test_sync_closes_own_http_client_but_not_a_borrowed_one() -> None:
    borrowed = httpx.Client()
    with MembrainClient(API_KEY, base_url="http://h", http_client=borrowed):
        pass
    with MembrainClient(API_KEY, base_url="http://h") as own:
        pass
    assert not borrowed.is_closed and own._http.is_closed
    borrowed.close()


async def test_async_closes_own_http_client_but_not_a_borrowed_one() -> None:
    borrowed = httpx.AsyncClient()
    async with AsyncMembrainClient(API_KEY, base_url="http://h", http_client=borrowed):
        pass
    async with AsyncMembrainClient(API_KEY, base_url="http://h") as own:
        pass
    assert not borrowed.is_closed and own._http.is_closed
    await borrowed.aclose()


async def test_key_never_in_errors_or_logs(make: Any, caplog: pytest.LogCaptureFixture) -> None:
    echo = f"invalid key {PLAIN_KEY} (X-API-Key: {PLAIN_KEY})"
    h = make(
        [
            json_reply(200, {"total_memories": 1}),
            json_reply(401, {"detail": {"code": "UNAUTHORIZED", "message": echo}}),
            httpx.ConnectError(f"refused for {PLAIN_KEY}"),
            httpx.ConnectError(f"refused for {PLAIN_KEY}"),
            httpx.ConnectError(f"refused for {PLAIN_KEY}"),
            *[httpx.Response(502, text=f"<html>{PLAIN_KEY}</html>") for _ in range(3)],
        ],
        api_key=PLAIN_KEY,
        retry_policy=None,
        max_retries=2,
    )
    caplog.set_level(logging.DEBUG)
    await h.call("stats")
    errors = []
    for _ in range(3):
        try:
            await h.call("stats")
        except MembraneIntegrationsError as exc:
            errors.append(exc)
    assert len(errors) == 3
    assert h.requests[0].headers["x-api-key"] == PLAIN_KEY
    for exc in errors:
        text = f"{exc} {exc!r} {vars(exc)}"
        assert PLAIN_KEY not in text
        assert "[redacted]" in str(exc)
    assert caplog.records, "requests are logged at DEBUG"
    logged = [r for r in caplog.records if r.name == "membrane_integrations.membrain"]
    assert any("GET /api/v1/stats -> 200" in r.getMessage() for r in logged)
    assert any("retrying" in r.getMessage() for r in logged)
    for record in caplog.records:
        assert PLAIN_KEY not in record.getMessage()
        assert PLAIN_KEY not in str(record.args)
