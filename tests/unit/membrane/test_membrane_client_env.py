"""MembraneClient / AsyncMembraneClient read MEMBRANE_ADDR and MEMBRANE_API_KEY when not given."""

from __future__ import annotations

import pytest

from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient
from membrane_integrations.membrane._config import ClientConfig


def test_environment_fills_address_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBRANE_ADDR", "127.0.0.1:7777")
    monkeypatch.setenv("MEMBRANE_API_KEY", "env-secret")
    cfg = ClientConfig.resolve()
    assert cfg.addr == "127.0.0.1:7777"
    assert cfg.metadata() == (("authorization", "Bearer env-secret"),)
    with MembraneClient() as client:
        assert client.addr == "127.0.0.1:7777"
        assert "env-secret" not in repr(client) and "api_key='***'" in repr(client)
    aclient = AsyncMembraneClient()
    assert aclient.addr == "127.0.0.1:7777" and "env-secret" not in repr(aclient)


def test_arguments_win_and_an_empty_key_sends_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBRANE_ADDR", "127.0.0.1:7777")
    monkeypatch.setenv("MEMBRANE_API_KEY", "env-secret")
    cfg = ClientConfig.resolve("127.0.0.1:1", api_key="given")
    assert (cfg.addr, cfg.metadata()) == ("127.0.0.1:1", (("authorization", "Bearer given"),))
    assert ClientConfig.resolve(api_key="").metadata() == ()


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMBRANE_ADDR", raising=False)
    monkeypatch.delenv("MEMBRANE_API_KEY", raising=False)
    cfg = ClientConfig.resolve()
    assert (cfg.addr, cfg.metadata()) == ("localhost:9090", ())


def test_the_framework_configs_read_the_address_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from membrane_integrations.agent_framework import MembraneContextConfig
    from membrane_integrations.autogen import MembraneMemoryConfig

    monkeypatch.setenv("MEMBRANE_ADDR", "127.0.0.1:7777")
    assert MembraneMemoryConfig(container="c").addr == "127.0.0.1:7777"
    assert MembraneContextConfig().addr == "127.0.0.1:7777"
    assert MembraneMemoryConfig(container="c", addr="127.0.0.1:1").addr == "127.0.0.1:1"
    monkeypatch.delenv("MEMBRANE_ADDR")
    assert MembraneMemoryConfig(container="c").addr == "localhost:9090"
