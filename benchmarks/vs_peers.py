"""Our Membrain client against the published ``membrain-langchain`` and a raw pooled httpx client.

Run ``python benchmarks/vs_peers.py`` (``--quick`` for a short run; ``--servers fixed`` or
``--transports plain,tls`` for a subset). Workload, per client: 200 sequential searches, 100
concurrent async searches, and 50 adds each with its job polling. Clients: ``raw`` (one pooled
``httpx.AsyncClient`` sending the bodies our client sends, polling a job again as soon as it
answers: the floor for a Python HTTP client), ``ours`` (``AsyncMembrainClient``), ``ours-sync``
(``MembrainClient``) and ``peer`` (``membrain_langchain.MembrainClient`` 0.1.0, installed into
``.cache/bench-venv``, never into our environment). Against two servers: the emulator, and a
fixed-reply server whose cost is a few tens of microseconds per request (so the figures isolate
the clients' own cost). Over plain HTTP and TLS on loopback, and TLS across a link with 20 ms of
added round trip made in two network namespaces (as root; skipped with a message otherwise).

For TLS the script makes a CA and a server certificate; every client trusts certifi's bundle
plus that CA, as a deployment's trust store would: ours and raw get an ``ssl.SSLContext`` loaded
from it through ``http_client=``; the peer, which has no such option, gets ``SSL_CERT_FILE``.

Raw, ours and ours-sync run in one client process and take turns request by request (order
rotating), so whatever else the machine does hits them alike and the ours/raw ratio is paired;
the peer runs in its own interpreter, alternating with them in blocks of 40 searches or 10 adds.
The server runs in a third process. Medians throughout; the concurrent run is the median of
three rounds for the cheap clients and one for the peer. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _delaylink import DelayLink, netem_available, unavailable_reason  # noqa: E402
from _tls import TlsFiles, make_tls_files  # noqa: E402

PEER_REQUIREMENT = "membrain-langchain==0.1.0"
DEFAULT_VENV = HERE.parent / ".cache" / "bench-venv"
CLIENTS = ("raw", "ours", "ours-sync", "peer")
LABELS = {
    "raw": "raw pooled httpx",
    "ours": "ours (async)",
    "ours-sync": "ours (sync)",
    "peer": "membrain-langchain",
}


@dataclass(frozen=True)
class Counts:
    """How much work each client does."""

    searches: int
    concurrent: int
    adds: int
    warmup: int = 5
    blocks: int = 5
    rounds: int = 3


@dataclass
class Scenario:
    """One server on one transport, and what every client measured there."""

    server: str
    tls: bool
    link: DelayLink | None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        where = "20 ms RTT link" if self.link else "loopback"
        return f"{self.server} server, {'TLS' if self.tls else 'plain HTTP'}, {where}"


def ensure_peer_venv(venv: Path) -> Path:
    """The interpreter of the benchmark's own environment holding membrain-langchain."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import membrain_langchain"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} with {PEER_REQUIREMENT} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", PEER_REQUIREMENT], check=True, timeout=600
    )
    return python


class Server:
    """A benchmark server process (``_serve.py``), stopped by closing its stdin."""

    def __init__(self, kind: str, tls: TlsFiles | None, link: DelayLink | None) -> None:
        host = link.server_ip if link else "127.0.0.1"
        command = [sys.executable, str(HERE / "_serve.py"), kind, "--host", host]
        if tls:
            command += ["--tls-cert", str(tls.server_cert), "--tls-key", str(tls.server_key)]
            command += ["--ca-bundle", str(tls.bundle)]
        prefix = link.in_server_ns if link else []
        self._process = subprocess.Popen(
            [*prefix, *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        info = json.loads(self._ready_line(deadline=time.monotonic() + 60))
        self.url: str = info["url"]
        self.api_key: str = info["api_key"]

    def _ready_line(self, deadline: float) -> str:
        stdout = self._process.stdout
        assert stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stdout], [], [], 0.2)
            if ready:
                line = stdout.readline()
                if not line:
                    break
                return line
            if self._process.poll() is not None:
                break
        self.stop()
        raise RuntimeError("the benchmark server did not start")

    def stop(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)


