"""The package launcher (``LocalMembraned``, through the tests' ``Membraned``) on the real daemon.

It starts membraned with its command line (``-addr``, ``-db``, ``-config``; the key in
``MEMBRANE_API_KEY``; TLS from the config file), waits for the ready line and a GetMetrics,
scrubs inherited daemon variables, reports an early exit with the daemon's stderr, stops with
SIGTERM and cleans up, and restarts on the same address with or without its data.
"""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from membrane_integrations.core.errors import AuthenticationError
from membrane_integrations.membrane.daemon import DAEMON_ENV
from tests.support.membraned import DaemonStartError, Membraned, free_port, require_daemon

pytestmark = [pytest.mark.live, pytest.mark.membraned]


@pytest.fixture(scope="module")
def daemon_bin() -> str:
    return require_daemon()


def test_starts_polls_ready_and_cleans_up(daemon_bin: str) -> None:
    daemon = Membraned(daemon_bin).start()
    tmp = daemon._tmp
    try:
        assert tmp is not None and (tmp / "membrane.db").exists()
        config = (tmp / "membraned.yaml").read_text()
        assert "rate_limit_per_second: 0" in config
        assert daemon.addr.startswith("127.0.0.1:")
        with daemon.client(timeout=5) as client:
            assert client.get_metrics()["total_records"] == 0
    finally:
        daemon.stop()
    assert tmp is not None and not tmp.exists()
    assert not daemon.running
    assert "membraned: listening on" in daemon.stderr
    assert "shutdown complete" in daemon.stderr  # SIGTERM led to a graceful stop


def test_inherited_daemon_variables_are_scrubbed(
    daemon_bin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in DAEMON_ENV:
        monkeypatch.setenv(name, "inherited-value")
    # An inherited encryption key would make the SQLite open fail; an inherited API key would
    # lock the client out: neither reaches the daemon.
    with Membraned(daemon_bin) as open_daemon, open_daemon.client(api_key=None) as client:
        assert client.get_metrics()["total_records"] == 0
        assert not (DAEMON_ENV & set(open_daemon._env()))
    with Membraned(daemon_bin, api_key="harness-key") as daemon:
        assert daemon._env()["MEMBRANE_API_KEY"] == "harness-key"
        with daemon.client() as client:
            client.get_metrics()
        with daemon.client(api_key="") as anonymous, pytest.raises(AuthenticationError):
            anonymous.get_metrics()
        assert "harness-key" not in repr(daemon)
    assert os.environ["MEMBRANE_API_KEY"] == "inherited-value"  # ours untouched


async def test_tls_mode_makes_a_certificate_and_the_clients_trust_it(daemon_bin: str) -> None:
    with Membraned(daemon_bin, tls=True) as daemon:
        assert daemon.cert is not None and daemon.cert.server_cert.exists()
        with daemon.client() as client:
            record = client.ingest_event("e", "r")
        async with daemon.async_client() as aclient:
            assert (await aclient.retrieve_by_id(record.id)).id == record.id
        with daemon.client(tls_ca_cert=None) as plaintext, pytest.raises(Exception):  # noqa: B017
            plaintext.get_metrics()
    assert daemon.cert is not None and not daemon.cert.server_cert.exists()


def test_early_exit_reports_stderr(daemon_bin: str) -> None:
    with Membraned(daemon_bin) as first:
        # A second daemon on the same (busy) port exits with its failure on stderr.
        second = Membraned(daemon_bin, port=first.port)
        with pytest.raises(
            DaemonStartError, match=r"exited with status 1: .*address already in use"
        ):
            second.start()
        assert second._tmp is None  # cleaned up after the failed start
    assert free_port() > 0


def test_a_bad_config_value_is_reported_with_the_daemons_words(daemon_bin: str) -> None:
    bad = Membraned(daemon_bin, extra_config={"default_sensitivity": "top-secret"})
    with pytest.raises(DaemonStartError, match="invalid default sensitivity"):
        bad.start()


def test_missing_binary_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(DaemonStartError, match="could not start membraned"):
        Membraned(str(tmp_path / "no-such-membraned")).start()


def test_restart_keeps_or_drops_the_data(daemon_bin: str, tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    with Membraned(daemon_bin, db_path=db) as daemon:
        addr = daemon.addr
        with daemon.client() as client:
            record = client.ingest_event("e", "kept")
        daemon.restart(keep_data=True)
        assert daemon.addr == addr and daemon.stderr.count("membraned: listening on") == 2
        with daemon.client() as client:
            assert client.retrieve_by_id(record.id).id == record.id
        daemon.restart(keep_data=False)
        with daemon.client() as client:
            assert client.get_metrics()["total_records"] == 0
    assert db.exists()  # a caller's db_path is never deleted


def test_status_codes_survive_the_process_boundary(daemon_bin: str) -> None:
    with Membraned(daemon_bin) as daemon, daemon.client() as client:
        try:
            client.retrieve_by_id("missing")
        except grpc.RpcError as exc:
            assert exc.code() is grpc.StatusCode.NOT_FOUND
        else:
            raise AssertionError("expected NOT_FOUND")


async def test_clients_find_the_daemon_and_key_in_the_environment(
    daemon_bin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MEMBRANE_ADDR and MEMBRANE_API_KEY, as the README's blocks use them (no arguments)."""
    from membrane_integrations.membrane import AsyncMembraneClient, MembraneClient

    with Membraned(daemon_bin, api_key="env-key") as daemon:
        monkeypatch.setenv("MEMBRANE_ADDR", daemon.addr)
        monkeypatch.setenv("MEMBRANE_API_KEY", "env-key")
        with MembraneClient(timeout=5) as client:
            assert client.ingest_event("e", "r").id
        async with AsyncMembraneClient(timeout=5) as aclient:
            assert (await aclient.get_metrics())["total_records"] == 1
        with MembraneClient(api_key="", timeout=5) as anonymous, pytest.raises(AuthenticationError):
            anonymous.get_metrics()
        monkeypatch.setenv("MEMBRANE_API_KEY", "wrong-key")
        with MembraneClient(timeout=5, max_retries=0) as wrong, pytest.raises(AuthenticationError):
            wrong.get_metrics()
