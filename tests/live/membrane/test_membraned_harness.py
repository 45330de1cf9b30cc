"""The daemon harness itself, exercised with the TEST DOUBLE run as a stand-in process.

The real membraned cannot be installed here, so these tests start ``membrane_double.py`` with
membraned's command line (``-addr``, ``-db``, ``-config``; ``MEMBRANE_API_KEY``; TLS from the
config file; the ready line on stderr; SIGTERM) to prove the harness starts, polls readiness,
passes the key and the TLS config, and cleans up. The same harness runs the real daemon in
test_membraned.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
import pytest

from membrane_integrations.core.errors import AuthenticationError
from tests.live.membrane.daemon_scenarios import SCENARIOS
from tests.support.membraned import DaemonStartError, Membraned, free_port

pytestmark = pytest.mark.live

STAND_IN = [sys.executable, str(Path(__file__).parents[2] / "support" / "membrane_double.py")]


def test_starts_polls_ready_and_cleans_up() -> None:
    daemon = Membraned(STAND_IN).start()
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
    assert "membraned: listening on" in daemon.stderr
    assert "shutdown complete" in daemon.stderr  # SIGTERM led to a graceful stop


def test_api_key_is_passed_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBRANE_API_KEY", "inherited-value")  # must not leak into the daemon
    with Membraned(STAND_IN) as open_daemon, open_daemon.client(api_key=None) as client:
        client.get_metrics()
    with Membraned(STAND_IN, api_key="harness-key") as daemon:
        with daemon.client() as client:
            client.get_metrics()
        with daemon.client(api_key=None) as anonymous, pytest.raises(AuthenticationError):
            anonymous.get_metrics()


async def test_tls_mode_makes_a_certificate_and_the_clients_trust_it() -> None:
    with Membraned(STAND_IN, tls=True) as daemon:
        assert daemon.cert is not None and daemon.cert.cert_path.exists()
        with daemon.client() as client:
            record = client.ingest_event("e", "r")
        async with daemon.async_client() as aclient:
            assert (await aclient.retrieve_by_id(record.id)).id == record.id


def test_early_exit_reports_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.support.membraned as harness

    with Membraned(STAND_IN) as first:
        # A second daemon on the same (busy) port exits with its failure on stderr.
        busy = first.port
        monkeypatch.setattr(harness, "free_port", lambda: busy)
        second = Membraned(STAND_IN)
        with pytest.raises(DaemonStartError, match="failed to create grpc server"):
            second.start()
        assert second._tmp is None  # cleaned up after the failed start
    assert free_port() > 0


def test_missing_binary_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Membraned(str(tmp_path / "no-such-membraned")).start()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_live_scenarios_run_through_the_harness(name: str) -> None:
    with Membraned(STAND_IN) as daemon, daemon.client(timeout=10) as client:
        await SCENARIOS[name](client)


def test_status_codes_survive_the_process_boundary() -> None:
    with Membraned(STAND_IN) as daemon, daemon.client() as client:
        try:
            client.retrieve_by_id("missing")
        except grpc.RpcError as exc:
            assert exc.code() is grpc.StatusCode.NOT_FOUND
        else:
            raise AssertionError("expected NOT_FOUND")