class Worker:
    """A process of clients (``_worker.py``) that runs one command at a time."""

    def __init__(
        self, clients: list[str], server: Server, scenario: Scenario, python: str,
        tls: TlsFiles | None,
    ) -> None:  # fmt: skip
        self.clients = clients
        command = [
            python, str(HERE / "_worker.py"), ",".join(clients), "--url", server.url,
            "--api-key", server.api_key,
        ]  # fmt: skip
        env = dict(os.environ)
        env.pop("SSL_CERT_DIR", None)
        if tls:
            command += ["--ca-bundle", str(tls.bundle)]
            env["SSL_CERT_FILE"] = str(tls.bundle)
        prefix = scenario.link.in_client_ns if scenario.link else []
        self._process = subprocess.Popen(
            [*prefix, *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self._read(time.monotonic() + 60)

    def _read(self, deadline: float) -> dict[str, Any]:
        stdout = self._process.stdout
        assert stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stdout], [], [], 0.2)
            if ready:
                line = stdout.readline()
                if not line:
                    break
                message: dict[str, Any] = json.loads(line)
                if "error" in message:
                    raise RuntimeError(f"{self.clients} worker: {message['error']}")
                return message
            if self._process.poll() is not None:
                break
        raise RuntimeError(f"{self.clients} worker stopped or did not answer in time")

    def call(self, op: str, n: int = 0, rounds: int = 1, timeout: float = 300) -> dict[str, Any]:
        """Run one command and return its reply (keyed by client)."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"op": op, "n": n, "rounds": rounds}) + "\n")
        self._process.stdin.flush()
        return self._read(time.monotonic() + timeout)

    def stop(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)


def _merge(results: dict[str, dict[str, Any]], key: str, reply: dict[str, Any]) -> None:
    for client, run in reply.items():
        merged = results.setdefault(client, {}).setdefault(
            key, {"n": 0, "total_s": 0.0, "per_op_ms": []}
        )
        merged["n"] += run["n"]
        merged["total_s"] += run["total_s"]
        merged["per_op_ms"] += run["per_op_ms"]


def _blocks(total: int, count: int) -> list[int]:
    count = max(1, min(count, total))
    return [total // count + (1 if i < total % count else 0) for i in range(count)]


def run_scenario(
    scenario: Scenario, counts: Counts, peer_python: Path, tls: TlsFiles | None
) -> None:
    """Run the workload; ours and raw take turns request by request, the peer block by block."""
    print(f"\n== {scenario.title}", flush=True)
    started = time.perf_counter()
    server = Server(scenario.server, tls, scenario.link)
    workers: list[Worker] = []
    try:
        workers = [
            Worker(["raw", "ours", "ours-sync"], server, scenario, sys.executable, tls),
            Worker(["peer"], server, scenario, str(peer_python), tls),
        ]
        for w in workers:
            w.call("warmup", counts.warmup)
        for i, n in enumerate(_blocks(counts.searches, counts.blocks)):
            for w in workers[i % 2 :] + workers[: i % 2]:
                _merge(scenario.results, "search_seq", w.call("search_seq", n))
        # The cheap clients get three rounds of the concurrent run (median); the peer one.
        for w, rounds in zip(workers, (counts.rounds, 1), strict=True):
            for client, run in w.call("search_conc", counts.concurrent, rounds).items():
                scenario.results[client]["search_conc"] = run
        for i, n in enumerate(_blocks(counts.adds, counts.blocks)):
            for w in workers[i % 2 :] + workers[: i % 2]:
                _merge(scenario.results, "add", w.call("add", n))
        for w in workers:
            for client, times in w.call("job_times").items():
                scenario.results[client]["add"].update(times)
    finally:
        for w in workers:
            w.stop()
        server.stop()
    print_scenario(scenario, counts)
    print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def seq_ms(result: dict[str, Any], key: str) -> float | None:
    """Median milliseconds per operation of a sequential run."""
    run = result.get(key)
    return _median(run["per_op_ms"]) if run else None


def conc_ms(result: dict[str, Any]) -> float | None:
    """Wall milliseconds of the concurrent run (the median of its rounds)."""
    run = result.get("search_conc")
    return _median(run["walls_s"]) * 1000 if run else None


def job_ms(result: dict[str, Any]) -> float | None:
    """Median server-side duration of this client's ingest jobs."""
    run = result.get("add")
    return _median(run["server_job_ms"]) if run else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:8.2f}"


def print_scenario(s: Scenario, counts: Counts) -> None:
    conc = f"{counts.concurrent} conc ms"
    print(
        f"   {'client':<20} {'search ms':>9} {'(mean)':>8} {conc:>11} {'add ms':>8} {'job ms':>8}"
    )
    for client in CLIENTS:
        r = s.results.get(client, {})
        seq = r.get("search_seq")
        mean = seq["total_s"] * 1000 / seq["n"] if seq else None
        print(
            f"   {LABELS[client]:<20} {_fmt(seq_ms(r, 'search_seq')):>9} {_fmt(mean):>8} "
            f"{_fmt(conc_ms(r)):>11} {_fmt(seq_ms(r, 'add')):>8} {_fmt(job_ms(r)):>8}"
        )
    ours, peer, raw = (s.results.get(c, {}) for c in ("ours", "peer", "raw"))
    sync = s.results.get("ours-sync", {})
    print(
        "   theirs/ours: search {}  concurrent {}  add {}".format(
            _ratio(seq_ms(peer, "search_seq"), seq_ms(ours, "search_seq")),
            _ratio(conc_ms(peer), conc_ms(ours)),
            _ratio(seq_ms(peer, "add"), seq_ms(ours, "add")),
        )
    )
    print(
        "   ours/raw:    search {}  concurrent {}  add {}  (sync client: search {}, add {})".format(
            _ratio(seq_ms(ours, "search_seq"), seq_ms(raw, "search_seq")),
            _ratio(conc_ms(ours), conc_ms(raw)),
            _ratio(seq_ms(ours, "add"), seq_ms(raw, "add")),
            _ratio(seq_ms(sync, "search_seq"), seq_ms(raw, "search_seq")),
            _ratio(seq_ms(sync, "add"), seq_ms(raw, "add")),
        )
    )
    if s.server == "emulator":
        print(
            "   add / server job time: ours {}  sync {}  theirs {}  raw create+poll {}".format(
                _ratio(seq_ms(ours, "add"), job_ms(ours)),
                _ratio(seq_ms(sync, "add"), job_ms(sync)),
                _ratio(seq_ms(peer, "add"), job_ms(peer)),
                _ratio(seq_ms(raw, "add"), job_ms(raw)),
            )
        )


def print_summary(scenarios: list[Scenario]) -> None:
    print("\n== summary (aims from issues 8 and 18; printed, never asserted)")
    for s in scenarios:
        ours, peer, raw = (s.results.get(c, {}) for c in ("ours", "peer", "raw"))
        vs_raw = _ratio(seq_ms(ours, "search_seq"), seq_ms(raw, "search_seq"))
        vs_peer = _ratio(seq_ms(peer, "search_seq"), seq_ms(ours, "search_seq"))
        peer_aim = "10x" if s.server == "emulator" else "20x"
        line = f"   {s.title:<38} ours/raw {vs_raw} (aim <= 1.05x)  theirs/ours {vs_peer}"
        line += f" (aim >= {peer_aim})"
        line += f"  add ours/raw {_ratio(seq_ms(ours, 'add'), seq_ms(raw, 'add'))}"
        if s.server == "emulator":
            line += f"  add/job {_ratio(seq_ms(ours, 'add'), job_ms(ours))} (aim <= 1.5x)"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 searches, 50 concurrent, 10 adds")
    parser.add_argument("--no-link", action="store_true", help="skip the 20 ms RTT link runs")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="the peer's environment")
    parser.add_argument("--servers", default="fixed,emulator", help="comma-separated subset")
    parser.add_argument(
        "--transports", default="plain,tls,link", help="comma-separated subset of plain,tls,link"
    )
    args = parser.parse_args()
    servers = [s for s in ("fixed", "emulator") if s in args.servers.split(",")]
    transports = args.transports.split(",")
    counts = Counts(50, 50, 10, blocks=2) if args.quick else Counts(200, 100, 50)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"workload per client: {counts.searches} sequential searches, {counts.concurrent} "
        f"concurrent searches, {counts.adds} adds with job polling; medians unless noted"
    )
    peer_python = ensure_peer_venv(args.venv)
    started = time.perf_counter()
    scenarios: list[Scenario] = []
    with tempfile.TemporaryDirectory(prefix="mi-bench-") as tmp:
        tls = make_tls_files(Path(tmp), ["127.0.0.1", "localhost", DelayLink.server_ip])
        for server in servers:
            for use_tls in [t == "tls" for t in ("plain", "tls") if t in transports]:
                scenario = Scenario(server, use_tls, None)
                run_scenario(scenario, counts, peer_python, tls if use_tls else None)
                scenarios.append(scenario)
        no_link = args.no_link or "link" not in transports
        reason = "not asked for" if no_link else unavailable_reason()
        if reason is not None:
            print(f"\n== 20 ms RTT link: skipped ({reason})")
        else:
            how = "a TUN relay delaying every packet 10 ms each way"
            if not netem_available():
                how += " (this kernel has no tc netem)"
            with DelayLink(delay_ms=10) as link:
                print(f"\n== 20 ms RTT link: namespaces {link.server_ns}/{link.client_ns}, {how}")
                for server in servers:
                    scenario = Scenario(server, True, link)
                    run_scenario(scenario, counts, peer_python, tls)
                    scenarios.append(scenario)
    print_summary(scenarios)
    print(
        f"\ntotal {time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
